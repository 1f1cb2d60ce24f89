"""Saving where a review pane is: at most every half second while moving, in a worker, and on quit.

`CheckpointWrites` is the part of `ReviewPane` that writes its position to the checkpoint file, so
moving never waits on a disk and a restarted review resumes at the same item.
"""

from __future__ import annotations

import time

from textual import work
from textual.timer import Timer
from textual.widget import Widget

from hcap_tui.errors import DataError
from hcap_tui.review_session import ReviewSession
from hcap_tui.review_sources import ReviewSource
from hcap_tui.store import Checkpoint, Store

CHECKPOINT_EVERY = 0.5  # seconds: the most often a tab's position is written while moving


class CheckpointWrites(Widget):
    """Throttled and final checkpoint writes of a review pane, which holds the attributes below."""

    store: Store
    source: ReviewSource
    session: ReviewSession | None
    _checkpoint_timer: Timer | None
    _checkpoint_written: float  # monotonic time of the last checkpoint write

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
        except DataError as exc:
            self.notify(str(exc), severity="error", markup=False)
