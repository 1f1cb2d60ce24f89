"""The review core's plain parts, without a terminal: the sanitiser, the layout arithmetic, the held-key queue, the
checkpoint throttle, the approval writer (under one lock hold, and when the disk is full), race and contradiction
checks, and the two-file checkpoint the old dashboard still reads."""

from __future__ import annotations

import errno
import json
import multiprocessing
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from testdata import label, read_jsonl, write_jsonl

from hcap_tui import jsonl
from hcap_tui.config import DataPaths
from hcap_tui.input_parts import race_key, split_input
from hcap_tui.review.checks import approval_warnings, race_summary
from hcap_tui.review.errors import ConfirmApproval, GoldChanged, ReviewError, WriteFailed
from hcap_tui.review.held_keys import HeldKeys
from hcap_tui.review.reader import read_appended, read_source
from hcap_tui.review.session import ReviewSession
from hcap_tui.review.sources import PREDICTIONS, TEACHER, GoldBook
from hcap_tui.review.throttle import CheckpointThrottle
from hcap_tui.safe_text import safe
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, LabeledItem, Store, flat_record
from hcap_tui.tui.layout import allocate

RACE = "A competitive handicap run at a strong gallop"


def runner(n: int, race: str = RACE) -> str:
    """Runner n of one race: every runner of a race shares its race comment word for word."""
    return f"{n + 2}th of 14, well beaten | [RACE]: {race} | [HORSE]: Runner {n} kept on one pace"


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def open_session(store: Store, source=TEACHER, checkpoint: Checkpoint | None = None) -> ReviewSession:
    session = ReviewSession(store, source, GoldBook.load(store), "ann", checkpoint)
    session.extend(store.read(source.path(store.paths), keep=True).items)
    session.finish_loading()
    return session


# Text from files on a terminal


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Won \x1b]0;PWNED\x07easily", "Won easily"),  # OSC: sets the terminal's title
        ("see \x1b]8;;https://evil.example\x1b\\this link\x1b]8;;\x1b\\ now", "see this link now"),  # OSC 8
        ("\x1b[2J\x1b[31mred\x1b[0m alert", "red alert"),  # CSI: clears the screen, colours
        ("8-bit \x9b31mCSI and \x9d0;title\x9c OSC", "8-bit CSI and  OSC"),  # C1 forms
        ("bell\x07 nul\x00 del\x7f c1\x85 esc\x1b", "bell␇ nul␀ del␡ c1\ufffd esc␛"),  # stray controls, made visible
        ("tabs\tand\nnewlines\r\nstay", "tabs\tand\nnewlines\nstay"),
        ("\x1b]0;no terminator", "0;no terminator"),  # only the introducer goes: the rest is plain text
        ("plain text, untouched", "plain text, untouched"),
    ],
)
def test_safe_removes_escape_sequences_and_shows_control_characters(text: str, shown: str) -> None:
    assert safe(text) == shown
    assert not any(ord(c) < 32 and c not in "\t\n" or 0x7F <= ord(c) <= 0x9F for c in safe(text))


# Sharing rows among the parts of an item


def test_parts_get_what_they_need_when_everything_fits() -> None:
    assert allocate([1, 3, 5], 20, [3, 3, 3]) == [1, 3, 5]


def test_parts_share_rows_in_proportion_when_they_do_not_fit() -> None:
    rows = allocate([14, 7, 6], 16, [3, 3, 3])
    assert sum(rows) == 16 and rows[0] > rows[1] >= rows[2] >= 3
    assert allocate([40, 2], 10, [3, 3]) == [8, 2]  # a short part keeps all it needs


def test_a_tiny_room_is_dealt_out_evenly() -> None:
    assert allocate([10, 10, 10], 4, [3, 3, 3]) == [2, 1, 1]
    assert allocate([10, 10], 0, [3, 3]) == [0, 0]


# Keys typed while busy


def test_held_keys_replay_in_order_and_stop_when_busy_again() -> None:
    keys = HeldKeys()
    assert not keys.hold("toggle_field", ("in_form",))  # idle: the caller runs it now
    keys.start("approve")
    for key in (("toggle_field", ("in_form",)), ("approve", ()), ("next", ())):
        assert keys.hold(*key)
    keys.finish()
    replayed = []
    for name, params in keys.replay():
        replayed.append((name, params))
        if name == "approve":
            keys.start("approve")  # the held Enter starts another write: the rest waits for it
    assert replayed == [("toggle_field", ("in_form",)), ("approve", ())] and len(keys) == 1
    keys.finish()
    assert list(keys.replay()) == [("next", ())]


# How often positions are written


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_checkpoint_throttle_writes_at_once_then_at_most_once_per_wait() -> None:
    clock = Clock()
    throttle = CheckpointThrottle(0.5, clock)
    assert throttle.moved() == 0.0  # the first move is written at once
    throttle.written()
    clock.now += 0.1
    assert throttle.moved() == pytest.approx(0.4)  # then a write is scheduled for when the wait is up...
    assert throttle.moved() is None and throttle.pending  # ...and later moves ride on it
    clock.now += 0.4
    throttle.written()
    clock.now += 0.6
    assert throttle.moved() == 0.0


def test_checkpoint_throttle_tells_a_failure_once_until_writing_works_again() -> None:
    throttle = CheckpointThrottle(0.5, Clock())
    assert throttle.failed("disk full")
    assert not throttle.failed("disk full")
    assert throttle.failed("permission denied")
    throttle.succeeded()
    assert throttle.failed("permission denied")


# Parts of an item, races, contradictions


def test_a_winner_takes_its_field_size_from_another_runner_first_or_last_in_the_file(
    store: Store, paths: DataPaths, schema: LabelSchema
) -> None:
    winner = f"Won | [RACE]: {RACE} | [HORSE]: Made all and kept on gamely"
    unreadable = f"PU | [RACE]: {RACE} | [HORSE]: Pulled up before the last furlong"
    write_jsonl(paths.labeled, [flat_record(schema, text, label()) for text in (winner, unreadable, runner(3))])
    session = open_session(store)
    assert session.current.formatted_input == winner and session.runners == 14
    session.last()
    assert session.runners == 14


def test_input_parts_and_field_size() -> None:
    parts = split_input(runner(1))
    assert (parts.result, parts.race, parts.runners) == ("3th of 14, well beaten", RACE, 14)
    assert split_input("Won | [HORSE]: Made all").runners is None
    assert race_key(runner(1)) == race_key(runner(5)) != race_key(runner(1, "Another race"))
    assert race_key("10th of 16 | [HORSE]: No race comment") is None


def test_warnings_show_gold_beside_the_new_values_contradictions_and_the_race(schema: LabelSchema) -> None:
    gold = LabeledItem("x", label(race_strength="weak"), {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00"}, 1)
    draft = label(in_form=True, out_of_form=True, race_strength="strong", reasoning="mine")
    others = {"race_strength": Counter({"average": 2})}
    assert approval_warnings(schema, draft, gold, others) == [
        "Replaces the gold approval by bob at 2025-05-01T10:00: In form ✗ → ✓ · Out of form ✗ → ✓ · "
        "Race strength weak → strong · Reasoning edited",
        "In form and Out of form are both set, and they contradict each other",
        "Race strength strong here, but average on 2 other runners of this race in gold",
    ]
    assert approval_warnings(schema, label(race_strength="average"), None, others) == []
    assert race_summary(schema, others) == {"race_strength": "race in gold: average ×2"}


def test_the_schema_declares_exclusive_pairs_and_race_fields(schema: LabelSchema) -> None:
    assert schema.exclusive == (("in_form", "out_of_form"), ("better_than_show", "worse_than_show"))
    assert [f.name for f in schema.race_fields] == ["race_strength"]
    fields = [{"name": "a", "type": "bool"}, {"name": "b", "type": "bool"}, {"name": "t", "type": "text"}]
    custom = LabelSchema.from_dict({"fields": fields, "exclusive": [["a", "b"]]})
    assert custom.contradictions({"a": True, "b": True, "t": ""}) == [("a", "b")]
    for bad in ([["a", "t"]], [["a", "a"]], [["a"]], "a,b"):
        with pytest.raises(Exception, match="exclusive"):
            LabelSchema.from_dict({"fields": fields, "exclusive": bad})
    with pytest.raises(Exception, match="scope"):
        LabelSchema.from_dict({"fields": [{"name": "t", "type": "text", "scope": "race"}]})


def test_race_strength_given_to_a_race_in_gold_follows_approvals_and_undos(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n)} | label(race_strength="average") for n in range(3)])
    write_jsonl(paths.gold, [{"formatted_input": runner(0)} | label(race_strength="strong")])
    session = open_session(store)
    assert session.position == 1 and session.race_others == {"race_strength": Counter({"strong": 1})}
    with pytest.raises(ConfirmApproval, match="Race strength average here, but strong on 1 other runner"):
        session.approve()
    session.set_value("race_strength", "strong")  # agreeing with the race needs no second Enter
    session.approve()
    assert session.position == 2 and session.race_others == {"race_strength": Counter({"strong": 2})}
    session.undo()
    assert session.gold.races.others(runner(2)) == {"race_strength": Counter({"strong": 1})}


def test_contradicting_signals_need_a_second_enter_and_nothing_else_does(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(3)])
    session = open_session(store)
    session.toggle("better_than_show")
    session.toggle("worse_than_show")
    with pytest.raises(ConfirmApproval, match="Better than show and Worse than show are both set"):
        session.approve()
    assert session.confirming is not None
    session.toggle("in_form")  # any change to the draft: the first Enter counts no more
    assert session.confirming is None
    with pytest.raises(ConfirmApproval):
        session.approve()
    session.approve()
    assert read_jsonl(paths.gold)[-1]["worse_than_show"] is True  # warned, never refused
    session.approve()  # the next item: nothing to warn about, one Enter
    assert len(read_jsonl(paths.gold)) == 2


def test_approving_moves_on_to_the_next_item_not_in_gold(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(5)])
    write_jsonl(paths.gold, [{"formatted_input": runner(n, f"race {n}")} | label() for n in (1, 2, 4)])
    session = open_session(store)
    assert session.position == 0
    session.approve()
    assert session.position == 3  # past the older gold of items 1 and 2
    session.approve()
    assert session.position == 4  # every item is in gold now: the next one
    assert session.counter_text() == "5/5 · 2 approved · 0 not in gold"


def test_teacher_approvals_keep_origin_gemini_and_record_the_teacher_model(store: Store, paths: DataPaths) -> None:
    provenance = {"teacher": "ollama", "model": "llama3.1:8b", "created_at": "2025-05-01T10:00:00+00:00"}
    write_jsonl(paths.labeled, [{"formatted_input": runner(0)} | label() | provenance])
    session = open_session(store)
    assert TEACHER.title_for(session.models) == "Teacher · llama3.1:8b"
    session.approve()
    (gold,) = read_jsonl(paths.gold)
    assert (gold["origin"], gold["teacher"], gold["model"]) == ("gemini", "ollama", "llama3.1:8b")
    assert TEACHER.title_for(Counter({"gemini-2.5-flash": 3, "qwen\x1b]0;x\x07": 1})) == "Teacher · gemini-2.5-flash +1"
    assert PREDICTIONS.title_for(Counter({"flat-hcap": 1})) == "Model Predictions"


def test_undo_with_nothing_to_undo_says_why(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(0)} | label()])
    with pytest.raises(ReviewError, match="nothing to undo in this tab: undo takes back approvals made since"):
        open_session(store).undo()


# Where a tab stopped: the old dashboard's bare index, and hcap's state beside it


def test_checkpoint_keeps_the_bare_integer_and_hcaps_state_beside_it(store: Store, paths: DataPaths) -> None:
    store.write_checkpoint("gemini", Checkpoint(7, "Won | [HORSE]: é", "not in gold", by_confidence=True))
    assert paths.checkpoint("gemini").read_text(encoding="utf-8") == "7\n"  # what the old dashboard parses
    state = json.loads(paths.review_state("gemini").read_text(encoding="utf-8"))
    assert state == {
        "index": 7, "formatted_input": "Won | [HORSE]: é", "filter": "not in gold", "by_confidence": True,
        "by_suspicion": False,
    }
    assert store.read_checkpoint("gemini") == Checkpoint(7, "Won | [HORSE]: é", "not in gold", True)


def test_an_index_moved_by_the_old_dashboard_wins_over_hcaps_item(store: Store, paths: DataPaths) -> None:
    store.write_checkpoint("gemini", Checkpoint(7, "an item", "in gold"))
    paths.checkpoint("gemini").write_text("175", encoding="utf-8")  # the user went back to the old dashboard
    assert store.read_checkpoint("gemini") == Checkpoint(175, None, "in gold")


def test_older_checkpoint_forms_still_resume(store: Store, paths: DataPaths) -> None:
    paths.checkpoint("gemini").write_text('{"index": 3, "formatted_input": "an item"}\n', encoding="utf-8")
    assert store.read_checkpoint("gemini") == Checkpoint(3, "an item")  # written by hcap before the state file
    paths.checkpoint("predictions").write_text("12", encoding="utf-8")
    assert store.read_checkpoint("predictions") == Checkpoint(12)


def test_an_unreadable_state_file_is_set_aside_and_the_index_still_counts(store: Store, paths: DataPaths) -> None:
    paths.checkpoint("gemini").write_text("4\n", encoding="utf-8")
    paths.review_state("gemini").write_text("{not json", encoding="utf-8")
    checkpoint = store.read_checkpoint("gemini")
    assert checkpoint == Checkpoint(4)
    assert checkpoint.problem and ".checkpoint-gemini.json is not a review position" in checkpoint.problem


def test_the_filter_and_order_are_remembered_per_tab(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(4)])
    write_jsonl(paths.gold, [{"formatted_input": runner(n, f"race {n}")} | label() for n in (1, 2)])
    session = open_session(store)
    session.set_filter(session.filter.__class__.IN_GOLD)
    session.next()
    store.write_checkpoint("gemini", session.checkpoint())
    resumed = open_session(store, checkpoint=store.read_checkpoint("gemini"))
    assert (resumed.filter.value, resumed.position) == ("in gold", 2)
    assert resumed.counter_text().startswith("2/2 ·")  # counted within the filter


# Reading lines appended while the review is open


def test_lines_appended_after_the_read_are_picked_up_once(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.predictions, [{"formatted_input": runner(0)} | label()], extra='{"formatted_input": "torn')
    events = list(read_source(store, PREDICTIONS))
    finished = events[-1]
    assert [item.formatted_input for e in events[1:-1] for item in e.items] == [runner(0)]
    assert [p.line for p in finished.problems] == [2]  # the torn last line is reported...
    with paths.predictions.open("a", encoding="utf-8") as handle:  # ...and a later writer starts a fresh line
        handle.write("\n" + json.dumps({"formatted_input": runner(1)} | label()) + "\n")
    tail = read_appended(store, PREDICTIONS, finished.mark)
    assert [item.formatted_input for item in tail.items] == [runner(1)] and tail.skipped == 1
    assert read_appended(store, PREDICTIONS, tail.mark).items == []
    paths.predictions.unlink()
    write_jsonl(paths.predictions, [{"formatted_input": runner(2)} | label()])
    assert read_appended(store, PREDICTIONS, tail.mark) is None  # replaced: read it again in full


# The approval writer: one lock hold, and a disk that says no


def test_an_approval_that_another_reviewer_beat_writes_nothing(store: Store, paths: DataPaths) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(0)} | label()])
    ann = open_session(store)
    plan = ann.request_approval()
    bob = {"reviewer": "bob", "reviewed_at": "2025-06-01T09:00:00+00:00", "origin": "gemini"}
    store.approve(flat_record(store.schema, runner(0), label(in_form=True), **bob))  # lands after ann's plan
    written = ann.writer.approve(plan)
    assert written.receipt is None and written.found is not None and written.found.record["reviewer"] == "bob"
    assert len(read_jsonl(paths.gold)) == 1
    with pytest.raises(GoldChanged, match=r"approved this item at 2025-06-01T09:00:00\+00:00 \(bob\)"):
        ann.finish_approval(written)
    assert ann.gold_item is not None and ann.confirming is not None  # bob's values on screen, Enter replaces them


def enospc(*args: Any) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_saves_nothing_keeps_the_edit_and_says_which_file(
    store: Store, paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(2)])
    write_jsonl(paths.gold, [{"formatted_input": "Won | [HORSE]: older gold"} | label()])
    before = paths.gold.read_bytes()
    session = open_session(store)
    session.toggle("in_form")
    monkeypatch.setattr(jsonl.os, "write", enospc)
    with pytest.raises(WriteFailed) as failure:
        session.approve()
    message = str(failure.value)
    assert message.startswith("not saved (your edit is kept): cannot write ") and "goldstandard.jsonl" in message
    assert "No space left on device" in message and "\n" not in message
    assert paths.gold.read_bytes() == before
    assert session.position == 0 and session.draft["in_form"] is True and not session.can_undo
    monkeypatch.undo()
    session.approve()  # space freed: the same Enter works
    assert read_jsonl(paths.gold)[-1]["in_form"] is True


def test_a_failed_undo_keeps_the_approval_to_undo_again(
    store: Store, paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(2)])
    session = open_session(store)
    session.approve()

    def broken(*args: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(Store, "undo", lambda self, receipt: broken())
    with pytest.raises(ReviewError, match="nothing undone: cannot write .*goldstandard.jsonl: Input/output error"):
        session.undo()
    assert session.can_undo and len(read_jsonl(paths.gold)) == 1
    monkeypatch.undo()
    session.undo()
    assert read_jsonl(paths.gold) == []


def review_concurrently(root: str, name: str, rounds: int, start: Any, log: str) -> None:
    """One reviewer process: approve the same two items over and over, each time writing what gold held for the item
    when the approval was decided (`seen`) beside the reasoning it approved."""
    store = Store(DataPaths(Path(root)), LabelSchema.default())
    session = open_session(store)
    start.wait()
    lines = []
    for n in range(rounds):
        session.position = n % 2
        if (tail := store.gold_since(session.gold.mark)) is not None:
            session.gold.take_in(tail)  # the screen shows what others approved so far
        mine = f"{name} {n}"
        session.set_value("reasoning", mine)
        for _ in range(3):
            try:
                gold = session.gold_item
                seen = gold.record["reasoning"] if gold is not None else None
                session.approve()
            except (ConfirmApproval, GoldChanged):
                continue  # the screen now shows why: the reviewer presses Enter again
            lines.append({"reasoning": mine, "seen": seen})
            break
    Path(log).write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")


def test_concurrent_reviewers_never_replace_an_approval_they_did_not_see(paths: DataPaths, tmp_path: Path) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": runner(n, f"race {n}")} | label() for n in range(2)])
    context = multiprocessing.get_context("fork")
    start = context.Barrier(4)
    logs = [tmp_path / f"reviewer-{i}.jsonl" for i in range(4)]
    reviewers = [
        context.Process(target=review_concurrently, args=(str(paths.root), f"r{i}", 60, start, str(log)))
        for i, log in enumerate(logs)
    ]
    for process in reviewers:
        process.start()
    for process in reviewers:
        process.join(120)
        assert process.exitcode == 0
    seen = {line["reasoning"]: line["seen"] for log in logs for line in read_jsonl(log)}
    last: dict[str, str | None] = {}
    replaced_unseen = []
    for line in read_jsonl(paths.gold):
        key = line["formatted_input"]
        if seen[line["reasoning"]] != last.get(key):
            replaced_unseen.append((line["reasoning"], last.get(key), seen[line["reasoning"]]))
        last[key] = line["reasoning"]
    assert len(seen) > 60  # the reviewers did get approvals through
    assert replaced_unseen == []
