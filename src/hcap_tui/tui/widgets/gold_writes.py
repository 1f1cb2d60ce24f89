"""Approve and undo off the UI thread: the writer's calls run in a worker, and their outcome comes back as a message.

`GoldWrites` is a widget with nothing to show, owned by a review pane. It runs one `GoldWriter` call at a time in
a thread and tells the pane what it did (`Written`) or, when the disk refused, that nothing was written
(`Failed`, with one line naming the file and the problem). The pane holds the keys typed meanwhile.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from hcap_tui.errors import HcapError
from hcap_tui.review.writer import Approval, ApprovalPlan, ApprovalWritten, GoldWriter, UndoWritten


class GoldWrites(Widget):
    """Runs approvals and undos in a worker thread; posts `Written` or `Failed` to the pane."""

    DEFAULT_CSS = "GoldWrites { display: none; }"

    @dataclass
    class Written(Message):
        """The write is done: what the writer found and did."""

        result: ApprovalWritten | UndoWritten

    @dataclass
    class Failed(Message):
        """Nothing was written (`work` is "approve" or "undo"); `message` is the one line to show."""

        work: str
        message: str

    def approve(self, writer: GoldWriter, plan: ApprovalPlan) -> None:
        """Append an approval, under gold's lock, in a thread."""
        self.run_worker(functools.partial(writer.approve, plan), thread=True, group="approve", exit_on_error=False)

    def undo(self, writer: GoldWriter, approval: Approval, formatted_input: str) -> None:
        """Take an approval out of gold, in a thread."""
        work = functools.partial(writer.undo, approval, formatted_input)
        self.run_worker(work, thread=True, group="undo", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker: Worker[Any] = event.worker
        if event.state is WorkerState.SUCCESS:
            event.stop()
            self.post_message(self.Written(worker.result))
        elif event.state is WorkerState.ERROR:
            event.stop()
            error = worker.error
            message = str(error) if isinstance(error, HcapError) else f"{worker.group} failed: {error!r}"
            self.post_message(self.Failed(worker.group, message))
