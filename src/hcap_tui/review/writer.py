"""The disk work of approve and undo: plain calls a worker thread runs while the screen keeps answering keys.

An approval is decided under gold's writer lock: what other reviewers appended since the reviewer's view
of gold was read is read under that same lock hold, and only when the item's gold entry is still what the
reviewer was shown is the approval appended, before the lock is let go. So two reviewers approving the same
item can never replace each other's line unseen. The writer only reads and writes files; it reports what it
found (`ApprovalWritten`, `UndoWritten`) and the session, on the UI thread, applies that to what it shows.

Any failure to read or write (disk full, permissions, an I/O error) is a `WriteFailed` naming the file and
the problem: the approval or undo did not happen, and the caller keeps the reviewer's edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hcap_tui.errors import HcapError
from hcap_tui.jsonl import Appended
from hcap_tui.review.errors import ReviewError, WriteFailed
from hcap_tui.review.sources import GoldBook
from hcap_tui.store import FileMark, GoldIndex, LabeledItem, Store, Tail


@dataclass(frozen=True)
class ApprovalPlan:
    """An approval as decided on screen: the gold line to append, the item's place, the draft it came from,
    what the reviewer was shown of the item's gold entry (`shown_gold`; None: not in gold), and how far that view
    of gold had read."""

    record: dict[str, Any]
    index: int
    draft: dict[str, Any]
    shown: ShownGold | None
    mark: FileMark | None

    @property
    def formatted_input(self) -> str:
        return str(self.record["formatted_input"])


@dataclass(frozen=True)
class ApprovalWritten:
    """What the writer found and did: the receipt (None when the item's gold changed since it was shown, and
    nothing was written), the item's gold entry it found, and gold as read under the lock: the lines appended
    since the plan's mark (`tail`) or, when gold was rewritten meanwhile, all of it (`full`, `full_mark`)."""

    plan: ApprovalPlan
    receipt: Appended | None
    found: LabeledItem | None
    tail: Tail | None = None
    full: GoldIndex | None = None
    full_mark: FileMark | None = None


@dataclass(frozen=True)
class Approval:
    """An approval this session can undo: the append's receipt, the item's place and the approved values."""

    receipt: Appended
    index: int
    draft: dict[str, Any]


@dataclass(frozen=True)
class UndoWritten:
    """What taking an approval out of gold left: the file's inode now, and the item's gold entry now."""

    approval: Approval
    inode: int
    gold: LabeledItem | None


class GoldWriter:
    """Approve and undo against the gold file, safe to call from a worker thread (it touches no session state)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def approve(self, plan: ApprovalPlan) -> ApprovalWritten:
        """Append the plan's line, unless the item's gold entry changed since it was shown; both under one lock."""
        store, key = self.store, plan.formatted_input
        with self._failures_as(WriteFailed, "not saved (your edit is kept)"), store.gold_locked():
            tail = store.gold_since(plan.mark)
            if tail is None:  # rewritten under us (compacted, an undo elsewhere): only a full read will do
                full, full_mark = GoldBook.read_all(store), store.gold_mark()
                found = full.by_input.get(key)
                changed = shown_gold(found) != plan.shown
            else:
                full = full_mark = None
                found = next((item for item in reversed(tail.items) if item.formatted_input == key), None)
                changed = found is not None and shown_gold(found) != plan.shown
            receipt = None if changed else store.approve_locked(plan.record)
        return ApprovalWritten(plan, receipt, found, tail, full, full_mark)

    def undo(self, approval: Approval, formatted_input: str) -> UndoWritten:
        """Take an approval's line out of gold and read what gold holds for the item afterwards."""
        with self._failures_as(ReviewError, "nothing undone"):
            inode = self.store.undo(approval.receipt)
        if inode is None:
            raise ReviewError("that approval is no longer in goldstandard.jsonl (edited by hand?); nothing undone")
        try:
            gold = self.store.gold_item(formatted_input)
        except HcapError:
            gold = None  # undone on disk all the same; an unreadable gold shows as "not in gold"
        return UndoWritten(approval, inode, gold)

    @contextmanager
    def _failures_as(self, kind: type[ReviewError], outcome: str) -> Iterator[None]:
        """Turn a failure to read or write gold inside the block into one line of `kind`: the outcome, the file and
        the problem (refusals of the review itself pass as they are)."""
        try:
            yield
        except ReviewError:
            raise
        except OSError as exc:
            path = exc.filename or self.store.paths.gold
            raise kind(f"{outcome}: cannot write {path}: {exc.strerror or exc}") from None
        except HcapError as exc:
            raise kind(f"{outcome}: {exc}") from None


ShownGold = tuple[dict[str, Any] | None, Any, Any]


def shown_gold(item: LabeledItem | None) -> ShownGold | None:
    """What the screen shows of a gold entry: its label, who approved it and when (two entries are told apart by
    these)."""
    if item is None:
        return None
    record = item.record or {}
    return item.label, record.get("reviewer"), record.get("reviewed_at")
