"""The review app while gold is still being read: the first item is shown and usable, what is not known yet says
so, and an approval waits for all of gold before anything is written."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, ContentSwitcher

from hcap_tui.config import DataPaths
from hcap_tui.review.sources import GoldBook
from hcap_tui.tui.app import ReviewApp
from tui.helpers import ITEMS, label, pane, read_jsonl, settle, shown, status, write_jsonl

SIZE = (80, 24)


@pytest.fixture
def gold_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Reading all of gold waits until the test sets the event (opening gold, the fast part, does not)."""
    release = threading.Event()
    read_all = GoldBook.read_all

    def held(*args: object, **kwargs: object) -> object:
        release.wait(timeout=30)
        return read_all(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(GoldBook, "read_all", staticmethod(held))
    yield release
    release.set()  # never leave the worker waiting, whatever the test did


async def first_item_shown(pilot: Pilot) -> None:
    """Wait until the teacher tab shows an item (not for gold, which may still be being read)."""
    for _ in range(500):
        session = pane(pilot).session
        if session is not None and session.ready and pane(pilot).query_one(ContentSwitcher).current == "review":
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError("the first item never showed")


async def test_first_item_is_usable_while_gold_is_read_and_approval_waits_for_it(
    make_app: Callable[[], ReviewApp], paths: DataPaths, gold_held: threading.Event
) -> None:
    gold = {"formatted_input": ITEMS[0]} | label(out_of_form=True, race_strength="weak")
    write_jsonl(paths.gold, [gold | {"reviewer": "bob", "reviewed_at": "2025-05-01T10:00:00+00:00"}])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await first_item_shown(pilot)
        book = pane(pilot).session.gold  # type: ignore[union-attr]
        assert not book.complete
        assert shown(pilot, "#result-line") == "Won"  # the first item not in gold, known before gold's labels
        assert "3 not in gold" in status(pilot)
        await pilot.press("f")
        assert "3 items not in gold" in status(pilot)
        await pilot.press("f", "f")
        assert "disagrees with gold: still counting (gold is being read)" in status(pilot)
        assert "counting…" in status(pilot)
        await pilot.press("f", "home")  # back to no filter, on the item gold holds
        assert "● in gold (bob, 2025-05-01T10:00:00+00:00)" in shown(pilot, "#result-line")
        assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is True  # gold's values, from its line
        await pilot.press("1", "enter", "2")  # approve with in form set: held until gold is read, as is the `2`
        await pilot.pause()
        assert "reading gold… approves once it is read" in status(pilot)
        assert len(read_jsonl(paths.gold)) == 1
        assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is True  # the held `2` waits its turn

        gold_held.set()
        await settle(pilot)
        assert book.complete
        assert len(read_jsonl(paths.gold)) == 1  # replacing bob's approval still asks first, now against all of gold
        assert pane(pilot).query_one("#field-out_of_form", Checkbox).value is False  # then the `2` ran
        await pilot.press("enter")
        assert "Replaces the gold approval by bob at 2025-05-01T10:00:00+00:00: In form ✗ → ✓" in shown(
            pilot, "#confirm"
        )
        assert len(read_jsonl(paths.gold)) == 1
        await pilot.press("enter")
        await settle(pilot)
        assert len(read_jsonl(paths.gold)) == 2
        assert read_jsonl(paths.gold)[-1]["in_form"] is True and read_jsonl(paths.gold)[-1]["out_of_form"] is False


async def test_counts_that_waited_for_gold_appear_once_it_is_read(
    make_app: Callable[[], ReviewApp], paths: DataPaths, gold_held: threading.Event
) -> None:
    write_jsonl(paths.gold, [{"formatted_input": ITEMS[1]} | label(in_form=True)])
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await first_item_shown(pilot)
        await pilot.press("f", "f", "f")
        await pilot.pause()
        assert "counting…" in status(pilot)
        gold_held.set()
        await settle(pilot)
        assert "1/1" in status(pilot)  # the one item whose signals disagree with gold, now counted
        assert shown(pilot, "#result-line").startswith("Won")
