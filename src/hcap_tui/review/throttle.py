"""How often a review tab writes where it is: at once, or when a short wait is up, never more than once per wait.

Moving through items must never wait on a disk, yet a restarted review should resume at the item the reviewer
left. `CheckpointThrottle` decides when a move is written: at once when the last write is long enough ago,
otherwise once the wait is up (a single write then saves the latest position, however many moves came
between). It also keeps a failing disk from repeating the same error on every move. The clock is injectable,
so all of this is tested without waiting.
"""

from __future__ import annotations

import time
from collections.abc import Callable

CHECKPOINT_EVERY = 0.5  # seconds: the most often a tab's position is written while moving


class CheckpointThrottle:
    """When to write a moved position; and whether a write failure is news worth telling the reviewer."""

    def __init__(self, every: float = CHECKPOINT_EVERY, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self.pending = False
        """A write is scheduled for when the wait is up; later moves ride on it."""
        self._last: float | None = None
        self._failure: str | None = None

    def moved(self) -> float | None:
        """The position moved: seconds to wait before writing (0: write now), or None when a write is already
        scheduled. A positive wait schedules one; call `written` when it (or an immediate write) happens."""
        if self.pending:
            return None
        wait = 0.0 if self._last is None else self._last + self.every - self.clock()
        if wait <= 0:
            return 0.0
        self.pending = True
        return wait

    def written(self) -> None:
        """A write was started now (scheduled or immediate)."""
        self.pending = False
        self._last = self.clock()

    def failed(self, message: str) -> bool:
        """A write failed with `message`: True when the reviewer should be told (not the same failure again)."""
        news = message != self._failure
        self._failure = message
        return news

    def succeeded(self) -> None:
        """A write worked: the next failure is news again."""
        self._failure = None
