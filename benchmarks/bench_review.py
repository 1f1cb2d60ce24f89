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
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from textual import events
from textual.widgets import ContentSwitcher

from hcap_tui.config import DataPaths, open_project
from hcap_tui.schema import LabelSchema
from hcap_tui.tui.app import ReviewApp, create_app
from hcap_tui.tui.widgets.review_pane import ReviewPane

WORDS = [
    "held",
    "up",
    "towards",
    "rear",
    "headway",
    "over",
    "2f",
    "out",
    "kept",
    "on",
    "well",
    "inside",
    "final",
    "furlong",
    "never",
    "nearer",
    "chased",
    "leaders",
    "ridden",
    "and",
    "weakened",
    "over",
    "1f",
    "out",
    "strong",
    "gallop",
    "modest",
    "affair",
    "slowly",
    "run",
    "denied",
    "clear",
    "run",
    "hampered",
    "rallied",
]


def comment(rng: random.Random, words: int) -> str:
    """Race-reader-like prose of about `words` words."""
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def record(schema: LabelSchema, rng: random.Random, n: int) -> dict:
    """A flat teacher label of a ~500-character item (the real median)."""
    text = f"{n % 14 + 2}th of 16, well beaten | [RACE]: {comment(rng, 50)} | [HORSE]: {comment(rng, 20)} #{n}"
    label = {f.name: rng.random() < 0.3 for f in schema.booleans}
    for _, second in schema.contradictions(label):
        label[second] = False  # a consistent label: approving it takes one Enter
    label |= {f.name: rng.choice(f.values) for f in schema.enums}
    label |= {f.name: comment(rng, 25) for f in schema.texts}
    return {"formatted_input": text, **label}


def make_data(root: Path, labeled: int, gold: int) -> DataPaths:
    """A data folder with `labeled` teacher labels and `gold` gold items (the first ones overlap)."""
    schema, rng = LabelSchema.default(), random.Random(7)
    paths = DataPaths(root)
    root.mkdir(parents=True, exist_ok=True)
    records = [record(schema, rng, n) for n in range(labeled + gold)]
    with paths.labeled.open("w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(r) + "\n" for r in records[:labeled])
    with paths.gold.open("w", encoding="utf-8") as handle:
        # Gold covers items beyond the labeled ones, so every labeled item still waits for review (an item already
        # in gold asks for a second Enter before it is replaced).
        handle.writelines(json.dumps(r) + "\n" for r in records[labeled:])
    return paths


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


async def approve_latencies(paths: DataPaths, count: int) -> list[float]:
    """Milliseconds from an Enter key event to the repaint showing the next item, `count` times."""
    app = create_app(open_project(paths.root), reviewer="bench")
    latencies = []
    async with app.run_test(size=(80, 24)) as pilot:
        pane = first_pane(app)
        while pane.session is None or pane.session.loading:
            await pilot.pause(0.01)
        await until_repainted(pane)
        for _ in range(count):
            before = pane.session.position
            start = time.perf_counter()
            app.post_message(events.Key("enter", None))
            while pane.session.position == before:
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
        approve = make_data(Path(tmp, "approve"), 1_200, big)
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
