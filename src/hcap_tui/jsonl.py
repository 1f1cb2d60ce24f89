"""Durable, shareable JSONL files: locked fsynced appends, tolerant reads, atomic rewrites.

Every JSONL file hcap touches goes through `JsonlFile`. Appends take an exclusive lock on a sidecar
lock file, reopen the path, start on a fresh line if an earlier writer was killed mid-line, write
whole lines and fsync before returning, so `kill -9` loses at most the line in flight and two
reviewers never interleave bytes. Rewrites (compaction, undo of a line that is no longer last) go
through a temporary file and `os.replace` under the same lock; because appenders reopen the path
after locking, none of them can write into a replaced file.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcap_tui.errors import DataError


@dataclass(frozen=True)
class LineProblem:
    """A line that could not be used, and why."""

    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name} line {self.line}: {self.reason}"


@dataclass(frozen=True)
class Appended:
    """Where an append landed: enough to take exactly those bytes back out (undo), and to tell whether the
    file it landed in has been replaced since (`inode`)."""

    path: Path
    offset: int
    data: bytes
    inode: int

    @property
    def end(self) -> int:
        """The file's size right after the append."""
        return self.offset + len(self.data)


class FileReplaced(DataError):
    """The file was rewritten (compacted, or an undo by another process) since an append: it cannot be undone."""


_BOM = b"\xef\xbb\xbf"

# One reusable encoder: `json.dumps(..., ensure_ascii=False)` would build a new one for every line.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def encode(record: dict[str, Any]) -> bytes:
    """One JSONL line for a record, keys in the order the dict holds them."""
    return (_ENCODER.encode(record) + "\n").encode("utf-8")


class JsonlFile:
    """One JSONL file on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(f".{path.name}.lock")
        """The sidecar file whose lock every writer of this file holds."""

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the exclusive writer lock of this file (blocks until other writers finish)."""
        fd = self._lock()
        try:
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _lock(self) -> int:
        """Open the sidecar lock file and take its exclusive lock; closing the descriptor releases it."""
        try:
            fd = _open_lock(self.lock_path)
        except OSError as exc:
            raise DataError(
                f"cannot write in {self.path.parent}: {exc.strerror or exc}; check the folder exists and is writable"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def exists(self) -> bool:
        """Whether the file is there at all."""
        return self.path.is_file()

    def read(self) -> Iterator[tuple[int, dict[str, Any] | LineProblem]]:
        """Each non-blank line as (line number, object) or (line number, problem); a missing file is empty.

        Never raises for bad content: a malformed line, a non-object line or a torn last line
        (a writer killed mid-line) is reported as a LineProblem and the rest still reads.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise DataError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        data = data.removeprefix(_BOM)  # written by some Windows editors; not part of the first record
        lines = data.split(b"\n")
        torn = not data.endswith(b"\n")
        last = len(lines) if torn else len(lines) - 1
        for index in range(last):
            raw = lines[index]
            if not raw.strip():
                continue
            line_no = index + 1
            try:
                value = json.loads(raw.decode("utf-8"))  # decoding here spares json its encoding detection
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                if torn and index == last - 1:
                    reason = "incomplete last line (a write was interrupted); skipped"
                elif isinstance(exc, UnicodeDecodeError):
                    reason = "not UTF-8 text; skipped"
                else:
                    reason = f"not valid JSON ({exc.msg}); skipped"
                yield line_no, LineProblem(self.path, line_no, reason)
                continue
            if not isinstance(value, dict):
                reason = f"expected a JSON object, got {type(value).__name__}; skipped"
                yield line_no, LineProblem(self.path, line_no, reason)
                continue
            yield line_no, value

    def append(self, records: Iterable[dict[str, Any]]) -> Appended:
        """Append whole lines and fsync them before returning; the receipt can undo exactly this append.

        This is every approval's path, so it stays lean: one lock, one open, one write, one fsync.
        """
        payload = b"".join([encode(r) for r in records])
        lock_fd = self._lock()
        try:
            return self._append_locked(payload)
        finally:
            os.close(lock_fd)

    def append_locked(self, records: Iterable[dict[str, Any]]) -> Appended:
        """`append` for a caller already holding `locked()`: it read the file and decided under that same hold."""
        return self._append_locked(b"".join([encode(r) for r in records]))

    def _append_locked(self, payload: bytes) -> Appended:
        """Append `payload` while holding the lock, starting a fresh line if the last one was torn."""
        created = False
        try:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            except FileNotFoundError:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
                created = True
        except OSError as exc:
            raise DataError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        try:
            stat = os.fstat(fd)
            size = stat.st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                _write_all(fd, b"\n" + payload)
                size += 1
            else:
                _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        return Appended(self.path, size, payload, stat.st_ino)

    def remove(self, receipt: Appended) -> int | None:
        """Take an earlier append back out; returns the file's inode afterwards, None when those bytes are gone.

        If the append is still the file's tail it is truncated away (same inode); if others appended
        after it, the file is rewritten without it, keeping every other line (a new inode). Raises
        `FileReplaced` when the file is not the one the append went to: a rewrite may have kept the
        same bytes as a newer line, and removing them would delete that line instead.
        """
        with self.locked():
            try:
                with self.path.open("rb+") as handle:
                    stat = os.fstat(handle.fileno())
                    if stat.st_ino != receipt.inode:
                        raise FileReplaced(
                            f"{self.path.name} was rewritten since (compaction?): undo is no longer possible"
                        )
                    if stat.st_size == receipt.end:
                        handle.seek(receipt.offset)
                        if handle.read(len(receipt.data)) == receipt.data:
                            handle.truncate(receipt.offset)
                            handle.flush()
                            os.fsync(handle.fileno())
                            return stat.st_ino
                    handle.seek(0)
                    content = handle.read()
            except FileNotFoundError:
                return None
            at = _find_lines(content, receipt.data)
            if at < 0:
                return None
            self.replace_locked(content[:at] + content[at + len(receipt.data) :])
            return self.path.stat().st_ino

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        """Atomically replace the whole file with `records` (under the writer lock)."""
        with self.locked():
            self.replace_locked(b"".join(encode(r) for r in records))

    def replace_locked(self, content: bytes) -> None:
        """Atomically replace the file with `content`; the caller must hold `locked()`."""
        write_atomic(self.path, content)


def write_atomic(path: Path, content: bytes) -> None:
    """Replace `path` with `content` so that readers see the old file or the new one, never a mix.

    The new file keeps the old one's permission bits (and group, where allowed), so a file that two
    reviewers share stays writable by both after a rewrite.
    """
    # A name per writer, threads included: two checkpoint writes at once must not share a temporary file.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with tmp.open("wb") as handle:
            handle.write(content)
            handle.flush()
            _copy_access(path, handle.fileno())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {path}: {exc.strerror or exc}") from None
    _fsync_dir(path.parent)


def _copy_access(path: Path, fd: int) -> None:
    """Give the open file `fd` the permission bits and group of `path`, if that exists."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    os.fchmod(fd, stat.st_mode & 0o7777)
    try:
        os.fchown(fd, -1, stat.st_gid)
    except PermissionError:
        pass  # not a member of that group: the file keeps this user's group


def _open_lock(lock_path: Path) -> int:
    """A read-only descriptor of the sidecar lock file (flock needs no more), creating it if need be.

    Read-only, and created 0o666 less the umask, so reviewers who are different Unix users can all
    lock the same file: one who cannot create it can still open the one another user created.
    """
    try:
        return os.open(lock_path, os.O_RDONLY | os.O_CREAT, 0o666)
    except PermissionError:
        if not lock_path.exists():
            raise
        return os.open(lock_path, os.O_RDONLY)


def _find_lines(content: bytes, lines: bytes) -> int:
    """Offset of the last occurrence of `lines` that starts at a line boundary, or -1."""
    at = content.rfind(lines)
    while at > 0 and content[at - 1 : at] != b"\n":
        at = content.rfind(lines, 0, at)
    return at


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (one call in the usual case)."""
    written = os.write(fd, data)
    if written < len(data):
        view = memoryview(data)[written:]
        while view:
            view = view[os.write(fd, view) :]


def _fsync_dir(directory: Path) -> None:
    """Make a file's creation or rename durable by syncing its folder."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
