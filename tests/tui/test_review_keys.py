"""The review app's keys as a reviewer types them over SSH, in bursts: the editor and Esc, Alt+key, tab switches,
keys typed while an approval is written, second Enters before replacing gold, and disks that refuse to write."""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from typing import Any

import pytest
from textual.widgets import Checkbox, Static, TabbedContent, TextArea

from hcap_tui import jsonl
from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError
from hcap_tui.review.writer import GoldWriter
from hcap_tui.store import Store
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.widgets.stats_view import StatsView
from tui.helpers import (
    ITEMS,
    TEACHER,
    burst,
    label,
    pane,
    press,
    read_jsonl,
    record_notes,
    rendered,
    settle,
    shown,
    status,
    write_jsonl,
)

SIZE = (80, 24)


def draft(pilot: Any, field: str) -> Any:
    """A field of the current item's values as approve would save them."""
    return pane(pilot).session.draft[field]


# The reasoning editor


async def test_esc_then_a_key_in_one_burst_closes_the_editor_and_runs_the_key(
    make_app: Callable[[], ReviewApp],
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "e", "x", "escape", "n")  # edit, type, leave, next item: all in one read
        assert pilot.app.is_running
        assert shown(pilot, "#result-line").startswith("Won")
        await burst(pilot, "e", "y", "alt+p")  # Esc p typed fast reaches the app as Alt+p
        assert shown(pilot, "#result-line").startswith("3rd of 12")
        assert draft(pilot, "reasoning").endswith("x")
        await press(pilot, "n")
        assert draft(pilot, "reasoning").endswith("y") and not isinstance(pilot.app.focused, TextArea)


async def test_replace_and_clear_are_one_key_and_enter_leaves_the_editor_and_approves(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "E", "N", "e", "w", "enter")  # all of it selected: typing replaces it
        await burst(pilot, "c", "O", "k", ".", "enter")  # emptied, then typed
        await burst(pilot, "e", "space", "M", "o", "r", "e", ".", "enter")  # the cursor at the end: appends
    first, second, third = read_jsonl(paths.gold)
    assert (first["reasoning"], second["reasoning"]) == ("New", "Ok.")
    assert third["reasoning"] == third["proposed"]["reasoning"] + " More."
    assert [line["changed"] for line in (first, second, third)] == [["reasoning"]] * 3


async def test_esc_always_closes_the_editor(make_app: Callable[[], ReviewApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "e")
        assert isinstance(app.focused, TextArea)
        await press(pilot, "escape")
        assert app.focused is pane(pilot)
        await press(pilot, "1")
        assert draft(pilot, "in_form") is True  # a command again, not a typed 1


# Tabs


async def test_tab_keys_in_a_burst_each_move_and_keys_after_them_reach_the_new_tab(
    make_app: Callable[[], ReviewApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        tabs = app.screen.query_one(TabbedContent)
        await burst(pilot, "t", "t")
        assert tabs.active == "tab-stats" and isinstance(app.focused, StatsView)
        await burst(pilot, "t", "1")  # from Stats: switch, then toggle on the tab switched to
        assert tabs.active == "tab-gemini" and draft(pilot, "in_form") is True


async def test_a_tab_switched_away_from_before_it_showed_does_not_take_the_keyboard_back(
    make_app: Callable[[], ReviewApp],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.action_next_tab()
        app.screen.action_next_tab()  # both keys handled before the first switch's message
        await settle(pilot)
        assert app.screen.query_one(TabbedContent).active == "tab-stats"


async def test_the_teacher_tab_is_titled_with_the_teachers_model(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    ollama = {"teacher": "ollama", "model": "llama3.1:8b"}
    write_jsonl(paths.labeled, [{"formatted_input": text} | label() | ollama for text in ITEMS])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [str(tab.label) for tab in app.screen.query_one(TabbedContent).query("ContentTab")]
        assert titles == ["Teacher · llama3.1:8b", "Model Predictions", "Stats"]
        await press(pilot, "enter")
    assert (read_jsonl(paths.gold)[0]["origin"], read_jsonl(paths.gold)[0]["model"]) == ("gemini", "llama3.1:8b")


# Keys typed while an approval is written


async def test_keys_typed_while_an_approval_is_written_run_after_it_in_order(
    make_app: Callable[[], ReviewApp], paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve = GoldWriter.approve

    def slow(self: GoldWriter, plan: Any) -> Any:
        time.sleep(0.2)  # a slow network disk: the keys below arrive while this is under way
        return approve(self, plan)

    monkeypatch.setattr(GoldWriter, "approve", slow)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await burst(pilot, "3", "enter", "1", "enter", "2")
        gold = read_jsonl(paths.gold)
        assert [line["changed"] for line in gold] == [["better_than_show"], ["in_form"]]
        assert shown(pilot, "#result-line").startswith("5th of 9") and draft(pilot, "out_of_form") is True


# Human gold is never replaced by accident


async def test_the_review_opens_at_the_first_item_not_yet_in_gold_and_remembers_its_filter(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    write_jsonl(paths.gold, [{"formatted_input": text} | label() for text in ITEMS[:2]])
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown(pilot, "#result-line").startswith("5th of 9")
        await press(pilot, "f", "f", "n", "q")  # in gold only, second item
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status(pilot).startswith("2/2 in gold ·") and shown(pilot, "#result-line").startswith("Won")


async def test_approving_over_gold_shows_its_values_and_asks_for_a_second_enter(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    bob = {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00:00+00:00"}
    write_jsonl(paths.gold, [{"formatted_input": ITEMS[1]} | label(race_strength="weak") | bob])
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")  # ITEMS[0], not in gold: one Enter
        assert shown(pilot, "#result-line").startswith("5th of 9")  # ITEMS[1] is skipped over: it is in gold
        await press(pilot, "p", "S", "enter")
        assert len(read_jsonl(paths.gold)) == 2
        confirm = shown(pilot, "#confirm")
        assert "Replaces the gold approval by bob at 2025-05-01T10:00:00+00:00: Race strength weak → strong" in confirm
        await press(pilot, "n", "p", "enter")  # another key first: the second Enter must come again
        assert len(read_jsonl(paths.gold)) == 2
        await press(pilot, "enter")
    assert [line["race_strength"] for line in read_jsonl(paths.gold)] == ["weak", "strong", "strong"]


async def test_a_race_already_in_gold_shows_its_strength_and_warns_before_another(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    race = "A competitive handicap run at a strong gallop"
    runners = [f"{n}th of 12, well beaten | [RACE]: {race} | [HORSE]: Runner {n} kept on" for n in (4, 5)]
    average = label(race_strength="average") | TEACHER
    write_jsonl(paths.labeled, [{"formatted_input": text} | average for text in runners])
    write_jsonl(paths.gold, [{"formatted_input": runners[0]} | label(race_strength="strong")])
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "race in gold: strong ×1" in shown(pilot, "#was-race_strength")
        await press(pilot, "enter")
        assert "Race strength average here, but strong on 1 other runner of this race in gold" in shown(
            pilot, "#confirm"
        )
        await press(pilot, "enter")  # a warning, never a refusal
    assert read_jsonl(paths.gold)[-1]["race_strength"] == "average"


async def test_contradicting_signals_warn_before_approving(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "4", "enter")  # better than show (proposed) and worse than show
        assert "Better than show and Worse than show are both set" in shown(pilot, "#confirm")
        assert not paths.gold.exists()
        await press(pilot, "4")
        assert not pane(pilot).query_one("#confirm", Static).display
        await press(pilot, "enter")
    assert len(read_jsonl(paths.gold)) == 1


async def test_u_with_nothing_to_undo_says_so(
    make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "u")
        assert "nothing to undo" in status(pilot)
    assert any("undo takes back approvals made since the review opened" in note for note in notes)


async def test_d_shows_the_signal_definitions_and_the_guidelines(make_app: Callable[[], ReviewApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "d")
        text = rendered(app.screen.query_one(Static))
        assert "The horse ran better than the result: bad luck, interference" in text
        assert "strong / average / weak / no_signal" in text and "Guidelines" in text
        await press(pilot, "escape")
        assert app.screen is app.review_screen


# Write failures: one message, the edit stays, nothing torn, the app keeps running


def no_space(*args: Any) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


async def test_a_full_disk_during_approve_is_one_message_and_loses_nothing(
    make_app: Callable[[], ReviewApp], paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_jsonl(paths.gold, [{"formatted_input": "Won | [HORSE]: an older approval"} | label()])
    before = paths.gold.read_bytes()
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        with monkeypatch.context() as disk:
            disk.setattr(jsonl.os, "write", no_space)
            await burst(pilot, "2", "enter", "1")  # the 1 was meant for the next item: it is not applied
            assert paths.gold.read_bytes() == before  # nothing written, nothing torn
            assert app.is_running and "not saved" in status(pilot)
            assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is True  # the edit is on screen
            assert draft(pilot, "in_form") is False
        await press(pilot, "enter")  # space again: the same Enter saves it
    failures = [note for note in notes if "No space left on device" in note]
    assert len(failures) == 1 and "goldstandard.jsonl" in failures[0] and "1 key typed meanwhile" in failures[0]
    assert read_jsonl(paths.gold)[-1]["changed"] == ["out_of_form"]


async def test_a_failed_undo_is_one_message_and_can_be_tried_again(
    make_app: Callable[[], ReviewApp], paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        with monkeypatch.context() as disk:
            disk.setattr(Store, "undo", lambda self, receipt: no_space())
            await press(pilot, "u")
            assert len(read_jsonl(paths.gold)) == 1 and app.is_running and "not undone" in status(pilot)
        await press(pilot, "u")
        assert read_jsonl(paths.gold) == []
    assert sum("nothing undone: cannot write" in note for note in notes) == 1


async def test_a_position_that_cannot_be_saved_is_told_once(
    make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Store, source: str, checkpoint: Any) -> None:
        raise DataError(f"cannot write {self.paths.checkpoint(source)}: Permission denied")

    monkeypatch.setattr(Store, "write_checkpoint", refuse)
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "n", "n", "p", "n")
        assert app.is_running
        await press(pilot, "q")  # quitting saves every tab: the teacher's tab's failure is not told again
    assert sum("position not saved" in note and ".checkpoint-gemini:" in note for note in notes) == 1


# The predictions tab follows `hcap predict`


async def test_the_predictions_tab_picks_up_lines_appended_while_open(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    paths.predictions.unlink()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        predictions = pane(pilot, "predictions")
        assert "predictions.jsonl does not exist yet" in shown(pilot, "EmptyState", "predictions")
        store = Store(paths, app.project.schema)
        store.append(paths.predictions, [{"formatted_input": ITEMS[2]} | label() | {"model": "flat-hcap"}])
        predictions.poll_source()  # what the pane's timer does every two seconds
        await settle(pilot)
        assert status(pilot, "predictions").startswith("1/1 ·")
        store.append(paths.predictions, [{"formatted_input": ITEMS[3]} | label() | {"model": "flat-hcap"}])
        predictions.poll_source()
        await settle(pilot)
        assert status(pilot, "predictions").startswith("1/2 · 0 approved · 2 not in gold")


async def test_a_click_on_a_race_strength_sets_it(make_app: Callable[[], ReviewApp]) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = shown(pilot, "#field-race_strength")
        await pilot.click("#field-race_strength", offset=(row.index("weak") + 1, 0))
        await settle(pilot)
        assert draft(pilot, "race_strength") == "weak" and "[W weak]" in shown(pilot, "#field-race_strength")
