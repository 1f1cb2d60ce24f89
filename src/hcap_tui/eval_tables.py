"""The Rich renderables of an `hcap eval` run: the headline and caveats, a table per kind of figure, the history.

Printed by `hcap eval`; Rich, no Textual.
"""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.markup import escape
from rich.table import Table

from hcap_tui.evaluation import SMALL_SET, EvalResult, HistoryRow
from hcap_tui.metrics import BinaryScore, EnumScore, Interval, Scorecard
from hcap_tui.schema import LabelSchema

SHOWN_PROBLEMS = 5  # failures listed by name before the rest are only counted
DIGEST_SHOWN = 12  # hex digits of a model digest shown to tell versions apart


def eval_report(schema: LabelSchema, result: EvalResult) -> Group:
    """The human-readable evaluation: headline, caveats, then one table per kind of figure."""
    c = result.comparison
    digest = f" ({escape(_digest(result.model_digest))})" if result.model_digest else ""
    lines = [
        (
            f"[bold]hcap eval[/bold]: {escape(result.model_name)}{digest} on {c.n} held-out items "
            f"({c.from_gold} scored against gold, {c.n - c.from_gold} against the exported label)"
        ),
    ]
    if c.model.failed:
        lines.append(f"model: {c.model.failed} of {c.n} predictions failed and count as wrong:")
        lines.extend(f"  {escape(_tail(text))}: {escape(error)}" for text, error in result.failures[:SHOWN_PROBLEMS])
        if len(result.failures) > SHOWN_PROBLEMS:
            lines.append(f"  … and {len(result.failures) - SHOWN_PROBLEMS} more")
    if c.teacher_unlabeled:
        lines.append(
            f"teacher: {c.teacher_unlabeled} of {c.n} items were never labeled by the teacher; "
            f"its figures cover the other {c.teacher.n}"
        )
    if c.n < SMALL_SET:
        lines.append(
            f"[yellow]note[/yellow]: {c.n} items is a small set, so the 95% intervals in brackets are wide; "
            "treat differences inside them as noise"
        )
    sides = {"model": c.model, "teacher": c.teacher}
    parts: list[object] = ["\n".join(lines), _boolean_table(schema, sides)]
    for f in schema.enums:
        parts.append(_enum_table(f.name, {side: card.enums[f.name] for side, card in sides.items()}))
    parts.append(_overall_table(sides))
    return Group(*parts)


def _boolean_table(schema: LabelSchema, sides: dict[str, Scorecard]) -> Table:
    """Precision, recall and F1 with intervals, and support, per boolean signal and labeller."""
    table = Table(title="Boolean signals (95% intervals)", title_justify="left", box=box.SIMPLE_HEAD)
    widest = max((len(f.name) for f in schema.booleans), default=6)
    table.add_column("signal", no_wrap=True, min_width=widest)  # never cut a name; the figures wrap instead
    table.add_column("by")
    for column in ("precision", "recall", "F1"):
        table.add_column(column, min_width=len("[0.00-0.00]"))
    table.add_column("support", justify="right")
    for f in schema.booleans:
        for side, card in sides.items():
            s: BinaryScore = card.booleans[f.name]
            table.add_row(
                escape(f.name) if side == "model" else "",
                side,
                _figure(s.precision, s.precision_ci),
                _figure(s.recall, s.recall_ci),
                _figure(s.f1, s.f1_ci),
                str(s.support),
                end_section=side == "teacher",
            )
    return table


def _enum_table(name: str, scores: dict[str, EnumScore]) -> Table:
    """Accuracy per labeller, then each labeller's confusion matrix (rows: gold, columns: predicted)."""
    values = next(iter(scores.values())).values
    table = Table(title=f"{escape(name)}: accuracy and confusion (rows gold, columns predicted)", title_justify="left")
    table.add_column("by")
    table.add_column("accuracy")
    table.add_column("gold")
    for value in values:
        table.add_column(escape(value), justify="right")
    for side, s in scores.items():
        for i, truth in enumerate(values):
            table.add_row(
                side if i == 0 else "",
                _figure(s.accuracy, s.accuracy_ci) if i == 0 else "",
                escape(truth),
                *(str(s.confusion[truth][guess]) for guess in values),
                end_section=i == len(values) - 1,
            )
    return table


def _overall_table(sides: dict[str, Scorecard]) -> Table:
    """Exact match over every signal, and mean F1 over the booleans, per labeller."""
    table = Table(title="All signals", title_justify="left")
    table.add_column("by")
    table.add_column("items", justify="right")
    table.add_column("exact match")
    table.add_column("mean F1")
    for side, card in sides.items():
        mean = card.mean_f1
        table.add_row(
            side,
            str(card.n),
            _figure(card.exact_match, card.exact_match_ci),
            "-" if mean is None else f"{mean:.2f}",
        )
    return table


def history_table(history: list[HistoryRow]) -> Table:
    """One row per recorded run, oldest first, so a new model version can be compared with the last."""
    table = Table(title="History (evals.jsonl)", title_justify="left")
    table.add_column("time")
    table.add_column("model")
    table.add_column("digest")
    table.add_column("items", justify="right")
    table.add_column("exact match", justify="right")
    table.add_column("mean F1", justify="right")
    for row in history:
        table.add_row(
            escape(row.created_at.replace("T", " ")[:16]),
            escape(row.model),
            escape(_digest(row.digest)),
            str(row.n),
            f"{row.exact_match:.2f}",
            "-" if row.mean_f1 is None else f"{row.mean_f1:.2f}",
        )
    return table


def _figure(value: float, interval: Interval) -> str:
    """A figure with its interval, e.g. `0.87 [0.79-0.92]` (markup-safe)."""
    return f"{value:.2f} \\[{interval[0]:.2f}-{interval[1]:.2f}]"


def _digest(digest: str | None) -> str:
    """The start of a model digest, enough to tell versions apart."""
    return (digest or "-").removeprefix("sha256:")[:DIGEST_SHOWN]


def _tail(text: str, width: int = 50) -> str:
    """The end of an input on one line: the horse's own comment, which tells items apart."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else "…" + flat[-(width - 1) :]
