"""Fault injection: replay the catalogue of faults against hcap and print tried / survived / lost / torn.

Run `python3 benchmarks/faults.py [--budget SECONDS] [--only NAME]`. Everything happens in temporary folders
and on 127.0.0.1 (the Ollama double from tests/doubles); each case has a share of the time budget and the
script stops by itself. It never asserts: it prints a table, and a non-zero lost or torn is the finding.

- kill -9 during approvals: reviewer processes approve through `ReviewSession` and report each approval
  once `approve()` returned; each is killed at a random moment, over and over. Lost: a reported approval
  missing from gold. Torn: unreadable lines in gold.
- concurrent reviewers (2 and 4 processes): each approves the same three items as fast as it can through
  `ReviewSession`, approving again when told another reviewer got there first. Lost: an approval that
  replaced another reviewer's newer line without that warning (the reviewer never saw what it replaced).
- full disk: appends, `hcap predict --count 100 -c 4`, `hcap label` and `hcap gold compact` on a 64 KiB
  tmpfs where the machine allows mounting one (root), else under RLIMIT_FSIZE (the kernel's EFBIG after a
  partial write, like a disk filling up mid-line). Tried: what the run said it saved; lost: saved but not on
  disk; torn: unreadable lines. A run that does not end in exactly one `error:` line counts as not survived.
- bad input: CSV edge cases (impossible numbers, wrong cell counts, a repeated column, a header-only file,
  a non-UTF-8 row under 40 seeds, a 200 KiB quoted cell), a lone surrogate escape through export, approval
  and checkpoints, and every command against every data file replaced by a folder, a symbolic-link loop, a
  link to nowhere or bytes that are not text. Survived: the expected outcome (the row skipped and listed,
  the value kept, one `error:` line at most) with no traceback; lost: gold items gone afterwards; torn:
  unreadable lines a command left in gold.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.jsonl import JsonlFile, LineProblem
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import TEACHER, GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store, flat_record

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from doubles.ollama_double import OllamaDouble  # the tests' loopback double, not part of the package

SCHEMA = LabelSchema.default()
TEXT = SCHEMA.texts[0].name  # the free-text field: each approval writes a unique token into it
COLUMNS = ["race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten"]


@dataclass
class Row:
    """One line of the table."""

    case: str
    tried: int = 0
    survived: int = 0
    lost: int = 0
    torn: int = 0
    note: str = ""


# A reviewer: approves the teacher's items in turn, writing a unique token as the text of each approval, and
# reports every approval once approve() has returned, with the token it believed gold held for the item.
REVIEWER = r"""
import json, sys, time
from pathlib import Path
from hcap_tui.config import DataPaths
from hcap_tui.review.errors import ConfirmApproval, GoldChanged
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import TEACHER, GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

folder, name, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
store = Store(DataPaths(folder), LabelSchema.default())
text = store.schema.texts[0].name
session = ReviewSession(store, TEACHER, GoldBook.load(store), name)
session.extend(store.labeled(keep=True).items)
session.finish_loading()
print(json.dumps({"ready": name}), flush=True)
deadline, seq = time.monotonic() + seconds, 0
while time.monotonic() < deadline:
    token = f"{name}-{seq}"
    seq += 1
    session.set_value(text, token)
    believed = session.gold_item
    at = session.position
    try:
        try:
            session.approve()
        except ConfirmApproval:  # the item is in gold already: the reviewer presses Enter again to replace it
            session.approve()
    except GoldChanged:
        print(json.dumps({"warned": token}), flush=True)
        continue  # the draft stays; the next approve replaces the other reviewer's line, as Enter again does
    print(json.dumps({"token": token, "believed": believed.record.get(text) if believed else None}), flush=True)
    if session.position == at:
        session.first()
"""


def reports(output: bytes) -> list[dict[str, Any]]:
    """The complete JSON lines a reviewer printed (a line cut short by kill -9 is not a report)."""
    found = []
    for line in output.split(b"\n"):
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def teacher_records(count: int) -> list[dict[str, Any]]:
    """`count` teacher labels of realistic size (inputs of about 500 characters, a three-sentence text)."""
    race = "A competitive handicap run at a strong gallop, the principals came from off the pace. " * 4
    label = {f.name: False for f in SCHEMA.booleans} | {f.name: f.values[0] for f in SCHEMA.enums}
    label |= {f.name: "Ran on late from off a strong pace; shaped better than the bare result. " * 3
              for f in SCHEMA.texts}
    return [flat_record(SCHEMA, f"{i % 9 + 2}th of 14 | [RACE]: {race}| [HORSE]: Held up, kept on {i}", label,
                        teacher="gemini") for i in range(count)]


def teacher_items(paths: DataPaths, count: int) -> None:
    """labeled.jsonl with `count` teacher labels."""
    JsonlFile(paths.labeled).append(teacher_records(count))


def gold_lines(paths: DataPaths) -> tuple[list[dict[str, Any]], int]:
    """Gold's readable records in file order and how many lines could not be read."""
    records, torn = [], 0
    for _, value in JsonlFile(paths.gold).read():
        if isinstance(value, LineProblem):
            torn += 1
        else:
            records.append(value)
    return records, torn


def kill_during_approvals(seconds: float) -> Row:
    """Reviewers killed with SIGKILL at random moments while approving; every reported approval must be in gold."""
    row = Row("kill -9 during approvals")
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="hcap-faults-") as folder:
        paths = DataPaths(Path(folder))
        teacher_items(paths, 200)
        acknowledged: list[str] = []
        deadline, kills = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            child = subprocess.Popen([sys.executable, "-c", REVIEWER, folder, f"k{kills}", "600"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            assert child.stdout is not None
            child.stdout.readline()  # ready: the session is loaded, approvals start now
            time.sleep(rng.uniform(0.05, 0.8))
            child.send_signal(signal.SIGKILL)
            output = child.stdout.read()
            child.wait()
            kills += 1
            acknowledged += [r["token"] for r in reports(output) if "token" in r]
        records, row.torn = gold_lines(paths)
        present = {record.get(TEXT) for record in records}
        row.tried = len(acknowledged)
        row.survived = sum(1 for token in acknowledged if token in present)
        row.lost = row.tried - row.survived
        row.note = f"{kills} kills, {len(records)} gold lines"
    return row


def concurrent_reviewers(processes: int, seconds: float) -> Row:
    """Reviewers approving the same few items at once; none may replace another's newer approval unwarned."""
    row = Row(f"concurrent reviewers x{processes}")
    with tempfile.TemporaryDirectory(prefix="hcap-faults-") as folder:
        paths = DataPaths(Path(folder))
        teacher_items(paths, 3)
        children = [subprocess.Popen([sys.executable, "-c", REVIEWER, folder, f"r{n}", str(seconds)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for n in range(processes)]
        outputs = [child.communicate(timeout=seconds + 120)[0] for child in children]
        believed: dict[str, str | None] = {}
        warned = 0
        for output in outputs:
            for report in reports(output):
                if "token" in report:
                    believed[report["token"]] = report["believed"]
                warned += "warned" in report
        records, row.torn = gold_lines(paths)
        previous: dict[str, str | None] = {}
        silent = 0
        for record in records:
            token, key = record.get(TEXT), record["formatted_input"]
            before = previous.get(key)
            if token in believed and before is not None and before != believed[token]:
                silent += before.split("-")[0] != token.split("-")[0]  # another reviewer's line, never seen
            previous[key] = token
        present = {record.get(TEXT) for record in records}
        row.tried = len(believed)
        missing = sum(1 for token in believed if token not in present)
        row.lost = silent + missing
        row.survived = row.tried - row.lost
        row.note = f"{warned} 'another reviewer approved this item' warnings"
    return row


def limit_file_size(limit: int) -> Callable[[], None]:
    """A preexec function: files may not grow past `limit` bytes (EFBIG after a partial write)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@contextmanager
def full_disk(size: str = "64k") -> Iterator[tuple[Path, Callable[[], None] | None, str]]:
    """A folder that fills up: a small tmpfs where it can be mounted, else a temp folder under RLIMIT_FSIZE."""
    folder = Path(tempfile.mkdtemp(prefix="hcap-faults-"))
    mounted = os.geteuid() == 0 and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, check=False
    ).returncode == 0
    try:
        if mounted:
            yield folder, None, f"{size} tmpfs"
        else:
            yield folder, limit_file_size(64 * 1024), "RLIMIT_FSIZE 64 KiB"
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=False)
        shutil.rmtree(folder, ignore_errors=True)


APPENDER = r"""
import json, random, sys
from pathlib import Path
from hcap_tui.errors import WriteFailed
from hcap_tui.jsonl import JsonlFile
target, rng, acknowledged = JsonlFile(Path(sys.argv[1])), random.Random(int(sys.argv[2])), 0
try:
    while True:
        target.append([{"formatted_input": f"item {acknowledged}", "pad": "x" * rng.randrange(50, 3000)}])
        acknowledged += 1
except WriteFailed as exc:
    print(json.dumps({"acknowledged": acknowledged, "error": str(exc)}))
"""


def appends_on_a_full_disk(rounds: int) -> Row:
    """Appends until the disk is full, `rounds` times with different line sizes: every acknowledged line whole."""
    row = Row("full disk: appends")
    for turn in range(rounds):
        with full_disk() as (folder, preexec, kind):
            path = folder / "goldstandard.jsonl"
            run = subprocess.run([sys.executable, "-c", APPENDER, str(path), str(turn)], capture_output=True,
                                 preexec_fn=preexec, check=False, timeout=120)
            acknowledged = reports(run.stdout)[0]["acknowledged"] if reports(run.stdout) else 0
            lines = [value for _, value in JsonlFile(path).read()] if path.exists() else []
            whole = {v["formatted_input"] for v in lines if isinstance(v, dict)}
            row.tried += acknowledged
            row.survived += sum(1 for i in range(acknowledged) if f"item {i}" in whole)
            row.torn += sum(1 for v in lines if isinstance(v, LineProblem))
            row.note = f"{kind}, {rounds} fills"
    row.lost = row.tried - row.survived
    return row


def hcap_run(args: list[str], preexec: Callable[[], None] | None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from hcap_tui.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, preexec_fn=preexec, check=False, timeout=300)


def one_error_line(run: subprocess.CompletedProcess[str]) -> bool:
    """Exit 1, no traceback, and stderr ending in exactly one `error:` line."""
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    return run.returncode == 1 and "Traceback" not in run.stderr and len(errors) == 1 and (
        run.stderr.rstrip().endswith(errors[0])
    )


def write_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(count):
            writer.writerow([f"Chased leaders, kept on at one pace #{i}", "Run at a fair gallop " * 12, "2", "9", "1"])


def runs_on_a_full_disk(ollama: OllamaDouble, comments: Path) -> list[Row]:
    """`hcap predict -c 4`, `hcap label` and `hcap gold compact` on a disk that fills up."""
    rows = []
    for name, args, target, said in [
        ("full disk: hcap predict -c 4",
         ["predict", "--count", "100", "-c", "4", "--seed", "1", "--host", ollama.url], "predictions.jsonl",
         r"(\d+) of 100 predictions finished and are saved"),
        ("full disk: hcap label -c 4",
         ["label", "--count", "100", "-c", "4", "--seed", "1", "--teacher", "ollama:flat-hcap", "--host",
          ollama.url], "labeled.jsonl", r"\((\d+) labels saved before it stopped\)"),
    ]:
        with full_disk() as (folder, preexec, kind):
            run = hcap_run([*args, "-d", str(folder), "--csv", str(comments)], preexec)
            found = re.search(said, run.stderr)
            saved = int(found.group(1)) if found else 0
            lines = [value for _, value in JsonlFile(folder / target).read()]
            whole = sum(1 for v in lines if isinstance(v, dict))
            clean = one_error_line(run) and found is not None
            rows.append(Row(name, saved, min(saved, whole) if clean else 0, max(saved - whole, 0),
                            sum(1 for v in lines if isinstance(v, LineProblem)),
                            f"{kind}; {'one error line' if clean else 'NOT one error line: ' + run.stderr[-200:]}"))
    with full_disk("256k") as (folder, preexec, kind):
        paths = DataPaths(folder)
        records = [dict(r, origin="gemini") for r in teacher_records(120)]
        JsonlFile(paths.gold).append(records + records[:40])  # 40 superseded lines for compaction to drop
        before = paths.gold.read_bytes()
        limit = None
        if preexec is None:  # the tmpfs: leave less room than the compacted copy needs
            with (folder / "filler").open("wb") as handle:
                while shutil.disk_usage(folder).free >= len(before) // 2:
                    handle.write(b"x" * 4096)
                    handle.flush()
        else:
            limit = limit_file_size(len(before) // 2)
        run = hcap_run(["gold", "compact", "-d", str(folder)], limit)
        intact = paths.gold.read_bytes() == before
        leftovers = [p.name for p in folder.iterdir() if ".tmp-" in p.name]
        clean = one_error_line(run) and intact and not leftovers
        rows.append(Row("full disk: hcap gold compact", len(records), len(records) if intact else 0,
                        0 if intact else len(records), 0,
                        f"{kind}; {'gold untouched, no temporary file' if clean else run.stderr[-200:]}"))
    return rows


def crashed(result: Any) -> bool:
    """Whether an in-process command ended in an exception rather than an exit code."""
    return result.exception is not None and not isinstance(result.exception, SystemExit)


def csv_cases(data: Path) -> Row:
    """CSV edge cases: each must be skipped and listed (or one clear error), the same whatever the seed."""
    row = Row("bad CSV rows")
    horse = "Tracked leaders every chance 1f out kept on"
    malformed = [
        [horse, "", "3", "0", "1"],  # 3rd of 0
        [horse, "", "2", "abc", "1"],  # 2nd of abc
        [horse, "", "5", "-3", "1"],  # 5th of -3
        [horse, "", "4", "9", "-2"],  # a negative distance
        [horse, ""],  # a row cut short by a line break outside quotes
        [horse, "", "2", "9", "1", "extra"],  # a cell too many
    ]
    for bad in malformed:
        with (data / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerows([COLUMNS, [horse, "", "2", "9", "1"], bad])
        check = CliRunner().invoke(app, ["check", "--data-dir", str(data)])
        row.tried += 1
        row.survived += check.exit_code == 1 and "comments.csv line 3:" in check.stdout and not crashed(check)
    checks: list[tuple[str, bytes, Callable[[Any], bool]]] = [
        ("repeated column", (",".join(COLUMNS) + ",race_comment\n").encode(),
         lambda r: r.exit_code == 1 and "race_comment more than once" in r.stderr),
        ("header only", (",".join(COLUMNS) + "\n").encode(),
         lambda r: r.exit_code == 1 and "0 eligible comments" in r.stderr),
        ("200 KiB quoted cell", (",".join(COLUMNS) + f'\n"{horse}","{"A strong, ""true"" pace. " * 9000}",2,9,1\n')
         .encode(), lambda r: r.exit_code == 0 and len(r.stdout.splitlines()) == 1),
    ]
    for _, content, expected in checks:
        (data / "comments.csv").write_bytes(content)
        result = CliRunner().invoke(app, ["sample", "-n", "3", "--seed", "1", "--data-dir", str(data)])
        row.tried += 1
        row.survived += expected(result) and not crashed(result)
    lines = [",".join(COLUMNS)] + [f'"{horse} #{i}",Race {i},2,9,1' for i in range(40)]
    lines[17] = lines[17].replace("Race", "Caf\udce9")
    (data / "comments.csv").write_bytes("\n".join(lines).encode("utf-8", "surrogateescape") + b"\n")
    for seed in range(40):
        result = CliRunner().invoke(app, ["sample", "-n", "5", "--seed", str(seed), "--data-dir", str(data)])
        row.tried += 1
        row.survived += result.exit_code == 0 and len(result.stdout.splitlines()) == 5 and not crashed(result)
    row.note = "malformed rows listed by check; non-UTF-8 row under 40 seeds"
    return row


def surrogate_cases(data: Path) -> Row:
    """A lone surrogate escape written by another tool: export, approve and a checkpoint keep it."""
    row = Row("lone surrogate (\\ud800)")
    paths, odd = DataPaths(data), "3rd of 9 | [HORSE]: Odd \ud800 byte, kept on"
    label = {f.name: False for f in SCHEMA.booleans} | {f.name: f.values[0] for f in SCHEMA.enums}
    line = json.dumps(flat_record(SCHEMA, odd, label | {f.name: "Ran on \udc80 late." for f in SCHEMA.texts}))
    paths.labeled.write_text(line + "\n", encoding="utf-8")
    paths.gold.write_text(line + "\n", encoding="utf-8")
    outcomes = []
    result = CliRunner().invoke(app, ["export", "--eval-fraction", "0", "--data-dir", str(data)])
    outcomes.append(result.exit_code == 0 and json.loads(paths.training.read_text())["prompt"] == odd)
    paths.gold.unlink()
    store = Store(paths, SCHEMA)
    session = ReviewSession(store, TEACHER, GoldBook.load(store), "faults")
    session.extend(store.labeled(keep=True).items)
    session.finish_loading()
    try:
        session.approve()
        outcomes.append(store.gold_item(odd) is not None)
    except Exception:  # noqa: BLE001  (what the review app met on Enter: a crash is this case's finding)
        outcomes.append(False)
    try:
        store.write_checkpoint("gemini", Checkpoint(0, odd))
        outcomes.append(store.read_checkpoint("gemini") == Checkpoint(0, odd))
    except Exception:  # noqa: BLE001
        outcomes.append(False)
    row.tried, row.survived = len(outcomes), sum(outcomes)
    row.note = "export, approve, checkpoint"
    return row


TARGETS = ["comments.csv", "labeled.jsonl", "predictions.jsonl", "goldstandard.jsonl", "training_data.jsonl",
           "eval_data.jsonl", "evals.jsonl", ".checkpoint-gemini", ".checkpoint-predictions", "label_schema.json",
           "hcap.toml", "guidelines.md", ".goldstandard.jsonl.lock", ".labeled.jsonl.lock",
           ".predictions.jsonl.lock"]
SPOILS = ["folder", "symlink loop", "link to nowhere", "not text"]


def filled(folder: Path) -> None:
    """A small complete data folder."""
    write_csv(folder / "comments.csv", 40)
    paths = DataPaths(folder)
    teacher_items(paths, 10)
    items = [item.record for item in Store(paths, SCHEMA).labeled(keep=True).items]
    JsonlFile(paths.predictions).append(dict(r, model="flat-hcap") for r in items[:5])
    JsonlFile(paths.gold).append(dict(r, origin="gemini") for r in items[:8])
    JsonlFile(paths.eval).append({"prompt": r["formatted_input"], "completion": SCHEMA.dumps(r)} for r in items[:3])
    JsonlFile(paths.evals).append([{"model": "flat-hcap"}])
    paths.checkpoint("gemini").write_text("3")


def spoil(path: Path, how: str) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if how == "folder":
        path.mkdir()
    elif how == "symlink loop":
        os.symlink(path.name, path)
    elif how == "link to nowhere":
        os.symlink("missing/" + path.name, path)
    else:
        path.write_bytes(b"\xff\xfe\x00 not text \x80\n{\n")


def spoilt_paths(ollama: OllamaDouble, seconds: float) -> Row:
    """Every command against every data file spoilt every way: no traceback, at most one error line, no loss."""
    row = Row("spoilt paths, every command")
    commands = [["check"], ["stats"], ["export"], ["gold", "compact"], ["sample", "-n", "3", "--seed", "1"],
                ["predict", "-n", "2", "--seed", "1", "--host", ollama.url],
                ["predict", "-n", "2", "--seed", "1", "--strategy", "uncertain", "--host", ollama.url],
                ["predict", "-n", "2", "--strategy", "disagree", "--host", ollama.url],
                ["label", "-n", "2", "--seed", "1", "--teacher", "ollama:flat-hcap", "--host", ollama.url],
                ["eval", "--host", ollama.url]]
    deadline = time.monotonic() + seconds
    with tempfile.TemporaryDirectory(prefix="hcap-faults-") as root:
        pristine = Path(root) / "pristine"
        pristine.mkdir()
        filled(pristine)
        gold_keys = {r["formatted_input"] for r in gold_lines(DataPaths(pristine))[0]}
        for target in TARGETS:
            for how in SPOILS:
                for command in commands:
                    if time.monotonic() > deadline:
                        row.note = "stopped at the time budget; "
                        break
                    folder = Path(root) / "data"
                    shutil.rmtree(folder, ignore_errors=True)
                    shutil.copytree(pristine, folder, symlinks=True)
                    spoil(folder / target, how)
                    result = CliRunner().invoke(app, [*command, "--data-dir", str(folder)])
                    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
                    row.tried += 1
                    row.survived += not crashed(result) and "Traceback" not in result.output and len(errors) <= 1
                    if target != "goldstandard.jsonl":
                        records, torn = gold_lines(DataPaths(folder))
                        row.lost += len(gold_keys - {r["formatted_input"] for r in records})
                        row.torn += torn
    row.note += f"{len(TARGETS)} files x {len(SPOILS)} spoils x {len(commands)} commands"
    return row


def print_table(rows: list[Row]) -> None:
    width = max(len(r.case) for r in rows)
    print(f"{'case':<{width}}  {'tried':>7}  {'survived':>8}  {'lost':>5}  {'torn':>5}  note")
    for r in rows:
        print(f"{r.case:<{width}}  {r.tried:>7}  {r.survived:>8}  {r.lost:>5}  {r.torn:>5}  {r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=150.0, help="seconds the timed cases share (default 150)")
    parser.add_argument("--only", choices=("kill", "concurrent", "disk", "input"), help="run one group of cases")
    args = parser.parse_args()
    started, budget = time.monotonic(), args.budget
    rows: list[Row] = []
    if args.only in (None, "kill"):
        rows.append(kill_during_approvals(budget * 0.25))
    if args.only in (None, "concurrent"):
        rows += [concurrent_reviewers(n, budget * 0.1) for n in (2, 4)]
    with OllamaDouble(slots=4) as ollama, tempfile.TemporaryDirectory(prefix="hcap-faults-") as scratch:
        if args.only in (None, "disk"):
            rows.append(appends_on_a_full_disk(10))
            comments = Path(scratch) / "comments.csv"
            write_csv(comments, 300)
            rows += runs_on_a_full_disk(ollama, comments)
        if args.only in (None, "input"):
            for name, case in (("csv", csv_cases), ("surrogate", surrogate_cases)):
                data = Path(scratch) / name
                data.mkdir()
                rows.append(case(data))
            rows.append(spoilt_paths(ollama, budget * 0.45))
    print_table(rows)
    print(f"{time.monotonic() - started:.0f} s in all")


if __name__ == "__main__":
    main()
