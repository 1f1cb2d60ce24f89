"""Ranking the teacher's labels most suspect first off the UI thread: triage in a worker, its outcome as a message.

`SuspectRanker` is a widget with nothing to show, owned by the teacher's review pane. Training the student takes
seconds for a thousand labels and minutes for a hundred thousand, so it runs in a thread worker while every key
keeps working; once a second it posts `Ticked` so the pane can show that it is still ranking. It posts `Ranked`
with the ranking, or `Failed` with one line saying why there is none. Calling it off (`stop`) cancels the
worker, which triage notices between its steps, so neither a second `o` nor quitting waits for it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from textual import work
from textual.message import Message
from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker, WorkerState, get_current_worker

from hcap_tui.errors import HcapError
from hcap_tui.review.suspects import SuspectRanking, rank_for_review
from hcap_tui.store import Store
from hcap_tui.triage import TriageStopped


class SuspectRanker(Widget):
    """Runs one triage ranking at a time in a thread; posts `Ticked`, then `Ranked` or `Failed`, to the pane."""

    DEFAULT_CSS = "SuspectRanker { display: none; }"

    @dataclass
    class Ticked(Message):
        """Still ranking, `seconds` after it began."""

        seconds: int

    @dataclass
    class Ranked(Message):
        """The ranking is ready."""

        ranking: SuspectRanking

    @dataclass
    class Failed(Message):
        """No ranking: `message` is the one line saying why."""

        message: str

    def __init__(self, store: Store, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = store
        self._started = 0.0
        self._timer: Timer | None = None

    @property
    def running(self) -> bool:
        """Whether a ranking is under way."""
        return self._timer is not None

    def rank(self, items_seen: int) -> None:
        """Start ranking the teacher's labels (the tab holds `items_seen` items now)."""
        self._stop_timer()
        self._started = time.monotonic()
        self._timer = self.set_interval(1.0, self._tick)
        self._work(items_seen)

    def stop(self) -> None:
        """Call the ranking off: its worker ends at triage's next step and nothing is posted."""
        self._stop_timer()
        self.workers.cancel_group(self, "rank")

    @work(thread=True, exclusive=True, exit_on_error=False, group="rank")
    def _work(self, items_seen: int) -> SuspectRanking:
        worker = get_current_worker()
        return rank_for_review(self.store, items_seen, stop=lambda: worker.is_cancelled)

    def _tick(self) -> None:
        self.post_message(self.Ticked(int(time.monotonic() - self._started)))

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker: Worker[Any] = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        event.stop()
        if worker.is_cancelled:
            return  # called off: the pane already moved on
        self._stop_timer()
        if event.state is WorkerState.SUCCESS:
            self.post_message(self.Ranked(worker.result))
            return
        error = worker.error
        if isinstance(error, TriageStopped):
            return
        message = str(error) if isinstance(error, HcapError) else f"ranking failed: {error!r}"
        self.post_message(self.Failed(message))
