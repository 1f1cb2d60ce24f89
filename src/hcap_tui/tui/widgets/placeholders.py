"""What a review tab shows before it has an item: the loading progress, or the command that fills it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import LoadingIndicator, ProgressBar, Static


class LoadProgress(Vertical):
    """A spinner, what is being read, and how far through the file the reading is."""

    DEFAULT_CSS = """
    LoadProgress {
        align: center middle;
        LoadingIndicator { height: 3; }
        #load-label { width: 100%; content-align: center middle; }
    }
    """

    def compose(self) -> ComposeResult:
        yield LoadingIndicator()
        yield Static("Reading goldstandard.jsonl…", id="load-label", markup=False)
        with Center():
            yield ProgressBar(show_eta=False, id="load-bar")

    def reading(self, name: str, total_lines: int | None) -> None:
        """Say which file is being read; `total_lines` sizes the bar (None: unknown)."""
        self.query_one("#load-label", Static).update(f"Reading {name}…")
        self.query_one(ProgressBar).update(total=total_lines, progress=0)

    def advance_to(self, lines: int) -> None:
        """Move the bar to the number of lines read so far."""
        self.query_one(ProgressBar).update(progress=lines)


class EmptyState(Static):
    """Why a tab has nothing to review and the command that gives it something."""

    DEFAULT_CSS = """
    EmptyState {
        width: 100%;
        height: 100%;
        content-align: center middle;
        text-align: center;
        padding: 1 2;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)

    def explain(self, problem: str, command: str | None) -> None:
        """Show the problem and, when there is one, the command to run."""
        text = Text(problem, style="bold")
        if command:
            text.append("\n\nTo fill it, run:\n\n")
            text.append(f"  {command}  ", style="bold reverse")
            text.append("\n\nthen open this review again.")
        self.update(text)
