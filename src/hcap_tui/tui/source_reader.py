"""Reading a review source in chunks, for a thread worker to post to the pane as it goes.

No Textual here: `read_source` yields plain events (the file is missing; reading started; a chunk of
items; done, with the skipped lines) and the pane's worker forwards each one as a message. The first
chunk is small so the first item can be shown while the rest of a big file is still being read.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from hcap_tui.errors import DataError
from hcap_tui.jsonl import LineProblem
from hcap_tui.review_sources import ReviewSource
from hcap_tui.store import Checkpoint, LabeledItem, Store

FIRST_CHUNK = 50
CHUNK = 5000


@dataclass(frozen=True)
class Missing:
    """The source file does not exist."""


@dataclass(frozen=True)
class Started:
    """The file is there: its line count (for progress) and checkpoint; `notice` says why a checkpoint was ignored."""

    checkpoint: Checkpoint | None
    total_lines: int
    notice: str | None


@dataclass(frozen=True)
class Chunk:
    """The next items in file order, and how many lines have been read so far."""

    items: list[LabeledItem]
    lines_read: int


@dataclass(frozen=True)
class Finished:
    """The whole file is read; `problems` are the lines that were skipped."""

    problems: list[LineProblem]


ReadEvent = Missing | Started | Chunk | Finished


def read_source(store: Store, source: ReviewSource) -> Iterator[ReadEvent]:
    """Read a source's file: Missing, or Started, Chunk..., Finished. Stop iterating to cancel."""
    path = source.path(store.paths)
    if not path.is_file():
        yield Missing()
        return
    try:
        checkpoint, notice = store.read_checkpoint(source.name), None
    except DataError as exc:
        checkpoint, notice = None, str(exc)
    total = count_lines(path)
    yield Started(checkpoint, total, notice)
    batch: list[LabeledItem] = []
    problems: list[LineProblem] = []
    size = FIRST_CHUNK
    for entry in store.scan(path, keep=True):
        if isinstance(entry, LineProblem):
            problems.append(entry)
            continue
        batch.append(entry)
        if len(batch) >= size:
            yield Chunk(batch, entry.line)
            batch, size = [], CHUNK
    yield Chunk(batch, total)
    yield Finished(problems)


def count_lines(path: Path) -> int:
    """Lines in a file, for sizing the progress bar before the slower parse starts."""
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


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
