"""`hcap eval` without the printing: the held-out items, the model's run over them, the scores, the history.

The held-out items come from eval_data.jsonl as `hcap export` wrote it (plain or chat rows). Each
item's reference is its current gold label when the reviewer has approved one, else the exported
completion. The local model is scored on every item (a failed prediction counts as wrong); the
teacher's labels in labeled.jsonl are scored on the items the teacher labeled, so the model can be
compared with the bar it is meant to reach. Every run appends one line to evals.jsonl so successive
model versions can be compared.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcap_tui.config import DataPaths, Project
from hcap_tui.errors import DataError, LabelError
from hcap_tui.export import too_few_eval_rows
from hcap_tui.gcpause import gc_paused
from hcap_tui.jsonl import JsonlFile, LineProblem
from hcap_tui.metrics import DIGITS, Label, Scorecard, score
from hcap_tui.models import Labeller, LabelResult, label_many, student
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, now_iso

SMALL_SET = 200  # below this many items the intervals are wide enough to say so


@dataclass(frozen=True)
class EvalItem:
    """One held-out item and the label it is scored against."""

    formatted_input: str
    reference: Label
    from_gold: bool  # True when the reference is the reviewer's gold, False when it is the exported completion


@dataclass
class EvalSet:
    """The usable items of eval_data.jsonl, in file order, and the lines that were skipped."""

    items: list[EvalItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def from_gold(self) -> int:
        """Items whose reference is a gold label."""
        return sum(1 for item in self.items if item.from_gold)


@dataclass
class Comparison:
    """The model's and the teacher's scorecards on the same held-out items."""

    n: int
    from_gold: int
    model: Scorecard
    teacher: Scorecard
    teacher_unlabeled: int  # held-out items the teacher never labeled, left out of its scorecard


@dataclass
class EvalResult:
    """One evaluation run: which model, when, and how it and the teacher scored."""

    model_name: str
    model_digest: str | None
    created_at: str
    comparison: Comparison
    failures: list[tuple[str, str]] = field(default_factory=list)  # (formatted_input, why) per failed prediction
    problems: list[str] = field(default_factory=list)  # skipped input lines

    def to_dict(self) -> dict[str, Any]:
        """The `--json` object: n, the model's and the teacher's scorecards, then run details."""
        c = self.comparison
        return {
            "n": c.n,
            "model": c.model.to_dict(),
            "teacher": c.teacher.to_dict(),
            "model_name": self.model_name,
            "model_digest": self.model_digest,
            "created_at": self.created_at,
            "from_gold": c.from_gold,
            "teacher_unlabeled": c.teacher_unlabeled,
            "failures": [{"formatted_input": text, "error": error} for text, error in self.failures],
        }

    def history_record(self) -> dict[str, Any]:
        """The evals.jsonl line for this run: headline figures at top level, every metric below."""
        c = self.comparison
        mean = c.model.mean_f1
        return {
            "created_at": self.created_at,
            "model": self.model_name,
            "model_digest": self.model_digest,
            "n": c.n,
            "failed": c.model.failed,
            "exact_match": round(c.model.exact_match, DIGITS),
            "mean_f1": None if mean is None else round(mean, DIGITS),
            "metrics": {"model": c.model.to_dict(), "teacher": c.teacher.to_dict()},
        }


@dataclass(frozen=True)
class HistoryRow:
    """One past run as the history table shows it."""

    created_at: str
    model: str
    digest: str | None
    n: int
    exact_match: float
    mean_f1: float | None


@gc_paused()
def load_eval_set(store: Store) -> EvalSet:
    """The held-out items, or DataError naming the fix when there are none to evaluate.

    Reads eval_data.jsonl, then streams gold keeping only the held-out items' labels, so memory follows the
    held-out set, not gold.
    """
    path = store.paths.eval
    if not path.is_file():
        raise DataError(f"{path} not found: run `hcap export` to write the held-out set first")
    rows: list[tuple[int, str, str] | str] = []  # (line, input, completion), or why the line was skipped
    for line_no, row in JsonlFile(path).read():
        if isinstance(row, LineProblem):
            rows.append(str(row))
            continue
        try:
            rows.append((line_no, *_prompt_and_completion(row)))
        except LabelError as exc:
            rows.append(f"{path.name} line {line_no}: {exc}; skipped")
    gold = _latest_labels(store, store.paths.gold, {row[1] for row in rows if not isinstance(row, str)})
    eval_set = EvalSet()
    seen: dict[str, int] = {}
    for row in rows:
        if isinstance(row, str):
            eval_set.problems.append(row)
            continue
        line_no, formatted_input, completion = row
        try:
            if formatted_input in seen:
                raise LabelError(f"same prompt as line {seen[formatted_input]}")
            approved = gold.get(formatted_input)
            if approved is not None:
                item = EvalItem(formatted_input, approved, from_gold=True)
            else:
                item = EvalItem(formatted_input, store.schema.parse(completion), from_gold=False)
        except LabelError as exc:
            eval_set.problems.append(f"{path.name} line {line_no}: {exc}; skipped")
            continue
        seen[formatted_input] = line_no
        eval_set.items.append(item)
    if not eval_set.items and not eval_set.problems:
        raise DataError(too_few_eval_rows(path, 0))
    if not eval_set.items:
        raise DataError(
            f"{path} has no usable rows ({eval_set.problems[0]}): run `hcap export` again to rewrite the held-out set"
        )
    return eval_set


def _latest_labels(
    store: Store, path: Path, wanted: Collection[str] | None, problems: list[str] | None = None
) -> dict[str, Label]:
    """The label of the last line per input of a label file (failed predictions left out), for the inputs in
    `wanted` only (all when None); its skipped lines go to `problems` when given."""
    labels: dict[str, Label] = {}
    for entry in store.scan(path):
        if isinstance(entry, LineProblem):
            if problems is not None:
                problems.append(str(entry))
        elif (label := entry.label) is not None and (wanted is None or entry.formatted_input in wanted):
            labels[entry.formatted_input] = label  # a failed line never hides an earlier label
    return labels


def _prompt_and_completion(row: dict[str, Any]) -> tuple[str, str]:
    """The input text and completion text of a plain or chat-form export row."""
    prompt, completion = row.get("prompt"), row.get("completion")
    if isinstance(prompt, list):
        prompt = _message_content(prompt, "user")
    if isinstance(completion, list):
        completion = _message_content(completion, "assistant")
    if not isinstance(prompt, str) or not prompt or not isinstance(completion, str):
        raise LabelError('expected "prompt" and "completion" as text or as chat messages')
    return prompt, completion


def _message_content(messages: list[Any], role: str) -> str | None:
    """The content of the last message with `role` in a chat-form list, or None."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == role:
            content = message.get("content")
            return content if isinstance(content, str) else None
    return None


@gc_paused()
def teacher_labels(store: Store, inputs: Collection[str] | None = None) -> tuple[dict[str, Label], list[str]]:
    """The teacher's label per input (the last line wins), of `inputs` only when given, and the lines of
    labeled.jsonl that were skipped."""
    problems: list[str] = []
    return _latest_labels(store, store.paths.labeled, inputs, problems), problems


@gc_paused()
def compare(
    schema: LabelSchema,
    eval_set: EvalSet,
    predictions: Mapping[str, Label | None],
    teacher: Mapping[str, Label],
) -> Comparison:
    """Score the model's labels (None or absent: failed) and the teacher's labels against the references."""
    items = eval_set.items
    model = score(schema, ((item.reference, predictions.get(item.formatted_input)) for item in items))
    overlap = [(item.reference, teacher[item.formatted_input]) for item in items if item.formatted_input in teacher]
    return Comparison(
        n=len(items),
        from_gold=eval_set.from_gold,
        model=model,
        teacher=score(schema, overlap),
        teacher_unlabeled=len(items) - len(overlap),
    )


def run_model(
    model: Labeller,
    inputs: Iterable[str],
    concurrency: int,
    on_prediction: Callable[[LabelResult], None] | None = None,
) -> dict[str, LabelResult]:
    """Every input's prediction, keyed by input; `on_prediction` hears of each as it completes."""
    predictions: dict[str, LabelResult] = {}
    for done in label_many(model, inputs, concurrency):
        prediction = predictions[done.item] = done.result
        if on_prediction is not None:
            on_prediction(prediction)
    return predictions


def evaluate(
    project: Project,
    *,
    model_name: str | None = None,
    host: str | None = None,
    concurrency: int = 1,
    on_start: Callable[[int], None] | None = None,
    on_prediction: Callable[[LabelResult], None] | None = None,
) -> EvalResult:
    """Run the student model (`model_name`, else the project's) over the held-out items, score it and the
    teacher, and append the run to evals.jsonl.

    The data files are read before the server is contacted, so a missing eval set is reported first.
    Server and model problems surface as the model layer's one-line errors and leave evals.jsonl untouched.
    """
    store = Store(project.paths, project.schema)
    eval_set = load_eval_set(store)
    teacher, teacher_problems = teacher_labels(store, {item.formatted_input for item in eval_set.items})
    with student(project, model_name, host=host) as model:
        digest = model.check()
        model_name = model.spec.recorded
        if on_start is not None:
            on_start(len(eval_set.items))
        predictions = run_model(model, (item.formatted_input for item in eval_set.items), concurrency, on_prediction)
    result = EvalResult(
        model_name=model_name,
        model_digest=digest,
        created_at=now_iso(),
        comparison=compare(project.schema, eval_set, {k: p.label for k, p in predictions.items()}, teacher),
        failures=[(p.formatted_input, p.error or "no label") for p in predictions.values() if not p.ok],
        problems=eval_set.problems + teacher_problems,
    )
    store.append(project.paths.evals, [result.history_record()])
    return result


def read_history(paths: DataPaths) -> tuple[list[HistoryRow], list[str]]:
    """Past runs from evals.jsonl, oldest first, and the lines that could not be read as runs."""
    rows: list[HistoryRow] = []
    problems: list[str] = []
    for line_no, record in JsonlFile(paths.evals).read():
        if isinstance(record, LineProblem):
            problems.append(str(record))
            continue
        try:
            rows.append(
                HistoryRow(
                    created_at=str(record["created_at"]),
                    model=str(record["model"]),
                    digest=record["model_digest"] if isinstance(record.get("model_digest"), str) else None,
                    n=int(record["n"]),
                    exact_match=float(record["exact_match"]),
                    mean_f1=None if record.get("mean_f1") is None else float(record["mean_f1"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            problems.append(f"{paths.evals.name} line {line_no}: not an evaluation run record; skipped")
    return rows, problems
