"""`hcap stats`: where the loop stands, from the project's files, changing none of them."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded, note
from hcap_tui.config import open_project
from hcap_tui.stats import CorrectionGroup, Stats, compute_stats

SHOWN_PROBLEMS = 5  # skipped lines listed by name before the rest are only counted


@app.command()
@guarded
def stats(data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Count comments, teacher labels, predictions awaiting review and gold, and how often review corrects."""
    project = open_project(data_dir)
    result = compute_stats(project)
    for problem in result.problems[:SHOWN_PROBLEMS]:
        note(f"warning: {problem}")
    if len(result.problems) > SHOWN_PROBLEMS:
        note(f"warning: {len(result.problems) - SHOWN_PROBLEMS} more problem(s); `hcap check` lists them all")
    if json_output:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    console = Console(highlight=False)
    console.print(f"[bold]hcap stats[/bold]: {escape(str(project.paths.root))} (schema {escape(project.schema.name)})")
    console.print(_counts_table(result))
    if result.gold:
        console.print(_distribution_table(result))
    if result.corrections:
        console.print(_corrections_table(result))
    else:
        console.print("no review corrections recorded yet (gold lines carry them once approved in the review app)")


def _counts_table(s: Stats) -> Table:
    """How many items each stage of the loop holds."""
    table = Table(title="The loop", title_justify="left", show_header=False)
    table.add_column("stage")
    table.add_column("items", justify="right")
    table.add_column("detail")
    if s.eligible_comments is None:
        table.add_row("comments.csv", "-", "not present or unreadable")
    else:
        table.add_row("eligible comments", f"{s.eligible_comments:,}", f"of {s.comment_rows:,} rows in comments.csv")
    table.add_row("teacher-labeled", f"{s.labeled:,}", f"{s.labeled_pending:,} not yet reviewed")
    table.add_row("predictions pending review", f"{s.predictions_pending:,}", f"{s.predictions_failed:,} failed")
    origins = ", ".join(f"{escape(origin)} {count:,}" for origin, count in s.gold_by_origin.items())
    table.add_row("gold", f"{s.gold:,}", f"by origin: {origins}" if origins else "")
    return table


def _distribution_table(s: Stats) -> Table:
    """Gold items per value of each signal, with shares."""
    table = Table(title=f"Label distribution in gold ({s.gold:,} items)", title_justify="left")
    table.add_column("signal")
    table.add_column("values")
    for name, counts in s.distribution.items():
        values = "  ".join(f"{escape(value)} {count:,} ({count / s.gold:.0%})" for value, count in counts.items())
        table.add_row(escape(name), values)
    return table


def _corrections_table(s: Stats) -> Table:
    """Per signal (rows) and source (columns: each origin, then each model version), the share the reviewer changed."""
    groups = [*s.corrections.items(), *((_version(group), group) for group in s.model_corrections)]
    table = Table(title="Reviewer corrections of proposed values", title_justify="left")
    table.add_column("signal")
    for source, _ in groups:
        table.add_column(escape(source), justify="right")
    table.add_row("items with a proposal", *(f"{group.items:,}" for _, group in groups))
    table.add_row("no proposal (not rated)", *(f"{group.no_proposal:,}" for _, group in groups))
    table.add_row(
        "any signal",
        *(_share(group.changed_items, group.items) for _, group in groups),
        end_section=True,
    )
    for f in s.schema.signals:
        cells = (_share(group.changed.get(f.name, 0), group.reviewed.get(f.name, 0)) for _, group in groups)
        table.add_row(escape(f.name), *cells)
    return table


def _version(group: CorrectionGroup) -> str:
    """The column name of one model version: model name over its digest prefix."""
    digest = (group.model_digest or "").removeprefix("sha256:")[:12]
    return f"{group.model or 'unknown model'}\n{digest}".rstrip()


def _share(changed: int, proposed: int) -> str:
    """One cell: the change rate and its counts, or a dash when nothing was proposed."""
    return f"{changed / proposed:.0%} ({changed}/{proposed})" if proposed else "-"
