"""Writes that fail: a full disk, a quota, a refused permission, an I/O error, another Unix user.

Whatever fails, the file is left as it was before that write (no torn line, no temporary file), the user
reads one line naming the file and the problem, and a run says how much it saved first.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.ollama_double import OllamaDouble
from testdata import label

from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError, WriteFailed
from hcap_tui.export import build_export, write_export
from hcap_tui.jsonl import STALE_AFTER_S, JsonlFile, temp_files, write_atomic
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store, flat_record

ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
NOBODY = 65534
ERRORS = {
    errno.ENOSPC: "No space left on device",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EIO: "Input/output error",
    errno.EACCES: "Permission denied",
}


def record(i: int) -> dict[str, Any]:
    return {"formatted_input": f"item {i}", "pad": "x" * 200}


def lines_of(path: Path) -> list[dict[str, Any]]:
    """Every line of a file as JSON; a torn or broken line fails the test."""
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), f"{path.name} ends in a torn line"
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


@pytest.mark.parametrize("code", ERRORS)
def test_a_write_that_fails_half_way_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = tmp_path / "predictions.jsonl"
    target = JsonlFile(path)
    target.append([record(0), record(1)])
    before = path.read_bytes()
    real_write = os.write

    def half_then_fail(fd: int, data: bytes) -> int:
        """Like a disk that fills up during the write: part of the bytes land, then the error."""
        if len(data) > 10:
            real_write(fd, bytes(data)[: len(data) // 2])
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(WriteFailed) as caught:
        target.append([record(2)])
    monkeypatch.undo()
    message = str(caught.value)
    assert str(path) in message and ERRORS[code] in message and "left as it was" in message
    assert "\n" not in message
    assert path.read_bytes() == before
    target.append([record(3)])
    assert [line["formatted_input"] for line in lines_of(path)] == ["item 0", "item 1", "item 3"]


def test_a_failed_fsync_takes_the_written_line_back_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "goldstandard.jsonl"
    JsonlFile(path).append([record(0)])
    before = path.read_bytes()
    real_fsync = os.fsync
    failing = {"left": 1}

    def fsync_fails_once(fd: int) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_once)
    with pytest.raises(WriteFailed, match="Input/output error"):
        JsonlFile(path).append([record(1)])
    assert path.read_bytes() == before


def test_a_failed_first_write_leaves_no_file_and_a_torn_tail_stays_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    fresh, torn = tmp_path / "labeled.jsonl", tmp_path / "goldstandard.jsonl"
    torn.write_bytes(b'{"formatted_input": "whole"}\n{"formatted_input": "killed mid-li')
    before = torn.read_bytes()
    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(WriteFailed):
        JsonlFile(fresh).append([record(0)])
    with pytest.raises(WriteFailed):
        JsonlFile(torn).append([record(0)])  # would have written "\n" + the line
    assert not fresh.exists()
    assert torn.read_bytes() == before


APPEND_UNTIL_FULL = """
import json, sys
from pathlib import Path
from hcap_tui.errors import WriteFailed
from hcap_tui.jsonl import JsonlFile
target, acknowledged = JsonlFile(Path(sys.argv[1])), 0
try:
    while True:
        target.append([{"formatted_input": f"item {acknowledged}", "pad": "x" * 700}])
        acknowledged += 1
except WriteFailed as exc:
    print(json.dumps({"acknowledged": acknowledged, "error": str(exc)}))
"""


def limit_file_size(limit: int):
    """A preexec function: files of the child may not grow past `limit` bytes (EFBIG, as on a full disk)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # ignored signals stay ignored across exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_real_size_limit_keeps_every_acknowledged_line_whole(tmp_path: Path) -> None:
    path = tmp_path / "goldstandard.jsonl"
    run = subprocess.run([sys.executable, "-c", APPEND_UNTIL_FULL, str(path)], capture_output=True, text=True,
                         preexec_fn=limit_file_size(20_000), check=False, timeout=120)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert 10 < result["acknowledged"] < 30
    assert result["error"].startswith(f"cannot write {path} (left as it was): File too large")
    assert [line["formatted_input"] for line in lines_of(path)] == [f"item {i}" for i in range(result["acknowledged"])]


COLUMNS = ["race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten"]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A data folder and, outside it, a comments.csv of 300 eligible rows."""
    data, comments = tmp_path / "data", tmp_path / "comments.csv"
    data.mkdir()
    with comments.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(300):
            writer.writerow([f"Chased leaders, kept on at one pace #{i}", "Run at a fair gallop " * 10, "2", "9", "1"])
    yield data, comments


def hcap(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from hcap_tui.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=300, **options)


def assert_saved_and_one_error_line(run: subprocess.CompletedProcess[str], path: Path, problem: str) -> None:
    """Exit 1, no traceback, the last stderr line the one error naming the file, and the file whole."""
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and run.stderr.rstrip().endswith(errors[0])
    assert f"cannot write {path} (left as it was): {problem}" in errors[0]
    lines_of(path)


def test_predict_on_a_full_disk_says_what_it_saved(project: tuple[Path, Path]) -> None:
    data, comments = project
    with OllamaDouble(slots=4) as ollama:
        run = hcap("predict", "--count", "100", "-c", "4", "--seed", "1", "--host", ollama.url,
                   "-d", str(data), "--csv", str(comments), preexec_fn=limit_file_size(40_000))
    predictions = data / "predictions.jsonl"
    assert_saved_and_one_error_line(run, predictions, "File too large")
    saved = len(lines_of(predictions))
    assert 10 < saved < 100
    assert f"{saved} of 100 predictions finished and are saved in predictions.jsonl" in run.stderr


def test_label_on_a_full_disk_says_what_it_saved(project: tuple[Path, Path]) -> None:
    data, comments = project
    with OllamaDouble(slots=4) as ollama:
        run = hcap("label", "--count", "100", "-c", "4", "--seed", "1", "--teacher", "ollama:flat-hcap",
                   "--host", ollama.url, "-d", str(data), "--csv", str(comments),
                   preexec_fn=limit_file_size(40_000))
    labeled = data / "labeled.jsonl"
    assert_saved_and_one_error_line(run, labeled, "File too large")
    saved = len(lines_of(labeled))
    assert 10 < saved < 100
    assert f"labeled {saved} of 100 comments" in run.stdout
    assert run.stderr.rstrip().endswith(f"({saved} labels saved before it stopped)")


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """A 64 KiB tmpfs: a really full disk (needs root and a system that allows the mount)."""
    if not ROOT:
        pytest.skip("mounting a size-limited tmpfs needs root; the RLIMIT_FSIZE tests cover the same path")
    folder = Path(tempfile.mkdtemp(prefix="hcap-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)
        folder.rmdir()


def test_predict_with_four_in_flight_on_a_full_tmpfs(small_tmpfs: Path, project: tuple[Path, Path]) -> None:
    _, comments = project
    with OllamaDouble(slots=4) as ollama:
        run = hcap("predict", "--count", "100", "-c", "4", "--seed", "1", "--host", ollama.url,
                   "-d", str(small_tmpfs), "--csv", str(comments))
    predictions = small_tmpfs / "predictions.jsonl"
    assert_saved_and_one_error_line(run, predictions, "No space left on device")
    saved = len(lines_of(predictions))
    assert f"{saved} of 100 predictions finished and are saved" in run.stderr


def gold_of(paths: DataPaths, schema: LabelSchema, count: int) -> None:
    JsonlFile(paths.gold).append(
        flat_record(schema, f"item {i}", label(reasoning=f"Reason {i} " * 40), origin="gemini") for i in range(count)
    )


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_every_atomic_rewrite_leaves_the_old_file_and_no_temporary_file(
    paths: DataPaths, schema: LabelSchema, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    store = Store(paths, schema)
    gold_of(paths, schema, 30)
    store.approve(flat_record(schema, "item 0", label(in_form=True)))
    store.write_checkpoint("gemini", Checkpoint(3, "item 3"))
    export = build_export(schema, paths, store.gold())
    write_export(export)
    before = {p.name: p.read_bytes() for p in paths.root.iterdir() if p.is_file()}

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, step, fail)
    for rewrite in (store.compact_gold, lambda: store.write_checkpoint("gemini", Checkpoint(9, "item 9")),
                    lambda: write_export(export)):
        with pytest.raises(WriteFailed, match="left as it was.*No space left on device"):
            rewrite()
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in paths.root.iterdir() if p.is_file()} == before
    assert temp_files(paths.root) == []


COMPACT_UNDER_LIMIT = """
import sys
from pathlib import Path
from hcap_tui.config import DataPaths
from hcap_tui.errors import WriteFailed
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store
try:
    Store(DataPaths(Path(sys.argv[1])), LabelSchema.default()).compact_gold()
except WriteFailed as exc:
    print(exc)
"""


def test_compaction_that_hits_a_real_size_limit_keeps_gold(paths: DataPaths, schema: LabelSchema) -> None:
    gold_of(paths, schema, 40)
    gold_of(paths, schema, 5)  # superseded lines: compaction has something to drop
    before = paths.gold.read_bytes()
    run = subprocess.run([sys.executable, "-c", COMPACT_UNDER_LIMIT, str(paths.root)], capture_output=True,
                         text=True, preexec_fn=limit_file_size(len(before) // 2), check=False, timeout=120)
    assert run.stdout.startswith(f"cannot write {paths.gold} (left as it was): File too large"), run.stderr
    assert paths.gold.read_bytes() == before
    assert temp_files(paths.root) == []


def age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def dead_pid() -> int:
    """The id of a process that has exited."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_compaction_removes_the_temporary_files_killed_rewrites_of_gold_left(
    paths: DataPaths, schema: LabelSchema
) -> None:
    gold_of(paths, schema, 3)
    killed = paths.root / f".goldstandard.jsonl.tmp-{dead_pid()}-1"
    killed.write_bytes(b"x" * 100_000)
    running = paths.root / f".goldstandard.jsonl.tmp-{os.getpid()}-99"  # no rewrite of gold runs without the lock
    running.write_bytes(b"partial")
    other = paths.root / f".training_data.jsonl.tmp-{dead_pid()}-1"
    other.write_bytes(b"not gold's")
    assert {t.path.name for t in temp_files(paths.root, "goldstandard.jsonl")} == {killed.name, running.name}
    Store(paths, schema).compact_gold()
    assert not killed.exists() and not running.exists()
    assert other.exists()
    assert len(lines_of(paths.gold)) == 3


def test_a_checkpoint_write_removes_only_stale_temporary_files(paths: DataPaths, schema: LabelSchema) -> None:
    store = Store(paths, schema)
    stale = paths.root / f"..checkpoint-gemini.tmp-{dead_pid()}-1"
    fresh = paths.root / f"..checkpoint-gemini.tmp-{dead_pid()}-2"  # maybe another machine's writer, mid-rename
    live = paths.root / f"..checkpoint-gemini.tmp-{os.getpid()}-3"
    for temp in (stale, fresh, live):
        temp.write_text("7\n")
    age(stale, STALE_AFTER_S + 60)
    age(live, STALE_AFTER_S + 60)
    store.write_checkpoint("gemini", Checkpoint(4, "item 4"))
    assert not stale.exists()
    assert fresh.exists() and live.exists()
    assert store.read_checkpoint("gemini") == Checkpoint(4, "item 4")


COMPACT_AS = """
import os, sys
from pathlib import Path
from typer.testing import CliRunner
from hcap_tui.cli import app  # loaded before dropping root: the other user may not read the interpreter's files
from hcap_tui import config, store  # noqa: F401  (what `hcap gold compact` imports when it runs)
from hcap_tui.schema import LabelSchema
LabelSchema.default()
# and the modules typer imports when it first parses an option: a run against a folder that is not there
CliRunner().invoke(app, ["gold", "compact", "--data-dir", "/nonexistent"])
os.setgid(int(sys.argv[2]))
os.setuid(int(sys.argv[2]))
result = CliRunner().invoke(app, ["gold", "compact", "--data-dir", sys.argv[1]])
sys.stdout.write(result.stdout)
sys.stderr.write(result.stderr)
sys.exit(result.exit_code)
"""


@pytest.fixture
def shared(schema: LabelSchema) -> Iterator[DataPaths]:
    """A data folder everyone may write in, outside pytest's own (private to root) temporary folders."""
    if not ROOT:
        pytest.skip("needs root to act as a second Unix user")
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        os.chmod(folder, 0o777)
        paths = DataPaths(Path(folder))
        gold_of(paths, schema, 4)
        gold_of(paths, schema, 2)
        yield paths


def compact_as(paths: DataPaths, uid: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", COMPACT_AS, str(paths.root), str(uid)], capture_output=True,
                          text=True, check=False, timeout=120)


def test_another_user_cannot_take_gold_over_by_compacting_it(shared: DataPaths) -> None:
    os.chmod(shared.gold, 0o666)  # both users may append
    os.chmod(shared.root / ".goldstandard.jsonl.lock", 0o666)
    before = shared.gold.read_bytes(), shared.gold.stat()
    run = compact_as(shared, NOBODY)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.startswith(f"error: {shared.gold} belongs to root: compacting it as ") and run.stderr.count("\n") == 1
    assert "run `hcap gold compact` as root" in run.stderr
    after = shared.gold.stat()
    assert shared.gold.read_bytes() == before[0]
    assert (after.st_uid, after.st_gid, after.st_mode, after.st_ino) == (
        before[1].st_uid, before[1].st_gid, before[1].st_mode, before[1].st_ino
    )


def test_root_compacting_another_users_gold_keeps_its_owner_and_mode(shared: DataPaths) -> None:
    os.chown(shared.gold, NOBODY, NOBODY)
    os.chmod(shared.gold, 0o640)
    run = compact_as(shared, 0)
    assert run.returncode == 0, run.stderr
    assert "gold: 4 items kept, 2 superseded lines dropped" in run.stdout
    after = shared.gold.stat()
    assert (after.st_uid, after.st_gid, after.st_mode & 0o7777) == (NOBODY, NOBODY, 0o640)
    assert len(lines_of(shared.gold)) == 4


def test_the_owner_compacting_its_own_gold_keeps_its_mode(shared: DataPaths) -> None:
    os.chown(shared.gold, NOBODY, NOBODY)
    os.chmod(shared.gold, 0o664)
    run = compact_as(shared, NOBODY)
    assert run.returncode == 0, run.stderr
    after = shared.gold.stat()
    assert (after.st_uid, after.st_mode & 0o7777) == (NOBODY, 0o664)


def test_rewriting_a_path_that_is_a_folder_is_a_data_error(tmp_path: Path) -> None:
    """WriteFailed is a DataError: every command and the review app already turn those into one line."""
    assert issubclass(WriteFailed, DataError)
    with pytest.raises(WriteFailed, match="Is a directory"):
        write_atomic(tmp_path, b"x")
