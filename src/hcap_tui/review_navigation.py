"""Where review navigation goes: the filters, and moving through a source's items in the visiting order.

`ReviewNavigation` is the part of `ReviewSession` that moves `position`. Items are visited in file order
or, where predictions recorded confidences, least confident first (`review_order`). `position` always
indexes the file order, so drafts, undo and checkpoints do not depend on the order in use, and switching
order keeps the current item. A filter narrows the visited items to those (not) in gold or disagreeing
with it; switching filters lands on the nearest item that passes.
"""

from __future__ import annotations

from enum import Enum

from hcap_tui.review_errors import ReviewError
from hcap_tui.review_order import VisitOrder
from hcap_tui.review_sources import GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import LabeledItem


class Filter(Enum):
    """Which items navigation visits."""

    ALL = "all"
    NOT_IN_GOLD = "not in gold"
    IN_GOLD = "in gold"
    DISAGREES = "disagrees with gold"

    def counted(self, count: int) -> str:
        """The words after a count of matching items: "1 item disagrees with gold", "2 items disagree with gold",
        "200 items, no filter"."""
        if self is Filter.ALL:
            return f"item{'' if count == 1 else 's'}, no filter"
        if count == 1:
            return f"item {self.value}"
        return "items " + self.value.replace("disagrees", "disagree")


class ReviewNavigation:
    """Filters and moves for a session's items; `ReviewSession` holds the state these methods read and move."""

    schema: LabelSchema
    gold: GoldBook
    items: list[LabeledItem]
    position: int
    filter: Filter
    order: VisitOrder

    def matches(self, index: int, filter_: Filter | None = None) -> bool:
        """Whether an item passes a filter (the session's own by default)."""
        filter_ = filter_ or self.filter
        if filter_ is Filter.ALL:
            return True
        item = self.items[index]
        gold = self.gold.get(item.formatted_input)
        if filter_ is Filter.NOT_IN_GOLD:
            return gold is None
        if gold is None:
            return False
        if filter_ is Filter.IN_GOLD:
            return True
        if item.label is None or gold.label is None:
            return True
        return any(item.label[f.name] != gold.label[f.name] for f in self.schema.signals)

    def _find(self, start: int, step: int, filter_: Filter | None = None) -> int | None:
        """The index of the first item that passes the filter, visiting from place `start` (inclusive) of the
        visiting order in direction `step`."""
        place = start
        while 0 <= place < len(self.items):
            index = self.order.index_at(place)
            if self.matches(index, filter_):
                return index
            place += step
        return None

    @property
    def _place(self) -> int:
        """Where the current item is in the visiting order."""
        return self.order.place_of(self.position)

    def _move_to(self, index: int | None) -> bool:
        """Go to `index` unless it is None; whether the position moved."""
        if index is None or index == self.position:
            return False
        self.position = index
        return True

    def first(self) -> bool:
        """Go to the first item passing the filter in the visiting order; False when already there."""
        return self._move_to(self._find(0, 1))

    def last(self) -> bool:
        """Go to the last item passing the filter in the visiting order; False when already there."""
        return self._move_to(self._find(len(self.items) - 1, -1))

    def next(self) -> bool:
        """Go to the next item passing the filter; False at the end."""
        return self._move_to(self._find(self._place + 1, 1))

    def previous(self) -> bool:
        """Go to the previous item passing the filter; False at the start."""
        return self._move_to(self._find(self._place - 1, -1))

    def next_not_in_gold(self) -> bool:
        """Go to the next item not yet in gold, wrapping round to the start; False when every item is in gold."""
        found = self._find(self._place + 1, 1, Filter.NOT_IN_GOLD)
        if found is None:
            found = self._find(0, 1, Filter.NOT_IN_GOLD)
        return self._move_to(found)

    def set_filter(self, filter_: Filter) -> int:
        """Switch filters, landing on the nearest passing item; returns how many items pass."""
        self.filter = filter_
        if self.items and not self.matches(self.position):
            forward = self._find(self._place, 1)
            self._move_to(forward if forward is not None else self._find(self._place, -1))
        return sum(1 for index in range(len(self.items)) if self.matches(index))

    def cycle_filter(self) -> int:
        """Switch to the next filter; returns how many items pass it."""
        members = list(Filter)
        return self.set_filter(members[(members.index(self.filter) + 1) % len(members)])

    def order_by_confidence(self, enabled: bool) -> None:
        """Visit items least confident first (those without a confidence last), or in file order; the current
        item stays current."""
        if enabled and not self.order.has_confidence:
            raise ReviewError("no item of this tab recorded a confidence: `hcap predict --strategy uncertain` does")
        self.order.set_by_confidence(enabled)

    @property
    def confidence(self) -> float | None:
        """The current item's confidence (its least sure signal), or None."""
        return self.order.confidence(self.position)
