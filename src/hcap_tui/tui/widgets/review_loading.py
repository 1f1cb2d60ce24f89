"""Reading a review pane's source: a thread worker posts what it read, the main thread feeds the session.

`SourceLoading` is the part of `ReviewPane` that fills its `ReviewSession`. The loader only posts
messages; their handler shows the first item as soon as the resume target has arrived, while the rest
of the file keeps loading, or explains in the pane why there is nothing to review.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher
from textual.worker import get_current_worker

from hcap_tui.review_session import ReviewSession
from hcap_tui.review_sources import GoldBook, ReviewSource
from hcap_tui.store import Store
from hcap_tui.tui.source_reader import Chunk, Finished, Missing, ReadEvent, Started, read_source, summarize_problems
from hcap_tui.tui.widgets.placeholders import EmptyState, LoadProgress


class SourceLoading(Widget):
    """Loading and empty states of a review pane; a `Widget` base only so Textual registers its handlers.

    The pane that mixes it in holds the attributes below and draws the item (`_draw`, `_draw_status`).
    """

    store: Store
    source: ReviewSource
    reviewer: str
    session: ReviewSession | None
    gold: GoldBook | None
    _total_lines: int
    _progress: str
    _could_order: bool

    @dataclass
    class Read(Message):
        """Something the loader read (posted from its thread, handled on the main thread)."""

        event: ReadEvent

    def start(self, gold: GoldBook) -> None:
        """Begin reading the source, now that gold (which every item is checked against) is known."""
        self.gold = gold
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load(self) -> None:
        """Read the source in a thread, posting each event; stop when the worker is cancelled."""
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
            self._show_empty(f"{name} does not exist yet.", self.source.fill_command_for(self.store.paths))
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
                self._show_empty(f"{name} has no usable items.", self.source.fill_command_for(self.store.paths))
            else:
                self._settle(became_ready)

    def _settle(self, became_ready: bool) -> None:
        """Show the review the moment the session became ready, else keep the status current."""
        if became_ready:
            self._show_review()
        elif self.session is not None and self.session.ready and not self.session.empty:
            self._draw_status()

    def show_problem(self, problem: str) -> None:
        """Give up on this tab with a reason (also used when gold itself cannot be read)."""
        self._show_empty(problem, None)
        self.notify(problem, severity="error", timeout=10, markup=False)

    def _show_empty(self, problem: str, command: str | None) -> None:
        """Show why there is nothing to review, and the command that would fill the file."""
        self.query_one(EmptyState).explain(problem, command)
        self.query_one(ContentSwitcher).current = "empty"
        self.refresh_bindings()

    def _show_review(self) -> None:
        """Switch from the loading progress to the item."""
        self.query_one(ContentSwitcher).current = "review"
        self._draw()
        self.refresh_bindings()
