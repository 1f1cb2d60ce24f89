"""Uncertainty sampling for `hcap predict --strategy uncertain`: predict a pool, keep the least confident.

An item's confidence is the lowest, over its signals, of the probability the model gave the value it
chose: one doubtful signal makes the item worth reviewing, because the reviewer corrects whole items.
Signals the server gave no probability for are left out of the minimum. A failed prediction is the
least confident of all and is always written.

Only the chosen items go to predictions.jsonl, and only once the pool is done, so until then every
pool result is kept in a sidecar, `.predictions-pool-<batch>.jsonl` in the data folder, appended and
fsynced as it returns. A crash or `kill -9` mid-pool therefore loses at most the requests in flight:
the next uncertain run with the same model finds the sidecar, reuses its predictions without asking
the model again, and finishes the pool in the same batch. The sidecar is deleted once the chosen
lines are in predictions.jsonl.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from hcap_tui.comments import Comment
from hcap_tui.config import DataPaths
from hcap_tui.jsonl import JsonlFile
from hcap_tui.models import Labeller, LabelResult, label_many, parse_model
from hcap_tui.models.confidence import item_confidence
from hcap_tui.predict import PredictSummary, new_batch_id, prediction_record
from hcap_tui.store import LabeledItem, Store

POOL_PREFIX = ".predictions-pool-"


def falling_back(model: Labeller) -> str:
    """The end of a line saying uncertainty sampling cannot run: what the server needs, and what happens instead."""
    return f"({model.logprobs_needs} needed): falling back to random"


def no_logprobs(model: Labeller) -> str:
    """The line said when a labelled reply came back without log-probabilities."""
    return f"the server returned no log-probabilities {falling_back(model)}"


def prediction_confidence(prediction: LabelResult) -> float:
    """How sure the model was of a prediction (`item_confidence` of its signals); 0 for a failed one."""
    if not prediction.ok or not prediction.confidence:
        return 0.0
    return item_confidence(prediction.confidence.values()) or 0.0


class PoolFile:
    """The sidecar holding one uncertain run's pool predictions until the chosen ones are written."""

    def __init__(self, paths: DataPaths, batch_id: str) -> None:
        self.batch_id = batch_id
        self.path = paths.root / f"{POOL_PREFIX}{batch_id}.jsonl"
        self._file = JsonlFile(self.path)

    def add(self, record: dict[str, Any]) -> None:
        """Append one pool prediction, fsynced before returning."""
        self._file.append([record])

    def remove(self) -> None:
        """Delete the sidecar and its lock file: the pool is settled."""
        self.path.unlink(missing_ok=True)
        self._file.lock_path.unlink(missing_ok=True)


@dataclass
class InterruptedPool:
    """A sidecar an earlier uncertain run left behind, and the predictions in it still worth reusing."""

    file: PoolFile
    predictions: list[LabelResult]
    metadata: dict[str, dict[str, str]]


def interrupted_pools(store: Store) -> list[PoolFile]:
    """The sidecars in the data folder, oldest batch first."""
    paths = store.paths
    found = sorted(paths.root.glob(f"{POOL_PREFIX}*.jsonl"))
    return [PoolFile(paths, path.name.removeprefix(POOL_PREFIX).removesuffix(".jsonl")) for path in found]


def recover_pool(store: Store, pool: PoolFile, model: str, digest: str | None) -> InterruptedPool | None:
    """The predictions of `pool` made by this model version and not yet in gold or predictions.jsonl.

    None when the sidecar comes from another model or version: its confidences say nothing about this one.
    """
    items = store.read(pool.path, keep=True).items
    if any(item.record.get("model") != model or item.record.get("model_digest") != digest for item in items):
        return None
    done = store.keys(store.paths.gold) | store.keys(store.paths.predictions)
    latest = {item.formatted_input: item for item in items if item.formatted_input not in done}
    metadata = {
        key: item.record["metadata"] for key, item in latest.items() if isinstance(item.record.get("metadata"), dict)
    }
    return InterruptedPool(pool, [_prediction(item) for item in latest.values()], metadata)


def resume_pool(store: Store, model: str, digest: str | None, note: Callable[[str], None]) -> InterruptedPool | None:
    """The first interrupted pool of this model version, said through `note`; others are named and left alone.

    A sidecar with nothing left to reuse (empty, or every item since written) is deleted.
    """
    for pool in interrupted_pools(store):
        found = recover_pool(store, pool, model, digest)
        if found is None:
            note(f"{pool.path.name}: an interrupted pool from another model or version; left for a run with that model")
            continue
        if not found.predictions:
            pool.remove()
            continue
        note(f"found an interrupted pool (batch {pool.batch_id}) in {pool.path.name}: reusing its "
             f"{len(found.predictions)} predictions instead of asking the model again")
        return found
    return None


def _prediction(item: LabeledItem) -> LabelResult:
    """A pool prediction as it was before the run stopped, rebuilt from its sidecar line."""
    record = item.record
    confidence = record.get("confidence")
    return LabelResult(
        formatted_input=item.formatted_input,
        label=item.label,
        raw=str(record.get("raw", "")),
        error=str(record.get("error") or "failed") if item.failed else None,
        spec=parse_model(str(record.get("model"))),
        digest=record.get("model_digest"),
        latency_ms=float(record.get("latency_ms") or 0.0),
        prompt_tokens=record.get("prompt_tokens"),
        completion_tokens=record.get("completion_tokens"),
        confidence=confidence if isinstance(confidence, dict) else None,
        attempts=1,
    )


@dataclass
class UncertainSummary(PredictSummary):
    """An uncertainty run: the pool it predicted, and the confidence range of the labelled items it kept."""

    strategy: str = "uncertain"
    pool: int = 0
    predicted: int = 0  # pool predictions in hand, reused ones included
    reused: int = 0  # of those, taken from an interrupted run's sidecar instead of asking the model
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
        reused = f", {self.reused} of them reused from an interrupted run" if self.reused else ""
        dropped = self.predicted - self.finished
        return (f"batch {self.batch_id}: kept the {self.done} least confident of {self.predicted} predicted{span}"
                f"{reused}, {self.failed} failed; the other {dropped} are not written")

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
            "pool": self.pool, "predicted": self.predicted, "reused": self.reused,
            "confidence_min": low, "confidence_max": high,
        }


class UncertainRun:
    """Predicts a random pool with log-probabilities, then appends the `count` least confident items.

    Each pool result goes to the sidecar as it returns; when the pool is done (or stops: Ctrl-C, a
    server error) the least confident of what finished is written, most doubtful first, and the sidecar
    is deleted. `resumed` carries an interrupted run's predictions: they join the pool as if just made.
    If a labelled reply comes back without log-probabilities the run says so in `summary.fallback` and
    becomes a random run: the pool is already in random order, so it writes results as they arrive
    until `count` are on disk.
    """

    def __init__(
        self, store: Store, model: Labeller, pool: list[Comment], count: int, resumed: InterruptedPool | None = None
    ) -> None:
        self.store = store
        self.model = model
        self.pool = pool
        self.count = count
        self.file = resumed.file if resumed else PoolFile(store.paths, new_batch_id())
        reused = resumed.predictions if resumed else []
        self.summary = UncertainSummary(
            self.file.batch_id, model.spec.recorded, model.digest, count,
            pool=len(reused) + len(pool), predicted=len(reused), reused=len(reused),
        )
        self._metadata = (resumed.metadata if resumed else {}) | {c.formatted_input: c.metadata for c in pool}
        order = [p.formatted_input for p in reused] + [c.formatted_input for c in pool]
        self._order = {text: i for i, text in enumerate(order)}
        self._scored: list[LabelResult] = list(reused)
        self._issued = len(reused)

    @property
    def intent(self) -> str:
        """What the run is about to do, said before it starts."""
        reused = f" ({self.summary.reused} already predicted)" if self.summary.reused else ""
        return f"predicting a pool of {self.summary.pool} comments{reused} to keep the {self.count} least confident"

    @property
    def total(self) -> int:
        """Predictions the run will make, for a progress bar: the pool, or after a fallback just enough."""
        if self.summary.fallback is None:
            return len(self.pool)
        return min(len(self.pool), self._issued - self.summary.reused + max(0, self._still_needed()))

    def run(self, concurrency: int = 1) -> Iterator[LabelResult]:
        """Predict the pool with up to `concurrency` requests in flight, yielding each result as it completes."""
        try:
            with closing(label_many(self.model, self._inputs(), concurrency)) as results:
                for done in results:
                    prediction = done.result
                    self.summary.predicted += 1
                    if self.summary.fallback is None and prediction.ok and prediction.confidence is None:
                        self.summary.fallback = no_logprobs(self.model)
                        self._write(self._scored)
                    self._scored.append(prediction)
                    if self.summary.fallback is None:
                        self.file.add(self._record(prediction))
                    else:
                        self._write([prediction])
                    yield prediction
        finally:
            if self.summary.fallback is None:
                self._write(self._least_confident())
            self.file.remove()

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

    def _least_confident(self) -> list[LabelResult]:
        """Every failed prediction, then the least confident labels up to `count` in all, most doubtful first."""
        failed = sorted((p for p in self._scored if not p.ok), key=lambda p: self._order[p.formatted_input])
        labelled = sorted(
            (p for p in self._scored if p.ok), key=lambda p: (prediction_confidence(p), self._order[p.formatted_input])
        )
        kept = labelled[: max(0, self.count - len(failed))]
        if kept:
            self.summary.kept_confidence = (prediction_confidence(kept[0]), prediction_confidence(kept[-1]))
        return failed + kept

    def _record(self, prediction: LabelResult) -> dict[str, Any]:
        """The predictions.jsonl line for one result of this batch."""
        metadata = self._metadata.get(prediction.formatted_input)
        return prediction_record(self.store.schema, prediction, self.summary.batch_id, metadata)

    def _write(self, predictions: list[LabelResult]) -> None:
        """Append results to predictions.jsonl, up to `count` once the run is drawing at random."""
        if self.summary.fallback is not None:
            predictions = predictions[: max(0, self.count - self.summary.finished)]
        records = [self._record(p) for p in predictions]
        if records:
            self.store.append(self.store.paths.predictions, records)
        for prediction in predictions:
            self.summary.add(self.store.schema, prediction)

