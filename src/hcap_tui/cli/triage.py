"""`hcap triage`: teacher labels not yet in gold, most likely wrong first, with the signals a student doubts."""

from __future__ import annotations

import json
import shutil
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.choices import DEFAULT_FOLDS
from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded, note
from hcap_tui.safe_text import one_line

if TYPE_CHECKING:
    from hcap_tui.triage import GoldCheck, SignalDoubt, Suspect, Triage

DEFAULT_TOP = 20
SHOWN_PROBLEMS = 5  # skipped lines named before the rest are only counted
INDENT = 27  # where an item's input starts, and its doubted signals under it


@app.command("triage")
@guarded
def triage_command(
    top: Annotated[
        int, typer.Option("--top", "-n", min=0, help="How many of the most suspect items to list; 0 lists them all.")
    ] = DEFAULT_TOP,
    folds: Annotated[
        int,
        typer.Option("--folds", min=2, help="Cross-fitting folds: each item is judged by a student trained on the "
                                            "others."),
    ] = DEFAULT_FOLDS,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Rank teacher labels not yet in gold by how likely the teacher is wrong, naming the doubted signals.

    A cheap student (TF-IDF and logistic regression, from the `triage` extra) learns from the teacher's labels and
    gold; each item is judged by a student that never saw its own label. Review the top of the list first.
    """
    from hcap_tui.config import open_project
    from hcap_tui.store import Store
    from hcap_tui.triage import triage

    project = open_project(data_dir)
    started = time.perf_counter()
    result = triage(Store(project.paths, project.schema), folds=folds)
    elapsed = time.perf_counter() - started
    for problem in result.problems[:SHOWN_PROBLEMS]:
        note(f"warning: {problem}")
    if len(result.problems) > SHOWN_PROBLEMS:
        note(f"warning: {len(result.problems) - SHOWN_PROBLEMS} more problem(s); `hcap check` lists them all")
    for name, why in result.not_judged.items():
        note(f"note: {name} is not judged: {why}")
    note(f"student: {result.folds} folds over {result.trained_on:,} labelled items, {elapsed:.1f} s")
    shown = result.suspects if top == 0 else result.suspects[:top]
    if json_output:
        typer.echo(json.dumps(_json(project.paths.root, result, shown), ensure_ascii=False))
        return
    _report(str(project.paths.root), project.schema.name, result, shown)


def _json(root: object, result: Triage, shown: list[Suspect]) -> dict:
    """The `--json` object: counts, what was judged, the listed items most suspect first, and the gold check."""
    return {
        "data_dir": str(root),
        "labeled": result.labeled,
        "in_gold": len(result.reviewed),
        "pending": len(result.suspects),
        "trained_on": result.trained_on,
        "folds": result.folds,
        "judged": list(result.judged),
        "not_judged": dict(result.not_judged),
        "shown": len(shown),
        "items": [suspect.to_dict() for suspect in shown],
        "gold_check": result.check.to_dict() if result.check else None,
        "problems": list(result.problems),
    }


def _report(root: str, schema_name: str, result: Triage, shown: list[Suspect]) -> None:
    """The listing for people: one block per item, its doubted signals under its input."""
    typer.echo(
        f"hcap triage {one_line(root)} (schema {one_line(schema_name)}): {result.labeled:,} teacher labels, "
        f"{len(result.reviewed):,} in gold, {len(result.suspects):,} to review"
    )
    if not result.suspects:
        typer.echo(f"nothing to triage: all {result.labeled:,} teacher-labelled items are already in gold")
    width = max(shutil.get_terminal_size((120, 24)).columns, 60)
    for number, suspect in enumerate(shown, start=1):
        head = f"{number:>5}  {suspect.score:.3f}  line {suspect.line:<6} ".ljust(INDENT)
        typer.echo(head + one_line(suspect.formatted_input, width - len(head)))
        for doubt in suspect.suspects or ():
            typer.echo(" " * len(head) + _doubt(doubt))
        if not suspect.suspects:
            typer.echo(" " * len(head) + "no signal disputed; the student is only unsure")
    if shown and len(shown) < len(result.suspects):
        typer.echo(f"showing the {len(shown):,} most suspect of {len(result.suspects):,} (--top 0 lists all)")
    if result.check:
        typer.echo(_check_line(result.check))


def _doubt(doubt: SignalDoubt) -> str:
    """One doubted signal: the teacher's value and the student's, with the student's probability of its own."""
    return (
        f"{doubt.field}: teacher {_value(doubt.teacher)}, student {_value(doubt.student)} "
        f"({doubt.p_student:.0%}; teacher's value {doubt.p_teacher:.0%})"
    )


def _check_line(check: GoldCheck) -> str:
    """How the same ranking did on the items gold holds: the reason to trust (or not) the list above."""
    auroc = f"; AUROC {check.auroc:.2f}" if check.auroc is not None else ""
    return (
        f"on the {check.items:,} items gold holds: {check.top_errors} of the {check.top} most suspect were teacher "
        f"errors ({check.top_precision:.0%}; {check.base_rate:.0%} of all {check.items:,}){auroc}"
    )


def _value(value: object) -> str:
    """A label value as the files spell it."""
    return ("true" if value else "false") if isinstance(value, bool) else one_line(str(value))
