"""`hcap check` on what goes wrong around the files: paths that cannot be read, leftovers of killed rewrites,
CSV rows that cannot be right, gold that would teach an empty reasoning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testdata import label, write_comments, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

COLUMNS = "race_comment,main_race_comment,finishing_position,number_of_runners,total_distance_beaten"
HORSE = "Tracked leaders every chance 1f out kept on"


def check(data_dir: Path):
    return CliRunner().invoke(app, ["check", "--data-dir", str(data_dir)])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and not p.is_symlink()}


def test_a_symlink_loop_at_gold_is_a_problem_not_a_missing_file(data_dir: Path) -> None:
    os.symlink("goldstandard.jsonl", data_dir / "goldstandard.jsonl")
    result = check(data_dir)
    assert result.exit_code == 1
    assert "  BAD   goldstandard.jsonl: cannot read it: Too many levels of symbolic links" in result.stdout
    assert "goldstandard.jsonl: not present" not in result.stdout
    assert result.stdout.rstrip().endswith("1 problem(s) found; bad lines are skipped by every command until fixed.")


def test_every_unreadable_path_is_listed_and_the_rest_still_checked(data_dir: Path, schema: LabelSchema) -> None:
    write_comments(data_dir)
    (data_dir / "labeled.jsonl").mkdir()
    os.symlink("predictions.jsonl", data_dir / "predictions.jsonl")
    os.symlink(".checkpoint-gemini", data_dir / ".checkpoint-gemini")
    write_jsonl(data_dir / "goldstandard.jsonl", [flat_record(schema, "A", label())])
    os.symlink("elsewhere/evals.jsonl", data_dir / "evals.jsonl")
    before = snapshot(data_dir)
    result = check(data_dir)
    assert result.exit_code == 1
    out = result.stdout
    assert "  ok    comments.csv: 6 rows, 5 eligible" in out
    assert "  BAD   labeled.jsonl is a folder, not a file: move it away" in out
    assert "  BAD   predictions.jsonl: cannot read it: Too many levels of symbolic links" in out
    assert "  ok    goldstandard.jsonl: 1 valid records, 1 distinct inputs" in out
    assert "  BAD   .checkpoint-gemini: cannot read it: Too many levels of symbolic links" in out
    assert "  --    evals.jsonl: a symbolic link to elsewhere/evals.jsonl, which does not exist" in out
    assert "3 problem(s) found" in out
    assert snapshot(data_dir) == before


def test_a_symlink_loop_at_the_schema_or_settings_is_not_ignored(data_dir: Path) -> None:
    os.symlink("label_schema.json", data_dir / "label_schema.json")
    result = check(data_dir)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"error: cannot read label schema {data_dir / 'label_schema.json'}: ")
    (data_dir / "label_schema.json").unlink()
    os.symlink("hcap.toml", data_dir / "hcap.toml")
    assert check(data_dir).stderr.startswith(f"error: cannot read {data_dir / 'hcap.toml'}: Too many levels")


def test_temporary_files_of_killed_rewrites_are_listed_with_their_size(data_dir: Path, schema: LabelSchema) -> None:
    write_jsonl(data_dir / "goldstandard.jsonl", [flat_record(schema, "A", label())])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (data_dir / f".goldstandard.jsonl.tmp-{gone.pid}-140").write_bytes(b"x" * (21 * 2**20))
    (data_dir / f"..checkpoint-gemini.tmp-{gone.pid}-7").write_text("12\n")
    (data_dir / f".training_data.jsonl.tmp-{os.getpid()}-3").write_text("{}\n")
    before = snapshot(data_dir)
    result = check(data_dir)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert (f"  --    .goldstandard.jsonl.tmp-{gone.pid}-140: 21.0 MiB left by an interrupted rewrite of "
            "goldstandard.jsonl; the next rewrite of goldstandard.jsonl removes it, or delete it") in out
    assert f"  --    ..checkpoint-gemini.tmp-{gone.pid}-7: 3 bytes left by an interrupted rewrite of .checkpoint-gemini" in out
    assert (f"  --    .training_data.jsonl.tmp-{os.getpid()}-3: 3 bytes, being written by process {os.getpid()} "
            "to replace training_data.jsonl") in out
    assert snapshot(data_dir) == before


def test_csv_rows_that_cannot_be_right_are_listed_with_line_numbers(data_dir: Path) -> None:
    rows = [
        f'"{HORSE}",Fair gallop,2,9,1',
        f'"{HORSE}",Fair gallop,3,0,1',  # 3rd of 0
        f'"{HORSE}",Fair gallop,2,abc,1',  # 2nd of abc
        f'"{HORSE}",Fair gallop,5,-3,1',  # 5th of -3
        f'"{HORSE}",Fair gallop,4,9,-2',  # negative distance
        f'"{HORSE}",Fair gallop',  # a line break typed into a cell...
        "12,2.5,3",  # ...leaves two short rows
        f'"{HORSE}",Fair gallop,PU,9,',  # pulled up: not eligible, but nothing wrong with it
    ]
    (data_dir / "comments.csv").write_text("\n".join([COLUMNS, *rows]) + "\n", encoding="utf-8")
    result = check(data_dir)
    assert result.exit_code == 1
    assert "  BAD   comments.csv: 8 rows, 1 eligible, 6 bad row(s)" in result.stdout
    listed = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("comments.csv line")]
    assert listed == [
        "comments.csv line 3: number_of_runners '0' is not a whole number of runners; skipped",
        "comments.csv line 4: number_of_runners 'abc' is not a whole number of runners; skipped",
        "comments.csv line 5: number_of_runners '-3' is not a whole number of runners; skipped",
        "comments.csv line 6: total_distance_beaten '-2' is negative; skipped",
        "comments.csv line 7: 2 cells where the header has 5 (a line break or comma outside quotes?); skipped",
        "comments.csv line 8: 3 cells where the header has 5 (a line break or comma outside quotes?); skipped",
    ]


def test_a_repeated_csv_column_is_a_problem_naming_it(data_dir: Path) -> None:
    (data_dir / "comments.csv").write_text(f"{COLUMNS},race_comment\n", encoding="utf-8")
    result = check(data_dir)
    assert result.exit_code == 1
    assert "has the column race_comment more than once in its header row: rename or remove the repeats" in (
        result.stdout
    )


def test_gold_with_empty_text_is_listed(data_dir: Path, schema: LabelSchema) -> None:
    write_jsonl(data_dir / "goldstandard.jsonl", [
        flat_record(schema, "A", label()),
        flat_record(schema, "B", label(reasoning="")),
        flat_record(schema, "C", label(reasoning="   \n")),
        flat_record(schema, "D", label(reasoning="")),
        flat_record(schema, "D", label(reasoning="Approved again, with a reason.")),  # the last line wins
    ])
    result = check(data_dir)
    assert result.exit_code == 1
    assert "  BAD   goldstandard.jsonl: 5 valid records, 4 distinct inputs, 1 superseded" in result.stdout
    assert "goldstandard.jsonl line 2: reasoning is empty; `hcap export` leaves it out" in result.stdout
    assert "goldstandard.jsonl line 3: reasoning is empty; `hcap export` leaves it out" in result.stdout
    assert "line 4" not in result.stdout


def test_a_header_only_csv_says_it_has_no_eligible_comments(data_dir: Path, ollama) -> None:
    (data_dir / "comments.csv").write_text(COLUMNS + "\n", encoding="utf-8")
    for command in (["sample"], ["predict", "--host", ollama.url],
                    ["label", "--teacher", "ollama:flat-hcap", "--host", ollama.url]):
        result = CliRunner().invoke(app, [*command, "--seed", "1", "--data-dir", str(data_dir)])
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[-1] == (
            f"error: {data_dir / 'comments.csv'} has 0 eligible comments: it has no rows below its header row"
        )
        assert "already" not in result.output
    result = check(data_dir)
    assert result.exit_code == 0 and "  ok    comments.csv: 0 rows, 0 eligible" in result.stdout


def test_a_data_folder_that_is_a_symlink_loop_is_not_called_missing(tmp_path: Path) -> None:
    os.symlink("data", tmp_path / "data")
    result = check(tmp_path / "data")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: data folder {tmp_path / 'data'} is not a folder: ")


def test_the_archive_output_is_checked_line_by_line(data_dir: Path, schema: LabelSchema) -> None:
    lines = [
        flat_record(schema, "A", label(), model="flat-hcap", created_at="2026-01-01T00:00:00+00:00"),
        {"formatted_input": "B", "status": "failed", "error": "not JSON", "raw": "{", "model": "flat-hcap"},
        flat_record(schema, "A", label(in_form=True), model="flat-hcap", created_at="2026-01-02T00:00:00+00:00"),
        {"formatted_input": "C", "in_form": "maybe"},
    ]
    write_jsonl(data_dir / "signals.jsonl", lines)
    before = snapshot(data_dir)
    result = check(data_dir)
    assert result.exit_code == 1
    assert ("  BAD   signals.jsonl: 3 valid records, 2 comments, 1 failed (the next `hcap apply` retries them), "
            "1 superseded by later lines (the next `hcap apply` compacts them), 1 bad line(s)") in result.stdout
    assert "signals.jsonl line 4" in result.stdout
    assert snapshot(data_dir) == before


def test_saved_review_positions_are_read_as_the_app_reads_them(data_dir: Path) -> None:
    (data_dir / ".checkpoint-gemini").write_text("4\n")
    (data_dir / ".checkpoint-gemini.json").write_text('{"index": 4, "formatted_input": "A", "filter": "not in gold"}')
    (data_dir / ".checkpoint-predictions.json").write_text("{not json")
    result = check(data_dir)
    assert "  ok    .checkpoint-gemini and .checkpoint-gemini.json: item 5, filter not in gold" in result.stdout
    assert "  BAD   " in result.stdout and ".checkpoint-predictions.json is not a review position: delete it" in (
        result.stdout)
    assert result.exit_code == 1


def test_a_sound_state_file_alone_is_a_saved_position(data_dir: Path) -> None:
    (data_dir / ".checkpoint-predictions.json").write_text('{"index": 0, "formatted_input": "A"}')
    result = check(data_dir)
    assert "  ok    .checkpoint-predictions.json: item 1" in result.stdout
    assert result.exit_code == 0, result.stdout
