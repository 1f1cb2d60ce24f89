"""The label schema: one data file from which every label-shaped thing in hcap derives.

The default schema (`schemas/flat_hcap.json`) holds the user's five signals plus `reasoning`. A project
replaces it by putting a `label_schema.json` in its data folder. From a `LabelSchema` come the strict
pydantic model, the JSON Schema sent to Ollama and Gemini, the key order of every written label, the
canonical JSON text of a completion, and the field lists the TUI, export and metrics iterate over.

Two review rules are declared in the file too: a field with `"scope": "race"` describes the race rather
than the runner (items sharing a race comment should agree on it), and `"exclusive"` lists pairs of
boolean fields that contradict each other (the review app warns before approving both; a label holding
both is still valid, since a teacher or reviewer may mean it).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr, ValidationError, create_model

from hcap_tui.errors import LabelError, SchemaError

FieldKind = Literal["bool", "enum", "text"]
# "item": the field describes one runner; "race": it describes the race, so every item sharing a `[RACE]`
# paragraph should carry the same value (hcap check, hcap stats and review point out races where they differ).
FieldScope = Literal["item", "race"]
SCOPES: tuple[FieldScope, ...] = ("item", "race")
DEFAULT_SCHEMA_RESOURCE = "flat_hcap.json"

# Names hcap itself writes beside the label fields; a schema field may not take one of them.
RESERVED_NAMES = frozenset(
    {
        "formatted_input",
        "prompt",
        "completion",
        "status",
        "error",
        "raw",
        "origin",
        "proposed",
        "changed",
        "reviewer",
        "reviewed_at",
        "model",
        "model_digest",
        "created_at",
        "batch_id",
        "confidence",
        "metadata",
        "teacher",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "disagrees_with_teacher",
        "teacher_values",
    }
)


@dataclass(frozen=True)
class SchemaField:
    """One label field: a boolean signal, a choice among fixed values, or free text."""

    name: str
    kind: FieldKind
    description: str
    title: str
    values: tuple[str, ...] = ()
    scope: FieldScope = "item"

    @property
    def is_race_level(self) -> bool:
        """The field judges the race rather than the runner: one value per `[RACE]` paragraph."""
        return self.scope == "race"

    @property
    def is_signal(self) -> bool:
        """Signals are what metrics score and reviewers toggle; free text is not a signal."""
        return self.kind != "text"

    def json_schema(self) -> dict[str, Any]:
        """This field's JSON Schema property, as sent to structured-output endpoints."""
        if self.kind == "bool":
            return {"type": "boolean", "description": self.description}
        if self.kind == "enum":
            return {"type": "string", "enum": list(self.values), "description": self.description}
        return {"type": "string", "description": self.description}


@dataclass(frozen=True)
class LabelSchema:
    """An ordered set of label fields; the order is the key order everywhere."""

    name: str
    fields: tuple[SchemaField, ...]
    description: str = ""
    source: str = field(default="", compare=False)
    exclusive: tuple[tuple[str, str], ...] = ()
    """Pairs of boolean fields that contradict each other (warned about in review, never refused)."""

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Every field name in schema order (computed once: every record read and written asks for it)."""
        return tuple(f.name for f in self.fields)

    @property
    def signals(self) -> tuple[SchemaField, ...]:
        """Boolean and enum fields, in schema order."""
        return tuple(f for f in self.fields if f.is_signal)

    @property
    def booleans(self) -> tuple[SchemaField, ...]:
        """Boolean fields, in schema order."""
        return tuple(f for f in self.fields if f.kind == "bool")

    @property
    def enums(self) -> tuple[SchemaField, ...]:
        """Enum fields, in schema order."""
        return tuple(f for f in self.fields if f.kind == "enum")

    @property
    def race_fields(self) -> tuple[SchemaField, ...]:
        """Signals marked `"scope": "race"`, in schema order: items of one race should agree on them."""
        return tuple(f for f in self.fields if f.is_race_level)

    @property
    def texts(self) -> tuple[SchemaField, ...]:
        """Free-text fields (the reasoning), in schema order."""
        return tuple(f for f in self.fields if f.kind == "text")

    def blank_texts(self, label: dict[str, Any]) -> list[str]:
        """The text fields a label leaves empty or only whitespace, in schema order: such a label teaches nothing."""
        return [f.name for f in self.texts if not str(label.get(f.name) or "").strip()]

    def contradictions(self, label: dict[str, Any]) -> list[tuple[str, str]]:
        """The exclusive pairs that are both true in `label`."""
        return [(a, b) for a, b in self.exclusive if label.get(a) is True and label.get(b) is True]

    def field(self, name: str) -> SchemaField:
        """The field called `name`; KeyError if the schema has none."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @cached_property
    def model(self) -> type[BaseModel]:
        """A strict pydantic model: exact booleans, known enum values, every field required, no extras."""
        definitions: dict[str, Any] = {}
        for f in self.fields:
            if f.kind == "bool":
                annotation: Any = StrictBool
            elif f.kind == "enum":
                annotation = Literal[f.values]  # type: ignore[valid-type]
            else:
                annotation = StrictStr
            definitions[f.name] = (annotation, ...)
        return create_model(  # type: ignore[call-overload]
            "Label",
            __config__=ConfigDict(extra="forbid", strict=True),
            **definitions,
        )

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema for structured output: properties in schema order, all required, no extras."""
        return {
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": list(self.names),
            "additionalProperties": False,
        }

    def validate(self, data: Any) -> dict[str, Any]:
        """Return `data` as a label dict in schema order, or raise LabelError with a one-line reason."""
        if not isinstance(data, dict):
            raise LabelError(f"expected a JSON object, got {type(data).__name__}")
        try:
            validated = self.model.model_validate(data)
        except ValidationError as exc:
            raise LabelError(_describe_validation_error(exc)) from None
        return validated.model_dump()

    def extract(self, record: dict[str, Any]) -> dict[str, Any]:
        """Validate the label fields of a flat record, ignoring the non-label fields beside them."""
        try:
            fields = {name: record[name] for name in self.names}
        except KeyError:
            missing = [name for name in self.names if name not in record]
            raise LabelError(f"missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}") from None
        return self.validate(fields)

    @cached_property
    def _checks(self) -> tuple[tuple[str, str, dict[str, str] | None], ...]:
        """(name, kind, enum value -> the schema's own string) per field, for `values`."""
        return tuple((f.name, f.kind, {v: v for v in f.values} if f.kind == "enum" else None) for f in self.fields)

    def values(self, record: dict[str, Any]) -> tuple[Any, ...]:
        """The label fields of a flat record as a tuple in schema order, validated as `extract` validates them.

        The fast path of reading a file: plain type checks instead of a pydantic model, and enum values as the
        schema's own strings, so 100,000 labels share a handful of them. Anything the checks refuse goes to
        `extract`, which raises the LabelError naming the problem.
        """
        values = []
        for name, kind, allowed in self._checks:
            value = record.get(name)
            if kind == "bool":
                if type(value) is not bool:
                    break
            elif allowed is not None:
                value = allowed.get(value) if type(value) is str else None
                if value is None:
                    break
            elif type(value) is not str:
                break
            values.append(value)
        else:
            return tuple(values)
        label = self.extract(record)  # raises the LabelError that says what is wrong
        return tuple(label[name] for name in self.names)

    def parse(self, text: str) -> dict[str, Any]:
        """Parse model output text into a validated label, or raise LabelError saying why not."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise LabelError(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
        return self.validate(data)

    def dumps(self, label: dict[str, Any]) -> str:
        """Canonical JSON text of a label: schema key order, `", "`/`": "` separators, UTF-8 kept.

        This is the completion text training rows carry, so it must match what the structured-output
        grammar lets the served model produce.
        """
        return json.dumps({name: label[name] for name in self.names}, ensure_ascii=False)

    def changed_fields(self, proposed: dict[str, Any], final: dict[str, Any]) -> list[str]:
        """Names of the fields whose value differs between two labels, in schema order."""
        return [name for name in self.names if proposed.get(name) != final.get(name)]

    @classmethod
    def from_dict(cls, data: Any, source: str = "") -> LabelSchema:
        """Build a schema from its JSON form, raising SchemaError naming the first problem."""
        where = f" in {source}" if source else ""
        if not isinstance(data, dict) or not isinstance(data.get("fields"), list) or not data["fields"]:
            raise SchemaError(f"label schema{where} needs a non-empty \"fields\" list")
        fields: list[SchemaField] = []
        seen: set[str] = set()
        for i, raw in enumerate(data["fields"], start=1):
            if not isinstance(raw, dict):
                raise SchemaError(f"label schema{where}: field {i} is not an object")
            name, kind = raw.get("name"), raw.get("type")
            if not isinstance(name, str) or not name.isidentifier():
                raise SchemaError(f"label schema{where}: field {i} needs a \"name\" that is an identifier")
            if name in seen or name in RESERVED_NAMES:
                why = "is repeated" if name in seen else "is reserved for hcap's own fields"
                raise SchemaError(f"label schema{where}: field name {name!r} {why}; rename it")
            if kind not in ("bool", "enum", "text"):
                raise SchemaError(f"label schema{where}: field {name!r} has type {kind!r}; use bool, enum or text")
            values: tuple[str, ...] = ()
            if kind == "enum":
                raw_values = raw.get("values")
                if (
                    not isinstance(raw_values, list)
                    or len(raw_values) < 2
                    or not all(isinstance(v, str) and v for v in raw_values)
                    or len(set(raw_values)) != len(raw_values)
                ):
                    raise SchemaError(
                        f"label schema{where}: enum field {name!r} needs \"values\": two or more distinct strings"
                    )
                values = tuple(raw_values)
            scope = raw.get("scope", "item")
            if scope not in SCOPES or (scope == "race" and kind == "text"):
                raise SchemaError(
                    f"label schema{where}: field {name!r} has scope {scope!r}; "
                    'use "item" (the default) or "race" (bool and enum fields only)'
                )
            seen.add(name)
            fields.append(
                SchemaField(
                    name=name,
                    kind=kind,
                    description=str(raw.get("description", "")),
                    title=str(raw.get("title") or name.replace("_", " ").capitalize()),
                    values=values,
                    scope=scope,
                )
            )
        return cls(
            name=str(data.get("name", "labels")),
            fields=tuple(fields),
            description=str(data.get("description", "")),
            source=source,
            exclusive=_exclusive_pairs(data.get("exclusive", []), fields, where),
        )

    @classmethod
    def load(cls, path: Path) -> LabelSchema:
        """Read a schema file, raising SchemaError with the path when it cannot be used."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SchemaError(f"cannot read label schema {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise SchemaError(f"label schema {path} is not UTF-8 text: re-save it as UTF-8 JSON") from None
        except json.JSONDecodeError as exc:
            raise SchemaError(f"label schema {path} is not valid JSON (line {exc.lineno}): fix or remove it") from None
        return cls.from_dict(data, source=str(path))

    @classmethod
    def default(cls) -> LabelSchema:
        """The schema shipped with hcap: the user's five signals and reasoning."""
        text = resources.files("hcap_tui.schemas").joinpath(DEFAULT_SCHEMA_RESOURCE).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text), source=f"hcap_tui/schemas/{DEFAULT_SCHEMA_RESOURCE}")

    @classmethod
    def for_project(cls, override: Path) -> LabelSchema:
        """The project's own schema when anything is at `override` (a link that leads nowhere, or to itself, is
        an error rather than a silent fall-back), otherwise the default."""
        return cls.load(override) if os.path.lexists(override) else cls.default()


def _exclusive_pairs(raw: Any, fields: list[SchemaField], where: str) -> tuple[tuple[str, str], ...]:
    """The schema's `exclusive` list as pairs of distinct boolean field names, or SchemaError naming the bad pair."""
    booleans = {f.name for f in fields if f.kind == "bool"}
    if not isinstance(raw, list):
        raise SchemaError(f'label schema{where}: "exclusive" must be a list of pairs of boolean field names')
    pairs = []
    for pair in raw:
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or pair[0] == pair[1]
            or not all(isinstance(name, str) and name in booleans for name in pair)
        ):
            raise SchemaError(
                f'label schema{where}: "exclusive" entry {pair!r} must be two different boolean field names'
            )
        pairs.append((pair[0], pair[1]))
    return tuple(pairs)


def _describe_validation_error(exc: ValidationError) -> str:
    """Turn pydantic's multi-line report into one line naming each bad field."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "label"
        if err["type"] == "missing":
            parts.append(f"{where}: missing")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{where}: not a field of the label schema")
        elif err["type"] == "literal_error":
            expected = err.get("ctx", {}).get("expected", "")
            parts.append(f"{where}: {err['input']!r} is not one of {expected}")
        else:
            parts.append(f"{where}: expected {_expected(err['type'])}, got {err['input']!r}")
    return "; ".join(parts)


def _expected(error_type: str) -> str:
    """A short noun for the type pydantic wanted."""
    if error_type.startswith("bool"):
        return "true or false"
    if error_type.startswith("string"):
        return "a string"
    return error_type.replace("_", " ")


def value_name(value: Any) -> str:
    """A label value as the user reads it: booleans in their JSON spelling, enum values as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
