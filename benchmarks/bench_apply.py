"""`hcap apply` against a real llama-server: throughput against ideal, client cost, memory against archive size,
resume time.

Prints figures and ratios against references measured in the same run, and never asserts; run it with
`python3 benchmarks/bench_apply.py` (needs the `test` extra for xllamacpp). The server is tests/engine's
LlamaServer (llama.cpp's own server from the xllamacpp wheel, ONE compute thread, 4 parallel slots) serving
tests/fixtures/tiny-flat-hcap.gguf. Every `hcap apply` runs as the user runs it: its own process, the command
line, fsynced appends to its output. Scratch files live under `benchmarks/.work/apply/`.

- throughput: 2,000 eligible comments of the sample data, `--concurrency 4`, items/s, in CHUNKS runs of 500 each
  followed by a bare client (httpx POSTs of the very same request bodies from 4 threads, no validation, no files)
  on the same 500, so that both sides share whatever else the machine is doing at the time. Single-slot rate r1:
  `--concurrency 1` over SINGLE comments, alternating with the bare client from 1 thread, each side's best pass. The naive ideal for 4 slots is
  4 x r1; it assumes four cores. Here the server decodes all its slots in one compute thread, on one of the two
  cores (the other runs the client and the server's HTTP thread), so what 4 slots can give is what batching
  several sequences into each decode step saves, no more: the bare client at 4 threads measures exactly that
  ceiling. hcap's rate is printed against both; the target is 0.9 of the ceiling.
- client cost per item: CPU seconds of the `hcap apply` processes (user + system, from wait4) for the 2,000 items,
  less those of a run with one comment to label (start-up, scan, plan) for each, per item; and wall time per
  item at concurrency 1 against the bare client on the same items (hcap adds validation, the record and an
  fsynced append). Target: under 5 ms.
- memory against archive size: archives of 20,000 and 200,000 eligible rows (the sample's comments, each made
  unique), each with an output already holding all but LEFT of them, so a run labels only LEFT comments and
  what remains is what the archive's size costs. Peak resident memory of each run (its own VmHWM), the growth
  per 1,000 comments, and that growth against the output's own bytes per 1,000 lines (what holding the records
  would cost).
- resume: a rerun over each archive once everything is labelled (nothing to do: read the output, read the CSV),
  wall time against the time to read both files' bytes once and against labelling the archive at the measured
  rate, and per 1,000 comments.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hcap_tui.comments import REQUIRED_COLUMNS, format_input
from hcap_tui.models.openai import OpenAILabeller
from hcap_tui.schema import LabelSchema

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
WORK = Path(__file__).resolve().parent / ".work" / "apply"
MODEL = "openai:flat-hcap"
SLOTS = 4
ITEMS = 2_000
SINGLE = 300
CHUNKS = 4
ARCHIVES = (20_000, 200_000)
LEFT = 100
RATIO_TARGET = 0.9
OVERHEAD_TARGET_MS = 5.0


# `hcap` as a user runs it, reporting at exit the peak resident memory of its own program (VmHWM): the
# rusage of a child also counts what the parent's memory weighed before the child exec'd.
LAUNCH = """
import atexit, os, re
def peak():
    with open("/proc/self/status") as status, open(os.environ["HCAP_BENCH_PEAK"], "w") as out:
        out.write(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
atexit.register(peak)
from hcap_tui.cli import main
main()
"""


@dataclass
class Run:
    """One `hcap apply` process: its JSON summary, CPU seconds, peak memory and wall time."""

    summary: dict[str, Any]
    cpu_s: float
    peak_mib: float
    wall_s: float


def hcap_apply(data: Path, *args: str) -> Run:
    """`hcap apply --json` in its own process."""
    command = [sys.executable, "-c", LAUNCH, "apply", "--data-dir", str(data), "--model", MODEL, "--json", *args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as peak:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env={**os.environ, "HCAP_BENCH_PEAK": peak.name})
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode()
        if not text.strip():
            raise SystemExit(f"hcap apply failed ({process.returncode}): {err.read().decode()[-2000:]}")
        return Run(json.loads(text), usage.ru_utime + usage.ru_stime, int(peak.read()) / 1024, wall)


def bare(url: str, bodies: list[dict], threads: int) -> tuple[float, list[dict]]:
    """Seconds for bare httpx POSTs of `bodies` from `threads` threads, and the answers' usage and timings."""
    answers: list[dict] = []
    with httpx.Client(base_url=url + "/", timeout=120, limits=httpx.Limits(max_connections=None)) as client:

        def post(body: dict) -> None:
            response = client.post("chat/completions", json=body)
            if response.status_code == 200:
                answers.append(response.json())

        started = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(post, bodies))
        return time.perf_counter() - started, answers


def sample_rows() -> tuple[list[str], list[list[str]]]:
    """The header and the eligible rows of the bundled sample comments."""
    with (ROOT / "data" / "comments.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader if format_input(dict(zip(header, row)))]


def write_csv(folder: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A data folder holding `rows` as its comments.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *rows])
    return folder


def archive(folder: Path, header: list[str], base: list[list[str]], size: int, schema: LabelSchema) -> Path:
    """A data folder with `size` distinct eligible comments and `done.jsonl`, an output holding all of them."""
    horse = header.index("race_comment")
    rows = []
    for number in range(size):
        row = list(base[number % len(base)])
        row[horse] = f"{row[horse]} (run {number})"
        rows.append(row)
    write_csv(folder, header, rows)
    label: dict[str, Any] = {}
    for field in schema.fields:
        label[field.name] = False if field.kind == "bool" else field.values[0] if field.kind == "enum" else (
            "The comment gives no clear verdict either way, so every flag stays off and the race is average. " * 2)
    others = [c for c in header if c not in REQUIRED_COLUMNS]
    with (folder / "done.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            cells = dict(zip(header, row))
            record = {"formatted_input": format_input(cells), **{c: cells[c] for c in others}, **label,
                      "model": MODEL, "model_digest": None, "created_at": "2026-01-01T00:00:00+00:00"}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return folder


def output_from(folder: Path, leave: int) -> Path:
    """The folder's signals.jsonl made from done.jsonl without its last `leave` lines."""
    lines = (folder / "done.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "signals.jsonl").write_bytes(b"".join(lines[: len(lines) - leave]))
    return folder


def read_bytes_s(*paths: Path) -> float:
    """Seconds to read the files' bytes once, a block at a time."""
    started = time.perf_counter()
    for path in paths:
        with path.open("rb", buffering=0) as handle:
            while handle.read(1 << 20):
                pass
    return time.perf_counter() - started


def main() -> None:
    """Measure and print."""
    sys.path.insert(0, str(TESTS))  # the llama-server helper and the tiny GGUF live with the tests
    from engine.llama_server import TINY_GGUF, LlamaServer

    schema = LabelSchema.default()
    header, base = sample_rows()
    rows = base[:ITEMS]
    if WORK.exists():
        for path in sorted(WORK.rglob("*"), reverse=True):
            path.unlink() if path.is_file() or path.is_symlink() else path.rmdir()
    chunk = ITEMS // CHUNKS
    parts = [write_csv(WORK / f"items{n}", header, rows[n * chunk : (n + 1) * chunk]) for n in range(CHUNKS)]
    single = [write_csv(WORK / f"single{n}", header, rows[:SINGLE]) for n in range(2)]
    inputs = [format_input(dict(zip(header, row))) or "" for row in rows]
    archives = {size: archive(WORK / f"archive{size}", header, base, size, schema) for size in ARCHIVES}
    with LlamaServer(TINY_GGUF, parallel=SLOTS) as server:
        url = server.openai_url
        bodies = [OpenAILabeller("flat-hcap", schema, host=url).request_body(text) for text in inputs]
        bare(url, bodies[:40], SLOTS)  # warm-up: connections, the server's first batches
        one_hcap, one_bare = [], []  # single slot, hcap and the bare client alternating; each side's best pass
        for data in single:
            run = hcap_apply(data, "--host", url, "--concurrency", "1")
            one_hcap.append(run.summary["elapsed_s"] / (run.summary["labelled"] + run.summary["failed"]))
            seconds, _ = bare(url, bodies[:SINGLE], 1)
            one_bare.append(seconds / SINGLE)
        runs, bare_s, answers = [], 0.0, []
        for number, data in enumerate(parts):  # 4 slots: hcap and the bare client on each 500 in turn
            runs.append(hcap_apply(data, "--host", url, "--concurrency", str(SLOTS)))
            seconds, answered = bare(url, bodies[number * chunk : (number + 1) * chunk], SLOTS)
            bare_s += seconds
            answers += answered
        labelling = {size: hcap_apply(output_from(data, LEFT), "--host", url, "--concurrency", str(SLOTS))
                     for size, data in archives.items()}
        resumed = {}
        for size, data in archives.items():
            output_from(data, 0)
            raw_s = read_bytes_s(data / "signals.jsonl", data / "comments.csv")
            resumed[size] = (hcap_apply(data, "--host", url, "--concurrency", str(SLOTS)), raw_s)
        idle = hcap_apply(parts[0], "--host", url, "--concurrency", str(SLOTS), "--limit", "1")  # start-up and reads

    finished = sum(r.summary["labelled"] + r.summary["failed"] for r in runs)
    failed = sum(r.summary["failed"] for r in runs)
    elapsed = sum(r.summary["elapsed_s"] for r in runs)
    rate = finished / elapsed
    per_run = ", ".join(f"{(r.summary['labelled'] + r.summary['failed']) / r.summary['elapsed_s']:.1f}" for r in runs)
    r1, bare1, bare4 = 1 / min(one_hcap), 1 / min(one_bare), len(bodies) / bare_s
    tokens = sum(a["usage"]["completion_tokens"] for a in answers) / len(answers)
    prompt = sum(a["usage"]["prompt_tokens"] for a in answers) / len(answers)
    print(f"llama-server (xllamacpp, 1 compute thread, {SLOTS} slots) serving {TINY_GGUF.name}; "
          f"{os.cpu_count()} CPU cores; answers average {prompt:.0f} prompt and {tokens:.0f} generated tokens; "
          f"{len(bodies) - len(answers)} of {len(bodies)} requests answered 500 (llama-server cannot parse the output)")
    print(f"  throughput: {finished:,} items ({failed} failed) in {elapsed:.1f} s = {rate:.1f} items/s at "
          f"--concurrency {SLOTS}, in {CHUNKS} runs of {chunk} "
          f"({sum(r.wall_s for r in runs):.1f} s with start-up, scan and plan; run by run {per_run} items/s)")
    print(f"    single slot r1: hcap {r1:.1f} items/s, bare client {bare1:.1f} items/s; naive ideal for {SLOTS} "
          f"slots {SLOTS} x r1 = {SLOTS * r1:.1f} items/s: hcap reaches {rate / (SLOTS * r1):.2f} of it")
    ratio = rate / bare4
    verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
    print(f"    ideal here, {SLOTS} slots on one compute thread (bare client, the same {len(bodies):,} bodies from "
          f"{SLOTS} threads, each 500 right after hcap's): {bare4:.1f} items/s = {bare4 / bare1:.2f}x its single "
          f"slot; hcap reaches {ratio:.2f} of it (target >= {RATIO_TARGET}) {verdict}")
    cpu_s = sum(r.cpu_s for r in runs) - CHUNKS * idle.cpu_s
    client_cpu = cpu_s / finished * 1000
    verdict = "ok" if client_cpu < OVERHEAD_TARGET_MS else "ABOVE TARGET"
    passes = ", ".join(f"{(h - b) * 1000:+.2f}" for h, b in zip(one_hcap, one_bare))
    print(f"  client cost per item: {client_cpu:.2f} ms of hcap's CPU (target < {OVERHEAD_TARGET_MS:.0f} ms) "
          f"{verdict} ({cpu_s:.1f} s: the runs' CPU less {CHUNKS} x {idle.cpu_s:.1f} s for start-up, scan and plan); "
          f"wall at concurrency 1: {min(one_hcap) * 1000:.1f} ms per item against {min(one_bare) * 1000:.1f} ms "
          f"bare = {(min(one_hcap) - min(one_bare)) * 1000:+.2f} ms (pass by pass {passes} ms)")
    print(f"    peak memory of a {chunk}-item run: {max(r.peak_mib for r in runs):.0f} MiB; of a run with one "
          f"comment to label: {idle.peak_mib:.0f} MiB")
    small, big = ARCHIVES
    print(f"  memory against archive size (an output already holding all but {LEFT} comments; {LEFT} labelled):")
    for size in ARCHIVES:
        run = labelling[size]
        print(f"    {size:>7,} comments: peak {run.peak_mib:.0f} MiB ({run.summary['labelled']} labelled, "
              f"{run.summary['failed']} failed, {run.summary['skipped']:,} skipped) in {run.wall_s:.1f} s")
    growth = (labelling[big].peak_mib - labelling[small].peak_mib) / ((big - small) / 1000)
    line_mib = (archives[big] / "done.jsonl").stat().st_size / big * 1000 / 2**20
    print(f"    growth {growth * 1024:.0f} KiB per 1,000 comments ({growth * 2**20 / 1000:.0f} bytes a comment), "
          f"against {line_mib * 1024:.0f} KiB of output per 1,000 lines: {growth / line_mib:.1%} of what holding "
          f"the records would take; {labelling[big].peak_mib / labelling[small].peak_mib:.2f}x the memory for "
          f"{big // small}x the archive")
    print("  resume over a done archive (nothing left to label: read the output, read the CSV):")
    for size in ARCHIVES:
        run, raw_s = resumed[size]
        labelling_s = size / rate
        print(f"    {size:>7,} comments: {run.wall_s:.2f} s, {run.summary['skipped']:,} skipped; reading the two "
              f"files' bytes alone {raw_s:.2f} s; {run.wall_s / labelling_s:.2%} of labelling them at {rate:.1f} "
              "items/s")
    slope = (resumed[big][0].wall_s - resumed[small][0].wall_s) / ((big - small) / 1000)
    print(f"    {slope * 1000:.0f} ms per 1,000 comments more; 130,000 comments: about "
          f"{resumed[small][0].wall_s + slope * (130 - small / 1000):.0f} s")


if __name__ == "__main__":
    main()
