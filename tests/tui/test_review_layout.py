"""How the review screen shares its rows on items of the user's real lengths, at 80x24 and 120x40: whole items with
no key press when they fit, a "↓ N more lines" marker and the arrow keys to read on when they do not, no blank band
between parts, and a status line and Stats tab that fit 80 columns."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from hcap_tui.config import DataPaths
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.widgets.item_view import ItemView
from hcap_tui.tui.widgets.stats_view import StatsView
from hcap_tui.tui.widgets.text_part import TextPart
from tui.helpers import (
    HORSE,
    ITEMS,
    LONG_ITEM,
    MEDIAN_ITEM,
    MEDIAN_REASONING,
    RACE,
    REASONING,
    TEACHER,
    label,
    pane,
    press,
    rendered,
    settle,
    status,
    write_jsonl,
)


def parts(pilot: Pilot) -> dict[str, TextPart]:
    """The race, horse and reasoning parts of the teacher's tab, by id."""
    return {part.id or "": part for part in pane(pilot).query_one(ItemView).parts}


def text_of(part: TextPart) -> str:
    """What a part shows, as one line of words (wrapped lines joined, the label and marker dropped)."""
    lines = str(part.render()).splitlines()
    words = " ".join(line for line in lines if "more line" not in line and "above" not in line)
    return " ".join(words.split()[1:])  # the label (RACE, HORSE, REASONING) first


def assert_no_gap(pilot: Pilot) -> None:
    """The item's parts follow one another: no blank band between them."""
    view = pane(pilot).query_one(ItemView)
    shown = [w for w in (view.query_one("#result-line"), *view.parts) if w.display]
    for above, below in itertools.pairwise(shown):
        assert below.region.y == above.region.bottom, (above.id, below.id)


@pytest.mark.parametrize(("item", "reasoning"), [(MEDIAN_ITEM, MEDIAN_REASONING), (LONG_ITEM, REASONING)])
async def test_a_real_item_is_shown_whole_at_120x40_without_a_key(
    make_app: Callable[[], ReviewApp], paths: DataPaths, item: str, reasoning: str
) -> None:
    write_jsonl(paths.labeled, [{"formatted_input": item} | label(reasoning=reasoning) | TEACHER])
    async with make_app().run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = parts(pilot)
        assert all(part.below == 0 and part.first_line == 0 for part in shown.values())
        race, horse = item.split(" | [RACE]: ")[1].split(" | [HORSE]: ")
        assert text_of(shown["race"]) == race and text_of(shown["horse"]) == horse
        assert text_of(shown["text-reasoning"]) == reasoning  # the whole reasoning: 5 and 6 lines at 80 columns
        assert_no_gap(pilot)


async def test_a_long_item_at_80x24_marks_what_is_cut_and_the_arrows_read_it_all(
    make_app: Callable[[], ReviewApp],
) -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = parts(pilot)
        assert all(part.lines_shown >= 2 for part in shown.values())  # every part keeps some room
        hidden = sum(part.below for part in shown.values())
        assert hidden > 0 and f"↓ {shown['race'].below} more lines" in str(shown["race"].render())
        assert_no_gap(pilot)
        seen = {name: set(text_of(part).split()) for name, part in shown.items()}
        for _ in range(hidden):
            await press(pilot, "down")
            for name, part in shown.items():
                seen[name] |= set(text_of(part).split())
        assert all(part.below == 0 for part in shown.values())  # read to the end of every part...
        assert seen["race"] >= set(RACE.split()) and seen["horse"] >= set(HORSE.split())
        assert seen["text-reasoning"] >= set(REASONING.split())  # ...and every word was on screen at some point
        await press(pilot, "down")
        assert "nothing more below" in status(pilot)
        before = {name: part.first_line for name, part in shown.items()}
        await press(pilot, "pageup")  # up to five lines back, in the last part scrolled down
        back = {name: before[name] - part.first_line for name, part in shown.items()}
        assert back == {name: min(5, before[name]) if name == "text-reasoning" else 0 for name in shown}
        assert before["text-reasoning"] > 0 and shown["text-reasoning"].below > 0
        assert "above" in str(shown["race"].render())


async def test_the_open_editor_takes_the_reasonings_place_and_the_comments_keep_room(
    make_app: Callable[[], ReviewApp],
) -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "e")
        editor = pane(pilot).query_one("#field-reasoning")
        shown = parts(pilot)
        assert editor.display and editor.size.height >= 3 and not shown["text-reasoning"].display
        assert shown["race"].lines_shown >= 2 and shown["horse"].lines_shown >= 2


async def test_a_short_item_leaves_its_spare_rows_below_the_controls_not_between_parts(
    make_app: Callable[[], ReviewApp],
) -> None:
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "n")  # "Won | [RACE]: Strong race…": a few short lines
        assert_no_gap(pilot)
        view = pane(pilot).query_one(ItemView)
        assert view.region.bottom == pane(pilot).query_one("FieldControls").region.y


@pytest.mark.parametrize("keys", [(), ("f",), ("f", "f"), ("f", "f", "f"), ("t", "o"), ("t", "o", "f", "f", "f")])
async def test_the_status_line_fits_80_columns_and_counts_within_the_filter(
    make_app: Callable[[], ReviewApp], paths: DataPaths, keys: tuple[str, ...]
) -> None:
    write_jsonl(paths.gold, [{"formatted_input": ITEMS[1]} | label(in_form=True)])
    confidence = {"in_form": 0.4, "out_of_form": 0.9, "better_than_show": 0.9, "worse_than_show": 0.9}
    predictions = [
        {"formatted_input": text} | label() | {"model": "flat-hcap", "confidence": confidence | {"race_strength": 0.9}}
        for text in ITEMS
    ]
    write_jsonl(paths.predictions, predictions)
    async with make_app().run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, *keys)
        source = "predictions" if "t" in keys else "gemini"
        counters = pane(pilot, source).query_one("#status-counters", Static)
        text = str(counters.render())
        assert counters.region.right <= 80 and counters.size.width >= len(text)  # whole, never cut
        place, _, count = text.split(" ")[0].partition("/")
        if "f" in keys and keys.count("f") == 2:
            assert (place, count) == ("1", "1") and " in gold" in text  # the one item in gold, counted as 1 of 1


async def test_the_stats_tab_fits_80_columns(make_app: Callable[[Path], ReviewApp], stats_dir: Path) -> None:
    gold = [{"formatted_input": f"Won | [HORSE]: item {n}"} | label(race_strength=value) for n, value in
            enumerate(["strong"] * 1200 + ["average"] * 1100 + ["weak"] * 1000 + ["no_signal"] * 900)]
    write_jsonl(DataPaths(stats_dir).gold, gold)
    app = make_app(stats_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await press(pilot, "t", "t")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        figures = rendered(app.screen.query_one(StatsView).query_one("#stats-figures", Static))
    widest = max(len(line.rstrip()) for line in figures.splitlines())
    assert widest <= 78, figures  # the tab's padding leaves 78 of 80 columns
    assert "no_signal 900 21%" in figures
