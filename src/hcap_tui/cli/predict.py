"""`hcap predict`: label comments with the local model by a sampling strategy, appending to predictions.jsonl."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.choices import DEFAULT_POOL_FACTOR, Strategy
from hcap_tui.cli.app import DataDirOption, JsonOption, app, fail, guarded, note
from hcap_tui.cli.sample import CsvOption, SeedOption, resolve_seed

if TYPE_CHECKING:
    from hcap_tui.predict import PredictSummary
    from hcap_tui.strategies import PredictRun

HostOption = Annotated[
    str | None,
    typer.Option("--host", help="Ollama URL [default: ollama_host in hcap.toml, else $OLLAMA_HOST, else local]; for "
                 "openai: models the server's base URL, e.g. http://127.0.0.1:8080/v1 [default: openai_base_url].",
                 show_default=False),
]

StudentOption = Annotated[
    str | None,
    typer.Option("--model", "-m", help="An Ollama model, or PROVIDER:NAME with ollama, openai or gemini "
                                       "[default: model in hcap.toml, flat-hcap]."),
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", "-c", min=1,
                 help="Requests in flight [default: concurrency, 1]; helps only up to the server's parallel slots "
                      "(OLLAMA_NUM_PARALLEL, llama-server --parallel, vLLM --max-num-seqs)."),
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", min=0.1, help="Seconds per request [default: timeout_s, 120].")
]


@app.command()
@guarded
def predict(
    count: Annotated[
        int | None, typer.Option("--count", "-n", min=1, help="Predictions to write [default: predict_count, 20].")
    ] = None,
    strategy: Annotated[
        Strategy,
        typer.Option(
            "--strategy", "-s",
            help="random: a fresh random sample; uncertain: the least confident of a larger random pool (an item's "
                 "confidence is the product of the probabilities the model gave its chosen signal values); "
                 "disagree: teacher-labelled items where the model differs from the teacher.",
        ),
    ] = Strategy.RANDOM,
    pool_factor: Annotated[
        int | None,
        typer.Option("--pool-factor", min=1, metavar="K", show_default=False,
                     help=f"uncertain only: predict a pool of COUNT × K comments and keep the COUNT least "
                          f"confident [default: {DEFAULT_POOL_FACTOR}]."),
    ] = None,
    model: StudentOption = None,
    host: HostOption = None,
    seed: SeedOption = None,
    concurrency: ConcurrencyOption = None,
    timeout: TimeoutOption = None,
    csv_path: CsvOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Label COUNT comments not yet in gold or pending, appending each kept result to predictions.jsonl."""
    if pool_factor is not None and strategy is not Strategy.UNCERTAIN:
        raise typer.BadParameter("only --strategy uncertain predicts a pool; drop it", param_hint="'--pool-factor'")
    from hcap_tui.comments import CommentsFile
    from hcap_tui.config import open_project
    from hcap_tui.models import student
    from hcap_tui.store import Store
    from hcap_tui.strategies import plan_run

    project = open_project(data_dir)
    settings = project.settings
    in_flight = concurrency or settings.concurrency
    wanted = count or settings.predict_count
    with student(project, model, host=host, timeout=timeout, logprobs=strategy is Strategy.UNCERTAIN) as local:
        digest = local.check()
        store = Store(project.paths, project.schema)
        source = CommentsFile(csv_path or project.paths.comments)
        run = plan_run(
            strategy, store, local, source, wanted, resolve_seed(seed), pool_factor or DEFAULT_POOL_FACTOR, note
        )
        if run is None:
            return
        note(
            f"{run.intent} with {local.spec.recorded} ({(digest or 'unknown digest')[:19]}) "
            f"at {local.host}, {in_flight} at a time, into {project.paths.predictions}"
        )
        _run_with_progress(run, in_flight)
    summary = run.summary
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        _print_summary(summary)
    if summary.failed:
        fail(f"{summary.failed} of {summary.attempted} predictions failed (kept in predictions.jsonl for review)")


def _run_with_progress(run: PredictRun, concurrency: int) -> None:
    """Drive the run under a progress bar on stderr; on a stop, say what was kept before passing it on."""
    from hcap_tui.cli.progress import items_progress
    from hcap_tui.errors import HcapError

    summary = run.summary
    fallback = summary.fallback
    try:
        with items_progress() as progress:
            task = progress.add_task("predicting", total=run.total)
            for _ in run.run(concurrency):
                if summary.fallback != fallback:
                    fallback = summary.fallback
                    note(str(fallback))
                failed = f" ({summary.failed} failed)" if summary.failed else ""
                progress.update(task, advance=1, total=run.total, description=f"predicting{failed}")
    except (HcapError, KeyboardInterrupt):
        note(summary.stopped_note())
        raise


def _print_summary(summary: PredictSummary) -> None:
    """The totals, the fields a disagreement run found, then how often each signal value was written."""
    from rich.console import Console
    from rich.table import Column, Table

    from hcap_tui.strategies import DisagreeSummary

    typer.echo(summary.headline())
    if isinstance(summary, DisagreeSummary) and summary.fields:
        typer.echo("disagreements: " + ", ".join(f"{name} {n}" for name, n in summary.fields.most_common()))
    if not summary.counts:
        return
    table = Table("signal", "value", Column("count", justify="right"))
    for name, counter in summary.counts.items():
        for value, number in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(name, value, str(number))
            name = ""
    Console().print(table)
