"""Teachers that label comments for labeled.jsonl: Gemini (paid, structured output) or any Ollama model (local).

A teacher is named `gemini:<model>` or `ollama:<model>`; `open_teacher` builds it with the project's
instructions. google-genai is imported only when a Gemini teacher is built, so the optional package
only matters to the user who asks for Gemini.
"""

from __future__ import annotations

from dataclasses import dataclass

from hcap_tui.errors import HcapError
from hcap_tui.schema import LabelSchema
from hcap_tui.teachers.base import Teacher, TeacherResult, label_batch
from hcap_tui.teachers.gemini import DEFAULT_MODEL as DEFAULT_GEMINI_MODEL
from hcap_tui.teachers.gemini import GeminiTeacher

__all__ = ["Teacher", "TeacherResult", "TeacherSpec", "label_batch", "open_teacher", "parse_teacher"]

ACCEPTED_FORMS = f"gemini:<model> (e.g. gemini:{DEFAULT_GEMINI_MODEL}) or ollama:<model> (e.g. ollama:qwen2.5:7b)"


@dataclass(frozen=True)
class TeacherSpec:
    """Which teacher to use: its kind and model name."""

    kind: str
    model: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.model}"


def parse_teacher(value: str, source: str = "--teacher") -> TeacherSpec:
    """Read `gemini:<model>`, `ollama:<model>` or a bare `gemini`; an HcapError lists the accepted forms.

    Only the first colon separates kind from model, since Ollama model names carry tags (`qwen2.5:7b`).
    """
    kind, _, model = value.strip().partition(":")
    kind, model = kind.strip().lower(), model.strip()
    if kind == "gemini" and not model:
        model = DEFAULT_GEMINI_MODEL
    if kind not in ("gemini", "ollama") or not model:
        raise HcapError(f"{source} {value!r} is not a teacher: use {ACCEPTED_FORMS}")
    return TeacherSpec(kind, model)


def open_teacher(
    spec: TeacherSpec, schema: LabelSchema, instructions: str, *, host: str | None = None, timeout: float = 120.0
) -> Teacher:
    """The teacher `spec` names, ready to label; HcapError when it cannot be built (no SDK, no key)."""
    if spec.kind == "gemini":
        return GeminiTeacher(spec.model, schema, instructions, timeout=timeout)
    from hcap_tui.teachers.ollama import OllamaTeacher

    return OllamaTeacher(spec.model, schema, instructions, host=host, timeout=timeout)
