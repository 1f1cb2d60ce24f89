"""The event loop behind a labeller's blocking calls, woken by Ctrl-C whichever thread the system hands it to.

`asyncio.Runner` turns Ctrl-C into the cancellation of the coroutine it runs, but only once Python runs its
signal handler, which happens in the main thread. When the system delivers SIGINT to another thread of the
process (the thread that appends results, a progress bar's refresh thread), the main thread sleeps on in
`select()` until the next network event: a run waiting on a slow model ignored Ctrl-C for as long as the model
took. A wakeup descriptor the loop watches (`signal.set_wakeup_fd`) makes every signal wake the loop at once,
and the handler then runs.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class BlockingLoop:
    """An `asyncio.Runner` whose loop also wakes when any signal arrives, while `run` runs in the main thread."""

    def __init__(self) -> None:
        self._runner = asyncio.Runner()
        self._wake, self._woken = socket.socketpair()  # the signal's byte is written to one, read from the other
        for end in (self._wake, self._woken):
            end.setblocking(False)
        self._runner.get_loop().add_reader(self._woken.fileno(), self._drain)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion; Ctrl-C cancels it (KeyboardInterrupt), whichever thread received it."""
        if threading.current_thread() is not threading.main_thread():
            return self._runner.run(coroutine)  # only the main thread receives Python's signal handlers
        previous = signal.set_wakeup_fd(self._wake.fileno(), warn_on_full_buffer=False)
        try:
            return self._runner.run(coroutine)
        finally:
            signal.set_wakeup_fd(previous)

    def _drain(self) -> None:
        """Read the bytes signals wrote: waking the loop was all they were for."""
        try:
            while self._woken.recv(512):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Close the loop and the wakeup sockets."""
        try:
            self._runner.get_loop().remove_reader(self._woken.fileno())
            self._runner.close()
        finally:
            self._wake.close()
            self._woken.close()
