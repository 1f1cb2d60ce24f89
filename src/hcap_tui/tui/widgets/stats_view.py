"""The Stats tab: where the loop stands, the figures of `hcap stats`, counted off the main thread.

Counting reads the project's files, so it runs in a thread worker and only when the tab is shown:
the first time, and again whenever a counted file changed since the last count (an approval or undo
on a review tab, or `hcap label` / `hcap predict` writing alongside). Sizes and modification times
tell, for the price of four `stat` calls, so switching tabs stays instant and an unchanged project
is never recounted. comments.csv, by far the slowest file to count and one review never changes, is
counted again only when it did change. While a recount runs, the previous figures stay up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.stats import Stats, compute_stats
from hcap_tui.stats_tables import stats_renderable

FileState = tuple[tuple[int, int] | None, ...]
"""(size, mtime) of comments.csv, labeled, predictions and gold, in that order; None for a missing file."""


class StatsView(ScrollableContainer, can_focus=True):
    """The figures as tables at their natural width, scrolling both ways, under a line shown while counting."""

    DEFAULT_CSS = """
    StatsView {
        height: 1fr;
        padding: 0 1;
        overflow: auto auto;
        #stats-note { color: $text-muted; text-style: italic; display: none; }
        #stats-note.-shown { display: block; }
        #stats-figures { width: auto; }
    }
    """

    @dataclass
    class Counted(Message):
        """A count finished (posted from the worker's thread), for the files as they were when it began."""

        stats: Stats
        files: FileState

    def __init__(self, project: Project, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project
        self._stats: Stats | None = None  # the figures on screen
        self._counted: FileState | None = None  # the files as those figures saw them
        self._requested: FileState | None = None  # the files as the latest count began to see them

    def compose(self) -> ComposeResult:
        yield Static(id="stats-note", markup=False)
        yield Static(id="stats-figures")

    def shown(self) -> None:
        """The tab came into view: count, unless the figures on screen (or a count under way) are current."""
        files = self._file_state()
        if files in (self._counted, self._requested):
            return
        self._requested = files
        self._count(files, self._known_comment_counts(files))
        self._note("Counting…" if self._stats is None else "Recounting: the files changed…")

    def _known_comment_counts(self, files: FileState) -> tuple[int, int] | None:
        """comments.csv's (rows, eligible rows) from the figures on screen, if the file is as they saw it."""
        stats, counted = self._stats, self._counted
        if stats is None or counted is None or files[0] != counted[0]:
            return None
        if stats.comment_rows is None or stats.eligible_comments is None:
            return None  # it could not be read: try again, so the problem is reported again
        return stats.comment_rows, stats.eligible_comments

    def _file_state(self) -> FileState:
        """Size and modification time of every file the figures come from."""
        paths = self.project.paths
        states = []
        for path in (paths.comments, paths.labeled, paths.predictions, paths.gold):
            try:
                stat = path.stat()
            except OSError:
                states.append(None)
            else:
                states.append((stat.st_size, stat.st_mtime_ns))
        return tuple(states)

    @work(thread=True, exclusive=True, exit_on_error=False, group="stats")
    def _count(self, files: FileState, comment_counts: tuple[int, int] | None) -> None:
        """Count in a thread and post the figures; starting another count leaves this one's unshown."""
        self.post_message(self.Counted(compute_stats(self.project, comment_counts=comment_counts), files))

    @on(Counted)
    def _show(self, message: Counted) -> None:
        """Put the latest count's figures on screen."""
        if message.files != self._requested:
            return  # an older count finishing after a newer one began
        self._stats, self._counted = message.stats, message.files
        self._note(None)
        self.query_one("#stats-figures", Static).update(stats_renderable(message.stats))

    def _note(self, note: str | Text | None) -> None:
        """Say what the tab is doing above the figures, or (None) nothing: they are current."""
        line = self.query_one("#stats-note", Static)
        line.set_class(note is not None, "-shown")
        line.update(note or "")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A file that cannot be read leaves the tab saying why, and the next visit tries again."""
        if event.state is WorkerState.ERROR and event.worker.group == "stats":
            error = event.worker.error
            problem = str(error) if isinstance(error, HcapError) else f"cannot count: {error!r}"
            self._requested = None
            self._note(Text(problem, style="bold red"))
            self.notify(problem, severity="error", timeout=10, markup=False)
