"""ReviewSession without any UI: what approve, undo, navigation, filters and resume do on disk and in counters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from testdata import label, read_jsonl, write_jsonl

from hcap_tui.config import DataPaths
from hcap_tui.review.errors import ConfirmApproval, GoldChanged, ReviewError
from hcap_tui.review.navigation import Filter
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import PREDICTIONS, TEACHER, GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store


def item_text(n: int) -> str:
    """An item of a race of its own (race-level checks are tested apart, on runners that share a race)."""
    return f"{n + 2}th of 14, well beaten | [RACE]: Modest affair number {n} | [HORSE]: Item {n} never travelling"


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def open_session(store: Store, source=TEACHER, checkpoint: Checkpoint | None = None, book: GoldBook | None = None):
    session = ReviewSession(store, source, book if book is not None else GoldBook.load(store), "ann", checkpoint)
    session.extend(store.read(source.path(store.paths), keep=True).items)
    session.finish_loading()
    return session


def teacher_file(paths: DataPaths, count: int = 5) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(count)])


def test_approving_unchanged_writes_flat_gold_with_provenance_and_moves_on(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.approve()
    (gold,) = read_jsonl(paths.gold)
    assert list(gold)[:7] == ["formatted_input", *store.schema.names]
    assert gold["formatted_input"] == item_text(0)
    assert gold["origin"] == "gemini"
    assert gold["proposed"] == label()
    assert gold["changed"] == []
    assert gold["reviewer"] == "ann"
    assert gold["reviewed_at"].endswith("+00:00")
    assert "model" not in gold
    assert session.position == 1
    assert session.counter_text() == "2/5 · 1 approved · 4 not in gold"


def test_corrections_are_recorded_as_changed_fields_in_schema_order(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.cycle("race_strength")
    session.toggle("worse_than_show")
    session.toggle("in_form")
    session.set_value("reasoning", "Flattered by a soft lead.")
    session.approve()
    (gold,) = read_jsonl(paths.gold)
    assert gold["in_form"] is True and gold["worse_than_show"] is True
    assert gold["race_strength"] == "weak"
    assert gold["changed"] == ["in_form", "worse_than_show", "race_strength", "reasoning"]
    assert gold["proposed"]["race_strength"] == "average"


def test_prediction_approval_copies_model_and_digest(store: Store, paths: DataPaths) -> None:
    provenance = {"model": "flat-hcap", "model_digest": "sha256:" + "a" * 64, "batch_id": "b1", "latency_ms": 12}
    write_jsonl(paths.predictions, [{"formatted_input": item_text(0)} | label() | provenance])
    session = open_session(store, PREDICTIONS)
    session.approve()
    (gold,) = read_jsonl(paths.gold)
    assert gold["origin"] == "predictions"
    assert (gold["model"], gold["model_digest"]) == ("flat-hcap", "sha256:" + "a" * 64)
    assert "batch_id" not in gold


def test_edited_text_is_saved_trimmed_but_untouched_text_exactly(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.set_value("reasoning", "\n Flattered by a soft lead. \n")  # as a terminal editor can leave it
    session.approve()
    session.approve()  # the next item, its reasoning as proposed
    edited, untouched = read_jsonl(paths.gold)
    assert edited["reasoning"] == "Flattered by a soft lead."
    assert untouched["reasoning"] == untouched["proposed"]["reasoning"] and untouched["changed"] == []


def test_item_in_gold_shows_gold_values_and_reapproval_wins(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 2)
    write_jsonl(paths.gold, [{"formatted_input": item_text(0)} | label(in_form=True, race_strength="strong")])
    session = open_session(store)
    assert session.position == 1  # the review opens at the first item not yet in gold
    assert session.first() and session.gold_item is not None
    assert session.draft["in_form"] is True and session.draft["race_strength"] == "strong"
    session.toggle("out_of_form")
    with pytest.raises(ConfirmApproval, match="Replaces the gold approval: Out of form ✗ → ✓"):
        session.approve()  # the first Enter shows what gold holds beside the new values
    assert len(read_jsonl(paths.gold)) == 1
    session.approve()  # the second replaces it
    assert len(read_jsonl(paths.gold)) == 2
    assert store.gold().by_input[item_text(0)].label == label(in_form=True, out_of_form=True, race_strength="strong")


def test_failed_prediction_needs_every_enum_and_text_before_approval(store: Store, paths: DataPaths) -> None:
    failed = {"formatted_input": item_text(0), "status": "failed", "error": "not valid JSON", "raw": "{", "model": "m"}
    write_jsonl(paths.predictions, [failed])
    session = open_session(store, PREDICTIONS)
    assert session.draft == {
        name: None if name == "race_strength" else "" if name == "reasoning" else False for name in store.schema.names
    }
    with pytest.raises(ReviewError, match="Race strength, Reasoning"):
        session.approve()
    session.cycle("race_strength")
    session.set_value("reasoning", "  ")
    with pytest.raises(ReviewError, match="fill in Reasoning"):
        session.approve()
    assert not paths.gold.exists()
    session.set_value("reasoning", "No label came back; judged from the comment.")
    session.approve()
    (gold,) = read_jsonl(paths.gold)
    assert gold["race_strength"] == "strong"
    assert gold["proposed"] == {}
    assert gold["changed"] == list(store.schema.names)  # nothing was proposed, so the reviewer set every field


def test_undo_removes_the_line_and_returns_to_the_item_with_its_values(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.approve()
    session.toggle("better_than_show")
    session.approve()
    assert len(read_jsonl(paths.gold)) == 2
    session.undo()
    assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [item_text(0)]
    assert session.position == 1
    assert session.draft["better_than_show"] is True
    assert session.approved == 1
    assert session.pending == 4
    session.undo()
    assert read_jsonl(paths.gold) == []
    with pytest.raises(ReviewError, match="nothing to undo"):
        session.undo()


def test_undo_of_a_reapproval_restores_the_earlier_gold(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 2)
    write_jsonl(paths.gold, [{"formatted_input": item_text(0)} | label(in_form=True)])
    session = open_session(store, checkpoint=Checkpoint(0, filter="in gold"))
    session.toggle("in_form")
    with pytest.raises(ConfirmApproval):
        session.approve()
    session.approve()
    session.undo()
    assert store.gold().by_input[item_text(0)].label["in_form"] is True
    assert session.gold_item is not None and session.gold_item.label["in_form"] is True


def test_edits_survive_moving_back_but_skip_drops_them(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.toggle("in_form")
    assert session.next() and session.previous()
    assert session.draft["in_form"] is True
    session.skip()
    session.previous()
    assert session.draft["in_form"] is False
    assert not session.previous()
    assert session.position == 0


def test_filters_visit_only_matching_items(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 4)
    write_jsonl(
        paths.gold,
        [
            {"formatted_input": item_text(1)} | label(),
            {"formatted_input": item_text(2)} | label(race_strength="weak", reasoning="other words"),
        ],
    )
    session = open_session(store)
    assert session.set_filter(Filter.IN_GOLD) == 2
    assert session.position == 1
    assert session.next() and session.position == 2
    assert not session.next()
    assert session.cycle_filter() == 1  # disagrees with gold: item 2 only, reasoning does not count
    assert session.position == 2
    assert session.set_filter(Filter.NOT_IN_GOLD) == 2
    assert session.position == 3
    assert session.previous() and session.position == 0
    session.set_filter(Filter.ALL)
    session.position = 3
    assert session.next_not_in_gold() and session.position == 0
    session.approve()
    session.position = 3
    assert not session.next_not_in_gold()


def test_tabs_sharing_gold_keep_each_others_counts_right(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 3)
    write_jsonl(paths.predictions, [{"formatted_input": item_text(n)} | label() for n in range(2)])
    book = GoldBook.load(store)
    teacher, predictions = open_session(store, TEACHER, book=book), open_session(store, PREDICTIONS, book=book)
    teacher.approve()
    assert predictions.pending == 1 and teacher.pending == 2
    assert predictions.gold_item is not None


@pytest.mark.parametrize(
    ("checkpoint", "expected"),
    [
        (None, 1),  # the first item not yet in gold
        (Checkpoint(3), 3),  # the old dashboard's bare integer
        (Checkpoint(0), 1),  # in gold: on to the first item after it that is not
        (Checkpoint(40), 4),  # past the end: the last item
        (Checkpoint(0, item_text(2)), 2),  # identity wins over the index
        (Checkpoint(2, "an item no longer in the file"), 1),  # gone: first item not yet in gold
        (Checkpoint(0, item_text(0), "in gold"), 0),  # reviewing gold: the saved item itself
    ],
)
def test_resume(store: Store, paths: DataPaths, checkpoint: Checkpoint | None, expected: int) -> None:
    teacher_file(paths)
    write_jsonl(paths.gold, [{"formatted_input": item_text(0)} | label()])
    assert open_session(store, checkpoint=checkpoint).position == expected


def test_resume_survives_a_new_batch_and_checkpoints_round_trip(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    session = open_session(store)
    session.next()
    session.next()
    store.write_checkpoint("gemini", session.checkpoint())
    records = read_jsonl(paths.labeled)
    write_jsonl(paths.labeled, [{"formatted_input": "Won | [HORSE]: a brand new item"} | label(), *records])
    resumed = open_session(store, checkpoint=store.read_checkpoint("gemini"))
    assert resumed.position == 3
    assert resumed.current.formatted_input == item_text(2)


def test_session_becomes_ready_only_when_the_resume_target_arrives(store: Store, paths: DataPaths) -> None:
    teacher_file(paths)
    items = store.labeled(keep=True).items
    session = ReviewSession(store, TEACHER, GoldBook.load(store), "ann", Checkpoint(0, item_text(3)))
    assert not session.extend(items[:2]) and session.checkpoint() is None
    assert session.extend(items[2:])
    assert session.position == 3 and session.checkpoint() == Checkpoint(3, item_text(3), "all")
    assert not session.finish_loading()


def test_empty_source_is_ready_and_empty(store: Store) -> None:
    session = open_session(store)
    assert session.ready and session.empty
    assert session.counter_text() == "no items"
    assert session.checkpoint() is None


def test_two_reviewers_on_one_folder_keep_each_others_approvals(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 3)
    ann = open_session(store)
    bob = ReviewSession(store, TEACHER, GoldBook.load(store), "bob")
    bob.extend(store.labeled(keep=True).items)
    bob.finish_loading()
    bob.next()
    ann.approve()
    bob.approve()
    ann.undo()
    assert [(r["formatted_input"], r["reviewer"]) for r in read_jsonl(paths.gold)] == [(item_text(1), "bob")]


def prediction(n: int, confidence: dict[str, Any] | None) -> dict[str, Any]:
    return {"formatted_input": item_text(n)} | label() | {"model": "flat-hcap", "confidence": confidence}


def confident(lowest: float, field: str = "race_strength") -> dict[str, float]:
    """A confidence per signal, every one certain except `field` (so the item's confidence is `lowest`)."""
    signals = ["in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength"]
    return {name: lowest if name == field else 1.0 for name in signals}


@pytest.fixture
def uncertain_file(paths: DataPaths) -> None:
    """Five predictions; least confident first they are 3 (0.31), 1 (0.55), 0 (0.8), then 2 and 4 without one."""
    failed = {"formatted_input": item_text(4), "status": "failed", "error": "not JSON", "raw": "{", "model": "m"}
    write_jsonl(
        paths.predictions,
        [
            prediction(0, confident(0.8)),
            prediction(1, confident(0.55, "in_form")),
            prediction(2, None),
            prediction(3, confident(0.31, "worse_than_show")),
            failed,
        ],
    )


def visit_all(session: ReviewSession) -> list[int]:
    session.first()
    visited = [session.position]
    while session.next():
        visited.append(session.position)
    return visited


def test_ordering_by_confidence_visits_least_confident_first_and_keeps_the_current_item(
    store: Store, uncertain_file: None
) -> None:
    session = open_session(store, PREDICTIONS)
    assert session.order.has_confidence and session.confidence == 0.8
    assert session.toggle_order() == "ordered least confident first"
    assert session.position == 0  # still on the item that was on screen, now third in the order
    assert session.counter_text().startswith("3/5 ·")
    assert visit_all(session) == [3, 1, 0, 2, 4]
    assert session.confidence is None  # the failed prediction, last
    assert session.toggle_order() == "back in file order"
    assert session.position == 4 and session.counter_text().startswith("5/5 ·")
    assert visit_all(session) == [0, 1, 2, 3, 4]


def test_item_confidence_is_the_product_of_its_signals_and_ignores_anything_else(
    store: Store, paths: DataPaths
) -> None:
    odd = {"in_form": 0.7, "race_strength": "high", "reasoning": 0.01, "out_of_form": True, "someone_else": 0.02}
    both = {"in_form": 0.9, "better_than_show": 0.5, "race_strength": 0.8}
    write_jsonl(paths.predictions, [prediction(0, odd), prediction(1, {"reasoning": 0.1}), prediction(2, [0.5]),
                                    prediction(3, both)])
    session = open_session(store, PREDICTIONS)
    assert [session.order.confidence(index) for index in range(3)] == [0.7, None, None]
    assert session.order.confidence(3) == pytest.approx(0.9 * 0.5 * 0.8)


def test_confidence_order_with_a_filter_approve_and_undo(store: Store, paths: DataPaths, uncertain_file: None) -> None:
    write_jsonl(paths.gold, [{"formatted_input": item_text(1)} | label()])
    session = open_session(store, PREDICTIONS)
    session.toggle_order()
    assert session.set_filter(Filter.NOT_IN_GOLD) == 4
    assert visit_all(session) == [3, 0, 2, 4]
    session.first()
    session.approve()  # item 3 goes to gold; the next least confident not in gold is item 0
    assert session.position == 0
    assert read_jsonl(paths.gold)[-1]["formatted_input"] == item_text(3)
    # checkpoints keep the file's index, the filter and the order
    assert session.checkpoint() == Checkpoint(0, item_text(0), "not in gold", by_confidence=True)
    session.undo()
    assert session.position == 3 and session.counter_text().startswith("1/4 ·")  # counted within the filter


def test_items_arriving_while_ordered_take_their_place(store: Store, uncertain_file: None) -> None:
    items = store.predictions(keep=True).items
    session = ReviewSession(store, PREDICTIONS, GoldBook.load(store), "ann")
    session.extend(items[:3])
    session.toggle_order()
    assert visit_all(session) == [1, 0, 2]
    session.extend(items[3:])
    session.finish_loading()
    assert visit_all(session) == [3, 1, 0, 2, 4]


def test_predictions_without_confidences_cannot_be_ordered(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.predictions, [prediction(0, None), prediction(1, None)])
    session = open_session(store, PREDICTIONS)
    assert not session.order.has_confidence
    with pytest.raises(ReviewError, match="recorded no confidence"):
        session.toggle_order()
    assert visit_all(session) == [0, 1] and not session.triage.due


def test_undo_across_tabs_leaves_what_the_file_holds(store: Store, paths: DataPaths) -> None:
    text = item_text(0)
    write_jsonl(paths.labeled, [{"formatted_input": text} | label()])
    write_jsonl(paths.predictions, [{"formatted_input": text} | label(in_form=True) | {"model": "m"}])
    book = GoldBook.load(store)
    gemini, predictions = open_session(store, book=book), open_session(store, PREDICTIONS, book=book)
    gemini.approve()
    predictions.toggle("in_form")  # its draft starts from gemini's gold
    with pytest.raises(ConfirmApproval):
        predictions.approve()
    predictions.approve()
    gemini.undo()  # not the last line any more: gold is rewritten without it
    assert gemini.gold_item is not None and gemini.gold_item.label["in_form"] is True
    predictions.undo()
    assert read_jsonl(paths.gold) == []
    assert gemini.gold_item is None and predictions.gold_item is None


def test_undo_after_compaction_is_refused_and_keeps_gold(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 2)
    session = open_session(store)
    session.approve()
    store.compact_gold()  # keeps the approval's line byte for byte, in a new file
    with pytest.raises(ReviewError, match="rewritten since .compaction.*: undo is no longer possible"):
        session.undo()
    assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [item_text(0)]
    assert session.gold.get(item_text(0)) is not None


def test_gold_item_finds_the_last_valid_line_for_a_key(store: Store, paths: DataPaths) -> None:
    text = "Won | [HORSE]: Made all, \u00e9lan and \"quotes\""
    ascii_line = json.dumps({"formatted_input": text} | label(in_form=True), ensure_ascii=True)
    write_jsonl(paths.gold, [{"formatted_input": text} | label()])
    with paths.gold.open("a", encoding="utf-8") as handle:
        handle.write(ascii_line + "\n")
        handle.write(json.dumps({"formatted_input": "other", "reasoning": text}) + "\n")  # mentions it, not its line
        handle.write(json.dumps({"formatted_input": text, "in_form": "yes"}) + "\n")  # not a valid label
    found = store.gold_item(text)
    assert found is not None and found.label["in_form"] is True
    assert store.gold_item("absent") is None


def test_an_approval_by_another_reviewer_since_shown_is_not_overwritten(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 3)
    ann = open_session(store)
    bob = open_session(store)
    bob.toggle("in_form")
    bob.approve()
    ann.toggle("out_of_form")
    with pytest.raises(GoldChanged, match=r"another reviewer approved this item at .* \(ann\): press Enter again"):
        ann.approve()  # both sessions are "ann" here: the other one approved first
    assert len(read_jsonl(paths.gold)) == 1
    assert ann.position == 0 and ann.gold_item is not None and ann.gold_item.label["in_form"] is True
    assert ann.draft["out_of_form"] is True and ann.draft["in_form"] is False  # the draft is kept
    ann.approve()  # the second Enter replaces it
    assert [r["out_of_form"] for r in read_jsonl(paths.gold)] == [False, True]
    assert ann.position == 1


def test_approvals_elsewhere_are_caught_up_before_approving(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 3)
    ann, bob = open_session(store), open_session(store)
    bob.next()
    bob.approve()
    ann.approve()  # a different item: no conflict, and bob's approval is now known to ann
    assert ann.gold.get(item_text(1)) is not None
    assert ann.pending == 1


def test_gold_rewritten_elsewhere_is_read_again_in_full_before_approving(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 2)
    write_jsonl(paths.gold, [{"formatted_input": item_text(1)} | label()] * 2)
    session = open_session(store)
    store.compact_gold()  # a new file: the session's view of gold no longer lines up with it
    session.approve()
    assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [item_text(1), item_text(0)]
    assert session.gold.get(item_text(1)) is not None and session.gold.get(item_text(0)) is not None
    session.undo()  # and the approval's receipt points into the new file
    assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [item_text(1)]


def test_teacher_values_of_a_disputed_prediction_keep_only_schema_fields(store: Store, paths: DataPaths) -> None:
    disputed = {"disagrees_with_teacher": ["in_form"], "teacher_values": {"in_form": True, "mood": "grumpy"}}
    records = [{"formatted_input": item_text(0)} | label() | disputed, {"formatted_input": item_text(1)} | label()]
    records.append({"formatted_input": item_text(2), "teacher_values": "in_form"} | label())  # edited by hand
    write_jsonl(paths.predictions, records)
    session = open_session(store, PREDICTIONS)
    assert session.teacher == {"in_form": True}
    assert session.next() and session.teacher == {}
    assert session.next() and session.teacher == {}


@pytest.mark.parametrize(
    ("filter_", "count", "words"),
    [
        (Filter.ALL, 200, "200 items, no filter"),
        (Filter.NOT_IN_GOLD, 1, "1 item not in gold"),
        (Filter.DISAGREES, 1, "1 item disagrees with gold"),
        (Filter.DISAGREES, 2, "2 items disagree with gold"),
    ],
)
def test_the_filter_announces_its_matches_in_plain_words(filter_: Filter, count: int, words: str) -> None:
    assert f"{count} {filter_.counted(count)}" == words
