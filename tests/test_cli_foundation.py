"""`hcap sample`, `hcap check` and `hcap gold compact` as a user runs them: stdout, stderr, exit codes, files."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

COLUMNS = ["horse_name", "race_comment", "main_race_comment", "finishing_position", "number_of_runners",
           "total_distance_beaten"]
LABEL = {"in_form": True, "out_of_form": False, "better_than_show": False, "worse_than_show": False,
         "race_strength": "average", "reasoning": "Rallied gamely; will remain of interest."}


def run(*args: str, env: dict[str, str] | None = None):
    """Invoke hcap in-process."""
    return CliRunner().invoke(app, list(args), env=env)


def write_comments(path: Path, count: int = 30) -> list[str]:
    """A comments.csv with `count` eligible rows plus a pulled-up one; returns the eligible formatted_inputs."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(count):
            writer.writerow([f"Horse {i}", f"Chased leaders, kept on one pace #{i}", "Run at a fair gallop", "2",
                             "10", "1.5"])
        writer.writerow(["Faller", "Fell at the start, no chance at all", "", "F", "10", ""])
    return [f"2nd of 10, involved in finish | [RACE]: Run at a fair gallop | [HORSE]: "
            f"Chased leaders, kept on one pace #{i}" for i in range(count)]


def assert_one_error_line(result, *words: str) -> None:
    """The user sees exactly one `error:` line naming the problem, and no traceback."""
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file in a folder, hidden ones included, by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_sample_prints_json_lines_with_metadata(data_dir: Path) -> None:
    expected = write_comments(data_dir / "comments.csv")
    result = run("sample", "--count", "5", "--seed", "11", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 5 and len({r["formatted_input"] for r in records}) == 5
    assert all(r["formatted_input"] in expected for r in records)
    assert all(r["metadata"]["horse_name"].startswith("Horse ") for r in records)
    assert result.stderr == ""
    assert run("sample", "--count", "5", "--seed", "11", "--data-dir", str(data_dir)).stdout == result.stdout
    assert run("sample", "--count", "5", "--seed", "12", "--data-dir", str(data_dir)).stdout != result.stdout


def test_sample_asking_for_more_than_exist_prints_all_and_says_so(data_dir: Path) -> None:
    expected = write_comments(data_dir / "comments.csv", count=4)
    result = run("sample", "--count", "50", "--seed", "1", "--data-dir", str(data_dir))
    assert result.exit_code == 0
    assert sorted(json.loads(line)["formatted_input"] for line in result.stdout.splitlines()) == sorted(expected)
    assert result.stderr == "only 4 eligible comments: printed them all\n"


def test_sample_without_seed_reports_one_that_repeats_the_draw(data_dir: Path) -> None:
    write_comments(data_dir / "comments.csv")
    result = run("sample", "-n", "4", env={"HCAP_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0
    seed = result.stderr.split()[1]
    assert f"--seed {seed}" in result.stderr
    assert run("sample", "-n", "4", "--seed", seed, "--data-dir", str(data_dir)).stdout == result.stdout


def test_sample_excludes_inputs_from_several_files(data_dir: Path, schema: LabelSchema) -> None:
    expected = write_comments(data_dir / "comments.csv", count=10)
    labeled, legacy = data_dir / "labeled.jsonl", data_dir / "old_predictions.jsonl"
    labeled.write_text("".join(json.dumps(flat_record(schema, text, LABEL)) + "\n" for text in expected[:4]))
    legacy.write_text("".join(json.dumps({"prompt": text, "completion": "{}"}) + "\n" for text in expected[4:7]))
    result = run("sample", "-n", "50", "--seed", "1", "--exclude", str(labeled), "--exclude", str(legacy),
                 "--data-dir", str(data_dir))
    assert result.exit_code == 0
    assert sorted(json.loads(line)["formatted_input"] for line in result.stdout.splitlines()) == sorted(expected[7:])


def test_sample_reads_a_csv_given_by_path_without_a_data_folder(tmp_path: Path) -> None:
    expected = write_comments(tmp_path / "elsewhere.csv", count=3)
    result = run("sample", "-n", "10", "--seed", "2", "--csv", str(tmp_path / "elsewhere.csv"))
    assert result.exit_code == 0
    assert sorted(json.loads(line)["formatted_input"] for line in result.stdout.splitlines()) == sorted(expected)


def test_sample_user_mistakes_are_one_line(data_dir: Path, tmp_path: Path) -> None:
    assert_one_error_line(run("sample", "--data-dir", str(tmp_path / "missing")), "does not exist", "--data-dir")
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    assert_one_error_line(run("sample", "--data-dir", str(tmp_path / "a-file")), "a-file is not a folder")
    assert "does not exist" not in run("stats", "--data-dir", str(tmp_path / "a-file")).stderr
    assert_one_error_line(run("sample", "--data-dir", str(data_dir)), "comments.csv not found", "--csv")
    (data_dir / "comments.csv").write_text("race_comment,finishing_position\nx,1\n", encoding="utf-8")
    assert_one_error_line(
        run("sample", "--data-dir", str(data_dir)),
        "missing columns main_race_comment, number_of_runners, total_distance_beaten",
    )
    write_comments(data_dir / "comments.csv")
    assert_one_error_line(run("sample", "--exclude", "nope.jsonl", "--data-dir", str(data_dir)), "nope.jsonl")
    (data_dir / "label_schema.json").write_text("{", encoding="utf-8")
    assert_one_error_line(run("sample", "--data-dir", str(data_dir)), "label_schema.json", "not valid JSON")


def test_check_clean_folder_prints_counts_and_exits_0(data_dir: Path, schema: LabelSchema) -> None:
    texts = write_comments(data_dir / "comments.csv", count=6)
    (data_dir / "labeled.jsonl").write_text(
        "".join(json.dumps(flat_record(schema, t, LABEL, teacher="gemini")) + "\n" for t in texts[:3]))
    gold = [flat_record(schema, texts[0], LABEL), flat_record(schema, texts[0], LABEL | {"in_form": False})]
    (data_dir / "goldstandard.jsonl").write_text("".join(json.dumps(r) + "\n" for r in gold))
    (data_dir / ".checkpoint-gemini").write_text("175")
    result = run("check", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "comments.csv: 7 rows, 6 eligible" in out
    assert "labeled.jsonl: 3 valid records" in out
    assert "goldstandard.jsonl: 2 valid records, 1 distinct inputs, 1 superseded" in out
    assert ".checkpoint-gemini: item 176" in out
    assert "predictions.jsonl: not present" in out
    assert out.rstrip().endswith("no problems found")
    pool = flat_record(schema, texts[4], LABEL, model="flat-hcap", batch_id="20250101T000000Z-abcdef")
    (data_dir / ".predictions-pool-20250101T000000Z-abcdef.jsonl").write_text(json.dumps(pool) + "\n")
    pooled = run("check", "--data-dir", str(data_dir))
    assert pooled.exit_code == 0
    assert ".predictions-pool-20250101T000000Z-abcdef.jsonl: 1 predictions of an interrupted uncertain pool" in (
        pooled.stdout
    )


def test_check_lists_bad_lines_exits_1_and_changes_nothing(data_dir: Path, schema: LabelSchema) -> None:
    write_comments(data_dir / "comments.csv", count=2)
    good = json.dumps(flat_record(schema, "fine", LABEL))
    (data_dir / "labeled.jsonl").write_text(f'{good}\n{{"formatted_input": "x", "in_form": tr\n{good}\n')
    (data_dir / "predictions.jsonl").write_text(
        f'{good}\n{json.dumps(flat_record(schema, "typed", LABEL | {"in_form": "false"}))}\n')
    (data_dir / "goldstandard.jsonl").write_text(f'{good}\n{{"formatted_input": "torn')
    (data_dir / ".checkpoint-predictions").write_text("not a number")
    before = snapshot(data_dir)
    result = run("check", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    out = result.stdout
    assert "labeled.jsonl line 2: not valid JSON" in out
    assert "predictions.jsonl line 2: in_form: expected true or false, got 'false'" in out
    assert "goldstandard.jsonl line 2: incomplete last line" in out
    assert ".checkpoint-predictions is not a checkpoint" in out
    assert "4 problem(s) found" in out
    assert snapshot(data_dir) == before


def test_check_caps_the_bad_lines_it_lists_but_counts_them_all(data_dir: Path, schema: LabelSchema) -> None:
    wrong = json.dumps(flat_record(schema, "typed", LABEL | {"in_form": "false"}))
    (data_dir / "labeled.jsonl").write_text("".join(wrong.replace("typed", f"typed {i}") + "\n" for i in range(25)))
    (data_dir / "predictions.jsonl").write_text(f"{wrong}\n" * 3)
    result = run("check", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    out = result.stdout
    assert "labeled.jsonl: 0 valid records, 25 bad line(s)" in out
    assert out.count("labeled.jsonl line ") == 10
    assert "labeled.jsonl line 10:" in out and "labeled.jsonl line 11:" not in out
    assert "… and 15 more bad lines in labeled.jsonl" in out
    assert out.count("predictions.jsonl line ") == 3 and "more bad lines in predictions.jsonl" not in out


def test_gold_compact_reports_and_rewrites(data_dir: Path, schema: LabelSchema) -> None:
    lines = [json.dumps(flat_record(schema, "A", LABEL)), "garbage", json.dumps(flat_record(schema, "A", LABEL))]
    (data_dir / "goldstandard.jsonl").write_text("\n".join(lines) + "\n")
    result = run("gold", "compact", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "gold: 1 items kept, 1 superseded lines dropped" in result.stdout
    assert "1 unreadable line(s) set aside in" in result.stdout
    [aside] = data_dir.glob("goldstandard.set-aside-*.jsonl")
    assert aside.read_text() == "garbage\n"
    assert (data_dir / "goldstandard.jsonl").read_text().count("\n") == 1
    assert run("check", "--data-dir", str(data_dir)).exit_code == 0


@pytest.mark.skipif(shutil.which("hcap") is None, reason="hcap is not installed on PATH")
def test_installed_hcap_command(tmp_path: Path) -> None:
    expected = write_comments(tmp_path / "comments.csv", count=4)
    sample = ["hcap", "sample", "-n", "2", "--seed", "3", "--csv", str(tmp_path / "comments.csv")]
    ok = subprocess.run(sample, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert ok.returncode == 0, ok.stderr
    assert all(json.loads(line)["formatted_input"] in expected for line in ok.stdout.splitlines())
    assert len(ok.stdout.splitlines()) == 2
    check = ["hcap", "check", "--data-dir", str(tmp_path / "missing")]
    bad = subprocess.run(check, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("error: data folder") and bad.stderr.count("\n") == 1
    assert "Traceback" not in bad.stderr
