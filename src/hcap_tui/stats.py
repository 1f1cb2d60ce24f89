"""Where the labelling loop stands: what is labeled, what awaits review, what gold holds, how often review corrects.

`compute_stats` reads a project's files once and returns a plain `Stats` value that the `hcap stats`
command prints and a TUI view can render, with `to_dict()` for JSON. Correction rates come from the
provenance the review app writes on each gold line (`origin`, `proposed`): for every signal, how often
the reviewer's final value differs from what the teacher or the model proposed, per origin and, for
the model, per model version.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hcap_tui.comments import CommentsFile, Counting
from hcap_tui.config import Project
from hcap_tui.errors import DataError
from hcap_tui.metrics import DIGITS, ratio
from hcap_tui.races import RaceConflict
from hcap_tui.schema import LabelSchema
from hcap_tui.store import LabeledItem, Store
from hcap_tui.tally import tally

NO_ORIGIN = "older"  # gold lines written before review recorded where a label came from
PREDICTIONS_ORIGIN = "predictions"


@dataclass
class CorrectionGroup:
    """Reviewed gold items that share a source (an origin, or one model version), with per-signal changes.

    Only proposed values are compared: an approved failed prediction proposed nothing, so the reviewer
    wrote every value and none counts as accepted. Such items, and a proposal's missing signals, are
    counted as "no proposal" beside the rates instead of inside them.
    """

    origin: str
    model: str | None = None
    model_digest: str | None = None
    items: int = 0  # gold items whose proposal carried at least one signal: the "any signal" denominator
    changed_items: int = 0  # of those, items where the reviewer changed at least one signal
    no_proposal: int = 0  # gold items whose proposal carried no signal at all (failed predictions)
    reviewed: dict[str, int] = field(default_factory=dict)  # signal -> proposals that carried it
    changed: dict[str, int] = field(default_factory=dict)  # signal -> proposals the reviewer changed
    unproposed: dict[str, int] = field(default_factory=dict)  # signal -> items whose proposal lacked it

    def rate(self, name: str) -> float:
        """Share of this group's proposals for signal `name` that the reviewer changed."""
        return ratio(self.changed.get(name, 0), self.reviewed.get(name, 0))

    def add(self, signals: tuple[str, ...], proposed: dict[str, Any], final: dict[str, Any], times: int = 1) -> None:
        """Count `times` reviewed items alike: which of the signals the proposal carried and which the reviewer
        changed."""
        carried = [name for name in signals if name in proposed]
        for name in signals:
            if name not in proposed:
                self.unproposed[name] = self.unproposed.get(name, 0) + times
        if not carried:
            self.no_proposal += times
            return
        self.items += times
        any_changed = False
        for name in carried:
            self.reviewed[name] = self.reviewed.get(name, 0) + times
            if proposed[name] != final[name]:
                self.changed[name] = self.changed.get(name, 0) + times
                any_changed = True
        self.changed_items += times if any_changed else 0

    def to_dict(self, schema: LabelSchema) -> dict[str, Any]:
        """The JSON form, signals in schema order."""
        return {
            "origin": self.origin,
            "model": self.model,
            "model_digest": self.model_digest,
            "items": self.items,
            "changed_items": self.changed_items,
            "no_proposal": self.no_proposal,
            "fields": {
                f.name: {
                    "reviewed": self.reviewed.get(f.name, 0),
                    "changed": self.changed.get(f.name, 0),
                    "rate": round(self.rate(f.name), DIGITS),
                    "no_proposal": self.unproposed.get(f.name, 0),
                }
                for f in schema.signals
            },
        }


@dataclass
class Stats:
    """A snapshot of one project's loop, counted over distinct formatted_inputs."""

    schema: LabelSchema
    comment_rows: int | None  # None when there is no comments.csv (or it cannot be read: see problems)
    eligible_comments: int | None
    labeled: int  # inputs the teacher labeled
    labeled_pending: int  # of those, not yet in gold
    predictions: int  # inputs with a prediction line (the last line per input counts)
    predictions_pending: int  # successful predictions not yet in gold
    predictions_failed: int  # failed predictions not yet in gold
    gold: int
    gold_by_origin: dict[str, int]
    distribution: dict[str, dict[str, int]]  # signal -> value -> gold items, schema order
    corrections: dict[str, CorrectionGroup]  # origin -> its reviewed items
    model_corrections: list[CorrectionGroup]  # predictions origin, one group per model version
    problems: list[str] = field(default_factory=list)  # lines skipped while reading, and unreadable files
    # "teacher" and "gold" -> races whose items carry different values of a race-level field
    race_conflicts: dict[str, list[RaceConflict]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The `hcap stats --json` object."""
        return {
            "comment_rows": self.comment_rows,
            "eligible_comments": self.eligible_comments,
            "labeled": self.labeled,
            "labeled_pending": self.labeled_pending,
            "predictions": self.predictions,
            "predictions_pending": self.predictions_pending,
            "predictions_failed": self.predictions_failed,
            "gold": self.gold,
            "gold_by_origin": dict(self.gold_by_origin),
            "distribution": {name: dict(counts) for name, counts in self.distribution.items()},
            "corrections": {origin: group.to_dict(self.schema) for origin, group in self.corrections.items()},
            "model_corrections": [group.to_dict(self.schema) for group in self.model_corrections],
            "problems": list(self.problems),
            "race_conflicts": {
                source: [conflict.to_dict() for conflict in conflicts] for source, conflicts in self.race_conflicts.items()
            },
        }


def compute_stats(project: Project, *, comment_counts: tuple[int, int] | None = None) -> Stats:
    """Count the project's comments, teacher labels, predictions and gold, and the review corrections.

    Each file is read once, as a stream, keeping per input only what the figures need (`tally`); a large
    comments.csv is counted on the other core meanwhile. `comment_counts` (rows, eligible rows) stands in for
    re-reading comments.csv, the slowest part, when a caller that counts again and again (the review app's
    Stats tab) knows the file has not changed.
    """
    schema = project.schema
    store = Store(project.paths, schema)
    signals = tuple(f.name for f in schema.signals)
    path = project.paths.comments
    counting = CommentsFile(path).count_aside() if comment_counts is None and path.is_file() else None
    try:
        labeled = tally(store, project.paths.labeled)
        predictions = tally(store, project.paths.predictions)
        gold = tally(store, project.paths.gold, _gold_summary(schema), keep=GOLD_PROVENANCE)
    except BaseException:
        if counting is not None:
            counting.stop()
        raise
    problems = [str(problem) for t in (labeled, predictions, gold) for problem in t.problems]
    rows, eligible = comment_counts or _comment_counts(counting, problems)
    approved = Counter(entry.summary for entry in gold.entries() if entry.summary is not None)
    pending = [entry for key, entry in predictions.latest.items() if key not in gold.latest]
    failed = sum(1 for entry in pending if entry.race_values is None)
    corrections, model_corrections = _corrections(signals, approved)
    return Stats(
        schema=schema,
        comment_rows=rows,
        eligible_comments=eligible,
        labeled=sum(1 for entry in labeled.entries() if entry.race_values is not None),
        labeled_pending=sum(
            1 for key, entry in labeled.latest.items() if entry.race_values is not None and key not in gold.latest
        ),
        predictions=len(predictions.latest),
        predictions_pending=len(pending) - failed,
        predictions_failed=failed,
        gold=sum(approved.values()),
        gold_by_origin=_by_origin(approved),
        distribution=_distribution(schema, approved),
        corrections=corrections,
        model_corrections=model_corrections,
        problems=problems,
        race_conflicts={"teacher": labeled.race_conflicts(), "gold": gold.race_conflicts()},
    )


# What stats read of each gold line's provenance, and what it keeps of an approved item: its origin, its signal
# values, its proposal's values of the signals (ABSENT where it carried none; None without a proposal) and the
# model version it came from.
GOLD_PROVENANCE = ("origin", "proposed", "model", "model_digest")
GoldSummary = tuple[str, tuple[Any, ...], tuple[Any, ...] | None, tuple[str | None, str | None]]
ABSENT = object()  # a signal the proposal did not carry


def _gold_summary(schema: LabelSchema) -> Callable[[LabeledItem], GoldSummary | None]:
    """The function reducing a gold item to a `GoldSummary` (None for an item without a label)."""
    signals = tuple(f.name for f in schema.signals)
    positions = [schema.names.index(name) for name in signals]

    def summarise(item: LabeledItem) -> GoldSummary | None:
        values = item.values
        if values is None:
            return None
        record = item.record or {}
        origin = record.get("origin")
        proposed = record.get("proposed")
        carried = None
        if type(proposed) is dict:
            carried = tuple([proposed.get(name, ABSENT) for name in signals])
            try:
                hash(carried)
            except TypeError:  # a list or an object where a value belongs: counted, never equal to a value
                carried = tuple([_hashable(value) for value in carried])
        return (
            origin if type(origin) is str and origin else NO_ORIGIN,
            tuple([values[at] for at in positions]),
            carried,
            (_text(record.get("model")), _text(record.get("model_digest"))),
        )

    return summarise


def _hashable(value: Any) -> Any:
    """A proposed value as it can be counted: a list or an object (never a label value) becomes its JSON text
    in a tuple, which no label value equals."""
    try:
        hash(value)
    except TypeError:
        return ("not a label value", json.dumps(value, sort_keys=True, default=str))
    return value


def _comment_counts(counting: Counting | None, problems: list[str]) -> tuple[int | None, int | None]:
    """Rows and eligible rows of comments.csv; (None, None) when it is absent (no `counting`) or unreadable (saying
    why in `problems`)."""
    if counting is None:
        return None, None
    try:
        counts = counting.result()
    except DataError as exc:
        problems.append(str(exc))
        return None, None
    return counts.rows, counts.eligible


def _by_origin(gold: Counter[GoldSummary]) -> dict[str, int]:
    """Gold items per origin, most common first."""
    counts: Counter[str] = Counter()
    for summary, times in gold.items():
        counts[summary[0]] += times
    return dict(sorted(counts.items(), key=lambda entry: (-entry[1], entry[0])))


def _distribution(schema: LabelSchema, gold: Counter[GoldSummary]) -> dict[str, dict[str, int]]:
    """Gold items per value of each signal: booleans as "true"/"false", enums in schema order."""
    distribution = {
        f.name: dict.fromkeys(("true", "false") if f.kind == "bool" else f.values, 0) for f in schema.signals
    }
    columns = list(distribution.values())
    for summary, times in gold.items():
        for counts, value in zip(columns, summary[1]):
            key = ("true" if value else "false") if isinstance(value, bool) else value
            counts[key] += times
    return distribution


def _corrections(
    signals: tuple[str, ...], gold: Counter[GoldSummary]
) -> tuple[dict[str, CorrectionGroup], list[CorrectionGroup]]:
    """Correction counts per origin, and per model version of the predictions origin, in first-seen order."""
    by_origin: dict[str, CorrectionGroup] = {}
    by_version: dict[tuple[str | None, str | None], CorrectionGroup] = {}
    for (origin, values, carried, version), times in gold.items():
        if carried is None:
            continue
        proposed = {name: value for name, value in zip(signals, carried) if value is not ABSENT}
        final = dict(zip(signals, values))
        by_origin.setdefault(origin, CorrectionGroup(origin)).add(signals, proposed, final, times)
        if origin == PREDICTIONS_ORIGIN:
            group = by_version.setdefault(version, CorrectionGroup(origin, model=version[0], model_digest=version[1]))
            group.add(signals, proposed, final, times)
    return by_origin, list(by_version.values())


def _text(value: Any) -> str | None:
    """A provenance string, or None when absent or not a string."""
    return value if isinstance(value, str) else None
