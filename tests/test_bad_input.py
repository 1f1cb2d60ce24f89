"""Bad input anywhere in a data folder is one `error:` line, never a traceback; odd text survives a round trip.

Every command is run against every data file replaced by a folder, a symbolic-link loop, a link to nowhere
or bytes that are not text, and (as a second Unix user, or with the file's permissions taken away) a file
it may not read. A lone surrogate escape that another tool wrote into a JSONL line reads, exports and
approves like any other text.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.ollama_double import OllamaDouble
from testdata import label, read_jsonl, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.export import split_key
from hcap_tui.jsonl import JsonlFile, encode
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import TEACHER, GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store, flat_record

COLUMNS = ["race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten"]
FAULTS = ["folder", "loop", "nowhere", "not text"]


def text(i: int) -> str:
    return f"{i % 9 + 2}th of 10 | [HORSE]: Chased leaders, kept on at one pace #{i}"


def fill(folder: Path, schema: LabelSchema) -> None:
    """A small but complete data folder: comments, teacher labels, predictions, gold, an export, checkpoints."""
    with (folder / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows([f"Chased leaders, kept on at one pace #{i}", "", str(i % 9 + 2), "10", ""] for i in range(40))
    write_jsonl(folder / "labeled.jsonl", [flat_record(schema, text(i), label(), teacher="ollama") for i in range(10)])
    write_jsonl(folder / "predictions.jsonl", [flat_record(schema, text(i), label(), model="m") for i in range(10, 15)])
    write_jsonl(folder / "goldstandard.jsonl", [flat_record(schema, text(i), label(), origin="gemini")
                                                 for i in range(30)])
    write_jsonl(folder / "eval_data.jsonl", [{"prompt": text(i), "completion": schema.dumps(label())}
                                             for i in range(3)])
    write_jsonl(folder / "evals.jsonl", [{"model": "m"}])
    (folder / ".checkpoint-gemini").write_text("3")


def spoil(folder: Path, target: str, fault: str) -> None:
    path = folder / target
    if path.is_dir():
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()
    if fault == "folder":
        path.mkdir()
    elif fault == "loop":
        os.symlink(path.name, path)
    elif fault == "nowhere":
        os.symlink("missing/" + path.name, path)
    else:
        path.write_bytes(b"\xff\xfe\x00 not text \x80\n{\n")


def commands(url: str) -> dict[str, list[str]]:
    """Every command that reads data files, by a short name."""
    return {
        "check": ["check"],
        "stats": ["stats", "--json"],
        "export": ["export"],
        "compact": ["gold", "compact"],
        "sample": ["sample", "-n", "3", "--seed", "1"],
        "predict": ["predict", "-n", "2", "--seed", "1", "--host", url],
        "uncertain": ["predict", "-n", "2", "--seed", "1", "--strategy", "uncertain", "--host", url],
        "disagree": ["predict", "-n", "2", "--strategy", "disagree", "--host", url],
        "label": ["label", "-n", "2", "--seed", "1", "--teacher", "ollama:flat-hcap", "--host", url],
        "eval": ["eval", "--host", url],
    }


# Each data file with the commands that read it (every command opens the schema and settings the same way).
READERS = {
    "comments.csv": ["check", "stats", "sample", "predict", "uncertain", "label"],
    "labeled.jsonl": ["check", "stats", "disagree", "label"],
    "predictions.jsonl": ["check", "stats", "predict"],
    "goldstandard.jsonl": ["check", "stats", "export", "compact", "sample", "predict", "disagree", "label", "eval"],
    "eval_data.jsonl": ["check", "eval"],
    "evals.jsonl": ["check", "eval"],
    ".checkpoint-gemini": ["check", "stats"],
    "label_schema.json": ["check", "predict"],
    "hcap.toml": ["check", "predict"],
    "guidelines.md": ["label"],
    ".goldstandard.jsonl.lock": ["compact"],
    ".predictions.jsonl.lock": ["predict"],
}


def assert_clean_ending(result, where: str) -> None:
    """No traceback; a failing command ends with exactly one `error:` line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{where}: {result.exception!r}"
    )
    assert "Traceback" not in result.output, where
    if result.exit_code not in (0, 1):
        pytest.fail(f"{where}: exit {result.exit_code}: {result.output}")
    if result.exit_code == 1:
        errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
        assert len(errors) <= 1, f"{where}: {errors}"
        assert errors or result.stdout.rstrip().endswith("problem(s) found; bad lines are skipped by every command "
                                                         "until fixed."), f"{where}: {result.output}"


@pytest.fixture(scope="module")
def ollama_url() -> Iterator[str]:
    with OllamaDouble() as double:
        yield double.url


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("target", READERS)
def test_every_command_meets_a_spoilt_file_with_one_line(
    tmp_path: Path, schema: LabelSchema, ollama_url: str, target: str, fault: str
) -> None:
    for name in READERS[target]:
        command = commands(ollama_url)[name]
        folder = tmp_path / "data"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        fill(folder, schema)
        spoil(folder, target, fault)
        result = CliRunner().invoke(app, [*command, "--data-dir", str(folder)])
        assert_clean_ending(result, f"hcap {' '.join(command[:2])} with {target} {fault}")


AS_ANOTHER_USER = """
import json, os, sys
from pathlib import Path
from typer.testing import CliRunner
from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema
LabelSchema.default()  # loaded before dropping root: the other user may not read the interpreter's own files
cases, warm = json.loads(sys.argv[1]), sys.argv[2]
for _, command in cases:  # every module a command imports lazily, imported while still allowed to
    CliRunner().invoke(app, [*command, "--data-dir", warm])
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)
results = []
for folder, command in cases:
    result = CliRunner().invoke(app, [*command, "--data-dir", folder])
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    results.append({"exit": result.exit_code, "stderr": result.stderr, "crashed": repr(result.exception) if crashed else None})
print(json.dumps(results))
"""
UNREADABLE = ["comments.csv", "labeled.jsonl", "goldstandard.jsonl", ".checkpoint-gemini", "label_schema.json",
              "eval_data.jsonl"]


def test_every_command_meets_a_file_it_may_not_read_with_one_line(schema: LabelSchema, ollama_url: str) -> None:
    """As a second Unix user when run as root (root reads anything), else with the file's permissions taken away."""
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:  # pytest's own folders are private to root
        os.chmod(shared, 0o777)
        cases = []
        for target in ["warm", *UNREADABLE]:
            folder = Path(shared) / target
            folder.mkdir()
            fill(folder, schema)
            if target != "warm":
                os.chmod(folder, 0o777)
                (folder / target).write_text("{}")
                os.chmod(folder / target, 0)
                cases += [(str(folder), commands(ollama_url)[name]) for name in READERS[target]]
        script = [sys.executable, "-c", AS_ANOTHER_USER, json.dumps(cases), str(Path(shared) / "warm")]
        run = subprocess.run(script, capture_output=True, text=True, check=False, timeout=300)
        assert run.returncode == 0, run.stderr
        results = json.loads(run.stdout)
        assert any("Permission denied" in result["stderr"] for result in results)
        for (folder, command), result in zip(cases, results, strict=True):
            where = f"hcap {' '.join(command[:2])} with {Path(folder).name} unreadable"
            assert result["crashed"] is None, where
            assert result["exit"] in (0, 1), where
            assert len([line for line in result["stderr"].splitlines() if line.startswith("error: ")]) <= 1, where


def test_gold_compact_on_a_folder_is_one_error_line(data_dir: Path) -> None:
    (data_dir / "goldstandard.jsonl").mkdir()
    result = CliRunner().invoke(app, ["gold", "compact", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (
        f"error: cannot read {data_dir / 'goldstandard.jsonl'}: Is a directory; a folder has the file's name: "
        "move it away\n"
    )


def test_a_command_meeting_any_refused_file_says_which(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last net: an OSError no part of hcap expected still ends in one line naming the file."""

    def refused(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(data_dir / "somewhere"))

    monkeypatch.setattr("hcap_tui.stats.compute_stats", refused)
    result = CliRunner().invoke(app, ["stats", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: cannot use {data_dir / 'somewhere'}: Permission denied; check the permissions of the file and "
        "its folder\n"
    )


SURROGATE_LINE = (
    '{"formatted_input": "3rd of 9 | [HORSE]: Odd \\ud800 byte, kept on", "in_form": false, "out_of_form": false, '
    '"better_than_show": true, "worse_than_show": false, "race_strength": "weak", '
    '"reasoning": "Ran on \\udc80 late."}\n'
)
SURROGATE_INPUT = "3rd of 9 | [HORSE]: Odd \ud800 byte, kept on"


def test_a_lone_surrogate_round_trips_through_every_writer(paths: DataPaths, schema: LabelSchema) -> None:
    record = flat_record(schema, SURROGATE_INPUT, label(reasoning="Ran on \udc80 late, café."))
    line = encode(record)
    assert b"\\ud800" in line and b"\\udc80" in line and "café".encode() in line  # other text stays readable
    JsonlFile(paths.labeled).append([record])
    [(_, back)] = list(JsonlFile(paths.labeled).read())
    assert back == record
    store = Store(paths, schema)
    store.write_checkpoint("gemini", Checkpoint(0, SURROGATE_INPUT))
    assert store.read_checkpoint("gemini") == Checkpoint(0, SURROGATE_INPUT)
    assert split_key(SURROGATE_INPUT) != split_key(SURROGATE_INPUT.replace("\ud800", "?"))


def test_export_writes_an_item_with_a_lone_surrogate(data_dir: Path) -> None:
    (data_dir / "goldstandard.jsonl").write_text(SURROGATE_LINE, encoding="utf-8")
    result = CliRunner().invoke(app, ["export", "--eval-fraction", "0", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    [row] = read_jsonl(data_dir / "training_data.jsonl")
    assert row["prompt"] == SURROGATE_INPUT
    assert json.loads(row["completion"])["reasoning"] == "Ran on \udc80 late."


def test_approving_an_item_with_a_lone_surrogate(paths: DataPaths, schema: LabelSchema) -> None:
    paths.labeled.write_text(SURROGATE_LINE, encoding="utf-8")
    store = Store(paths, schema)
    session = ReviewSession(store, TEACHER, GoldBook.load(store), "ann")
    session.extend(store.labeled(keep=True).items)
    session.finish_loading()
    session.toggle("in_form")
    session.approve()
    [gold] = store.gold().by_input.values()
    assert gold.formatted_input == SURROGATE_INPUT and gold.label["in_form"] is True
    assert gold.label["reasoning"] == "Ran on \udc80 late."
    assert store.gold_item(SURROGATE_INPUT) is not None
    session.undo()
    assert store.gold().by_input == {}
