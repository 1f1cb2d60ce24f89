"""`hcap check`: read every file of a data folder, change none, and report what is wrong."""

from __future__ import annotations

import typer

from hcap_tui.cli.app import DataDirOption, app, guarded


@app.command()
@guarded
def check(data_dir: DataDirOption = None) -> None:
    """Read every file in the data folder without changing any; exit 1 if something is wrong."""
    from hcap_tui.config import open_project
    from hcap_tui.folder_check import check_folder

    project = open_project(data_dir)
    report = check_folder(project)
    typer.echo(f"hcap check {project.paths.root} (schema: {project.schema.name}, {len(project.schema.fields)} fields)")
    for line in report.lines:
        typer.echo(line)
    if report.problems:
        typer.echo(f"{report.problems} problem(s) found; bad lines are skipped by every command until fixed.")
        raise typer.Exit(1)
    typer.echo("no problems found")
