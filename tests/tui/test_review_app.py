"""The review app at 80x24, driven by keys: what lands in goldstandard.jsonl and the checkpoints."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Static, TextArea
from typer.testing import CliRunner

from hcap_tui.cli import app as hcap_app
from hcap_tui.config import DataPaths
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.main import cli as hcap_tui_cli
from hcap_tui.tui.widgets.placeholders import EmptyState
from tui.helpers import (
    ITEMS,
    label,
    pane,
    positions_saved,
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


def checkpoint(paths: DataPaths, source: str = "gemini") -> dict[str, Any]:
    """Where a tab stopped, as saved: the bare index the old dashboard reads, and hcap's item beside it."""
    index = int(paths.checkpoint(source).read_text(encoding="utf-8"))
    state = json.loads(paths.review_state(source).read_text(encoding="utf-8"))
    assert state["index"] == index
    return {"index": index, "formatted_input": state["formatted_input"]}


async def test_toggle_cycle_and_approve_write_gold_and_move_on(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "1", "r")
        assert "was ✗" in str(pane(pilot).query_one("#field-in_form", Checkbox).label)
        await press(pilot, "enter")
        (gold,) = read_jsonl(paths.gold)
        assert gold["formatted_input"] == ITEMS[0]
        assert gold["in_form"] is True and gold["better_than_show"] is True
        assert gold["race_strength"] == "average"
        assert gold["changed"] == ["in_form", "race_strength"]
        assert (gold["origin"], gold["reviewer"]) == ("gemini", "ann")
        await positions_saved(pilot)
        assert checkpoint(paths) == {"index": 1, "formatted_input": ITEMS[1]}
        line = status(pilot)
        assert "2/4 · 1 approved · 3 not in gold" in line and "saved ✓" in line
        await press(pilot, "enter")  # approving unchanged is one key
        assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == ITEMS[:2]


async def test_a_toggle_typed_just_before_enter_is_in_the_approval(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, character in (("3", "3"), ("1", "1"), ("enter", "\r")):  # as fast as a terminal delivers them
            app.post_message(events.Key(key, character))
        await settle(pilot)
        (gold,) = read_jsonl(paths.gold)
        assert gold["changed"] == ["in_form", "better_than_show"]


async def test_enter_approves_even_when_a_checkbox_has_focus(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        box = pane(pilot).query_one("#field-out_of_form", Checkbox)
        box.focus()
        await press(pilot, "space")  # the focused checkbox itself toggles with space
        await press(pilot, "enter")
        (gold,) = read_jsonl(paths.gold)
        assert gold["out_of_form"] is True
        assert gold["changed"] == ["out_of_form"]


async def test_back_and_undo_take_the_approval_off_disk(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter", "2", "enter")
        assert len(read_jsonl(paths.gold)) == 2
        await press(pilot, "left", "left")
        await positions_saved(pilot)
        assert checkpoint(paths)["index"] == 0
        await press(pilot, "u")
        assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [ITEMS[0]]
        await positions_saved(pilot)
        assert checkpoint(paths) == {"index": 1, "formatted_input": ITEMS[1]}
        assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is True  # the undone values come back
        assert "approval undone" in status(pilot)
        await press(pilot, "s")  # skip drops them
        await positions_saved(pilot)
        assert checkpoint(pilot.app.project.paths)["index"] == 2
        await press(pilot, "p")
        assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is False


async def test_reasoning_is_edited_in_a_text_area_that_keeps_its_keys(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "e")
        assert isinstance(app.focused, TextArea)
        await press(pilot, "space", "q", "1", "d", "ctrl+j", "x")  # typed, not quit / toggled / definitions
        assert app.is_running and not paths.gold.exists()
        await press(pilot, "escape", "enter")
        (gold,) = read_jsonl(paths.gold)
        assert gold["reasoning"].endswith(" q1d\nx")  # Ctrl+J is the new line: Enter leaves the editor
        assert gold["in_form"] is False
        assert gold["changed"] == ["reasoning"]


async def test_one_key_sets_each_race_strength_and_shows_what_it_saves(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        row = shown(pilot, "#field-race_strength")
        assert "r Race strength [S strong] A average  W weak  N no_signal" in row and "12 runners" in row
        for key, value in (("W", "weak"), ("N", "no_signal"), ("A", "average")):
            await press(pilot, key)
            assert f"[{key} {value}]" in shown(pilot, "#field-race_strength")  # what is shown...
        await press(pilot, "W", "enter")
        (gold,) = read_jsonl(paths.gold)
        assert (gold["race_strength"], gold["changed"]) == ("weak", ["race_strength"])  # ...is what is saved


async def test_filter_visits_only_items_not_in_gold(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    write_jsonl(paths.gold, [{"formatted_input": ITEMS[0]} | label(), {"formatted_input": ITEMS[1]} | label()])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "f")
        assert "2 items not in gold" in status(pilot)
        await positions_saved(pilot)
        assert checkpoint(paths)["formatted_input"] == ITEMS[2]
        await press(pilot, "enter")
        await positions_saved(pilot)
        assert checkpoint(paths)["formatted_input"] == ITEMS[3]
        await press(pilot, "p")  # item 3 is in gold now, so back skips over everything
        await positions_saved(pilot)
        assert checkpoint(paths)["formatted_input"] == ITEMS[3]
        assert "first item" in status(pilot)


async def test_item_in_gold_shows_gold_values_and_a_marker(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    gold = {"formatted_input": ITEMS[0]} | label(out_of_form=True, race_strength="weak")
    write_jsonl(paths.gold, [gold | {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00:00+00:00"}])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert shown(pilot, "#result-line") == "Won"  # the review opens at the first item not yet in gold
        await press(pilot, "home")
        assert "● in gold (bob, 2025-05-01T10:00:00+00:00)" in shown(pilot, "#result-line")
        assert "in gold" in status(pilot)
        controls = pane(pilot)
        assert controls.query_one("#field-out_of_form", Checkbox).value is True
        assert controls.query_one("#field-better_than_show", Checkbox).value is False
        assert "[W weak]" in shown(pilot, "#field-race_strength")
        assert "was strong" in shown(pilot, "#was-race_strength")
        await press(pilot, "1", "enter")
        assert len(read_jsonl(paths.gold)) == 1  # not yet: the gold values are shown beside the new ones
        confirm = shown(pilot, "#confirm")
        assert "Press Enter again to approve" in confirm
        assert "Replaces the gold approval by bob at 2025-05-01T10:00:00+00:00: In form ✗ → ✓" in confirm
        await press(pilot, "enter")
        assert len(read_jsonl(paths.gold)) == 2  # the second Enter appends; the last line wins
        assert read_jsonl(paths.gold)[-1]["in_form"] is True


async def test_quit_and_restart_resume_each_tab(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "n", "n", "t", "n")
        await press(pilot, "q")
    assert app.return_code == 0
    assert checkpoint(paths)["formatted_input"] == ITEMS[2]
    assert checkpoint(paths, "predictions")["formatted_input"] == ITEMS[2]
    write_jsonl(
        paths.labeled,
        [{"formatted_input": "Won | [HORSE]: a new item from a later batch"} | label()] + read_jsonl(paths.labeled),
    )
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status(pilot).startswith("4/5")
        assert status(pilot, "predictions").startswith("2/2")


async def test_old_bare_integer_checkpoint_is_honoured(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    paths.checkpoint("gemini").write_text("3\n", encoding="utf-8")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status(pilot).startswith("4/4")
        assert "10th of 16, well beaten" in shown(pilot, "#result-line")


async def test_checkpoint_of_a_replaced_file_starts_at_the_first_item_not_in_gold(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    paths.checkpoint("gemini").write_text('{"index": 3, "formatted_input": "an item of an older batch"}\n')
    write_jsonl(paths.gold, [{"formatted_input": ITEMS[0]} | label()])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status(pilot).startswith("2/4")
        assert shown(pilot, "#result-line").startswith("Won")


async def test_failed_prediction_needs_every_value_before_approval(
    make_app: Callable[[], ReviewApp], paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t", "n")
        failure = shown(pilot, "#failure", "predictions")
        assert 'The model failed on this item: done_reason length · it answered: {"in_' in failure
        await press(pilot, "enter")
        assert "fill in Race strength, Reasoning before approving this item" in notes
        await press(pilot, "r", "enter")
        assert not paths.gold.exists()
        await press(pilot, "e", "o", "k", "escape", "enter")  # the keys right after e already type
        (gold,) = read_jsonl(paths.gold)
        assert gold["reasoning"] == "ok"
        assert (gold["origin"], gold["model"], gold["race_strength"]) == ("predictions", "flat-hcap", "strong")
        assert gold["proposed"] == {}


async def test_missing_files_show_the_command_that_fills_them(data_dir: Path, make_app) -> None:
    app = make_app(data_dir)
    (data_dir / "labeled.jsonl").unlink()
    (data_dir / "predictions.jsonl").unlink()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "labeled.jsonl does not exist yet" in shown(pilot, "EmptyState")
        gemini_empty = str(pane(pilot).query_one(EmptyState).render())
        predictions_empty = str(pane(pilot, "predictions").query_one(EmptyState).render())
        assert f"hcap label --count 200 --data-dir {data_dir}" in gemini_empty  # runnable as shown, for this folder
        assert f"hcap predict --count 20 --data-dir {data_dir}" in predictions_empty
        await press(pilot, "enter", "1", "u")  # no item: review keys do nothing
        assert not (data_dir / "goldstandard.jsonl").exists()


async def test_corrupt_lines_are_reported_and_the_rest_loads(
    make_app: Callable[[], ReviewApp], paths: DataPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = read_jsonl(paths.labeled)
    write_jsonl(paths.labeled, records[:2] + [{"formatted_input": "x", "in_form": "yes"}] + records[2:], extra="{torn")
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert status(pilot).startswith("1/4")
    assert "labeled.jsonl: 2 unreadable lines skipped (lines 3, 6)" in " ".join(notes)


def test_missing_data_folder_is_one_error_line_and_exit_1(tmp_path: Path) -> None:
    runner = CliRunner()
    for cli, args in ((hcap_tui_cli, ["review"]), (hcap_app, ["review"])):
        result = runner.invoke(cli, [*args, "--data-dir", str(tmp_path / "nowhere")])
        assert result.exit_code == 1
        assert result.output.strip().startswith("error: data folder")
        assert "Traceback" not in result.output


def test_hcap_tui_without_arguments_shows_help() -> None:
    result = CliRunner().invoke(hcap_tui_cli, [])
    assert "review" in result.output and "Usage" in result.output


def predictions_with_confidence(paths: DataPaths) -> None:
    """Three predictions, the most confident first in the file: 0.97, then 0.6 (better than show), then 0.35.

    Every other signal is certain, so each item's confidence (the product of its signals') is the one given."""

    def sure_but(name: str, probability: float) -> dict[str, float]:
        signals = ["in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength"]
        return {signal: probability if signal == name else 1.0 for signal in signals}

    confidences = [sure_but("in_form", 0.97), sure_but("better_than_show", 0.6), sure_but("race_strength", 0.35)]
    write_jsonl(
        paths.predictions,
        [
            {"formatted_input": text} | label() | {"model": "flat-hcap", "confidence": confidence}
            for text, confidence in zip(ITEMS[1:], confidences, strict=True)
        ],
    )


async def test_o_orders_predictions_least_confident_first(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    predictions_with_confidence(paths)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        assert shown(pilot, "#result-line", "predictions").startswith("Won")
        assert "1/3" in status(pilot, "predictions") and "confidence 97%" in status(pilot, "predictions")
        await press(pilot, "o")
        line = status(pilot, "predictions")
        assert line.startswith("3/3 least sure first ·")  # the item on screen stays, now last
        assert "ordered least confident first" in line
        await press(pilot, "home")
        assert shown(pilot, "#result-line", "predictions").startswith("10th of 16, well beaten")
        assert "confidence 35%" in status(pilot, "predictions")
        await press(pilot, "enter")  # approve and move on to the next least confident
        assert read_jsonl(paths.gold)[-1]["formatted_input"] == ITEMS[3]
        assert shown(pilot, "#result-line", "predictions").startswith("5th of 9, competitive")
        await press(pilot, "o")
        line = status(pilot, "predictions")
        assert line.startswith("2/3 ·") and "back in file order" in line
        await press(pilot, "q")
    assert checkpoint(paths, "predictions") == {"index": 1, "formatted_input": ITEMS[2]}


async def test_help_lists_the_order_key_and_the_stats_tab(make_app: Callable[[], ReviewApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "question_mark")
        text = rendered(app.screen.query_one(Static))
    assert "Predictions least confident first, teacher labels most suspect first" in text
    assert "First item" in text and "Stats" in text


async def approve_three_then_type_in_one_burst(pilot: Pilot, *keys: str) -> None:
    """Approve three items, then post keys back to back (as fast as a terminal delivers them, so they arrive while
    the first undo is still being written) and wait for all they started."""
    await settle(pilot)
    await press(pilot, "enter", "enter", "enter")
    for key in keys:
        pilot.app.post_message(events.Key(key, "\r" if key == "enter" else key))
    await settle(pilot)


async def test_undos_typed_in_one_burst_each_take_an_approval_back(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await approve_three_then_type_in_one_burst(pilot, "u", "u", "u")
        assert read_jsonl(paths.gold) == []
        assert "1/4 · 0 approved · 4 not in gold" in status(pilot)


async def test_keys_typed_while_an_undo_is_written_apply_to_the_undone_item_in_order(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    async with make_app().run_test(size=SIZE) as pilot:
        await approve_three_then_type_in_one_burst(pilot, "u", "1", "4", "enter")
        gold = read_jsonl(paths.gold)
        assert [r["formatted_input"] for r in gold] == ITEMS[:3]
        assert gold[2]["changed"] == ["in_form", "worse_than_show"]


async def test_a_prediction_the_teacher_disputed_shows_the_teachers_values(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    disputed = {"disagrees_with_teacher": ["in_form", "race_strength"]}
    disputed["teacher_values"] = {"in_form": False, "race_strength": "average"}
    (prediction, failed) = read_jsonl(paths.predictions)
    write_jsonl(paths.predictions, [prediction | disputed, failed])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "t")
        controls = pane(pilot, "predictions")
        assert str(controls.query_one("#field-in_form", Checkbox).label).endswith("In form  teacher ✗")
        assert "teacher" not in str(controls.query_one("#field-out_of_form", Checkbox).label)
        assert shown(pilot, "#was-race_strength", "predictions") == "teacher average"
        await press(pilot, "1")  # siding with the teacher is a correction of the model
        assert str(controls.query_one("#field-in_form", Checkbox).label).endswith("In form  was ✓ · teacher ✗")
