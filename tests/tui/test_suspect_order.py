"""The teacher's tab most suspect first, at 80x24: `o` ranks in a worker while every key keeps working.

The student is replaced by a ranking made by hand (held back until the test lets it go, so what the screen shows
while it runs can be checked), except in the last test, which ranks a real folder and needs scikit-learn.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError
from hcap_tui.review import suspects
from hcap_tui.review.suspects import SuspectRanking
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Checkpoint, Store
from hcap_tui.triage import TriageStopped
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.widgets import suspect_ranker
from tui.helpers import ITEMS, hand_ranking, pane, press, read_jsonl, record_notes, settle, shown, status

SIZE = (80, 24)
class Student:
    """Stands in for the student: ranks only once `release` is set, and notes whether it was told to stop."""

    def __init__(self, *, released: bool = False, error: Exception | None = None) -> None:
        self.release = threading.Event()
        if released:
            self.release.set()
        self.error = error
        self.stopped = threading.Event()
        self.calls = 0

    def __call__(self, store: Store, items_seen: int, stop: Callable[[], bool]) -> SuspectRanking:
        self.calls += 1
        while not self.release.wait(0.01):
            if stop():
                self.stopped.set()
                raise TriageStopped("stopped")
        if self.error is not None:
            raise self.error
        return hand_ranking(items_seen)


@pytest.fixture
def student(monkeypatch: pytest.MonkeyPatch) -> Student:
    """The student, held back until released; scikit-learn counts as installed (the ranking is made by hand)."""
    made = Student()
    monkeypatch.setattr(suspect_ranker, "rank_for_review", made)
    monkeypatch.setattr(suspects, "available", lambda: True)
    return made


async def until(pilot: Pilot, done: Callable[[], bool]) -> None:
    """Let the app run until `done` holds (without waiting for the ranking worker, which may be held back)."""
    for _ in range(400):
        await pilot.pause(0.01)
        if done():
            return
    raise AssertionError("the screen never got there")


async def start_ranking(pilot: Pilot) -> None:
    """Open the app's first item, press `o`, and wait until the status line says it is ranking."""
    await settle(pilot)
    await pilot.press("o")
    await until(pilot, lambda: "ranking…" in status(pilot))


def suspect_text(pilot: Pilot) -> str | None:
    """The item's suspect line, or None while it is hidden."""
    line = pane(pilot).query_one("#suspect", Static)
    return str(line.render()) if line.has_class("-shown") else None


async def test_o_ranks_in_a_worker_while_keys_work_then_visits_most_suspect_first(
    make_app: Callable[[], ReviewApp], paths: DataPaths, student: Student
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_ranking(pilot)
        assert "ranking the labels (o: call off)" in status(pilot)
        await pilot.press("n")  # keys keep working while it ranks: still file order
        await until(pilot, lambda: shown(pilot, "#result-line").startswith("Won"))
        assert status(pilot).startswith("2/4 ·") and suspect_text(pilot) is None
        student.release.set()
        await until(pilot, lambda: "suspect first" in shown(pilot, "#status-counters"))
        line = status(pilot)
        assert line.startswith("3/4 suspect first ·")  # the item on screen stays, third most suspect
        assert "most suspect first: 4 ranked" in line and "ranking…" not in line
        assert suspect_text(pilot) == "suspect 40%: the student agrees with every signal, only less sure"
        await press(pilot, "home")
        assert shown(pilot, "#result-line", "gemini").startswith("10th of 16, well beaten")
        assert suspect_text(pilot) == "suspect 90%: Out of form (student: true, 91%)"
        await press(pilot, "enter")  # approved; on to the next most suspect not in gold
        assert read_jsonl(paths.gold)[-1]["formatted_input"] == ITEMS[3]
        assert shown(pilot, "#result-line").startswith("3rd of 12") and status(pilot).startswith("2/4 suspect first")
        assert suspect_text(pilot) == (
            "suspect 74%: Race strength (student: average, 58%) · Better than show (student: false, 52%)"
        )
        await press(pilot, "u")  # undo comes back to the item, in the same order
        assert read_jsonl(paths.gold) == []
        assert shown(pilot, "#result-line").startswith("10th of 16") and status(pilot).startswith("1/4 suspect first")
        await press(pilot, "f")  # not in gold: counted within the filter, in the same order
        assert status(pilot).startswith("1/4 not in gold suspect first")
        await press(pilot, "q")
    state = json.loads(paths.review_state("gemini").read_text(encoding="utf-8"))
    assert (state["formatted_input"], state["by_suspicion"], state["by_confidence"]) == (ITEMS[3], True, False)
    assert student.calls == 1


async def test_a_second_o_calls_the_ranking_off_and_stops_it(
    make_app: Callable[[], ReviewApp], paths: DataPaths, student: Student
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start_ranking(pilot)
        await pilot.press("o")
        await until(pilot, student.stopped.is_set)  # the worker was told to stop, and did
        await settle(pilot)
        line = status(pilot)
        assert line.startswith("1/4 ·") and "ranking called off: still in file order" in line
        assert "ranking…" not in line and suspect_text(pilot) is None
        await press(pilot, "n")
        assert shown(pilot, "#result-line").startswith("Won") and status(pilot).startswith("2/4 ·")
        await press(pilot, "q")
    state = json.loads(paths.review_state("gemini").read_text(encoding="utf-8"))
    assert state["by_suspicion"] is False


async def test_back_to_file_order_and_forth_reuses_the_ranking(
    make_app: Callable[[], ReviewApp], student: Student
) -> None:
    student.release.set()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "o")
        assert status(pilot).startswith("2/4 suspect first")
        await press(pilot, "o")
        assert status(pilot).startswith("1/4 ·") and "back in file order" in status(pilot)
        assert suspect_text(pilot) is None
        await press(pilot, "o")
        assert status(pilot).startswith("2/4 suspect first") and "most suspect first" in status(pilot)
    assert student.calls == 1


async def test_a_saved_suspect_order_is_ranked_again_on_opening(
    make_app: Callable[[], ReviewApp], paths: DataPaths, schema: LabelSchema, student: Student
) -> None:
    student.release.set()
    Store(paths, schema).write_checkpoint("gemini", Checkpoint(1, ITEMS[1], by_suspicion=True))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown(pilot, "#result-line").startswith("Won")
        assert status(pilot).startswith("3/4 suspect first")
        assert suspect_text(pilot) is not None
    assert student.calls == 1


async def test_a_ranking_that_fails_says_why_in_one_line_and_leaves_file_order(
    make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    why = "triage needs at least 10 labelled items for 5 folds, found 4: label more with `hcap label`"
    monkeypatch.setattr(suspect_ranker, "rank_for_review", Student(released=True, error=DataError(why)))
    monkeypatch.setattr(suspects, "available", lambda: True)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app, monkeypatch)
        await settle(pilot)
        await press(pilot, "o")
        assert notes == [f"cannot order most suspect first: {why}"]
        assert status(pilot).startswith("1/4 ·") and "not ordered" in status(pilot)
        await press(pilot, "n")
        assert shown(pilot, "#result-line").startswith("Won")


async def test_without_scikit_learn_o_says_how_to_install_it(
    make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    student = Student(released=True)
    monkeypatch.setattr(suspect_ranker, "rank_for_review", student)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # as if the triage extra were not installed
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        notes = record_notes(app, monkeypatch)
        await settle(pilot)
        await press(pilot, "o")
        (note,) = notes
        assert "\n" not in note and "needs scikit-learn" in note and "python3 -m pip install -e '.[triage]'" in note
        assert "not ordered" in status(pilot)
        await press(pilot, "n", "1")  # nothing broke
        assert shown(pilot, "#result-line").startswith("Won")
    assert student.calls == 0


async def test_the_predictions_tab_still_orders_by_confidence_only(
    make_app: Callable[[], ReviewApp], student: Student
) -> None:
    """Predictions without confidences: `o` does nothing there (and never ranks the teacher's labels)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t", "o")
        assert "suspect" not in status(pilot, "predictions") and "ranking" not in status(pilot, "predictions")
    assert student.calls == 0


async def test_a_real_ranking_orders_the_teacher_tab(
    make_app: Callable[..., ReviewApp], tmp_path: Path, schema: LabelSchema
) -> None:
    pytest.importorskip("sklearn", reason="the triage extra (scikit-learn) is not installed")
    from triage_data import build

    folder_dir = tmp_path / "ranked"
    folder_dir.mkdir()
    folder = build(folder_dir, schema, items=60, error_rate=0.2, seed=2)
    app = make_app(folder_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "o")  # settle waits for the worker
        assert "suspect first" in shown(pilot, "#status-counters")
        assert "most suspect first: 60 ranked" in status(pilot)
        await press(pilot, "home")
        session = pane(pilot).session
        assert session is not None and session.suspect_note is not None
        assert suspect_text(pilot) == session.suspect_note and session.suspect_note.startswith("suspect ")
        top = session.order.ranking.verdicts[session.current.formatted_input]  # type: ignore[union-attr]
        assert top.score == max(v.score for v in session.order.ranking.verdicts.values())  # type: ignore[union-attr]
        assert len(folder.teacher) == 60

