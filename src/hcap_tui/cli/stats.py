"""`hcap stats`: where the loop stands, from the project's files, changing none of them."""

from __future__ import annotations

import json

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded, note

SHOWN_PROBLEMS = 5  # skipped lines listed by name before the rest are only counted


@app.command()
@guarded
def stats(data_dir: DataDirOption = None, json_output: JsonOption = False) -> None:
    """Count comments, teacher labels, predictions awaiting review and gold, and how often review corrects."""
    from hcap_tui.config import open_project
    from hcap_tui.stats import compute_stats

    project = open_project(data_dir)
    result = compute_stats(project)
    for problem in result.problems[:SHOWN_PROBLEMS]:
        note(f"warning: {problem}")
    if len(result.problems) > SHOWN_PROBLEMS:
        note(f"warning: {len(result.problems) - SHOWN_PROBLEMS} more problem(s); `hcap check` lists them all")
    if json_output:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.markup import escape

    from hcap_tui.stats_tables import stats_renderable

    console = Console(highlight=False)
    console.print(f"[bold]hcap stats[/bold]: {escape(str(project.paths.root))} (schema {escape(project.schema.name)})")
    console.print(stats_renderable(result))
