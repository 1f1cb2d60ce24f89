"""A live `hcap apply` run: every eligible comment not yet labelled by the model, through the batch driver.

Planning reads the output once (a Ledger of keys) and the CSV once (which comments to label), so the
progress bar knows its total and a rerun over a mostly-done archive starts in seconds. The run then hands
comments to the batch driver (`alabel_many`) one at a time as slots free, from the plan or from a second
read of the CSV, and appends each result to the output through the store as it returns, in groups written
beside the event loop (`appender.py`): `kill -9` loses at most the requests in flight and the answers that
arrived during the last write. When the run replaced lines (a retried failure, another model's line), the
output is compacted to one line per comment at the end. Memory holds keys, never records: flat in the
archive's size.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from hcap_tui.apply.appender import Appender
from hcap_tui.apply.output import Layout, Ledger, Model, Output, input_key
from hcap_tui.comments import Comment, CommentsFile
from hcap_tui.errors import HcapError
from hcap_tui.jsonl import LineProblem
from hcap_tui.models import Labelled, Labeller, LabelResult, alabel_many
from hcap_tui.store import Store, now_iso

FAILED_IN_A_ROW = 50
"""Results that fail one after another before a run stops: a model or server failing every comment would
otherwise fill the output with failed lines (a comment that fails alone is kept, and the run goes on)."""


class FailingRun(HcapError):
    """Every one of the last FAILED_IN_A_ROW comments failed."""


HELD_AT_MOST = 2_000
"""Comments the planning pass keeps in memory so the run need not read the CSV again: when a rerun has only a
few comments left, as it mostly has, it starts labelling at once. More than that, and the run reads them again."""


@dataclass
class Plan:
    """What a run will do, worked out before the first request."""

    eligible: int = 0  # eligible rows of the CSV
    skipped: int = 0  # rows whose comment the model already labelled
    repeated: int = 0  # rows repeating the formatted_input of an earlier row still to label (they share its line)
    left: int = 0  # comments to label that --limit leaves for a later run
    todo: set[int] = field(default_factory=set)  # keys of the comments to label
    retrying: set[int] = field(default_factory=set)  # of those, comments whose line failed with this model
    relabelling: set[int] = field(default_factory=set)  # of those, comments whose line another model wrote
    held: list[Comment] | None = field(default_factory=list)  # the comments to label, while at most HELD_AT_MOST

    def comments(self, source: CommentsFile) -> Iterator[Comment]:
        """The comments to label, in CSV order: those held, or read again from `source` (emptying `todo`)."""
        return iter(self.held) if self.held is not None else chosen(source, self.todo)


def plan(comments: CommentsFile, ledger: Ledger, limit: int | None) -> Plan:
    """One pass over the CSV: which comments to label, and how many of each kind."""
    planned = Plan()
    todo, done, failed, other = planned.todo, ledger.done, ledger.failed, ledger.other
    for comment in comments:
        planned.eligible += 1
        key = input_key(comment.formatted_input)
        if key in done:
            planned.skipped += 1
        elif key in todo:
            planned.repeated += 1
        elif limit is not None and len(todo) >= limit:
            planned.left += 1
        else:
            todo.add(key)
            if planned.held is not None:
                planned.held.append(comment)
                if len(planned.held) > HELD_AT_MOST:
                    planned.held = None
            if key in failed:
                planned.retrying.add(key)
            elif key in other:
                planned.relabelling.add(key)
    return planned


def chosen(comments: CommentsFile, todo: set[int]) -> Iterator[Comment]:
    """The comments whose keys are in `todo`, in CSV order, each once (taken out of `todo` as drawn).

    Stops reading the CSV as soon as none is left.
    """
    if not todo:
        return
    for comment in comments:
        key = input_key(comment.formatted_input)
        if key in todo:
            todo.discard(key)
            yield comment
            if not todo:
                return


@dataclass
class ApplySummary:
    """What a run found and did; `stopped` says why it ended early, when it did."""

    output: Path
    model: str
    model_digest: str | None
    eligible: int = 0
    to_label: int = 0
    skipped: int = 0
    labelled: int = 0
    failed: int = 0
    retried: int = 0  # of the labelled and failed, comments whose earlier line had failed
    relabelled: int = 0  # of the labelled and failed, comments whose earlier line another model wrote
    left: int = 0
    repeated: int = 0
    replaced_lines: int = 0  # earlier lines dropped when the output was compacted
    elapsed_s: float = 0.0
    stopped: str | None = None
    problems: list[LineProblem] = field(default_factory=list)  # the first unreadable lines of the output
    unreadable: int = 0  # lines of the output that name no comment (not JSON, torn, no formatted_input)
    csv_out: Path | None = None

    @property
    def finished(self) -> int:
        """Results written by this run, labelled or failed."""
        return self.labelled + self.failed

    @property
    def rate(self) -> float:
        """Results per second of model time."""
        return self.finished / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return {
            "output": str(self.output),
            "model": self.model,
            "model_digest": self.model_digest,
            "eligible": self.eligible,
            "to_label": self.to_label,
            "labelled": self.labelled,
            "failed": self.failed,
            "skipped": self.skipped,
            "retried": self.retried,
            "relabelled": self.relabelled,
            "left": self.left,
            "repeated": self.repeated,
            "replaced_lines": self.replaced_lines,
            "unreadable_lines": self.unreadable,
            "elapsed_s": round(self.elapsed_s, 3),
            "items_per_s": round(self.rate, 3),
            "stopped": self.stopped,
            "csv": None if self.csv_out is None else str(self.csv_out),
        }


class ApplyRun:
    """Labels the comments a plan chose, appending each result to the output as it arrives."""

    def __init__(self, store: Store, model: Labeller, comments: CommentsFile, output: Output, layout: Layout,
                 ledger: Ledger, planned: Plan) -> None:
        self.store = store
        self.model = model
        self.comments = comments
        self.output = output
        self.layout = layout
        self.plan = planned
        self.repeated = ledger.repeated
        self.other_models = ledger.other_models
        self._started = time.perf_counter()
        self._in_a_row = 0  # failed results since the last label
        self.summary = ApplySummary(
            output.path, model.spec.recorded, model.digest, eligible=planned.eligible, to_label=len(planned.todo),
            skipped=planned.skipped, left=planned.left, repeated=planned.repeated, problems=ledger.problems,
            unreadable=ledger.problem_count,
        )

    @classmethod
    def prepare(cls, store: Store, model: Labeller, comments: CommentsFile, output: Output,
                limit: int | None = None) -> ApplyRun:
        """Read the output and the CSV once each and plan the run; `model` must have been checked (digest)."""
        layout = Layout.for_header(store.schema, comments.header())
        ledger = output.scan(Model(model.spec.recorded, model.digest))
        planned = plan(comments, ledger, limit)
        ledger.done.clear()  # only the plan's keys are needed from here on
        ledger.failed.clear()
        ledger.other.clear()
        return cls(store, model, comments, output, layout, ledger, planned)

    def run(self, concurrency: int = 1, on_result: Callable[[LabelResult], None] | None = None) -> None:
        """Label with up to `concurrency` requests in flight, calling `on_result` for each result once it is on disk.

        A ModelError, FAILED_IN_A_ROW failures in a row or Ctrl-C stop the run; what finished before stays
        saved and counted.
        """
        self._started = time.perf_counter()
        try:
            self.model.call(self._run(concurrency, on_result or (lambda _result: None)))
        finally:
            self.summary.elapsed_s = time.perf_counter() - self._started

    async def _run(self, concurrency: int, on_result: Callable[[LabelResult], None]) -> None:
        """The batch driver's results, handed to an Appender as they complete."""
        written = partial(self._written, on_result=on_result)
        comments = self.plan.comments(self.comments)
        async with (
            Appender(self._append, written, concurrency) as appender,
            aclosing(alabel_many(self.model, comments, concurrency)) as results,
        ):
            async for done in results:
                await appender.put(done)

    def _append(self, group: list[Labelled[Comment]]) -> None:
        """Append a group of results to the output (in the Appender's thread)."""
        created = now_iso()
        self.store.append(self.output.path, [self.layout.record(d.item, d.result, created) for d in group])

    def _written(self, group: list[Labelled[Comment]], on_result: Callable[[LabelResult], None]) -> None:
        """Count a group now on disk; stop the run after FAILED_IN_A_ROW failures in a row."""
        summary, retrying, relabelling = self.summary, self.plan.retrying, self.plan.relabelling
        for done in group:
            result = done.result
            if result.ok:
                summary.labelled += 1
                self._in_a_row = 0
            else:
                summary.failed += 1
                self._in_a_row += 1
            if retrying or relabelling:
                key = input_key(result.formatted_input)
                summary.retried += key in retrying
                summary.relabelled += key in relabelling
            summary.elapsed_s = time.perf_counter() - self._started
            on_result(result)
        if self._in_a_row >= FAILED_IN_A_ROW:
            raise FailingRun(
                f"the last {self._in_a_row} comments all failed ({group[-1].result.error}): the model or server is "
                "not answering usefully; fix that and run again (failed comments are retried)"
            )

    def compact(self) -> int:
        """Leave one line per comment: drop the lines this run replaced and earlier repeats."""
        dropped = self.output.compact(self.plan.retrying | self.plan.relabelling | self.repeated)
        self.summary.replaced_lines += dropped
        return dropped
