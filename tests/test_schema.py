"""The label schema: strict validation, the JSON Schema sent to models, key order, and per-project overrides."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hcap_tui.config import open_project
from hcap_tui.errors import LabelError, SchemaError
from hcap_tui.schema import LabelSchema

DEFAULT_ORDER = ["in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength", "reasoning"]
SEVEN_ORDER = [
    "in_form",
    "out_of_form",
    "better_than_show",
    "flattered_by_result",
    "positive_attitude",
    "negative_attitude",
    "race_strength",
    "reasoning",
]


def good_label() -> dict[str, Any]:
    """A valid default label, keys deliberately out of schema order."""
    return {
        "reasoning": "Denied a clear run; shaped better than the bare result.",
        "race_strength": "weak",
        "worse_than_show": False,
        "better_than_show": True,
        "out_of_form": False,
        "in_form": True,
    }


def seven_signal_schema() -> dict[str, Any]:
    """The user's later signal set: worse_than_show renamed, two attitude signals added."""
    booleans = ["in_form", "out_of_form", "better_than_show", "flattered_by_result", "positive_attitude",
                "negative_attitude"]
    fields: list[dict[str, Any]] = [{"name": n, "type": "bool", "description": f"{n} signal"} for n in booleans]
    fields.append({"name": "race_strength", "type": "enum", "values": ["strong", "average", "weak", "no_signal"]})
    fields.append({"name": "reasoning", "type": "text", "description": "why"})
    return {"name": "seven", "fields": fields}


def test_default_schema_has_the_users_fields_in_order(schema: LabelSchema) -> None:
    assert list(schema.names) == DEFAULT_ORDER
    assert [f.name for f in schema.booleans] == DEFAULT_ORDER[:4]
    assert [f.name for f in schema.enums] == ["race_strength"]
    assert schema.enums[0].values == ("strong", "average", "weak", "no_signal")
    assert [f.name for f in schema.texts] == ["reasoning"]
    assert [f.name for f in schema.signals] == DEFAULT_ORDER[:5]
    assert all(f.description for f in schema.fields)


def test_valid_label_comes_back_in_schema_order(schema: LabelSchema) -> None:
    label = schema.validate(good_label())
    assert list(label) == DEFAULT_ORDER
    assert label["in_form"] is True and label["race_strength"] == "weak"


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("in_form", "false", "'false'"),
        ("in_form", "true", "'true'"),
        ("out_of_form", 1, "got 1"),
        ("better_than_show", 0, "got 0"),
        ("worse_than_show", None, "None"),
        ("race_strength", "very_strong", "'very_strong' is not one of"),
        ("race_strength", "Strong", "'Strong' is not one of"),
        ("race_strength", "", "is not one of"),
        ("reasoning", 42, "expected a string"),
    ],
)
def test_strict_validation_names_the_bad_field(schema: LabelSchema, field: str, value: Any, words: str) -> None:
    label = good_label() | {field: value}
    with pytest.raises(LabelError) as caught:
        schema.validate(label)
    message = str(caught.value)
    assert message.startswith(f"{field}:") and words in message
    assert "\n" not in message


def test_missing_field_is_named(schema: LabelSchema) -> None:
    label = good_label()
    del label["worse_than_show"]
    with pytest.raises(LabelError, match=r"^worse_than_show: missing$"):
        schema.validate(label)


def test_extra_field_is_named(schema: LabelSchema) -> None:
    with pytest.raises(LabelError, match=r"^confidence_score: not a field of the label schema$"):
        schema.validate(good_label() | {"confidence_score": 0.9})


def test_non_object_is_rejected(schema: LabelSchema) -> None:
    with pytest.raises(LabelError, match="expected a JSON object, got list"):
        schema.validate([True, False])


def test_extract_ignores_provenance_but_names_missing_fields(schema: LabelSchema) -> None:
    record = {"formatted_input": "Won | [HORSE]: Made all", **good_label(), "teacher": "gemini", "human_verified": True}
    assert schema.extract(record) == schema.validate(good_label())
    with pytest.raises(LabelError, match="missing fields race_strength, reasoning"):
        schema.extract({"formatted_input": "x", "in_form": True, "out_of_form": False, "better_than_show": False,
                        "worse_than_show": False})


def test_parse_reads_model_text_strictly(schema: LabelSchema) -> None:
    assert schema.parse(json.dumps(good_label())) == schema.validate(good_label())
    with pytest.raises(LabelError, match="not valid JSON"):
        schema.parse('{"in_form": true, "out_of_form": fal')
    with pytest.raises(LabelError, match="in_form"):
        schema.parse(json.dumps(good_label() | {"in_form": "false"}))


def test_json_schema_is_ordered_required_and_closed(schema: LabelSchema) -> None:
    js = schema.json_schema()
    assert js["type"] == "object"
    assert list(js["properties"]) == DEFAULT_ORDER
    assert js["required"] == DEFAULT_ORDER
    assert js["additionalProperties"] is False
    assert js["properties"]["in_form"]["type"] == "boolean"
    assert js["properties"]["race_strength"] == {
        "type": "string",
        "enum": ["strong", "average", "weak", "no_signal"],
        "description": schema.field("race_strength").description,
    }
    assert js["properties"]["reasoning"]["type"] == "string"
    json.dumps(js)  # sendable as-is


def test_dumps_uses_schema_key_order_and_keeps_unicode(schema: LabelSchema) -> None:
    label = good_label() | {"reasoning": "Beaten a neck – rallied gamely"}
    assert schema.dumps(label) == (
        '{"in_form": true, "out_of_form": false, "better_than_show": true, "worse_than_show": false, '
        '"race_strength": "weak", "reasoning": "Beaten a neck – rallied gamely"}'
    )
    assert schema.dumps(label | {"teacher": "gemini"}) == schema.dumps(label)


def test_changed_fields_in_schema_order(schema: LabelSchema) -> None:
    proposed = schema.validate(good_label())
    final = proposed | {"race_strength": "strong", "in_form": False}
    assert schema.changed_fields(proposed, final) == ["in_form", "race_strength"]
    assert schema.changed_fields(proposed, proposed) == []


def test_project_override_drives_model_json_schema_and_order(data_dir: Path) -> None:
    (data_dir / "label_schema.json").write_text(json.dumps(seven_signal_schema()), encoding="utf-8")
    schema = open_project(data_dir).schema
    assert list(schema.names) == SEVEN_ORDER
    assert len(schema.signals) == 7
    assert list(schema.json_schema()["properties"]) == SEVEN_ORDER
    assert schema.json_schema()["required"] == SEVEN_ORDER
    label = {name: False for name in SEVEN_ORDER[:6]} | {"reasoning": "r", "race_strength": "average"}
    label["positive_attitude"] = True
    assert list(schema.validate(label)) == SEVEN_ORDER
    assert list(json.loads(schema.dumps(label))) == SEVEN_ORDER
    with pytest.raises(LabelError, match="flattered_by_result: missing"):
        schema.validate({k: v for k, v in label.items() if k != "flattered_by_result"} | {"worse_than_show": False})
    assert set(schema.model.model_fields) == set(SEVEN_ORDER)


def test_folder_without_override_uses_the_default(data_dir: Path) -> None:
    assert list(open_project(data_dir).schema.names) == DEFAULT_ORDER


def _fields(*extra: dict[str, Any]) -> dict[str, Any]:
    return {"fields": [{"name": "in_form", "type": "bool"}, *extra]}


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{not json", "is not valid JSON (line 1): fix or remove it"),
        (json.dumps([1, 2]), 'needs a non-empty "fields" list'),
        (json.dumps({"fields": []}), 'needs a non-empty "fields" list'),
        (json.dumps({"fields": ["in_form"]}), "field 1 is not an object"),
        (json.dumps(_fields({"name": "in form", "type": "bool"})), 'field 2 needs a "name" that is an identifier'),
        (json.dumps(_fields({"name": "in_form", "type": "bool"})), "'in_form' is repeated; rename it"),
        (json.dumps(_fields({"name": "model", "type": "text"})), "'model' is reserved for hcap's own fields"),
        (json.dumps(_fields({"name": "teacher", "type": "text"})), "'teacher' is reserved"),
        (json.dumps(_fields({"name": "score", "type": "float"})), "has type 'float'; use bool, enum or text"),
        (json.dumps(_fields({"name": "pace", "type": "enum", "values": ["fast"]})), "two or more distinct strings"),
        (json.dumps(_fields({"name": "pace", "type": "enum", "values": ["a", "a"]})), "two or more distinct strings"),
        (json.dumps(_fields({"name": "pace", "type": "enum"})), "two or more distinct strings"),
        (json.dumps(_fields({"name": "pace", "type": "bool", "scope": "meeting"})), "has scope 'meeting'; use \"item\""),
        (json.dumps(_fields({"name": "note", "type": "text", "scope": "race"})), "bool and enum fields only"),
    ],
)
def test_bad_schema_file_is_one_line_schema_error(data_dir: Path, content: str, words: str) -> None:
    path = data_dir / "label_schema.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        open_project(data_dir)
    message = str(caught.value)
    assert words in message and str(path) in message
    assert "\n" not in message


def test_schema_file_that_is_not_utf8_or_not_a_file(data_dir: Path) -> None:
    path = data_dir / "label_schema.json"
    path.write_bytes(b'{"fields": [{"name": "caf\xe9", "type": "bool"}]}')
    with pytest.raises(SchemaError, match="not UTF-8"):
        LabelSchema.load(path)
    with pytest.raises(SchemaError, match="cannot read label schema"):
        LabelSchema.load(data_dir)
