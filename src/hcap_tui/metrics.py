"""How well one set of labels agrees with a reference: the figures `hcap eval` reports and keeps.

Pure functions over labels already in memory; no I/O, no UI. Every field list comes from the label
schema, so a project with its own signals is scored the same way. The conventions, stated once:

- precision = tp / (tp + fp) and recall = tp / (tp + fn); each is 0.0 when its denominator is 0
  (nothing predicted positive, or no positives in the reference).
- F1 = 2·tp / (2·tp + fp + fn), and 0.0 when there are no true positives.
- support = how many reference items are positive.
- A missing prediction (None: the model failed on that item) is wrong on every field: on a boolean it
  counts as the opposite of the reference (a false negative when the reference is true, a false
  positive when it is false); on an enum it is a miss that the confusion matrix leaves out; it is never
  an exact match.
- Exact match compares every signal (booleans and enums); free-text fields such as the reasoning never count.
- 95% intervals: the Wilson score interval for proportions (precision, recall, accuracy, exact match),
  which stays inside [0, 1] and is sensible for small n. F1 has no closed-form interval, so it uses the
  identity F1 = 2J / (1 + J), where J = tp / (tp + fp + fn): the Wilson interval of J, mapped through
  that increasing function. It is deterministic and instant on any n; because it holds tp + fp + fn
  fixed it is slightly narrower than a bootstrap would be.
- An interval over no items is (0.0, 1.0): nothing is known.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import eq, itemgetter
from typing import Any

from hcap_tui.gcpause import gc_paused
from hcap_tui.schema import LabelSchema

Z_95 = 1.959963984540054  # two-sided 95% normal quantile
DIGITS = 4  # decimals kept in dictionaries written to JSON

Interval = tuple[float, float]
Label = dict[str, Any]


def ratio(part: int, whole: int) -> float:
    """part / whole, or 0.0 when whole is 0."""
    return part / whole if whole else 0.0


def wilson_interval(successes: int, n: int, z: float = Z_95) -> Interval:
    """The Wilson score interval for a proportion of `successes` out of `n` (95% by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # At 0 and n successes the bound is exactly 0 or 1; pin it so rounding error never shows as 0.9999.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return (low, high)


def f1_interval(tp: int, fp: int, fn: int, z: float = Z_95) -> Interval:
    """A 95% interval for F1: the Wilson interval of tp / (tp + fp + fn) mapped through 2J / (1 + J)."""
    low, high = wilson_interval(tp, tp + fp + fn, z)
    return (2 * low / (1 + low), 2 * high / (1 + high))


@dataclass(frozen=True)
class BinaryScore:
    """A 2x2 table for one boolean field against the reference, and what follows from it."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def n(self) -> int:
        """Items scored."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def support(self) -> int:
        """Reference positives."""
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        """Share of predicted positives that are positive; 0.0 when nothing was predicted positive."""
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        """Share of reference positives found; 0.0 when the reference has no positives."""
        return ratio(self.tp, self.support)

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall; 0.0 when there are no true positives."""
        return ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    @property
    def accuracy(self) -> float:
        """Share of items where the value agrees with the reference."""
        return ratio(self.tp + self.tn, self.n)

    @property
    def precision_ci(self) -> Interval:
        """95% Wilson interval of the precision."""
        return wilson_interval(self.tp, self.tp + self.fp)

    @property
    def recall_ci(self) -> Interval:
        """95% Wilson interval of the recall."""
        return wilson_interval(self.tp, self.support)

    @property
    def f1_ci(self) -> Interval:
        """95% interval of the F1 (see the module docstring for the method)."""
        return f1_interval(self.tp, self.fp, self.fn)

    @property
    def accuracy_ci(self) -> Interval:
        """95% Wilson interval of the accuracy."""
        return wilson_interval(self.tp + self.tn, self.n)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: precision, recall, f1, support first, then accuracy, the table and intervals."""
        return {
            "precision": round(self.precision, DIGITS),
            "recall": round(self.recall, DIGITS),
            "f1": round(self.f1, DIGITS),
            "support": self.support,
            "accuracy": round(self.accuracy, DIGITS),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "precision_ci": rounded(self.precision_ci),
            "recall_ci": rounded(self.recall_ci),
            "f1_ci": rounded(self.f1_ci),
            "accuracy_ci": rounded(self.accuracy_ci),
        }


@dataclass(frozen=True)
class EnumScore:
    """Agreement on one enum field: correct items, and the confusion matrix over the schema's values."""

    values: tuple[str, ...]
    confusion: dict[str, dict[str, int]]  # reference value -> predicted value -> items, schema order
    correct: int
    n: int

    @property
    def accuracy(self) -> float:
        """Share of items with the reference value; missing predictions count as wrong."""
        return ratio(self.correct, self.n)

    @property
    def accuracy_ci(self) -> Interval:
        """95% Wilson interval of the accuracy."""
        return wilson_interval(self.correct, self.n)

    @property
    def missing(self) -> int:
        """Items with no prediction, left out of the confusion matrix."""
        return self.n - sum(sum(row.values()) for row in self.confusion.values())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: accuracy, its interval and the confusion matrix (rows: reference, columns: predicted)."""
        return {
            "accuracy": round(self.accuracy, DIGITS),
            "accuracy_ci": rounded(self.accuracy_ci),
            "confusion": {value: dict(row) for value, row in self.confusion.items()},
        }


@dataclass(frozen=True)
class Scorecard:
    """Every figure for one labeller (the model or the teacher) on one set of reference items."""

    n: int
    failed: int
    booleans: dict[str, BinaryScore]
    enums: dict[str, EnumScore]
    exact: int

    @property
    def exact_match(self) -> float:
        """Share of items where every signal agrees with the reference."""
        return ratio(self.exact, self.n)

    @property
    def exact_match_ci(self) -> Interval:
        """95% Wilson interval of the exact-match share."""
        return wilson_interval(self.exact, self.n)

    @property
    def mean_f1(self) -> float | None:
        """Unweighted mean F1 over the boolean fields; None when the schema has none."""
        if not self.booleans:
            return None
        return sum(score.f1 for score in self.booleans.values()) / len(self.booleans)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: n and failed, one entry per signal in schema order, then exact match and mean F1."""
        data: dict[str, Any] = {"n": self.n, "failed": self.failed}
        for name, score in {**self.booleans, **self.enums}.items():
            data[name] = score.to_dict()
        data["exact_match"] = round(self.exact_match, DIGITS)
        data["exact_match_ci"] = rounded(self.exact_match_ci)
        mean = self.mean_f1
        data["mean_f1"] = None if mean is None else round(mean, DIGITS)
        return data


def binary_score(reference: Iterable[bool], predicted: Iterable[bool | None]) -> BinaryScore:
    """The 2x2 table of predictions against the reference; a None prediction counts as wrong."""
    cells = Counter(zip(reference, predicted, strict=True))
    return BinaryScore(
        tp=cells[True, True],
        fp=cells[False, True] + cells[False, None],
        fn=cells[True, False] + cells[True, None],
        tn=cells[False, False],
    )


def enum_score(values: Sequence[str], reference: Iterable[str], predicted: Iterable[str | None]) -> EnumScore:
    """Accuracy and confusion matrix over `values` (in that order); a None prediction is a miss."""
    cells = Counter(zip(reference, predicted, strict=True))
    confusion = {truth: {guess: cells[truth, guess] for guess in values} for truth in values}
    correct = sum(cells[value, value] for value in values)
    return EnumScore(values=tuple(values), confusion=confusion, correct=correct, n=sum(cells.values()))


@gc_paused()
def score(schema: LabelSchema, pairs: Iterable[tuple[Label, Label | None]]) -> Scorecard:
    """Score predicted labels against reference labels, field by field as the schema lists them.

    Each pair is (reference label, predicted label or None when there is no prediction).
    """
    names = [f.name for f in schema.signals]
    pairs = list(pairs)
    truths = _rows([truth for truth, _ in pairs], names)
    guesses = _rows([guess for _, guess in pairs], names)
    # Columns per field; with no items there are none, and the .get below gives empty ones.
    truth_columns = dict(zip(names, zip(*truths, strict=True), strict=False))
    guess_columns = dict(zip(names, zip(*guesses, strict=True), strict=False))
    booleans = {
        f.name: binary_score(truth_columns.get(f.name, ()), guess_columns.get(f.name, ())) for f in schema.booleans
    }
    enums = {
        f.name: enum_score(f.values, truth_columns.get(f.name, ()), guess_columns.get(f.name, ())) for f in schema.enums
    }
    # A missing prediction's row is all None, which never equals a reference row.
    exact = sum(map(eq, truths, guesses)) if names else 0
    failed = sum(1 for _, guess in pairs if guess is None)
    return Scorecard(n=len(pairs), failed=failed, booleans=booleans, enums=enums, exact=exact)


def rounded(interval: Interval) -> list[float]:
    """An interval as a JSON list, rounded like the figures beside it."""
    return [round(interval[0], DIGITS), round(interval[1], DIGITS)]


def _rows(labels: list[Label | None], names: list[str]) -> list[tuple[Any, ...]]:
    """Each label's values of `names` as one tuple; a missing label gives a tuple of None."""
    if not names:
        return [() for _ in labels]
    missing = (None,) * len(names)
    get = itemgetter(*names)
    if len(names) == 1:
        return [missing if label is None else (get(label),) for label in labels]
    return [missing if label is None else get(label) for label in labels]
