"""Speed of `hcap stats` and of the scoring half of `hcap eval` at 100,000 lines per file.

Prints figures beside their targets and never asserts; run it with `python3 benchmarks/bench_eval_stats.py`.
Scratch files live under `benchmarks/.work/eval_stats/` and are rewritten on each run; the items come from the
benchmarks' one generator (`archive.py`): the eligible rows of a 130,000-row comments.csv (the user's size) with
teacher labels of the real items' lengths.

- stats: `compute_stats` over a 100,000-line goldstandard.jsonl (every line with review provenance, half from
  the teacher, half from three model versions) and a 100,000-line labeled.jsonl. Target: under 5 s.
  Also shown, without a target: the same with a 130,000-row comments.csv to count (the user's size).
- eval: everything `hcap eval` does except asking the model, on 100,000 held-out items: read eval_data.jsonl,
  resolve each reference against 100,000 gold lines, read 100,000 teacher labels, score the model (its labels
  precomputed, since the model is not what is measured) and the teacher, and build the JSON. Target: under 5 s.
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

from archive import WORK, archive_inputs, comments_csv, flipped, gold_record, random_label, teacher_record, write_lines

from hcap_tui.config import DataPaths, open_project
from hcap_tui.evaluation import EvalResult, compare, load_eval_set, teacher_labels
from hcap_tui.schema import LabelSchema
from hcap_tui.stats import compute_stats
from hcap_tui.store import Store

FOLDER = WORK / "eval_stats"
LINES = 100_000
CSV_ROWS = 130_000
TARGET_S = 5.0
RUNS = 3
SEED = 11
DIGEST = "sha256:" + "a" * 64


def build(schema: LabelSchema) -> tuple[DataPaths, dict[str, dict[str, Any]]]:
    """A data folder with 100,000 lines in each file, and the model's precomputed labels per held-out item."""
    shutil.rmtree(FOLDER, ignore_errors=True)
    FOLDER.mkdir(parents=True)
    paths = DataPaths(FOLDER)
    inputs = archive_inputs(comments_csv(CSV_ROWS), LINES)
    rng = random.Random(SEED)
    teacher = {text: random_label(schema, rng) for text in inputs}
    # The teacher labeled every item; gold holds every item, reviewed from the teacher or from a model version.
    write_lines(paths.labeled, [teacher_record(schema, text, label) for text, label in teacher.items()])
    write_lines(paths.gold, [
        gold_record(schema, text, proposed, flipped(schema, rng, proposed, 0.1), i)
        for i, (text, proposed) in enumerate(teacher.items())
    ])
    write_lines(paths.eval, [{"prompt": text, "completion": schema.dumps(label)} for text, label in teacher.items()])
    model = {text: flipped(schema, rng, label, 0.15) for text, label in teacher.items()}
    return paths, model


def best_of(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """The fastest of `runs` timed calls: (wall seconds, CPU seconds of that call)."""
    timings = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        timings.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(timings)


def score_eval(paths: DataPaths, schema: LabelSchema, model: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """`hcap eval --json` without the model calls: read, resolve, score both sides, build the JSON object."""
    store = Store(paths, schema)
    eval_set = load_eval_set(store)
    teacher, _ = teacher_labels(store, {item.formatted_input for item in eval_set.items})
    result = EvalResult("flat-hcap", DIGEST, "2025-01-03T00:00:00+00:00", compare(schema, eval_set, model, teacher))
    return result.to_dict()


def report(what: str, timing: tuple[float, float]) -> None:
    """One line: the figure, its CPU time (the wall time suffers when other work shares the cores), the target."""
    wall, cpu = timing
    print(
        f"{what}: best {wall:.2f} s of {RUNS} ({cpu:.2f} s CPU) "
        f"(target < {TARGET_S:g} s, {wall / TARGET_S:.2f}x of budget)"
    )


def main() -> None:
    """Build the files, then time stats and eval scoring."""
    schema = LabelSchema.default()
    started = time.perf_counter()
    paths, model = build(schema)
    built = time.perf_counter() - started
    print(f"built {LINES:,}-line gold, labeled and eval files in {built:.1f} s", file=sys.stderr)
    project = open_project(paths.root)

    stats = compute_stats(project)
    assert stats.gold == LINES and stats.labeled == LINES, "the benchmark data did not load"
    report(f"compute_stats, {LINES:,} gold + {LINES:,} labeled lines", best_of(RUNS, lambda: compute_stats(project)))

    data = score_eval(paths, schema, model)
    assert data["n"] == LINES and data["teacher"]["n"] == LINES, "the benchmark data did not load"
    timing = best_of(RUNS, lambda: score_eval(paths, schema, model))
    report(f"eval scoring, {LINES:,} items (model labels precomputed)", timing)

    paths.comments.symlink_to(comments_csv(CSV_ROWS))
    wall, cpu = best_of(RUNS, lambda: compute_stats(project))
    print(
        f"compute_stats as above plus counting a {CSV_ROWS:,}-row comments.csv: best {wall:.2f} s of {RUNS} "
        f"({cpu:.2f} s CPU) (no target; counting eligible rows parses the whole CSV)"
    )


if __name__ == "__main__":
    main()
