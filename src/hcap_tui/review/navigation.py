"""Where review navigation goes: the filters, and moving through a source's items in the visiting order.

`ReviewNavigation` is the part of `ReviewSession` that moves `position`. Items are visited in file order
or, where predictions recorded confidences, least confident first, or, for teacher labels, most suspect first
once a triage ranking arrived (`order`, `suspects`). `position` always indexes
the file order, so drafts, undo and checkpoints do not depend on the order in use, and switching order
keeps the current item. A filter narrows the visited items to those (not) in gold or disagreeing with
it; switching filters lands on the nearest item that passes. The place shown ("3/17") counts within the
filter, so it says how far through the filtered items the reviewer is.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable
from enum import Enum

from hcap_tui.review import suspects
from hcap_tui.review.errors import ReviewError
from hcap_tui.review.order import Order, VisitOrder
from hcap_tui.review.sources import GoldBook
from hcap_tui.review.suspects import RankingState, SuspectRanking
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

    @property
    def short(self) -> str:
        """The filter in the status line, where room is short ("" for all)."""
        return {Filter.ALL: "", Filter.NOT_IN_GOLD: "not in gold", Filter.IN_GOLD: "in gold"}.get(self, "≠ gold")

    @classmethod
    def named(cls, value: str | None) -> Filter:
        """The filter a saved value names; all when it names none."""
        return next((member for member in cls if member.value == value), cls.ALL)


class ReviewNavigation:
    """Filters and moves for a session's items; `ReviewSession` holds the state these methods read and move."""

    schema: LabelSchema
    gold: GoldBook
    items: list[LabeledItem]
    position: int
    filter: Filter
    order: VisitOrder
    triage: RankingState
    _matching: tuple[tuple[object, ...], list[int]] | None  # the places that pass the filter, and when counted

    def matches(self, index: int, filter_: Filter | None = None) -> bool:
        """Whether an item passes a filter (the session's own by default)."""
        filter_ = filter_ or self.filter
        if filter_ is Filter.ALL:
            return True
        item = self.items[index]
        if filter_ is Filter.NOT_IN_GOLD:
            return item.formatted_input not in self.gold
        if filter_ is Filter.IN_GOLD:
            return item.formatted_input in self.gold
        gold = self.gold.get(item.formatted_input)
        if gold is None:
            return False
        mine, theirs = item.held_label, gold.held_label
        if mine is None or theirs is None:
            return True
        return any(mine[f.name] != theirs[f.name] for f in self.schema.signals)

    def _find(self, start: int, step: int, filter_: Filter | None = None) -> int | None:
        """The index of the first item that passes the filter, visiting from place `start` (inclusive) of the
        visiting order in direction `step`."""
        return self._find_where(start, step, lambda index: self.matches(index, filter_))

    def _find_where(self, start: int, step: int, passes: Callable[[int], bool]) -> int | None:
        """The index of the first item for which `passes` holds, visiting from place `start` in direction `step`."""
        place = start
        while 0 <= place < len(self.items):
            index = self.order.index_at(place)
            if passes(index):
                return index
            place += step
        return None

    def _waiting(self, index: int) -> bool:
        """Whether an item passes the filter and is not in gold yet (what approving moves on to)."""
        return self.items[index].formatted_input not in self.gold and self.matches(index)

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

    def _move_on_after_approval(self) -> str:
        """After an approval, go to the next item not yet in gold (wrapping round) while the filter lets such items
        through, else to the next item of the filter, so a run of Enters never lands on older gold unasked.
        Says so when it went back to the start or could go nowhere."""
        if self.filter in (Filter.ALL, Filter.NOT_IN_GOLD):
            found = self._find_where(self._place + 1, 1, self._waiting)
            if found is not None:
                self._move_to(found)
                return ""
            found = self._find_where(0, 1, self._waiting)
            if found is not None:
                self._move_to(found)
                return "back to the first item not in gold"
        if self.next():
            return ""
        if not self.matches(self.position):
            self._move_to(self._find(0, 1))  # the last item of the filter left it: go back to its first
        return "that was the last item"

    def set_filter(self, filter_: Filter) -> int | None:
        """Switch filters, landing on the nearest passing item; returns how many items pass (None: counting)."""
        self.filter = filter_
        if self.items and not self.matches(self.position):
            forward = self._find(self._place, 1)
            self._move_to(forward if forward is not None else self._find(self._place, -1))
        return self.filter_count

    def cycle_filter(self) -> int | None:
        """Switch to the next filter; returns how many items pass it (None: counting)."""
        members = list(Filter)
        return self.set_filter(members[(members.index(self.filter) + 1) % len(members)])

    def _matching_places(self) -> list[int]:
        """The places in the visiting order whose items pass the filter, recounted only when something they
        depend on changed (gold, the filter, the order, the items loaded)."""
        key = (self.gold.version, self.filter, self.order.version, len(self.items))
        if self._matching is None or self._matching[0] != key:
            places = [place for place in range(len(self.items)) if self.matches(self.order.index_at(place))]
            self._matching = (key, places)
        return self._matching[1]

    @property
    def counting(self) -> bool:
        """Whether the filter's count waits for gold's labels (disagreeing with gold, while gold is opening)."""
        return self.filter is Filter.DISAGREES and not self.gold.complete

    @property
    def filter_count(self) -> int | None:
        """How many items pass the filter; None while that is still being counted (`counting`)."""
        if self.counting:
            return None
        return len(self.items) if self.filter is Filter.ALL else len(self._matching_places())

    @property
    def filter_place(self) -> int:
        """The current item's place among the items passing the filter, from 1 (0 when it does not pass); not to be
        asked while `counting`."""
        if self.filter is Filter.ALL:
            return self._place + 1
        places = self._matching_places()
        at = bisect_left(places, self._place)
        return at + 1 if at < len(places) and places[at] == self._place else 0

    def toggle_order(self) -> str:
        """The `o` key: from file order to the tab's other order (least confident first for predictions that
        recorded confidences, most suspect first for teacher labels), or back; returns what to tell the reviewer.

        Most suspect first needs a triage ranking: a kept one is reused while no items were added since it was
        asked for; otherwise one is asked for (`triage.due`, which the caller starts off the UI thread) and the
        order changes when it arrives. Pressed while that ranking is under way, it calls the order off.
        """
        order, triage = self.order, self.triage
        if order.mode is not Order.FILE:
            order.set_mode(Order.FILE)
            return "back in file order"
        if triage.wanted:
            triage.wanted = False
            return "ranking called off: still in file order"
        if order.has_confidence:
            order.set_mode(Order.CONFIDENCE)
            return "ordered least confident first"
        if not triage.enabled:
            raise ReviewError("nothing to order this tab by: its items recorded no confidence")
        if triage.fresh(len(self.items)):
            order.set_mode(Order.SUSPECT)
            return "most suspect first"
        if not suspects.available():
            raise ReviewError(suspects.NOT_INSTALLED)
        triage.want()
        return "ranking the labels (o: call off)"

    def take_ranking(self, ranking: SuspectRanking | None) -> bool:
        """A ranking arrived (None: it failed); whether the tab now visits most suspect first. The current item
        stays current; a ranking the reviewer called off is kept for the next `o`."""
        shown = self.triage.arrived(ranking)
        if ranking is not None:
            self.order.set_ranking(ranking)
        if shown:
            self.order.set_mode(Order.SUSPECT)
        return shown

    @property
    def confidence(self) -> float | None:
        """The current item's confidence (the product of its signals'), or None."""
        return self.order.confidence(self.position)

    @property
    def suspect_note(self) -> str | None:
        """While visiting most suspect first, what the student says of the current item; None otherwise."""
        ranking = self.order.ranking
        if self.order.mode is not Order.SUSPECT or ranking is None:
            return None
        verdict = ranking.verdict(self.items[self.position].formatted_input)
        if verdict is None:
            return "not ranked: added after the ranking was made (o twice ranks again)"
        return suspects.suspect_line(self.schema, verdict)
