"""Sampling strategies for `hcap predict`: which predictions are worth a reviewer's minute.

- random (`predict.PredictionRun`): a uniform draw of unseen comments; every result is written.
- uncertain (`uncertain.UncertainRun`): predict a larger random pool with token log-probabilities and
  write only the `count` items the model was least sure of; the pool survives a crash in a sidecar file.
- disagree: predict teacher-labelled items that are neither in gold nor pending, in a seeded random order,
  and write those where the model and the teacher differ on any signal, naming the fields.

Predictions a strategy does not keep are counted in its summary and not written: the items stay unseen and
can be drawn again. Every run appends to predictions.jsonl through the store, like the random run.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from hcap_tui.choices import DEFAULT_POOL_FACTOR, Strategy
from hcap_tui.comments import CommentsFile
from hcap_tui.models import Labeller, LabelResult, label_many
from hcap_tui.predict import PredictionRun, PredictSummary, draw_sample, new_batch_id, prediction_record
from hcap_tui.schema import LabelSchema
from hcap_tui.store import DISAGREEING_FIELDS, TEACHER_VALUES, LabeledItem, Store
from hcap_tui.uncertain import UncertainRun, falling_back, resume_pool


def disagreements(schema: LabelSchema, teacher: dict[str, Any], model: dict[str, Any]) -> list[str]:
    """The signals on which two labels differ, in schema order (free-text reasoning always differs; ignored)."""
    return [f.name for f in schema.signals if teacher.get(f.name) != model.get(f.name)]


@dataclass
class Candidates:
    """Teacher-labelled items a disagreement run may check, and the teacher lines that could not be read."""

    items: list[LabeledItem]
    unreadable: int


def teacher_candidates(store: Store, seed: int | None) -> Candidates:
    """Teacher-labelled items neither in gold nor pending in predictions.jsonl, in a seeded random order.

    A formatted_input labelled more than once counts once, with its last label.
    """
    exclude = store.keys(store.paths.gold) | store.keys(store.paths.predictions)
    loaded = store.labeled(keep=("metadata",))  # a disagreement's line carries the teacher line's metadata
    latest: dict[str, LabeledItem] = {}
    for item in loaded.items:
        if item.label is not None and item.formatted_input not in exclude:
            latest[item.formatted_input] = item
    items = list(latest.values())
    random.Random(seed).shuffle(items)
    return Candidates(items, len(loaded.problems))


@dataclass
class DisagreeSummary(PredictSummary):
    """A disagreement run: how many teacher labels were checked, how many agreed, which fields differed."""

    strategy: str = Strategy.DISAGREE.value
    candidates: int = 0
    checked: int = 0
    agreed: int = 0
    fields: Counter[str] = field(default_factory=Counter)  # signal name → disagreements written

    @property
    def attempted(self) -> int:
        """Teacher-labelled items predicted."""
        return self.checked

    def headline(self) -> str:
        """How many were checked, kept and left out."""
        return (f"batch {self.batch_id}: checked {self.checked} of {self.candidates} teacher-labelled items: "
                f"{self.done} disagree (kept), {self.agreed} agree (not written), {self.failed} failed")

    def stopped_note(self) -> str:
        """What is saved when the run stops early."""
        return (f"checked {self.checked} teacher-labelled items before stopping: the {self.finished} "
                "disagreements and failures among them are saved in predictions.jsonl")

    def as_dict(self) -> dict[str, Any]:
        """The summary with the checking figures."""
        return super().as_dict() | {
            "candidates": self.candidates, "checked": self.checked, "agreed": self.agreed,
            "disagreements": dict(self.fields),
        }


class DisagreeRun:
    """Predicts teacher-labelled items in order until `count` disagree (or fail), appending only those.

    Each disagreement is written the moment it arrives, with the fields that differ and the teacher's
    values for them; agreeing predictions are only counted. Once `count` are written the requests still
    in flight are cancelled.
    """

    def __init__(
        self, store: Store, model: Labeller, candidates: list[LabeledItem], count: int, batch_id: str | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.count = count
        self.teacher = {item.formatted_input: item for item in candidates}
        self.summary = DisagreeSummary(
            batch_id or new_batch_id(), model.spec.recorded, model.digest, count, candidates=len(candidates)
        )

    @property
    def intent(self) -> str:
        """What the run is about to do, said before it starts."""
        return f"checking up to {len(self.teacher)} teacher-labelled items for {self.count} disagreements"

    @property
    def total(self) -> int:
        """The most predictions the run can make, for a progress bar."""
        return len(self.teacher)

    def run(self, concurrency: int = 1) -> Iterator[LabelResult]:
        """Predict with up to `concurrency` requests in flight, yielding each result once it is handled."""
        schema = self.store.schema
        with closing(label_many(self.model, list(self.teacher.values()), concurrency)) as results:
            for done in results:
                prediction, item = done.result, done.item
                self.summary.checked += 1
                differing = disagreements(schema, item.label, prediction.label) if prediction.label else []
                if prediction.ok and not differing:
                    self.summary.agreed += 1
                    yield prediction
                    continue
                metadata = item.record.get("metadata")
                extra = {}
                if differing:
                    extra = {DISAGREEING_FIELDS: differing, TEACHER_VALUES: {n: item.label[n] for n in differing}}
                record = prediction_record(
                    schema, prediction, self.summary.batch_id, metadata if isinstance(metadata, dict) else None, **extra
                )
                self.store.append(self.store.paths.predictions, [record])
                self.summary.add(schema, prediction)
                self.summary.fields.update(differing)
                yield prediction
                if self.summary.finished >= self.count:
                    return


PredictRun = PredictionRun | UncertainRun | DisagreeRun
NOTHING_TO_PREDICT = "nothing to predict: every eligible comment is already in gold or pending in predictions.jsonl"


def plan_run(
    strategy: Strategy,
    store: Store,
    model: Labeller,
    comments: CommentsFile,
    count: int,
    seed: int | None,
    pool_factor: int = DEFAULT_POOL_FACTOR,
    note: Callable[[str], None] = lambda _line: None,
) -> PredictRun | None:
    """The run a strategy asks for, or None when there is nothing to predict; `note` hears why, and any fallback.

    For uncertainty sampling the server is asked first whether it can return log-probabilities: one known
    not to (an Ollama too old) makes it a random run (and `model` stops asking for them), said through
    `note` and in the summary.
    """
    if strategy is Strategy.DISAGREE:
        candidates = teacher_candidates(store, seed)
        if candidates.unreadable:
            note(f"{store.paths.labeled.name}: {candidates.unreadable} unreadable line(s) skipped; "
                 "`hcap check` lists them")
        if not candidates.items:
            note("nothing to check: every teacher-labelled item is already in gold or pending in predictions.jsonl")
            return None
        return DisagreeRun(store, model, candidates.items, count)
    fallback = None
    if strategy is Strategy.UNCERTAIN:
        unable = model.logprobs_unavailable()
        if unable is not None:
            fallback = f"{unable} returns no log-probabilities {falling_back(model)}"
            note(fallback)
            model.logprobs = False
    if strategy is Strategy.UNCERTAIN and fallback is None:
        return _pool_run(store, model, comments, count, seed, pool_factor, note)
    drawn = draw_sample(store, comments, count, seed)
    if not drawn:
        note(NOTHING_TO_PREDICT)
        return None
    run = PredictionRun(store, model, drawn)
    run.summary.strategy, run.summary.fallback = strategy.value, fallback
    return run


def _pool_run(
    store: Store,
    model: Labeller,
    comments: CommentsFile,
    count: int,
    seed: int | None,
    pool_factor: int,
    note: Callable[[str], None],
) -> UncertainRun | None:
    """An uncertain run over a pool of `count × pool_factor`, finishing an interrupted pool of this model first."""
    resumed = resume_pool(store, model.spec.recorded, model.digest, note)
    reused = [p.formatted_input for p in resumed.predictions] if resumed else []
    fresh = count * pool_factor - len(reused)
    drawn = []
    if fresh > 0:
        exclude = store.keys(store.paths.gold) | store.keys(store.paths.predictions) | set(reused)
        drawn = comments.random_sample(fresh, seed, exclude)
    if not drawn and not reused:
        note(NOTHING_TO_PREDICT)
        return None
    return UncertainRun(store, model, drawn, count, resumed)
