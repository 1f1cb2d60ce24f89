"""Ctrl-C stops a labeller's blocking call at once, whichever thread of the process the system hands it to."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from hcap_tui.models.blocking_loop import BlockingLoop


@pytest.fixture
def ctrl_c_interrupts() -> Iterator[None]:
    """Ctrl-C raising KeyboardInterrupt, as in a terminal, even when the suite was started with SIGINT ignored."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("Python runs signal handlers in the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_interrupts")
def test_ctrl_c_reaching_another_thread_cancels_the_running_call_at_once() -> None:
    loop = BlockingLoop()
    cancelled: list[bool] = []

    async def waiting_on_a_slow_model() -> str:
        clock = asyncio.get_running_loop().time
        answer_due = clock() + 30
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(clock() < answer_due - 20)  # long before the answer was due, not once it came
            raise
        return "finished"

    def ctrl_c_to_this_thread() -> None:
        time.sleep(0.2)  # the call is waiting by now
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    other = threading.Thread(target=ctrl_c_to_this_thread)
    other.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            loop.run(waiting_on_a_slow_model())
        assert cancelled == [True]
        assert loop.run(asyncio.sleep(0, "again")) == "again"  # the loop goes on serving calls
    finally:
        other.join()
        loop.close()
    assert signal.set_wakeup_fd(-1) == -1  # the process's wakeup descriptor is as it was
