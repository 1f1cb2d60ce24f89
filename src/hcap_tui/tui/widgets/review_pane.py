"""The review pane: one source's items, their controls and status, driven by a `ReviewSession`.

The same pane is mounted once per source. Keys become session calls and each is followed by a redraw
from the session. The pane reads its source in a worker, picks up lines appended to it later, writes
approvals and undos in workers (keys typed meanwhile wait in `HeldKeys` and run afterwards, in order) and
saves its position as `CheckpointThrottle` says, so neither moving nor approving ever waits on a disk.

Keys are run by the pane itself, in the order they reach it (`on_key`), rather than left to bubble up to
the app: in a fast burst the keys after one that moves the keyboard elsewhere (`e` opens the editor, `t`
switches tab) are already queued here, and are passed on to where the keyboard now is.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static, TextArea
from textual.worker import Worker, WorkerState, get_current_worker

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.review import throttle as throttle_settings
from hcap_tui.review.checks import race_summary
from hcap_tui.review.errors import ConfirmApproval, GoldChanged, ReviewError
from hcap_tui.review.held_keys import HeldKeys
from hcap_tui.review.reader import (
    Chunk,
    Finished,
    Missing,
    ReadEvent,
    Started,
    read_appended,
    read_source,
    summarize_problems,
)
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import GoldBook, ReviewSource
from hcap_tui.review.throttle import CheckpointThrottle
from hcap_tui.review.writer import Approval, ApprovalPlan, ApprovalWritten, UndoWritten
from hcap_tui.safe_text import safe
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, FileMark, Store, Tail
from hcap_tui.tui.bindings import NAVIGATION_BINDINGS, command, field_bindings, field_keys, value_keys
from hcap_tui.tui.widgets.field_controls import EnumContext, FieldControls
from hcap_tui.tui.widgets.item_view import ItemView
from hcap_tui.tui.widgets.placeholders import EmptyState, LoadProgress
from hcap_tui.tui.widgets.status_line import StatusLine
from hcap_tui.tui.widgets.text_editor import TextEditor
from hcap_tui.tui.widgets.text_part import wrapped

POLL_EVERY = 2.0  # seconds between looks for lines another command appended to the source
# Actions that need an item on screen and the keyboard not taken by the editor.
ITEM_ACTIONS = frozenset(
    {"approve", "skip", "undo", "cycle_filter", "edit_text", "replace_text", "clear_text", "previous", "next"}
    | {"next_pending", "scroll_item", "first", "last", "order_by_confidence"}
    | {"toggle_field", "cycle_field", "set_field"}  # the schema-derived field keys
)
# What still works while no item passes the filter: changing it, and undo (which returns to an item).
OFF_FILTER_ACTIONS = frozenset({"cycle_filter", "undo"})


def held_while_busy(action: Callable[..., None]) -> Callable[..., None]:
    """Make an item key's action wait while an approval or undo is being written, to run in turn after it."""

    @functools.wraps(action)
    def run(pane: ReviewPane, *params: Any) -> None:
        if pane.keys.hold(action.__name__.removeprefix("action_"), params):
            return
        if action.__name__ != "action_approve" and pane.session is not None:
            pane.session.disarm()  # any key but Enter: the approval waiting for a second Enter is off
        action(pane, *params)

    return run


class ReviewPane(Vertical, can_focus=True):
    """Review of one source: loading progress, an empty state, or the item with its controls and status."""

    DEFAULT_CSS = """
    ReviewPane {
        height: 1fr;
        ContentSwitcher, #review { height: 1fr; }
        #confirm { height: auto; padding: 0 1; background: $warning-muted; display: none; }
        #confirm.-shown { display: block; }
        StatusLine { dock: bottom; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        *NAVIGATION_BINDINGS,
        command("t", "next_tab", "Next tab", show=False),
    ]

    @dataclass
    class Read(Message):
        """Something the loader read (posted from its thread, handled on the main thread)."""

        event: ReadEvent

    @dataclass
    class Appended(Message):
        """Lines appended to the source since it was read (None: the file was replaced and is read again)."""

        tail: Tail | None

    @dataclass
    class Approved(Message):
        """An approval's disk work is done: what the writer found and did."""

        written: ApprovalWritten

    @dataclass
    class Undone(Message):
        """An undo is on disk."""

        undone: UndoWritten

    @dataclass
    class TitleChanged(Message):
        """The tab's title changed (the teacher's model became known)."""

        pane: ReviewPane
        title: str

    def __init__(self, project: Project, source: ReviewSource, reviewer: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = Store(project.paths, project.schema)
        self.schema = project.schema
        self.source = source
        self.reviewer = reviewer
        self.session: ReviewSession | None = None
        self.gold: GoldBook | None = None
        self.keys = HeldKeys()
        """Keys typed while an approval or undo is being written."""
        self.throttle = CheckpointThrottle(throttle_settings.CHECKPOINT_EVERY)
        self.title = source.title
        self._checkpoint_timer: Timer | None = None
        self._commands = self._command_map()
        self._forwarded: deque[events.Key] = deque(maxlen=64)  # keys passed on, recognised if they come back
        self._mark: FileMark | None = None  # where new lines of the source start
        self._polling = False
        self._missing = False
        self._total_lines = 1
        self._progress = ""
        self._outcome = ""
        self._could_undo = False
        self._could_order = False
        self._undoing: Approval | None = None
        self._editing_at: int | None = None  # the item whose text the editor holds
        self._confirm_text = Text()  # the warnings waiting for a second Enter, as shown

    @classmethod
    @functools.cache
    def for_schema(cls, schema: LabelSchema) -> type[ReviewPane]:
        """The pane class whose bindings include the schema's field keys (toggle, cycle, set a value)."""
        return type(cls.__name__, (cls,), {"BINDINGS": field_bindings(schema), "__doc__": cls.__doc__})

    def compose(self) -> ComposeResult:
        with ContentSwitcher(initial="loading"):
            yield LoadProgress(id="loading")
            yield EmptyState(id="empty")
            with Vertical(id="review"):
                yield ItemView(self.schema.texts)
                yield FieldControls(self.schema, field_keys(self.schema), value_keys(self.schema))
                yield Static(id="confirm", markup=False)
                yield StatusLine()

    # Loading, and lines appended later

    def start(self, gold: GoldBook, checkpoint: Checkpoint | None = None) -> None:
        """Begin reading the source, now that gold (which every item is checked against) is known."""
        self.gold = gold
        self._load(checkpoint)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self, checkpoint: Checkpoint | None) -> None:
        """Read the source in a thread, posting each event; stop when the worker is cancelled."""
        worker = get_current_worker()
        for event in read_source(self.store, self.source):
            if worker.is_cancelled:
                return
            if isinstance(event, Started) and checkpoint is not None:
                event = Started(checkpoint, event.total_lines, None)  # a reread keeps the place it had
            self.post_message(self.Read(event))

    @on(Read)
    def _read(self, message: Read) -> None:
        """Feed what the loader read to the session; show the first item as soon as it is known."""
        event = message.event
        name = self.source.path(self.store.paths).name
        if isinstance(event, Missing):
            self._missing = True
            self._show_empty(f"{name} does not exist yet.", self.source.fill_command_for(self.store.paths))
            self._start_polling()
        elif isinstance(event, Started):
            assert self.gold is not None
            self._missing = False
            self.session = ReviewSession(self.store, self.source, self.gold, self.reviewer, event.checkpoint)
            self._total_lines = max(event.total_lines, 1)
            if event.notice:
                self._notify(event.notice, severity="warning")
            self.query_one(LoadProgress).reading(name, event.total_lines)
        elif isinstance(event, Chunk):
            assert self.session is not None
            self.query_one(LoadProgress).advance_to(event.lines_read)
            self._progress = f"loading {100 * event.lines_read // self._total_lines}%"
            self._took_items(self.session.extend(event.items))
        elif isinstance(event, Finished):
            assert self.session is not None
            self._progress = ""
            self._mark = event.mark
            summary = summarize_problems(event.problems)
            if summary:
                self._notify(summary, title="Some lines were skipped", severity="warning", timeout=10)
            became_ready = self.session.finish_loading()
            if self.session.empty:
                self._show_empty(f"{name} has no usable items.", self.source.fill_command_for(self.store.paths))
            else:
                self._took_items(became_ready)
            self._start_polling()

    def _took_items(self, became_ready: bool) -> None:
        """Show the review the moment the session became ready, else keep the status and title current."""
        session = self.session
        assert session is not None
        if session.order.has_confidence != self._could_order:
            self._could_order = session.order.has_confidence
            self.refresh_bindings()  # the first confidences arrived: ordering by them is offered
        title = self.source.title_for(session.models)
        if title != self.title:
            self.title = title
            self.post_message(self.TitleChanged(self, title))
        if became_ready:
            self.query_one(ContentSwitcher).current = "review"
            self._draw()
            self.refresh_bindings()
        elif session.ready and not session.empty:
            self._draw_status()

    def _start_polling(self) -> None:
        if not self._polling:
            self._polling = True
            self.set_interval(POLL_EVERY, self.poll_source)

    def poll_source(self) -> None:
        """Look for lines another command appended to the source (or for the file, while it is missing)."""
        if self._missing:
            if self.source.path(self.store.paths).is_file() and self.gold is not None:
                self.start(self.gold)
            return
        if self._mark is not None and self.session is not None and self.keys.busy is None:
            self._read_tail(self._mark)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tail")
    def _read_tail(self, mark: FileMark) -> None:
        self.post_message(self.Appended(read_appended(self.store, self.source, mark)))

    @on(Appended)
    def _appended(self, message: Appended) -> None:
        """Take in appended items; a replaced file is read again from the start, keeping the place."""
        session, tail = self.session, message.tail
        if session is None:
            return
        if tail is None:
            name = self.source.path(self.store.paths).name
            self._notify(f"{name} was replaced: reading it again", severity="warning")
            self._mark = None
            assert self.gold is not None
            self.start(self.gold, session.checkpoint())
            return
        self._mark = tail.mark
        if tail.skipped:
            self._notify(f"{tail.skipped} unreadable new line(s) skipped: `hcap check` says why", severity="warning")
        if tail.items:
            was_empty = session.empty
            self._took_items(session.extend(tail.items) or was_empty)

    def show_problem(self, problem: str) -> None:
        """Give up on this tab with a reason (also used when gold itself cannot be read)."""
        self._show_empty(problem, None)
        self._notify(problem, severity="error", timeout=10)

    def _show_empty(self, problem: str, command: str | None) -> None:
        """Show why there is nothing to review, and the command that would fill the file."""
        self.query_one(EmptyState).explain(safe(problem), command and safe(command))
        self.query_one(ContentSwitcher).current = "empty"
        self.refresh_bindings()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker is one message: a loader leaves the tab explaining why; a failed approval or undo keeps
        the item and its edit on screen; a failed checkpoint write is told once until writing works again."""
        group = event.worker.group
        if event.state is WorkerState.SUCCESS and group == "checkpoint":
            self.throttle.succeeded()
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        message = str(error) if isinstance(error, HcapError) else f"{group} failed: {error!r}"
        if group == "load":
            self.show_problem(message)
        elif group in ("approve", "undo"):
            if group == "undo" and self._undoing is not None and self.session is not None:
                self.session.restore_undo(self._undoing)
            self._undoing = None
            dropped = len(self.keys)
            self.keys = HeldKeys()  # keys typed after a failed write were meant for what it would have shown
            if dropped:
                message += f" ({dropped} key{'s' * (dropped > 1)} typed meanwhile not applied)"
            self.refresh_bindings()
            self._outcome = "not saved" if group == "approve" else "not undone"
            self._draw()
            self._notify(message, severity="error", timeout=15)
        elif group == "checkpoint":
            if self.throttle.failed(message):
                self._notify(f"position not saved: {message}", severity="error", timeout=10)
        elif group == "tail":
            self._notify(message, severity="warning")

    def _notify(self, message: str, **options: Any) -> None:
        """A notification, with text from files made safe and never read as markup."""
        self.notify(safe(message), markup=False, **options)

    # Rendering

    def redraw(self) -> None:
        """Draw the current item again, if there is one (the tab was shown again)."""
        if self.session is not None and self.session.ready and not self.session.empty:
            self._draw()

    def _draw(self) -> None:
        """Draw the current item, its controls, a pending confirmation and the status line from the session."""
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
        if self._editing_at is not None and self._editing_at != session.position:
            self._close_editors()
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
        draft = session.draft
        texts = {f.name: draft[f.name] for f in self.schema.texts}
        self.query_one(ItemView).show(item.formatted_input, texts, gold_note=gold_note, failure=failure)
        self._draw_controls()
        confirming = session.confirming
        panel = self.query_one("#confirm", Static)
        panel.set_class(confirming is not None, "-shown")
        self._confirm_text = Text()
        if confirming is not None:
            self._confirm_text = Text("Press Enter again to approve (any other key: not saved):", style="bold")
            for warning in confirming:
                self._confirm_text.append(f"\n• {warning}")
            panel.update(self._confirm_text)
        self._draw_status()
        self._fit()

    def _draw_controls(self) -> None:
        session = self.session
        assert session is not None
        races = race_summary(self.schema, session.race_others)
        context = {
            f.name: EnumContext(session.runners if f.scope == "race" else None, races.get(f.name))
            for f in self.schema.enums
        }
        self.query_one(FieldControls).show(session.draft, session.proposal, session.teacher, context)

    def _fit(self) -> None:
        """Share the pane's rows among the item's parts, after the controls, confirmation and status took theirs."""
        width, height = self.size
        if not width or not height or self.session is None or not self.session.ready:
            return
        panel = self.query_one("#confirm", Static)
        panel_rows = 0
        if panel.has_class("-shown"):
            panel_rows = len(wrapped(self.app.console, self._confirm_text, width - 2))
            panel.styles.height = panel_rows
        room = height - self.query_one(FieldControls).rows - panel_rows - 1
        self.query_one(ItemView).fit(room, width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _draw_status(self) -> None:
        session = self.session
        assert session is not None
        self.query_one(StatusLine).show(
            session.counter_text(),
            filter_name=session.filter.short,
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
            self.refresh_bindings()

    # Keys

    def _command_map(self) -> dict[str, str]:
        """Each key of this pane's bindings (the schema's first, as Textual orders them) and the action it runs."""
        commands: dict[str, str] = {}
        for cls in type(self).__mro__:
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                commands.setdefault(binding.key, binding.action)
        return commands

    async def on_key(self, event: events.Key) -> None:
        """Run this pane's keys in the order they arrive, and pass on those that came after the keyboard moved.

        A key that waited here while an earlier key opened the editor or switched tab goes to where the
        keyboard is now; one coming back from the editor (cursor keys...) goes on up to its bindings.
        """
        if any(event is seen for seen in self._forwarded):
            return
        focused = self.app.focused
        editors = list(self.query(TextEditor))
        if isinstance(focused, TextEditor) and focused in editors and not focused.closed:
            if focused.saw(event):
                return  # the editor's own key, not typed (a cursor key): its binding runs further up
            self._pass_on(event, focused)
        elif focused is not None and focused is not self and self not in focused.ancestors:
            self._pass_on(event, focused)  # another tab took the keyboard
        elif (action := self._commands.get(event.key)) is not None:
            _, name, params = parse_action(action)
            if self.check_action(name, params):
                event.stop()
                event.prevent_default()
                getattr(self, f"action_{name}")(*params)

    def _pass_on(self, event: events.Key, target: Widget) -> None:
        copy = events.Key(event.key, event.character)
        self._forwarded.append(copy)
        event.stop()
        event.prevent_default()
        target.post_message(copy)

    def _editing(self) -> bool:
        """Whether the keyboard belongs to an open editor rather than to the pane."""
        focused = self.app.focused
        return isinstance(focused, TextArea) and self in focused.ancestors

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide item keys until there is an item and while typing.

        While busy every item key is taken, to be held and checked again when it runs (`held_while_busy`).
        """
        if action == "leave_editing":
            focused = self.app.focused
            return focused is not None and focused is not self and self in focused.ancestors
        if action in ITEM_ACTIONS:
            session = self.session
            if session is None or not session.ready or session.empty or self._editing():
                return False
            if self.keys.busy:
                return True
            if session.off_filter and action not in OFF_FILTER_ACTIONS:
                return False
            if action in ("edit_text", "replace_text", "clear_text") and not self.schema.texts:
                return False
            if action == "order_by_confidence" and not session.order.has_confidence:
                return False
        return True

    def action_next_tab(self) -> None:
        """Switch to the next tab (the screen does it, and gives it the keyboard at once)."""
        self.screen.action_next_tab()  # type: ignore[attr-defined]

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
    def action_set_field(self, name: str, value: str) -> None:
        """Set an enum field to one value (its capital-letter key)."""
        assert self.session is not None
        self.session.set_value(name, value)
        self._after("", moved=False)

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
    def action_scroll_item(self, lines: int) -> None:
        """Read on (or back) through the parts of the item that are cut."""
        moved = self.query_one(ItemView).scroll_item(lines)
        self._outcome = "" if moved else ("nothing more below" if lines > 0 else "nothing more above")
        self._draw_status()

    # The text editor

    @held_while_busy
    def action_edit_text(self) -> None:
        """Edit the first text field (the reasoning), the cursor at its end, so the very next keys type into it."""
        self._open_editor()

    @held_while_busy
    def action_replace_text(self) -> None:
        """Edit the first text field with all of it selected: what is typed replaces it."""
        self._open_editor(select_all=True)

    @held_while_busy
    def action_clear_text(self) -> None:
        """Empty the first text field and start typing its new text."""
        assert self.session is not None
        self.session.set_value(self.schema.texts[0].name, "")
        self._open_editor()

    def _open_editor(self, *, select_all: bool = False) -> None:
        session = self.session
        assert session is not None
        field = self.schema.texts[0]
        self._editing_at = session.position
        self.query_one(ItemView).editor(field.name).open(session.draft[field.name], select_all=select_all)
        self._fit()
        self.refresh_bindings()

    def action_leave_editing(self) -> None:
        """Give the keyboard back to the pane."""
        self.screen.set_focus(self)

    def _sync_texts(self) -> None:
        """Take the editors' text into the draft (a typed key's change may still be on its way as a message)."""
        session = self.session
        if session is None or self._editing_at != session.position:
            return
        view = self.query_one(ItemView)
        for field in self.schema.texts:
            text = view.editor(field.name).text
            if text != session.draft[field.name]:
                session.set_value(field.name, text)

    def _close_editors(self) -> None:
        for editor in self.query(TextEditor):
            if not editor.closed:
                editor.closed = True
                editor.display = False
        self._editing_at = None

    @on(TextEditor.Closed)
    def _editor_closed(self, message: TextEditor.Closed) -> None:
        self._sync_texts()
        self.refresh_bindings()
        if self.session is not None and self.session.ready:
            self._draw()

    @on(TextArea.Changed)
    def _text_edited(self, event: TextArea.Changed) -> None:
        if self.session is None or self.session.empty or not isinstance(event.text_area, TextEditor):
            return
        if self._editing_at != self.session.position:
            return
        self.session.set_value(event.text_area.field_name, event.text_area.text)
        self._draw_controls()
        self._draw_status()
        self._fit()

    @on(FieldControls.Edited)
    def _field_edited(self, event: FieldControls.Edited) -> None:
        assert self.session is not None
        self.session.set_value(event.name, event.value)
        self._after("", moved=False)

    # Approve and undo, their disk work in workers

    @held_while_busy
    def action_approve(self) -> None:
        """Save the draft to gold and move on, once any warning was confirmed by a second Enter."""
        session = self.session
        assert session is not None
        self._sync_texts()
        try:
            plan = session.request_approval()
        except ConfirmApproval:
            self._after("Enter again to approve", moved=False)
            return
        except ReviewError as exc:
            self._notify(str(exc), severity="error")
            return
        self.keys.start("approve")
        self._outcome = "saving…"
        self._draw_status()
        self._write_approval(plan)

    @work(thread=True, exit_on_error=False, group="approve")
    def _write_approval(self, plan: ApprovalPlan) -> None:
        """Append the approval to gold under its lock, in a thread."""
        assert self.session is not None
        self.post_message(self.Approved(self.session.writer.approve(plan)))

    @on(Approved)
    def _approved(self, message: Approved) -> None:
        """Show the approval once it is on disk (or another reviewer's, when theirs came first)."""
        session = self.session
        assert session is not None
        self.keys.finish()
        try:
            note = session.finish_approval(message.written)
        except GoldChanged as exc:
            self._notify(str(exc), severity="warning", timeout=10)
            self._after("not saved: approved elsewhere", moved=False)
        else:
            self._after("saved ✓" + (f" · {note}" if note else ""))
        self._replay()

    @held_while_busy
    def action_undo(self) -> None:
        """Take the last approval of this tab back out of gold and return to it."""
        session = self.session
        assert session is not None
        try:
            approval = session.pop_undo()
        except ReviewError as exc:
            self._notify(str(exc), severity="information")
            self._after("nothing to undo", moved=False)
            return
        self._undoing = approval
        self.keys.start("undo")
        self._outcome = "undoing…"
        self._draw_status()
        self._write_undo(approval, session.items[approval.index].formatted_input)

    @work(thread=True, exit_on_error=False, group="undo")
    def _write_undo(self, approval: Approval, formatted_input: str) -> None:
        """Take the approval out of the gold file, in a thread."""
        assert self.session is not None
        self.post_message(self.Undone(self.session.writer.undo(approval, formatted_input)))

    @on(Undone)
    def _undone(self, message: Undone) -> None:
        """Show the undo once it is on disk: the item again, with its values as a draft."""
        assert self.session is not None
        self.keys.finish()
        self._undoing = None
        self.session.finish_undo(message.undone)
        self._after("approval undone")
        self._replay()

    def _replay(self) -> None:
        """Run the keys typed while busy, in order, as they apply now; stop when one makes the pane busy again."""
        self.refresh_bindings()
        for name, params in self.keys.replay():
            if self.check_action(name, params):
                getattr(self, f"action_{name}")(*params)

    # Saving the position

    def _checkpoint_soon(self) -> None:
        """Write the position now, or once the throttle's wait is up (moving never waits on the disk)."""
        wait = self.throttle.moved()
        if wait == 0:
            self.flush_checkpoint()
        elif wait is not None:
            self._checkpoint_timer = self.set_timer(wait, self.flush_checkpoint)

    @property
    def checkpoint_pending(self) -> bool:
        """Whether a move is waiting for its checkpoint write (the timer has not fired yet)."""
        return self.throttle.pending

    def flush_checkpoint(self) -> None:
        """Write the position now, from a worker (on a timer, or when the reviewer switches tabs)."""
        if self._checkpoint_timer is not None:
            self._checkpoint_timer.stop()
            self._checkpoint_timer = None
        checkpoint = self.session.checkpoint() if self.session else None
        self.throttle.written()
        if checkpoint is not None:
            self._write_checkpoint(checkpoint)

    @work(thread=True, exit_on_error=False, group="checkpoint")
    def _write_checkpoint(self, checkpoint: Checkpoint) -> None:
        """Write the checkpoint in a thread."""
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
        except HcapError as exc:
            self._notify(f"position not saved: {exc}", severity="error")
