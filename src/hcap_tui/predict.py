"""One prediction run: draw unseen comments, label them with the local model, keep every result on disk.

Each result is appended to predictions.jsonl (fsynced) the moment the model returns it, so Ctrl-C or a
crash keeps every finished prediction, and earlier unreviewed lines are never touched. Items already
in gold or already waiting in predictions.jsonl are never drawn again. A failed prediction is kept as a
line marked `status: "failed"` with the raw text and reason, and no invented signal values, so the
reviewer sees it.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hcap_tui.comments import Comment, CommentsFile
from hcap_tui.models import Labeller, LabelResult, label_many
from hcap_tui.schema import LabelSchema, value_name
from hcap_tui.store import FAILED, Store, flat_record, now_iso


def new_batch_id() -> str:
    """An id shared by every line of one run: its UTC start time plus a random suffix."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def draw_sample(store: Store, comments: CommentsFile, count: int, seed: int | None) -> list[Comment]:
    """`count` random eligible comments that are neither in gold nor already pending in predictions.jsonl."""
    exclude = store.keys(store.paths.gold) | store.keys(store.paths.predictions)
    return comments.random_sample(count, seed, exclude)


def prediction_record(
    schema: LabelSchema,
    prediction: LabelResult,
    batch_id: str,
    metadata: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The flat predictions.jsonl line for one result: label fields, or the failure, then provenance.

    `extra` holds what a sampling strategy adds after the provenance (None values are left out).
    """
    failure: dict[str, Any] = {}
    if not prediction.ok:
        failure = {"status": FAILED, "error": prediction.error, "raw": prediction.raw}
    return flat_record(
        schema,
        prediction.formatted_input,
        prediction.label,
        **failure,
        model=prediction.spec.recorded,
        model_digest=prediction.digest,
        created_at=now_iso(),
        batch_id=batch_id,
        latency_ms=prediction.latency_ms,
        prompt_tokens=prediction.prompt_tokens,
        completion_tokens=prediction.completion_tokens,
        confidence=prediction.confidence,
        metadata=metadata or None,
        **extra,
    )


@dataclass
class PredictSummary:
    """What a run has done so far: how many labelled, how many failed, and the labels' value counts.

    `done` and `failed` count lines written to predictions.jsonl; `fallback` says why a run asked for
    another strategy ended up drawing at random.
    """

    batch_id: str
    model: str
    digest: str | None
    requested: int
    done: int = 0
    failed: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # signal name → value text → count
    strategy: str = "random"
    fallback: str | None = None

    @property
    def finished(self) -> int:
        """Results on disk, labelled or failed."""
        return self.done + self.failed

    @property
    def attempted(self) -> int:
        """Items the run set out to predict, the denominator of its failure count."""
        return self.requested

    def headline(self) -> str:
        """One line saying what the run wrote."""
        fell_back = " (drawn at random: no log-probabilities)" if self.fallback else ""
        return f"batch {self.batch_id}: {self.done} labelled, {self.failed} failed{fell_back}"

    def stopped_note(self) -> str:
        """What is saved when the run stops early."""
        return f"{self.finished} of {self.requested} predictions finished and are saved in predictions.jsonl"

    def add(self, schema: LabelSchema, prediction: LabelResult) -> None:
        """Count one result."""
        if prediction.label is None:
            self.failed += 1
            return
        self.done += 1
        for signal in schema.signals:
            self.counts.setdefault(signal.name, Counter())[value_name(prediction.label[signal.name])] += 1

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return {
            "batch_id": self.batch_id,
            "model": self.model,
            "model_digest": self.digest,
            "requested": self.requested,
            "done": self.done,
            "failed": self.failed,
            "counts": {name: dict(counter) for name, counter in self.counts.items()},
            "strategy": self.strategy,
            "fallback": self.fallback,
        }


class PredictionRun:
    """Labels a list of comments with a model, appending each result to predictions.jsonl as it arrives."""

    def __init__(self, store: Store, model: Labeller, comments: list[Comment], batch_id: str | None = None) -> None:
        self.store = store
        self.model = model
        self.comments = comments
        self.summary = PredictSummary(batch_id or new_batch_id(), model.spec.recorded, model.digest, len(comments))

    @property
    def intent(self) -> str:
        """What the run is about to do, said before it starts."""
        return f"predicting {len(self.comments)} comments"

    @property
    def total(self) -> int:
        """Predictions the run will make, for a progress bar."""
        return len(self.comments)

    def run(self, concurrency: int = 1) -> Iterator[LabelResult]:
        """Predict with up to `concurrency` requests in flight, yielding each result once it is on disk.

        A ModelError (server gone, timeout) or Ctrl-C stops the run; what finished before stays saved
        and counted in `summary`.
        """
        schema = self.store.schema
        with closing(label_many(self.model, self.comments, concurrency)) as results:
            for done in results:
                prediction = done.result
                record = prediction_record(schema, prediction, self.summary.batch_id, done.item.metadata)
                self.store.append(self.store.paths.predictions, [record])
                self.summary.add(schema, prediction)
                yield prediction
