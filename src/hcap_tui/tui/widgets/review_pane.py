"""The review pane: one source's items, their controls and status, driven by a `ReviewSession`.

The same pane is mounted once per source. Keys become session calls and each is followed by a redraw from
the session (`ReviewView`). Its helpers do the waiting: `SourceFeed` reads the source and the lines appended
to it later, `PositionSaver` saves where the tab is, `SuspectRanker` ranks the teacher's labels most suspect
first, and approvals and undos write in workers while keys typed meanwhile wait in `HeldKeys`, to run
afterwards in order; so neither moving, approving nor ranking waits on a disk or a model.

Keys are run by the pane itself, in the order they reach it (`on_key`), rather than left to bubble up to the
app: in a fast burst the keys after one that moves the keyboard elsewhere (`e` opens the editor, `t` switches
tab) are already queued here, and are passed on to where the keyboard now is.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import ContentSwitcher, TextArea

from hcap_tui.config import Project
from hcap_tui.review.errors import ConfirmApproval, GoldChanged, ReviewError
from hcap_tui.review.held_keys import HeldKeys
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import GoldBook, ReviewSource
from hcap_tui.review.writer import Approval, ApprovalWritten
from hcap_tui.safe_text import safe
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store
from hcap_tui.tui.bindings import NAVIGATION_BINDINGS, TEXT_ACTIONS, command, field_bindings
from hcap_tui.tui.widgets.field_controls import FieldControls
from hcap_tui.tui.widgets.gold_writes import GoldWrites
from hcap_tui.tui.widgets.key_router import KeyRouter
from hcap_tui.tui.widgets.placeholders import EmptyState, LoadProgress
from hcap_tui.tui.widgets.position_saver import PositionSaver
from hcap_tui.tui.widgets.review_view import ReviewView
from hcap_tui.tui.widgets.source_feed import SourceFeed
from hcap_tui.tui.widgets.suspect_ranker import SuspectRanker
from hcap_tui.tui.widgets.text_editor import TextEditor

# Actions that need an item on screen and the keyboard not taken by the editor.
ITEM_ACTIONS = frozenset(
    {"approve", "skip", "undo", "cycle_filter", "edit_text", "replace_text", "clear_text", "previous", "next"}
    | {"next_pending", "scroll_item", "first", "last", "toggle_order"}
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
        pane.sync_texts()  # what was typed counts before any key acts (its change message may still be queued)
        if action.__name__ != "action_approve" and pane.session is not None:
            pane.session.disarm()  # any key but Enter: the approval waiting for a second Enter is off
        action(pane, *params)

    return run


class ReviewPane(Vertical, can_focus=True):
    """Review of one source: loading progress, an empty state, or the item with its controls and status."""

    DEFAULT_CSS = """
    ReviewPane {
        height: 1fr;
        ContentSwitcher { height: 1fr; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [*NAVIGATION_BINDINGS, command("t", "next_tab", "Next tab", show=False)]

    @dataclass
    class TitleChanged(Message):
        """The tab's title changed (the teacher's model became known)."""

        pane: ReviewPane
        title: str

    @dataclass
    class SourceRead(Message):
        """The tab has read all of its source (or shows why it has none)."""

        pane: ReviewPane

    def __init__(self, project: Project, source: ReviewSource, reviewer: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = Store(project.paths, project.schema)
        self.schema = project.schema
        self.source = source
        self.reviewer = reviewer
        self.keys = HeldKeys()
        """Keys typed while an approval or undo is being written."""
        self.title = source.title
        bindings = [cls.__dict__["BINDINGS"] for cls in type(self).__mro__ if "BINDINGS" in cls.__dict__]
        self._router = KeyRouter(self, bindings, self._run)
        self._total_lines = 1
        self._progress = ""  # how far loading got
        self._ranking = ""  # how long the ranking has been running
        self._outcome = ""
        self._could_undo = False
        self._could_order = False
        self._undoing: Approval | None = None
        self._source_read = False  # whether the screen was told the source is read
        self._editing_at: int | None = None  # the item whose text the editor holds
        self._feed = SourceFeed(self.store, source, reviewer, idle=lambda: self.keys.busy is None)

    @classmethod
    @functools.cache
    def for_schema(cls, schema: LabelSchema) -> type[ReviewPane]:
        """The pane class whose bindings include the schema's field keys (toggle, cycle, set a value)."""
        return type(cls.__name__, (cls,), {"BINDINGS": field_bindings(schema), "__doc__": cls.__doc__})

    def compose(self) -> ComposeResult:
        yield self._feed
        yield GoldWrites()
        yield SuspectRanker(self.store)
        yield PositionSaver(self.store, self.source, lambda: self.session.checkpoint() if self.session else None)
        with ContentSwitcher(initial="loading"):
            yield LoadProgress(id="loading")
            yield EmptyState(id="empty")
            yield ReviewView(self.schema, id="review")

    @property
    def view(self) -> ReviewView:
        return self.query_one(ReviewView)

    @property
    def positions(self) -> PositionSaver:
        """What saves this tab's position."""
        return self.query_one(PositionSaver)

    # Loading, and lines appended later

    @property
    def session(self) -> ReviewSession | None:
        """The tab's review state, once its source is being read."""
        return self._feed.session

    def start(self, gold: GoldBook) -> None:
        """Begin reading the source, now that gold (which every item is checked against) is known."""
        self._feed.start(gold)

    def gold_completed(self) -> None:
        """All of gold is read: redraw with what waited for its labels, then run an approval held meanwhile."""
        self.sync_texts()
        self.redraw()
        if self.keys.busy == "gold":
            self.keys.finish()
            self._outcome = ""
            self._replay()

    def poll_source(self) -> None:
        """Look for lines another command appended to the source now (the feed does it every two seconds)."""
        self._feed.poll()

    @on(SourceFeed.Progress)
    def _progressed(self, message: SourceFeed.Progress) -> None:
        progress = self.query_one(LoadProgress)
        if message.total:
            self._total_lines = message.total
            progress.reading(message.name, message.total)
            self.query_one(ContentSwitcher).current = "loading"
        else:
            progress.advance_to(message.lines_read)
            self._progress = f"loading {100 * message.lines_read // max(self._total_lines, 1)}%"

    @on(SourceFeed.Unavailable)
    def _unavailable(self, message: SourceFeed.Unavailable) -> None:
        self._show_empty(message.problem, message.command)

    @on(SourceFeed.Fed)
    def _fed(self, message: SourceFeed.Fed) -> None:
        """Show the review the moment the session became ready, else keep the status and title current."""
        session = self.session
        assert session is not None
        if not session.loading:
            self._progress = ""
        if session.order.has_confidence != self._could_order:
            self._could_order = session.order.has_confidence
            self.refresh_bindings()  # the first confidences arrived: ordering by them is offered
        title = self.source.title_for(session.models)
        if title != self.title:
            self.title = title
            self.post_message(self.TitleChanged(self, title))
        if not session.loading and not self._source_read:
            self._source_read = True
            self.post_message(self.SourceRead(self))
        if message.became_ready:
            self._draw()
            self.refresh_bindings()
        elif session.ready and not session.empty:
            self.view.draw_status(session, outcome=self._outcome, progress=self._activity)
        if not session.loading:
            self._resume_order(session)

    def _resume_order(self, session: ReviewSession) -> None:
        """Once the source is read: rank again for a saved most-suspect-first order, or say why it cannot."""
        if session.resume_note:
            self._notify(session.resume_note, severity="warning", timeout=10)
            session.resume_note = None
        if session.triage.due and not session.empty:
            self._start_ranking()

    def show_problem(self, problem: str) -> None:
        """Give up on this tab with a reason (also used when gold itself cannot be read)."""
        self._show_empty(problem, None)
        self._notify(problem, severity="error", timeout=10)

    def _show_empty(self, problem: str, command: str | None) -> None:
        """Show why there is nothing to review, and the command that would fill the file."""
        self.query_one(EmptyState).explain(safe(problem), command and safe(command))
        self.query_one(ContentSwitcher).current = "empty"
        self.refresh_bindings()
        if not self._source_read:
            self._source_read = True
            self.post_message(self.SourceRead(self))

    def _notify(self, message: str, **options: Any) -> None:
        """A notification, with text from files made safe and never read as markup."""
        self.notify(safe(message), markup=False, **options)

    # Rendering

    @property
    def _activity(self) -> str:
        """What the tab is busy with, for the status line: loading, ranking, or both."""
        return " · ".join(part for part in (self._progress, self._ranking) if part)

    def redraw(self) -> None:
        """Draw the current item again, if there is one (the tab was shown again)."""
        if self.session is not None and self.session.ready and not self.session.empty:
            self._draw()

    def _draw(self) -> None:
        """Draw the current item from the session, or say that no item passes the filter."""
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
        self.view.draw(session, outcome=self._outcome, progress=self._activity)

    def _after(self, outcome: str, *, moved: bool = True) -> None:
        """Finish a key: save the position soon when it moved, redraw, and refresh which keys apply."""
        self._outcome = outcome
        if moved:
            self.positions.moved()
        self._draw()
        if self.session is not None and self.session.can_undo != self._could_undo:
            self._could_undo = self.session.can_undo
            self.refresh_bindings()

    # Keys

    async def on_key(self, event: events.Key) -> None:
        """Keys run here, in the order they arrive (`KeyRouter`)."""
        self._router.route(event)

    def _run(self, name: str, params: tuple[object, ...]) -> bool:
        """Run one of the pane's actions if it applies now; whether it did. While a write is under way every item
        key is taken, to be held and checked again when its turn comes (`held_while_busy`)."""
        held = self.keys.busy is not None and name in ITEM_ACTIONS and not self._editing()
        if not held and not self.check_action(name, params):
            return False
        getattr(self, f"action_{name}")(*params)
        return True

    def _editing(self) -> bool:
        """Whether the keyboard belongs to an open editor rather than to the pane."""
        focused = self.app.focused
        return isinstance(focused, TextArea) and self in focused.ancestors

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide item keys until there is an item, while typing, and where they do not apply."""
        if action == "leave_editing":
            return self._editing()
        if action in ITEM_ACTIONS:
            session = self.session
            if session is None or not session.ready or session.empty or self._editing():
                return False
            if session.off_filter and action not in OFF_FILTER_ACTIONS:
                return False
            if action in TEXT_ACTIONS and not self.schema.texts:
                return False
            if action == "toggle_order" and not (session.order.has_confidence or session.triage.enabled):
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

    def _move(self, move: Callable[[], bool], moved: str, stuck: str) -> None:
        """Run a session move and say how it went."""
        self._after(moved if move() else stuck)

    @held_while_busy
    def action_skip(self) -> None:
        """Leave this item unapproved, dropping its edits, and go to the next."""
        assert self.session is not None
        self._move(self.session.skip, "skipped", "skipped · no more items this way")

    @held_while_busy
    def action_previous(self) -> None:
        """Go to the previous item (in the current filter)."""
        assert self.session is not None
        self._move(self.session.previous, "", "this is the first item")

    @held_while_busy
    def action_next(self) -> None:
        """Go to the next item (in the current filter)."""
        assert self.session is not None
        self._move(self.session.next, "", "this is the last item")

    @held_while_busy
    def action_first(self) -> None:
        """Go to the first item (in the current order and filter)."""
        assert self.session is not None
        self._move(self.session.first, "", "this is the first item")

    @held_while_busy
    def action_last(self) -> None:
        """Go to the last item (in the current order and filter)."""
        assert self.session is not None
        self._move(self.session.last, "", "this is the last item")

    @held_while_busy
    def action_toggle_order(self) -> None:
        """Visit items least confident first (predictions) or most suspect first (teacher labels, ranked in a
        worker), or in file order again; the current item stays on screen."""
        session = self.session
        assert session is not None
        try:
            outcome = session.toggle_order()
        except ReviewError as exc:
            self._notify(str(exc), severity="warning", timeout=10)
            self._after("not ordered", moved=False)
            return
        ranker = self.query_one(SuspectRanker)
        if ranker.running and not session.triage.wanted:
            ranker.stop()  # called off
            session.take_ranking(None)
            self._ranking = ""
        if session.triage.due:
            self._start_ranking()
        self._after(outcome)

    def _start_ranking(self) -> None:
        """Rank the teacher's labels in a worker; the status line says so until the order arrives."""
        session = self.session
        assert session is not None
        session.triage.begin()
        self._ranking = "ranking…"
        self.query_one(SuspectRanker).rank(len(session.items))

    @on(SuspectRanker.Ticked)
    def _ranking_ticked(self, message: SuspectRanker.Ticked) -> None:
        self._ranking = f"ranking… {message.seconds}s"
        self._draw_status()

    @on(SuspectRanker.Ranked)
    def _ranked(self, message: SuspectRanker.Ranked) -> None:
        """Visit most suspect first, the item on screen staying current (unless the order was called off)."""
        session = self.session
        assert session is not None
        self._ranking = ""
        if not session.take_ranking(message.ranking):
            self._draw_status()
            return
        outcome = f"most suspect first: {len(message.ranking):,} ranked"
        if self._editing():
            self._outcome = outcome  # the editor keeps the screen; the item is drawn again when it closes
            self._draw_status()
        else:
            self._after(outcome, moved=False)

    @on(SuspectRanker.Failed)
    def _ranking_failed(self, message: SuspectRanker.Failed) -> None:
        session = self.session
        assert session is not None
        self._ranking = ""
        session.take_ranking(None)
        self._notify(f"cannot order most suspect first: {message.message}", severity="error", timeout=15)
        self._outcome = "not ordered"
        self._draw_status()

    def _draw_status(self) -> None:
        """Draw the status line again, when an item is on screen."""
        session = self.session
        if session is not None and session.ready and not session.empty and not session.off_filter:
            self.view.draw_status(session, outcome=self._outcome, progress=self._activity)

    @held_while_busy
    def action_next_pending(self) -> None:
        """Jump to the next item not yet in gold."""
        assert self.session is not None
        self._move(self.session.next_not_in_gold, "", "no other item is waiting: all in gold")

    @held_while_busy
    def action_cycle_filter(self) -> None:
        """Switch between all / not in gold / in gold / disagrees with gold."""
        assert self.session is not None
        matching = self.session.cycle_filter()
        if matching is None:
            self._after(f"{self.session.filter.value}: still counting (gold is being read)")
        else:
            self._after(f"{matching} {self.session.filter.counted(matching)}")

    @held_while_busy
    def action_scroll_item(self, lines: int) -> None:
        """Read on (or back) through the parts of the item that are cut."""
        assert self.session is not None
        moved = self.view.item.scroll_item(lines)
        self._outcome = "" if moved else ("nothing more below" if lines > 0 else "nothing more above")
        self.view.draw_status(self.session, outcome=self._outcome, progress=self._activity)

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
        self.view.editor(field.name).open(session.draft[field.name], select_all=select_all)
        self.view.fit()
        self.refresh_bindings()

    def action_leave_editing(self) -> None:
        """Give the keyboard back to the pane."""
        self.screen.set_focus(self)

    def sync_texts(self) -> None:
        """Take the editors' text into the draft (a typed key's change may still be on its way as a message)."""
        session = self.session
        if session is None or self._editing_at != session.position:
            return
        for field in self.schema.texts:
            text = self.view.editor(field.name).text
            if text != session.draft[field.name]:
                session.set_value(field.name, text)

    def _close_editors(self) -> None:
        for editor in self.query(TextEditor):
            editor.closed = True
            editor.display = False
        self._editing_at = None

    @on(TextEditor.Closed)
    def _editor_closed(self, message: TextEditor.Closed) -> None:
        self.sync_texts()
        self.refresh_bindings()
        self.redraw()

    @on(TextArea.Changed)
    def _text_edited(self, event: TextArea.Changed) -> None:
        session = self.session
        if session is None or not isinstance(event.text_area, TextEditor) or self._editing_at != session.position:
            return
        session.set_value(event.text_area.field_name, event.text_area.text)  # the controls show no text field
        self._draw_status()
        self.view.fit()

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
        if not session.gold.complete:  # checked against all of gold once it is read, then approved in turn
            self.keys.start("gold")
            self.keys.hold("approve")
            self._outcome = "reading gold… approves once it is read"
            self._draw_status()
            return
        try:
            plan = session.request_approval()
        except ConfirmApproval:
            self._after("Enter again to approve", moved=False)
            return
        except ReviewError as exc:
            self._notify(str(exc), severity="error")
            return
        self._start_writing("approve")
        self.query_one(GoldWrites).approve(session.writer, plan)

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
        self._start_writing("undo")
        self.query_one(GoldWrites).undo(session.writer, approval, session.items[approval.index].formatted_input)

    def _start_writing(self, work: str) -> None:
        """An approval's or undo's disk work begins in a thread: keys typed meanwhile wait for it."""
        assert self.session is not None
        self.keys.start(work)
        self._outcome = "saving…" if work == "approve" else "undoing…"
        self.view.draw_status(self.session, outcome=self._outcome, progress=self._activity)

    @on(GoldWrites.Written)
    def _written(self, message: GoldWrites.Written) -> None:
        """Show what the write did, now that it is on disk, then run the keys typed meanwhile."""
        assert self.session is not None
        self.keys.finish()
        self._undoing = None
        if isinstance(message.result, ApprovalWritten):
            self._show_approval(message.result)
        else:
            self.session.finish_undo(message.result)
            self._after("approval undone")
        self._replay()

    def _show_approval(self, written: ApprovalWritten) -> None:
        assert self.session is not None
        try:
            note = self.session.finish_approval(written)
        except GoldChanged as exc:
            self._notify(str(exc), severity="warning", timeout=10)
            self._after("not saved: approved elsewhere", moved=False)
        else:
            self._after("saved ✓" + (f" · {note}" if note else ""))

    @on(GoldWrites.Failed)
    def _write_failed(self, event: GoldWrites.Failed) -> None:
        """Nothing was written: say so once, keep the edit on screen, and drop the keys typed for what it would
        have shown next."""
        group, message = event.work, event.message
        if group == "undo" and self._undoing is not None and self.session is not None:
            self.session.restore_undo(self._undoing)
        self._undoing = None
        dropped = len(self.keys)
        self.keys = HeldKeys()
        if dropped:
            message += f" ({dropped} key{'s' * (dropped > 1)} typed meanwhile not applied)"
        self._after("not saved" if group == "approve" else "not undone", moved=False)
        self._notify(message, severity="error", timeout=15)

    def _replay(self) -> None:
        """Run the keys typed while busy, in order, as they apply now; stop when one makes the pane busy again."""
        for name, params in self.keys.replay():
            if self.check_action(name, params):
                getattr(self, f"action_{name}")(*params)

    # Saving the position

    def flush_checkpoint(self) -> None:
        """Write the position now, from a worker (when the reviewer switches tabs)."""
        self.positions.flush()

    def save_checkpoint(self) -> None:
        """Save where this tab is, now and on this thread (on quit); a failure is a notification, never a crash."""
        self.positions.save_now()
