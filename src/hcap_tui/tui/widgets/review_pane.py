"""The review pane: one source's items, their controls and status, driven by a `ReviewSession`.

The same pane is mounted once per source. It reads its file in a thread worker that only posts
messages; the handlers feed the session on the main thread and show the first item as soon as the
resume target has arrived, while the rest of the file keeps loading. Keys become session calls;
approvals are on disk (fsynced by the store) before the next item is drawn. Slower disk work runs in
thread workers: undo (which may rewrite gold) says "undone" only once it is on disk, and the position
is checkpointed at most every half second (and on quit or tab switch), so moving never waits on a disk.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Select, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from hcap_tui.config import Project
from hcap_tui.errors import DataError, HcapError
from hcap_tui.review_session import GoldChanged, GoldReplaced, ReviewSession, Undone
from hcap_tui.review_sources import GoldBook, ReviewSource
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store
from hcap_tui.tui.bindings import NAVIGATION_BINDINGS, field_bindings, field_keys
from hcap_tui.tui.source_reader import Chunk, Finished, Missing, ReadEvent, Started, read_source, summarize_problems
from hcap_tui.tui.widgets.field_controls import FieldControls
from hcap_tui.tui.widgets.item_view import ItemView
from hcap_tui.tui.widgets.placeholders import EmptyState, LoadProgress
from hcap_tui.tui.widgets.status_line import StatusLine

# Actions that need an item on screen and the keyboard not taken by a text area or a select.
ITEM_ACTIONS = frozenset(
    {"approve", "skip", "undo", "cycle_filter", "edit_text", "previous", "next", "next_pending", "scroll_item"}
    | {"first", "last", "order_by_confidence"}
    | {"toggle_field", "cycle_field", "pick_field"}  # the schema-derived field keys
)
# What still works while no item passes the filter: changing it, and undo (which returns to an item).
OFF_FILTER_ACTIONS = frozenset({"cycle_filter", "undo"})
CHECKPOINT_EVERY = 0.5  # seconds: the most often a tab's position is written while moving


class ReviewPane(Vertical, can_focus=True):
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

    @dataclass
    class Read(Message):
        """Something the loader read (posted from its thread, handled on the main thread)."""

        event: ReadEvent

    @dataclass
    class UndoWritten(Message):
        """An undo is on disk (posted from its worker's thread)."""

        undone: Undone

    @dataclass
    class GoldReloaded(Message):
        """Gold was read again in full, after it was rewritten under this process, to finish an approval."""

        gold: GoldBook

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
        self._busy = False  # an undo or a gold reload is under way: item keys wait for it
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

    # Loading

    def start(self, gold: GoldBook) -> None:
        """Begin reading the source, now that gold (which every item is checked against) is known."""
        self.gold = gold
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> None:
        worker = get_current_worker()
        for event in read_source(self.store, self.source):
            if worker.is_cancelled:
                return
            self.post_message(self.Read(event))

    @on(Read)
    def _read(self, message: Read) -> None:
        """Feed what the loader read to the session; show the first item as soon as it is known."""
        event = message.event
        name = self.source.path(self.store.paths).name
        if isinstance(event, Missing):
            self._show_empty(f"{name} does not exist yet.", self.source.fill_command)
        elif isinstance(event, Started):
            assert self.gold is not None
            self.session = ReviewSession(self.store, self.source, self.gold, self.reviewer, event.checkpoint)
            self._total_lines = max(event.total_lines, 1)
            if event.notice:
                self.notify(event.notice, severity="warning", markup=False)
            self.query_one(LoadProgress).reading(name, event.total_lines)
        elif isinstance(event, Chunk):
            assert self.session is not None
            self.query_one(LoadProgress).advance_to(event.lines_read)
            self._progress = f"loading {100 * event.lines_read // self._total_lines}%"
            self._settle(self.session.extend(event.items))
            if self.session.order.has_confidence != self._could_order:
                self._could_order = self.session.order.has_confidence
                self.refresh_bindings()  # the first confidences arrived: ordering by them is offered
        elif isinstance(event, Finished):
            assert self.session is not None
            self._progress = ""
            summary = summarize_problems(event.problems)
            if summary:
                self.notify(summary, title="Some lines were skipped", severity="warning", timeout=10, markup=False)
            became_ready = self.session.finish_loading()
            if self.session.empty:
                self._show_empty(f"{name} has no usable items.", self.source.fill_command)
            else:
                self._settle(became_ready)

    def _settle(self, became_ready: bool) -> None:
        """Show the review the moment the session became ready, else keep the status current."""
        if became_ready:
            self._show_review()
        elif self.session is not None and self.session.ready and not self.session.empty:
            self._draw_status()

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
            self.notify(message, severity="error", markup=False)
        elif event.worker.group == "checkpoint":
            self.notify(message, severity="error", markup=False)

    def show_problem(self, problem: str) -> None:
        """Give up on this tab with a reason (also used when gold itself cannot be read)."""
        self._show_empty(problem, None)
        self.notify(problem, severity="error", timeout=10, markup=False)

    def _show_empty(self, problem: str, command: str | None) -> None:
        self.query_one(EmptyState).explain(problem, command)
        self.query_one(ContentSwitcher).current = "empty"
        self.refresh_bindings()

    def _show_review(self) -> None:
        self.query_one(ContentSwitcher).current = "review"
        self._draw()
        self.refresh_bindings()

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
        self.query_one(FieldControls).show(draft, session.proposal)
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

    def _checkpoint_soon(self) -> None:
        """Write the position now if the last write was long enough ago, else once that time is up."""
        if self._checkpoint_timer is not None:
            return  # the pending write will save the latest position
        wait = self._checkpoint_written + CHECKPOINT_EVERY - time.monotonic()
        if wait <= 0:
            self.flush_checkpoint()
        else:
            self._checkpoint_timer = self.set_timer(wait, self.flush_checkpoint)

    @property
    def checkpoint_pending(self) -> bool:
        """Whether a move is waiting for its checkpoint write (the timer has not fired yet)."""
        return self._checkpoint_timer is not None

    def flush_checkpoint(self) -> None:
        """Write the position now, from a worker (on a timer, or when the reviewer switches tabs)."""
        if self._checkpoint_timer is not None:
            self._checkpoint_timer.stop()
            self._checkpoint_timer = None
        checkpoint = self.session.checkpoint() if self.session else None
        if checkpoint is not None:
            self._checkpoint_written = time.monotonic()
            self._write_checkpoint(checkpoint)

    @work(thread=True, exit_on_error=False, group="checkpoint")
    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.store.write_checkpoint(self.source.name, checkpoint)

    def save_checkpoint(self) -> None:
        """Save where this tab is, now and on this thread (on quit); a failure is a notification, never a crash."""
        if self._checkpoint_timer is not None:
            self._checkpoint_timer.stop()
            self._checkpoint_timer = None
        checkpoint = self.session.checkpoint() if self.session else None
        if checkpoint is None:
            return
        try:
            self.store.write_checkpoint(self.source.name, checkpoint)
        except DataError as exc:
            self.notify(str(exc), severity="error", markup=False)

    # Keys

    def _editing(self) -> bool:
        """Whether the keyboard belongs to a text area or an open select rather than to the pane."""
        focused = self.app.focused
        return focused is not None and any(isinstance(node, (TextArea, Select)) for node in focused.ancestors_with_self)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide item keys until there is an item and while typing; dim undo when there is nothing to undo."""
        if action == "leave_editing":
            focused = self.app.focused
            return focused is not None and focused is not self and self in focused.ancestors
        if action in ITEM_ACTIONS:
            session = self.session
            if session is None or not session.ready or session.empty or self._editing() or self._busy:
                return False
            if session.off_filter and action not in OFF_FILTER_ACTIONS:
                return False
            if action == "edit_text" and not self.schema.texts:
                return False
            if action == "undo" and not self.session.can_undo:
                return None
            if action == "order_by_confidence" and not self.session.order.has_confidence:
                return False
        return True

    def action_approve(self) -> None:
        """Save the draft to gold and move on (Enter, even from a checkbox)."""
        session = self.session
        assert session is not None
        self._approved(session.position, session.approve)

    def _approved(self, before: int, approve: Callable[[], object]) -> None:
        """Run an approval and show its outcome: saved, refused, another reviewer's approval, or a reload."""
        session = self.session
        assert session is not None
        try:
            approve()
        except GoldReplaced as exc:
            self._busy = True
            self.refresh_bindings()
            self._after(str(exc), moved=False)
            self._reload_gold(before)
            return
        except GoldChanged as exc:
            self.notify(str(exc), severity="warning", timeout=10, markup=False)
            self._after("not saved: approved elsewhere", moved=False)
            return
        except HcapError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        last = " · that was the last item" if session.position == before else ""
        self._after(f"saved ✓{last}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="reload")
    def _reload_gold(self, before: int) -> None:
        self.post_message(self.GoldReloaded(GoldBook.load(self.store)))

    @on(GoldReloaded)
    def _gold_reloaded(self, message: GoldReloaded) -> None:
        session = self.session
        assert session is not None
        self._busy = False
        self.refresh_bindings()
        self._approved(session.position, lambda: session.approve_after_reload(message.gold))

    def action_toggle_field(self, name: str) -> None:
        """Flip a boolean field."""
        assert self.session is not None
        self.session.toggle(name)
        self._after("", moved=False)

    def action_cycle_field(self, name: str) -> None:
        """Move an enum field to its next value."""
        assert self.session is not None
        self.session.cycle(name)
        self._after("", moved=False)

    def action_pick_field(self, name: str) -> None:
        """Open an enum's list to choose its value directly."""
        self.query_one(FieldControls).pick(name)

    def action_skip(self) -> None:
        """Leave this item unapproved, dropping its edits, and go to the next."""
        assert self.session is not None
        self._after("skipped" if self.session.skip() else "skipped · no more items this way")

    def action_previous(self) -> None:
        """Go to the previous item (in the current filter)."""
        assert self.session is not None
        self._after("" if self.session.previous() else "this is the first item")

    def action_next(self) -> None:
        """Go to the next item (in the current filter)."""
        assert self.session is not None
        self._after("" if self.session.next() else "this is the last item")

    def action_first(self) -> None:
        """Go to the first item (in the current order and filter)."""
        assert self.session is not None
        self._after("" if self.session.first() else "this is the first item")

    def action_last(self) -> None:
        """Go to the last item (in the current order and filter)."""
        assert self.session is not None
        self._after("" if self.session.last() else "this is the last item")

    def action_order_by_confidence(self) -> None:
        """Visit items least confident first, or in file order again; the current item stays on screen."""
        session = self.session
        assert session is not None
        session.order_by_confidence(not session.order.by_confidence)
        self._after("ordered least confident first" if session.order.by_confidence else "back in file order")

    def action_next_pending(self) -> None:
        """Jump to the next item not yet in gold."""
        assert self.session is not None
        self._after("" if self.session.next_not_in_gold() else "no other item is waiting: all in gold")

    def action_undo(self) -> None:
        """Take the last approval of this tab back out of gold and return to it."""
        assert self.session is not None
        try:
            approval = self.session.pop_undo()
        except HcapError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._busy = True
        self.refresh_bindings()
        self._outcome = "undoing…"
        self._draw_status()
        self._write_undo(approval)

    @work(thread=True, exit_on_error=False, group="undo")
    def _write_undo(self, approval: Any) -> None:
        assert self.session is not None
        self.post_message(self.UndoWritten(self.session.write_undo(approval)))

    @on(UndoWritten)
    def _undo_written(self, message: UndoWritten) -> None:
        assert self.session is not None
        self._busy = False
        self.session.finish_undo(message.undone)
        self.refresh_bindings()
        self._after("approval undone")

    def action_cycle_filter(self) -> None:
        """Switch between all / not in gold / in gold / disagrees with gold."""
        assert self.session is not None
        matching = self.session.cycle_filter()
        self._after(f"{matching} {self.session.filter.counted(matching)}")

    def action_edit_text(self) -> None:
        """Focus the first free-text field (the reasoning) at once, so the very next keys type into it."""
        area = self.query(".text-field").first(TextArea)
        self.screen.set_focus(area)
        area.move_cursor(area.document.end)

    def action_leave_editing(self) -> None:
        """Give the keyboard back to the pane."""
        self.focus()

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
        self.query_one(FieldControls).show(self.session.draft, self.session.proposal)
        self._draw_status()
