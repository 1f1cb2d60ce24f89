"""Holding off Python's cycle collector while large, cycle-free data is loaded or scored.

Reading 100,000 JSONL records or scoring as many labels builds containers that all stay alive, so the
generational collector rescans the growing heap again and again (up to half the time at that size).
Records and labels hold no reference cycles, so reference counting alone frees them. Only wrap code that
builds such data: never model calls, user callbacks or generators that hand control to their caller.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # paused sections running now, in any thread
_resume = False  # whether the collector was running when the outermost section began


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector for the duration of the block (also usable as a decorator).

    Sections nest and may run in several threads at once: the collector resumes when the last one ends,
    and only if it was running when the first one began.
    """
    global _depth, _resume
    with _lock:
        if _depth == 0:
            _resume = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _resume:
                gc.enable()
