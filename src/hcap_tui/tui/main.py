"""`hcap-tui`: the console script that opens the review app (`hcap-tui review [--data-dir D]`).

The data folder is checked before the app starts, so a wrong folder is one `error:` line and exit 1,
not a half-drawn screen; a crash inside the app exits non-zero.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from hcap_tui.cli.app import DataDirOption, command_line, guarded
from hcap_tui.config import open_project
from hcap_tui.errors import DataError

cli = command_line("hcap-tui", "Review teacher labels and model predictions into the gold standard, from the keyboard.")


@cli.callback()
def _group() -> None:
    """Keep `review` a subcommand even while it is the only one."""


@cli.command()
@guarded
def review(data_dir: DataDirOption = None) -> None:
    """Open the review app on a data folder: the teacher's and the model's tabs, and Stats."""
    launch(data_dir)


def launch(data_dir: Path | None) -> None:
    """Check the data folder, then run the review app until the reviewer quits."""
    from hcap_tui.tui.app import create_app

    project = open_project(data_dir)
    if not os.access(project.paths.root, os.R_OK | os.W_OK | os.X_OK):
        raise DataError(f"data folder {project.paths.root} is not readable and writable: check its permissions")
    app = create_app(project)
    app.run()
    if app.return_code:  # the app crashed (its traceback is already printed): say so to the shell
        raise typer.Exit(app.return_code)


def main() -> None:
    """Console-script entry point for `hcap-tui`."""
    cli()
