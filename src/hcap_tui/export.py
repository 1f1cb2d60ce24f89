"""Turn the gold standard into fine-tuning files: training_data.jsonl and eval_data.jsonl.

Each gold item becomes one row whose completion is the label's canonical JSON (`schema.dumps`): schema
key order, the same text the structured-output grammar lets the served model produce. Which file an
item lands in depends only on a hash of its formatted_input, so an item never moves between train and
eval as gold grows from round to round, and the same gold always gives byte-identical files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hcap_tui.choices import DEFAULT_EVAL_FRACTION, ExportFormat
from hcap_tui.errors import DataError
from hcap_tui.gcpause import gc_paused
from hcap_tui.jsonl import LineProblem, encode, write_atomic
from hcap_tui.schema import value_name

if TYPE_CHECKING:
    from hcap_tui.config import DataPaths
    from hcap_tui.schema import LabelSchema
    from hcap_tui.store import GoldIndex, LabeledItem

# A minority value seen fewer times than this, or in a smaller share of training rows, is too rare to learn reliably.
RARE_MIN_COUNT = 20
RARE_MIN_SHARE = 0.05
# Fewer training rows than this make any fine-tune a guess, whatever the balance of values.
MIN_TRAIN_ROWS = 100
# Fewer held-out rows than this leave `hcap eval` unable to tell one model version from the next.
MIN_EVAL_ROWS = 20

TRAIN = "train"
EVAL = "eval"


def too_few_eval_rows(path: Path, rows: int) -> str:
    """The advice for a held-out file too small to evaluate on; `hcap export` and `hcap eval` both give it."""
    size = f"only {rows} row{'' if rows == 1 else 's'}" if rows else "0 rows"
    return (
        f"{path.name} has {size} (hcap eval wants at least {MIN_EVAL_ROWS}): "
        "approve more items or raise --eval-fraction, then run `hcap export` again"
    )


def split_key(formatted_input: str) -> str:
    """The item's stable identity for splitting and ordering: the SHA-256 of its formatted_input."""
    # surrogatepass: a lone surrogate read from a JSON escape still hashes (valid text hashes as plain UTF-8).
    return hashlib.sha256(formatted_input.encode("utf-8", "surrogatepass")).hexdigest()


def split_of(formatted_input: str, eval_fraction: float) -> str:
    """`"eval"` for the items whose hash falls below `eval_fraction` of the hash space, else `"train"`.

    Growing the fraction only moves items from train to eval, never back, and adding gold never moves any.
    """
    return EVAL if _position(split_key(formatted_input)) < eval_fraction else TRAIN


def _position(key: str) -> float:
    """Where a split key falls in the hash space, from 0 to 1."""
    return int(key[:16], 16) / 16**16


def signal_values(schema: LabelSchema) -> list[tuple[str, list[str]]]:
    """Every signal with the values it can take, in schema order."""
    return [(f.name, ["true", "false"] if f.kind == "bool" else list(f.values)) for f in schema.signals]


def export_row(schema: LabelSchema, formatted_input: str, label: dict[str, Any], fmt: ExportFormat) -> dict[str, Any]:
    """One training row in the requested shape; the completion is the label's canonical JSON."""
    completion = schema.dumps(label)
    if fmt is ExportFormat.CHAT:
        return {
            "prompt": [{"role": "user", "content": formatted_input}],
            "completion": [{"role": "assistant", "content": completion}],
        }
    return {"prompt": formatted_input, "completion": completion}


@dataclass(frozen=True)
class RareValue:
    """A signal value the training split holds too few of for a model to learn it."""

    field: str
    value: str
    count: int
    total: int

    def __str__(self) -> str:
        share = self.count / self.total if self.total else 0.0
        return (
            f"{self.field}={self.value} is in only {self.count} of {self.total} training rows ({share:.1%}): "
            f"too rare to learn reliably; review more items with {self.field}={self.value} before training"
        )


@dataclass
class Split:
    """The rows of one output file, held as (input, label values) in file order, and the label-value counts."""

    name: str
    path: Path
    schema: LabelSchema
    fmt: ExportFormat
    items: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    def content(self) -> bytes:
        """The file's exact bytes: one JSON line per row."""
        schema, fmt, names = self.schema, self.fmt, self.schema.names
        rows = [export_row(schema, text, dict(zip(names, values)), fmt) for text, values in self.items]
        return b"".join([encode(row) for row in rows])


@dataclass
class Export:
    """What an export writes and what it found on the way."""

    train: Split
    eval: Split
    fmt: ExportFormat
    eval_fraction: float
    skipped: list[LineProblem] = field(default_factory=list)
    left_out: list[LineProblem] = field(default_factory=list)
    """Gold items with an empty text field: a completion without its reasoning would teach the model to skip it."""

    def left_out_warning(self) -> str | None:
        """One line saying how many gold items were left out for empty text, and on which lines, or None."""
        if not self.left_out:
            return None
        lines = ", ".join(str(problem.line) for problem in self.left_out)
        reasons = "; ".join(dict.fromkeys(problem.reason for problem in self.left_out))
        return (
            f"{len(self.left_out)} gold item(s) left out: {reasons} ({self.left_out[0].path.name} line(s) {lines}); "
            "approve them again in the review app with the text written"
        )

    def rare_values(self) -> list[RareValue]:
        """Minority training values below `RARE_MIN_COUNT` rows or `RARE_MIN_SHARE` of the rows, in schema order.

        Only values held by fewer than half the rows count: the majority value of a field is never "rare",
        however small the export.
        """
        total = len(self.train)
        rare = []
        for name, values in self.train.counts.items():
            for value, count in values.items():
                minority = count * 2 < total
                if minority and (count < RARE_MIN_COUNT or count < RARE_MIN_SHARE * total):
                    rare.append(RareValue(name, value, count, total))
        return rare

    def eval_warning(self) -> str | None:
        """Why the held-out split cannot measure a model (empty, or under `MIN_EVAL_ROWS`), or None when it can."""
        rows = len(self.eval)
        if rows >= MIN_EVAL_ROWS:
            return None
        return too_few_eval_rows(self.eval.path, rows)

    @property
    def too_small(self) -> bool:
        """Whether the training split is below `MIN_TRAIN_ROWS`, too small for a useful fine-tune."""
        return len(self.train) < MIN_TRAIN_ROWS

    def summary(self) -> dict[str, Any]:
        """A JSON-ready account of the export, for `--json` and for reports."""
        return {
            "format": self.fmt.value,
            "eval_fraction": self.eval_fraction,
            "train": {"path": str(self.train.path), "rows": len(self.train), "counts": self.train.counts},
            "eval": {"path": str(self.eval.path), "rows": len(self.eval), "counts": self.eval.counts},
            "eval_warning": self.eval_warning(),
            "rare": [
                {"field": r.field, "value": r.value, "count": r.count, "message": str(r)} for r in self.rare_values()
            ],
            "skipped": [str(problem) for problem in self.skipped],
            "left_out": [str(problem) for problem in self.left_out],
        }


@gc_paused()
def build_export(
    schema: LabelSchema,
    paths: DataPaths,
    gold: GoldIndex,
    *,
    fmt: ExportFormat = ExportFormat.PROMPT_COMPLETION,
    eval_fraction: float = DEFAULT_EVAL_FRACTION,
) -> Export:
    """Split resolved gold into ordered train and eval rows; DataError when there is nothing to train on.

    Runs with the cycle collector paused: everything it builds stays alive until the files are written, and
    holds no cycles.
    """
    if not 0.0 <= eval_fraction < 1.0:
        raise DataError(f"--eval-fraction {eval_fraction} is out of range: give a number at least 0 and below 1")
    skipped = list(gold.loaded.problems)
    export = Export(Split(TRAIN, paths.training, schema, fmt), Split(EVAL, paths.eval, schema, fmt), fmt, eval_fraction,
                    skipped)
    blank_in = blank_texts(schema)
    by_split: dict[str, list[tuple[str, str, tuple[Any, ...]]]] = {TRAIN: [], EVAL: []}
    kept = 0
    for item in gold.by_input.values():
        values = item.values
        if values is None:
            continue
        blank = blank_in(item)
        if blank:
            export.left_out.append(blank_problem(paths.gold, item.line, blank))
            continue
        key = split_key(item.formatted_input)
        by_split[EVAL if _position(key) < eval_fraction else TRAIN].append((key, item.formatted_input, values))
        kept += 1
    if not kept:
        unreadable = f" ({len(skipped)} unreadable lines: hcap check lists them)" if skipped else ""
        empty = f" ({len(export.left_out)} with empty text: hcap check lists them)" if export.left_out else ""
        raise DataError(
            f"no gold items in {paths.gold}{unreadable}{empty}: approve items in the review app (hcap-tui review), "
            "then export"
        )
    for split in (export.train, export.eval):
        split.items = [(text, values) for _, text, values in sorted(by_split[split.name])]
        split.counts = count_values(schema, (values for _, values in split.items))
    if not export.train.items:
        raise DataError(
            f"all {kept} gold items fall in the eval split: lower --eval-fraction or approve more items first"
        )
    return export


def blank_texts(schema: LabelSchema) -> Callable[[LabeledItem], tuple[str, ...]]:
    """The function naming the text fields a labelled item leaves empty (none for a failed prediction): export
    leaves such gold out, and `hcap check` lists it."""
    texts = [(f.name, schema.names.index(f.name)) for f in schema.texts]

    def blank(item: LabeledItem) -> tuple[str, ...]:
        values = item.values
        return () if values is None else tuple(name for name, at in texts if not str(values[at] or "").strip())

    return blank


def blank_problem(path: Path, line: int, blank: Sequence[str], why: str = "") -> LineProblem:
    """The problem of a line whose label leaves the text fields `blank` empty; `why` is added to the reason."""
    names = " and ".join(blank)
    return LineProblem(path, line, f"{names} {'is' if len(blank) == 1 else 'are'} empty{why}")


def count_values(schema: LabelSchema, labels: Iterable[tuple[Any, ...]]) -> dict[str, dict[str, int]]:
    """How many labels (value tuples in schema order) carry each value of each signal, every possible value listed
    (zeros included)."""
    counts = {name: dict.fromkeys(values, 0) for name, values in signal_values(schema)}
    columns = [(counts[f.name], schema.names.index(f.name)) for f in schema.signals]
    for values in labels:
        for per_value, at in columns:
            per_value[value_name(values[at])] += 1
    return counts


@gc_paused()
def write_export(export: Export) -> None:
    """Replace both files atomically: a reader sees the old file or the new one, never part of one."""
    for split in (export.train, export.eval):
        write_atomic(split.path, split.content())
