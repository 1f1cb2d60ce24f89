"""The output joined with the input CSV, as one CSV table for a spreadsheet or pandas (`hcap apply --format csv`).

One row per eligible row of the input CSV that has a line in the output, in the input's order: every
input column as it is, then formatted_input, the label fields in schema order, `status` and `error` (for
a failed line), `model`, `model_digest` and `created_at`. Booleans are written `true`/`false`. An input
column named like one of hcap's columns is written as `csv_<name>`, as in the JSONL output.

Memory holds the offset of each comment's line in the output (a few megabytes for 130,000 comments);
the table is streamed into a temporary file and moved into place, so a reader sees the old table or the
new one, whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from hcap_tui.apply.output import FAILURE, INPUT, PROVENANCE, RENAMED_PREFIX, input_key, record_key
from hcap_tui.comments import format_input
from hcap_tui.errors import DataError
from hcap_tui.jsonl import JsonlFile, write_atomic
from hcap_tui.schema import LabelSchema

ROWS_PER_CHUNK = 1000


def csv_path_for(output: Path) -> Path:
    """Where the table of an output goes: beside it, with the suffix `.csv` (signals.jsonl → signals.csv)."""
    return output.with_suffix(".csv")


def write_table(schema: LabelSchema, output: Path, comments: Path, destination: Path) -> int:
    """Write the joined table to `destination` atomically; returns its data rows."""
    offsets = _offsets(output)
    signal_columns = [INPUT, *schema.names, *[f for f in FAILURE if f != "raw"], *PROVENANCE]
    rows = 0

    def chunks() -> Iterator[bytes]:
        nonlocal rows
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        with comments.open("r", encoding="utf-8-sig", newline="") as source, _lines(output) as lines:
            reader = csv.reader(source)
            header = [name.strip() for name in next(reader, [])]
            writer.writerow([*_renamed(header, set(signal_columns)), *signal_columns])
            for cells in reader:
                formatted = format_input(dict(zip(header, cells)))
                offset = None if formatted is None else offsets.get(input_key(formatted))
                if offset is None:
                    continue
                lines.seek(offset)
                record = json.loads(lines.readline())
                writer.writerow([*cells, *(_cell(record.get(name)) for name in signal_columns)])
                rows += 1
                if rows % ROWS_PER_CHUNK == 0:
                    yield buffer.getvalue().encode("utf-8")
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    try:
        write_atomic(destination, chunks())
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot read {comments} for the CSV table ({exc}): hcap check names the bad row") from None
    return rows


def _lines(output: Path) -> BinaryIO:
    """The output opened for reading lines at offsets; an empty stream when there is no output yet."""
    try:
        return output.open("rb")
    except FileNotFoundError:
        return io.BytesIO()


def _offsets(output: Path) -> dict[int, int]:
    """The offset of the last line of each comment in the output."""
    offsets: dict[int, int] = {}
    for line in JsonlFile(output).stream():
        if isinstance(line.value, dict) and (key := record_key(line.value)) is not None:
            offsets[key] = line.offset
    return offsets


def _renamed(header: list[str], taken: set[str]) -> list[str]:
    """The input's column names, each one that hcap also writes prefixed until it is unique."""
    names = []
    for name in header:
        while name in taken:
            name = RENAMED_PREFIX + name
        taken.add(name)
        names.append(name)
    return names


def _cell(value: Any) -> str:
    """A JSON value as a CSV cell: booleans as true/false, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
