"""Training progress for people: a bar with steps, loss and time left, or plain lines when not on a terminal.

`StepReporter` knows nothing of transformers: the trainer callback in `train.loop` feeds it steps and
losses, so it is tested without torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


def duration(seconds: float) -> str:
    """A short human duration: `45 s`, `12 min`, `3.5 h`."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class StepReporter:
    """Shows training steps as they finish: a live bar on a terminal, a line every tenth of the run otherwise."""

    def __init__(self, console: Console, total_steps: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.total = total_steps
        self.clock = clock
        self.loss: float | None = None
        self.step = 0
        self._started = clock()
        self._next_line = 0
        self._progress: Progress | None = None
        self._task = None

    def start(self) -> None:
        """Begin showing progress (the bar, on a terminal)."""
        self._started = self.clock()
        if self.console.is_terminal:
            self._progress = Progress(
                TextColumn("training"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("steps  loss {task.fields[loss]}"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=self.console,
            )
            self._task = self._progress.add_task("train", total=self.total, loss="…")
            self._progress.start()

    def update(self, step: int, loss: float | None = None) -> None:
        """Record that `step` steps are done, with the latest training loss when one was logged."""
        self.step = step
        if loss is not None:
            self.loss = loss
        shown = "…" if self.loss is None else f"{self.loss:.3f}"
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, completed=step, loss=shown)
        elif step >= self._next_line or step >= self.total:
            self.console.print(self.line(), markup=False, highlight=False, soft_wrap=True)
            self._next_line = step + max(1, self.total // 10)

    def line(self) -> str:
        """`step 10/20  loss 1.234  elapsed 12 s  left 12 s`."""
        elapsed = self.clock() - self._started
        left = elapsed / self.step * (self.total - self.step) if self.step else None
        loss = "…" if self.loss is None else f"{self.loss:.3f}"
        remaining = "…" if left is None else duration(left)
        return f"step {self.step}/{self.total}  loss {loss}  elapsed {duration(elapsed)}  left {remaining}"

    def stop(self) -> None:
        """Stop the live bar (leaving its last state on screen)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
