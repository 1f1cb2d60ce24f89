"""The exported rows as training sees them: read `hcap export` files, build prompts, score generated answers.

`hcap train` (and through it the Colab notebook) reads training_data.jsonl and eval_data.jsonl with
`load_rows`, builds the prompt a server builds with `generation_prompt`, scores greedy answers against the
held-out gold with `evaluate` and `agreement_lines`, and finds an exporter's quantised GGUF with `find_gguf`.
Everything here needs only pydantic and Jinja, no training library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcap_tui.errors import DataError, LabelError
from hcap_tui.metrics import Scorecard, score
from hcap_tui.schema import LabelSchema
from hcap_tui.template import render_training_text


@dataclass(frozen=True)
class TrainingRow:
    """One exported item: the formatted_input the model reads and the label JSON it should answer."""

    prompt: str
    completion: str


def load_rows(path: str | Path, schema: LabelSchema | None = None) -> list[TrainingRow]:
    """Read an `hcap export` file in either format; with a schema, check every completion against it.

    Raises DataError naming the file and line of the first row that is not a usable training row, so a
    wrong upload or a schema mismatch stops the notebook before any GPU time is spent.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}; upload the file hcap export wrote") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = _row(json.loads(line))
            if schema is not None:
                schema.parse(row.completion)
        except (json.JSONDecodeError, LabelError, ValueError) as exc:
            raise DataError(f"{path.name} line {number}: {exc}; export again with hcap export") from None
        rows.append(row)
    if not rows:
        raise DataError(f"{path} holds no rows: run hcap export on a data folder with gold items")
    return rows


def _row(data: Any) -> TrainingRow:
    """A TrainingRow from a prompt-completion or chat export line, or ValueError saying what is wrong."""
    if not isinstance(data, dict) or "prompt" not in data or "completion" not in data:
        raise ValueError("expected an object with prompt and completion")
    prompt, completion = data["prompt"], data["completion"]
    if isinstance(prompt, list) and isinstance(completion, list):
        prompt, completion = _only_content(prompt, "user"), _only_content(completion, "assistant")
    if not isinstance(prompt, str) or not isinstance(completion, str):
        raise ValueError("prompt and completion must both be strings or both be message lists")
    return TrainingRow(prompt, completion)


def _only_content(messages: list[Any], role: str) -> str:
    """The content of a one-message list with the given role (the shape `--format chat` writes)."""
    if len(messages) != 1 or not isinstance(messages[0], dict) or messages[0].get("role") != role:
        raise ValueError(f"expected exactly one {role} message")
    content = messages[0].get("content")
    if not isinstance(content, str):
        raise ValueError(f"the {role} message has no text content")
    return content


def generation_prompt(prompt: str) -> str:
    """The exact prompt Ollama builds for `prompt` (plus BOS): what the model continues at evaluation."""
    return render_training_text(prompt, None)


def parse_output(schema: LabelSchema, text: str) -> dict[str, Any] | None:
    """The label in a generated answer, or None when it is not valid label JSON (counted as a failure)."""
    try:
        return schema.parse(text.strip())
    except LabelError:
        return None


def evaluate(schema: LabelSchema, rows: Sequence[TrainingRow], outputs: Sequence[str]) -> Scorecard:
    """Score generated answers against the held-out gold, field by field, with hcap's metrics."""
    if len(rows) != len(outputs):
        raise ValueError(f"{len(outputs)} outputs for {len(rows)} eval rows")
    return score(schema, [(schema.parse(r.completion), parse_output(schema, o)) for r, o in zip(rows, outputs)])


def agreement_lines(schema: LabelSchema, card: Scorecard) -> list[str]:
    """A short printable report: agreement (and F1) per signal, exact match and failures."""
    lines = [f"{card.n} eval items, {card.failed} answers that were not valid label JSON"]
    for f in schema.signals:
        if f.name in card.booleans:
            b = card.booleans[f.name]
            lines.append(f"{f.name:<20} agreement {b.accuracy:6.1%}   F1 {b.f1:.3f} (positives {b.support})")
        else:
            lines.append(f"{f.name:<20} agreement {card.enums[f.name].accuracy:6.1%}")
    lines.append(f"{'all signals':<20} exact match {card.exact_match:6.1%}")
    return lines


def find_gguf(directories: Iterable[str | Path], quantization: str) -> Path:
    """The GGUF file for `quantization` (e.g. q4_k_m) under any of `directories`, searched recursively.

    GGUF exporters name their output differently from version to version (`unsloth.Q4_K_M.gguf`,
    `model-Q4_K_M.gguf`, a `*_gguf` sibling folder), so match on the quantisation name only.
    """
    wanted = quantization.lower()
    found = sorted(
        {p for d in directories if Path(d).is_dir() for p in Path(d).rglob("*.gguf") if wanted in p.name.lower()}
    )
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        listed = f": {', '.join(str(p) for p in found)}" if found else ""
        raise DataError(f"{what} {quantization} GGUF file found{listed}; check the export step's output")
    return found[0]
