"""Foundation speed and memory figures: sampling a 1,000,000-row CSV, a gold approval, loading labels.

Prints figures beside their targets and never asserts; run it with `python3 benchmarks/bench_foundation.py`.
Scratch files (a CSV of several hundred MiB among them, made by `scripts/generate_sample_data.py`) live under
`benchmarks/.work/` and are reused between runs.

- sampling: `CommentsFile.random_sample(20)` (what `hcap sample` does) in a fresh interpreter, timed, with
  the process's peak resident memory. Target: under 3 s and under 100 MiB.
- approval: `Store.approve` (lock, torn-line check, append, fsync) into a 100,000-line gold file against a
  bare `os.write` + `os.fsync` of the same bytes on an already open file; medians of 200 interleaved runs.
  Target: within 1.5x.
- loading: `Store.labeled()` over a 100,000-line labeled.jsonl. Reported in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from archive import WORK, archive_inputs, comments_csv, random_label, teacher_record, write_lines

from hcap_tui.config import DataPaths
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

CSV_ROWS = 1_000_000
STORE_LINES = 100_000
APPROVALS = 200
SEED = 7


# Peak memory is the process's VmHWM: unlike ru_maxrss it does not inherit the parent's high-water mark.
SAMPLE_PROBE = """
import json, re, sys, time
from pathlib import Path
from hcap_tui.comments import CommentsFile

def hwm_kib():
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))

before = hwm_kib()
started = time.perf_counter()
picked = CommentsFile(Path(sys.argv[1])).random_sample(20, seed=1)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_kib": hwm_kib(), "before_kib": before, "picked": len(picked)}))
"""


def bench_sampling(path: Path) -> None:
    """Time random_sample(20) over the big CSV in a fresh interpreter and report its peak memory."""
    runs = []
    for _ in range(3):
        probe = [sys.executable, "-c", SAMPLE_PROBE, str(path)]
        out = subprocess.run(probe, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    seconds = sorted(r["seconds"] for r in runs)
    peak_mib = max(r["peak_kib"] for r in runs) / 1024
    imports_mib = max(r["before_kib"] for r in runs) / 1024
    size_mib = path.stat().st_size / 2**20
    print(f"sample 20 of {CSV_ROWS:,} rows ({size_mib:.0f} MiB): {' / '.join(f'{s:.2f}' for s in seconds)} s "
          f"over 3 runs (target < 3 s, worst run {seconds[-1] / 3:.2f}x of it)")
    print(f"  peak RSS {peak_mib:.1f} MiB, {peak_mib - imports_mib:.1f} MiB above the interpreter with hcap imported "
          f"(target < 100 MiB, {peak_mib / 100:.2f}x of it)")
    started = time.perf_counter()
    subprocess.run(["hcap", "sample", "--count", "20", "--seed", "1", "--csv", str(path)],
                   capture_output=True, check=True)
    print(f"`hcap sample --count 20 --csv` end to end, process start included: {time.perf_counter() - started:.2f} s")


def teacher_records(schema: LabelSchema, csv_path: Path, count: int, seed: int) -> list[dict]:
    """`count` flat teacher lines with provenance, over the generated comments, with random labels."""
    rng = random.Random(seed)
    return [teacher_record(schema, text, random_label(schema, rng), i)
            for i, text in enumerate(archive_inputs(csv_path, count))]


def bench_approval(schema: LabelSchema, csv_path: Path) -> None:
    """Median Store.approve at 100,000 gold lines against a bare write+fsync of the same bytes."""
    folder = WORK / "approve"
    folder.mkdir(parents=True, exist_ok=True)
    paths = DataPaths(folder)
    records = teacher_records(schema, csv_path, STORE_LINES + APPROVALS, SEED)
    existing = records[:STORE_LINES]
    write_lines(paths.gold, existing)
    bare_path = folder / "bare.jsonl"
    write_lines(bare_path, existing)
    store = Store(paths, schema)
    approvals = [dict(r, origin="gemini", reviewer="bench") for r in records[STORE_LINES:]]
    store_times, bare_times = [], []
    bare_fd = os.open(bare_path, os.O_WRONLY | os.O_APPEND)
    try:
        for turn, record in enumerate(approvals):
            data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            # Alternate which goes first so neither always pays for the other's journal commit.
            for which in (("bare", "store") if turn % 2 else ("store", "bare")):
                started = time.perf_counter()
                if which == "bare":
                    os.write(bare_fd, data)
                    os.fsync(bare_fd)
                else:
                    store.approve(record)
                (bare_times if which == "bare" else store_times).append(time.perf_counter() - started)
    finally:
        os.close(bare_fd)
    approve_ms, bare_ms = statistics.median(store_times) * 1000, statistics.median(bare_times) * 1000
    print(f"gold approval at {STORE_LINES:,} lines: Store.approve median {approve_ms:.3f} ms, "
          f"bare os.write+os.fsync median {bare_ms:.3f} ms, ratio {approve_ms / bare_ms:.2f}x (target <= 1.5x)")


def bench_loading(schema: LabelSchema, csv_path: Path) -> None:
    """Seconds to load and validate a 100,000-line labeled.jsonl through the store."""
    folder = WORK / "load"
    folder.mkdir(parents=True, exist_ok=True)
    paths = DataPaths(folder)
    write_lines(paths.labeled, teacher_records(schema, csv_path, STORE_LINES, SEED + 1))
    started = time.perf_counter()
    loaded = Store(paths, schema).labeled()
    seconds = time.perf_counter() - started
    size_mib = paths.labeled.stat().st_size / 2**20
    print(f"load {len(loaded.items):,}-line labeled.jsonl ({size_mib:.0f} MiB) through Store.labeled(): "
          f"{seconds:.2f} s ({len(loaded.items) / seconds:,.0f} lines/s), {len(loaded.problems)} problems")


def main() -> None:
    """Run the chosen benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("sample", "approve", "load"), help="run just one benchmark")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    schema = LabelSchema.default()
    csv_path = comments_csv(CSV_ROWS)
    if args.only in (None, "sample"):
        bench_sampling(csv_path)
    if args.only in (None, "approve"):
        bench_approval(schema, csv_path)
    if args.only in (None, "load"):
        bench_loading(schema, csv_path)


if __name__ == "__main__":
    main()
