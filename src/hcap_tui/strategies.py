"""Sampling strategies for `hcap predict`: which predictions are worth a reviewer's minute.

- random (`predict.PredictionRun`): a uniform draw of unseen comments; every result is written.
- uncertain: predict a larger random pool with token log-probabilities and write only the `count` items
  the model was least sure of. An item's confidence is the lowest, over its signals, of the probability
  the model gave the value it chose: one doubtful signal makes the item worth reviewing, because the
  reviewer corrects whole items. Signals the server gave no probability for are left out of the minimum.
  A failed prediction is the least confident of all and is always written.
- disagree: predict teacher-labelled items that are neither in gold nor pending, in a seeded random order,
  and write those where the model and the teacher differ on any signal, naming the fields.

Predictions a strategy does not keep are counted in its summary and not written: the items stay unseen and
can be drawn again. Every run appends to predictions.jsonl through the store, like the random run.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hcap_tui.comments import Comment, CommentsFile
from hcap_tui.ollama_client import LOGPROBS_MIN_VERSION, LocalModel, Prediction
from hcap_tui.predict import PredictionRun, PredictSummary, draw_sample, new_batch_id, prediction_record
from hcap_tui.schema import LabelSchema
from hcap_tui.store import LabeledItem, Store

DEFAULT_POOL_FACTOR = 5
FALLING_BACK = f"(Ollama ≥ {LOGPROBS_MIN_VERSION} needed): falling back to random"
NO_LOGPROBS = f"the server returned no log-probabilities {FALLING_BACK}"
DISAGREEING_FIELDS = "disagrees_with_teacher"  # the signals where model and teacher differ, schema order
TEACHER_VALUES = "teacher_values"  # the teacher's value of each of those signals


class Strategy(StrEnum):
    """How `hcap predict` chooses the items it writes."""

    RANDOM = "random"
    UNCERTAIN = "uncertain"
    DISAGREE = "disagree"


def too_old_for_logprobs(version: str | None) -> bool:
    """Whether a server version is known to predate log-probabilities.

    An unknown version, or a development build's 0.0.0, is given the benefit of the doubt: the replies
    themselves then show whether log-probabilities come back.
    """
    found = _version_tuple(version or "")
    return len(found) == 3 and found != (0, 0, 0) and found < _version_tuple(LOGPROBS_MIN_VERSION)


def too_old_note(version: str) -> str:
    """The line that says uncertainty sampling cannot run on this server, and what happens instead."""
    return f"Ollama {version} returns no log-probabilities {FALLING_BACK}"


def item_confidence(prediction: Prediction) -> float:
    """How sure the model was of an item: its least confident signal; 0 for a failed prediction."""
    if not prediction.ok or not prediction.confidence:
        return 0.0
    return min(prediction.confidence.values())


def disagreements(schema: LabelSchema, teacher: dict[str, Any], model: dict[str, Any]) -> list[str]:
    """The signals on which two labels differ, in schema order (free-text reasoning always differs; ignored)."""
    return [f.name for f in schema.signals if teacher.get(f.name) != model.get(f.name)]


@dataclass
class UncertainSummary(PredictSummary):
    """An uncertainty run: the pool it predicted, and the confidence range of the labelled items it kept."""

    strategy: str = Strategy.UNCERTAIN.value
    pool: int = 0
    predicted: int = 0
    kept_confidence: tuple[float, float] | None = None  # lowest and highest item confidence written

    @property
    def attempted(self) -> int:
        """Pool predictions made."""
        return self.predicted

    def headline(self) -> str:
        """What was predicted, what was kept and how sure the model was of it."""
        if self.fallback:
            return super().headline()
        span = ""
        if self.kept_confidence:
            low, high = self.kept_confidence
            span = f" (item confidence {low:.2f} to {high:.2f})"
        dropped = self.predicted - self.finished
        return (f"batch {self.batch_id}: kept the {self.done} least confident of {self.predicted} predicted{span}, "
                f"{self.failed} failed; the other {dropped} are not written")

    def stopped_note(self) -> str:
        """What is saved when the pool stops early."""
        if self.fallback:
            return super().stopped_note()
        return (f"stopped after {self.predicted} of {self.pool} pool predictions; saved the {self.finished} "
                "least confident of them in predictions.jsonl")

    def as_dict(self) -> dict[str, Any]:
        """The summary with the pool's figures."""
        low, high = self.kept_confidence or (None, None)
        return super().as_dict() | {
            "pool": self.pool, "predicted": self.predicted, "confidence_min": low, "confidence_max": high,
        }


class UncertainRun:
    """Predicts a random pool with log-probabilities, then appends the `count` least confident items.

    The pool is held in memory until it is done (or stops: Ctrl-C, a server error), then the least
    confident of what finished is written, most doubtful first. If a labelled reply comes back without
    log-probabilities the run says so in `summary.fallback` and becomes a random run: the pool is already
    in random order, so it writes results as they arrive until `count` are on disk.
    """

    def __init__(
        self, store: Store, model: LocalModel, pool: list[Comment], count: int, batch_id: str | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.pool = pool
        self.count = count
        self.summary = UncertainSummary(batch_id or new_batch_id(), model.model, model.digest, count, pool=len(pool))
        self._metadata = {c.formatted_input: c.metadata for c in pool}
        self._order = {c.formatted_input: i for i, c in enumerate(pool)}
        self._scored: list[Prediction] = []
        self._issued = 0

    @property
    def intent(self) -> str:
        """What the run is about to do, said before it starts."""
        return f"predicting a pool of {len(self.pool)} comments to keep the {self.count} least confident"

    @property
    def total(self) -> int:
        """Predictions the run will make, for a progress bar: the pool, or after a fallback just enough."""
        if self.summary.fallback is None:
            return len(self.pool)
        return min(len(self.pool), self._issued + max(0, self._still_needed()))

    def run(self, concurrency: int = 1) -> Iterator[Prediction]:
        """Predict the pool with up to `concurrency` requests in flight, yielding each result as it completes."""
        try:
            with closing(self.model.predict_many(self._inputs(), concurrency)) as results:
                for prediction in results:
                    self.summary.predicted += 1
                    if self.summary.fallback is None and prediction.ok and prediction.confidence is None:
                        self.summary.fallback = NO_LOGPROBS
                        self._write(self._scored)
                    self._scored.append(prediction)
                    if self.summary.fallback is not None:
                        self._write([prediction])
                    yield prediction
        finally:
            if self.summary.fallback is None:
                self._write(self._least_confident())

    def _inputs(self) -> Iterator[str]:
        """Pool inputs handed out one at a time, ending early once a fallback run has enough on the way."""
        for comment in self.pool:
            if self.summary.fallback is not None and self._still_needed() <= 0:
                return
            self._issued += 1
            yield comment.formatted_input

    def _still_needed(self) -> int:
        """After a fallback: results still to be written beyond those on disk or in flight."""
        in_flight = self._issued - self.summary.predicted
        return self.count - self.summary.finished - in_flight

    def _least_confident(self) -> list[Prediction]:
        """Every failed prediction, then the least confident labels up to `count` in all, most doubtful first."""
        failed = sorted((p for p in self._scored if not p.ok), key=lambda p: self._order[p.formatted_input])
        labelled = sorted(
            (p for p in self._scored if p.ok), key=lambda p: (item_confidence(p), self._order[p.formatted_input])
        )
        kept = labelled[: max(0, self.count - len(failed))]
        if kept:
            self.summary.kept_confidence = (item_confidence(kept[0]), item_confidence(kept[-1]))
        return failed + kept

    def _write(self, predictions: list[Prediction]) -> None:
        """Append results to predictions.jsonl, up to `count` once the run is drawing at random."""
        if self.summary.fallback is not None:
            predictions = predictions[: max(0, self.count - self.summary.finished)]
        schema = self.store.schema
        records = [
            prediction_record(schema, p, self.summary.batch_id, self._metadata.get(p.formatted_input))
            for p in predictions
        ]
        if records:
            self.store.append(self.store.paths.predictions, records)
        for prediction in predictions:
            self.summary.add(schema, prediction)


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
    loaded = store.labeled()
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
        self, store: Store, model: LocalModel, candidates: list[LabeledItem], count: int, batch_id: str | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.count = count
        self.teacher = {item.formatted_input: item for item in candidates}
        self.summary = DisagreeSummary(
            batch_id or new_batch_id(), model.model, model.digest, count, candidates=len(candidates)
        )

    @property
    def intent(self) -> str:
        """What the run is about to do, said before it starts."""
        return f"checking up to {len(self.teacher)} teacher-labelled items for {self.count} disagreements"

    @property
    def total(self) -> int:
        """The most predictions the run can make, for a progress bar."""
        return len(self.teacher)

    def run(self, concurrency: int = 1) -> Iterator[Prediction]:
        """Predict with up to `concurrency` requests in flight, yielding each result once it is handled."""
        schema = self.store.schema
        with closing(self.model.predict_many(iter(self.teacher), concurrency)) as results:
            for prediction in results:
                self.summary.checked += 1
                item = self.teacher[prediction.formatted_input]
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


def _version_tuple(version: str) -> tuple[int, ...]:
    """`0.12.11` (or `0.12.11-rc1`) as a comparable tuple of its first three numbers."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


PredictRun = PredictionRun | UncertainRun | DisagreeRun


def plan_run(
    strategy: Strategy,
    store: Store,
    model: LocalModel,
    comments: CommentsFile,
    count: int,
    seed: int | None,
    pool_factor: int = DEFAULT_POOL_FACTOR,
    note: Callable[[str], None] = lambda _line: None,
) -> PredictRun | None:
    """The run a strategy asks for, or None when there is nothing to predict; `note` hears why, and any fallback.

    For uncertainty sampling the server's version is checked first: one known to predate log-probabilities
    makes it a random run (and `model` stops asking for them), said through `note` and in the summary.
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
        version = model.server_version()
        if too_old_for_logprobs(version):
            fallback = too_old_note(str(version))
            note(fallback)
            model.logprobs = False
    pooled = strategy is Strategy.UNCERTAIN and fallback is None
    drawn = draw_sample(store, comments, count * pool_factor if pooled else count, seed)
    if not drawn:
        note("nothing to predict: every eligible comment is already in gold or pending in predictions.jsonl")
        return None
    if pooled:
        return UncertainRun(store, model, drawn, count)
    run = PredictionRun(store, model, drawn)
    run.summary.strategy, run.summary.fallback = strategy.value, fallback
    return run
