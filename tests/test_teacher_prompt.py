"""The teacher's instructions come from the label schema and the project's guidelines, not from code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doubles.gemini_double import GeminiDouble
from testdata import write_comments
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError
from hcap_tui.schema import LabelSchema
from hcap_tui.teacher_prompt import default_guidelines, project_instructions, teacher_instructions

CUSTOM_SCHEMA = {
    "name": "going",
    "description": "What a comment says about the ground and the horse's stamina.",
    "fields": [
        {"name": "stamina_doubt", "type": "bool", "description": "The comment questions whether it stays the trip."},
        {"name": "ground", "type": "enum", "values": ["firm", "good", "soft"],
         "description": "The going the comment says the horse wants."},
        {"name": "positive_attitude", "type": "bool", "description": "Battled, rallied or found more when asked."},
        {"name": "why", "type": "text", "description": "One sentence quoting the comment."},
    ],
}


def write_custom_schema(data_dir: Path) -> LabelSchema:
    """Put the custom schema in the data folder, as a user would, and load it."""
    (data_dir / "label_schema.json").write_text(json.dumps(CUSTOM_SCHEMA), encoding="utf-8")
    return LabelSchema.for_project(data_dir / "label_schema.json")


def test_instructions_list_a_custom_schemas_fields_in_order_with_their_descriptions(data_dir: Path) -> None:
    schema = write_custom_schema(data_dir)
    text = teacher_instructions(schema, "Be careful.")
    assert CUSTOM_SCHEMA["description"] in text
    positions = []
    for spec in CUSTOM_SCHEMA["fields"]:
        assert spec["description"] in text
        positions.append(text.index(f"- {spec['name']} "))
    assert positions == sorted(positions)
    assert '- ground (one of "firm", "good", "soft")' in text
    assert "- stamina_doubt (true or false)" in text
    assert "- why (a string)" in text
    assert "stamina_doubt, ground, positive_attitude, why" in text
    assert "JSON object and nothing else" in text
    for default_signal in ("in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength"):
        assert default_signal not in text


def test_default_instructions_carry_the_shipped_guidelines_and_every_default_field(schema: LabelSchema,
                                                                                     paths: DataPaths) -> None:
    text = project_instructions(schema, paths)
    assert default_guidelines().strip() in text
    for field in schema.fields:
        assert f"- {field.name} (" in text and field.description in text
    assert "one bad run is not out of form" in text.lower()
    assert "well handicapped" in text.lower()


def test_a_projects_guidelines_replace_the_shipped_ones(schema: LabelSchema, paths: DataPaths) -> None:
    paths.guidelines_override.write_text("# House rules\nOnly flag what the reader states outright.\n",
                                         encoding="utf-8")
    text = project_instructions(schema, paths)
    assert "Only flag what the reader states outright." in text
    assert default_guidelines().strip() not in text


def test_an_unreadable_guidelines_file_is_one_clear_error(schema: LabelSchema, paths: DataPaths) -> None:
    paths.guidelines_override.write_bytes(b"caf\xe9 rules\n")
    with pytest.raises(DataError, match="guidelines.md is not UTF-8"):
        project_instructions(schema, paths)


def test_the_teacher_is_sent_the_projects_schema_and_guidelines(data_dir: Path, gemini: GeminiDouble) -> None:
    write_custom_schema(data_dir)
    (data_dir / "guidelines.md").write_text("Only what the reader states outright.\n", encoding="utf-8")
    write_comments(data_dir, [("Stayed on strongly on the soft ground", "", "2", "10", "1", "Kilo")])
    result = CliRunner().invoke(app, ["label", "--data-dir", str(data_dir), "--count", "1", "--seed", "1"])
    assert result.exit_code == 0, result.output
    [body] = gemini.bodies
    names = [spec["name"] for spec in CUSTOM_SCHEMA["fields"]]
    assert list(body["generationConfig"]["responseSchema"]["properties"]) == names
    system = "".join(part["text"] for part in body["systemInstruction"]["parts"])
    assert "Only what the reader states outright." in system and "in_form" not in system
    [line] = (data_dir / "labeled.jsonl").read_text(encoding="utf-8").splitlines()
    assert list(json.loads(line))[: len(names) + 1] == ["formatted_input", *names]
