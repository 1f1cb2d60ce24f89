"""The Stats tab at 80x24: the figures of `hcap stats`, recounted after approvals and undos on the review tabs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from hcap_tui.config import DataPaths, Project
from hcap_tui.stats import Stats, compute_stats
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.widgets import stats_view
from hcap_tui.tui.widgets.stats_view import StatsView
from tui.helpers import ITEMS, gold_records, label, press, read_jsonl, settle, stats_text, write_jsonl

SIZE = (80, 24)


async def stats_after(pilot: Pilot, *keys: str) -> list[str]:
    """Press `keys` (which end on the Stats tab), then the lines it shows, runs of spaces squeezed."""
    await press(pilot, *keys)
    return [" ".join(line.split()) for line in (await stats_text(pilot)).splitlines()]


async def test_stats_tab_shows_each_stage_the_distribution_and_corrections(
    make_app: Callable[[Path], ReviewApp], stats_dir: Path
) -> None:
    app = make_app(stats_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = await stats_after(pilot, "t", "t")
        assert app.focused is app.screen.query_one(StatsView)  # arrows and page keys scroll it
    assert "eligible comments 1 of 3 rows in comments.csv" in shown
    assert "teacher-labeled 4 2 not yet in gold" in shown
    assert "predictions pending review 1 1 failed" in shown
    assert "gold 5 gemini 2 · predictions 2 · older 1" in shown
    assert "Label distribution in gold (5 items)" in shown
    assert "In form true 2 40% false 3 60%" in shown
    at = shown.index("Race strength strong 2 40% average 3 60%")  # two values a row, to fit 80 columns
    assert shown[at + 1] == "weak 0 0% no_signal 0 0%"
    # a column per origin, then per model version; per signal the share of proposals changed and the counts
    assert "flat-hcap flat-hcap" in shown and "gemini predictions aaaaaaaa bbbbbbbb" in shown
    assert "items 2 2 1 1" in shown
    assert "any signal 50% 1/2 50% 1/2 100% 1/1 0% 0/1" in shown
    assert "In form 50% 1/2 0% 0/2 0% 0/1 0% 0/1" in shown
    assert "Race strength 0% 0/2 50% 1/2 100% 1/1 0% 0/1" in shown


async def test_approving_and_undoing_on_a_review_tab_show_when_stats_is_shown_again(
    make_app: Callable[[Path], ReviewApp], stats_dir: Path
) -> None:
    app = make_app(stats_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "gold 5 gemini 2 · predictions 2 · older 1" in await stats_after(pilot, "t", "t")
        await press(pilot, "t", "1", "enter")  # on the teacher's tab, opened at ITEMS[1]: approve it, in form changed
        assert read_jsonl(DataPaths(stats_dir).gold)[-1]["formatted_input"] == ITEMS[1]
        shown = await stats_after(pilot, "t", "t")
        assert "gold 6 gemini 3 · predictions 2 · older 1" in shown
        assert "teacher-labeled 4 1 not yet in gold" in shown
        assert "In form 67% 2/3 0% 0/2 0% 0/1 0% 0/1" in shown
        assert "gold 5 gemini 2 · predictions 2 · older 1" in await stats_after(pilot, "t", "u", "t", "t")


async def test_stats_are_recounted_only_when_the_files_changed(
    make_app: Callable[[Path], ReviewApp], stats_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: list[tuple[int, int] | None] = []  # the comments.csv counts each count was given, None: it read the file

    def counting(project: Project, *, comment_counts: tuple[int, int] | None) -> Stats:
        counts.append(comment_counts)
        return compute_stats(project, comment_counts=comment_counts)

    monkeypatch.setattr(stats_view, "compute_stats", counting)
    app = make_app(stats_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await stats_after(pilot, "t", "t")
        await stats_after(pilot, "t", "t", "t")
        assert counts == [None]
        paths = DataPaths(stats_dir)  # `hcap label` adds a line while the app is open
        write_jsonl(paths.labeled, [*read_jsonl(paths.labeled), {"formatted_input": "Won | [HORSE]: new"} | label()])
        shown = await stats_after(pilot, "t", "t", "t")
        assert "teacher-labeled 5 3 not yet in gold" in shown
        assert "eligible comments 1 of 3 rows in comments.csv" in shown
        assert counts == [None, (3, 1)]  # comments.csv had not changed: its counts were kept


async def test_a_file_that_cannot_be_read_is_explained_on_the_tab(
    make_app: Callable[[Path], ReviewApp], stats_dir: Path
) -> None:
    app = make_app(stats_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        gold = DataPaths(stats_dir).gold
        gold.unlink()
        gold.mkdir()  # nothing a user would do; stands in for any file that cannot be read
        shown = await stats_after(pilot, "t", "t")
        assert any("cannot read" in line and "goldstandard.jsonl: Is a directory" in line for line in shown)
        assert app.is_running


async def test_names_from_the_files_are_shown_as_written_and_problems_are_reported(
    make_app: Callable[[Path], ReviewApp], stats_dir: Path
) -> None:
    paths = DataPaths(stats_dir)
    records = gold_records()
    records[2]["model"] = "[bold]flat-hcap[/bold]"
    write_jsonl(paths.gold, records, extra='{"formatted_input": "torn')
    app = make_app(stats_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = "\n".join(await stats_after(pilot, "t", "t"))
    assert "[bold]flat-hcap[/bold]" in shown
    assert "1 problem while counting (`hcap check` lists them): goldstandard.jsonl line 6" in shown


async def test_a_folder_with_nothing_yet_says_so(make_app: Callable[[Path], ReviewApp], empty_dir: Path) -> None:
    assert list(empty_dir.iterdir()) == []
    app = make_app(empty_dir)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = await stats_after(pilot, "t", "t")
    assert "eligible comments – comments.csv absent or unreadable" in shown
    assert "gold 0" in shown
    assert "No gold yet: approvals on the review tabs count here." in shown
    assert "None recorded yet: each approval in this app records what was proposed." in shown
