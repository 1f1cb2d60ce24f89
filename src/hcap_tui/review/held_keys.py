"""Keys typed while a review tab is busy writing, held and replayed in the order they were typed.

Approve and undo write in a worker thread so the screen never freezes on a slow disk; meanwhile the
reviewer keeps typing (over SSH keys arrive in bursts), and those keys must act on what the write leaves on
screen, in order: `3 Enter 1 Enter` approves two items, `u u u` takes three approvals back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

HeldKey = tuple[str, tuple[Any, ...]]
"""An action name and its parameters, as a key binding gives them."""


class HeldKeys:
    """A queue of actions typed while busy; `busy` names the work under way (None: idle)."""

    def __init__(self) -> None:
        self.busy: str | None = None
        self._queue: deque[HeldKey] = deque()

    def hold(self, action: str, params: tuple[Any, ...] = ()) -> bool:
        """Hold an action if busy (True); when idle it is the caller's to run at once (False)."""
        if self.busy is None:
            return False
        self._queue.append((action, params))
        return True

    def start(self, work: str) -> None:
        """Work began (an approval or undo being written): from now on keys are held."""
        self.busy = work

    def finish(self) -> None:
        """The work is done: keys run at once again, once the held ones are replayed."""
        self.busy = None

    def replay(self) -> Iterator[HeldKey]:
        """The held actions in the order typed, stopping as soon as one of them makes the tab busy again."""
        while self._queue and self.busy is None:
            yield self._queue.popleft()

    def __len__(self) -> int:
        return len(self._queue)
