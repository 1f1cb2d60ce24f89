"""The review app at 80x24 where things get awkward: undo across tabs and after compaction, a second reviewer,
schemas other than the default, markup-like names, long items, empty filters, quitting and crashing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, ContentSwitcher, Static
from textual.widgets._footer import FooterKey
from typer.testing import CliRunner

import hcap_tui
from hcap_tui.config import DataPaths, open_project
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record
from hcap_tui.tui.app import ReviewApp, create_app
from hcap_tui.tui.main import cli as hcap_tui_cli
from tui.helpers import ITEMS, label, pane, press, read_jsonl, record_notes, rendered, settle, shown, write_jsonl

SIZE = (80, 24)


async def test_undo_on_both_tabs_leaves_gold_as_the_file_has_it(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "n", "enter")  # ITEMS[1] on the Gemini tab
        await press(pilot, "t", "1", "enter", "enter")  # and, corrected, on the Model Predictions tab (replacing it)
        assert len(read_jsonl(paths.gold)) == 2
        await press(pilot, "t", "t", "u")  # the Gemini line is no longer last: gold is rewritten
        assert "● in gold" in shown(pilot, "#result-line")  # the prediction's approval still stands
        await press(pilot, "t", "u")
        assert read_jsonl(paths.gold) == []
        assert "in gold" not in shown(pilot, "#result-line", "predictions")
        await press(pilot, "t", "t")
        assert "in gold" not in shown(pilot, "#result-line")


async def test_undo_after_compaction_is_refused_and_gold_kept(
    make_app: Callable[[], ReviewApp], paths: DataPaths, schema: LabelSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "enter")
        Store(paths, schema).compact_gold()  # `hcap gold compact` keeps the line byte for byte, in a new file
        await press(pilot, "u")
        refused = "nothing undone: goldstandard.jsonl was rewritten since (compaction?): undo is no longer possible"
        assert refused in notes
        assert [r["formatted_input"] for r in read_jsonl(paths.gold)] == [ITEMS[0]]


async def test_another_reviewers_approval_is_shown_not_overwritten(
    make_app: Callable[[], ReviewApp], paths: DataPaths, schema: LabelSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        bob = {"reviewer": "bob", "reviewed_at": "2025-06-01T09:00:00+00:00", "origin": "gemini"}
        Store(paths, schema).approve(flat_record(schema, ITEMS[0], label(out_of_form=True), **bob))
        await press(pilot, "1", "enter")
        assert len(read_jsonl(paths.gold)) == 1
        assert any("another reviewer approved this item at 2025-06-01T09:00:00+00:00 (bob)" in n for n in notes)
        assert "● in gold (bob" in shown(pilot, "#result-line")
        assert pane(pilot).query_one("#field-in_form", Checkbox).value is True  # ann's draft is kept
        await press(pilot, "enter")  # the second Enter replaces bob's approval
        assert [(r["reviewer"], r["in_form"]) for r in read_jsonl(paths.gold)] == [("bob", False), ("ann", True)]


async def test_ctrl_q_quits_from_the_reasoning_editor(make_app: Callable[[], ReviewApp]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "e", "q")
        assert app.is_running  # a bare q types
        await press(pilot, "ctrl+q")
    assert app.return_code == 0


def custom_schema(data_dir: Path, fields: list[dict[str, Any]]) -> None:
    """A label_schema.json in the data folder."""
    (data_dir / "label_schema.json").write_text(json.dumps({"name": "custom", "fields": fields}), encoding="utf-8")


def footer_keys(app: ReviewApp) -> dict[str, str]:
    """What the footer offers: key → description."""
    return {key.key: key.description for key in app.screen.query(FooterKey)}


async def test_a_schema_without_text_has_no_edit_key(data_dir: Path) -> None:
    custom_schema(
        data_dir,
        [
            {"name": "led", "type": "bool", "title": "Led [/] made all"},
            {"name": "hampered", "type": "bool", "title": "Hampered"},
            {"name": "pace", "type": "enum", "title": "Pace", "values": ["fast", "slow"]},
        ],
    )
    record = {"formatted_input": ITEMS[1], "led": True, "hampered": False, "pace": "fast"}
    write_jsonl(DataPaths(data_dir).labeled, [record])
    app = create_app(open_project(data_dir), reviewer="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "e" not in footer_keys(app)
        await press(pilot, "e", "2", "a", "enter")  # e does nothing; the rest approves a correction (a: pace)
        await press(pilot, "question_mark")
        assert "Led [/] made all" in rendered(app.screen.query_one(Static))
        assert "Edit" not in rendered(app.screen.query_one(Static))
    (gold,) = read_jsonl(DataPaths(data_dir).gold)
    assert (gold["led"], gold["hampered"], gold["pace"], gold["changed"]) == (True, True, "slow", ["hampered", "pace"])


async def test_the_users_seven_signal_schema_gets_its_own_keys(data_dir: Path) -> None:
    default = json.loads((Path(hcap_tui.__file__).parent / "schemas" / "flat_hcap.json").read_text(encoding="utf-8"))
    renamed = [
        dict(f, name="flattered_by_result", title="Flattered by result") if f["name"] == "worse_than_show" else f
        for f in default["fields"]
    ]
    extra = [
        {"name": "positive_attitude", "type": "bool", "title": "Positive attitude"},
        {"name": "negative_attitude", "type": "bool", "title": "Negative attitude"},
    ]
    custom_schema(data_dir, renamed[:4] + extra + renamed[4:])
    values = {f["name"]: False for f in renamed[:4] + extra} | {"race_strength": "weak", "reasoning": "Game."}
    write_jsonl(DataPaths(data_dir).labeled, [{"formatted_input": ITEMS[1]} | values])
    app = create_app(open_project(data_dir), reviewer="ann")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert footer_keys(app).get("e") == "Reasoning"
        assert "6 Negative attitude" in str(pane(pilot).query_one("#field-negative_attitude", Checkbox).label)
        await press(pilot, "4", "5", "6", "enter")
    (gold,) = read_jsonl(DataPaths(data_dir).gold)
    assert gold["changed"] == ["flattered_by_result", "positive_attitude", "negative_attitude"]
    assert gold["negative_attitude"] is True and "worse_than_show" not in gold


@pytest.mark.parametrize("folder", ["rv[old]", "a[/]b"])
async def test_markup_like_folder_names_are_shown_as_written(
    tmp_path: Path, folder: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / folder  # "a[/]b" is the folder "]b" inside "a["
    data_dir.mkdir(parents=True)
    paths = DataPaths(data_dir)
    write_jsonl(paths.labeled, [{"formatted_input": ITEMS[1]} | label()])
    paths.checkpoint("gemini").write_text("not a checkpoint\n", encoding="utf-8")
    app = create_app(open_project(data_dir), reviewer="ann")
    notes = record_notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.pause()  # the notification is drawn
        assert shown(pilot, "#result-line").startswith("Won")
    assert any(f"{folder}/.checkpoint-gemini is not a checkpoint" in note for note in notes)


async def test_a_filter_nothing_matches_shows_so_and_approves_nothing(
    make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    write_jsonl(paths.gold, [{"formatted_input": text} | label() for text in ITEMS])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "f")
        assert "No items match this filter: press f to change it." in shown(pilot, "EmptyState")
        await press(pilot, "enter", "1", "s")
        assert len(read_jsonl(paths.gold)) == 4
        await press(pilot, "f")
        assert pane(pilot).query_one(ContentSwitcher).current == "review"
        assert "4 items in gold" in shown(pilot, "#status-markers")


async def test_filter_counts_agree_in_number(make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    write_jsonl(paths.gold, [{"formatted_input": text} | label(in_form=True) for text in ITEMS[:2]])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await press(pilot, "f", "f", "f")
        assert "2 items disagree with gold" in shown(pilot, "#status-markers")


def test_a_crash_inside_the_app_exits_non_zero(review_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: ReviewApp) -> None:
        self._return_code = 1  # what Textual leaves after an unhandled exception

    monkeypatch.setattr(ReviewApp, "run", crash)
    result = CliRunner().invoke(hcap_tui_cli, ["review", "--data-dir", str(review_dir)])
    assert result.exit_code == 1
