"""The teacher step: label comments nobody has labelled yet and append each label to labeled.jsonl as it arrives.

Comments already in labeled.jsonl or in the gold standard are never drawn again, so a run that was
interrupted resumes by simply running again. Each valid label is appended (fsynced) the moment it
arrives; failures are counted and reported, never written. Token usage is summed over every attempt
and turned into an estimated cost from a small table of list prices.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcap_tui.comments import Comment, CommentsFile
from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.models import Labeller, LabelResult, ModelSpec, label_many
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record, now_iso

# Gemini list prices in USD per million tokens (input, output), standard tier, prompts under 200k tokens.
# An estimate only: prices change, and the bill is what Google says. Output includes thinking tokens.
PRICES_USD_PER_MILLION: dict[str, tuple[float, float]] = {
    "gemini-2.5-pro": (1.25, 10.00),
    "gemini-2.5-flash": (0.30, 2.50),
    "gemini-2.5-flash-lite": (0.10, 0.40),
    "gemini-2.0-flash": (0.10, 0.40),
    "gemini-2.0-flash-lite": (0.075, 0.30),
}


@dataclass
class LabelRun:
    """What a labelling run did: the summary `hcap label` prints."""

    teacher: str
    sampled: int = 0
    labeled: int = 0
    failed: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None when the model has no known price
    failures: list[LabelResult] = field(default_factory=list)
    stopped: str | None = None  # why the run ended early (quota, network), None when it ran to the end

    def add(self, result: LabelResult) -> None:
        """Count one result and what it cost."""
        if result.ok:
            self.labeled += 1
        else:
            self.failed += 1
            self.failures.append(result)
        self.prompt_tokens += result.prompt_tokens or 0
        self.completion_tokens += result.completion_tokens or 0

    def to_json(self) -> dict[str, Any]:
        """The summary for `--json`."""
        return {
            "teacher": self.teacher,
            "sampled": self.sampled,
            "labeled": self.labeled,
            "failed": self.failed,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "estimated_cost_usd": self.cost_usd,
            "stopped": self.stopped,
            "failures": [{"formatted_input": r.formatted_input, "error": r.error} for r in self.failures],
        }


def price_of(model: str) -> tuple[float, float] | None:
    """List price (input, output per 1M tokens) of a Gemini model; the longest known prefix wins, so
    dated variants such as `gemini-2.5-flash-preview-09-2025` cost what their family costs."""
    matches = [name for name in PRICES_USD_PER_MILLION if model.startswith(name)]
    return PRICES_USD_PER_MILLION[max(matches, key=len)] if matches else None


def estimate_cost(provider: str, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Estimated USD cost of the tokens: 0 for a local Ollama teacher, None for a model without a known price
    (an unknown Gemini model, any model on an OpenAI-compatible server)."""
    if provider == "ollama":
        return 0.0
    if provider != "gemini":
        return None
    price = price_of(model)
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def select_comments(project: Project, count: int, seed: int, csv_path: Path | None = None) -> list[Comment]:
    """`count` random eligible comments that are neither in labeled.jsonl nor in the gold standard."""
    store = Store(project.paths, project.schema)
    exclude = store.keys(project.paths.labeled) | store.keys(project.paths.gold)
    return CommentsFile(csv_path or project.paths.comments).random_sample(count, seed, exclude)


def teacher_record(
    schema: LabelSchema, spec: ModelSpec, result: LabelResult, metadata: dict[str, str]
) -> dict[str, Any]:
    """A labeled.jsonl line: the user's flat shape plus teacher provenance (`teacher` is the provider, `model`
    the provider's name for it) and the CSV row's other columns."""
    if result.label is None:
        raise ValueError("a failed teacher result has no label to write")
    return flat_record(
        schema,
        result.formatted_input,
        result.label,
        teacher=spec.provider,
        model=spec.name,
        created_at=now_iso(),
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        metadata=metadata or None,
    )


def run_labeling(
    project: Project,
    teacher: Labeller,
    comments: Iterable[Comment],
    *,
    concurrency: int = 1,
    on_result: Callable[[LabelResult], None] | None = None,
) -> LabelRun:
    """Label `comments` with `teacher`, appending each valid label to labeled.jsonl as it arrives.

    A model error that ends the run early (quota, network) is recorded in `stopped`; everything
    labelled before it is already on disk.
    """
    store = Store(project.paths, project.schema)
    comments = list(comments)
    run = LabelRun(teacher=str(teacher.spec), sampled=len(comments))
    try:
        with closing(label_many(teacher, comments, concurrency)) as results:
            for done in results:
                result = done.result
                run.add(result)
                if result.ok:
                    record = teacher_record(project.schema, teacher.spec, result, done.item.metadata)
                    try:
                        store.append(project.paths.labeled, [record])
                    except HcapError:
                        run.labeled -= 1  # counted above with its tokens, but not saved
                        raise
                if on_result is not None:
                    on_result(result)
    except HcapError as exc:
        run.stopped = str(exc)
    run.cost_usd = estimate_cost(teacher.spec.provider, teacher.model, run.prompt_tokens, run.completion_tokens)
    return run
