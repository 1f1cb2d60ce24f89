"""The model layer: one labeller interface for every model role, whichever server answers.

- `base`: `Labeller` (what a provider implements), `LabelResult`, `ModelSpec` and the `ModelError` family;
- `batch`: the one validate-and-retry wrapper (`label`, `alabel`) and the one concurrency-bounded driver
  (`label_many`, `alabel_many`);
- `registry`: `PROVIDER:MODEL` specs and the student and teacher roles of a project;
- providers, imported only when used: `ollama` (the only module importing `ollama`), `openai` (any
  OpenAI-compatible server over httpx), `gemini` (the only module importing `google.genai`);
- `confidence`: per-signal confidence from token log-probabilities; `hosts`: server URLs checked.
"""

from hcap_tui.models.base import (
    Labeller,
    LabelResult,
    ModelError,
    ModelMissing,
    ModelSpec,
    RequestTimeout,
    ServerBusy,
    ServerUnreachable,
)
from hcap_tui.models.batch import Labelled, alabel, alabel_many, label, label_many
from hcap_tui.models.registry import open_labeller, parse_model, parse_teacher, student, teacher, teacher_spec

__all__ = [
    "LabelResult",
    "Labelled",
    "Labeller",
    "ModelError",
    "ModelMissing",
    "ModelSpec",
    "RequestTimeout",
    "ServerBusy",
    "ServerUnreachable",
    "alabel",
    "alabel_many",
    "label",
    "label_many",
    "open_labeller",
    "parse_model",
    "parse_teacher",
    "student",
    "teacher",
    "teacher_spec",
]
