"""The user's comments.csv: eligibility, the exact `formatted_input` string, and random sampling.

`formatted_input` is both the model's input and the dedupe key against the user's existing labels,
so it reproduces their old dashboard's string character for character (see docs/architecture.md).
"""

from __future__ import annotations

import csv
import heapq
import itertools
import math
import os
import pickle
import random
import subprocess
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcap_tui.errors import DataError
from hcap_tui.jsonl import LineProblem

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
COUNT_ASIDE_FROM = 32 * 2**20  # bytes of comments.csv (about 55,000 rows) from which `count_aside` pays off
NOT_UTF8 = "not UTF-8 text (re-save the file as UTF-8)"

# A record is already whole in memory when the csv module splits it, so its per-cell limit (128 KiB by
# default, which would turn one long, correctly quoted comment into a parse error) guards nothing here.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))


@dataclass(frozen=True)
class Comment:
    """One eligible row: the model input plus the row's other columns as metadata."""

    formatted_input: str
    row: int  # 1-based line number of the row's first line in the file
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CommentCounts:
    """How many data rows a file has, how many of them are eligible, and the rows that cannot be read right."""

    rows: int
    eligible: int
    problems: list[LineProblem] = field(default_factory=list)


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

    Eligible: horse comment longer than 20 characters, a whole-number finishing position, a whole number
    of runners no smaller than it, and a distance beaten that is blank, text or not negative.
    """
    horse = row.get(HORSE) or ""
    beaten = row.get(BEATEN) or ""
    placing = _eligible_placing(horse, row.get(POSITION) or "", row.get(RUNNERS) or "", beaten)
    if placing is None:
        return None
    position, runners = placing
    if position == 1:
        parts = [WINNER]
    else:
        result = f"{ordinal(position)} of {runners}"
        category = distance_category(beaten)
        parts = [f"{result}, {category}" if category else result]
    race = row.get(RACE) or ""
    if race.strip():
        parts.append(RACE_TAG + race)
    parts.append(HORSE_TAG + horse)
    return PART_SEPARATOR.join(parts)


def _eligible_placing(horse: str, position_text: str, runners_text: str, beaten: str) -> tuple[int, int] | None:
    """(position, runners) of an eligible row's cells, None when the row is not eligible (see `format_input`)."""
    if len(horse.strip()) <= MIN_HORSE_COMMENT:
        return None
    position = _whole_number(position_text)
    runners = _whole_number(runners_text)
    if position is None or runners is None or position > runners:
        return None
    lengths = _number(beaten)
    if lengths is not None and lengths < 0:
        return None
    return position, runners


def row_problem(row: dict[str, str]) -> str | None:
    """Why a row's numbers cannot be right (so it is not eligible, and `hcap check` lists it), or None.

    Text where a number is expected is fine for the finishing position (PU, F, UR) and the distance
    (nk, shd); a number of runners that is not a whole number above 0, a position behind the last
    runner, or a negative distance beaten are not.
    """
    return _cells_problem(row.get(POSITION) or "", row.get(RUNNERS) or "", row.get(BEATEN) or "")


def _cells_problem(position_text: str, runners_text: str, beaten: str) -> str | None:
    """`row_problem` of a row's position, runners and distance beaten cells."""
    runners_text = runners_text.strip()
    if not runners_text:
        return None
    runners = _whole_number(runners_text)
    if runners is None:
        return f"{RUNNERS} {runners_text!r} is not a whole number of runners"
    position = _whole_number(position_text)
    if position is not None and position > runners:
        return f"{POSITION} {position} is behind the last of {runners} runners"
    lengths = _number(beaten)
    if lengths is not None and lengths < 0:
        return f"{BEATEN} {beaten.strip()!r} is negative"
    return None


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
        try:
            columns = [c.strip() for c in _parse_record(first)]
        except _BadRow as exc:
            raise DataError(f"{self.path} line 1 (the header row) is {exc}") from None
        repeated = sorted({c for c in columns if c and columns.count(c) > 1}, key=columns.index)
        if repeated:
            named = f"columns {', '.join(repeated)}" if len(repeated) > 1 else f"column {repeated[0]}"
            raise DataError(
                f"{self.path} has the {named} more than once in its header row: rename or remove the repeats"
            )
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
        for entry in self.scan():
            if isinstance(entry, Comment):
                yield entry

    def scan(self) -> Iterator[Comment | LineProblem | None]:
        """Each data row in file order: a Comment when eligible, a LineProblem when it cannot be read right
        (not UTF-8, not CSV, the wrong number of cells, impossible numbers), None when merely not eligible."""
        columns = self.header()
        for line_no, cells in self._data_cells():
            yield self._entry(columns, cells, line_no)

    def count(self) -> CommentCounts:
        """Rows and eligible rows in the file, and the rows that cannot be read right: what `scan` says of each
        row, found from only the cells eligibility reads (no Comment is built)."""
        columns = self.header()
        width = len(columns)
        horse, position, runners, beaten = (columns.index(name) for name in (HORSE, POSITION, RUNNERS, BEATEN))
        rows = eligible = 0
        problems: list[LineProblem] = []
        for line_no, cells in self._data_cells():
            rows += 1
            if type(cells) is str:
                problems.append(LineProblem(self.path, line_no, f"{cells}; skipped"))
            elif len(cells) != width:
                problems.append(LineProblem(self.path, line_no, _width_problem(len(cells), width)))
            elif (verdict := _verdict(cells[horse], cells[position], cells[runners], cells[beaten])) is True:
                eligible += 1
            elif verdict:
                problems.append(LineProblem(self.path, line_no, f"{verdict}; skipped"))
        return CommentCounts(rows=rows, eligible=eligible, problems=problems)

    def count_aside(self) -> Counting:
        """Start `count` in a process of its own, on the other core, for a command with other files to read
        meanwhile; `Counting.result` waits for the counts.

        A file under `COUNT_ASIDE_FROM` bytes, or a machine with one core, is counted here when the counts are
        asked for: a process would cost more than it saves.
        """
        try:
            large = self.path.stat().st_size >= COUNT_ASIDE_FROM
        except OSError:
            large = False  # `count` says what is wrong with it
        if not large or (os.cpu_count() or 1) < 2:
            return Counting(self, None)
        probe = "import sys; from hcap_tui.comments import _count_to_stdout; _count_to_stdout(sys.argv[1])"
        counter = subprocess.Popen(
            [sys.executable, "-c", probe, os.fsencode(self.path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        return Counting(self, counter)

    def _entry(self, columns: list[str], cells: list[str] | str, line_no: int) -> Comment | LineProblem | None:
        """One data record's cells (or why it has none) as a Comment, a LineProblem or None (see `scan`)."""
        if isinstance(cells, str):
            return LineProblem(self.path, line_no, f"{cells}; skipped")
        if len(cells) != len(columns):
            return LineProblem(self.path, line_no, _width_problem(len(cells), len(columns)))
        row = dict(zip(columns, cells))
        problem = row_problem(row)
        if problem is not None:
            return LineProblem(self.path, line_no, f"{problem}; skipped")
        return _comment(row, line_no)

    def _data_cells(self) -> Iterator[tuple[int, list[str] | str]]:
        """Each data record as (line, cells), or (line, why it cannot be read): what `_parse_record` makes of each
        record on its own, through one csv reader for the whole file (a reader per record costs twice as much).

        The shared reader is handed one record at a time. Should it take more than one to make a row (a stray
        quote in an unquoted cell can leave it inside quotes at a record's end), or fail on one, the records it
        took are parsed again one by one, so every record is split exactly as on its own.
        """
        handed: deque[tuple[int, str, bool]] = deque()  # (line, record, given to the reader) not yet answered
        records = self._records(text=True)
        next(records, None)  # the header

        def texts() -> Iterator[str]:
            for line_no, record in records:
                utf8 = record.isascii() or _is_utf8(record)
                handed.append((line_no, record, utf8))
                if utf8:
                    yield record.rstrip("\r\n")

        reader = csv.reader(texts())
        answered = 0  # records the reader has taken so far
        while True:
            try:
                row: list[str] | None = next(reader)
            except StopIteration:
                break
            except csv.Error:
                row = None
            taken, answered = reader.line_num - answered, reader.line_num
            if taken == 1 and row is not None and len(handed) == 1:  # one record, one row: nearly always
                yield handed.pop()[0], row
                continue
            whole = row is not None and taken == 1  # the row is that one record's, exactly
            while taken:
                line_no, record, given = handed.popleft()
                if given:
                    taken -= 1
                    yield line_no, (row if whole else _cells_or_reason(record))  # type: ignore[misc]
                else:
                    yield line_no, NOT_UTF8
        for line_no, _, _ in handed:  # after the last row: records that are not text
            yield line_no, NOT_UTF8

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
        eligible = line_no = 0
        for line_no, raw in self._data_records():
            key = draw()
            if len(heap) >= count and key >= -heap[0][0]:
                continue
            comment = self._entry(columns, _cells_or_reason(raw), line_no)
            if not isinstance(comment, Comment):
                continue
            eligible += 1
            if comment.formatted_input in excluded or comment.formatted_input in chosen:
                continue
            heapq.heappush(heap, (-key, line_no, comment))
            chosen.add(comment.formatted_input)
            if len(heap) > count:
                _, _, dropped = heapq.heappop(heap)
                chosen.discard(dropped.formatted_input)
        if not eligible:  # every row was looked at: none can ever be drawn, whatever is excluded
            if not line_no:
                raise DataError(f"{self.path} has 0 eligible comments: it has no rows below its header row")
            raise DataError(
                f"{self.path} has 0 eligible comments: no row has a horse comment over {MIN_HORSE_COMMENT} "
                "characters, a finishing place and the number of runners (`hcap check` lists rows it cannot read)"
            )
        return [comment for _, _, comment in sorted(heap, key=lambda entry: -entry[0])]

    def _data_records(self) -> Iterator[tuple[int, bytes]]:
        """Every record after the header."""
        records = self._records()
        next(records, None)
        yield from records

    def _records(self, text: bool = False) -> Iterator[tuple[int, Any]]:
        """CSV records with their first line number, split without parsing: raw bytes, or with `text` decoded
        lines (bytes that are not UTF-8 kept as lone surrogates, for the reader to find).

        A record ends at a newline outside quotes; quotes balance in pairs (`""` escapes one),
        so a record is complete once its quote count is even. A quote left open at the end of the
        file is an error rather than one giant record that would swallow every row after it.
        """
        try:
            if text:  # lines end at "\n" alone, as they do in bytes
                handle = self.path.open(encoding="utf-8", errors="surrogateescape", newline="\n", buffering=1 << 20)
            else:
                handle = self.path.open("rb", buffering=1 << 20)
        except FileNotFoundError:
            raise DataError(f"{self.path} not found: put your comments.csv there, or name it with --csv") from None
        except OSError as exc:
            raise DataError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        quote, bom, join = ('"', "\ufeff", "".join) if text else (b'"', _BOM, b"".join)
        with handle:
            pending: list[Any] = []  # the lines of a record whose quotes are still open
            quotes = start = 0
            lines = enumerate(handle, start=1)
            first = next(lines, None)
            if first is not None:
                lines = itertools.chain([(1, first[1].removeprefix(bom))], lines)
            for line_no, line in lines:
                if pending:
                    pending.append(line)
                    quotes += line.count(quote)
                    if quotes & 1:
                        continue
                    record, pending = join(pending), []
                    if not _blank(record):
                        yield start, record
                elif line.count(quote) & 1:
                    pending, quotes, start = [line], 1, line_no
                elif line and not _blank(line):  # a whole record on one line: most rows
                    yield line_no, line
            if pending:
                raise DataError(
                    f"{self.path} line {start} opens a quoted cell that is never closed: "
                    'fix its quotes (a quote inside a cell is written "")'
                )


def _blank(record: str | bytes) -> bool:
    """Whether a record holds only ASCII whitespace (what `bytes.strip` removes)."""
    if not record.isspace():  # stops at the first other character: at once for any row with data
        return False
    return not (record.strip(" \t\n\r\x0b\x0c") if isinstance(record, str) else record.strip())


class Counting:
    """The counts of a comments.csv, being made in a process of its own (`CommentsFile.count_aside`) or, without
    one, to be made here when asked for.

    Ctrl-C does not reach the counting process (it runs in a session of its own): whoever started it waits for
    its answer (`result`) or ends it (`stop`), interrupted or not.
    """

    def __init__(self, file: CommentsFile, counter: subprocess.Popen[bytes] | None) -> None:
        self.file = file
        self.counter = counter

    def result(self) -> CommentCounts:
        """The counts, raising what `CommentsFile.count` raised."""
        if self.counter is None:
            return self.file.count()
        try:
            answer, _ = self.counter.communicate()
        finally:
            self.stop()  # interrupted while waiting
        try:
            outcome = pickle.loads(answer)
        except (pickle.UnpicklingError, EOFError, ValueError, AttributeError, ImportError):
            return self.file.count()  # the process died without an answer (killed, out of memory): count here
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def stop(self) -> None:
        """End the counting process if it still runs (the counts are no longer wanted)."""
        if self.counter is not None and self.counter.poll() is None:
            self.counter.kill()
            self.counter.wait()


def _count_to_stdout(path: str) -> None:
    """`CommentsFile.count` of `path` written as a pickle on stdout (or the DataError it raised), for
    `count_aside`."""
    try:
        outcome: CommentCounts | DataError = CommentsFile(Path(path)).count()
    except DataError as exc:
        outcome = exc
    sys.stdout.buffer.write(pickle.dumps(outcome))


def _width_problem(cells: int, columns: int) -> str:
    """Why a row with the wrong number of cells is skipped."""
    return f"{cells} cells where the header has {columns} (a line break or comma outside quotes?); skipped"


class _BadRow(ValueError):
    """A record that is not UTF-8 or not CSV; its message says which."""


def _cells_or_reason(record: bytes | str) -> list[str] | str:
    """A record's cells (raw bytes, or text already decoded), or why it has none."""
    try:
        return _parse_record(record) if isinstance(record, bytes) else _split(record)
    except _BadRow as exc:
        return str(exc)


def _is_utf8(text: str) -> bool:
    """Whether decoded text holds no byte that was not UTF-8 (kept as a lone surrogate by `surrogateescape`)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _verdict(horse: str, position: str, runners: str, beaten: str) -> bool | str:
    """What eligibility makes of a row's cells: True when eligible, why when `row_problem` finds a problem, False
    when it is merely not eligible. Plain whole numbers, as nearly every row has, are read directly."""
    if (runners.isdecimal() and position.isdecimal() and runners.isascii() and position.isascii()
            and len(runners) < 10 and len(position) < 10):  # ints as `_whole_number` reads them, exactly
        places, field = int(position), int(runners)
        if field >= 1 and (places <= field or places < 1):
            lengths = _number(beaten) if "-" in beaten else None  # only a minus sign makes a distance negative
            if lengths is None or lengths >= 0:
                return places >= 1 and len(horse.strip()) > MIN_HORSE_COMMENT
    problem = _cells_problem(position, runners, beaten)
    if problem is not None:
        return problem
    return _eligible_placing(horse, position, runners, beaten) is not None


def _parse_record(raw: bytes) -> list[str]:
    """Decode and split one raw record into its cells; `_BadRow` when it cannot be."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _BadRow(NOT_UTF8) from None
    return _split(text)


def _split(text: str) -> list[str]:
    """The cells of one decoded record; `_BadRow` when it is not CSV."""
    try:
        return next(csv.reader([text.rstrip("\r\n")]), [])
    except csv.Error:
        raise _BadRow(
            "not a valid CSV row (a quote or line break out of place: fix its quotes, "
            "or save the file with \\n or \\r\\n line endings)"
        ) from None


def _comment(row: dict[str, str], line_no: int) -> Comment | None:
    """An eligible Comment from a parsed row, or None."""
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
