"""The one store for a project's label files: teacher labels, predictions, gold and checkpoints.

Every record is a flat JSON object as the user's own files have it: `formatted_input`, then the
label fields in schema order at top level, then provenance fields hcap adds beside them. The store
reads the user's older shapes too (extra booleans on teacher lines, `prompt`/`completion`
prediction lines) and only ever appends, with two atomic exceptions: the explicit `compact_gold`, and
undoing an approval that other lines have since been appended after.

A tab's review position is two files: `.checkpoint-<source>` holds the bare item index the user's old
dashboard reads and writes, and `.checkpoint-<source>.json` beside it what only hcap keeps (the item's
identity, the filter and the order). When the old dashboard has moved the index since, its index wins.
"""

from __future__ import annotations

import json
import os
import pwd
import threading
import weakref
from array import array
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.decoder import scanstring
from pathlib import Path
from typing import Any, BinaryIO

from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError, LabelError, os_problem
from hcap_tui.gcpause import gc_paused
from hcap_tui.jsonl import READ_BLOCK, Appended, JsonlFile, LineProblem, encode, json_bytes, write_atomic
from hcap_tui.schema import LabelSchema

FAILED = "failed"
# Beside a `--strategy disagree` prediction: the signals where model and teacher differ (schema order), and the
# teacher's value of each; the review app shows the latter next to the model's value.
DISAGREEING_FIELDS = "disagrees_with_teacher"
TEACHER_VALUES = "teacher_values"


Keep = bool | Collection[str]
"""What a reader keeps of each line's record: all of it (True), nothing (False), or just the named fields (consecutive
items whose named fields are equal share one dict, so a record must never be changed in place)."""

# Label field names, one shared tuple per distinct order: an item holds only its label's values.
_FIELD_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


class _OnDisk:
    """The value an item read with `read_back` holds for a text field: the text is read from its line when asked."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ON_DISK"


ON_DISK = _OnDisk()


class LabeledItem:
    """One usable line of a label file: its input, its label (None if the model failed), its line number and,
    when the reader asked for it, its record (the whole line, or the fields asked for; else None).

    Compact, since a reader may hold 100,000 of them: slots, the label as a tuple of values beside a tuple of
    field names that every item with the same fields shares (`label` builds the dict when asked), and no
    record unless one was asked for. An item read with `Store.scan(..., read_back=True)` goes further: its text
    fields and the record it did not keep stay on disk (`ReadBack`), read from its line each time they are asked
    for, so a review of 100,000 items holds none of their reasonings.
    """

    __slots__ = ("_back", "_names", "_record", "_values", "formatted_input", "line")

    def __init__(
        self,
        formatted_input: str,
        label: dict[str, Any] | None,
        record: dict[str, Any] | None = None,
        line: int = 0,
    ) -> None:
        self.formatted_input = formatted_input
        self.line = line
        self._record = record
        self._back: ReadBack | None = None
        if label is None:
            self._names = self._values = None
        else:
            names = tuple(label)
            self._names = _FIELD_NAMES.setdefault(names, names)
            self._values = tuple(label.values())

    @classmethod
    def of(
        cls,
        formatted_input: str,
        names: tuple[str, ...],
        values: tuple[Any, ...] | None,
        record: dict[str, Any] | None,
        line: int,
    ) -> LabeledItem:
        """An item from a label already split into field names (a shared tuple) and values, as readers have it."""
        item = cls.__new__(cls)
        item.formatted_input = formatted_input
        item.line = line
        item._record = record
        item._back = None
        item._names = None if values is None else names
        item._values = values
        return item

    @property
    def label(self) -> dict[str, Any] | None:
        """The label as a new dict in field order, or None for a failed prediction."""
        values = self.values
        return None if values is None else dict(zip(self._names, values))  # type: ignore[arg-type]

    @property
    def values(self) -> tuple[Any, ...] | None:
        """The label's values in field order (schema order, for every item the store reads), or None."""
        held = self._values
        if held is None or self._back is None:
            return held
        found = self._back.item(self)
        texts = found._values if found is not None and found._values is not None else ()
        if len(texts) != len(held):  # its line is gone
            texts = ("",) * len(held)
        return tuple([text if value is ON_DISK else value for value, text in zip(held, texts, strict=True)])

    @property
    def held_label(self) -> dict[str, Any] | None:
        """The label as memory holds it, text fields left on disk reading `ON_DISK`: for comparing and counting
        signals over many items without reading a line for each."""
        held = self._values
        return None if held is None else dict(zip(self._names, held))  # type: ignore[arg-type]

    @property
    def record(self) -> dict[str, Any] | None:
        """The fields of its line the reader kept (all of them, some, or None); for an item read with
        `read_back` that kept none, its whole line, read back."""
        if self._record is not None or self._back is None:
            return self._record
        found = self._back.item(self)
        return found._record if found is not None else {}

    def share(self, other: LabeledItem) -> None:
        """Hold the same strings as `other`, an item of the same input in another file (a tab's item and its
        gold entry), wherever they are equal: 100,000 inputs are then held once, not twice."""
        if other.formatted_input == self.formatted_input:
            self.formatted_input = other.formatted_input
        mine, theirs = self._values, other._values
        if mine is None or theirs is None or mine is theirs or self._names != other._names:
            return
        if mine == theirs:
            self._values = theirs
        elif any(a is not b and type(a) is str and a == b for a, b in zip(mine, theirs, strict=True)):
            self._values = tuple([b if type(a) is str and a == b else a for a, b in zip(mine, theirs, strict=True)])

    @property
    def failed(self) -> bool:
        """A prediction the model could not produce; it carries the raw text and reason instead of a label."""
        return self._values is None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabeledItem):
            return NotImplemented
        return (self.formatted_input, self.line, self.record, self.label) == (
            other.formatted_input, other.line, other.record, other.label
        )

    __hash__ = None  # type: ignore[assignment]  # equal items may hold different (unhashable) records

    def __repr__(self) -> str:
        return (f"LabeledItem(formatted_input={self.formatted_input!r}, label={self.label!r}, "
                f"record={self.record!r}, line={self.line!r})")


@dataclass
class Loaded:
    """The usable items of a file plus the lines that were skipped and why."""

    path: Path
    items: list[LabeledItem] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


@dataclass
class GoldIndex:
    """Gold resolved by key: the last line for each formatted_input wins."""

    loaded: Loaded
    by_input: dict[str, LabeledItem] = field(default_factory=dict)

    @property
    def superseded(self) -> int:
        """Lines replaced by a later line for the same input (what compaction would drop)."""
        return len(self.loaded.items) - len(self.by_input)


@dataclass(frozen=True)
class Checkpoint:
    """Where review of a source stopped: an index and, when hcap wrote it, the item's identity and the tab's
    filter (a `Filter` value, e.g. "not in gold") and order (least confident or most suspect first, else the
    file's)."""

    index: int
    formatted_input: str | None = None
    filter: str | None = None
    by_confidence: bool = False
    by_suspicion: bool = False
    problem: str | None = field(default=None, compare=False)
    """Why part of the saved position was ignored (an unreadable state file), for the reviewer to see."""


@dataclass(frozen=True)
class FileMark:
    """How far a reader got through a file: which file (its inode) and how many bytes of it were read."""

    inode: int
    size: int


@dataclass(frozen=True)
class Tail:
    """What was appended to a file after a mark: its usable items, the mark after them, and how many
    non-blank lines were not usable label lines."""

    items: list[LabeledItem]
    mark: FileMark | None
    skipped: int = 0


@dataclass(frozen=True)
class GoldKeys:
    """Which inputs gold holds, read without parsing its lines: each input (a key that is its own value, so later
    reads can share the one string, or an item holding it) and the byte offset of its last line, and where that
    read stopped."""

    inputs: dict[str, str | LabeledItem]
    offsets: dict[str, int]
    mark: FileMark | None


LINE_START = b'{"formatted_input": "'  # how every line hcap writes begins (`flat_record` puts the input first)


def leading_input(line: bytes) -> str | None:
    """The formatted_input a line starts with, as hcap writes lines, read without parsing the rest of the line;
    None for a line of another shape (whoever asks parses it whole)."""
    if not line.startswith(LINE_START):
        return None
    start = len(LINE_START)
    close = line.find(b'"', start)
    try:
        if close > 0 and line.find(b"\\", start, close) < 0:  # no escape: the bytes up to the quote
            return line[start:close].decode("utf-8") or None
        text, _ = scanstring(line.decode("utf-8"), start)
    except (ValueError, UnicodeDecodeError):
        return None
    return text or None


class KeyScan:
    """The inputs of a label file's lines, in file order, as (line number, offset, input); `mark` is where the
    complete lines ended once iterated. Lines without an input (not JSON, another shape) are left out; labels are
    not checked, so a line the full read would skip may be here."""

    def __init__(self, store: Store, path: Path) -> None:
        self.store, self.path = store, path
        self.mark: FileMark | None = None
        self.lines = 0
        """Complete lines, once iterated (`mark` is where they end)."""

    def __iter__(self) -> Iterator[tuple[int, int, str]]:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise DataError(f"cannot read {self.path}: {os_problem(exc)}") from None
        parse = self.store._parse_line
        with handle:
            inode, offset, number, rest = os.fstat(handle.fileno()).st_ino, 0, 0, b""
            for block in iter(lambda: handle.read(1 << 20), b""):
                block, at = rest + block, 0
                while (end := block.find(b"\n", at)) >= 0:
                    number += 1
                    line = block[at:end]
                    key = leading_input(line)
                    if key is None and line.strip():
                        item = parse(line)
                        key = item.formatted_input if item is not None else None
                    if key:
                        yield number, offset + at, key
                    at = end + 1
                offset += at
                rest = block[at:]  # a line still being written is left for a later read
            self.mark, self.lines = FileMark(inode, offset), number


class ReadBack:
    """A label file held open as it was read, and where each of its lines starts: the items read from it leave
    their text fields and unkept record on disk and read them from their line when asked (`LabeledItem.values`,
    `LabeledItem.record`), so memory holds no reasoning however many items are read.

    Held open, the file reads as it was read even after another process replaces it (an undo, `hcap gold
    compact`); a line changed in place, whose input is no longer the item's, is looked up by input in the file
    as it is now (`Store.last_item`), and an item whose line is gone (or that file unreadable) reads blank texts,
    which the review will not approve, and an empty record. The descriptor is closed once no item refers to it.
    """

    def __init__(self, store: Store, path: Path, fd: int) -> None:
        self.store, self.path = store, path
        self._fd = fd
        self._starts = array("q")  # by line number - 1: where the line starts (-1: a blank line)
        self._held: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # each distinct tuple of held values, held once
        self._texts = tuple(i for i, f in enumerate(store.schema.fields) if f.kind == "text")
        # the last item read back, by line and input (not the item: a cycle would keep the file open), since one
        # redraw asks for the item shown several times
        self._last: tuple[int, str, LabeledItem | None] | None = None
        weakref.finalize(self, os.close, fd)

    @classmethod
    def open(cls, store: Store, path: Path) -> ReadBack | None:
        """The file held open, None when it does not exist; DataError when the system refuses it."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {os_problem(exc)}") from None
        return cls(store, path, fd)

    def reader(self) -> BinaryIO:
        """A handle for reading the held file once from its start (`JsonlFile.stream` closes it)."""
        return open(os.dup(self._fd), "rb", buffering=READ_BLOCK)  # the stream closes it

    def keep(self, item: LabeledItem, offset: int) -> None:
        """Let an item just read from the line at `offset` leave its text fields on disk."""
        starts = self._starts
        while len(starts) < item.line - 1:
            starts.append(-1)
        starts.append(offset)
        item._back = self
        values = item._values
        if values is not None and item._names == self.store.schema.names:
            held = list(values)
            for index in self._texts:
                held[index] = ON_DISK
            key = tuple(held)
            item._values = self._held.setdefault(key, key)

    def item(self, item: LabeledItem) -> LabeledItem | None:
        """The item as its line says now, every field and the whole record read: from where it was read, or, when
        that line no longer holds its input, from the input's last usable line in the file as it is now."""
        last = self._last
        if last is not None and last[0] == item.line and last[1] is item.formatted_input:
            return last[2]
        found = None
        try:
            found = self.store._parse_line(self._line(self._starts[item.line - 1]))
        except OSError:
            pass
        if found is None or found.formatted_input != item.formatted_input:
            try:
                found = self.store.last_item(self.path, item.formatted_input)
            except DataError:  # the file as it is now cannot be read: as good as gone
                found = None
        self._last = (item.line, item.formatted_input, found)
        return found

    def _line(self, start: int) -> bytes:
        """The bytes of the line starting at `start`, without its newline."""
        parts = []
        while block := os.pread(self._fd, 1 << 14, start):
            end = block.find(b"\n")
            if end >= 0:
                parts.append(block[:end])
                break
            parts.append(block)
            start += len(block)
        return b"".join(parts)


@dataclass(frozen=True)
class CompactReport:
    """What `compact_gold` did."""

    kept: int
    superseded: int
    set_aside: int
    set_aside_path: Path | None


def now_iso() -> str:
    """The current UTC time as an ISO-8601 string with seconds, for provenance fields."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def flat_record(
    schema: LabelSchema, formatted_input: str, label: dict[str, Any] | None, **provenance: Any
) -> dict[str, Any]:
    """A record in the user's flat shape: input, label fields in schema order, then provenance."""
    record: dict[str, Any] = {"formatted_input": formatted_input}
    if label is not None:
        record.update((name, label[name]) for name in schema.names)
    record.update((k, v) for k, v in provenance.items() if v is not None)
    return record


class Store:
    """Reads and writes a project's JSONL files through `JsonlFile`."""

    def __init__(self, paths: DataPaths, schema: LabelSchema) -> None:
        self.paths = paths
        self.schema = schema
        self._writers: dict[Path, JsonlFile] = {}  # built once per file: approvals are a hot path
        self._checkpoint_lock = threading.Lock()  # the two files of a position are written together

    def _writer(self, path: Path) -> JsonlFile:
        """The `JsonlFile` that appends to `path`, reused across writes."""
        writer = self._writers.get(path)
        if writer is None:
            writer = self._writers[path] = JsonlFile(path)
        return writer

    def read(self, path: Path, *, keep: Keep = False) -> Loaded:
        """Every usable item of a label file, with skipped lines reported (never raised); `keep` says what of
        each line's record the items hold (nothing by default)."""
        loaded = Loaded(path)
        items, problems = loaded.items.append, loaded.problems.append
        with gc_paused():  # every item stays alive: the cycle collector would only rescan them
            for entry in self.scan(path, keep=keep):
                if type(entry) is LineProblem:
                    problems(entry)
                else:
                    items(entry)  # type: ignore[arg-type]
        return loaded

    def scan(
        self, path: Path, *, keep: Keep = False, read_back: bool = False
    ) -> Iterator[LabeledItem | LineProblem]:
        """Each line of a label file as an item or a problem, in file order, read as it goes (for readers that
        show progress or hold only part of what they read); `keep` as for `read`. With `read_back`, items leave
        their text fields, and the record unless `keep` asks for some of it, on disk (`ReadBack`): for readers
        that hold every item a long time and show one at a time."""
        item = self._reader(keep)
        back = ReadBack.open(self, path) if read_back else None
        if read_back and back is None:
            return
        for line in JsonlFile(path).stream(back.reader() if back is not None else None):
            value = line.value
            if type(value) is LineProblem:
                yield value
                continue
            try:
                entry = item(value, line.number)  # type: ignore[arg-type]
            except LabelError as exc:
                yield LineProblem(path, line.number, f"{exc}; skipped")
                continue
            if back is not None:
                back.keep(entry, line.offset)
            yield entry

    def _reader(self, keep: Keep) -> Callable[[dict[str, Any], int], LabeledItem]:
        """The function that turns one record into an item, keeping what `keep` asks of the record."""
        names, values, new = self.schema.names, self.schema.values, LabeledItem.of
        fields = () if isinstance(keep, bool) else tuple(keep)
        last: list[dict[str, Any] | None] = [None]  # the previous line's kept fields

        def item(record: dict[str, Any], line_no: int) -> LabeledItem:
            if fields:
                kept: dict[str, Any] | None = {name: record[name] for name in fields if name in record}
                if kept == last[0]:
                    kept = last[0]  # a run of lines from one model or reviewer shares one dict
                last[0] = kept
            else:
                kept = record if keep else None
            formatted = record.get("formatted_input")
            if type(formatted) is not str or not formatted or record.get("status") == FAILED:
                return self._item(record, line_no, kept)  # the rarer shapes
            return new(formatted, names, values(record), kept, line_no)

        return item

    def _item(self, record: dict[str, Any], line_no: int, kept: dict[str, Any] | None) -> LabeledItem:
        """Interpret one record: flat label, failed prediction, or the older prompt/completion shape; the item
        holds `kept` as its record."""
        if "formatted_input" not in record and "prompt" in record and "completion" in record:
            prompt, completion = record["prompt"], record["completion"]
            if not isinstance(prompt, str) or not isinstance(completion, str):
                raise LabelError("prompt and completion must be strings")
            label = self.schema.parse(completion)
            return LabeledItem.of(prompt, self.schema.names, tuple(label.values()), kept, line_no)
        formatted = record.get("formatted_input")
        if not isinstance(formatted, str) or not formatted:
            raise LabelError("missing formatted_input")
        if record.get("status") == FAILED:
            return LabeledItem.of(formatted, self.schema.names, None, kept, line_no)
        return LabeledItem.of(formatted, self.schema.names, self.schema.values(record), kept, line_no)

    def labeled(self, *, keep: Keep = False) -> Loaded:
        """Teacher labels (labeled.jsonl)."""
        return self.read(self.paths.labeled, keep=keep)

    def predictions(self, *, keep: Keep = False) -> Loaded:
        """Model predictions (predictions.jsonl)."""
        return self.read(self.paths.predictions, keep=keep)

    def gold(self, *, keep: Keep = False) -> GoldIndex:
        """The gold standard resolved last-write-wins."""
        loaded = self.read(self.paths.gold, keep=keep)
        return GoldIndex(loaded, {item.formatted_input: item for item in loaded.items})

    def keys(self, path: Path) -> set[str]:
        """The formatted_inputs a file already holds (for excluding them from new samples)."""
        keys: set[str] = set()
        for _, value in JsonlFile(path).read():
            if type(value) is dict:
                key = value.get("formatted_input", value.get("prompt"))
                if isinstance(key, str):
                    keys.add(key)
        return keys

    def append(self, path: Path, records: Iterable[dict[str, Any]]) -> Appended:
        """Durably append records to any of the project's JSONL files."""
        return self._writer(path).append(records)

    def approve(self, record: dict[str, Any]) -> Appended:
        """Add or replace a gold item: an fsynced append that wins over earlier lines for the same input."""
        with self.gold_locked():
            return self.approve_locked(record)

    @contextmanager
    def gold_locked(self) -> Iterator[None]:
        """Hold gold's writer lock, so that what others appended can be read, judged and answered with an
        append (`approve_locked`) before anyone else writes."""
        with self._writer(self.paths.gold).locked():
            yield

    def approve_locked(self, record: dict[str, Any]) -> Appended:
        """`approve` for a caller already holding `gold_locked()`."""
        self.schema.extract(record)  # never let an invalid label into gold
        return self._writer(self.paths.gold).append_locked([record])

    def undo(self, receipt: Appended) -> int | None:
        """Take an approval back out of its file; the line it replaced, if any, wins again.

        Returns the file's inode afterwards (a new one when the file had to be rewritten), None when
        the approval is no longer there; raises `FileReplaced` when the file was rewritten since.
        """
        return JsonlFile(receipt.path).remove(receipt)

    def gold_item(self, formatted_input: str) -> LabeledItem | None:
        """What gold holds for one input now: its last usable line, found without parsing the whole file."""
        return self.last_item(self.paths.gold, formatted_input)

    def last_item(self, path: Path, formatted_input: str) -> LabeledItem | None:
        """The last usable line of a label file for one input, None when it has none.

        Searches backwards for the input as a JSON string (as hcap and as ASCII-escaping writers encode
        it), and parses only the lines where it turns up, until one is a valid item for that input.
        """
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"cannot read {path}: {os_problem(exc)}") from None
        needles = {json_bytes(json.dumps(formatted_input, ensure_ascii=flag)) for flag in (False, True)}
        found = {needle: data.rfind(needle) for needle in needles}
        while (at := max(found.values())) >= 0:
            needle = next(needle for needle, position in found.items() if position == at)
            found[needle] = data.rfind(needle, 0, at)
            start = data.rfind(b"\n", 0, at) + 1
            stop = data.find(b"\n", at)
            item = self._parse_line(data[start : stop if stop >= 0 else len(data)])
            if item is not None and item.formatted_input == formatted_input and item.label is not None:
                return item
        return None

    def gold_keys(self) -> GoldKeys:
        """Gold's inputs and where each one's last line starts, up to the last complete line (`scan_keys`).

        Lines are not checked as labels here: a line whose label is unusable still counts until a full read.
        """
        inputs: dict[str, str | LabeledItem] = {}
        offsets: dict[str, int] = {}
        with gc_paused():  # every key stays alive: the cycle collector would only rescan them
            for _, offset, key in (found := self.scan_keys(self.paths.gold)):
                key = inputs.setdefault(key, key)  # type: ignore[assignment]
                offsets[key] = offset
        return GoldKeys(inputs, offsets, found.mark)

    def scan_keys(self, path: Path) -> KeyScan:
        """Each complete line's input with its line number and offset, parsing only the rare line that does not
        start with the input as hcap writes it: a few times faster than a full read. Missing file: no lines."""
        return KeyScan(self, path)

    def gold_at(self, formatted_input: str, offset: int, mark: FileMark | None) -> LabeledItem | None:
        """The gold item on the line starting at `offset` when gold is still the file `mark` was taken of and that
        line is the input's; else what gold holds for the input now (`gold_item`)."""
        try:
            with self.paths.gold.open("rb") as handle:
                if mark is not None and os.fstat(handle.fileno()).st_ino == mark.inode:
                    handle.seek(offset)
                    item = self._parse_line(handle.readline())
                    if item is not None and item.formatted_input == formatted_input:
                        return item if item.label is not None else None
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"cannot read {self.paths.gold}: {os_problem(exc)}") from None
        return self.gold_item(formatted_input)

    def gold_mark(self) -> FileMark | None:
        """Where gold ends now (None while it does not exist), to read only what is appended after it."""
        try:
            stat = self.paths.gold.stat()
        except FileNotFoundError:
            return None
        return FileMark(stat.st_ino, stat.st_size)

    def gold_since(self, mark: FileMark | None) -> Tail | None:
        """The gold items appended after `mark` (complete lines only) and the mark after them.

        None when gold was replaced or shrank since (compaction, an undo that rewrote it): only a
        full read can then say what it holds.
        """
        return self.read_since(self.paths.gold, mark)

    def read_since(self, path: Path, mark: FileMark | None) -> Tail | None:
        """The items of a label file appended after `mark` (complete lines only; unusable ones left out) and
        the mark after them; None when the file was replaced or shrank since, so only a full read will do."""
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            return None if mark is not None else Tail([], None)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
        with handle:
            stat = os.fstat(handle.fileno())
            start = 0 if mark is None else mark.size
            if mark is not None and (stat.st_ino != mark.inode or stat.st_size < mark.size):
                return None
            handle.seek(start)
            tail = handle.read(stat.st_size - start)
        complete = tail[: tail.rfind(b"\n") + 1]  # a line still being written is read next time
        lines = [raw for raw in complete.split(b"\n") if raw.strip()]
        items = [item for raw in lines if (item := self._parse_line(raw)) is not None]
        return Tail(items, FileMark(stat.st_ino, start + len(complete)), len(lines) - len(items))

    def _parse_line(self, raw: bytes) -> LabeledItem | None:
        """One JSONL line as an item, or None when it is blank, not JSON or not a usable label line."""
        try:
            value = json.loads(raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8"))
            return self._item(value, 0, value) if isinstance(value, dict) else None
        except (ValueError, LabelError):
            return None

    def compact_gold(self) -> CompactReport:
        """Rewrite gold atomically with one line per input, setting unusable lines aside in a file.

        Lines keep the position of the input's first appearance and the value of its last. Lines that
        could not be read go, verbatim, to `goldstandard.set-aside-<time>.jsonl` for the user to inspect.
        The new file keeps the old one's owner and mode: a user who could not give it back to its owner
        (anyone but the owner and root) is refused before anything is written.
        """
        gold_file = JsonlFile(self.paths.gold)
        with gold_file.locked():
            try:
                raw_lines = self.paths.gold.read_bytes().split(b"\n")
                owner = self.paths.gold.stat().st_uid
            except FileNotFoundError:
                return CompactReport(0, 0, 0, None)
            except OSError as exc:
                raise DataError(f"cannot read {self.paths.gold}: {os_problem(exc)}") from None
            me = os.geteuid()
            if me not in (0, owner):
                raise DataError(
                    f"{self.paths.gold} belongs to {_user_name(owner)}: compacting it as {_user_name(me)} would "
                    f"make it {_user_name(me)}'s; run `hcap gold compact` as {_user_name(owner)} (or as root)"
                )
            index = self.gold(keep=True)
            order: dict[str, dict[str, Any]] = {}
            for item in index.loaded.items:
                order.setdefault(item.formatted_input, {})
            for key, item in index.by_input.items():
                order[key] = item.record
            set_aside_path = None
            if index.loaded.problems:
                set_aside_path = self._set_aside_path()
                kept_bad = b"".join(raw_lines[p.line - 1] + b"\n" for p in index.loaded.problems)
                write_atomic(set_aside_path, kept_bad)
            gold_file.replace_locked(b"".join(encode(r) for r in order.values()))
        return CompactReport(len(order), index.superseded, len(index.loaded.problems), set_aside_path)

    def _set_aside_path(self) -> Path:
        """A new file for lines compaction could not read; never one an earlier compaction wrote."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        candidate = self.paths.gold.with_name(f"goldstandard.set-aside-{stamp}.jsonl")
        suffix = 1
        while candidate.exists():
            suffix += 1
            candidate = self.paths.gold.with_name(f"goldstandard.set-aside-{stamp}-{suffix}.jsonl")
        return candidate

    def read_checkpoint(self, source: str) -> Checkpoint | None:
        """The saved review position of a source, or None when it has none.

        The bare index (`.checkpoint-<source>`, the old dashboard's format; hcap's earlier JSON form is read
        too) is completed from the state file beside it, whose item identity counts only while both agree
        on the index: otherwise the old dashboard moved since, and its index wins. An unreadable state file
        is set aside with a `problem`; an unreadable index file is a DataError.
        """
        path = self.paths.checkpoint(source)
        index = formatted = None
        text = self._read_small(path)
        if text is not None:
            index, formatted = _parse_index(text, path)
        state, problem = {}, None
        state_path = self.paths.review_state(source)
        state_text = self._read_small(state_path)
        if state_text is not None:
            try:
                state = _parse_state(state_text)
            except ValueError:
                problem = f"{state_path} is not a review position: delete it (the tab still resumes from {path.name})"
        if index is None:
            if "index" not in state:
                return None if problem is None else Checkpoint(0, problem=problem)
            index = state["index"]
        if formatted is None and state.get("index") == index:
            formatted = state.get("formatted_input")
        return Checkpoint(
            index,
            formatted,
            state.get("filter"),
            by_confidence=state.get("by_confidence", False),
            by_suspicion=state.get("by_suspicion", False),
            problem=problem,
        )

    @staticmethod
    def _read_small(path: Path) -> str | None:
        """A small text file's content, None when it does not exist."""
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
            raise DataError(f"cannot read {path}: {reason}") from None

    def write_checkpoint(self, source: str, checkpoint: Checkpoint) -> None:
        """Save a review position: the bare index for the old dashboard, then hcap's state beside it, each
        replaced atomically (a crash between the two leaves an index the state no longer matches, which
        `read_checkpoint` then honours alone)."""
        state = {
            "index": checkpoint.index,
            "formatted_input": checkpoint.formatted_input,
            "filter": checkpoint.filter,
            "by_confidence": checkpoint.by_confidence,
            "by_suspicion": checkpoint.by_suspicion,
        }
        with self._checkpoint_lock:
            write_atomic(self.paths.checkpoint(source), f"{checkpoint.index}\n".encode())
            write_atomic(self.paths.review_state(source), json_bytes(json.dumps(state, ensure_ascii=False) + "\n"))


def _user_name(uid: int) -> str:
    """A user's login name, or `uid N` when the system does not know it."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def _parse_index(text: str, path: Path) -> tuple[int, str | None]:
    """A checkpoint file's index (and item, in hcap's earlier JSON form), or DataError naming the file."""
    if text.isdigit():
        return int(text), None
    try:
        data = json.loads(text)
        index, formatted = data["index"], data.get("formatted_input")
        if not _is_index(index) or not (formatted is None or isinstance(formatted, str)):
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise DataError(f"{path} is not a checkpoint: delete it to start that tab from the beginning") from None
    return index, formatted


def _parse_state(text: str) -> dict[str, Any]:
    """The review state file's fields, checked; ValueError when it is not one."""
    data = json.loads(text)
    if not isinstance(data, dict) or not _is_index(data.get("index")):
        raise ValueError
    checks = {
        "formatted_input": lambda v: isinstance(v, str),
        "filter": lambda v: isinstance(v, str),
        "by_confidence": lambda v: isinstance(v, bool),
        "by_suspicion": lambda v: isinstance(v, bool),
    }
    return {"index": data["index"]} | {
        key: data[key] for key, valid in checks.items() if data.get(key) is not None and valid(data[key])
    }


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
