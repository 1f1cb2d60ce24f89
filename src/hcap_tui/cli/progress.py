"""The progress bar of a command that labels items (`hcap predict`, `hcap apply`): done of total, items per
second, time spent and time left, on stderr. Imported when the command runs, since it loads Rich."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second so far."""

    def render(self, task: Task) -> Text:
        """The rate, or a dash before the first item."""
        return Text("-   items/s" if not task.speed else f"{task.speed:.1f} items/s", style="progress.data.speed")


def items_progress() -> Progress:
    """A progress bar on stderr for a run over items; the task's description says what is being done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
    )
