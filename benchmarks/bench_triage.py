"""Speed, memory and ranking quality of `hcap triage`.

Prints figures beside their targets and never asserts; run it with `python3 benchmarks/bench_triage.py`.
Scratch folders live under `benchmarks/.work/triage/` and are rebuilt on each run.

- acceptance: `hcap triage --json --top 0` as a user runs it (a fresh process, start-up and scikit-learn's import
  included) on 1,200 teacher labels, target under 10 s on 2 cores; the output must list every label not in gold.
- speed and memory: `triage()` on 1,000 and 100,000 teacher labels of generated comments (realistic lengths:
  formatted_input median about 560 characters, the user's about 515), each size in a child process of its own so
  the peak resident memory is that run's alone. Beside each, the reference measured the same way: a child that
  imports scikit-learn and reads the same files without training, so the ratio is what the student itself costs.
- quality, on a folder with gold: the share of teacher errors among the 20 most suspect gold items, and the AUROC
  of the ranking against gold, for the item score as the product of per-signal confidences (what triage ranks by)
  and as the weakest signal (the minimum). By default on generated folders built like the bundled sample data
  (teacher labels right about nine times in ten, the first 160 in gold holding the truth the generator knows); those
  errors are random misreads rather than a real teacher's, so the figure there only shows the code works. With
  `--data-dir D` the same figures come from a real folder (the target on the user's data: at least 45% teacher
  errors in the top 20).

    python3 benchmarks/bench_triage.py [--data-dir D] [--quick]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from hcap_tui.config import DataPaths, open_project
from hcap_tui.jsonl import encode
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record
from hcap_tui.triage import GoldCheck, triage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from generate_sample_data import FastRandom, Runner, eligible_runners, generate_runners  # scripts, imported by path
from sample_labels import teacher_labels

WORK = ROOT / "benchmarks" / ".work" / "triage"
ACCEPTANCE_ITEMS = 1_200
ACCEPTANCE_TARGET_S = 10.0
SIZES = (1_000, 100_000)
QUALITY_ITEMS, QUALITY_GOLD = 1_200, 160  # the user's sizes
QUALITY_SEEDS = (7, 8, 9, 10, 11)
MISREAD_RATE = 0.1  # as the bundled sample's teacher


def truth(schema: LabelSchema, runner: Runner) -> dict[str, Any]:
    """What the generator built a runner's comment from: its flags' evidence and its race's strength."""
    label: dict[str, Any] = {}
    for f in schema.fields:
        if f.kind == "bool":
            label[f.name] = f.name in runner.evidence
        elif f.kind == "enum":
            label[f.name] = runner.strength
        else:
            label[f.name] = "Quotes the words the decision rests on."
    return label


def misread(schema: LabelSchema, rng: random.Random, label: dict[str, Any]) -> dict[str, Any]:
    """A copy of `label` with one signal wrong: a flag flipped or another enum value."""
    wrong = dict(label)
    f = rng.choice(schema.signals)
    wrong[f.name] = (not label[f.name]) if f.kind == "bool" else rng.choice([v for v in f.values if v != label[f.name]])
    return wrong


def write(path: Path, records: list[dict[str, Any]]) -> None:
    """Write records as JSONL in one go (setup, not measured)."""
    path.write_bytes(b"".join(encode(record) for record in records))


def speed_folder(schema: LabelSchema, items: int) -> Path:
    """A folder with `items` teacher labels of generated comments, one in ten misread, and no gold."""
    folder = WORK / f"speed-{items}"
    folder.mkdir(parents=True)
    rng = random.Random(items)
    runners = list(eligible_runners(generate_runners(int(items * 1.06) + 100, seed=items)).items())[:items]
    assert len(runners) == items, f"only {len(runners)} eligible generated rows"
    records = []
    for text, runner in runners:
        label = truth(schema, runner)
        records.append(flat_record(schema, text, misread(schema, rng, label) if rng.random() < MISREAD_RATE else label,
                                   teacher="gemini", model="bench"))
    write(DataPaths(folder).labeled, records)
    return folder


def quality_folder(schema: LabelSchema, seed: int) -> Path:
    """1,200 teacher labels made as the bundled sample's are, the first 160 of them in gold with their truth."""
    folder = WORK / f"quality-{seed}"
    folder.mkdir(parents=True)
    eligible = eligible_runners(generate_runners(QUALITY_ITEMS * 4, seed))
    labels = teacher_labels(eligible, QUALITY_ITEMS, FastRandom(f"labels-{seed}"), schema)
    write(DataPaths(folder).labeled, labels)
    gold = [
        flat_record(schema, record["formatted_input"], truth(schema, eligible[record["formatted_input"]]),
                    origin="gemini", reviewer="bench")
        for record in labels[:QUALITY_GOLD]
    ]
    write(DataPaths(folder).gold, gold)
    return folder


def child(folder: Path, train: bool) -> None:
    """Run in a fresh process: triage the folder (or, for the reference, only read it and import scikit-learn) and
    print wall and CPU seconds and peak resident memory as JSON."""
    wall, cpu = time.perf_counter(), time.process_time()
    project = open_project(folder)
    store = Store(project.paths, project.schema)
    if train:
        result = triage(store)
        listed = len(result.suspects)
    else:
        import sklearn.linear_model  # noqa: F401  (what triage imports)

        listed = len(store.labeled().items) + len(store.gold().by_input)
    print(json.dumps({
        "wall": time.perf_counter() - wall,
        "cpu": time.process_time() - cpu,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "listed": listed,
    }))


def in_child(folder: Path, train: bool) -> dict[str, float]:
    """The figures of one child run."""
    mode = "--child-train" if train else "--child-read"
    done = subprocess.run([sys.executable, __file__, mode, str(folder)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def acceptance(schema: LabelSchema) -> None:
    """`hcap triage --json --top 0` on 1,200 labels, timed from outside as a user would see it."""
    folder = speed_folder(schema, ACCEPTANCE_ITEMS)
    hcap = Path(sys.executable).with_name("hcap")
    command = [str(hcap) if hcap.exists() else "hcap", "triage", "--json", "--top", "0", "--data-dir", str(folder)]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    out = json.loads(done.stdout)
    assert out["shown"] == out["pending"] == ACCEPTANCE_ITEMS, "triage did not list every label"
    print(
        f"hcap triage --json --top 0, {ACCEPTANCE_ITEMS:,} teacher labels (fresh process): {wall:.2f} s "
        f"(target < {ACCEPTANCE_TARGET_S:g} s, {wall / ACCEPTANCE_TARGET_S:.2f}x of budget); "
        f"{out['shown']:,} items listed"
    )


def speed(schema: LabelSchema, sizes: tuple[int, ...]) -> None:
    """Time and peak memory of ranking each size, against reading it."""
    for items in sizes:
        started = time.perf_counter()
        folder = speed_folder(schema, items)
        print(f"built {items:,} teacher labels in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        reference = in_child(folder, train=False)
        run = in_child(folder, train=True)
        assert run["listed"] == items, "triage did not rank every label"
        print(
            f"rank {items:,} teacher labels: {run['wall']:.1f} s wall ({run['cpu']:.1f} s CPU), peak {run['peak_mb']:,.0f} "
            f"MB; reference (import scikit-learn, read the files): {reference['wall']:.1f} s, "
            f"{reference['peak_mb']:,.0f} MB; ratio {run['wall'] / reference['wall']:.1f}x time, "
            f"{run['peak_mb'] / reference['peak_mb']:.1f}x memory"
        )


def show_check(what: str, check: GoldCheck) -> None:
    """The ranking's figures against gold, both item scores side by side."""
    lift = check.top_precision / check.base_rate if check.base_rate else float("nan")
    print(
        f"{what}: {check.items} gold items, {check.errors} teacher errors (base rate {check.base_rate:.1%}); "
        f"top {check.top}: {check.top_errors} errors ({check.top_precision:.0%}, {lift:.1f}x base rate); "
        f"AUROC product {_fmt(check.auroc)}, minimum {_fmt(check.auroc_weakest)}"
    )
    caught = ", ".join(f"{name} {c['caught']}/{c['errors']}" for name, c in check.fields.items() if c["errors"])
    print(f"  teacher errors the student disputed, per signal: {caught or 'none'}")


def quality(schema: LabelSchema, seeds: tuple[int, ...]) -> None:
    """Top-20 precision and AUROC (product and minimum) on generated folders with gold."""
    aurocs: dict[str, list[float]] = {"product": [], "minimum": []}
    for seed in seeds:
        folder = quality_folder(schema, seed)
        check = triage(Store(DataPaths(folder), schema)).check
        assert check is not None, "the quality folder has no gold"
        show_check(f"generated folder, seed {seed}", check)
        if check.auroc is not None and check.auroc_weakest is not None:
            aurocs["product"].append(check.auroc)
            aurocs["minimum"].append(check.auroc_weakest)
    if aurocs["product"]:
        print(
            f"mean AUROC over {len(aurocs['product'])} generated folders: product "
            f"{statistics.mean(aurocs['product']):.3f}, minimum {statistics.mean(aurocs['minimum']):.3f} "
            "(generated teacher errors: shows the code works, not how a real teacher's errors rank)"
        )


def real_folder(path: Path) -> None:
    """The same quality figures on a real data folder."""
    project = open_project(path)
    started = time.perf_counter()
    result = triage(Store(project.paths, project.schema))
    print(f"{path}: {result.labeled:,} teacher labels ranked in {time.perf_counter() - started:.1f} s")
    if result.check is None:
        print(f"{path}: gold holds none of the teacher's items, so there is nothing to measure the ranking against")
        return
    show_check(str(path), result.check)
    print("  target on the user's data: at least 45% teacher errors in the top 20")


def _fmt(value: float | None) -> str:
    """An AUROC, or a dash when it is undefined (no errors, or nothing but errors)."""
    return "–" if value is None else f"{value:.3f}"


def main() -> None:
    """Acceptance, speed and memory, then quality (on --data-dir when given)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="a real data folder with gold to measure the ranking on")
    parser.add_argument("--quick", action="store_true", help="skip the 100,000-label run")
    parser.add_argument("--child-train", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-read", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_train or args.child_read:
        child(args.child_train or args.child_read, train=bool(args.child_train))
        return
    schema = LabelSchema.default()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    acceptance(schema)
    speed(schema, SIZES[:1] if args.quick else SIZES)
    if args.data_dir:
        real_folder(args.data_dir)
    quality(schema, QUALITY_SEEDS[:2] if args.quick else QUALITY_SEEDS)


if __name__ == "__main__":
    main()
