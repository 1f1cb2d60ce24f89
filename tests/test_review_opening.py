"""Gold opened in two steps: which inputs it holds first (a fast scan), every label later, and what a review can
and cannot do in between."""

from __future__ import annotations

import json

import pytest
from testdata import label, read_jsonl, write_jsonl

from hcap_tui.config import DataPaths
from hcap_tui.review.errors import ConfirmApproval, ReviewError
from hcap_tui.review.navigation import Filter
from hcap_tui.review.reader import Chunk, Started, Waiting, read_source
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import TEACHER, GoldBook
from hcap_tui.schema import LabelSchema
from hcap_tui.store import ON_DISK, LabeledItem, Store


def item_text(n: int) -> str:
    return f"{n + 2}th of 14, well beaten | [RACE]: Modest affair number {n} | [HORSE]: Item {n} never travelling"


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def gold_line(n: int, reviewer: str = "bob", **values: object) -> dict[str, object]:
    return {"formatted_input": item_text(n)} | label(**values) | {"reviewer": reviewer, "reviewed_at": "2025-05-01"}


def opened_session(store: Store) -> tuple[GoldBook, ReviewSession]:
    """A teacher tab read in full against a gold book that has only been opened (its labels not yet read)."""
    book = GoldBook.opening(store)
    session = ReviewSession(store, TEACHER, book, "ann")
    for event in read_source(store, TEACHER, book):
        if isinstance(event, Started):
            session.expect_waiting(event.waiting)
        elif isinstance(event, Chunk):
            session.extend(event.items)
    session.finish_loading()
    return book, session


def test_opening_knows_which_inputs_are_in_gold_and_reads_an_entry_from_its_line(
    store: Store, paths: DataPaths
) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(5)])
    write_jsonl(paths.gold, [gold_line(0), gold_line(2, reviewer="cy", in_form=True), gold_line(2, in_form=False)])
    book, session = opened_session(store)
    assert not book.complete
    assert session.current.formatted_input == item_text(1)  # the first item not in gold, known without the labels
    assert session.counter_text() == "2/5 · 0 approved · 3 not in gold"
    entry = book.get(item_text(2))
    assert entry is not None and entry.label == label(in_form=False)  # the last line for the input wins
    assert entry.record["reviewer"] == "bob"
    assert book.get(item_text(1)) is None
    assert session.set_filter(Filter.IN_GOLD) == 2
    assert session.set_filter(Filter.DISAGREES) is None  # needs every gold label: still counting
    assert session.counter_text().startswith("counting… · ")


def test_approving_before_gold_is_complete_is_refused_then_checked_against_all_of_it(
    store: Store, paths: DataPaths
) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(3)])
    write_jsonl(paths.gold, [gold_line(0, out_of_form=True)])
    book, session = opened_session(store)
    session.first()
    with pytest.raises(ReviewError, match="gold is still being read"):
        session.request_approval()
    assert len(read_jsonl(paths.gold)) == 1
    book.complete_with(GoldBook.read_all(store, book.inputs))
    assert book.complete
    with pytest.raises(ConfirmApproval, match="Replaces the gold approval by bob"):
        session.request_approval()
    assert session.filter_count == 3 and session.set_filter(Filter.DISAGREES) == 1
    assert session.counter_text() == "1/1 · 0 approved · 2 not in gold"


def test_changes_made_while_opening_stay_on_top_of_the_full_read(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.gold, [gold_line(0), gold_line(1)])
    book = GoldBook.opening(store)
    version = book.version
    book.put(item_text(0), None)  # an undo elsewhere took it out
    newer = LabeledItem(item_text(1), label(in_form=True), {"reviewer": "ann"})
    book.put(item_text(1), newer)
    book.put(item_text(2), LabeledItem(item_text(2), label(), {"reviewer": "ann"}))
    assert item_text(0) not in book and item_text(2) in book
    book.complete_with(GoldBook.read_all(store, book.inputs))
    assert book.version > version
    assert item_text(0) not in book
    assert book.get(item_text(1)) is newer
    assert item_text(2) in book


def test_a_tab_resumes_at_once_when_no_line_still_to_read_waits_for_review(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(6)])
    write_jsonl(paths.gold, [gold_line(n) for n in range(6)])
    book = GoldBook.opening(store)
    session = ReviewSession(store, TEACHER, book, "ann")
    session.expect_waiting(Waiting(0, book.version))  # every line of the source is in gold
    assert session.extend(store.read(paths.labeled, keep=True).items[:2]) is True  # ready with two of six items read
    assert session.loading and session.current.formatted_input == item_text(0)

    later = ReviewSession(store, TEACHER, book, "ann")
    later.expect_waiting(Waiting(5, book.version))  # line 5 may hold an item not in gold, no later line can
    items = store.read(paths.labeled, keep=True).items
    assert later.extend(items[:2]) is False
    book.put(item_text(4), None)  # gold changed since the reader looked: its word no longer counts
    assert later.extend(items[2:4]) is False
    assert later.extend(items[4:]) is True
    assert later.current.formatted_input == item_text(4)


def test_reader_finds_the_last_line_not_in_gold(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(4)])
    write_jsonl(paths.gold, [gold_line(1), gold_line(2)])
    book = GoldBook.opening(store)
    (started,) = [event for event in read_source(store, TEACHER, book) if isinstance(event, Started)]
    assert started.waiting == Waiting(4, book.version)
    write_jsonl(paths.gold, [gold_line(n) for n in range(4)])
    book = GoldBook.opening(store)
    (started,) = [event for event in read_source(store, TEACHER, book) if isinstance(event, Started)]
    assert started.waiting == Waiting(0, book.version)


def test_gold_keys_read_every_shape_and_stop_at_a_torn_line(store: Store, paths: DataPaths) -> None:
    quoted = 'Won | [HORSE]: "Made all", kept on\tgamely'
    lines = [
        json.dumps({"formatted_input": quoted} | label()),  # escapes in the input: parsed the slow way
        json.dumps(label() | {"formatted_input": item_text(1)}),  # another key order
        json.dumps({"prompt": item_text(2), "completion": json.dumps(label())}),  # the older shape
        "",
        "not json",
        json.dumps({"formatted_input": item_text(3)} | label()),
    ]
    content = "\ufeff" + "\n".join(lines) + "\n" + '{"formatted_input": "torn'
    paths.gold.write_text(content, encoding="utf-8")
    keys = store.gold_keys()
    assert set(keys.offsets) == {quoted, item_text(1), item_text(2), item_text(3)}
    assert keys.mark is not None and keys.mark.size == len(content.encode()) - len('{"formatted_input": "torn')
    for key in keys.offsets:
        found = store.gold_at(key, keys.offsets[key], keys.mark)
        assert found is not None and found.formatted_input == key


def test_gold_at_finds_the_entry_again_once_gold_was_rewritten(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.gold, [gold_line(0), gold_line(1)])
    keys = store.gold_keys()
    paths.gold.unlink()
    write_jsonl(paths.gold, [gold_line(1, in_form=True)])  # compacted elsewhere: a new file, other offsets
    found = store.gold_at(item_text(1), keys.offsets[item_text(1)], keys.mark)
    assert found is not None and found.label == label(in_form=True)
    assert store.gold_at(item_text(0), keys.offsets[item_text(0)], keys.mark) is None


def test_a_tab_item_and_its_gold_entry_hold_one_input_and_no_reasoning(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item_text(n)} | label() for n in range(3)])
    write_jsonl(paths.gold, [gold_line(0), gold_line(1, in_form=True, reasoning="Edited by the reviewer.")])
    book, session = opened_session(store)
    book.complete_with(GoldBook.read_all(store, book.inputs))
    same, edited = session.items[0], session.items[1]
    for item in (same, edited):
        entry = book.get(item.formatted_input)
        assert entry is not None and entry.formatted_input is item.formatted_input
        assert entry.held_label["reasoning"] is ON_DISK and item.held_label["reasoning"] is ON_DISK  # type: ignore[index]
        assert item.label["reasoning"] == label()["reasoning"]  # type: ignore[index]  # read from its line
    assert book.get(same.formatted_input).label["reasoning"] == label()["reasoning"]  # type: ignore[union-attr]
    assert book.get(edited.formatted_input).label["reasoning"] == "Edited by the reviewer."  # type: ignore[union-attr]
    assert book.get(edited.formatted_input).label["in_form"] is True  # type: ignore[union-attr]
    assert edited.label["in_form"] is False  # type: ignore[index]
