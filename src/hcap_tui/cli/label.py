"""`hcap label`: have a teacher (Gemini, an Ollama model, a model on an OpenAI-compatible server) label new
comments into labeled.jsonl."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, fail, guarded, note
from hcap_tui.cli.sample import CsvOption, SeedOption, resolve_seed

if TYPE_CHECKING:
    from hcap_tui.comments import Comment
    from hcap_tui.config import Project
    from hcap_tui.labeling import LabelRun
    from hcap_tui.models import Labeller, LabelResult

SHOWN_INPUT = 70  # characters of a failed item's input shown in its failure line


@app.command()
@guarded
def label(
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many new comments to label.")] = 20,
    teacher: Annotated[
        str | None,
        typer.Option(
            "--teacher",
            "-t",
            help="gemini:<model>, ollama:<model> or openai:<model> [default: `teacher` in hcap.toml, else "
                 "gemini:gemini-2.5-flash].",
            show_default=False,
        ),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help="Requests in flight [default: `concurrency` in hcap.toml, else 1].",
            show_default=False,
        ),
    ] = None,
    seed: SeedOption = None,
    csv_path: CsvOption = None,
    data_dir: DataDirOption = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Server URL for an ollama teacher [default: `ollama_host` in hcap.toml, OLLAMA_HOST, local] or an "
                 "openai teacher's base URL, e.g. http://127.0.0.1:8080/v1 [default: `openai_base_url`].",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Label COUNT comments not yet in labeled.jsonl or gold; each label is saved as it arrives.

    Exit 0 when every comment was labelled, 1 when some failed (they are not written) or the run could not go on.
    """
    from hcap_tui.config import open_project
    from hcap_tui.labeling import LabelRun, select_comments
    from hcap_tui.models import teacher as open_teacher
    from hcap_tui.models import teacher_spec
    from hcap_tui.teacher_prompt import project_instructions

    project = open_project(data_dir)
    spec = teacher_spec(project, teacher)
    with open_teacher(project, spec, project_instructions(project.schema, project.paths), host=host) as chosen:
        comments = select_comments(project, count, resolve_seed(seed), csv_path)
        if comments:
            chosen.check()
            run = _label_with_progress(project, chosen, comments, concurrency or project.settings.concurrency)
        else:
            note("nothing to label: every eligible comment is already in labeled.jsonl or the gold standard")
            run = LabelRun(teacher=str(spec))
    if json_output:
        typer.echo(json.dumps(run.to_json(), ensure_ascii=False))
    else:
        _print_summary(project, run)
    if run.stopped:
        fail(f"{run.stopped} ({run.labeled} labels saved before it stopped)")
    if run.failed:
        fail(f"{run.failed} of {run.sampled} comments failed and were not written; they stay eligible for the next run")


def _label_with_progress(project: Project, teacher: Labeller, comments: list[Comment], concurrency: int) -> LabelRun:
    """Run the labelling with a progress bar on stderr (when it is a terminal) and a line per failure."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    from hcap_tui.labeling import run_labeling

    console = Console(stderr=True)
    columns = (
        TextColumn(f"labelling with {teacher.spec}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("label", total=len(comments), failed=0)
        failed = 0

        def on_result(result: LabelResult) -> None:
            nonlocal failed
            if not result.ok:
                failed += 1
                text = result.formatted_input
                shown = text if len(text) <= SHOWN_INPUT else text[:SHOWN_INPUT] + "..."
                progress.console.print(Text(f"not labeled: {shown}: {result.error}"), highlight=False)
            progress.update(task, advance=1, failed=failed)

        return run_labeling(project, teacher, comments, concurrency=concurrency, on_result=on_result)


def _print_summary(project: Project, run: LabelRun) -> None:
    """The run's result on stdout: labels written, failures, tokens and estimated cost."""
    typer.echo(f"labeled {run.labeled} of {run.sampled} comments with {run.teacher} into {project.paths.labeled}")
    typer.echo(f"failed: {run.failed}")
    typer.echo(f"tokens: {run.prompt_tokens:,} in, {run.completion_tokens:,} out")
    if run.cost_usd is None:
        typer.echo(f"estimated cost: unknown (no list price for {run.teacher})")
    elif run.teacher.startswith("ollama:"):
        typer.echo("estimated cost: $0 (local model)")
    else:
        typer.echo(f"estimated cost: ${run.cost_usd:.4f} (from list prices; an estimate, not the bill)")
