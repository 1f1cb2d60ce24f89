"""The typer application every `hcap` command registers on, and what the commands share.

User mistakes (`HcapError`) end a command with one line on stderr and a non-zero exit, never a
traceback, and so does a file the system refuses (`OSError`: a folder where a file should be, a
symbolic-link loop, a permission, a full disk) wherever a command meets it; Ctrl-C ends it with exit
130 after whatever was already saved stays saved.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from hcap_tui import DATA_DIR_ENV
from hcap_tui.errors import HcapError, os_problem

# A group's `--help` flag, left off, reaches typer as None rather than False, and typer then builds a
# pydantic validator for it: importing pydantic adds about half again to every command's start. A default of
# False for each group's own `--help` (click hands a group's default map only to that group) skips it.
QUICK_START = {"default_map": {"help": False}}


def command_line(name: str, help: str) -> typer.Typer:
    """A typer app with the settings both console scripts share: help when run bare, plain (markup-free) help
    and usage errors, no local variables in the traceback of a real bug, and no pydantic import to start."""
    return typer.Typer(
        name=name,
        help=help,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        context_settings=QUICK_START,
    )


def command_group(parent: typer.Typer, name: str, help: str) -> typer.Typer:
    """A group of subcommands (`hcap model ...`) added to `parent`, starting as quickly as the app."""
    group = typer.Typer(help=help, no_args_is_help=True, context_settings=QUICK_START)
    parent.add_typer(group, name=name)
    return group


app = command_line(
    "hcap", "Distil a teacher's labels of race comments into a local model: sample, label, predict, review, export."
)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        "-d",
        help=f"Project data folder [default: ${DATA_DIR_ENV} or ./data].",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object for machines instead of a report.")]

F = TypeVar("F", bound=Callable[..., Any])


def guarded(fn: F) -> F:
    """Turn user errors and Ctrl-C inside a command into a one-line message and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except HcapError as exc:
            fail(str(exc), exc.exit_code)
        except OSError as exc:
            fail(f"cannot use {exc.filename}: {os_problem(exc)}" if exc.filename else os_problem(exc))
        except KeyboardInterrupt:
            fail("interrupted: everything finished before Ctrl-C is saved", 130)

    return wrapper  # type: ignore[return-value]


def fail(message: str, code: int = 1) -> None:
    """Print `error: message` on stderr and end the command with `code`."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def note(message: str) -> None:
    """A diagnostic line on stderr, keeping stdout for data."""
    typer.echo(message, err=True)

