"""ReviewSession without any UI: what approve, undo, navigation, filters and resume do on disk and in counters."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hcap_tui.config import DataPaths
from hcap_tui.review_session import GEMINI, PREDICTIONS, Filter, GoldBook, ReviewError, ReviewSession
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store


def label(**overrides: Any) -> dict[str, Any]:
    base = {
        "in_form": False,
        "out_of_form": False,
        "better_than_show": False,
        "worse_than_show": False,
        "race_strength": "average",
        "reasoning": "Nothing stands out.",
    }
    return base | overrides


def item_text(n: int) -> str:
    return f"{n + 2}th of 14, well beaten | [RACE]: Modest affair | [HORSE]: Item {n} never travelling"


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def open_session(store: Store, source=GEMINI, checkpoint: Checkpoint | None = None, book: GoldBook | None = None):
    session = ReviewSession(store, source, book if book is not None else GoldBook(store.gold()), "ann", checkpoint)
    session.extend(store.read(source.path(store.paths)).items)
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
    assert session.counter_text() == "2/5 · 1 approved this session · 4 not in gold"


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


def test_item_in_gold_shows_gold_values_and_reapproval_wins(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 2)
    write_jsonl(paths.gold, [{"formatted_input": item_text(0)} | label(in_form=True, race_strength="strong")])
    session = open_session(store)
    assert session.gold_item is not None
    assert session.draft["in_form"] is True and session.draft["race_strength"] == "strong"
    session.toggle("out_of_form")
    session.approve()
    assert len(read_jsonl(paths.gold)) == 2
    assert store.gold().by_input[item_text(0)].label == label(in_form=True, out_of_form=True, race_strength="strong")


def test_failed_prediction_needs_every_enum_before_approval(store: Store, paths: DataPaths) -> None:
    failed = {"formatted_input": item_text(0), "status": "failed", "error": "not valid JSON", "raw": "{", "model": "m"}
    write_jsonl(paths.predictions, [failed])
    session = open_session(store, PREDICTIONS)
    assert session.draft == {
        name: None if name == "race_strength" else "" if name == "reasoning" else False for name in store.schema.names
    }
    with pytest.raises(ReviewError, match="Race strength"):
        session.approve()
    assert not paths.gold.exists()
    session.cycle("race_strength")
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
    session = open_session(store)
    session.toggle("in_form")
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
    book = GoldBook(store.gold())
    teacher, predictions = open_session(store, GEMINI, book=book), open_session(store, PREDICTIONS, book=book)
    teacher.approve()
    assert predictions.pending == 1 and teacher.pending == 2
    assert predictions.gold_item is not None


@pytest.mark.parametrize(
    ("checkpoint", "expected"),
    [
        (None, 0),
        (Checkpoint(3), 3),  # the old dashboard's bare integer
        (Checkpoint(40), 4),  # past the end: the last item
        (Checkpoint(0, item_text(2)), 2),  # identity wins over the index
        (Checkpoint(2, "an item no longer in the file"), 1),  # gone: first item not yet in gold
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
    items = store.labeled().items
    session = ReviewSession(store, GEMINI, GoldBook(store.gold()), "ann", Checkpoint(0, item_text(3)))
    assert not session.extend(items[:2]) and session.checkpoint() is None
    assert session.extend(items[2:])
    assert session.position == 3 and session.checkpoint() == Checkpoint(3, item_text(3))
    assert not session.finish_loading()


def test_empty_source_is_ready_and_empty(store: Store) -> None:
    session = open_session(store)
    assert session.ready and session.empty
    assert session.counter_text() == "no items"
    assert session.checkpoint() is None


def test_two_reviewers_on_one_folder_keep_each_others_approvals(store: Store, paths: DataPaths) -> None:
    teacher_file(paths, 3)
    ann = open_session(store)
    bob = ReviewSession(store, GEMINI, GoldBook(store.gold()), "bob")
    bob.extend(store.labeled().items)
    bob.finish_loading()
    bob.next()
    ann.approve()
    bob.approve()
    ann.undo()
    assert [(r["formatted_input"], r["reviewer"]) for r in read_jsonl(paths.gold)] == [(item_text(1), "bob")]
