"""The teacher's tab most suspect first, without any UI: asking for a ranking, following it, resuming it.

Rankings are built by hand here (as `triage` would return them), so these run without scikit-learn; the last test
ranks a real folder with the student and is skipped when the `triage` extra is missing.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest
from test_review_session import item_text, open_session, teacher_file, visit_all
from testdata import label, read_jsonl, write_jsonl

from hcap_tui.config import DataPaths
from hcap_tui.review import suspects
from hcap_tui.review.errors import ReviewError
from hcap_tui.review.navigation import Filter
from hcap_tui.review.order import Order
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.suspects import SuspectRanking, rank_for_review, suspect_line
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store
from hcap_tui.triage import SignalDoubt, Suspect, TriageStopped


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def verdict(n: int, score: float, *doubts: tuple[str, Any, Any, float, float]) -> Suspect:
    """The student's verdict on item n: its score and (field, teacher, student, p_teacher, p_student) per signal."""
    return Suspect(item_text(n), n + 1, score, tuple(SignalDoubt(*d) for d in doubts), teacher=label())


OUT_OF_FORM = ("out_of_form", False, True, 0.09, 0.91)


def ranking(items_seen: int = 5) -> SuspectRanking:
    """Items 0-4 with item 1 in gold: not in gold most suspect first 3, 0, 2, 4; then item 1."""
    pending = [verdict(3, 0.9, OUT_OF_FORM), verdict(0, 0.5), verdict(2, 0.2), verdict(4, 0.1)]
    return SuspectRanking.of(pending, [verdict(1, 0.7)], items_seen)


@pytest.fixture
def teacher_files(paths: DataPaths) -> None:
    """Five teacher labels, item 1 in gold."""
    teacher_file(paths, 5)
    write_jsonl(paths.gold, [{"formatted_input": item_text(1)} | label()])


@pytest.fixture
def teacher_with_gold(teacher_files: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same, with scikit-learn counted as installed (the rankings are made by hand here)."""
    monkeypatch.setattr(suspects, "available", lambda: True)


def ranked(session: ReviewSession, made: SuspectRanking | None = None) -> None:
    """Press o, start the ranking and hand it in as the worker would."""
    assert session.toggle_order() == "ranking the labels (o: call off)"
    assert session.triage.due
    session.triage.begin()
    assert session.take_ranking(made or ranking())


def test_o_asks_for_a_ranking_and_the_order_follows_it_once_it_arrives(store: Store, teacher_with_gold: None) -> None:
    session = open_session(store)
    assert session.position == 0
    assert session.toggle_order() == "ranking the labels (o: call off)"
    assert session.triage.due and session.order.mode is Order.FILE  # file order until the ranking arrives
    assert session.checkpoint() == Checkpoint(0, item_text(0), "all", by_suspicion=True)
    session.triage.begin()
    assert not session.triage.due
    assert session.take_ranking(ranking())
    assert session.order.mode is Order.SUSPECT
    assert session.position == 0 and session.counter_text().startswith("2/5 ·")  # the item on screen stays
    assert visit_all(session) == [3, 0, 2, 4, 1]  # not in gold most suspect first, then gold's
    session.first()
    assert session.suspect_note == "suspect 90%: Out of form (student: true, 91%)"
    session.next()
    assert session.suspect_note == "suspect 50%: the student agrees with every signal, only less sure"
    assert session.toggle_order() == "back in file order"
    assert session.suspect_note is None and visit_all(session) == [0, 1, 2, 3, 4]


def test_approve_undo_and_the_filter_follow_the_suspect_order(
    store: Store, paths: DataPaths, teacher_with_gold: None
) -> None:
    session = open_session(store)
    ranked(session)
    assert session.set_filter(Filter.NOT_IN_GOLD) == 4
    assert visit_all(session) == [3, 0, 2, 4]
    session.first()
    session.approve()  # item 3 goes to gold; the next most suspect not in gold is item 0
    assert read_jsonl(paths.gold)[-1]["formatted_input"] == item_text(3)
    assert session.position == 0
    assert session.checkpoint() == Checkpoint(0, item_text(0), "not in gold", by_suspicion=True)
    assert session.set_filter(Filter.ALL) == 5
    assert visit_all(session) == [3, 0, 2, 4, 1]  # approving never reshuffles the order
    session.set_filter(Filter.NOT_IN_GOLD)
    session.undo()
    assert session.position == 3 and session.counter_text().startswith("1/4 ·")


def test_gold_another_reviewer_appends_is_skipped_by_enter_in_this_order(
    store: Store, paths: DataPaths, teacher_with_gold: None
) -> None:
    session = open_session(store)
    ranked(session)
    session.first()
    write_jsonl(paths.gold, [{"formatted_input": item_text(1)} | label(), {"formatted_input": item_text(0)} | label()])
    session.approve()  # reads gold's new line as it appends: item 0 is in gold now, so on to item 2
    assert session.position == 2


def test_a_second_o_while_ranking_calls_the_order_off_and_keeps_the_ranking(
    store: Store, teacher_with_gold: None
) -> None:
    session = open_session(store)
    session.toggle_order()
    session.triage.begin()
    assert session.toggle_order() == "ranking called off: still in file order"
    assert not session.triage.due and session.checkpoint() == Checkpoint(0, item_text(0), "all")
    assert not session.take_ranking(ranking())  # it still arrives, but the order stays
    assert session.order.mode is Order.FILE and visit_all(session) == [0, 1, 2, 3, 4]
    assert session.toggle_order() == "most suspect first"  # kept: at once, no second ranking
    assert not session.triage.due and visit_all(session) == [3, 0, 2, 4, 1]


def test_items_added_after_the_ranking_go_last_and_o_twice_ranks_again(
    store: Store, paths: DataPaths, teacher_with_gold: None
) -> None:
    session = open_session(store)
    ranked(session)
    teacher_file(paths, 6)  # `hcap label` added item 5
    session.extend(store.read(paths.labeled, keep=True).items[5:])
    assert visit_all(session) == [3, 0, 2, 4, 1, 5]
    assert session.suspect_note == "not ranked: added after the ranking was made (o twice ranks again)"
    session.toggle_order()
    assert session.toggle_order() == "ranking the labels (o: call off)" and session.triage.due


def test_a_failed_ranking_leaves_file_order(store: Store, teacher_with_gold: None) -> None:
    session = open_session(store)
    session.toggle_order()
    session.triage.begin()
    assert not session.take_ranking(None)
    assert session.order.mode is Order.FILE and not session.triage.wanted and not session.triage.running
    assert session.checkpoint() == Checkpoint(0, item_text(0), "all")


def test_a_saved_suspect_order_resumes_by_ranking_again(store: Store, teacher_with_gold: None) -> None:
    session = open_session(store, checkpoint=Checkpoint(2, item_text(2), by_suspicion=True))
    assert session.position == 2 and session.order.mode is Order.FILE
    assert session.triage.due and session.resume_note is None
    assert session.checkpoint() == Checkpoint(2, item_text(2), "all", by_suspicion=True)  # a quick quit keeps it
    session.triage.begin()
    assert session.take_ranking(ranking())
    assert session.position == 2 and visit_all(session) == [3, 0, 2, 4, 1]


def test_without_scikit_learn_o_says_how_to_install_it_and_a_saved_order_falls_back(
    store: Store, teacher_files: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if it were not installed
    session = open_session(store)
    with pytest.raises(ReviewError, match=r"needs scikit-learn, which is not installed: python3 -m pip install"):
        session.toggle_order()
    assert not session.triage.wanted and visit_all(session) == [0, 1, 2, 3, 4]
    resumed = open_session(store, checkpoint=Checkpoint(2, item_text(2), by_suspicion=True))
    assert resumed.resume_note is not None and resumed.resume_note.endswith("; showing file order")
    assert "'.[triage]'" in resumed.resume_note
    assert not resumed.triage.due and resumed.checkpoint() == Checkpoint(2, item_text(2), "all")


def test_the_suspect_line_follows_the_schema(data_dir, paths: DataPaths) -> None:
    schema = LabelSchema.from_dict(
        {
            "name": "two",
            "fields": [
                {"name": "positive_attitude", "type": "bool", "title": "Positive attitude"},
                {"name": "pace", "type": "enum", "values": ["fast", "slow"]},
                {"name": "reasoning", "type": "text"},
            ],
        }
    )
    suspect = Suspect(
        "Won | [HORSE]: x",
        1,
        0.874,
        (
            SignalDoubt("positive_attitude", True, False, 0.3, 0.7),
            SignalDoubt("pace", "slow", "fast", 0.09, 0.91),
        ),
        teacher={},
    )
    assert suspect_line(schema, suspect) == (
        "suspect 87%: Pace (student: fast, 91%) · Positive attitude (student: false, 70%)"  # most doubtful first
    )


def test_a_real_ranking_puts_pending_items_first_and_names_what_the_teacher_got_wrong(
    data_dir, paths: DataPaths, schema: LabelSchema
) -> None:
    pytest.importorskip("sklearn", reason="the triage extra (scikit-learn) is not installed")
    from triage_data import build

    folder = build(data_dir, schema, items=120, gold=20, error_rate=0.2, seed=5)
    store = Store(paths, schema)
    session = open_session(store)
    session.toggle_order()
    session.triage.begin()
    assert session.take_ranking(rank_for_review(store, len(session.items)))
    order = [session.items[i].formatted_input for i in visit_all(session)]
    in_gold = [text in folder.gold for text in order]
    assert in_gold == sorted(in_gold) and sum(in_gold) == 20  # every item not in gold comes before gold's
    session.first()
    top = session.items[session.position].formatted_input
    wrong = {name for name, value in folder.teacher[top].items() if folder.truth[top][name] != value}
    assert top in folder.errors and wrong
    assert all(schema.field(name).title in (session.suspect_note or "") for name in wrong)


def test_a_ranking_ends_at_its_next_step_once_told_to_stop(data_dir, paths: DataPaths, schema: LabelSchema) -> None:
    """What lets a second `o`, or quitting, leave a long ranking behind without waiting for it."""
    pytest.importorskip("sklearn", reason="the triage extra (scikit-learn) is not installed")
    from triage_data import build

    build(data_dir, schema, items=60, seed=5)
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 3  # three steps done, then stop

    with pytest.raises(TriageStopped):
        rank_for_review(Store(paths, schema), 60, stop=stop)
    assert len(asked) == 4
