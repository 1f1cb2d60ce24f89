"""Where the labelling loop stands: what is labeled, what awaits review, what gold holds, how often review corrects.

`compute_stats` reads a project's files once and returns a plain `Stats` value that the `hcap stats`
command prints and a TUI view can render, with `to_dict()` for JSON. Correction rates come from the
provenance the review app writes on each gold line (`origin`, `proposed`): for every signal, how often
the reviewer's final value differs from what the teacher or the model proposed, per origin and, for
the model, per model version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hcap_tui.comments import CommentsFile
from hcap_tui.config import Project
from hcap_tui.errors import DataError
from hcap_tui.gcpause import gc_paused
from hcap_tui.metrics import DIGITS, ratio
from hcap_tui.races import RaceConflict, race_conflicts
from hcap_tui.schema import LabelSchema
from hcap_tui.store import LabeledItem, Loaded, Store

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

    def add(self, signals: tuple[str, ...], proposed: dict[str, Any], final: dict[str, Any]) -> None:
        """Count one reviewed item: which of the signals the proposal carried and which the reviewer changed."""
        carried = [name for name in signals if name in proposed]
        for name in signals:
            if name not in proposed:
                self.unproposed[name] = self.unproposed.get(name, 0) + 1
        if not carried:
            self.no_proposal += 1
            return
        self.items += 1
        any_changed = False
        for name in carried:
            self.reviewed[name] = self.reviewed.get(name, 0) + 1
            if proposed[name] != final[name]:
                self.changed[name] = self.changed.get(name, 0) + 1
                any_changed = True
        self.changed_items += any_changed

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


@gc_paused()
def compute_stats(project: Project, *, comment_counts: tuple[int, int] | None = None) -> Stats:
    """Count the project's comments, teacher labels, predictions and gold, and the review corrections.

    `comment_counts` (rows, eligible rows) stands in for re-reading comments.csv, the slowest part, when a
    caller that counts again and again (the review app's Stats tab) knows the file has not changed.
    """
    schema = project.schema
    store = Store(project.paths, schema)
    problems: list[str] = []
    gold_index = store.gold()
    gold = gold_index.by_input
    labeled = _latest(store.labeled(), problems)
    predictions = _latest(store.predictions(), problems)
    problems.extend(str(problem) for problem in gold_index.loaded.problems)
    rows, eligible = comment_counts or _count_comments(project, problems)
    approved = [item for item in gold.values() if item.label is not None]
    pending = [item for key, item in predictions.items() if key not in gold]
    failed = sum(1 for item in pending if item.failed)
    corrections, model_corrections = _corrections(schema, approved)
    return Stats(
        schema=schema,
        comment_rows=rows,
        eligible_comments=eligible,
        labeled=sum(1 for item in labeled.values() if not item.failed),
        labeled_pending=sum(1 for key, item in labeled.items() if not item.failed and key not in gold),
        predictions=len(predictions),
        predictions_pending=len(pending) - failed,
        predictions_failed=failed,
        gold=len(approved),
        gold_by_origin=_by_origin(approved),
        distribution=_distribution(schema, approved),
        corrections=corrections,
        model_corrections=model_corrections,
        problems=problems,
        race_conflicts={
            "teacher": race_conflicts(schema, {key: item.label for key, item in labeled.items() if not item.failed}),
            "gold": race_conflicts(schema, {item.formatted_input: item.label for item in approved}),
        },
    )


def _latest(loaded: Loaded, problems: list[str]) -> dict[str, LabeledItem]:
    """The last item per input of a file, noting its skipped lines."""
    problems.extend(str(problem) for problem in loaded.problems)
    return {item.formatted_input: item for item in loaded.items}


def _count_comments(project: Project, problems: list[str]) -> tuple[int | None, int | None]:
    """Rows and eligible rows of comments.csv; (None, None) when it is absent or unreadable."""
    path = project.paths.comments
    if not path.is_file():
        return None, None
    try:
        counts = CommentsFile(path).count()
    except DataError as exc:
        problems.append(str(exc))
        return None, None
    return counts.rows, counts.eligible


def _origin(item: LabeledItem) -> str:
    """Where a gold label came from, or NO_ORIGIN for lines that do not say."""
    origin = item.record.get("origin")
    return origin if isinstance(origin, str) and origin else NO_ORIGIN


def _by_origin(gold: list[LabeledItem]) -> dict[str, int]:
    """Gold items per origin, most common first."""
    counts: dict[str, int] = {}
    for item in gold:
        origin = _origin(item)
        counts[origin] = counts.get(origin, 0) + 1
    return dict(sorted(counts.items(), key=lambda entry: (-entry[1], entry[0])))


def _distribution(schema: LabelSchema, gold: list[LabeledItem]) -> dict[str, dict[str, int]]:
    """Gold items per value of each signal: booleans as "true"/"false", enums in schema order."""
    distribution = {
        f.name: dict.fromkeys(("true", "false") if f.kind == "bool" else f.values, 0) for f in schema.signals
    }
    for item in gold:
        for name, counts in distribution.items():
            value = item.label[name]
            key = ("true" if value else "false") if isinstance(value, bool) else value
            counts[key] += 1
    return distribution


def _corrections(
    schema: LabelSchema, gold: list[LabeledItem]
) -> tuple[dict[str, CorrectionGroup], list[CorrectionGroup]]:
    """Correction counts per origin, and per model version of the predictions origin, in first-seen order."""
    signals = tuple(f.name for f in schema.signals)
    by_origin: dict[str, CorrectionGroup] = {}
    by_version: dict[tuple[str | None, str | None], CorrectionGroup] = {}
    for item in gold:
        proposed = item.record.get("proposed")
        if not isinstance(proposed, dict):
            continue
        origin = _origin(item)
        by_origin.setdefault(origin, CorrectionGroup(origin)).add(signals, proposed, item.label)
        if origin == PREDICTIONS_ORIGIN:
            version = (_text(item.record.get("model")), _text(item.record.get("model_digest")))
            group = by_version.setdefault(version, CorrectionGroup(origin, model=version[0], model_digest=version[1]))
            group.add(signals, proposed, item.label)
    return by_origin, list(by_version.values())


def _text(value: Any) -> str | None:
    """A provenance string, or None when absent or not a string."""
    return value if isinstance(value, str) else None
