"""Builders for the files of a test data folder: default-schema labels, JSONL files and a small comments.csv."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from hcap_tui.comments import format_input

COLUMNS = ("race_comment", "main_race_comment", "finishing_position", "number_of_runners",
           "total_distance_beaten", "horse_name")
ROWS = [
    ("Made all, kept on gamely when pressed", "Strong race, good pace throughout", "1", "12", "0", "Alpha"),
    ("Denied clear run inside final furlong", "Modest affair", "3", "12", "2.5", "Beta"),
    ("Never travelling, beaten a long way out", "", "10", "16", "20", "Gamma"),
    ("Hung badly left under pressure, found nothing", "Slowly run", "7", "9", "6", "Delta"),
    ("Tracked leaders, every chance 1f out, one pace", "Competitive handicap", "2", "14", "1.5", "Echo"),
    ("Too short", "", "2", "8", "1", "Foxtrot"),  # not eligible: horse comment of 20 characters or fewer
]


def label(**overrides: Any) -> dict[str, Any]:
    """A default-schema label in schema order: all flags false, an average race, with overrides."""
    base = {
        "in_form": False,
        "out_of_form": False,
        "better_than_show": False,
        "worse_than_show": False,
        "race_strength": "average",
        "reasoning": "Nothing of note in the comment.",
    }
    return base | overrides


def write_jsonl(path: Path, records: Iterable[dict[str, Any]], *, extra: str = "") -> None:
    """Write records as a JSONL file, one object a line, as the user's own tools would, plus any raw `extra` text."""
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records) + extra, encoding="utf-8")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSONL file ([] when there is none); a blank or broken line fails the test."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_comments(data_dir: Path, rows: Sequence[Sequence[str]] = ROWS) -> Path:
    """Write `rows` (in COLUMNS order) as the data folder's comments.csv; returns the folder."""
    with (data_dir / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    return data_dir


def eligible_inputs(rows: Sequence[Sequence[str]] = ROWS) -> list[str]:
    """The formatted inputs of the eligible rows, in file order."""
    return [text for row in rows if (text := format_input(dict(zip(COLUMNS, row))))]
