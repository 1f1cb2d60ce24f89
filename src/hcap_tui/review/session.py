"""Review of one label source, with no UI: what the review screen shows and what approve writes.

A `ReviewSession` holds the items of one source (teacher labels or model predictions), where the
reviewer is, the reviewer's unapproved edits, and the approvals that can still be undone. The Textual
pane only renders it and forwards keys, so every rule here is unit-tested without a terminal.

Rules worth knowing:
- The draft of an item starts from its gold values when it is already in gold, else from the proposal.
- A failed prediction has no proposal: its draft starts with every boolean false, every enum unset and
  empty text. No item can be approved until every enum has a value and every text field some text.
- Unapproved edits survive moving back and forth within a session; `skip` drops them.
- An approval that replaces a gold line, sets both signals of an exclusive pair, or gives a race-level
  field another value than the race's other runners have in gold, first raises `ConfirmApproval` with one
  line per reason; approving again, with nothing changed in between, goes ahead.
- Approving is three steps so the disk work can run off the UI thread: `request_approval` (checks, and the
  line to write), the writer (`GoldWriter.approve`, which reads what others appended and appends under one
  hold of gold's lock) and `finish_approval` (shows the result). If another reviewer changed the item's
  gold meanwhile nothing is written: the reviewer sees their approval, keeps the draft, and approves again.
- After an approval the next item not yet in gold comes up, so older gold is never the next thing Enter hits.
- Undo re-reads the item's gold state from the file afterwards, so the screen never claims gold that
  the file no longer holds; it refuses once gold was rewritten (compacted) since the approval.
- Resume goes to the saved item (by identity, else by the old dashboard's bare index) with the saved filter,
  then on to the first item not yet in gold from there, unless the filter shows only gold.
- A saved order resumes: least confident first at once, most suspect first by ranking again (the tab shows
  file order until the ranking arrives, or stays in it with a note when scikit-learn is missing).
- While gold is opening (only which inputs it holds is read yet) the first item can be reviewed: "not in gold" is
  exact, an item's gold entry is read from its line, the "disagrees with gold" count says it is still counting,
  and approving waits (the pane holds the key) until gold is complete, so no check runs against gold unseen.
- Filters, moves and the `o` key live in `navigation`; the visiting order in `order`, the triage ranking it can
  follow in `suspects`; the errors in `errors`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from hcap_tui.input_parts import race_paragraph, split_input
from hcap_tui.jsonl import Appended
from hcap_tui.review import suspects
from hcap_tui.review.checks import approval_warnings
from hcap_tui.review.errors import ConfirmApproval, GoldChanged, ReviewError
from hcap_tui.review.navigation import Filter, ReviewNavigation
from hcap_tui.review.order import Order, VisitOrder
from hcap_tui.review.reader import Waiting
from hcap_tui.review.sources import GoldBook, ReviewSource
from hcap_tui.review.suspects import RankingState
from hcap_tui.review.writer import Approval, ApprovalPlan, ApprovalWritten, GoldWriter, UndoWritten, shown_gold
from hcap_tui.safe_text import safe
from hcap_tui.store import TEACHER_VALUES, Checkpoint, LabeledItem, Store, flat_record, now_iso


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
        self.writer = GoldWriter(store)
        self.items: list[LabeledItem] = []
        self.position = 0
        """Index of the current item in `items`, which stay in file order whatever the visiting order."""
        self.filter = Filter.named(checkpoint.filter if checkpoint else None)
        self.order = VisitOrder([f.name for f in self.schema.signals])
        self.triage = RankingState(enabled=source.file == "labeled")  # what triage judges: the teacher's labels
        self.resume_note: str | None = None
        """Why the saved order could not be resumed, for the reviewer to read once."""
        self.approved = 0
        """Approvals made (and not undone) in this session."""
        self.ready = False
        """True once the item to show first is known (the resume target arrived, or loading finished)."""
        self.loading = True
        self.models: Counter[str] = Counter()
        """How many items each model proposed (teacher sources), for the tab's title."""
        self._checkpoint = checkpoint
        self._anchor: int | None = None  # the saved item, once it has arrived
        self._searched = 0  # items already searched for the saved item
        self._expected: Waiting | None = None
        self._searched_waiting = (0, -1)  # items already searched for one not in gold after it, and gold's version
        self._drafts: dict[int, dict[str, Any]] = {}
        self._undo: list[Approval] = []
        self._armed: tuple[int, dict[str, Any], list[str]] | None = None  # warnings shown, awaiting a second Enter
        self._key_counts: Counter[str] = Counter()
        self._pending = 0
        self._pending_version = gold.version
        self._matching = None
        self._runners: dict[str, int | None] = {}

    # Loading and resume

    def extend(self, items: Iterable[LabeledItem]) -> bool:
        """Add items read from the source (while loading, or appended later); True when this made the session
        ready to show its first item."""
        start, gold = len(self.items), self.gold
        for item in items:
            gold.adopt(item)
            self.items.append(item)
            self._key_counts[item.formatted_input] += 1
            self._pending += item.formatted_input not in gold
            if self.source.copies_teacher and isinstance(model := item.record.get("model"), str) and model:
                self.models[model] += 1
        self.order.extend(self.items[start:])
        if self.ready:
            return False
        self.ready = self._resume()
        return self.ready

    def finish_loading(self) -> bool:
        """Mark the source fully read; True when this made the session ready."""
        self.loading = False
        self._resume_order()
        if self.ready:
            return False
        self._resume(finished=True)
        self.ready = True
        return True

    def _resume_order(self) -> None:
        """Go back to the saved order, now that every item is known: least confident first at once; most suspect
        first by asking for a ranking (file order meanwhile), or with a note saying why it cannot."""
        checkpoint = self._checkpoint
        saved = Order.FILE if checkpoint is None else Order.saved(checkpoint.by_confidence, checkpoint.by_suspicion)
        if saved is Order.CONFIDENCE and self.order.has_confidence:
            self.order.set_mode(Order.CONFIDENCE)
        elif saved is Order.SUSPECT and self.triage.enabled and self.items:
            if suspects.available():
                self.triage.want()
            else:
                self.resume_note = f"{suspects.NOT_INSTALLED}; showing file order"

    def _resume(self, *, finished: bool = False) -> bool:
        """Place the position from the checkpoint once the items loaded so far allow it; whether they did."""
        if self._anchor is None:
            anchor = self._saved_item(finished)
            if anchor is None:
                return False
            self._anchor = anchor
        anchor = self._anchor
        if not self.items:
            return finished
        if self.filter in (Filter.ALL, Filter.NOT_IN_GOLD) and self.items[anchor].formatted_input in self.gold:
            searched, version = self._searched_waiting
            in_file_order = self.order.mode is Order.FILE  # places are then indices, and searched ones stay searched
            start = max(anchor, searched) if version == self.gold.version and in_file_order else anchor
            waiting = self._find_where(start, 1, self._waiting)
            if waiting is None and not finished and not self._none_waiting_unread():
                self._searched_waiting = (len(self.items), self.gold.version)  # the next chunk goes on from here
                return False  # the first item not in gold after the saved one may be in a later chunk
            if waiting is None:
                waiting = self._find_where(0, 1, self._waiting)
            anchor = anchor if waiting is None else waiting
        self.position = anchor
        if not self.matches(anchor):
            self.set_filter(self.filter)  # lands on the nearest item that passes
        return True

    def expect_waiting(self, waiting: Waiting | None) -> None:
        """Take the reader's word on which lines can hold items not yet in gold (`reader.Waiting`)."""
        self._expected = waiting

    def _none_waiting_unread(self) -> bool:
        """Whether no line still to be read can hold an item not in gold, as the reader found while gold was as
        it is now (so resume need not wait for the end of the file)."""
        expected = self._expected
        if expected is None or expected.version != self.gold.version:
            return False
        return bool(self.items) and expected.last <= self.items[-1].line

    def _saved_item(self, finished: bool) -> int | None:
        """The index of the item the checkpoint names (0 without one), or None while it has not arrived."""
        checkpoint = self._checkpoint
        if checkpoint is None:
            return 0
        if checkpoint.formatted_input is not None:
            for index in range(self._searched, len(self.items)):
                if self.items[index].formatted_input == checkpoint.formatted_input:
                    return index
            self._searched = len(self.items)
            return 0 if finished else None  # gone from the file: start from the top
        if checkpoint.index < len(self.items):
            return checkpoint.index
        return max(len(self.items) - 1, 0) if finished else None

    def checkpoint(self) -> Checkpoint | None:
        """Where to resume next time (item, filter and order), or None while there is no item to point at."""
        if not self.ready or not self.items:
            return None
        mode = self.order.mode
        return Checkpoint(
            self.position,
            self.items[self.position].formatted_input,
            self.filter.value,
            by_confidence=mode is Order.CONFIDENCE,
            by_suspicion=mode is Order.SUSPECT or self.triage.wanted,
        )

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
    def race_others(self) -> dict[str, Counter[Any]]:
        """Per race-level field, the values gold gives the other runners of the current item's race."""
        return self.gold.races.others(self.current.formatted_input)

    @property
    def runners(self) -> int | None:
        """The current item's field size: from its result line, or for a winner from another runner of its race."""
        item = self.current.formatted_input
        if item not in self._runners:
            parts = split_input(item)
            runners = parts.runners
            if runners is None and parts.race:
                runners = next(
                    (
                        found
                        for other in self.items
                        if other.formatted_input != item and race_paragraph(other.formatted_input) == parts.race
                        and (found := split_input(other.formatted_input).runners) is not None
                    ),
                    None,
                )  # the first other runner of the race whose result line gives the field size
            self._runners[item] = runners
        return self._runners[item]

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

    # Approve

    @property
    def confirming(self) -> list[str] | None:
        """The warnings of an approval waiting for its second Enter, while the item and draft are as they were."""
        armed = self._armed
        if armed is None or not self.items or armed[0] != self.position or armed[1] != self.draft:
            return None
        return armed[2]

    def disarm(self) -> None:
        """Forget an approval waiting for its second Enter (the reviewer did something else)."""
        self._armed = None

    def request_approval(self) -> ApprovalPlan:
        """The gold line approving the draft would append, once every field has a value and, where it needs one,
        the reviewer confirmed it: the first request raises `ConfirmApproval` with the reasons."""
        if not self.gold.complete:
            raise ReviewError("gold is still being read: approve again in a moment")
        draft = self._approvable()
        warnings = approval_warnings(self.schema, draft, self.gold_item, self.race_others)
        if warnings and self.confirming is None:
            self._armed = (self.position, self.draft, warnings)
            raise ConfirmApproval(warnings)
        self._armed = None
        shown = self.gold_item
        return ApprovalPlan(
            self._gold_record(draft), self.position, draft, shown_gold(shown), self.gold.mark
        )

    def finish_approval(self, written: ApprovalWritten) -> str:
        """Show what the writer did: take in the gold it read and, when it wrote, remember the approval for undo and
        move on (returns a note on where to, "" for the plain next item). Raises `GoldChanged`, keeping the draft
        and readying the second Enter, when another reviewer's approval of the item came first."""
        plan = written.plan
        if written.full is not None:
            self.gold.reset(written.full, written.full_mark)
        elif written.tail is not None and self.gold.mark == plan.mark:
            self.gold.take_in(written.tail)  # else another tab read further meanwhile: the next approval's read of gold covers it
        if written.receipt is None:
            self._drafts[plan.index] = plan.draft
            self._set_gold(plan.formatted_input, written.found, adjust=False)
            if plan.index == self.position:  # ready for the second Enter, with what it would now replace
                warnings = approval_warnings(self.schema, plan.draft, self.gold_item, self.race_others)
                self._armed = (plan.index, plan.draft, warnings or ["another reviewer took this item out of gold"])
            raise GoldChanged(self._conflict_message(written.found))
        self.gold.appended(written.receipt)
        record = plan.record
        self._set_gold(plan.formatted_input, LabeledItem(plan.formatted_input, plan.draft, record, 0))
        self._undo.append(Approval(written.receipt, plan.index, plan.draft))
        self._drafts.pop(plan.index, None)
        self.approved += 1
        if plan.index != self.position:
            return ""
        return self._move_on_after_approval()

    def approve(self) -> Appended:
        """All three steps at once, on this thread: check, write, show (the pane runs the write in a worker)."""
        written = self.writer.approve(self.request_approval())
        self.finish_approval(written)
        assert written.receipt is not None
        return written.receipt

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

    def _gold_record(self, draft: dict[str, Any]) -> dict[str, Any]:
        """The gold line for the current item: the draft, what was proposed and changed, who, when, and which
        model proposed it (the prediction's model and digest; the teacher and its model)."""
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
        if self.source.copies_teacher:
            provenance["teacher"] = item.record.get("teacher")
            provenance["model"] = item.record.get("model")
        return flat_record(self.schema, item.formatted_input, draft, **provenance)

    @staticmethod
    def _conflict_message(found: LabeledItem | None) -> str:
        """What the reviewer is told when another approval of the item came first."""
        if found is None:
            return "another reviewer took this item out of gold: press Enter again to approve it"
        when = safe(str(found.record.get("reviewed_at") or "an unknown time"))
        who = safe(str(found.record.get("reviewer") or "unknown reviewer"))
        return f"another reviewer approved this item at {when} ({who}): press Enter again to replace it"

    # Undo

    @property
    def can_undo(self) -> bool:
        """Whether an approval of this session can be taken back."""
        return bool(self._undo)

    def undo(self) -> None:
        """Take the last approval out of the gold file and return to that item with its values as a draft."""
        approval = self.pop_undo()
        try:
            undone = self.writer.undo(approval, self.items[approval.index].formatted_input)
        except ReviewError:
            self.restore_undo(approval)
            raise
        self.finish_undo(undone)

    def pop_undo(self) -> Approval:
        """The approval undo takes back next, off the stack (then the writer takes it out of the file)."""
        if not self._undo:
            raise ReviewError(
                "nothing to undo in this tab: undo takes back approvals made since the review opened"
                if not self.approved
                else "nothing left to undo in this tab"
            )
        approval = self._undo.pop()
        return replace(approval, receipt=self.gold.followed(approval.receipt))

    def restore_undo(self, approval: Approval) -> None:
        """Put back an approval whose undo failed, so it can be tried again."""
        self._undo.append(approval)

    def finish_undo(self, undone: UndoWritten) -> None:
        """Show the undo: gold as the file now has it, and the item again with its values as a draft."""
        approval = undone.approval
        self.gold.removed(approval.receipt, undone.inode)
        self._set_gold(self.items[approval.index].formatted_input, undone.gold)
        self.approved -= 1
        self.position = approval.index
        self._drafts[approval.index] = approval.draft
        self._armed = None

    def _set_gold(self, formatted_input: str, item: LabeledItem | None, *, adjust: bool = True) -> None:
        """Change the shared gold, keeping the not-in-gold count current when no other tab changed it."""
        in_sync = adjust and self._pending_version == self.gold.version
        replaced = self.gold.put(formatted_input, item)
        if in_sync:
            self._pending += self._key_counts[formatted_input] * ((replaced is not None) - (item is not None))
            self._pending_version = self.gold.version

    # Counters

    @property
    def pending(self) -> int:
        """Items not yet in gold (recounted when another tab changed gold)."""
        if self._pending_version != self.gold.version:
            self._pending = sum(n for key, n in self._key_counts.items() if key not in self.gold)
            self._pending_version = self.gold.version
        return self._pending

    def counter_text(self) -> str:
        """Place within the filter and progress, e.g. "37/200 · 12 approved · 150 not in gold"."""
        if not self.items:
            return "no items"
        place = "counting…" if self.counting else f"{self.filter_place}/{self.filter_count}"
        return f"{place} · {self.approved} approved · {self.pending} not in gold"
