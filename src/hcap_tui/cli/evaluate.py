"""`hcap eval`: score the local model and the teacher on the held-out items, and show the history of runs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded, note

if TYPE_CHECKING:
    from rich.progress import Progress

SHOWN_PROBLEMS = 5  # skipped lines listed by name before the rest are only counted
MODEL_HELP = (
    "Model to evaluate: an Ollama name, or PROVIDER:NAME with ollama, openai or gemini "
    "(default: `model` in hcap.toml, else flat-hcap)."
)
HOST_HELP = (
    "Server URL: Ollama's (default: `ollama_host` in hcap.toml, else $OLLAMA_HOST, else http://127.0.0.1:11434), "
    "or for openai: models the base URL such as http://127.0.0.1:8080/v1 (default: `openai_base_url`)."
)
CONCURRENCY_HELP = "Requests in flight; match the server's slots (default: `concurrency` in hcap.toml, else 1)."


@app.command("eval")
@guarded
def eval_command(
    model: Annotated[str | None, typer.Option("--model", "-m", help=MODEL_HELP)] = None,
    host: Annotated[str | None, typer.Option("--host", help=HOST_HELP)] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-c", min=1, help=CONCURRENCY_HELP)] = None,
    data_dir: DataDirOption = None,
    json_output: JsonOption = False,
) -> None:
    """Run the model over eval_data.jsonl, score it and the teacher against gold, and record the run."""
    from hcap_tui.config import open_project
    from hcap_tui.evaluation import evaluate, read_history

    project = open_project(data_dir)
    settings = project.settings
    with _progress() as progress:
        task = progress.add_task("predicting", total=None)
        result = evaluate(
            project,
            model_name=model,
            host=host,
            concurrency=concurrency or settings.concurrency,
            on_start=lambda total: progress.update(task, total=total),
            on_prediction=lambda _prediction: progress.advance(task),
        )
    _note_lines(result.problems, "skipped line")
    if json_output:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    history, history_problems = read_history(project.paths)
    _note_lines(history_problems, "unreadable history line")
    from rich.console import Console

    from hcap_tui.eval_tables import eval_report, history_table

    console = Console(highlight=False)
    console.print(eval_report(project.schema, result))
    console.print(history_table(history))


def _progress() -> Progress:
    """A progress bar on stderr; it draws only on a terminal, so logs and pipes stay clean."""
    from rich.console import Console
    from rich.progress import Progress

    return Progress(console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty())


def _note_lines(lines: list[str], what: str) -> None:
    """Report skipped lines on stderr: the first few by name, the rest as a count."""
    for line in lines[:SHOWN_PROBLEMS]:
        note(f"warning: {line}")
    if len(lines) > SHOWN_PROBLEMS:
        note(f"warning: {len(lines) - SHOWN_PROBLEMS} more {what}(s); `hcap check` lists them all")
