"""hcap at the user's archive size: each measure as a ratio against its reference, both measured in this run.

Prints figures and ratios and never asserts; run it with `python3 benchmarks/bench_scale.py` (about five minutes
on two cores; `--only stats` and friends run one row, `--runs N` changes the repeats). The data folder
(`benchmarks/.work/scale/`, made by `archive.build_archive`) holds 130,000 teacher labels, as many gold items
with review provenance and a 1,000,000-row comments.csv; items have the user's shapes (formatted_input about
500 characters, reasoning about five lines at 80 columns). Every command runs as its own process, the way the
user starts it, and each reference runs interleaved with it, so both see the same machine; each side's best run
counts (the one least disturbed by other work), and CPU time is shown beside wall time.

- stats, check: `hcap stats` and `hcap check` against one csv.reader pass over comments.csv plus one json.loads per
  line of labeled.jsonl and goldstandard.jsonl. Target: at most 1.5x its time, at most 150 MiB.
- export: `hcap export` against the old dashboard's data path (read the whole of gold, json.loads every line into a
  list, build dicts with the last line per input winning, split by hash, write both files). Target: at most its
  CPU time.
- start: `hcap --help` and `hcap COMMAND --help` for every command against `python -c "import typer"`. Target: at
  most 2x its time.
- predict: the client's overhead per item against the Ollama double (`bench_predict`), beside a bare httpx POST
  of the same request. Target: under 5 ms.
- review (`--only review`): the review app's first item at 130,000 labeled + 130,000 gold, and, in a process of
  its own, its peak memory once every tab and all of gold have loaded, against the old dashboard's data path over
  the same files (both read whole, json.loads into lists, gold indexed by input). Target: at most 1.5 s; at most
  250 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from archive import WORK, build_archive, comments_csv

from hcap_tui.config import DataPaths

SCALE = WORK / "scale"
LINES = 130_000
CSV_ROWS = 1_000_000
HCAP = [sys.executable, "-c", "import sys; from hcap_tui.cli import main; sys.argv[0] = 'hcap'; main()"]
TIME = Path("/usr/bin/time")  # GNU time: a small parent, so a measured process's peak memory is its own
# The counting process `hcap stats` and `hcap check` start for a large comments.csv (`CommentsFile.count_aside`).
COUNTER = [sys.executable, "-c",
           "import sys; from hcap_tui.comments import _count_to_stdout; _count_to_stdout(sys.argv[1])"]

# A typer command with one option and nothing else, on typer's defaults: what a command costs to start when typer
# builds a pydantic validator for the app's `--help` flag left off (hcap's apps default it to False).
BARE_COMMAND = """
from pathlib import Path
import typer
app = typer.Typer()
@app.command()
def one(data_dir: Path | None = None) -> None:
    \"\"\"A command with one option.\"\"\"
@app.command()
def two() -> None:
    \"\"\"Another, so that commands are named.\"\"\"
app()
"""

# The reference for `hcap stats` and `hcap check`: one csv pass over comments.csv and one json.loads per line.
SINGLE_PASS = """
import csv, json, sys
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    for row in csv.reader(handle):
        pass
for name in sys.argv[2:]:
    with open(name, "rb") as handle:
        for line in handle:
            json.loads(line)
"""

# The reference for `hcap export`: the old dashboard's way with gold, then the same two files hcap writes.
UPSTREAM_EXPORT = """
import hashlib, json, os, sys
gold, folder, fields = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
with open(gold, encoding="utf-8") as handle:
    records = [json.loads(line) for line in handle.read().splitlines() if line.strip()]
latest = {}
for record in records:
    latest[record["formatted_input"]] = record
train, held_out = [], []
for text, record in sorted(latest.items(), key=lambda entry: hashlib.sha256(entry[0].encode()).hexdigest()):
    row = {"prompt": text, "completion": json.dumps({name: record[name] for name in fields}, ensure_ascii=False)}
    key = int(hashlib.sha256(text.encode()).hexdigest()[:16], 16) / 16**16
    (held_out if key < 0.1 else train).append(row)
for name, rows in (("ref_training.jsonl", train), ("ref_eval.jsonl", held_out)):
    with open(os.path.join(folder, name), "w", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(row, ensure_ascii=False) + "\\n" for row in rows))
"""

# The old dashboard loading the review data: both files read whole into lists of dicts, gold indexed by input.
UPSTREAM_REVIEW = """
import json, re, sys, time
started = time.perf_counter()
def load(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle.read().splitlines() if line.strip()]
labeled = load(sys.argv[1])
gold = {record["formatted_input"]: record for record in load(sys.argv[2])}
first = labeled[0]["formatted_input"] in gold
seconds = time.perf_counter() - started
with open("/proc/self/status") as status:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(json.dumps({"seconds": seconds, "peak_kib": peak}))
"""


@dataclass
class Run:
    """One process: wall and CPU seconds, peak resident memory, exit status and what it printed."""

    wall: float
    cpu: float
    peak_mib: float
    status: int
    out: str


def run(argv: Sequence[str]) -> Run:
    """Start a process and measure it: wall time, its CPU time and peak memory (those of the processes it waited for
    included, as GNU time reports them; `wait4` where there is no GNU time, which also counts the memory this
    process had when it forked)."""
    started = time.perf_counter()
    if TIME.exists():
        with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
            proc = subprocess.run([str(TIME), "-f", "%U %S %M", "-o", report.name, *argv], capture_output=True,
                                  check=False)
            wall = time.perf_counter() - started  # GNU time's own %e counts in steps of 10 ms
            user, system, peak_kib = (float(v) for v in report.read().split()[-3:])
        out = (proc.stdout + proc.stderr).decode(errors="replace")
        return Run(wall, user + system, peak_kib / 1024, proc.returncode, out)
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = child.stdout.read() if child.stdout else b""
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, code, out.decode(errors="replace"))


def interleaved(runs: int, sides: dict[str, Callable[[], Run]]) -> dict[str, list[Run]]:
    """Every side `runs` times, taking turns and rotating which goes first."""
    results: dict[str, list[Run]] = {name: [] for name in sides}
    names = list(sides)
    for turn in range(runs):
        for name in names[turn % len(names):] + names[: turn % len(names)]:
            results[name].append(sides[name]())
    return results


def best(runs: list[Run]) -> Run:
    """The least disturbed run: the fastest by wall time, with the highest peak memory of any run."""
    fastest = min(runs, key=lambda r: r.wall)
    return Run(fastest.wall, min(r.cpu for r in runs), max(r.peak_mib for r in runs), fastest.status, fastest.out)


def verdict(ok: bool) -> str:
    return "ok" if ok else "MISSES TARGET"


def data_folder(lines: int, csv_rows: int) -> DataPaths:
    """The archive folder of these sizes, built again when the generator changed."""
    folder = SCALE if (lines, csv_rows) == (LINES, CSV_ROWS) else WORK / f"scale-{lines}-{csv_rows}"
    marker = folder / ".built"
    wanted = {"lines": lines, "csv_rows": csv_rows, "csv_mtime": comments_csv(csv_rows).stat().st_mtime,
              "archive_mtime": (Path(__file__).parent / "archive.py").stat().st_mtime}
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return DataPaths(folder)
    started = time.perf_counter()
    paths = build_archive(folder, csv_rows=csv_rows, labeled=lines, gold=lines)
    marker.write_text(json.dumps(wanted))
    files = (paths.comments, paths.labeled, paths.gold)
    sizes = ", ".join(f"{p.name} {p.stat().st_size / 2**20:.0f} MiB" for p in files)
    print(f"built {folder} ({sizes}) in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return paths


def bench_stats_check(paths: DataPaths, runs: int) -> None:
    """`hcap stats` and `hcap check` against one csv pass plus one json.loads per line."""
    files = [str(paths.comments), str(paths.labeled), str(paths.gold)]
    results = interleaved(runs, {
        "pass": lambda: run([sys.executable, "-c", SINGLE_PASS, *files]),
        "stats": lambda: run([*HCAP, "stats", "--data-dir", str(paths.root)]),
        "check": lambda: run([*HCAP, "check", "--data-dir", str(paths.root)]),
    })
    counted = run([*COUNTER, str(paths.comments)])
    counter_mib = counted.peak_mib if counted.status == 0 else 0.0  # a version of hcap without a counting process
    reference = best(results["pass"])
    print(f"reference, one csv pass + one json.loads per line: {reference.wall:.2f} s ({reference.cpu:.2f} s CPU), "
          f"{reference.peak_mib:.0f} MiB")
    for name in ("stats", "check"):
        measured = best(results[name])
        if measured.status != (0 if name == "stats" else measured.status):
            print(f"  hcap {name} exited {measured.status}: {measured.out[-300:]}")
        ratio = measured.wall / reference.wall
        cpu_ratio = measured.cpu / reference.cpu
        memory = measured.peak_mib + counter_mib
        print(f"hcap {name}: {measured.wall:.2f} s ({measured.cpu:.2f} s CPU, all its processes), {ratio:.2f}x the "
              f"pass ({cpu_ratio:.2f}x its CPU) (target <= 1.5x) {verdict(ratio <= 1.5)}; memory "
              f"{measured.peak_mib:.0f} MiB + {counter_mib:.0f} MiB of its counting process = {memory:.0f} MiB "
              f"(target <= 150 MiB) {verdict(memory <= 150)}")


def bench_export(paths: DataPaths, runs: int, lines: int) -> None:
    """`hcap export` against the old dashboard's way with gold, by CPU time."""
    from hcap_tui.schema import LabelSchema

    fields = ",".join(LabelSchema.default().names)
    results = interleaved(runs, {
        "upstream": lambda: run([sys.executable, "-c", UPSTREAM_EXPORT, str(paths.gold), str(paths.root), fields]),
        "hcap": lambda: run([*HCAP, "export", "--json", "--data-dir", str(paths.root)]),
    })
    reference, measured = best(results["upstream"]), best(results["hcap"])
    if measured.status != 0:
        print(f"  hcap export exited {measured.status}: {measured.out[-300:]}")
    ratio = measured.cpu / reference.cpu
    print(f"hcap export, {lines:,} gold: {measured.cpu:.2f} s CPU ({measured.wall:.2f} s wall, "
          f"{measured.peak_mib:.0f} MiB); upstream-style {reference.cpu:.2f} s CPU ({reference.wall:.2f} s wall, "
          f"{reference.peak_mib:.0f} MiB); {ratio:.2f}x (target <= 1.0x) {verdict(ratio <= 1.0)}")


def commands() -> list[str]:
    """Every command `hcap --help` lists, and each group's own commands (`model import`)."""
    from typer.main import get_command

    from hcap_tui.cli import app

    names = []
    for name, command in sorted(get_command(app).commands.items()):  # type: ignore[attr-defined]
        names += [name, *(f"{name} {sub}" for sub in sorted(getattr(command, "commands", {})))]
    return names


def bench_start(runs: int) -> None:
    """`hcap --help` and each command's start (`hcap COMMAND --help`) against `python -c "import typer"`."""
    sides: dict[str, Callable[[], Run]] = {"typer": lambda: run([sys.executable, "-c", "import typer"])}
    sides["bare"] = lambda: run([sys.executable, "-c", BARE_COMMAND, "one", "--help"])
    sides["--help"] = lambda: run([*HCAP, "--help"])
    for name in commands():
        sides[name] = lambda name=name: run([*HCAP, *name.split(), "--help"])
    results = interleaved(runs, sides)
    reference, bare = best(results.pop("typer")), best(results.pop("bare"))
    print(f"reference, python -c 'import typer': {reference.wall * 1000:.0f} ms; a bare typer command with one "
          f"option, `one --help`: {bare.wall * 1000:.0f} ms ({bare.wall / reference.wall:.2f}x, typer's defaults)")
    worst = 0.0
    for name, measured in results.items():
        fastest = best(measured)
        ratio = fastest.wall / reference.wall
        worst = max(worst, ratio)
        label = "hcap --help" if name == "--help" else f"hcap {name} --help"
        print(f"  {label:<26} {fastest.wall * 1000:5.0f} ms  {ratio:.2f}x (target <= 2x) {verdict(ratio <= 2)}")
    print(f"start: slowest {worst:.2f}x of `import typer` (target <= 2x) {verdict(worst <= 2)}")


def bench_predict_overhead() -> None:
    """Client overhead per prediction against the Ollama double, beside a bare httpx POST (from bench_predict)."""
    import bench_predict
    from bench_predict import ITEMS, LATENCY_S, timed_bare_post, timed_client

    from hcap_tui.models.ollama import OllamaLabeller
    from hcap_tui.schema import LabelSchema

    sys.path.insert(0, str(bench_predict.TESTS))
    from doubles.ollama_double import OllamaDouble, Reply

    with OllamaDouble(slots=4, reply=lambda _body: Reply(delay=LATENCY_S)) as double:
        model = OllamaLabeller("flat-hcap", LabelSchema.default(), host=double.url)
        model.check()
        timed_client(model)  # warm-up
        pairs = [(timed_client(model), timed_bare_post(model, double.url)) for _ in range(3)]
    client_ms = min(c for c, _ in pairs) / ITEMS * 1000 - LATENCY_S * 1000
    bare_ms = min(b for _, b in pairs) / ITEMS * 1000 - LATENCY_S * 1000
    print(f"predict client overhead per item: {client_ms:.2f} ms (target < 5 ms) {verdict(client_ms < 5)}; "
          f"a bare httpx POST of the same request {bare_ms:.2f} ms; hcap's own share {client_ms - bare_ms:+.2f} ms")


def review_first_item(paths: DataPaths, runs: int, lines: int) -> None:
    """The review app's first item, and its peak memory once every tab and all of gold have loaded (each in its
    own process, as the user starts the app), against the old dashboard's data path over the same files."""
    review = f"""
import asyncio, json, re, sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from bench_review import time_to_first_item, time_to_loaded
from hcap_tui.config import DataPaths
paths = DataPaths(__import__("pathlib").Path(sys.argv[1]))
measure = time_to_first_item if sys.argv[2] == "first" else time_to_loaded
seconds = asyncio.run(measure(paths))
with open("/proc/self/status") as status:
    peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(json.dumps({{"seconds": seconds, "peak_kib": peak}}))
"""
    results = interleaved(runs, {
        "upstream": lambda: run([sys.executable, "-c", UPSTREAM_REVIEW, str(paths.labeled), str(paths.gold)]),
        "first": lambda: run([sys.executable, "-c", review, str(paths.root), "first"]),
        "loaded": lambda: run([sys.executable, "-c", review, str(paths.root), "loaded"]),
    })
    figures = {}
    for name, measured in results.items():
        parsed = [json.loads(r.out.strip().splitlines()[-1]) for r in measured if r.status == 0]
        if not parsed:
            print(f"  {name} failed: {measured[0].out[-500:]}")
            return
        figures[name] = (min(p["seconds"] for p in parsed), max(p["peak_kib"] for p in parsed) / 1024)
    (first_s, _), (loaded_s, loaded_mib), (ref_s, ref_mib) = figures["first"], figures["loaded"], figures["upstream"]
    print(f"review, first item at {lines:,} labeled + {lines:,} gold: {first_s:.2f} s; upstream's data path "
          f"{ref_s:.2f} s ({first_s / ref_s:.2f}x) (target <= 1.5 s) {verdict(first_s <= 1.5)}")
    print(f"review, peak memory fully loaded (every tab and all of gold, {loaded_s:.2f} s): {loaded_mib:.0f} MiB; "
          f"upstream's data path {ref_mib:.0f} MiB ({loaded_mib / ref_mib:.2f}x) (target <= 250 MiB) "
          f"{verdict(loaded_mib <= 250)}")


def main() -> None:
    """Build the archive, then measure the chosen rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("stats", "export", "start", "predict", "review"))
    parser.add_argument("--runs", type=int, default=3, help="repeats of each side (default 3)")
    parser.add_argument("--lines", type=int, default=LINES, help=f"label and gold lines (default {LINES:,})")
    parser.add_argument("--csv-rows", type=int, default=CSV_ROWS, help=f"comments.csv rows (default {CSV_ROWS:,})")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU cores; best of {args.runs} interleaved runs per side")
    if args.only in (None, "start"):
        bench_start(max(args.runs, 5))
    if args.only in (None, "predict"):
        bench_predict_overhead()
    if args.only in (None, "stats", "export", "review"):
        paths = data_folder(args.lines, args.csv_rows)
        print(f"data: {args.lines:,} teacher labels, {args.lines:,} gold, a {args.csv_rows:,}-row comments.csv")
        if args.only in (None, "stats"):
            bench_stats_check(paths, args.runs)
        if args.only in (None, "export"):
            bench_export(paths, args.runs, args.lines)
        if args.only == "review":
            review_first_item(paths, args.runs, args.lines)


if __name__ == "__main__":
    main()
