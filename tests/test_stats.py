"""`hcap stats` and `compute_stats`: counts a user can check against their files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from testdata import label, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths, open_project
from hcap_tui.schema import LabelSchema
from hcap_tui.stats import compute_stats
from hcap_tui.store import flat_record

runner = CliRunner()
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
CSV_HEADER = "horse,race_comment,main_race_comment,finishing_position,number_of_runners,total_distance_beaten\n"



def key(i: int) -> str:
    return f"{i + 2}th of 14, well beaten | [HORSE]: Never travelling, item {i}"


def gold_line(schema: LabelSchema, i: int, final: dict, proposed: dict | None, origin: str | None, **extra: Any):
    provenance: dict[str, Any] = {"origin": origin, "proposed": proposed, "reviewer": "ann"}
    if proposed is not None:
        provenance["changed"] = schema.changed_fields(proposed, final)
    return flat_record(schema, key(i), final, **provenance, **extra)


@pytest.fixture
def project_files(paths: DataPaths, schema: LabelSchema) -> DataPaths:
    """A folder with comments, teacher labels, predictions and gold from every origin.

    Teacher labels items 0-5; gold holds 0-3 (from the teacher), 10-12 (from two model versions) and 20 (an
    older line without provenance); predictions cover 10-15, with 14 and 15 failed.
    """
    rows = [
        "Alpha,Kept on well in the final furlong,Strong race,2,10,1.5",
        "Beta,Short,Weak race,3,10,4",  # horse comment too short: not eligible
        "Gamma,Never travelling at any stage,,PU,10,",  # no numeric position: not eligible
    ]
    paths.comments.write_text(CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    write_jsonl(paths.labeled, [flat_record(schema, key(i), label(in_form=i % 2 == 0), teacher="gemini") for i in range(6)])
    predictions = [
        flat_record(schema, key(i), label(), model="flat-hcap", model_digest=DIGEST_A) for i in range(10, 14)
    ] + [
        {"formatted_input": key(i), "status": "failed", "error": "not JSON", "raw": "{", "model": "flat-hcap"}
        for i in (14, 15)
    ]
    write_jsonl(paths.predictions, predictions)
    teacher_gold = [
        # item 1: the teacher said in_form false, the reviewer set it; item 2: the reviewer made the race strong
        gold_line(schema, 0, label(in_form=True), label(in_form=True), "gemini"),
        gold_line(schema, 1, label(in_form=True), label(in_form=False), "gemini"),
        gold_line(schema, 2, label(in_form=True, race_strength="strong"), label(in_form=True), "gemini"),
        gold_line(schema, 3, label(), label(), "gemini"),
    ]
    version_a = {"model": "flat-hcap", "model_digest": DIGEST_A}
    version_b = {"model": "flat-hcap", "model_digest": DIGEST_B}
    model_gold = [
        gold_line(schema, 10, label(out_of_form=True), label(), "predictions", **version_a),
        gold_line(schema, 11, label(), label(), "predictions", **version_a),
        gold_line(schema, 12, label(), label(), "predictions", **version_b),
    ]
    older = [flat_record(schema, key(20), label(worse_than_show=True, race_strength="weak"))]
    write_jsonl(paths.gold, teacher_gold + model_gold + older)
    return paths


def stats_json(data_dir: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["stats", "--data-dir", str(data_dir), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_counts_each_stage(project_files: DataPaths) -> None:
    data = stats_json(project_files.root)
    assert (data["comment_rows"], data["eligible_comments"]) == (3, 1)
    assert (data["labeled"], data["labeled_pending"]) == (6, 2)  # items 4 and 5 are not in gold
    assert data["predictions"] == 6
    assert data["predictions_pending"] == 1  # item 13; 10-12 are gold, 14-15 failed
    assert data["predictions_failed"] == 2
    assert data["gold"] == 8
    assert data["gold_by_origin"] == {"gemini": 4, "predictions": 3, "older": 1}
    assert data["problems"] == []


def test_json_distribution_in_gold(project_files: DataPaths) -> None:
    distribution = stats_json(project_files.root)["distribution"]
    assert list(distribution) == ["in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength"]
    assert distribution["in_form"] == {"true": 3, "false": 5}
    assert distribution["worse_than_show"] == {"true": 1, "false": 7}
    assert distribution["race_strength"] == {"strong": 1, "average": 6, "weak": 1, "no_signal": 0}


def test_json_correction_rates_by_origin_and_model_version(project_files: DataPaths) -> None:
    data = stats_json(project_files.root)
    teacher = data["corrections"]["gemini"]
    assert (teacher["items"], teacher["changed_items"]) == (4, 2)
    assert teacher["fields"]["in_form"] == {"reviewed": 4, "changed": 1, "rate": 0.25, "no_proposal": 0}
    assert teacher["fields"]["race_strength"] == {"reviewed": 4, "changed": 1, "rate": 0.25, "no_proposal": 0}
    assert teacher["fields"]["out_of_form"]["changed"] == 0
    assert "reasoning" not in teacher["fields"]
    model = data["corrections"]["predictions"]
    assert (model["items"], model["changed_items"]) == (3, 1)
    assert model["fields"]["out_of_form"] == {"reviewed": 3, "changed": 1, "rate": 0.3333, "no_proposal": 0}
    assert "older" not in data["corrections"]  # no proposal recorded, nothing to compare
    versions = {(g["model"], g["model_digest"]): g for g in data["model_corrections"]}
    assert set(versions) == {("flat-hcap", DIGEST_A), ("flat-hcap", DIGEST_B)}
    assert versions["flat-hcap", DIGEST_A]["fields"]["out_of_form"]["rate"] == 0.5
    assert versions["flat-hcap", DIGEST_B]["fields"]["out_of_form"]["rate"] == 0.0


def test_approved_failed_predictions_are_counted_apart_not_as_accepted(
    project_files: DataPaths, schema: LabelSchema
) -> None:
    version_a = {"model": "flat-hcap", "model_digest": DIGEST_A}
    partial = {name: value for name, value in label().items() if name != "race_strength"}
    with project_files.gold.open("a", encoding="utf-8") as handle:
        for i in (14, 15):  # the two failed predictions, approved after the reviewer set every value
            handle.write(json.dumps(gold_line(schema, i, label(), {}, "predictions", **version_a)) + "\n")
        handle.write(json.dumps(gold_line(schema, 16, label(race_strength="weak"), partial, "predictions")) + "\n")

    data = stats_json(project_files.root)

    model = data["corrections"]["predictions"]
    assert (model["items"], model["changed_items"], model["no_proposal"]) == (4, 1, 2)
    assert model["fields"]["out_of_form"] == {"reviewed": 4, "changed": 1, "rate": 0.25, "no_proposal": 2}
    assert model["fields"]["race_strength"] == {"reviewed": 3, "changed": 0, "rate": 0.0, "no_proposal": 3}
    versions = {g["model_digest"]: g for g in data["model_corrections"]}
    assert versions[DIGEST_A]["no_proposal"] == 2
    assert versions[DIGEST_A]["fields"]["out_of_form"]["rate"] == 0.5  # still 1 of 2, not 1 of 4
    report = runner.invoke(app, ["stats", "--data-dir", str(project_files.root)], env={"COLUMNS": "200"})
    no_proposal = next(line for line in report.stdout.splitlines() if "no proposal" in line)
    gemini, predictions, version_a_cell = no_proposal.split()[2:5]  # columns: origins, then model versions
    assert (gemini, predictions, version_a_cell) == ("0", "2", "2")  # the two approved failed predictions
    any_signal = next(line for line in report.stdout.splitlines() if "any signal" in line)
    assert "25% 1/4" in any_signal  # the model's rate leaves the failed items out


def test_last_gold_line_wins(project_files: DataPaths, schema: LabelSchema) -> None:
    with project_files.gold.open("a", encoding="utf-8") as handle:
        line = gold_line(schema, 1, label(), label(), "gemini")  # item 1 re-reviewed, now accepted as proposed
        handle.write(json.dumps(line) + "\n")
    data = stats_json(project_files.root)
    assert data["gold"] == 8
    assert data["corrections"]["gemini"]["fields"]["in_form"]["changed"] == 0


def test_report_shows_every_section(project_files: DataPaths) -> None:
    result = runner.invoke(app, ["stats", "--data-dir", str(project_files.root)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "eligible comments" in out and "of 3 rows in comments.csv" in out
    assert "predictions pending review" in out and "2 failed" in out
    assert "gemini 4 · predictions 3 · older 1" in out
    assert "Label distribution in gold (8 items)" in out
    assert "true 3 38%" in out
    assert "Reviewer corrections" in out
    assert "25% 1/4" in out  # the teacher's in_form
    assert "aaaaaaaa" in out and "bbbbbbbb" in out  # one column per model version


def test_empty_folder_reports_zeros(data_dir: Path) -> None:
    data = stats_json(data_dir)
    assert (data["labeled"], data["gold"], data["predictions_pending"]) == (0, 0, 0)
    assert data["eligible_comments"] is None
    assert data["corrections"] == {} and data["model_corrections"] == []
    result = runner.invoke(app, ["stats", "--data-dir", str(data_dir)])
    assert result.exit_code == 0
    assert "comments.csv absent or unreadable" in result.stdout and "None recorded yet" in result.stdout


def test_bad_lines_are_warned_about_and_skipped(project_files: DataPaths) -> None:
    with project_files.gold.open("a", encoding="utf-8") as handle:
        handle.write('{"formatted_input": "x", "in_form": "yes"}\n')
    result = runner.invoke(app, ["stats", "--data-dir", str(project_files.root), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["gold"] == 8
    assert "warning: goldstandard.jsonl line 9:" in result.stderr


def test_unreadable_comments_csv_is_a_problem_not_a_crash(project_files: DataPaths) -> None:
    project_files.comments.write_text("race_comment\nsomething\n", encoding="utf-8")
    data = stats_json(project_files.root)
    assert data["eligible_comments"] is None
    assert any("missing columns" in problem for problem in data["problems"])


def test_missing_data_folder_is_one_line_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["stats", "--data-dir", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: data folder") and result.stderr.count("\n") == 1


def test_compute_stats_returns_a_value_a_view_can_render(project_files: DataPaths) -> None:
    stats = compute_stats(open_project(project_files.root))
    assert stats.gold == 8 and stats.predictions_pending == 1
    assert stats.corrections["gemini"].rate("in_form") == 0.25
    assert stats.to_dict()["labeled"] == 6


def test_a_project_schema_drives_the_counts(paths: DataPaths) -> None:
    fields = [{"name": "keen", "type": "bool"}, {"name": "going", "type": "enum", "values": ["soft", "firm"]}]
    custom = {"fields": fields}
    paths.schema_override.write_text(json.dumps(custom), encoding="utf-8")
    write_jsonl(
        paths.gold,
        [
            {
                "formatted_input": "a",
                "keen": True,
                "going": "soft",
                "origin": "gemini",
                "proposed": {"keen": False, "going": "soft"},
            },
            {"formatted_input": "b", "keen": False, "going": "soft"},
        ],
    )
    data = stats_json(paths.root)
    assert data["distribution"] == {"keen": {"true": 1, "false": 1}, "going": {"soft": 2, "firm": 0}}
    assert data["corrections"]["gemini"]["fields"] == {
        "keen": {"reviewed": 1, "changed": 1, "rate": 1.0, "no_proposal": 0},
        "going": {"reviewed": 1, "changed": 0, "rate": 0.0, "no_proposal": 0},
    }
