"""Metrics against cases worked out by hand."""

from __future__ import annotations

import gc

import pytest
from testdata import label

from hcap_tui.metrics import binary_score, enum_score, f1_interval, score, wilson_interval
from hcap_tui.schema import LabelSchema


def test_known_two_by_two_table() -> None:
    # reference: T T T T F F F F F F; predicted: T T T F T F F F F F -> tp 3, fn 1, fp 1, tn 5
    reference = [True] * 4 + [False] * 6
    predicted = [True, True, True, False, True] + [False] * 5
    s = binary_score(reference, predicted)
    assert (s.tp, s.fp, s.fn, s.tn) == (3, 1, 1, 5)
    assert s.precision == pytest.approx(0.75)
    assert s.recall == pytest.approx(0.75)
    assert s.f1 == pytest.approx(0.75)
    assert s.support == 4
    assert s.accuracy == pytest.approx(0.8)


def test_unequal_precision_and_recall() -> None:
    # tp 2, fp 2, fn 0: precision 0.5, recall 1.0, F1 = 2*0.5*1/(1.5) = 2/3
    s = binary_score([True, True, False, False], [True, True, True, True])
    assert (s.precision, s.recall) == (0.5, 1.0)
    assert s.f1 == pytest.approx(2 / 3)


def test_no_positives_anywhere_gives_zeros_not_errors() -> None:
    s = binary_score([False] * 5, [False] * 5)
    assert (s.precision, s.recall, s.f1, s.support) == (0.0, 0.0, 0.0, 0)
    assert s.accuracy == 1.0
    assert s.f1_ci == (0.0, 1.0)


def test_no_true_positives_gives_f1_zero() -> None:
    s = binary_score([True, False, False], [False, True, False])
    assert (s.tp, s.fp, s.fn, s.tn) == (0, 1, 1, 1)
    assert (s.precision, s.recall, s.f1) == (0.0, 0.0, 0.0)


def test_all_positives_predicted_right() -> None:
    s = binary_score([True] * 4, [True] * 4)
    assert (s.precision, s.recall, s.f1, s.support, s.accuracy) == (1.0, 1.0, 1.0, 4, 1.0)


def test_single_item() -> None:
    right = binary_score([True], [True])
    wrong = binary_score([True], [False])
    assert (right.f1, right.support) == (1.0, 1)
    assert (wrong.f1, wrong.recall, wrong.precision) == (0.0, 0.0, 0.0)


def test_missing_prediction_counts_as_the_wrong_value() -> None:
    s = binary_score([True, False], [None, None])
    assert (s.tp, s.fp, s.fn, s.tn) == (0, 1, 1, 0)


def test_wilson_interval_of_known_values() -> None:
    # Wilson 95% for 8 of 10 is (0.4902, 0.9433); 0 of 10 is (0, 0.2775); 5 of 10 is (0.2366, 0.7634).
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(10, 10)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_f1_interval_maps_the_jaccard_interval() -> None:
    # tp 3, fp 1, fn 1: J = 3/5 with Wilson (0.2307, 0.8824); F1 = 2J/(1+J) -> (0.3749, 0.9375), around F1 0.75.
    low, high = f1_interval(3, 1, 1)
    assert (low, high) == pytest.approx((0.3749, 0.9375), abs=1e-4)
    assert low < binary_score([True] * 4 + [False], [True] * 3 + [False, True]).f1 < high


def test_confusion_matrix_of_a_small_case() -> None:
    values = ("strong", "average", "weak", "no_signal")
    reference = ["strong", "strong", "weak", "average", "weak"]
    predicted = ["strong", "weak", "weak", "average", None]
    s = enum_score(values, reference, predicted)
    assert list(s.confusion) == list(values)
    assert list(s.confusion["strong"]) == list(values)
    assert s.confusion["strong"] == {"strong": 1, "average": 0, "weak": 1, "no_signal": 0}
    assert s.confusion["weak"] == {"strong": 0, "average": 0, "weak": 1, "no_signal": 0}
    assert s.confusion["average"]["average"] == 1
    assert s.confusion["no_signal"] == dict.fromkeys(values, 0)
    assert (s.correct, s.n, s.missing) == (3, 5, 1)
    assert s.accuracy == pytest.approx(0.6)


def test_scorecard_iterates_the_schema(schema: LabelSchema) -> None:
    pairs = [
        (label(in_form=True, race_strength="strong"), label(in_form=True, race_strength="strong", reasoning="other")),
        (label(better_than_show=True), label()),
        (label(), None),
    ]
    card = score(schema, pairs)
    assert (card.n, card.failed, card.exact) == (3, 1, 1)
    assert card.exact_match == pytest.approx(1 / 3)  # reasoning never counts
    data = card.to_dict()
    assert [k for k in data if k in schema.names] == [f.name for f in schema.signals]
    # in_form: one true positive, and the failed item's false reference becomes a false positive
    assert (data["in_form"]["tp"], data["in_form"]["fp"], data["in_form"]["support"]) == (1, 1, 1)
    assert data["in_form"]["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert [data["better_than_show"][k] for k in ("precision", "recall", "f1")] == [0.0, 0.0, 0.0]
    assert data["race_strength"]["accuracy"] == pytest.approx(0.6667, abs=1e-4)
    assert data["race_strength"]["confusion"]["strong"]["strong"] == 1
    # mean F1 over the four booleans: in_form 2/3, the other three have no true positive
    assert card.mean_f1 == pytest.approx(1 / 6)


def test_scorecard_of_a_custom_schema() -> None:
    custom = LabelSchema.from_dict(
        {"fields": [{"name": "keen", "type": "bool"}, {"name": "going", "type": "enum", "values": ["soft", "firm"]}]}
    )
    card = score(custom, [({"keen": True, "going": "soft"}, {"keen": True, "going": "firm"})])
    data = card.to_dict()
    assert data["keen"]["f1"] == 1.0
    assert data["going"]["confusion"] == {"soft": {"soft": 0, "firm": 1}, "firm": {"soft": 0, "firm": 0}}
    assert data["exact_match"] == 0.0


def test_empty_scorecard() -> None:
    card = score(LabelSchema.default(), [])
    data = card.to_dict()
    assert (data["n"], data["exact_match"], data["exact_match_ci"]) == (0, 0.0, [0.0, 1.0])
    assert data["in_form"]["f1"] == 0.0


def test_scorecard_of_a_single_signal_schema() -> None:
    single = LabelSchema.from_dict({"fields": [{"name": "keen", "type": "bool"}, {"name": "note", "type": "text"}]})
    pairs = [({"keen": True, "note": "a"}, {"keen": True, "note": "b"}), ({"keen": False, "note": ""}, None)]
    card = score(single, pairs)
    assert (card.exact, card.failed) == (1, 1)
    assert (card.booleans["keen"].tp, card.booleans["keen"].fp) == (1, 1)


def test_scoring_leaves_the_garbage_collector_as_it_found_it(schema: LabelSchema) -> None:
    score(schema, [(label(), label())])
    assert gc.isenabled()
    gc.disable()
    try:
        score(schema, [(label(), None)])
        assert not gc.isenabled()
    finally:
        gc.enable()
