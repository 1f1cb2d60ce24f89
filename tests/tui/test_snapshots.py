"""Screenshots of the review app, built through the same factory as `hcap-tui review`.

Regenerate with `python3 -m pytest tests/tui/test_snapshots.py --snapshot-update`, then read the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import TextArea

from hcap_tui.config import DataPaths
from hcap_tui.review import suspects
from hcap_tui.tui.app import ReviewApp
from hcap_tui.tui.widgets import suspect_ranker
from tui.helpers import ITEMS, hand_ranking, label, settle, stats_text, write_jsonl


def prepared(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """Wait for loading, stop cursors blinking, then press `keys`."""

    async def run_before(pilot: Pilot) -> None:
        await settle(pilot)
        for area in pilot.app.query(TextArea):
            area.cursor_blink = False
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def counted(*keys: str) -> Callable[[Pilot], Awaitable[None]]:
    """Press `keys` once loading is done, then wait for the Stats tab's count to be on screen."""
    press = prepared(*keys)

    async def run_before(pilot: Pilot) -> None:
        await press(pilot)
        await stats_text(pilot)

    return run_before


def test_long_item_at_80x24(snap_compare, make_app: Callable[[], ReviewApp]) -> None:
    """A 1,690-character item with a six-line reasoning (as long as real ones get): every part keeps rows in
    proportion to what it holds and says how many lines it hides."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared())


def test_long_item_at_120x40(snap_compare, make_app: Callable[[], ReviewApp]) -> None:
    """The same item on a bigger terminal: everything, the reasoning included, without a key press."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=prepared())


def test_long_item_read_on_at_80x24(snap_compare, make_app: Callable[[], ReviewApp]) -> None:
    """After ↓ × 12 on the long item: the race comment read to its end, the horse comment under way."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared(*["down"] * 12))


def most_suspect_first(monkeypatch: pytest.MonkeyPatch) -> Callable[[Pilot], Awaitable[None]]:
    """Rank the teacher's tab by hand (the student replaced), press `o` and wait for the order."""
    monkeypatch.setattr(suspect_ranker, "rank_for_review", lambda store, items_seen, stop: hand_ranking(items_seen))
    monkeypatch.setattr(suspects, "available", lambda: True)

    async def run_before(pilot: Pilot) -> None:
        await prepared("o")(pilot)
        await settle(pilot)

    return run_before


def test_most_suspect_first_at_80x24(
    snap_compare, make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The teacher's tab after `o`: the long item, second most suspect, says what the student doubts under its
    result line; the status line gives the order."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=most_suspect_first(monkeypatch))


def test_most_suspect_first_at_120x40(
    snap_compare, make_app: Callable[[], ReviewApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on a bigger terminal: the doubts on one line, the item whole."""
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=most_suspect_first(monkeypatch))


def test_confirming_a_replacement_of_gold_at_80x24(
    snap_compare, make_app: Callable[[], ReviewApp], paths: DataPaths
) -> None:
    """Enter on an item already in gold: its gold values beside the new ones, and a second Enter asked for."""
    gold = {"formatted_input": ITEMS[0]} | label(race_strength="weak")
    write_jsonl(paths.gold, [gold | {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00:00+00:00"}])
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared("home", "S", "enter"))


def test_corrections_against_gold_at_80x24(snap_compare, make_app: Callable[[], ReviewApp], paths: DataPaths) -> None:
    """Filtered to gold: the gold marker, gold values, "was" markers where they differ, a full status line."""
    gold = {"formatted_input": ITEMS[1]} | label(in_form=False, out_of_form=True, race_strength="weak")
    write_jsonl(paths.gold, [gold | {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00:00+00:00"}])
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared("f", "f", "3"))


def test_failed_prediction_while_editing_reasoning(snap_compare, make_app: Callable[[], ReviewApp]) -> None:
    """The predictions tab on a failed item, reasoning open for typing (footer shows only esc)."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared("t", "n", "e", "N", "o"))


def test_empty_state_at_80x24(snap_compare, make_app: Callable[[], ReviewApp], data_dir: Path) -> None:
    """No labeled.jsonl yet: the tab says which command fills it (the default ./data folder, as most users run it)."""
    (data_dir / "labeled.jsonl").unlink()
    assert data_dir == Path.cwd() / "data"
    assert snap_compare(make_app(Path("data")), terminal_size=(80, 24), run_before=prepared())


def test_help_screen_at_80x24(snap_compare, make_app: Callable[[], ReviewApp]) -> None:
    """`?` lists every key, including those the footer has no room for."""
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=prepared("question_mark"))


def test_stats_tab_at_80x24(snap_compare, make_app: Callable[[Path], ReviewApp], stats_dir: Path) -> None:
    """The Stats tab on a small terminal: the loop and the label distribution, the corrections table below (scrolls)."""
    assert snap_compare(make_app(stats_dir), terminal_size=(80, 24), run_before=counted("t", "t"))


def test_stats_tab_at_120x40(snap_compare, make_app: Callable[[Path], ReviewApp], stats_dir: Path) -> None:
    """The Stats tab on a bigger terminal: every section, corrections per origin and per model version."""
    assert snap_compare(make_app(stats_dir), terminal_size=(120, 40), run_before=counted("t", "t"))
