"""The review pane: one source's items, their controls and status, driven by a `ReviewSession`.

The same pane is mounted once per source. Keys become session calls and each is followed by a redraw
from the session. The pane's other duties live in mixins beside it: reading the source in a worker
(`review_loading`), approve and undo with their disk work in workers (`review_workers`), and saving the
position at most every half second and on quit or tab switch (`review_checkpoints`), so moving never
waits on a disk.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Select, TextArea
from textual.worker import Worker, WorkerState

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.review_session import ReviewSession
from hcap_tui.review_sources import GoldBook, ReviewSource
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store
from hcap_tui.tui.bindings import NAVIGATION_BINDINGS, field_bindings, field_keys
from hcap_tui.tui.widgets.field_controls import FieldControls
from hcap_tui.tui.widgets.item_view import ItemView
from hcap_tui.tui.widgets.placeholders import EmptyState, LoadProgress
from hcap_tui.tui.widgets.review_checkpoints import CheckpointWrites
from hcap_tui.tui.widgets.review_loading import SourceLoading
from hcap_tui.tui.widgets.review_workers import ApprovalWorkers, held_while_busy
from hcap_tui.tui.widgets.status_line import StatusLine

# Actions that need an item on screen and the keyboard not taken by a text area or a select.
ITEM_ACTIONS = frozenset(
    {"approve", "skip", "undo", "cycle_filter", "edit_text", "previous", "next", "next_pending", "scroll_item"}
    | {"first", "last", "order_by_confidence"}
    | {"toggle_field", "cycle_field", "pick_field"}  # the schema-derived field keys
)
# What still works while no item passes the filter: changing it, and undo (which returns to an item).
OFF_FILTER_ACTIONS = frozenset({"cycle_filter", "undo"})


# Vertical comes first: Textual follows a widget's first base for its CSS, and the mixins are Widget
# subclasses only so that their @on handlers are registered.
class ReviewPane(Vertical, SourceLoading, ApprovalWorkers, CheckpointWrites, can_focus=True):
    """Review of one source: loading progress, an empty state, or the item with its controls and status."""

    DEFAULT_CSS = """
    ReviewPane {
        height: 1fr;
        ContentSwitcher, #review { height: 1fr; }
        TextArea.text-field {
            height: 4;
            border: none;
            border-top: solid $primary;
            border-title-align: left;
            padding: 0 1;
        }
        TextArea.text-field:focus { height: 9; border: none; border-top: solid $accent; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = NAVIGATION_BINDINGS

    def __init__(self, project: Project, source: ReviewSource, reviewer: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = Store(project.paths, project.schema)
        self.schema = project.schema
        self.source = source
        self.reviewer = reviewer
        self.session: ReviewSession | None = None
        self.gold: GoldBook | None = None
        self._total_lines = 1
        self._progress = ""
        self._outcome = ""
        self._could_undo = False
        self._could_order = False
        self._busy = False  # an undo or a gold reload is under way: item keys wait for it in `_held`
        self._held: deque[tuple[str, tuple[Any, ...]]] = deque()  # (action, parameters) typed while busy
        self._checkpoint_timer: Timer | None = None
        self._checkpoint_written = 0.0  # monotonic time of the last checkpoint write

    @classmethod
    @functools.cache
    def for_schema(cls, schema: LabelSchema) -> type[ReviewPane]:
        """The pane class whose bindings include the schema's field keys (toggle, cycle, pick)."""
        return type(cls.__name__, (cls,), {"BINDINGS": field_bindings(schema), "__doc__": cls.__doc__})

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="loading"):
            yield LoadProgress(id="loading")
            yield EmptyState(id="empty")
            with Vertical(id="review"):
                yield ItemView()
                yield FieldControls(self.schema, field_keys(self.schema))
                for field in self.schema.texts:
                    area = TextArea(id=f"field-{field.name}", classes="text-field")
                    area.border_title = f"{field.title} · e to edit, esc when done"
                    yield area
                yield StatusLine()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A loader that failed (unreadable file) leaves the tab explaining why instead of crashing; a failed
        undo, reload or checkpoint write is a notification."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) if isinstance(error, HcapError) else f"{event.worker.group} failed: {error!r}"
        if event.worker.group == "load":
            self.show_problem(message)
        elif event.worker.group in ("undo", "reload"):
            self._busy = False
            self.refresh_bindings()
            self._outcome = ""
            self._draw_status()
            self.notify(message, severity="error", markup=False)
            self._run_held()
        elif event.worker.group == "checkpoint":
            self.notify(message, severity="error", markup=False)

    # Rendering

    def redraw(self) -> None:
        """Draw the current item again, if there is one (the tab was shown again)."""
        if self.session is not None and self.session.ready and not self.session.empty:
            self._draw()

    def _draw(self) -> None:
        """Draw the current item, its controls and text fields, and the status line from the session."""
        session = self.session
        assert session is not None
        switcher = self.query_one(ContentSwitcher)
        if session.off_filter:
            self.query_one(EmptyState).explain("No items match this filter: press f to change it.", None)
            switcher.current = "empty"
            self.refresh_bindings()
            return
        if switcher.current != "review":
            switcher.current = "review"
            self.refresh_bindings()
        item, gold = session.current, session.gold_item
        gold_note = None
        if gold is not None:
            who = ", ".join(str(gold.record[k]) for k in ("reviewer", "reviewed_at") if gold.record.get(k))
            gold_note = f"in gold ({who})" if who else "in gold"
        failure = None
        if item.failed:
            failure = str(item.record.get("error") or "no label")
            raw = item.record.get("raw")
            if isinstance(raw, str) and raw.strip():
                failure += f" · it answered: {raw.strip()}"
        self.query_one(ItemView).show(item.formatted_input, gold_note=gold_note, failure=failure)
        draft = session.draft
        self.query_one(FieldControls).show(draft, session.proposal, session.teacher)
        for field in self.schema.texts:
            area = self.query_one(f"#field-{field.name}", TextArea)
            if area.text != draft[field.name]:
                with area.prevent(TextArea.Changed):
                    area.load_text(draft[field.name])
        self._draw_status()

    def _draw_status(self) -> None:
        session = self.session
        assert session is not None
        self.query_one(StatusLine).show(
            session.counter_text(),
            filter_name=session.filter.value,
            in_gold=session.gold_item is not None,
            by_confidence=session.order.by_confidence,
            confidence=session.confidence,
            loading=self._progress,
            outcome=self._outcome,
        )

    def _after(self, outcome: str, *, moved: bool = True) -> None:
        """Finish a key: save the position soon when it moved, redraw, and refresh which keys apply."""
        self._outcome = outcome
        if moved:
            self._checkpoint_soon()
        self._draw()
        if self.session is not None and self.session.can_undo != self._could_undo:
            self._could_undo = self.session.can_undo
            self.refresh_bindings()  # undo became (un)available; redrawing the footer is not free

    # Keys

    def _editing(self) -> bool:
        """Whether the keyboard belongs to a text area or an open select rather than to the pane."""
        focused = self.app.focused
        return focused is not None and any(isinstance(node, (TextArea, Select)) for node in focused.ancestors_with_self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide item keys until there is an item and while typing; dim undo when there is nothing to undo.

        While busy every item key is taken, to be held and checked again when it runs (`held_while_busy`).
        """
        if action == "leave_editing":
            focused = self.app.focused
            return focused is not None and focused is not self and self in focused.ancestors
        if action in ITEM_ACTIONS:
            session = self.session
            if session is None or not session.ready or session.empty or self._editing():
                return False
            if self._busy:
                return True
            if session.off_filter and action not in OFF_FILTER_ACTIONS:
                return False
            if action == "edit_text" and not self.schema.texts:
                return False
            if action == "undo" and not self.session.can_undo:
                return None
            if action == "order_by_confidence" and not self.session.order.has_confidence:
                return False
        return True

    @held_while_busy
    def action_toggle_field(self, name: str) -> None:
        """Flip a boolean field."""
        assert self.session is not None
        self.session.toggle(name)
        self._after("", moved=False)

    @held_while_busy
    def action_cycle_field(self, name: str) -> None:
        """Move an enum field to its next value."""
        assert self.session is not None
        self.session.cycle(name)
        self._after("", moved=False)

    @held_while_busy
    def action_pick_field(self, name: str) -> None:
        """Open an enum's list to choose its value directly."""
        self.query_one(FieldControls).pick(name)

    @held_while_busy
    def action_skip(self) -> None:
        """Leave this item unapproved, dropping its edits, and go to the next."""
        assert self.session is not None
        self._after("skipped" if self.session.skip() else "skipped · no more items this way")

    @held_while_busy
    def action_previous(self) -> None:
        """Go to the previous item (in the current filter)."""
        assert self.session is not None
        self._after("" if self.session.previous() else "this is the first item")

    @held_while_busy
    def action_next(self) -> None:
        """Go to the next item (in the current filter)."""
        assert self.session is not None
        self._after("" if self.session.next() else "this is the last item")

    @held_while_busy
    def action_first(self) -> None:
        """Go to the first item (in the current order and filter)."""
        assert self.session is not None
        self._after("" if self.session.first() else "this is the first item")

    @held_while_busy
    def action_last(self) -> None:
        """Go to the last item (in the current order and filter)."""
        assert self.session is not None
        self._after("" if self.session.last() else "this is the last item")

    @held_while_busy
    def action_order_by_confidence(self) -> None:
        """Visit items least confident first, or in file order again; the current item stays on screen."""
        session = self.session
        assert session is not None
        session.order_by_confidence(not session.order.by_confidence)
        self._after("ordered least confident first" if session.order.by_confidence else "back in file order")

    @held_while_busy
    def action_next_pending(self) -> None:
        """Jump to the next item not yet in gold."""
        assert self.session is not None
        self._after("" if self.session.next_not_in_gold() else "no other item is waiting: all in gold")

    @held_while_busy
    def action_cycle_filter(self) -> None:
        """Switch between all / not in gold / in gold / disagrees with gold."""
        assert self.session is not None
        matching = self.session.cycle_filter()
        self._after(f"{matching} {self.session.filter.counted(matching)}")

    @held_while_busy
    def action_edit_text(self) -> None:
        """Focus the first free-text field (the reasoning) at once, so the very next keys type into it."""
        area = self.query(".text-field").first(TextArea)
        self.screen.set_focus(area)
        area.move_cursor(area.document.end)

    def action_leave_editing(self) -> None:
        """Give the keyboard back to the pane."""
        self.focus()

    @held_while_busy
    def action_scroll_item(self, lines: int) -> None:
        """Scroll the item's comments."""
        self.query_one(ItemView).scroll_item(lines)

    # Edits made through the controls

    @on(FieldControls.Edited)
    def _field_edited(self, event: FieldControls.Edited) -> None:
        assert self.session is not None
        self.session.set_value(event.name, event.value)
        if self._editing():
            self.focus()  # a value was chosen from a select: Enter approves again
        self._after("", moved=False)

    @on(TextArea.Changed, ".text-field")
    def _text_edited(self, event: TextArea.Changed) -> None:
        if self.session is None or self.session.empty:
            return
        self.session.set_value((event.text_area.id or "").removeprefix("field-"), event.text_area.text)
        self.query_one(FieldControls).show(self.session.draft, self.session.proposal, self.session.teacher)
        self._draw_status()
