"""The teacher's instructions: what each label field means, the project's guidelines, and the answer format.

The field list is generated from the label schema, so a project with its own signals gets instructions
about its own signals without code changes. The guidelines are prose shipped with hcap
(`guidelines.md`, written for the default schema) that a project replaces with a `guidelines.md`
in its data folder.
"""

from __future__ import annotations

import os
from importlib import resources

from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError
from hcap_tui.schema import LabelSchema, SchemaField

DEFAULT_GUIDELINES_RESOURCE = "guidelines.md"


def default_guidelines() -> str:
    """The guidelines shipped with hcap for the default schema."""
    return resources.files("hcap_tui").joinpath(DEFAULT_GUIDELINES_RESOURCE).read_text(encoding="utf-8")


def load_guidelines(paths: DataPaths) -> str:
    """The project's own `guidelines.md` when its data folder has one, otherwise hcap's default."""
    override = paths.guidelines_override
    if not os.path.lexists(override):  # a broken or looping link is reported below, not ignored
        return default_guidelines()
    try:
        return override.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"cannot read {override}: {exc.strerror or exc}; fix its permissions or remove it") from None
    except UnicodeDecodeError:
        raise DataError(f"{override} is not UTF-8: re-save it as UTF-8") from None


def describe_field(field: SchemaField) -> str:
    """One bullet of the field list: name, the values it takes, and its description."""
    if field.kind == "bool":
        accepted = "true or false"
    elif field.kind == "enum":
        accepted = "one of " + ", ".join(f'"{value}"' for value in field.values)
    else:
        accepted = "a string"
    line = f"- {field.name} ({accepted})"
    return f"{line}: {field.description}" if field.description else line


def teacher_instructions(schema: LabelSchema, guidelines: str) -> str:
    """The system instruction sent to the teacher: task, fields in schema order, guidelines, answer format."""
    task = schema.description or "Label each input with the fields below."
    fields = "\n".join(describe_field(f) for f in schema.fields)
    order = ", ".join(schema.names)
    return (
        f"You are an expert labeller. {task}\n\n"
        "Each message you receive is one item to label. Label it with these fields:\n"
        f"{fields}\n\n"
        "Guidelines:\n\n"
        f"{guidelines.strip()}\n\n"
        "Answer with one JSON object and nothing else: no prose and no code fences. "
        f"It has exactly these keys, in this order: {order}."
    )


def project_instructions(schema: LabelSchema, paths: DataPaths) -> str:
    """The teacher's instructions for a project: its schema plus its guidelines (or the default ones)."""
    return teacher_instructions(schema, load_guidelines(paths))
