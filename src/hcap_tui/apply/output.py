"""The output of `hcap apply` (signals.jsonl by default): one flat line per comment, and what a run reads from it.

A line holds `formatted_input`, the CSV's own other columns as they are, the label fields in schema order,
then `model`, `model_digest` and `created_at`; a failed line holds `status: "failed"`, `error` and `raw`
where the label fields would be. Lines are appended through the store as results arrive, so the file is
always a valid JSONL file and the last line of a comment is the one that counts. `compact` rewrites it
atomically with only that line, once a run has replaced some (a retried failure, a relabelled comment).

A run remembers comments by `input_key`, a 64-bit hash of formatted_input, never by their text or line:
the keys of 130,000 comments take about ten megabytes, whatever the lines hold.
"""

from __future__ import annotations

import json
import os
import socket
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hcap_tui.comments import REQUIRED_COLUMNS, Comment
from hcap_tui.errors import DataError
from hcap_tui.jsonl import InUse, JsonlFile, LineProblem
from hcap_tui.models import LabelResult
from hcap_tui.schema import LabelSchema
from hcap_tui.store import FAILED, leading_input, now_iso

INPUT = "formatted_input"
PROVENANCE = ("model", "model_digest", "created_at")
FAILURE = ("status", "error", "raw")
RENAMED_PREFIX = "csv_"  # a CSV column named like a field hcap writes is written under this prefix
SHOWN_PROBLEMS = 5


def input_key(formatted_input: str) -> int:
    """A comment's key within this process: Python's own 64-bit string hash of its formatted_input.

    Keys never leave the process (each run salts them afresh), so nothing needs them stable; two different
    comments share one with a chance of about 1 in 10^9 in an archive of 200,000.
    """
    return hash(formatted_input)


def record_key(record: dict[str, Any]) -> int | None:
    """The key of a line's comment, None when the line names none."""
    text = record.get(INPUT)
    return input_key(text) if isinstance(text, str) and text else None


@dataclass(frozen=True)
class Layout:
    """The field names of an output line for one schema and one CSV header.

    `columns` pairs each of the CSV's own columns (those not used to build formatted_input) with its name
    on the line: its own name, or `csv_<name>` when hcap writes a field of that name (formatted_input, a
    label field, model, model_digest, created_at, status, error, raw), so neither ever overwrites the other.
    """

    schema: LabelSchema
    columns: tuple[tuple[str, str], ...]

    @classmethod
    def for_header(cls, schema: LabelSchema, header: Sequence[str]) -> Layout:
        """The layout of the CSV columns in `header` other than the ones formatted_input is built from."""
        taken = {INPUT, *schema.names, *PROVENANCE, *FAILURE}
        columns = []
        for name in header:
            if not name or name in REQUIRED_COLUMNS:
                continue
            written = name
            while written in taken:
                written = RENAMED_PREFIX + written
            taken.add(written)
            columns.append((name, written))
        return cls(schema, tuple(columns))

    @property
    def renamed(self) -> dict[str, str]:
        """CSV columns written under another name, and that name."""
        return {name: written for name, written in self.columns if name != written}

    def record(self, comment: Comment, result: LabelResult, created_at: str) -> dict[str, Any]:
        """The output line of one comment's result."""
        record: dict[str, Any] = {INPUT: comment.formatted_input}
        metadata = comment.metadata
        record.update((written, metadata.get(name, "")) for name, written in self.columns)
        if result.label is not None:
            record.update((name, result.label[name]) for name in self.schema.names)
        else:
            record.update(status=FAILED, error=result.error, raw=result.raw)
        record.update(model=result.spec.recorded, model_digest=result.digest, created_at=created_at)
        return record


@dataclass(frozen=True)
class Model:
    """The model a run labels with, as output lines record it."""

    recorded: str
    digest: str | None

    def made(self, record: dict[str, Any]) -> bool:
        """Whether a line was written by this model: the same name, and no digest that says otherwise."""
        if record.get("model") != self.recorded:
            return False
        digest = record.get("model_digest")
        return not (self.digest and isinstance(digest, str) and digest and digest != self.digest)

    def __str__(self) -> str:
        return f"{self.recorded} ({self.digest[:19]})" if self.digest else self.recorded


@dataclass
class Ledger:
    """What an output file holds for a model, by comment key; a comment's last line counts.

    `done` are labelled by the model, `failed` failed with it (to retry), `other` hold another model's
    line (to relabel); `repeated` are comments with more than one line, whose earlier lines `compact`
    drops.
    """

    done: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    other: set[int] = field(default_factory=set)
    repeated: set[int] = field(default_factory=set)
    lines: int = 0
    other_models: Counter[str] = field(default_factory=Counter)
    problems: list[LineProblem] = field(default_factory=list)
    problem_count: int = 0

    @property
    def comments(self) -> int:
        """Comments with a line."""
        return len(self.done) + len(self.failed) + len(self.other)


class Output:
    """An output file of `hcap apply`."""

    def __init__(self, path: Path) -> None:
        if path.is_dir() or not path.name:
            raise DataError(f"{path} is a folder: name a file with --out, e.g. --out {path / 'signals.jsonl'}")
        self.path = path
        self.file = JsonlFile(path)

    @contextmanager
    def claimed(self, what: str) -> Iterator[None]:
        """Hold the output for a whole run; refuse at once, naming the other run, while one holds it.

        One run at a time per output: the server's slots, not the client, bound the speed, and one run
        keeps them all busy with --concurrency, so a second run would only race the first for comments.
        """
        holder = f"{what}, pid {os.getpid()} on {socket.gethostname()}, started {now_iso()}"
        try:
            with self.file.exclusive(holder):
                yield
        except InUse as exc:
            raise DataError(
                f"{self.path} is being written by another run ({exc.holder or 'holder unknown'}): wait for it to "
                "finish or stop it; to go faster raise --concurrency, or write elsewhere with --out"
            ) from None

    def writable(self) -> None:
        """Raise DataError (one line) when the output cannot be written, before any model is asked."""
        folder = self.path.parent
        if not folder.is_dir():
            raise DataError(f"cannot write {self.path}: {folder} is not a folder; create it or pick another --out")
        if not os.access(self.path if self.path.exists() else folder, os.W_OK):
            raise DataError(
                f"cannot write {self.path}: permission denied; make it writable or write elsewhere with --out"
            )

    def scan(self, model: Model) -> Ledger:
        """Read the file once, in flat memory, into a Ledger for `model`."""
        ledger = Ledger()
        done, failed, other = ledger.done, ledger.failed, ledger.other
        for line in self.file.stream():
            value = line.value
            if isinstance(value, LineProblem) or (key := record_key(value)) is None:
                ledger.problem_count += 1
                if len(ledger.problems) < SHOWN_PROBLEMS:
                    ledger.problems.append(
                        value if isinstance(value, LineProblem)
                        else LineProblem(self.path, line.number, "no formatted_input")
                    )
                continue
            ledger.lines += 1
            if key in done or key in failed or key in other:
                ledger.repeated.add(key)
                done.discard(key)
                failed.discard(key)
                other.discard(key)
            if not model.made(value):
                other.add(key)
                ledger.other_models[str(value.get("model"))] += 1
            elif value.get("status") == FAILED:
                failed.add(key)
            else:
                done.add(key)
        return ledger

    def compact(self, keys: set[int]) -> int:
        """Atomically rewrite the file keeping only the last line of each comment in `keys`; lines dropped.

        Only those comments can have more than one line (the ones a run replaced or found repeated), so
        only their offsets are remembered, and only their lines are parsed whole: the others are told apart
        by the formatted_input each line starts with. Runs under the file's writer lock, so no append can
        land between finding the earlier lines and the rewrite. Every other line is copied byte for byte,
        unreadable ones too.
        """
        if not keys:
            return 0
        with self.file.locked():
            last: dict[int, int] = {}
            drop: set[int] = set()
            for offset, raw in self._raw_lines():
                key = _leading_key(raw)
                if key not in keys:
                    continue
                try:
                    value = json.loads(raw)
                except ValueError:
                    continue  # not a whole line: kept as it is
                if isinstance(value, dict) and record_key(value) == key:
                    earlier = last.get(key)
                    if earlier is not None:
                        drop.add(earlier)
                    last[key] = offset
            if drop:
                self.file.replace_locked(raw if raw.endswith(b"\n") else raw + b"\n"
                                         for offset, raw in self._raw_lines() if offset not in drop)
        return len(drop)

    def _raw_lines(self) -> Iterator[tuple[int, bytes]]:
        """Each line of the file as (offset, bytes), read a block at a time."""
        with self.path.open("rb", buffering=1 << 20) as handle:
            offset = 0
            for raw in handle:
                yield offset, raw
                offset += len(raw)


def _leading_key(raw: bytes) -> int | None:
    """The key of the formatted_input a line starts with (as hcap writes them), without parsing the rest."""
    text = leading_input(raw)
    return input_key(text) if text else None
