"""Triage: rank teacher labels by how likely the teacher got them wrong, as judged by a cheap cross-fitted student.

Most teacher labels are right, so review time is best spent where the teacher is likely wrong. A student, one
class-balanced logistic regression per signal over TF-IDF of the three parts of formatted_input (result, race
paragraph, horse comment, each with its own vocabulary) plus the parsed result, learns from the teacher's labels,
gold outranking the teacher for the items it holds. It is a poor labeller but a useful judge: where it doubts the
teacher's value, the teacher is wrong far more often than on average.

Cross-fitting keeps the judge honest: items are split into k folds and each fold is judged by a student trained
on the other folds, so an item's own label never trains the model that judges it (a student that had seen the
label would mostly repeat it). Each signal's doubt is 1 − the student's probability of the teacher's value; an
item's score is the probability that at least one of its signals is wrong, 1 − ∏ P(teacher's value), which ranked
teacher errors better than the weakest signal alone. The schema drives everything: every bool and enum field is
judged, text fields are ignored. scikit-learn (the `triage` extra) is imported only when a student is trained.
An interactive caller may pass `stop`, asked between the steps of training, to end a ranking it no longer wants.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hcap_tui.choices import DEFAULT_FOLDS
from hcap_tui.errors import DataError, HcapError
from hcap_tui.input_parts import InputParts, split_input
from hcap_tui.schema import LabelSchema, SchemaField, value_name
from hcap_tui.store import LabeledItem, Store

if TYPE_CHECKING:
    import numpy as np
    from scipy.sparse import csr_matrix

MIN_ITEMS_PER_FOLD = 2
CHECK_TOP = 20  # the gold check reports how many teacher errors the student's top this-many hold
# A little probability for every value, so a value the student never saw in training is very doubtful, not certain,
# and the product over signals never collapses to exactly 0.
SMOOTHING = 0.01
MAX_FEATURES = 200_000  # per part of the input: bounds memory on very large label files
INSTALL_HINT = "python3 -m pip install -e '.[triage]' (or: python3 -m pip install scikit-learn)"


class TriageUnavailable(HcapError):
    """scikit-learn, which the student needs, is not installed."""


class TriageStopped(HcapError):
    """The caller's `stop` said to end the ranking before it finished."""


Stop = Callable[[], bool]


@dataclass(frozen=True)
class SignalDoubt:
    """How the student judges the teacher's value of one signal on one item."""

    field: str
    teacher: Any
    student: Any  # the student's most likely value
    p_teacher: float  # the student's probability of the teacher's value
    p_student: float  # the student's probability of its own value

    @property
    def doubt(self) -> float:
        """The probability that the teacher's value is wrong, as the student sees it."""
        return 1.0 - self.p_teacher

    @property
    def suspect(self) -> bool:
        """The student would have chosen another value than the teacher."""
        return self.student != self.teacher

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "teacher": self.teacher,
            "student": self.student,
            "p_teacher": round(self.p_teacher, 4),
            "p_student": round(self.p_student, 4),
        }


@dataclass(frozen=True)
class Suspect:
    """One teacher-labelled item with the student's verdict on each judged signal."""

    formatted_input: str
    line: int  # its line in labeled.jsonl
    score: float  # the probability that the teacher's label is wrong somewhere: 1 − ∏ P(teacher's value)
    signals: tuple[SignalDoubt, ...]  # every judged signal, in schema order
    teacher: dict[str, Any] = field(compare=False, repr=False)  # the teacher's whole label

    @property
    def suspects(self) -> tuple[SignalDoubt, ...]:
        """The signals where the student would choose another value, most doubtful first."""
        return tuple(sorted((s for s in self.signals if s.suspect), key=lambda s: -s.doubt))

    @property
    def weakest(self) -> float:
        """The doubt of the most doubtful signal alone (1 − min P(teacher's value)), the alternative item score."""
        return max((s.doubt for s in self.signals), default=0.0)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: input, line, score, suspect signal names (most doubtful first) and every judged signal."""
        return {
            "formatted_input": self.formatted_input,
            "line": self.line,
            "score": round(self.score, 4),
            "suspects": [s.field for s in self.suspects],
            "signals": {s.field: s.to_dict() for s in self.signals},
        }


@dataclass(frozen=True)
class GoldCheck:
    """How well the student's doubts found the teacher's errors on the items gold already holds.

    These items were judged exactly as the others (their own labels never trained their judge), so this is the
    ranking's track record on the user's own data.
    """

    items: int
    errors: int  # items where the teacher's label differs from gold on at least one signal
    top: int  # the size of the top looked at
    top_errors: int  # teacher errors among the `top` most suspect
    auroc: float | None  # of the item score against "the teacher was wrong"; None without both kinds of item
    auroc_weakest: float | None  # the same for the weakest-signal score
    fields: dict[str, dict[str, int]]  # signal -> errors, caught (student disagreed), flagged (student disagreed)

    @property
    def base_rate(self) -> float:
        """The share of these items the teacher got wrong."""
        return self.errors / self.items if self.items else 0.0

    @property
    def top_precision(self) -> float:
        """The share of teacher errors among the top."""
        return self.top_errors / self.top if self.top else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "items": self.items,
            "errors": self.errors,
            "base_rate": round(self.base_rate, 4),
            "top": self.top,
            "top_errors": self.top_errors,
            "top_precision": round(self.top_precision, 4),
            "auroc": None if self.auroc is None else round(self.auroc, 4),
            "auroc_weakest": None if self.auroc_weakest is None else round(self.auroc_weakest, 4),
            "fields": self.fields,
        }


@dataclass
class Triage:
    """The student's verdicts: teacher labels not yet in gold, most suspect first, and its record on gold."""

    suspects: list[Suspect]  # teacher-labelled items not yet in gold, most suspect first
    reviewed: list[Suspect]  # teacher-labelled items already in gold, judged the same way, most suspect first
    check: GoldCheck | None  # None when gold holds none of the teacher's items
    judged: tuple[str, ...]  # signals the student judged, in schema order
    not_judged: dict[str, str]  # signal -> why not (its labels carry a single value)
    labeled: int  # distinct teacher-labelled items
    trained_on: int  # distinct labelled items the student learnt from (teacher and gold)
    folds: int
    problems: list[str] = field(default_factory=list)  # lines skipped while reading


def triage(store: Store, folds: int = DEFAULT_FOLDS, stop: Stop | None = None) -> Triage:
    """Train the cross-fitted student on the project's labels and judge every teacher label with it.

    Raises DataError when there are no teacher labels, too few labelled items for `folds`, or no signal whose
    labels carry two values; TriageUnavailable when scikit-learn is missing; TriageStopped when `stop`, asked
    before each part of the input is vectorised and before each fit, returns True.
    """
    if folds < 2:
        raise DataError(f"--folds must be at least 2, not {folds}: each item is judged by a student that never saw it")
    schema = store.schema
    problems: list[str] = []
    teacher_loaded = store.labeled()  # the store pauses the cycle collector while it reads
    gold_index = store.gold()
    problems += [str(p) for p in teacher_loaded.problems] + [str(p) for p in gold_index.loaded.problems]
    teacher = {item.formatted_input: item for item in teacher_loaded.items if not item.failed}
    if not teacher:
        path = store.paths.labeled
        if teacher_loaded.problems:
            raise DataError(
                f"no usable teacher labels in {path}: its {len(teacher_loaded.problems)} line(s) cannot be read "
                "(`hcap check` lists them)"
            )
        raise DataError(f"no teacher labels in {path}: run `hcap label` first, then triage them")
    gold = {key: item.label for key, item in gold_index.by_input.items() if item.label is not None}
    inputs = list(dict.fromkeys([*teacher, *gold]))
    targets = [gold[key] if key in gold else teacher[key].label for key in inputs]
    needed = folds * MIN_ITEMS_PER_FOLD
    if len(inputs) < needed:
        raise DataError(
            f"triage needs at least {needed} labelled items for {folds} folds, found {len(inputs)}: "
            "label more with `hcap label` (`hcap triage --folds 2` needs fewer)"
        )
    judged, not_judged = _judged_signals(schema, targets)
    if not judged:
        raise DataError(
            f"nothing to judge: every signal has a single value across all {len(inputs)} labels; "
            "the student needs examples of at least two values"
        )
    probabilities = _cross_fitted(inputs, targets, judged, folds, stop or _never)
    position = {key: i for i, key in enumerate(inputs)}
    suspects, reviewed = [], []
    for key, item in teacher.items():
        verdict = _verdict(item, judged, probabilities, position[key])
        (reviewed if key in gold else suspects).append(verdict)
    suspects.sort(key=_most_suspect_first)
    reviewed.sort(key=_most_suspect_first)
    return Triage(
        suspects=suspects,
        reviewed=reviewed,
        check=gold_check(schema, reviewed, gold) if reviewed else None,
        judged=tuple(f.name for f in judged),
        not_judged=not_judged,
        labeled=len(teacher),
        trained_on=len(inputs),
        folds=folds,
        problems=problems,
    )


def gold_check(schema: LabelSchema, ordered: Sequence[Suspect], gold: dict[str, dict[str, Any]]) -> GoldCheck:
    """The ranking's record on items gold holds (`ordered` most suspect first): errors in its top, AUROC of both
    item scores, per-signal catches.

    An item is a teacher error when its label differs from gold on any signal, judged or not: an error on a
    signal the student could not judge is one it missed.
    """
    wrong = [
        any(gold[s.formatted_input][f.name] != s.teacher[f.name] for f in schema.signals) for s in ordered
    ]
    top = min(CHECK_TOP, len(ordered))
    fields: dict[str, dict[str, int]] = {}
    for suspect in ordered:
        for doubt in suspect.signals:
            counts = fields.setdefault(doubt.field, {"errors": 0, "caught": 0, "flagged": 0})
            error = gold[suspect.formatted_input][doubt.field] != doubt.teacher
            counts["errors"] += error
            counts["caught"] += error and doubt.suspect
            counts["flagged"] += doubt.suspect
    return GoldCheck(
        items=len(ordered),
        errors=sum(wrong),
        top=top,
        top_errors=sum(wrong[:top]),
        auroc=auroc([s.score for s in ordered], wrong),
        auroc_weakest=auroc([s.weakest for s in ordered], wrong),
        fields=fields,
    )


def auroc(scores: Sequence[float], positives: Sequence[bool]) -> float | None:
    """The probability that a random positive scores above a random negative (ties count half); None without both."""
    n_pos = sum(positives)
    n_neg = len(positives) - n_pos
    if not n_pos or not n_neg:
        return None
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    rank_sum, i = 0.0, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        mid_rank = (i + j) / 2 + 1  # tied scores share their average rank
        rank_sum += mid_rank * sum(positives[order[k]] for k in range(i, j + 1))
        i = j + 1
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _most_suspect_first(suspect: Suspect) -> tuple[float, int]:
    """Highest score first; file order among equal scores."""
    return -suspect.score, suspect.line


def _codes(f: SchemaField) -> tuple[Any, ...]:
    """The values a signal can take, in a fixed order: the student's class columns."""
    return (False, True) if f.kind == "bool" else f.values


def _judged_signals(
    schema: LabelSchema, targets: Sequence[dict[str, Any]]
) -> tuple[list[SchemaField], dict[str, str]]:
    """The signals whose labels carry at least two values, and why each other signal is not judged."""
    judged, not_judged = [], {}
    for f in schema.signals:
        seen = {label[f.name] for label in targets}
        if len(seen) > 1:
            judged.append(f)
        else:
            (value,) = seen
            not_judged[f.name] = f"every label says {value_name(value)}"
    return judged, not_judged


def _verdict(item: LabeledItem, judged: Sequence[SchemaField], probabilities: dict[str, np.ndarray], row: int) -> Suspect:
    """One teacher label judged by the student's out-of-fold probabilities for its row."""
    label = item.label
    assert label is not None  # failed lines never reach the student
    doubts = []
    confidence = 1.0
    for f in judged:
        codes = _codes(f)
        p = probabilities[f.name][row]
        best = int(p.argmax())
        p_teacher = float(p[codes.index(label[f.name])])
        confidence *= p_teacher
        doubts.append(SignalDoubt(f.name, label[f.name], codes[best], p_teacher, float(p[best])))
    return Suspect(item.formatted_input, item.line, 1.0 - confidence, tuple(doubts), teacher=dict(label))


def _import_sklearn() -> None:
    """Fail with the install command when scikit-learn is missing."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise TriageUnavailable(f"hcap triage needs scikit-learn, which is not installed: {INSTALL_HINT}") from None


def fold_of(inputs: Sequence[str], folds: int) -> list[int]:
    """The fold of each input: balanced, and fixed by the texts alone (not by file order)."""
    order = sorted(range(len(inputs)), key=lambda i: hashlib.blake2b(inputs[i].encode("utf-8", "surrogatepass"), digest_size=8).digest())
    fold = [0] * len(inputs)
    for rank_in_order, i in enumerate(order):
        fold[i] = rank_in_order % folds
    return fold


def _never() -> bool:
    return False


def _check(stop: Stop) -> None:
    """End the ranking when the caller no longer wants it."""
    if stop():
        raise TriageStopped("the ranking was stopped before it finished")


def _cross_fitted(
    inputs: Sequence[str], targets: Sequence[dict[str, Any]], judged: Sequence[SchemaField], folds: int, stop: Stop
) -> dict[str, np.ndarray]:
    """Signal -> for every input, the probability of each value (columns in `_codes` order), predicted by a
    student trained on the other folds only; `stop` is asked between the steps."""
    _import_sklearn()
    import numpy as np
    from threadpoolctl import threadpool_limits

    # The fits are small: a multi-threaded BLAS only spins against itself (and anything else on the machine).
    with threadpool_limits(limits=1):
        features = features_of(inputs, stop)
        fold = np.asarray(fold_of(inputs, folds))
        out: dict[str, np.ndarray] = {}
        for f in judged:
            codes = _codes(f)
            y = np.asarray([codes.index(label[f.name]) for label in targets])
            p = np.zeros((len(inputs), len(codes)))
            for train, held in _splits(fold, folds):
                _check(stop)
                p[held] = _fit_predict(features[train], y[train], features[held], len(codes))
            out[f.name] = (1.0 - SMOOTHING) * p + SMOOTHING / len(codes)
    return out


def _splits(fold: np.ndarray, folds: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rows to train on, rows to judge) per fold: every row is judged once, by a student that did not see it."""
    for k in range(folds):
        held = fold == k
        yield ~held, held


def _fit_predict(x_train: csr_matrix, y_train: np.ndarray, x_test: csr_matrix, n_codes: int) -> np.ndarray:
    """Class probabilities (one column per code) for `x_test` from one class-balanced logistic regression."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    p = np.zeros((x_test.shape[0], n_codes))
    classes = np.unique(y_train)
    if len(classes) == 1:  # this fold's training part holds one value only: that is all the student can say
        p[:, classes[0]] = 1.0
        return p
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    model.fit(x_train, y_train)
    p[:, model.classes_] = model.predict_proba(x_test)
    return p


def features_of(inputs: Sequence[str], stop: Stop = _never) -> csr_matrix:
    """The student's view of each input: TF-IDF of the result, the race paragraph and the horse comment, each
    with a vocabulary of its own, beside the parsed result (position, field size, relative place, phrase)."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer

    parts = [split_input(text) for text in inputs]
    blocks = []
    for texts, min_df in (
        ([p.result for p in parts], 1),
        ([p.race for p in parts], 2),
        ([p.horse for p in parts], 2),
    ):
        _check(stop)
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float64
        )
        try:
            blocks.append(vectorizer.fit_transform(texts))
        except ValueError:  # no word occurs often enough in this part (e.g. no item has a race paragraph)
            continue
    blocks.append(csr_matrix(_result_features(parts)))
    return hstack(blocks, format="csr")


def _result_features(parts: Sequence[InputParts]) -> list[list[float]]:
    """Position, field size and relative place scaled to about [0, 1] with flags for unknowns, and the phrase
    one-hot (its vocabulary is whatever phrases the inputs carry)."""
    phrases = sorted({p.phrase for p in parts})
    rows = []
    for p in parts:
        position = math.log1p(p.position) / math.log1p(40) if p.position else 0.0
        runners = min(p.runners, 40) / 40 if p.runners else 0.0
        if p.position == 1:
            place = 0.0
        elif p.position and p.runners and p.runners > 1:
            place = min((p.position - 1) / (p.runners - 1), 1.0)
        else:
            place = 0.5
        flags = [float(p.position is None), float(p.runners is None)]
        rows.append([position, runners, place, *flags, *(float(p.phrase == phrase) for phrase in phrases)])
    return rows
