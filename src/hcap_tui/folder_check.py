"""What `hcap check` finds in a data folder: every file read, none changed, each problem on a line of its own.

`check_folder` reads comments.csv, the label files (each once, as a stream: `tally`), the other JSONL
files, interrupted uncertainty pools, checkpoints and leftover temporary files, and returns a `Report`:
the lines to print and how many problems they hold.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from hcap_tui.comments import CommentsFile, Counting
from hcap_tui.config import Project
from hcap_tui.errors import DataError, os_problem
from hcap_tui.export import blank_problem, blank_texts
from hcap_tui.jsonl import STALE_AFTER_S, JsonlFile, LineProblem, temp_files
from hcap_tui.safe_text import one_line
from hcap_tui.store import Store
from hcap_tui.tally import Tally, tally
from hcap_tui.uncertain import interrupted_pools

CHECKPOINT_SOURCES = ("gemini", "predictions")
LABEL_FILES = ("labeled", "predictions", "gold", "signals")
SHOWN_BAD_LINES = 10  # per file; a schema mismatch makes every line bad, and the count says how many
SHOWN_RACES = 10  # per file; `hcap stats --json` lists every race whose items disagree
RACE_SHOWN_CHARS = 70  # of a race paragraph: enough to find the race


@dataclass
class Report:
    """Lines to print, and whether anything needs fixing."""

    lines: list[str] = field(default_factory=list)
    problems: int = 0

    def ok(self, text: str) -> None:
        """A file that reads cleanly."""
        self.lines.append(f"  ok    {text}")

    def info(self, text: str) -> None:
        """Something worth knowing that is not a problem."""
        self.lines.append(f"  --    {text}")

    def bad(self, text: str) -> None:
        """A problem the user should fix; it makes the check fail."""
        self.problems += 1
        self.lines.append(f"  BAD   {text}")


def check_folder(project: Project) -> Report:
    """Read every file of the project's folder, changing none, and report what is wrong."""
    report = Report()
    comments = _check_comments(project, report)
    try:
        tallies = _check_label_files(project, report)
    except BaseException:
        comments.stop()
        raise
    comments.add()
    _check_races(project, report, tallies)
    _check_other_jsonl(project, report)
    _check_pools(project, report)
    _check_checkpoints(project, report)
    _check_temp_files(project, report)
    return report


def _present(report: Report, path: Path, absent: str = "not present") -> bool:
    """Whether a file is there to read; a folder, a link looping or leading nowhere, or a path the system
    refuses is reported (a problem, except a link to a missing file, which reads as no file) instead."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            report.info(f"{path.name}: a symbolic link to {os.readlink(path)}, which does not exist ({absent})")
        else:
            report.info(f"{path.name}: {absent}")
        return False
    except OSError as exc:
        report.bad(f"{path.name}: cannot read it: {os_problem(exc)}")
        return False
    if stat.S_ISDIR(mode):
        report.bad(f"{path.name} is a folder, not a file: move it away")
        return False
    return True


@dataclass
class _CommentsLine:
    """comments.csv's part of the report, counted while the label files are read: `add` puts it in its place (the
    report's first lines), `stop` gives the count up."""

    report: Report
    path: Path
    at: int  # where in the report's lines it goes
    counting: Counting | None  # None when the file is not there to count

    def add(self) -> None:
        if self.counting is None:
            return
        found = Report()
        try:
            counts = self.counting.result()
        except DataError as exc:
            found.bad(str(exc))
        else:
            summary = f"{self.path.name}: {counts.rows} rows, {counts.eligible} eligible"
            _report_file(found, self.path.name, summary, counts.problems, "row")
        self.report.lines[self.at : self.at] = found.lines
        self.report.problems += found.problems

    def stop(self) -> None:
        if self.counting is not None:
            self.counting.stop()


def _check_comments(project: Project, report: Report) -> _CommentsLine:
    """Start counting comments.csv (on the other core when it is large: `count_aside`)."""
    path = project.paths.comments
    counting = None
    if _present(report, path, "not present (hcap sample/predict/label need it)"):
        counting = CommentsFile(path).count_aside()
    return _CommentsLine(report, path, len(report.lines), counting)


def _check_label_files(project: Project, report: Report) -> dict[Path, Tally]:
    """Check each label file, reading it once; return the tallies of the teacher's file and gold, for the race
    check."""
    store = Store(project.paths, project.schema)
    blank = blank_texts(project.schema)
    tallies: dict[Path, Tally] = {}
    for name in LABEL_FILES:
        path = getattr(project.paths, name)
        if not _present(report, path):
            continue
        try:
            read = tally(store, path, blank if name == "gold" else lambda item: None)
        except DataError as exc:
            report.bad(str(exc))
            continue
        problems = read.problems
        if name == "gold":
            extra = f", {len(read.latest)} distinct inputs"
            if read.superseded:
                extra += f", {read.superseded} superseded by later approvals (`hcap gold compact` drops them)"
            empty = [
                blank_problem(path, entry.line, entry.summary, "; `hcap export` leaves it out")  # type: ignore[arg-type]
                for entry in read.entries()
                if entry.summary
            ]
            problems = sorted([*problems, *empty], key=lambda problem: problem.line)
        elif name == "signals":
            extra = f", {len(read.latest)} comments"
            if read.failed:
                extra += f", {read.failed} failed (the next `hcap apply` retries them)"
            if read.superseded:
                extra += f", {read.superseded} superseded by later lines (the next `hcap apply` compacts them)"
        else:
            extra = f", {read.failed} failed predictions" if read.failed else ""
        _report_file(report, path.name, f"{path.name}: {read.lines} valid records{extra}", problems)
        if path in (project.paths.labeled, project.paths.gold):
            tallies[path] = read
    return tallies


def _check_races(project: Project, report: Report, tallies: dict[Path, Tally]) -> None:
    """Races whose items carry different values of a race-level field: worth a look, not a problem in the file."""
    fields = project.schema.race_fields
    if not fields:
        return
    names = " or ".join(f.name for f in fields)
    for path, read in tallies.items():
        conflicts = read.race_conflicts()
        if not conflicts:
            continue
        races = len({conflict.race for conflict in conflicts})
        report.info(f"{path.name}: {races} race(s) whose items carry different {names} values")
        for conflict in conflicts[:SHOWN_RACES]:
            counts = ", ".join(f"{value} {count}" for value, count in conflict.counts().items())
            report.lines.append(f"          {conflict.field} {counts}: {one_line(conflict.race, RACE_SHOWN_CHARS)}")
        if len(conflicts) > SHOWN_RACES:
            report.lines.append(f"          … and {len(conflicts) - SHOWN_RACES} more (`hcap stats --json` lists all)")


def _check_other_jsonl(project: Project, report: Report) -> None:
    for path in (project.paths.training, project.paths.eval, project.paths.evals):
        if not os.path.lexists(path) or not _present(report, path):
            continue
        valid, problems = 0, []
        try:
            for _, value in JsonlFile(path).read():
                if isinstance(value, LineProblem):
                    problems.append(value)
                else:
                    valid += 1
        except DataError as exc:
            report.bad(str(exc))
            continue
        _report_file(report, path.name, f"{path.name}: {valid} valid records", problems)


def _report_file(
    report: Report, name: str, summary: str, problems: list[LineProblem], unit: str = "line"
) -> None:
    if problems:
        report.bad(f"{summary}, {len(problems)} bad {unit}(s)")
        for problem in problems[:SHOWN_BAD_LINES]:
            report.lines.append(f"          {problem}")
        if len(problems) > SHOWN_BAD_LINES:
            report.lines.append(f"          … and {len(problems) - SHOWN_BAD_LINES} more bad {unit}s in {name}")
    else:
        report.ok(summary)


def _check_pools(project: Project, report: Report) -> None:
    """Pool sidecars an interrupted `hcap predict --strategy uncertain` left: not a problem, but worth knowing."""
    store = Store(project.paths, project.schema)
    for pool in interrupted_pools(store):
        held = len(store.read(pool.path).items)
        report.info(
            f"{pool.path.name}: {held} predictions of an interrupted uncertain pool; "
            "the next `hcap predict --strategy uncertain` with the same model reuses them"
        )


def _check_checkpoints(project: Project, report: Report) -> None:
    """Each tab's saved review position: the bare index the old dashboard shares and hcap's state file beside it."""
    store = Store(project.paths, project.schema)
    for source in CHECKPOINT_SOURCES:
        files = [project.paths.checkpoint(source), project.paths.review_state(source)]
        present = [path for path in files if os.path.lexists(path)]
        reported = [_present(report, path) for path in present]  # each one, not just the first that fails
        if not present or not all(reported):
            continue
        try:
            checkpoint = store.read_checkpoint(source)
        except DataError as exc:
            report.bad(str(exc))
            continue
        names = " and ".join(path.name for path in present)
        if checkpoint is not None and checkpoint.problem:
            report.bad(checkpoint.problem)
        elif checkpoint is None:
            report.ok(f"{names}: no position saved")
        else:
            shown = f", filter {checkpoint.filter}" if checkpoint.filter and checkpoint.filter != "all" else ""
            report.ok(f"{names}: item {checkpoint.index + 1}{shown}")


def _check_temp_files(project: Project, report: Report) -> None:
    """Temporary files of rewrites (compaction, undo, checkpoints, export) that a killed process left behind."""
    for temp in temp_files(project.paths.root):
        size = f"{temp.size / 2**20:.1f} MiB" if temp.size >= 2**20 else f"{temp.size:,} bytes"
        if temp.age_s <= STALE_AFTER_S and temp.writer_running:
            report.info(f"{temp.path.name}: {size}, being written by process {temp.pid} to replace {temp.target}")
        else:
            report.info(
                f"{temp.path.name}: {size} left by an interrupted rewrite of {temp.target}; "
                f"the next rewrite of {temp.target} removes it, or delete it"
            )
