"""`hcap apply`: label the whole archive with a model into signals.jsonl, resumably; or through batch files."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, fail, guarded, note
from hcap_tui.cli.predict import ConcurrencyOption, HostOption, StudentOption, TimeoutOption
from hcap_tui.cli.sample import CsvOption

if TYPE_CHECKING:
    from hcap_tui.apply.output import Output
    from hcap_tui.apply.run import ApplyRun, ApplySummary
    from hcap_tui.comments import CommentsFile
    from hcap_tui.config import Project
    from hcap_tui.models import Labeller, LabelResult

SHOWN_IDS = 5  # custom_ids listed per kind in the report; --json lists them all


class Format(StrEnum):
    """What `hcap apply` writes: the JSONL output alone, or a CSV table beside it too."""

    JSONL = "jsonl"
    CSV = "csv"


@app.command("apply")
@guarded
def apply_command(
    model: StudentOption = None,
    host: HostOption = None,
    csv_path: CsvOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output JSONL [default: signals.jsonl in the data folder].",
                     show_default=False),
    ] = None,
    concurrency: ConcurrencyOption = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-n", min=1, help="Label at most N comments this run [default: all of them].",
                     show_default=False),
    ] = None,
    output_format: Annotated[
        Format,
        typer.Option("--format", help="csv: also write the input CSV's rows joined with their labels beside the "
                                      "output (signals.csv)."),
    ] = Format.JSONL,
    timeout: TimeoutOption = None,
    write_batch_path: Annotated[
        Path | None,
        typer.Option("--write-batch", metavar="FILE", show_default=False,
                     help="Write OpenAI batch requests for the comments still to label (for vllm run-batch or any "
                          "OpenAI-compatible batch service) instead of asking a server."),
    ] = None,
    read_batch_path: Annotated[
        Path | None,
        typer.Option("--read-batch", metavar="FILE", show_default=False,
                     help="Validate a batch service's results like live answers and write them into the output."),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Label every eligible comment not yet labelled by the model, one line per comment (rerun to resume).

    Exit 0 when every comment got a label, 1 when some failed (they are kept, and a rerun retries them) or
    the run could not go on.
    """
    from hcap_tui.apply.output import Output
    from hcap_tui.apply.run import ApplyRun
    from hcap_tui.apply.table import csv_path_for, write_table
    from hcap_tui.comments import CommentsFile
    from hcap_tui.config import open_project
    from hcap_tui.models import student
    from hcap_tui.store import Store

    if write_batch_path is not None and read_batch_path is not None:
        raise typer.BadParameter("write requests or read results, not both", param_hint="'--read-batch'")
    project = open_project(data_dir)
    comments = CommentsFile(csv_path or project.paths.comments)
    comments.header()  # a missing or malformed CSV is one line before anything else happens
    output = Output(out or project.paths.signals)
    if write_batch_path is not None:
        _write_requests(project, model, comments, output, write_batch_path, limit, as_json)
        return
    output.writable()
    csv_out = csv_path_for(output.path) if output_format is Format.CSV else None
    with output.claimed("hcap apply"):
        if read_batch_path is not None:
            _read_results(project, model, comments, output, read_batch_path, csv_out, as_json)
            return
        with student(project, model, host=host, timeout=timeout) as labeller:
            labeller.check()
            run = ApplyRun.prepare(Store(project.paths, project.schema), labeller, comments, output, limit)
            _announce(run, labeller, concurrency or project.settings.concurrency)
            _drive(run, concurrency or project.settings.concurrency)
        summary = run.summary
        if csv_out is not None and summary.stopped is None:
            rows = write_table(project.schema, output.path, comments.path, csv_out)
            summary.csv_out = csv_out
            note(f"wrote {rows:,} rows to {csv_out}")
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        _print_summary(summary)
    if summary.stopped:
        fail(summary.stopped)
    if summary.failed:
        fail(f"{summary.failed:,} failed (kept in {output.path.name} with the reason; a rerun retries them)")


def _announce(run: ApplyRun, labeller: Labeller, concurrency: int) -> None:
    """Say on stderr what the run is about to do, and what it found in the output and the CSV."""
    summary, planned = run.summary, run.plan
    digest = f" ({labeller.digest[:19]})" if labeller.digest else ""
    for column, written in run.layout.renamed.items():
        note(f"{run.comments.path.name} column {column!r} is written as {written!r}: hcap writes its own {column!r}")
    for problem in summary.problems:
        note(f"{problem.path.name} line {problem.line}: {problem.reason.removesuffix('; skipped')} (kept as it is)")
    if summary.unreadable > len(summary.problems):
        note(f"... and {summary.unreadable - len(summary.problems):,} more such lines in {summary.output.name}")
    if summary.eligible == 0:
        note(f"nothing to label: {run.comments.path} has no eligible comment (a horse comment over 20 characters, "
             "a finishing position and a number of runners)")
        return
    if summary.to_label == 0:
        note(f"nothing to label: the {summary.skipped:,} eligible comments in {run.comments.path} are already "
             f"labelled by {summary.model} in {summary.output}")
        return
    note(f"labelling {summary.to_label:,} of {summary.eligible:,} eligible comments with {summary.model}{digest} "
         f"at {labeller.host}, {concurrency} at a time, into {summary.output}")
    found = []
    if summary.skipped:
        found.append(f"{summary.skipped:,} already labelled (skipped)")
    if planned.retrying:
        found.append(f"{len(planned.retrying):,} earlier failures to retry")
    if planned.relabelling:
        others = ", ".join(name for name, _ in run.other_models.most_common(3))
        found.append(f"{len(planned.relabelling):,} labelled by another model ({others}) to relabel and replace; "
                     "--out keeps both")
    if summary.left:
        found.append(f"{summary.left:,} left for a later run (--limit)")
    if found:
        note("  " + "; ".join(found))


def _drive(run: ApplyRun, concurrency: int) -> None:
    """Run under a progress bar on stderr; a stop that ends the run is kept in the summary, Ctrl-C passed on.

    Either way the output then holds one line per comment (compacted) unless Ctrl-C cut the run short.
    """
    from hcap_tui.cli.progress import items_progress
    from hcap_tui.errors import HcapError

    summary = run.summary

    def saved() -> str:
        return f"{summary.finished:,} result{'' if summary.finished == 1 else 's'} saved in {summary.output}"

    try:
        if summary.to_label:
            with items_progress() as progress:
                task = progress.add_task("labelling", total=summary.to_label)

                def advance(_result: LabelResult) -> None:
                    failed = f" ({summary.failed:,} failed)" if summary.failed else ""
                    progress.update(task, advance=1, description=f"labelling{failed}")

                run.run(concurrency, advance)
    except HcapError as exc:
        summary.stopped = str(exc)
        note(f"stopped: {saved()}; run again to go on")
    except KeyboardInterrupt:
        note(f"{saved()}; run again to go on")
        raise
    try:
        run.compact()
    except HcapError as exc:  # every result is still on disk, the last line of each comment counting
        summary.stopped = summary.stopped or str(exc)


def _print_summary(summary: ApplySummary) -> None:
    """The run's totals on stdout."""
    typer.echo(f"{summary.output}: {summary.labelled:,} labelled, {summary.failed:,} failed, {summary.skipped:,} "
               f"skipped (already labelled by {summary.model})")
    extras = []
    if summary.retried:
        extras.append(f"{summary.retried:,} earlier failures retried")
    if summary.relabelled:
        extras.append(f"{summary.relabelled:,} relabelled")
    if summary.replaced_lines:
        extras.append(f"{summary.replaced_lines:,} replaced lines dropped")
    if summary.left:
        extras.append(f"{summary.left:,} left for a later run")
    if summary.repeated:
        extras.append(f"{summary.repeated:,} repeated rows share a line")
    timing = f"time {summary.elapsed_s:.1f} s, {summary.rate:.1f} items/s" if summary.finished else "nothing labelled"
    typer.echo("; ".join([timing, *extras]))
    if summary.csv_out is not None:
        typer.echo(f"table: {summary.csv_out}")


def _write_requests(project: Project, model: str | None, comments: CommentsFile, output: Output, path: Path,
                    limit: int | None, as_json: bool) -> None:
    """`--write-batch`: request lines for every comment a live run would label now."""
    from hcap_tui.apply.batch import batch_model, write_batch

    with batch_model(project, model) as labeller:
        summary = write_batch(labeller, comments, output, path, limit)
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    typer.echo(f"wrote {summary.requests:,} requests for {summary.model} to {path} ({summary.planned.skipped:,} "
               f"comments already labelled in {output.path.name}, skipped)")
    name = summary.model.partition(":")[2]
    note(f"run them with `vllm run-batch -i {path} -o results.jsonl --model MODEL --served-model-name {name}` "
         f"(or any OpenAI-compatible batch service), then `hcap apply --model {summary.model} --read-batch "
         "results.jsonl`")


def _read_results(project: Project, model: str | None, comments: CommentsFile, output: Output, path: Path,
                  csv_out: Path | None, as_json: bool) -> None:
    """`--read-batch`: a batch service's results validated and written into the output; the caller holds it."""
    from hcap_tui.apply.batch import batch_model, read_batch
    from hcap_tui.apply.table import write_table
    from hcap_tui.store import Store

    with batch_model(project, model) as labeller:
        summary = read_batch(Store(project.paths, project.schema), labeller, comments, output, path)
    if csv_out is not None:
        write_table(project.schema, output.path, comments.path, csv_out)
        summary.csv_out = csv_out
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        typer.echo(f"{summary.output}: {summary.labelled:,} labelled, {summary.failed:,} failed (kept), "
                   f"{len(summary.unknown):,} unknown, {len(summary.duplicates):,} duplicates, from "
                   f"{summary.lines:,} results in {summary.results}")
        for kind, ids in (("failed", summary.invalid), ("unknown", summary.unknown),
                          ("duplicate", summary.duplicates)):
            if ids:
                more = f" and {len(ids) - SHOWN_IDS:,} more (--json lists all)" if len(ids) > SHOWN_IDS else ""
                typer.echo(f"{kind} custom_ids: {', '.join(ids[:SHOWN_IDS])}{more}")
        if summary.csv_out is not None:
            typer.echo(f"table: {summary.csv_out}")
    problems = []
    if summary.failed:
        problems.append(f"{summary.failed:,} failed (kept in {output.path.name}; a live rerun retries them)")
    if summary.unknown:
        problems.append(f"{len(summary.unknown):,} custom_ids match no eligible comment in {comments.path.name} "
                        "(results of another CSV?)")
    if summary.duplicates:
        problems.append(f"{len(summary.duplicates):,} duplicates not written (an id given twice, or a comment "
                        "already labelled)")
    if problems:
        fail("; ".join(problems))
