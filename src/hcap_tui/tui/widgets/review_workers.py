"""Approve and undo for a review pane, with their disk work in thread workers that only post messages.

`ApprovalWorkers` is the part of `ReviewPane` that writes gold. An approval is on disk (fsynced by the
store) before the next item is drawn; when gold was rewritten under this process it is read again in a
worker before the approval is retried. Undo (which may rewrite gold) says "undone" only once it is on
disk. While either works, `_busy` holds the item keys back (`held_while_busy`) and they run afterwards, in
the order they were typed, so a burst like `u u u` or `u 1 4` loses no key.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import on, work
from textual.message import Message
from textual.widget import Widget

from hcap_tui.errors import HcapError
from hcap_tui.review_errors import GoldChanged, GoldReplaced
from hcap_tui.review_session import ReviewSession, Undone
from hcap_tui.review_sources import GoldBook
from hcap_tui.store import Store


def held_while_busy(action: Callable[..., None]) -> Callable[..., None]:
    """Make an item key's action wait while an undo or a gold reload is under way, to run in turn after it."""

    @functools.wraps(action)
    def run(pane: ApprovalWorkers, *params: Any) -> None:
        if pane._busy:
            pane._held.append((action.__name__.removeprefix("action_"), params))
        else:
            action(pane, *params)

    return run


class ApprovalWorkers(Widget):
    """Approve, gold reload and undo of a review pane; a `Widget` base only so Textual registers its handlers.

    The pane that mixes it in holds the attributes below and redraws after each key (`_after`, `_draw_status`).
    """

    store: Store
    session: ReviewSession | None
    _busy: bool
    _held: deque[tuple[str, tuple[Any, ...]]]
    _outcome: str

    @dataclass
    class UndoWritten(Message):
        """An undo is on disk (posted from its worker's thread)."""

        undone: Undone

    @dataclass
    class GoldReloaded(Message):
        """Gold was read again in full, after it was rewritten under this process, to finish an approval."""

        gold: GoldBook

    @held_while_busy
    def action_approve(self) -> None:
        """Save the draft to gold and move on (Enter, even from a checkbox)."""
        session = self.session
        assert session is not None
        self._approved(session.position, session.approve)

    def _approved(self, before: int, approve: Callable[[], object]) -> None:
        """Run an approval and show its outcome: saved, refused, another reviewer's approval, or a reload."""
        session = self.session
        assert session is not None
        try:
            approve()
        except GoldReplaced as exc:
            self._busy = True
            self.refresh_bindings()
            self._after(str(exc), moved=False)
            self._reload_gold(before)
            return
        except GoldChanged as exc:
            self.notify(str(exc), severity="warning", timeout=10, markup=False)
            self._after("not saved: approved elsewhere", moved=False)
            return
        except HcapError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        last = " · that was the last item" if session.position == before else ""
        self._after(f"saved ✓{last}")

    @work(thread=True, exclusive=True, exit_on_error=False, group="reload")
    def _reload_gold(self, before: int) -> None:
        """Read gold again in full, in a thread, after it was rewritten under this process."""
        self.post_message(self.GoldReloaded(GoldBook.load(self.store)))

    @on(GoldReloaded)
    def _gold_reloaded(self, message: GoldReloaded) -> None:
        """Retry the approval against the gold just read."""
        session = self.session
        assert session is not None
        self._busy = False
        self.refresh_bindings()
        self._approved(session.position, lambda: session.approve_after_reload(message.gold))
        self._run_held()

    @held_while_busy
    def action_undo(self) -> None:
        """Take the last approval of this tab back out of gold and return to it."""
        assert self.session is not None
        try:
            approval = self.session.pop_undo()
        except HcapError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._busy = True
        self.refresh_bindings()
        self._outcome = "undoing…"
        self._draw_status()
        self._write_undo(approval)

    @work(thread=True, exit_on_error=False, group="undo")
    def _write_undo(self, approval: Any) -> None:
        """Take the approval out of the gold file, in a thread."""
        assert self.session is not None
        self.post_message(self.UndoWritten(self.session.write_undo(approval)))

    @on(UndoWritten)
    def _undo_written(self, message: UndoWritten) -> None:
        """Show the undo once it is on disk: the item again, with its values as a draft."""
        assert self.session is not None
        self._busy = False
        self.session.finish_undo(message.undone)
        self.refresh_bindings()
        self._after("approval undone")
        self._run_held()

    def _run_held(self) -> None:
        """Run the keys typed while busy, in order, as they apply now; stop when one makes the pane busy again."""
        while self._held and not self._busy:
            name, params = self._held.popleft()
            if self.check_action(name, params):
                getattr(self, f"action_{name}")(*params)
