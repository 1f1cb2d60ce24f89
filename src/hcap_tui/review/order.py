"""The order a review visits its items in: the file's, least confident first, or most suspect first.

Predictions made with `hcap predict --strategy uncertain` record a per-signal `confidence` (the
probability of the value the model chose). An item's confidence is the product of its signals'
(`models.confidence.item_confidence`), so ordering by it puts the items most likely to need a
correction in front of the reviewer first. Items without a confidence (failed or older predictions)
come last, in file order.

Teacher labels carry no confidence; their tab is ordered instead by a triage ranking (`suspects`), most
likely wrong first, items it did not judge last in file order. Either way the order is a permutation of the
file's items that the session maps positions through; the items themselves stay in file order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import Enum

from hcap_tui.models.confidence import item_confidence
from hcap_tui.review.suspects import SuspectRanking
from hcap_tui.store import LabeledItem


class Order(Enum):
    """How a tab visits its items; the value is how the reviewer is told."""

    FILE = "file order"
    CONFIDENCE = "least confident first"
    SUSPECT = "most suspect first"

    @property
    def short(self) -> str:
        """The order in the status line, where room is short ("" for file order)."""
        return {Order.FILE: "", Order.CONFIDENCE: "least sure first"}.get(self, "suspect first")

    @classmethod
    def saved(cls, by_confidence: bool, by_suspicion: bool) -> Order:
        """The order a checkpoint saved."""
        return cls.CONFIDENCE if by_confidence else cls.SUSPECT if by_suspicion else cls.FILE


def recorded_confidence(item: LabeledItem, signals: Sequence[str]) -> float | None:
    """How sure the model was of an item, from the per-signal `confidence` its line records; None without one."""
    confidence = item.record.get("confidence")
    if not isinstance(confidence, dict):
        return None
    probabilities = [
        value
        for name in signals
        if isinstance(value := confidence.get(name), (int, float)) and not isinstance(value, bool)
    ]
    return item_confidence(probabilities)


class VisitOrder:
    """Maps places in the visiting order to item indices (file order) and back, kept current as items arrive."""

    def __init__(self, signals: Sequence[str]) -> None:
        self.signals = tuple(signals)
        self.mode = Order.FILE
        """How items are visited now."""
        self.version = 0
        """Grows whenever the order changes, so counts made in the old order can tell."""
        self.ranking: SuspectRanking | None = None
        """The triage ranking the suspect order follows, once one is known."""
        self._confidences: list[float | None] = []  # per item index
        self._inputs: list[str] = []  # per item index, to look items up in a ranking
        self._with_confidence = 0
        self._order: list[int] | None = None  # item index at each place; None while in file order
        self._places: list[int] = []  # the inverse: the place of each item index

    def extend(self, items: Iterable[LabeledItem]) -> None:
        """Take in items appended to the source (a later chunk of the file), placing them in the order."""
        for item in items:
            confidence = recorded_confidence(item, self.signals)
            self._confidences.append(confidence)
            self._inputs.append(item.formatted_input)
            self._with_confidence += confidence is not None
        if self.mode is not Order.FILE:
            self._sort()

    @property
    def has_confidence(self) -> bool:
        """Whether any item recorded a confidence (only then is ordering by it offered)."""
        return self._with_confidence > 0

    def confidence(self, index: int) -> float | None:
        """The confidence of the item at a file index, or None."""
        return self._confidences[index]

    def set_ranking(self, ranking: SuspectRanking) -> None:
        """Follow a new triage ranking (re-sorting at once when visiting most suspect first)."""
        self.ranking = ranking
        if self.mode is Order.SUSPECT:
            self._sort()

    def set_mode(self, mode: Order) -> None:
        """Visit items in `mode`; ordering most suspect first needs a ranking first."""
        if mode is Order.SUSPECT and self.ranking is None:
            raise ValueError("no ranking to order by")
        self.mode = mode
        if mode is Order.FILE:
            self._order, self._places = None, []
            self.version += 1
        else:
            self._sort()

    def index_at(self, place: int) -> int:
        """The file index of the item visited at `place`."""
        return place if self._order is None else self._order[place]

    def place_of(self, index: int) -> int:
        """Where the item at a file index is visited."""
        return index if self._order is None else self._places[index]

    def _sort(self) -> None:
        """Rebuild the order; items the order knows nothing of go last, and ties keep file order (a stable sort)."""
        key: Callable[[int], tuple[bool, float]]
        if self.mode is Order.CONFIDENCE:
            confidences = self._confidences
            key = lambda i: (confidences[i] is None, confidences[i] or 0.0)
        else:
            assert self.ranking is not None
            places, inputs = self.ranking.places, self._inputs
            key = lambda i: (inputs[i] not in places, places.get(inputs[i], 0))
        order = sorted(range(len(self._confidences)), key=key)
        places_of = [0] * len(order)
        for place, index in enumerate(order):
            places_of[index] = place
        self._order, self._places = order, places_of
        self.version += 1
