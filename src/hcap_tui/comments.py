"""The user's comments.csv: eligibility, the exact `formatted_input` string, and random sampling.

`formatted_input` is both the model's input and the dedupe key against the user's existing labels,
so it reproduces their old dashboard's string character for character (see docs/architecture.md).
"""

from __future__ import annotations

import csv
import heapq
import math
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hcap_tui.errors import DataError

HORSE, RACE, POSITION, RUNNERS, BEATEN = (
    "race_comment",
    "main_race_comment",
    "finishing_position",
    "number_of_runners",
    "total_distance_beaten",
)
REQUIRED_COLUMNS = (HORSE, RACE, POSITION, RUNNERS, BEATEN)
MIN_HORSE_COMMENT = 20  # a horse comment must be longer than this to be worth labelling
# The pieces of a formatted_input; `input_parts.split_input` reads them back with the same constants.
WINNER, RACE_TAG, HORSE_TAG, PART_SEPARATOR = "Won", "[RACE]: ", "[HORSE]: ", " | "
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Comment:
    """One eligible row: the model input plus the row's other columns as metadata."""

    formatted_input: str
    row: int  # 1-based line number of the row's first line in the file
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommentCounts:
    """How many data rows a file has and how many of them are eligible."""

    rows: int
    eligible: int


def ordinal(n: int) -> str:
    """English ordinal: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 111th."""
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def distance_category(beaten: str) -> str | None:
    """The user's words for lengths beaten, or None when the distance is blank or not a number."""
    lengths = _number(beaten)
    if lengths is None:
        return None
    if lengths <= 3:
        return "involved in finish"
    if lengths <= 5:
        return "competitive"
    if lengths <= 8:
        return "fairly beaten"
    return "well beaten"


def format_input(row: dict[str, str]) -> str | None:
    """The model input for one CSV row, or None when the row is not eligible.

    Eligible: horse comment longer than 20 characters, numeric finishing position, runners present.
    """
    horse = row.get(HORSE) or ""
    position = _whole_number(row.get(POSITION) or "")
    runners_text = (row.get(RUNNERS) or "").strip()
    if len(horse.strip()) <= MIN_HORSE_COMMENT or position is None or not runners_text:
        return None
    runners = _whole_number(runners_text)
    runners_shown = str(runners) if runners is not None else runners_text
    if position == 1:
        parts = [WINNER]
    else:
        result = f"{ordinal(position)} of {runners_shown}"
        category = distance_category(row.get(BEATEN) or "")
        parts = [f"{result}, {category}" if category else result]
    race = row.get(RACE) or ""
    if race.strip():
        parts.append(RACE_TAG + race)
    parts.append(HORSE_TAG + horse)
    return PART_SEPARATOR.join(parts)


class CommentsFile:
    """A comments.csv on disk, read in one streaming pass per call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def header(self) -> list[str]:
        """The column names, after checking that the file exists and has the user's columns."""
        records = self._records()
        try:
            _, first = next(records)
        except StopIteration:
            raise DataError(f"{self.path} is empty: it needs a header row with {', '.join(REQUIRED_COLUMNS)}") from None
        finally:
            records.close()
        columns = [c.strip() for c in _parse_record(first, self.path, 1)]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            # Each required column is named once: the missing ones, then the ones the header already has.
            found = [c for c in REQUIRED_COLUMNS if c in columns]
            them = "it" if len(missing) == 1 else "them"
            rest = f"{them} plus {', '.join(found)}" if found else f"{them} all"
            raise DataError(
                f"{self.path} is missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}: "
                f"hcap needs {rest} in the header row"
            )
        return columns

    def __iter__(self) -> Iterator[Comment]:
        """Every eligible row, in file order."""
        columns = self.header()
        for line_no, raw in self._data_records():
            comment = _comment(columns, _parse_record(raw, self.path, line_no), line_no)
            if comment is not None:
                yield comment

    def count(self) -> CommentCounts:
        """Rows and eligible rows in the file."""
        columns = self.header()
        rows = eligible = 0
        for line_no, raw in self._data_records():
            rows += 1
            if _comment(columns, _parse_record(raw, self.path, line_no), line_no) is not None:
                eligible += 1
        return CommentCounts(rows=rows, eligible=eligible)

    def random_sample(self, count: int, seed: int | None = None, exclude: Iterable[str] = ()) -> list[Comment]:
        """`count` eligible comments drawn uniformly without replacement, skipping excluded inputs.

        Every row gets a random key from the seeded generator and the `count` smallest keys among
        eligible, non-excluded, distinct rows win. Only rows whose key could still win are parsed, so
        one pass over a 1,000,000-row file costs little more than reading it, and memory holds just
        the current winners. Fewer eligible rows than `count` returns them all. The result is in
        key order, which is a random order.
        """
        if count <= 0:
            return []
        excluded = exclude if isinstance(exclude, (set, frozenset)) else frozenset(exclude)
        columns = self.header()
        rng = random.Random(seed)
        draw = rng.random
        heap: list[tuple[float, int, Comment]] = []  # max-heap on key via negation
        chosen: set[str] = set()
        for line_no, raw in self._data_records():
            key = draw()
            if len(heap) >= count and key >= -heap[0][0]:
                continue
            comment = _comment(columns, _parse_record(raw, self.path, line_no), line_no)
            if comment is None or comment.formatted_input in excluded or comment.formatted_input in chosen:
                continue
            heapq.heappush(heap, (-key, line_no, comment))
            chosen.add(comment.formatted_input)
            if len(heap) > count:
                _, _, dropped = heapq.heappop(heap)
                chosen.discard(dropped.formatted_input)
        return [comment for _, _, comment in sorted(heap, key=lambda entry: -entry[0])]

    def _data_records(self) -> Iterator[tuple[int, bytes]]:
        """Every record after the header."""
        records = self._records()
        next(records, None)
        yield from records

    def _records(self) -> Iterator[tuple[int, bytes]]:
        """Raw CSV records with their first line number, split without decoding or parsing.

        A record ends at a newline outside quotes; quotes balance in pairs (`""` escapes one),
        so a record is complete once its quote count is even. A quote left open at the end of the
        file is an error rather than one giant record that would swallow every row after it.
        """
        try:
            handle = self.path.open("rb", buffering=1 << 20)
        except FileNotFoundError:
            raise DataError(f"{self.path} not found: put your comments.csv there, or name it with --csv") from None
        except OSError as exc:
            raise DataError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        with handle:
            pending: list[bytes] = []
            quotes = 0
            start = 0
            for line_no, line in enumerate(handle, start=1):
                if line_no == 1 and line.startswith(_BOM):
                    line = line[len(_BOM) :]
                if not pending:
                    start = line_no
                pending.append(line)
                quotes += line.count(b'"')
                if quotes % 2:
                    continue
                record = pending[0] if len(pending) == 1 else b"".join(pending)
                pending, quotes = [], 0
                if record.strip():
                    yield start, record
            if pending:
                raise DataError(
                    f"{self.path} line {start} opens a quoted cell that is never closed: "
                    'fix its quotes (a quote inside a cell is written "")'
                )


def _parse_record(raw: bytes, path: Path, line_no: int) -> list[str]:
    """Decode and split one raw record into its cells."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path} line {line_no} is not UTF-8: re-save the file as UTF-8") from None
    try:
        return next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error:
        raise DataError(
            f"{path} line {line_no} is not a valid CSV row (a quote or line break is out of place): "
            "fix its quotes or save the file with \\n or \\r\\n line endings"
        ) from None


def _comment(columns: list[str], cells: list[str], line_no: int) -> Comment | None:
    """An eligible Comment from a parsed row, or None."""
    row = dict(zip(columns, cells))
    formatted = format_input(row)
    if formatted is None:
        return None
    metadata = {k: v for k, v in row.items() if k and k not in REQUIRED_COLUMNS and v != ""}
    return Comment(formatted_input=formatted, row=line_no, metadata=metadata)


def _number(text: str) -> float | None:
    """A finite number from a cell, or None for blanks and text such as 'nk' or 'PU'."""
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _whole_number(text: str) -> int | None:
    """A positive whole number from a cell ('3' or a spreadsheet's '3.0'), else None."""
    value = _number(text)
    if value is None or value < 1 or value != int(value):
        return None
    return int(value)
