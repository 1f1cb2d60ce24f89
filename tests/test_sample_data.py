"""The bundled sample data and its seeded generator: repeatable, well formed, and shaped like the user's files."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from hcap_tui.comments import CommentsFile, format_input
from hcap_tui.config import DataPaths
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "generate_sample_data.py"
SHIPPED = REPO / "data"
SIGNALS = ("in_form", "out_of_form", "better_than_show", "worse_than_show")
LABEL_KEYS = ("formatted_input", *SIGNALS, "race_strength", "reasoning")
OLD_FLAGS = {"gemini_labeled": True, "human_verified": False, "human_corrected": False}
SHORTHAND = (
    "trckd ldr",
    "chsd ldr",
    "hld up",
    "in tch",
    "hdwy",
    "nt clr run",
    "kpt on",
    "wknd",
    "one pce",
    "nvr dngrs",
    "dwlt",
    "s.i.s",
    "ins fnl f",
    "rdn",
    "r.o",
    "styd on",
    "swtchd",
    "lost pl",
    "outpcd",
)


def run_generator(out: Path, *args: str, hash_seed: str = "0") -> None:
    """Run the script as a user would, failing the test with its stderr if it fails."""
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "labels" in done.stdout


@pytest.fixture(scope="module")
def generator() -> Iterator[ModuleType]:
    """The generator script imported as a module, as benchmarks import it: with scripts/ on the import path."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(SCRIPT.parent))
        yield importlib.import_module(SCRIPT.stem)


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    """The shipped comments.csv, parsed by the standard csv module."""
    with (SHIPPED / "comments.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def eligible(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The shipped rows that make a model input."""
    return [row for row in rows if format_input(row) is not None]


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    """The shipped labeled.jsonl lines, in file order."""
    return [json.loads(line) for line in (SHIPPED / "labeled.jsonl").read_text(encoding="utf-8").splitlines()]


def test_generator_is_deterministic(tmp_path: Path, generator: ModuleType) -> None:
    run_generator(tmp_path / "a", "--rows", "400", "--labels", "30", "--seed", "3", hash_seed="1")
    run_generator(tmp_path / "b", "--rows", "400", "--labels", "30", "--seed", "3", hash_seed="2")
    run_generator(tmp_path / "c", "--rows", "400", "--labels", "30", "--seed", "4")
    for name in ("comments.csv", "labeled.jsonl"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert len((tmp_path / "a" / "labeled.jsonl").read_text(encoding="utf-8").splitlines()) == 30
    generator.write_comments_csv(tmp_path / "big.csv", 400, 3)
    assert (tmp_path / "big.csv").read_bytes() == (tmp_path / "a" / "comments.csv").read_bytes()


def test_shipped_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    run_generator(tmp_path)
    for name in ("comments.csv", "labeled.jsonl"):
        assert (tmp_path / name).read_bytes() == (SHIPPED / name).read_bytes(), f"regenerate data/{name}"


def test_shipped_csv_reads_through_comments_file() -> None:
    comments = CommentsFile(SHIPPED / "comments.csv")
    counts = comments.count()
    assert counts.rows >= 3000
    assert counts.eligible >= 2500
    first = next(iter(comments))
    assert set(first.metadata) == {"horse_name", "race_date", "course", "race_id"}


def test_csv_is_utf8_with_plain_newlines_and_standard_quoting(rows: list[dict[str, str]]) -> None:
    raw = (SHIPPED / "comments.csv").read_bytes()
    assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    rewritten = io.StringIO()
    csv.writer(rewritten, lineterminator="\n").writerows(csv.reader(io.StringIO(text, newline="")))
    assert rewritten.getvalue() == text
    horse_comments = [row["race_comment"] for row in rows]
    assert any("\n" in comment for comment in horse_comments)
    assert any('"' in comment for comment in horse_comments)
    assert any(not name.isascii() for name in (row["horse_name"] for row in rows))


def test_rows_are_grouped_by_race(rows: list[dict[str, str]]) -> None:
    races: dict[str, list[dict[str, str]]] = {}
    previous = None
    for row in rows:
        assert row["race_id"] == previous or row["race_id"] not in races, "a race's rows must be contiguous"
        races.setdefault(row["race_id"], []).append(row)
        previous = row["race_id"]
    for runners in races.values():
        assert len({row["main_race_comment"] for row in runners}) == 1
        assert all(row["number_of_runners"] == str(len(runners)) for row in runners)
        assert runners[0]["finishing_position"] == "1" and runners[0]["total_distance_beaten"] in ("0", "")
    written = [runners[0]["main_race_comment"] for runners in races.values() if runners[0]["main_race_comment"]]
    assert len(set(written)) == len(written)


def test_comment_lengths_match_the_users_data(rows: list[dict[str, str]], eligible: list[dict[str, str]]) -> None:
    horse = [len(row["race_comment"]) for row in eligible]
    assert min(horse) >= 60 and max(horse) <= 500
    assert 90 <= statistics.median(horse) <= 250
    race = [len(row["main_race_comment"]) for row in rows if row["main_race_comment"]]
    assert min(race) >= 200 and max(race) <= 1180
    assert 300 <= statistics.median(race) <= 500
    inputs = [len(format_input(row) or "") for row in eligible]
    assert 1650 <= max(inputs) <= 1717
    assert 480 <= statistics.median(inputs) <= 560


def test_labelled_items_and_reasoning_have_the_users_shapes(labels: list[dict]) -> None:
    """The user's teacher labels: 259-1,717 characters (median ~515), reasoning a median of 5 lines at 80 columns."""
    inputs = [len(line["formatted_input"]) for line in labels]
    assert min(inputs) >= 259 and max(inputs) >= 1550
    assert 480 <= statistics.median(inputs) <= 560
    lines = [len(textwrap.wrap(line["reasoning"], 80)) for line in labels]
    assert statistics.median(lines) == 5
    assert sum(n > 3 for n in lines) >= 0.97 * len(lines)


def test_edge_cases_appear_at_low_rates(rows: list[dict[str, str]]) -> None:
    positions = Counter(row["finishing_position"] for row in rows if not row["finishing_position"].isdigit())
    assert set(positions) == {"PU", "F", "UR"}
    assert sum(positions.values()) < 0.03 * len(rows)
    distances = Counter(row["total_distance_beaten"] for row in rows if row["finishing_position"] == "2")
    assert distances["nk"] and distances["hd"]
    assert any(
        row["total_distance_beaten"] == "" and row["finishing_position"] not in ("1", "PU", "F", "UR") for row in rows
    )
    blank_race = sum(not row["main_race_comment"] for row in rows)
    assert 0 < blank_race < 0.05 * len(rows)
    too_short = [row for row in rows if len(row["race_comment"]) <= 20]
    assert too_short and len(too_short) < 0.03 * len(rows)
    assert all(format_input(row) is None for row in too_short)


def test_comments_are_varied_and_use_shorthand(eligible: list[dict[str, str]]) -> None:
    comments = [row["race_comment"] for row in eligible]
    assert len(set(comments)) >= 0.95 * len(comments)
    openings = Counter(comment[:25] for comment in comments)
    assert openings.most_common(1)[0][1] < 0.03 * len(comments)
    with_shorthand = [c for c in comments if any(word in c for word in SHORTHAND)]
    assert 0.15 * len(comments) <= len(with_shorthand) <= 0.5 * len(comments)
    assert any("2f out" in c for c in with_shorthand) and any(
        "2f out" in c for c in comments if c not in with_shorthand
    )


def test_shipped_labels_load_cleanly_for_eligible_comments(labels: list[dict], schema: LabelSchema) -> None:
    loaded = Store(DataPaths(SHIPPED), schema).labeled()
    assert loaded.problems == []
    assert len(loaded.items) == len(labels) == 200
    inputs = {comment.formatted_input for comment in CommentsFile(SHIPPED / "comments.csv")}
    assert {item.formatted_input for item in loaded.items} <= inputs
    assert len({item.formatted_input for item in loaded.items}) == 200


def test_label_lines_are_flat_with_old_and_new_provenance(labels: list[dict]) -> None:
    old = [line for line in labels if "gemini_labeled" in line]
    assert 25 <= len(old) <= 35
    for line in labels:
        keys = tuple(line)
        assert keys[: len(LABEL_KEYS)] == LABEL_KEYS
        extra = {key: line[key] for key in keys[len(LABEL_KEYS) :]}
        if line in old:
            assert extra == OLD_FLAGS
        else:
            assert extra["teacher"] == "gemini" and extra["model"] == "gemini-2.5-flash"
            assert extra["created_at"].endswith("+00:00")


def test_label_shares_follow_the_users_distribution(labels: list[dict]) -> None:
    share = {signal: sum(line[signal] for line in labels) / len(labels) for signal in SIGNALS}
    assert 0.33 <= share["in_form"] <= 0.47
    assert 0.10 <= share["out_of_form"] <= 0.20
    assert 0.28 <= share["better_than_show"] <= 0.42
    assert 0.02 <= share["worse_than_show"] <= 0.08
    strengths = Counter(line["race_strength"] for line in labels)
    assert set(strengths) == {"strong", "average", "weak", "no_signal"}
    assert min(strengths.values()) >= 0.05 * len(labels)


def test_reasoning_quotes_the_comment_in_two_to_four_sentences(labels: list[dict]) -> None:
    for line in labels:
        quotes = re.findall(r"“([^”]+)”", line["reasoning"])
        assert quotes, line["reasoning"]
        assert all(quote in line["formatted_input"] for quote in quotes)
        unquoted = re.sub(r"“[^”]+”", "Q", line["reasoning"])
        assert unquoted.endswith(".") and unquoted.count(". ") + 1 in (2, 3, 4), line["reasoning"]


def test_teacher_is_right_about_nine_times_in_ten(labels: list[dict], generator: ModuleType) -> None:
    truth = {}
    for runner in generator.generate_runners(3200, 7):
        formatted = format_input(dict(zip(generator.COLUMNS, runner.cells)))
        flags = {signal: signal in runner.evidence for signal in SIGNALS}
        truth[formatted] = dict(flags, race_strength=runner.strength)
    wrong = [line for line in labels if any(line[k] != v for k, v in truth[line["formatted_input"]].items())]
    assert 0.07 * len(labels) <= len(wrong) <= 0.13 * len(labels)
