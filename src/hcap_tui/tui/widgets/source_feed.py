"""Where a review tab's items come from: its source read into a session in a thread, then lines appended later.

`SourceFeed` is a widget with nothing to show, owned by a review pane. Its workers read the file
(`review.reader`); on the main thread it builds the tab's `ReviewSession` from what they read and tells the
pane how far it got (`Progress`), that items arrived (`Fed`) or why there are none (`Unavailable`). Every two
seconds it looks for lines another command (`hcap predict`, `hcap label`) appended, or for the file itself
while it is missing; a file replaced meanwhile is read again, keeping the tab's place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from textual import on, work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from hcap_tui.errors import HcapError
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
from hcap_tui.safe_text import safe
from hcap_tui.store import Checkpoint, FileMark, Store, Tail

POLL_EVERY = 2.0  # seconds between looks for lines another command appended to the source


class SourceFeed(Widget):
    """Reads a source into the tab's session, then its new lines; tells the owning pane what changed."""

    DEFAULT_CSS = "SourceFeed { display: none; }"

    @dataclass
    class Progress(Message):
        """Reading `name`: `lines_read` of `total` lines so far (before the first chunk, 0)."""

        name: str
        lines_read: int
        total: int

    @dataclass
    class Fed(Message):
        """Items arrived in the session; `became_ready` when the first item to show is now known."""

        became_ready: bool

    @dataclass
    class Unavailable(Message):
        """There is nothing to review, and why; `command` fills the file, when one does."""

        problem: str
        command: str | None

    @dataclass
    class RawRead(Message):
        """What the loader thread read, for the feed itself."""

        event: ReadEvent

    @dataclass
    class RawTail(Message):
        """What the look for new lines found, for the feed itself."""

        tail: Tail | None

    def __init__(self, store: Store, source: ReviewSource, reviewer: str, idle: Callable[[], bool], **kw: Any) -> None:
        super().__init__(**kw)
        self.store, self.source, self.reviewer = store, source, reviewer
        self.idle = idle
        """Whether the session can take new lines now (no approval or undo is being written)."""
        self.session: ReviewSession | None = None
        self.gold: GoldBook | None = None
        self._mark: FileMark | None = None  # where lines not yet read start
        self._missing = False
        self._polling = False

    @property
    def file_name(self) -> str:
        return self.source.path(self.store.paths).name

    def start(self, gold: GoldBook, checkpoint: Checkpoint | None = None) -> None:
        """Read the source from the start; `checkpoint` replaces the saved one (a reread keeps its place)."""
        self.gold, self._mark = gold, None
        self._read(checkpoint)
        if not self._polling:
            self._polling = True
            self.set_interval(POLL_EVERY, self.poll)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _read(self, checkpoint: Checkpoint | None) -> None:
        """Read the source in a thread, posting each event; stop when the worker is cancelled."""
        worker = get_current_worker()
        for event in read_source(self.store, self.source, self.gold):
            if worker.is_cancelled:
                return
            if isinstance(event, Started) and checkpoint is not None:
                event = replace(event, checkpoint=checkpoint, notice=None)
            self.post_message(self.RawRead(event))

    @on(RawRead)
    def _take(self, message: RawRead) -> None:
        """Build the session from what the loader read, on the main thread."""
        message.stop()
        event, command = message.event, self.source.fill_command_for(self.store.paths)
        if isinstance(event, Missing):
            self._missing = True
            self.post_message(self.Unavailable(f"{self.file_name} does not exist yet.", command))
        elif isinstance(event, Started):
            assert self.gold is not None
            self.session = ReviewSession(self.store, self.source, self.gold, self.reviewer, event.checkpoint)
            self.session.expect_waiting(event.waiting)
            if event.notice:
                self._tell(event.notice)
            self.post_message(self.Progress(self.file_name, 0, event.total_lines))
        elif isinstance(event, Chunk):
            assert self.session is not None
            self.post_message(self.Progress(self.file_name, event.lines_read, 0))
            self.post_message(self.Fed(self.session.extend(event.items)))
        elif isinstance(event, Finished):
            assert self.session is not None
            self._mark = event.mark
            summary = summarize_problems(event.problems)
            if summary:
                self._tell(summary, title="Some lines were skipped", timeout=10)
            became_ready = self.session.finish_loading()
            if self.session.empty:
                self.post_message(self.Unavailable(f"{self.file_name} has no usable items.", command))
            else:
                self.post_message(self.Fed(became_ready))

    def poll(self) -> None:
        """Look for lines appended to the source (or for the file, while it is missing); the timer calls this."""
        if self._missing:
            if self.source.path(self.store.paths).is_file() and self.gold is not None:
                self._missing = False
                self.start(self.gold)
        elif self._mark is not None and self.session is not None and self.idle():
            self._read_tail(self._mark)

    @work(thread=True, exclusive=True, exit_on_error=False, group="tail")
    def _read_tail(self, mark: FileMark) -> None:
        self.post_message(self.RawTail(read_appended(self.store, self.source, mark)))

    @on(RawTail)
    def _take_appended(self, message: RawTail) -> None:
        """Add appended items to the session; a replaced file is read again from the start, keeping the place."""
        message.stop()
        session, tail = self.session, message.tail
        if session is None or self.gold is None:
            return
        if tail is None:
            self._tell(f"{self.file_name} was replaced: reading it again")
            self.start(self.gold, session.checkpoint())
            return
        self._mark = tail.mark
        if tail.skipped:
            self._tell(f"{self.file_name}: {tail.skipped} unreadable new line(s) skipped; `hcap check` says why")
        if tail.items:
            was_empty = session.empty
            self.post_message(self.Fed(session.extend(tail.items) or was_empty))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A source that cannot be read leaves the tab saying why; a failed look for new lines is a warning."""
        if event.state is WorkerState.ERROR:
            event.stop()
            error = event.worker.error
            problem = str(error) if isinstance(error, HcapError) else f"cannot read {self.file_name}: {error!r}"
            if event.worker.group == "load":
                self.post_message(self.Unavailable(problem, None))
            self._tell(problem, severity="error" if event.worker.group == "load" else "warning")

    def _tell(self, text: str, **options: Any) -> None:
        options.setdefault("severity", "warning")
        self.notify(safe(text), markup=False, **options)
