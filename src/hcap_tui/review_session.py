"""Review navigation for one label source, with no UI: what the review screen shows and what approve writes.

A `ReviewSession` holds the items of one source (teacher labels or model predictions), where the
reviewer is, the reviewer's unapproved edits, and the approvals that can still be undone. The Textual
pane only renders it and forwards keys, so every rule here is unit-tested without a terminal.

Rules worth knowing:
- The draft of an item starts from its gold values when it is already in gold, else from the proposal.
- A failed prediction has no proposal: its draft starts with every boolean false, every enum unset and
  empty text. No item can be approved until every enum has a value and every text field some text.
- Unapproved edits survive moving back and forth within a session; `skip` drops them.
- Before each approval, gold is caught up with what other reviewers appended. If that changed the
  item's gold entry, nothing is written: the reviewer sees the other approval and approves again to
  replace it, keeping their draft.
- Undo re-reads the item's gold state from the file afterwards, so the screen never claims gold that
  the file no longer holds; it refuses once gold was rewritten (compacted) since the approval.
- Resume prefers the checkpoint's item identity (so a replaced or appended file resumes at the same
  item), falls back to the first item not yet in gold when that item is gone, and honours the old
  dashboard's bare index.
- Filters and moving through the items in the visiting order live in `review_navigation`; the errors
  a refused step raises in `review_errors`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from hcap_tui.errors import HcapError
from hcap_tui.jsonl import Appended
from hcap_tui.review_errors import GoldChanged, GoldReplaced, ReviewError
from hcap_tui.review_navigation import Filter, ReviewNavigation
from hcap_tui.review_order import VisitOrder
from hcap_tui.review_sources import GoldBook, ReviewSource
from hcap_tui.store import TEACHER_VALUES, Checkpoint, LabeledItem, Store, flat_record, now_iso


@dataclass(frozen=True)
class _Approval:
    """What undo needs: the append's receipt, where it happened and the approved values."""

    receipt: Appended
    index: int
    draft: dict[str, Any]


@dataclass(frozen=True)
class Undone:
    """What taking an approval out of gold left: the file's inode now, and the item's gold entry now."""

    approval: _Approval
    inode: int
    gold: LabeledItem | None


class ReviewSession(ReviewNavigation):
    """Navigation, drafts, approvals and resume for one source; items may arrive in chunks while loading."""

    def __init__(
        self, store: Store, source: ReviewSource, gold: GoldBook, reviewer: str, checkpoint: Checkpoint | None = None
    ) -> None:
        self.store = store
        self.schema = store.schema
        self.source = source
        self.gold = gold
        self.reviewer = reviewer
        self.items: list[LabeledItem] = []
        self.position = 0
        """Index of the current item in `items`, which stay in file order whatever the visiting order."""
        self.filter = Filter.ALL
        self.order = VisitOrder([f.name for f in self.schema.signals])
        self.approved = 0
        """Approvals made (and not undone) in this session."""
        self.ready = False
        """True once the item to show first is known (the resume target arrived, or loading finished)."""
        self.loading = True
        self._checkpoint = checkpoint
        self._drafts: dict[int, dict[str, Any]] = {}
        self._undo: list[_Approval] = []
        self._key_counts: Counter[str] = Counter()
        self._pending = 0
        self._pending_version = gold.version

    # Loading and resume

    def extend(self, items: Iterable[LabeledItem]) -> bool:
        """Add items read from the source; True when this made the session ready to show its first item."""
        start = len(self.items)
        for item in items:
            self.items.append(item)
            self._key_counts[item.formatted_input] += 1
            self._pending += item.formatted_input not in self.gold
        self.order.extend(self.items[start:])
        if self.ready:
            return False
        self.ready = self._resume(start)
        return self.ready

    def finish_loading(self) -> bool:
        """Mark the source fully read; True when this made the session ready."""
        self.loading = False
        if self.ready:
            return False
        self._resume(len(self.items), finished=True)
        self.ready = True
        return True

    def _resume(self, start: int, *, finished: bool = False) -> bool:
        """Place the position from the checkpoint if the new items (from `start`) allow it."""
        checkpoint = self._checkpoint
        if checkpoint is None:
            return bool(self.items) or finished
        if checkpoint.formatted_input is not None:
            for index in range(start, len(self.items)):
                if self.items[index].formatted_input == checkpoint.formatted_input:
                    self.position = index
                    return True
            if finished:
                self.position = self._find(0, 1, Filter.NOT_IN_GOLD) or 0
            return finished
        if checkpoint.index < len(self.items):
            self.position = checkpoint.index
            return True
        if finished:
            self.position = max(len(self.items) - 1, 0)
        return finished

    def checkpoint(self) -> Checkpoint | None:
        """Where to resume next time, or None while there is no item to point at."""
        if not self.ready or not self.items:
            return None
        return Checkpoint(self.position, self.items[self.position].formatted_input)

    # The current item

    @property
    def empty(self) -> bool:
        """No item to review (the file is missing, empty or all lines were unusable)."""
        return not self.items

    @property
    def off_filter(self) -> bool:
        """The current item does not pass the filter: no item does (the pane shows that instead of an item)."""
        return bool(self.items) and not self.matches(self.position)

    @property
    def current(self) -> LabeledItem:
        """The item under review."""
        return self.items[self.position]

    @property
    def gold_item(self) -> LabeledItem | None:
        """The current item's gold entry, if it has one."""
        return self.gold.get(self.current.formatted_input)

    @property
    def proposal(self) -> dict[str, Any]:
        """What the source proposed for the current item: its label, or nothing for a failed prediction."""
        return dict(self.current.label or {})

    @property
    def teacher(self) -> dict[str, Any]:
        """The teacher's values where it disagreed with the model (`hcap predict --strategy disagree`), by field.

        Only the schema's fields are kept, so a stray or hand-edited entry never reaches the screen.
        """
        values = self.current.record.get(TEACHER_VALUES)
        if not isinstance(values, dict):
            return {}
        return {name: values[name] for name in self.schema.names if name in values}

    @property
    def draft(self) -> dict[str, Any]:
        """The values approve would write: the reviewer's edits, else gold, else the proposal."""
        return dict(self._drafts.get(self.position) or self._initial_draft())

    def _initial_draft(self) -> dict[str, Any]:
        gold = self.gold_item
        if gold is not None and gold.label is not None:
            return dict(gold.label)
        if self.current.label is not None:
            return dict(self.current.label)
        blank = {"bool": False, "enum": None, "text": ""}
        return {f.name: blank[f.kind] for f in self.schema.fields}

    # Editing the draft

    def toggle(self, name: str) -> None:
        """Flip a boolean field."""
        self.set_value(name, not self.draft[name])

    def cycle(self, name: str) -> None:
        """Move an enum field to its next value (from unset, to the first)."""
        values = self.schema.field(name).values
        value = self.draft[name]
        self.set_value(name, values[0] if value is None else values[(values.index(value) + 1) % len(values)])

    def set_value(self, name: str, value: Any) -> None:
        """Set one field of the draft; the value must suit the field's kind."""
        field = self.schema.field(name)
        valid = {"bool": isinstance(value, bool), "enum": value in field.values, "text": isinstance(value, str)}
        if not valid[field.kind]:
            raise ValueError(f"{value!r} is not a value of {name}")
        draft = self.draft
        if draft[name] == value:
            return
        draft[name] = value
        self._drafts[self.position] = draft

    def skip(self) -> bool:
        """Drop the unapproved edits of this item and go on to the next one."""
        self._drafts.pop(self.position, None)
        return self.next()

    # Approve and undo

    def approve(self) -> Appended:
        """Write the draft to gold with its provenance, remember it for undo, and move on.

        Gold is caught up first; `GoldChanged` means another reviewer approved this item meanwhile (the
        next approve replaces theirs), `GoldReplaced` that gold must be reloaded (`approve_after_reload`).
        The append is fsynced before this returns, so whatever the screen shows next is already on disk.
        """
        draft = self._approvable()
        before = self.gold_item
        if not self.gold.catch_up(self.store):
            raise GoldReplaced("goldstandard.jsonl was rewritten since it was read: reading it again…")
        self._check_unchanged(before, draft)
        return self._write(draft)

    def approve_after_reload(self, fresh: GoldBook) -> Appended:
        """Approve once gold was read again in full (after `GoldReplaced`), with the same check for changes."""
        draft = self._approvable()
        before = self.gold_item
        self.gold.reset(fresh)
        self._check_unchanged(before, draft)
        return self._write(draft)

    def _approvable(self) -> dict[str, Any]:
        """The draft, if every field has a value (an enum chosen, text written).

        Text the reviewer wrote is trimmed: stray blank lines or spaces left by the editor would otherwise
        travel into gold and on into training completions. Text left as proposed is kept exactly.
        """
        proposal = self.proposal
        draft = {
            name: value.strip() if isinstance(value, str) and value != proposal.get(name) else value
            for name, value in self.draft.items()
        }
        missing = [name for name, value in draft.items() if value is None or value == ""]
        if missing:
            titles = ", ".join(self.schema.field(name).title for name in missing)
            raise ReviewError(f"fill in {titles} before approving this item")
        return draft

    def _check_unchanged(self, before: LabeledItem | None, draft: dict[str, Any]) -> None:
        """Refuse to write over a gold entry that changed since the item was shown, keeping the draft."""
        after = self.gold_item
        if (before and before.record) == (after and after.record):
            return
        self._drafts[self.position] = draft
        if after is None:
            raise GoldChanged("another reviewer took this item out of gold: press Enter again to approve it")
        when = after.record.get("reviewed_at") or "an unknown time"
        who = after.record.get("reviewer") or "unknown reviewer"
        raise GoldChanged(f"another reviewer approved this item at {when} ({who}): press Enter again to replace it")

    def _write(self, draft: dict[str, Any]) -> Appended:
        """Append the approval to gold, update the shared gold and the undo stack, and move on."""
        item, proposal = self.current, self.proposal
        provenance: dict[str, Any] = {
            "origin": self.source.name,
            "proposed": proposal,
            "changed": self.schema.changed_fields(proposal, draft),
            "reviewer": self.reviewer,
            "reviewed_at": now_iso(),
        }
        if self.source.copies_model:
            provenance["model"] = item.record.get("model")
            provenance["model_digest"] = item.record.get("model_digest")
        record = flat_record(self.schema, item.formatted_input, draft, **provenance)
        receipt = self.store.approve(record)
        self.gold.appended(receipt)
        self._set_gold(item.formatted_input, LabeledItem(item.formatted_input, draft, record, 0))
        self._undo.append(_Approval(receipt, self.position, draft))
        self._drafts.pop(self.position, None)
        self.approved += 1
        if not self.next() and not self.matches(self.position):
            self._move_to(self._find(0, 1))  # the last item of the filter left it: go back to its first
        return receipt

    @property
    def can_undo(self) -> bool:
        """Whether an approval of this session can be taken back."""
        return bool(self._undo)

    def undo(self) -> None:
        """Take the last approval out of the gold file and return to that item with its values as a draft."""
        self.finish_undo(self.write_undo(self.pop_undo()))

    def pop_undo(self) -> _Approval:
        """The approval undo takes back next, off the stack (step 1 of 3, on the UI thread)."""
        if not self._undo:
            raise ReviewError("nothing to undo in this tab")
        approval = self._undo.pop()
        return replace(approval, receipt=self.gold.followed(approval.receipt))

    def write_undo(self, approval: _Approval) -> Undone:
        """Take an approval out of the gold file and read what gold holds for that item now (step 2 of 3).

        Only disk work and no session state, so it may run in a worker thread.
        """
        try:
            inode = self.store.undo(approval.receipt)
        except HcapError as exc:
            raise ReviewError(f"{exc}") from None
        if inode is None:
            raise ReviewError("that approval is no longer in goldstandard.jsonl (edited by hand?); nothing undone")
        return Undone(approval, inode, self.store.gold_item(self.items[approval.index].formatted_input))

    def finish_undo(self, undone: Undone) -> None:
        """Show the undo: gold as the file now has it, and the item again with its values as a draft (step 3)."""
        approval = undone.approval
        self.gold.removed(approval.receipt, undone.inode)
        self._set_gold(self.items[approval.index].formatted_input, undone.gold)
        self.approved -= 1
        self.position = approval.index
        self._drafts[approval.index] = approval.draft

    def _set_gold(self, formatted_input: str, item: LabeledItem | None) -> LabeledItem | None:
        """Change the shared gold, keeping the not-in-gold count current when no other tab changed it."""
        in_sync = self._pending_version == self.gold.version
        replaced = self.gold.put(formatted_input, item)
        if in_sync:
            self._pending += self._key_counts[formatted_input] * ((replaced is not None) - (item is not None))
            self._pending_version = self.gold.version
        return replaced

    # Counters

    @property
    def pending(self) -> int:
        """Items not yet in gold (recounted when another tab changed gold)."""
        if self._pending_version != self.gold.version:
            self._pending = sum(n for key, n in self._key_counts.items() if key not in self.gold)
            self._pending_version = self.gold.version
        return self._pending

    def counter_text(self) -> str:
        """Place in the visiting order and progress, e.g. "37/200 · 12 approved this session · 150 not in gold"."""
        if not self.items:
            return "no items"
        return (
            f"{self._place + 1}/{len(self.items)} · {self.approved} approved this session · {self.pending} not in gold"
        )
