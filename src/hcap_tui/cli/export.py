"""`hcap export`: write the gold standard out as training_data.jsonl and eval_data.jsonl."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.choices import DEFAULT_EVAL_FRACTION, ExportFormat
from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded, note

if TYPE_CHECKING:
    from rich.table import Table

    from hcap_tui.export import Export


@app.command()
@guarded
def export(
    fmt: Annotated[
        ExportFormat,
        typer.Option(
            "--format",
            help="prompt-completion: plain strings; chat: user/assistant messages for chat-template training.",
        ),
    ] = ExportFormat.PROMPT_COMPLETION,
    eval_fraction: Annotated[
        float,
        typer.Option(
            "--eval-fraction",
            help="Share of gold held out for evaluation, chosen by a stable hash of each item.",
        ),
    ] = DEFAULT_EVAL_FRACTION,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Write goldstandard.jsonl (latest line per item) to training_data.jsonl and eval_data.jsonl."""
    from hcap_tui.config import open_project
    from hcap_tui.export import MIN_TRAIN_ROWS, build_export, write_export
    from hcap_tui.store import Store

    project = open_project(data_dir)
    gold = Store(project.paths, project.schema).gold()
    result = build_export(project.schema, project.paths, gold, fmt=fmt, eval_fraction=eval_fraction)
    write_export(result)
    for problem in result.skipped:
        note(f"warning: {problem}")
    left_out = result.left_out_warning()
    if left_out:
        note(f"warning: {left_out}")
    if result.too_small:
        note(
            f"warning: only {len(result.train)} training rows: review at least {MIN_TRAIN_ROWS} items "
            "before fine-tuning"
        )
    for rare in result.rare_values():
        note(f"warning: {rare}")
    eval_warning = result.eval_warning()
    if eval_warning:
        note(f"warning: {eval_warning}")
    if as_json:
        typer.echo(json.dumps(result.summary(), ensure_ascii=False))
        return
    from rich.console import Console

    console = Console(soft_wrap=True)
    console.print(counts_table(result))
    console.print(
        f"wrote {len(result.train)} rows to {result.train.path} and {len(result.eval)} rows to "
        f"{result.eval.path}",
        markup=False,
        highlight=False,
    )


def counts_table(result: Export) -> Table:
    """One row per signal value: how many train and eval rows carry it."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"gold by signal value ({result.fmt.value} rows)", title_justify="left")
    table.add_column("signal")
    table.add_column("value")
    table.add_column(f"train ({len(result.train)})", justify="right")
    table.add_column(f"eval ({len(result.eval)})", justify="right")
    rare = {(r.field, r.value) for r in result.rare_values()}
    for name, values in result.train.counts.items():
        for index, (value, count) in enumerate(values.items()):
            style = "yellow" if (name, value) in rare else None
            shown = Text(name if index == 0 else ""), Text(value)  # user-defined values are never markup
            table.add_row(*shown, str(count), str(result.eval.counts[name][value]), style=style)
    return table
