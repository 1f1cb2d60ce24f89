"""Speed of the review app: time to the first item shown, and approve-and-advance latency.

Runs the real app headless (`run_test`) on generated data folders and prints each figure with its
target and the ratio figure/target (below 1.0 meets the target):

- first item with 1,200 teacher labels (and 160 gold), target < 1 s;
- first item with 100,000 teacher labels and 100,000 gold, target < 3 s;
- median approve-and-advance at 100,000 gold, target < 50 ms: from the Enter key event to the
  repaint that shows the next item, including the fsynced gold append and checkpoint write.

    python benchmarks/bench_review.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from archive import ARCHIVE_COMMENTS, build_archive
from textual import events
from textual.widgets import ContentSwitcher

from hcap_tui.config import DataPaths, open_project
from hcap_tui.tui.app import ReviewApp, create_app
from hcap_tui.tui.widgets.review_pane import ReviewPane


def make_data(root: Path, labeled: int, gold: int) -> DataPaths:
    """A data folder with `labeled` teacher labels and `gold` gold items from the shared archive generator (gold
    covers the last items, so the first ones still wait for review)."""
    return build_archive(root, csv_rows=ARCHIVE_COMMENTS, labeled=labeled, gold=gold)


def first_pane(app: ReviewApp) -> ReviewPane:
    return app.screen.query_one("#review-gemini", ReviewPane)


async def until_repainted(pane: ReviewPane) -> None:
    """Wait for the repaint after everything queued so far."""
    done = asyncio.Event()
    pane.call_after_refresh(done.set)
    await done.wait()


async def time_to_first_item(paths: DataPaths) -> float:
    """Seconds from building the app to the first item painted on screen."""
    start = time.perf_counter()
    app = create_app(open_project(paths.root), reviewer="bench")
    async with app.run_test(size=(80, 24)):
        pane = first_pane(app)
        while pane.session is None or not pane.session.ready or pane.query_one(ContentSwitcher).current != "review":
            await asyncio.sleep(0.001)
        await until_repainted(pane)
        elapsed = time.perf_counter() - start
        app.exit()
    return elapsed


async def time_to_loaded(paths: DataPaths) -> float:
    """Seconds from building the app to every review tab holding all its items and all of gold read (the app fully
    loaded)."""
    start = time.perf_counter()
    app = create_app(open_project(paths.root), reviewer="bench")
    async with app.run_test(size=(80, 24)):
        panes = list(app.screen.query(ReviewPane))
        while not all(loaded(pane) for pane in panes):
            await asyncio.sleep(0.005)
        elapsed = time.perf_counter() - start
        app.exit()
    return elapsed


def loaded(pane: ReviewPane) -> bool:
    """Whether a tab has finished loading: its items, its empty state or its problem is on screen, and all of gold
    is read."""
    if pane.query_one(ContentSwitcher).current == "loading":
        return False
    return pane.session is None or not pane.session.loading and pane.session.gold.complete


async def approve_latencies(paths: DataPaths, count: int) -> list[float]:
    """Milliseconds from an Enter key event to the repaint showing the next item, `count` times."""
    app = create_app(open_project(paths.root), reviewer="bench")
    latencies = []
    async with app.run_test(size=(80, 24)) as pilot:
        pane = first_pane(app)
        while pane.session is None or pane.session.loading or not pane.session.gold.complete:
            await pilot.pause(0.01)
        await until_repainted(pane)
        for _ in range(count):
            before = pane.session.position
            start = time.perf_counter()
            app.post_message(events.Key("enter", None))
            deadline = start + 10
            while pane.session.position == before:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"approving item {before + 1} did not move on within 10 s (a warning asking "
                                     "for a second Enter?): the benchmark's data should need one Enter per item")
                await asyncio.sleep(0)
            await until_repainted(pane)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def report(name: str, value: float, unit: str, target: float) -> None:
    print(f"{name:<52} {value:9.3f} {unit:<3} target < {target:g} {unit:<3} ratio {value / target:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 instead of 100,000 items, fewer repeats")
    args = parser.parse_args()
    big = 10_000 if args.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        small = make_data(Path(tmp, "small"), 1_200, 160)
        large = make_data(Path(tmp, "large"), big, big)
        # the first 1,200 teacher labels wait for review; gold holds the `big` items after them
        approve = make_data(Path(tmp, "approve"), big + 1_200, big)
        runs = 3
        small_times = [asyncio.run(time_to_first_item(small)) for _ in range(runs)]
        large_times = [asyncio.run(time_to_first_item(large)) for _ in range(2 if args.quick else runs)]
        latencies = asyncio.run(approve_latencies(approve, 30 if args.quick else 60))
    print(f"review app, headless 80x24, median of {runs} starts / {len(latencies)} approvals")
    report("first item, 1,200 labeled + 160 gold (s)", statistics.median(small_times), "s", 1)
    report(f"first item, {big:,} labeled + {big:,} gold (s)", statistics.median(large_times), "s", 3)
    report(f"approve-and-advance median, {big:,} gold (ms)", statistics.median(latencies), "ms", 50)
    print(f"approve-and-advance p90 (ms): {sorted(latencies)[int(len(latencies) * 0.9)]:.1f}")


if __name__ == "__main__":
    main()
