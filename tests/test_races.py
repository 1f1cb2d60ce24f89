"""Reading a formatted_input back into its parts, the race-level schema scope, and races whose items disagree."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from testdata import label, write_jsonl

from hcap_tui.comments import format_input
from hcap_tui.config import DataPaths, open_project
from hcap_tui.input_parts import InputParts, split_input
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record
from hcap_tui.tally import tally

COLUMNS = ("race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten")
SIGNALS = {"fields": [
    {"name": "keen", "type": "bool", "scope": "race"},
    {"name": "pace", "type": "enum", "values": ["fast", "slow"], "scope": "race"},
    {"name": "game", "type": "bool"},
    {"name": "note", "type": "text"},
]}


def row(horse: str, race: str, position: str, runners: str, beaten: str) -> dict[str, str]:
    return dict(zip(COLUMNS, (horse, race, position, runners, beaten)))


@pytest.mark.parametrize(
    ("cells", "parts"),
    [
        (("Made all, kept on gamely", "Strong race, good pace throughout", "1", "12", "0"),
         InputParts("Won", "Strong race, good pace throughout", "Made all, kept on gamely", 1, None, "Won")),
        (("Denied clear run inside final furlong", "Modest affair", "3", "12", "2.5"),
         InputParts("3rd of 12, involved in finish", "Modest affair", "Denied clear run inside final furlong",
                    3, 12, "involved in finish")),
        (("Never travelling, beaten a long way out", "", "10", "16", "20"),
         InputParts("10th of 16, well beaten", "", "Never travelling, beaten a long way out", 10, 16, "well beaten")),
        (("Kept on | one pace | [HORSE]: quoted", "Pace | [RACE]: odd text", "2", "8", "nk"),
         InputParts("2nd of 8", "Pace | [RACE]: odd text", "Kept on | one pace | [HORSE]: quoted", 2, 8, "")),
    ],
)
def test_split_input_reads_back_what_format_input_built(cells: tuple[str, ...], parts: InputParts) -> None:
    assert split_input(format_input(row(*cells))) == parts


def test_split_input_reads_an_older_record_whose_field_size_is_not_a_number() -> None:
    # Such rows are no longer eligible, but labels written from them before stay in the user's files.
    text = "4th of a dozen, fairly beaten | [RACE]: Steadily run | [HORSE]: Ran in snatches, no impression"
    assert split_input(text) == InputParts(
        "4th of a dozen, fairly beaten", "Steadily run", "Ran in snatches, no impression", 4, None, "fairly beaten"
    )


def test_split_input_round_trips_generated_rows() -> None:
    rng = random.Random(3)
    words = ["kept on", "hampered", "a | b", "[RACE]", "won", "well", "of", "12th", ","]
    for _ in range(2000):
        horse = " ".join(rng.choice(words) for _ in range(rng.randint(5, 12)))
        race = " ".join(rng.choice(words) for _ in range(rng.randint(0, 12)))
        text = format_input(row(horse, race, str(rng.randint(1, 20)), str(rng.randint(2, 20)), str(rng.random() * 12)))
        if text is None:
            continue
        parts = split_input(text)
        assert parts.horse == horse
        assert parts.race == (race if race.strip() else "")


def test_inputs_not_in_the_usual_form_come_back_as_the_horse_comment() -> None:
    assert split_input("Just a comment without tags") == InputParts("", "", "Just a comment without tags", None, None, "")
    assert split_input("[HORSE]: Led, kept on") == InputParts("", "", "Led, kept on", None, None, "")
    assert split_input("[RACE]: Slowly run | [HORSE]: Led") == InputParts("", "Slowly run", "Led", None, None, "")
    assert split_input("Won | [RACE]: No horse part") == InputParts("Won", "No horse part", "", 1, None, "Won")


def test_default_schema_marks_exactly_one_race_level_enum(schema: LabelSchema) -> None:
    assert [(f.kind, f.is_race_level) for f in schema.race_fields] == [("enum", True)]
    assert sum(f.is_race_level for f in schema.fields) == 1


def test_scope_comes_from_the_project_schema_and_stays_out_of_the_json_schema(data_dir: Path) -> None:
    (data_dir / "label_schema.json").write_text(json.dumps(SIGNALS), encoding="utf-8")
    schema = open_project(data_dir).schema
    assert [f.name for f in schema.race_fields] == ["keen", "pace"]
    assert "scope" not in json.dumps(schema.json_schema())
    assert LabelSchema.from_dict({"fields": [{"name": "keen", "type": "bool"}]}).race_fields == ()


def test_race_conflicts_per_race_level_field_with_items_per_value(tmp_path: Path) -> None:
    schema = LabelSchema.from_dict(SIGNALS)
    inputs = [format_input(row(f"Runner {i} kept on at one pace", race, str(i + 2), "9", "2"))
              for i, race in enumerate(["Race A.", "Race A.", "Race A.", "Race B.", "Race B.", "Race C.", ""])]
    values = [(True, "fast", True), (True, "slow", False), (False, "slow", True),
              (True, "fast", True), (True, "fast", False), (False, "slow", True), (False, "fast", True)]
    paths = DataPaths(tmp_path)
    write_jsonl(paths.labeled, [flat_record(schema, text, {"keen": k, "pace": p, "game": g, "note": "n"})
                                for text, (k, p, g) in zip(inputs, values)])
    conflicts = tally(Store(paths, schema), paths.labeled).race_conflicts()
    assert [(c.race, c.field, c.counts()) for c in conflicts] == [
        ("Race A.", "keen", {"true": 2, "false": 1}),
        ("Race A.", "pace", {"slow": 2, "fast": 1}),
    ]
    assert conflicts[0].to_dict() == {"race": "Race A.", "field": "keen", "counts": {"true": 2, "false": 1}}
    game_only = LabelSchema.from_dict({"fields": [{"name": "game", "type": "bool"}]})
    assert tally(Store(paths, game_only), paths.labeled).race_conflicts() == []


def race_folder(data_dir: Path, schema: LabelSchema) -> list[str]:
    """Teacher labels for two races and a lone runner: race A's three runners disagree on the race-level field;
    gold holds race B's two runners, which disagree there too. Returns the inputs in file order."""


    race_a = "A competitive handicap run at a strong gallop; \x1b[31mthe form looks solid."
    texts = [format_input(row(f"Runner {i}, tracked leaders, kept on", race, str(i + 2), "12", "2"))
             for i, race in enumerate([race_a, race_a, race_a, "Modest affair.", "Modest affair.", ""])]
    [enum] = schema.race_fields
    strengths = ["strong", "average", "strong", "weak", "weak", "average"]
    write_jsonl(data_dir / "labeled.jsonl",
                [flat_record(schema, t, label(**{enum.name: v}), teacher="gemini") for t, v in zip(texts, strengths)])
    write_jsonl(data_dir / "goldstandard.jsonl",
                [flat_record(schema, texts[3], label(**{enum.name: "weak"}), origin="gemini"),
                 flat_record(schema, texts[4], label(**{enum.name: "average"}), origin="gemini")])
    return texts


def test_check_lists_races_that_disagree_as_information(data_dir: Path, schema: LabelSchema) -> None:
    from typer.testing import CliRunner

    from hcap_tui.cli import app

    race_folder(data_dir, schema)
    result = CliRunner().invoke(app, ["check", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    [enum] = schema.race_fields
    at = lines.index(f"  --    labeled.jsonl: 1 race(s) whose items carry different {enum.name} values")
    assert lines[at + 1] == (f"          {enum.name} strong 2, average 1: "
                             "A competitive handicap run at a strong gallop; the form looks solid.")
    assert f"  --    goldstandard.jsonl: 1 race(s) whose items carry different {enum.name} values" in lines
    assert f"          {enum.name} weak 1, average 1: Modest affair." in lines
    assert lines[-1] == "no problems found"


def test_stats_lists_races_that_disagree_in_teacher_labels_and_gold(data_dir: Path, schema: LabelSchema) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from hcap_tui.cli import app
    from hcap_tui.stats import compute_stats
    from hcap_tui.stats_tables import stats_renderable

    texts = race_folder(data_dir, schema)
    result = CliRunner().invoke(app, ["stats", "--json", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    conflicts = json.loads(result.stdout)["race_conflicts"]
    [enum] = schema.race_fields
    assert [(c["field"], c["counts"]) for c in conflicts["teacher"]] == [(enum.name, {"strong": 2, "average": 1})]
    assert conflicts["teacher"][0]["race"] in texts[0] and conflicts["teacher"][0]["race"] in texts[1]
    assert [(c["race"], c["counts"]) for c in conflicts["gold"]] == [("Modest affair.", {"weak": 1, "average": 1})]
    console = Console(width=120, record=True, color_system=None)
    console.print(stats_renderable(compute_stats(open_project(data_dir))))
    screen = console.export_text()
    assert f"Races whose items disagree on {enum.title}" in screen
    assert "teacher  strong 2 · average 1  A competitive handicap run at a strong gallop; the form loo…" in screen
    assert "\x1b" not in screen
    assert "gold     weak 1 · average 1    Modest affair." in screen


def test_agreeing_races_add_no_section_and_no_check_line(data_dir: Path, schema: LabelSchema) -> None:
    from rich.console import Console
    from typer.testing import CliRunner

    from hcap_tui.cli import app
    from hcap_tui.stats import compute_stats
    from hcap_tui.stats_tables import stats_renderable

    race_folder(data_dir, schema)
    (data_dir / "goldstandard.jsonl").unlink()
    labeled = data_dir / "labeled.jsonl"
    [enum] = schema.race_fields
    labeled.write_text(labeled.read_text(encoding="utf-8").replace('"average"', '"strong"'), encoding="utf-8")
    assert "race(s)" not in CliRunner().invoke(app, ["check", "--data-dir", str(data_dir)]).stdout
    stats = compute_stats(open_project(data_dir))
    assert stats.race_conflicts == {"teacher": [], "gold": []}
    console = Console(width=120, record=True, color_system=None)
    console.print(stats_renderable(stats))
    assert "Races whose items" not in console.export_text()
    assert enum.name not in json.dumps(stats.to_dict()["race_conflicts"])
