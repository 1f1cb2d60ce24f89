"""`hcap gold ...`: explicit maintenance of goldstandard.jsonl."""

from __future__ import annotations

import typer

from hcap_tui.cli.app import DataDirOption, app, command_group, guarded

gold_app = command_group(app, "gold", "Maintain goldstandard.jsonl.")


@gold_app.command()
@guarded
def compact(data_dir: DataDirOption = None) -> None:
    """Rewrite gold atomically with one line per input (the latest); unreadable lines are set aside in a file."""
    from hcap_tui.config import open_project
    from hcap_tui.store import Store

    project = open_project(data_dir)
    report = Store(project.paths, project.schema).compact_gold()
    typer.echo(f"gold: {report.kept} items kept, {report.superseded} superseded lines dropped")
    if report.set_aside_path:
        typer.echo(f"{report.set_aside} unreadable line(s) set aside in {report.set_aside_path}")
