"""Reading a review source in chunks, for a thread worker to post to the pane as it goes, then its new lines.

`read_source` yields plain events (the file is missing; reading started, with the lines whose input gold does not
hold; a chunk of items; done, with the skipped lines and how far the read got) that the pane's worker forwards as
messages. The first chunk is small so the first item can be shown while the rest of a big file is still being read,
and the lines not in gold, found by a fast scan of the inputs first, tell the tab when no item still to come can be
the one it resumes at. `read_appended`
then picks up the lines another command (`hcap predict`, `hcap label`) appends while the review is open.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hcap_tui.errors import DataError
from hcap_tui.jsonl import LineProblem
from hcap_tui.review.sources import ITEM_FIELDS, GoldBook, ReviewSource
from hcap_tui.store import Checkpoint, FileMark, LabeledItem, Store, Tail

FIRST_CHUNK = 50
CHUNK = 5000


@dataclass(frozen=True)
class Missing:
    """The source file does not exist."""


@dataclass(frozen=True)
class Waiting:
    """The last line of a source whose input gold did not hold (0: none), at gold's `version`: no line after it
    can hold an item waiting for review, so a tab need not read to the end to learn that none follows the one it
    resumes at."""

    last: int
    version: int


@dataclass(frozen=True)
class Started:
    """The file is there: its line count (for progress) and checkpoint; `notice` says why a checkpoint was ignored;
    `waiting` where items not yet in gold can be (None when gold was not asked)."""

    checkpoint: Checkpoint | None
    total_lines: int
    notice: str | None
    waiting: Waiting | None = None


@dataclass(frozen=True)
class Chunk:
    """The next items in file order, and how many lines have been read so far."""

    items: list[LabeledItem]
    lines_read: int


@dataclass(frozen=True)
class Finished:
    """The whole file is read; `problems` are the lines that were skipped, `mark` where new lines will start."""

    problems: list[LineProblem]
    mark: FileMark


ReadEvent = Missing | Started | Chunk | Finished


def read_source(store: Store, source: ReviewSource, gold: GoldBook | None = None) -> Iterator[ReadEvent]:
    """Read a source's file: Missing, or Started, Chunk..., Finished. Stop iterating to cancel.

    The read covers the complete lines the file had when counted: lines appended later (or one still
    being written) are left to `read_appended` from the mark in `Finished`, so none is read twice. With `gold`,
    a fast pass over the inputs first says which lines are not in gold (`Waiting`).
    """
    path = source.path(store.paths)
    if not path.is_file():
        yield Missing()
        return
    try:
        checkpoint = store.read_checkpoint(source.name)
        notice = checkpoint.problem if checkpoint is not None else None
    except DataError as exc:
        checkpoint, notice = None, str(exc)
    waiting = None
    if gold is not None and gold.holds_any:  # one pass counts the lines and finds those not in gold
        version, last, keys = gold.version, 0, store.scan_keys(path)
        for number, _, key in keys:
            if key not in gold:
                last = number
        if keys.mark is None:  # removed since it was seen
            yield Missing()
            return
        total, mark, waiting = keys.lines, keys.mark, Waiting(last, version)
    else:
        total, mark = count_lines(path)
    yield Started(checkpoint, total, notice, waiting)
    batch: list[LabeledItem] = []
    problems: list[LineProblem] = []
    size = FIRST_CHUNK
    for entry in store.scan(path, keep=ITEM_FIELDS, read_back=True):
        if entry.line > total:  # appended since the count: `read_appended` takes it, once it is a whole line
            if isinstance(entry, LineProblem):
                problems.append(entry)  # a torn last line is reported all the same
            break
        if isinstance(entry, LineProblem):
            problems.append(entry)
            continue
        batch.append(entry)
        if len(batch) >= size:
            yield Chunk(batch, entry.line)
            batch, size = [], CHUNK
    yield Chunk(batch, total)
    yield Finished(problems, mark)


def read_appended(store: Store, source: ReviewSource, mark: FileMark) -> Tail | None:
    """What was appended to a source since `mark`; None when the file was replaced or shrank since (it must be
    read again in full)."""
    tail = store.read_since(source.path(store.paths), mark)
    return None if tail is None or tail.mark is None else tail


def count_lines(path: Path) -> tuple[int, FileMark]:
    """Complete lines in a file and where they end, for sizing the progress bar before the slower parse starts."""
    lines = size = last = 0
    with path.open("rb") as handle:
        inode = os.fstat(handle.fileno()).st_ino
        for block in iter(lambda: handle.read(1 << 20), b""):
            newlines = block.count(b"\n")
            if newlines:
                lines += newlines
                last = size + block.rfind(b"\n") + 1
            size += len(block)
    return lines, FileMark(inode, last)


def summarize_problems(problems: Sequence[LineProblem], shown: int = 5) -> str | None:
    """One line saying how many lines of a file were skipped and where, or None when there were none."""
    if not problems:
        return None
    lines = ", ".join(str(p.line) for p in problems[:shown]) + (", …" if len(problems) > shown else "")
    plural = "s" if len(problems) > 1 else ""
    return (
        f"{problems[0].path.name}: {len(problems)} unreadable line{plural} skipped (line{plural} {lines});"
        " `hcap check` says why"
    )
