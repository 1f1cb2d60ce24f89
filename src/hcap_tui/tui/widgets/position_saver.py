"""Saving where a review tab is, as `CheckpointThrottle` says, in a worker: moving never waits on a disk.

`PositionSaver` is a widget with nothing to show, owned by a review pane. A move asks it to save; it writes at
once or when the throttle's wait is up, and on a tab switch or quit at once. A disk that refuses is told to the
reviewer once, not on every move, until writing works again.
"""

from __future__ import annotations

from collections.abc import Callable

from textual import work
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from hcap_tui.errors import HcapError
from hcap_tui.review import throttle as throttle_settings
from hcap_tui.review.sources import ReviewSource
from hcap_tui.review.throttle import CheckpointThrottle
from hcap_tui.safe_text import safe
from hcap_tui.store import Checkpoint, Store


class PositionSaver(Widget):
    """Throttled, final and failure-aware checkpoint writes of one review tab."""

    DEFAULT_CSS = "PositionSaver { display: none; }"

    def __init__(
        self, store: Store, source: ReviewSource, position: Callable[[], Checkpoint | None], **kwargs: object
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.store = store
        self.source = source
        self.position = position
        """Where the tab is now (None while there is no item)."""
        self.throttle = CheckpointThrottle(throttle_settings.CHECKPOINT_EVERY)
        self._timer: Timer | None = None

    @property
    def pending(self) -> bool:
        """Whether a move is waiting for its write (the wait is not up yet)."""
        return self.throttle.pending

    def moved(self) -> None:
        """The tab moved: write now, or once the throttle's wait is up."""
        wait = self.throttle.moved()
        if wait == 0:
            self.flush()
        elif wait is not None:
            self._timer = self.set_timer(wait, self.flush)

    def flush(self) -> None:
        """Write the position now, from a worker (on the timer, or when the reviewer switches tabs)."""
        self._stop_timer()
        self.throttle.written()
        checkpoint = self.position()
        if checkpoint is not None:
            self._write(checkpoint)

    @work(thread=True, exit_on_error=False, group="checkpoint")
    def _write(self, checkpoint: Checkpoint) -> None:
        self.store.write_checkpoint(self.source.name, checkpoint)

    def save_now(self) -> None:
        """Write the position now, on this thread (on quit); a failure is told, never raised."""
        self._stop_timer()
        checkpoint = self.position()
        if checkpoint is None:
            return
        try:
            self.store.write_checkpoint(self.source.name, checkpoint)
        except HcapError as exc:
            self._failed(str(exc))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.SUCCESS:
            self.throttle.succeeded()
        elif event.state is WorkerState.ERROR:
            error = event.worker.error
            self._failed(str(error) if isinstance(error, HcapError) else repr(error))

    def _failed(self, message: str) -> None:
        if self.throttle.failed(message):
            self.notify(safe(f"position not saved: {message}"), severity="error", timeout=10, markup=False)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
