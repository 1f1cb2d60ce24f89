"""The order a review visits its items in: the file's, or least confident first.

Predictions made with `hcap predict --strategy uncertain` record a per-signal `confidence` (the
probability of the value the model chose). An item's confidence is the product of its signals'
(`models.confidence.item_confidence`), so ordering by it puts the items most likely to need a
correction in front of the reviewer first. Items without a
confidence (teacher labels, failed or older predictions) come last, in file order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hcap_tui.models.confidence import item_confidence
from hcap_tui.store import LabeledItem


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
        self.by_confidence = False
        """Whether items are visited least confident first rather than in file order."""
        self._confidences: list[float | None] = []  # per item index
        self._with_confidence = 0
        self._order: list[int] | None = None  # item index at each place; None while in file order
        self._places: list[int] = []  # the inverse: the place of each item index

    def extend(self, items: Iterable[LabeledItem]) -> None:
        """Take in items appended to the source (a later chunk of the file), placing them in the order."""
        for item in items:
            confidence = recorded_confidence(item, self.signals)
            self._confidences.append(confidence)
            self._with_confidence += confidence is not None
        if self.by_confidence:
            self._sort()

    @property
    def has_confidence(self) -> bool:
        """Whether any item recorded a confidence (only then is ordering by it offered)."""
        return self._with_confidence > 0

    def confidence(self, index: int) -> float | None:
        """The confidence of the item at a file index, or None."""
        return self._confidences[index]

    def set_by_confidence(self, enabled: bool) -> None:
        """Switch between least confident first and file order."""
        self.by_confidence = enabled
        if enabled:
            self._sort()
        else:
            self._order, self._places = None, []

    def index_at(self, place: int) -> int:
        """The file index of the item visited at `place`."""
        return place if self._order is None else self._order[place]

    def place_of(self, index: int) -> int:
        """Where the item at a file index is visited."""
        return index if self._order is None else self._places[index]

    def _sort(self) -> None:
        """Rebuild the order from the confidences; ties keep file order because the sort is stable."""
        confidences = self._confidences
        order = sorted(range(len(confidences)), key=lambda i: (confidences[i] is None, confidences[i] or 0.0))
        places = [0] * len(order)
        for place, index in enumerate(order):
            places[index] = place
        self._order, self._places = order, places
