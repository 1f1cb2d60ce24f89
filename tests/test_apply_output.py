"""The pieces under `hcap apply`: streamed reads, the run lock, streamed atomic rewrites, the ledger and compaction."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from testdata import label, write_jsonl

from hcap_tui.apply.appender import Appender
from hcap_tui.apply.output import Model, Output, input_key
from hcap_tui.errors import DataError
from hcap_tui.jsonl import InUse, JsonlFile, LineProblem, write_atomic


def test_stream_reads_what_read_reads_with_offsets(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n\n[1]\n{"b": "\xc3\xa9"}\nnot json\n{"c": 3}\n{"torn": ')
    streamed = list(JsonlFile(path).stream())
    assert [(line.number, line.value) for line in streamed] == list(JsonlFile(path).read())
    data = path.read_bytes()
    for line in streamed:
        assert data[line.offset : line.offset + len(line.raw)] == line.raw
    assert isinstance(streamed[-1].value, LineProblem) and "incomplete last line" in streamed[-1].value.reason


HOLD = """
import sys
from pathlib import Path
from hcap_tui.jsonl import JsonlFile
with JsonlFile(Path(sys.argv[1])).exclusive("hcap apply, pid 42 on box"):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_the_run_lock_refuses_while_held_and_frees_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(InUse) as refused, JsonlFile(path).exclusive("me"):
            pass
        assert refused.value.holder == "hcap apply, pid 42 on box"
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with JsonlFile(path).exclusive("me"):  # the kernel let go of the killed holder's lock
        assert (tmp_path / ".signals.jsonl.run").read_text() == "me"


def test_a_streamed_rewrite_that_fails_leaves_the_file_and_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    path.write_bytes(b'{"a": 1}\n')

    def chunks():
        yield b'{"b": 2}\n'
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, chunks())
    assert path.read_bytes() == b'{"a": 1}\n' and os.listdir(tmp_path) == ["f.jsonl"]
    write_atomic(path, iter([b'{"b": 2}\n', b'{"c": 3}\n']))
    assert path.read_bytes() == b'{"b": 2}\n{"c": 3}\n'


def line(text: str, model: str = "openai:m", digest: str | None = None, failed: bool = False) -> dict:
    """An output line for `text`."""
    if failed:
        return {"formatted_input": text, "status": "failed", "error": "bad", "raw": "x", "model": model,
                "model_digest": digest}
    return {"formatted_input": text, **label(), "model": model, "model_digest": digest}


def test_the_ledger_counts_the_last_line_of_each_comment(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    write_jsonl(path, [line("a", failed=True), line("a"), line("b", failed=True), line("c", model="openai:old"),
                       line("d", digest="sha256:1"), line("e", digest="sha256:2"), {"no": "input"}],
                extra="{torn")
    ledger = Output(path).scan(Model("openai:m", "sha256:1"))
    assert ledger.done == {input_key("a"), input_key("d")}
    assert ledger.failed == {input_key("b")}
    assert ledger.other == {input_key("c"), input_key("e")}  # another name, or the same name with other weights
    assert ledger.repeated == {input_key("a")} and ledger.lines == 6
    assert ledger.problem_count == 2 and ledger.other_models == {"openai:old": 1, "openai:m": 1}
    undigested = Output(path).scan(Model("openai:m", None))  # a server that reports no digest: names decide
    assert undigested.done == {input_key("a"), input_key("d"), input_key("e")}


def test_compaction_keeps_the_last_line_of_the_given_comments_and_every_other_byte(tmp_path: Path) -> None:
    path = tmp_path / "signals.jsonl"
    write_jsonl(path, [line("a", failed=True), line("b"), line("b", model="openai:other"), line("a")],
                extra="not json\n")
    before = path.read_bytes().splitlines(keepends=True)
    assert Output(path).compact({input_key("a")}) == 1
    assert path.read_bytes().splitlines(keepends=True) == before[1:]  # b keeps both lines: it was not asked for
    assert Output(path).compact({input_key("b")}) == 1
    assert [json.loads(raw).get("formatted_input") for raw in path.read_bytes().splitlines()[:2]] == ["b", "a"]
    assert path.read_bytes().endswith(b"not json\n")  # an unreadable line is kept as it is


def test_an_output_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is a folder: name a file with --out"):
        Output(tmp_path)


def test_the_appender_writes_what_arrives_during_a_write_as_one_group() -> None:
    groups: list[list[int]] = []
    counted: list[int] = []
    writing = threading.Event()

    def write(group: list[int]) -> None:
        groups.append(group)
        writing.set()
        time.sleep(0.05)  # an fsync on a slow disk: the loop goes on meanwhile

    async def main() -> None:
        async with Appender(write, counted.extend, limit=10) as appender:
            await appender.put(0)
            await asyncio.to_thread(writing.wait)
            for item in range(1, 6):
                await appender.put(item)  # queued while 0 is being written

    asyncio.run(main())
    assert groups == [[0], [1, 2, 3, 4, 5]] and counted == [0, 1, 2, 3, 4, 5]


def test_the_appender_stops_taking_results_once_counting_them_fails() -> None:
    written: list[int] = []

    def count(group: list[int]) -> None:
        if 2 in group:
            raise RuntimeError("stop here")

    async def main() -> None:
        async with Appender(written.extend, count, limit=1) as appender:
            for item in range(10):
                await appender.put(item)

    with pytest.raises(RuntimeError, match="stop here"):
        asyncio.run(main())
    assert written[:3] == [0, 1, 2] and len(written) < 10
