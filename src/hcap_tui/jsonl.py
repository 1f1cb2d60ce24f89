"""Durable, shareable JSONL files: locked fsynced appends, tolerant reads, atomic rewrites.

Every JSONL file hcap touches goes through `JsonlFile`. Appends take an exclusive lock on a sidecar
lock file, reopen the path, start on a fresh line if an earlier writer was killed mid-line, write
whole lines and fsync before returning, so `kill -9` loses at most the line in flight and two
reviewers never interleave bytes. Rewrites (compaction, undo of a line that is no longer last) go
through a temporary file and `os.replace` under the same lock; because appenders reopen the path
after locking, none of them can write into a replaced file.

A write that fails (disk full, quota, permissions, an I/O error) leaves the file as it was: an append
truncates its partial bytes away before the lock is released, a rewrite removes its temporary file.
Temporary files a killed rewrite left behind are removed by the next rewrite of the same file.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from hcap_tui.errors import DataError, WriteFailed, os_problem


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


class InUse(DataError):
    """Another process holds a file's run lock (`JsonlFile.exclusive`); `holder` is what it said about itself."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"{path} is in use by {holder or 'another process'}")
        self.path = path
        self.holder = holder


@dataclass(frozen=True)
class Line:
    """One line of a JSONL file as `JsonlFile.stream` yields it."""

    number: int  # 1-based
    offset: int  # of its first byte in the file
    raw: bytes  # as on disk, newline included (none only on an incomplete last line)
    value: dict[str, Any] | LineProblem


_BOM = b"\xef\xbb\xbf"
READ_BLOCK = 1 << 20  # bytes read from disk at a time by `JsonlFile.stream`

# One reusable encoder: `json.dumps(..., ensure_ascii=False)` would build a new one for every line.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def _unreadable(raw: bytes, exc: ValueError) -> str:
    """Why a non-blank line could not be read: torn (the file's last line, with no newline), not UTF-8, or not JSON."""
    if not raw.endswith(b"\n"):
        return "incomplete last line (a write was interrupted); skipped"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text; skipped"
    return f"not valid JSON ({exc.msg if isinstance(exc, json.JSONDecodeError) else exc}); skipped"


def encode(record: dict[str, Any]) -> bytes:
    """One JSONL line for a record, keys in the order the dict holds them."""
    return json_bytes(_ENCODER.encode(record) + "\n")


def json_bytes(text: str) -> bytes:
    """The UTF-8 bytes of JSON text, whatever strings it holds.

    A lone surrogate (`"\\ud800"` in a line some other tool wrote) has no UTF-8 form; it can only sit
    inside a JSON string, where its `\\udXXXX` escape is what any JSON reader turns back into it, so
    the value round-trips and every other character stays as readable UTF-8.
    """
    return text.encode("utf-8", "backslashreplace")


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
            raise WriteFailed(
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

    def stream(self, handle: BinaryIO | None = None) -> Iterator[Line]:
        """Each non-blank line in file order with its offset and bytes, read a block at a time (memory holds one
        line); lines that cannot be used are a LineProblem in `value`, exactly as `read` reports them; a missing
        file is empty. `handle`: the file already opened, at its start (the stream closes it)."""
        handle = self._open_to_read() if handle is None else handle
        if handle is None:
            return
        with handle:
            offset = 0
            try:
                for number, raw in enumerate(handle, start=1):
                    start, offset = offset, offset + len(raw)
                    value = self._parse(number, raw)
                    if value is not None:
                        yield Line(number, start, raw, value)
            except OSError as exc:  # the disk failing mid-file, say
                raise DataError(f"cannot read {self.path}: {os_problem(exc)}") from None

    @contextmanager
    def exclusive(self, holder: str) -> Iterator[None]:
        """Hold this file for a whole job, refusing at once (`InUse`) while another process holds it.

        A second lock beside the writer lock (which every append takes only for its moment): the sidecar
        `.<name>.run`, into which the holder writes `holder` so that a refused process can say who holds
        it. The kernel releases the lock when the holder's process ends, `kill -9` included.
        """
        lock_path = self.path.with_name(f".{self.path.name}.run")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
        except PermissionError:
            fd = self._lock_fd(lock_path)  # another user's lock file: lockable, though not ours to write
        except OSError as exc:
            raise DataError(
                f"cannot write in {self.path.parent}: {exc.strerror or exc}; check the folder exists and is writable"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            other = os.pread(fd, 1024, 0).decode("utf-8", "replace")
            os.close(fd)
            raise InUse(self.path, " ".join("".join(c for c in other if c.isprintable()).split())) from None
        try:
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, holder.encode("utf-8"), 0)
            except OSError:
                pass  # a lock file we may not write: a refused process then names no holder
            yield
        finally:
            try:
                os.ftruncate(fd, 0)  # no holder named once it is free
            except OSError:
                pass
            os.close(fd)  # closing releases the lock

    def _lock_fd(self, lock_path: Path) -> int:
        """A read-only descriptor of an existing lock file, or DataError naming the folder."""
        try:
            return os.open(lock_path, os.O_RDONLY)
        except OSError as exc:
            raise DataError(
                f"cannot write in {self.path.parent}: {exc.strerror or exc}; check the folder exists and is writable"
            ) from None

    def read(self) -> Iterator[tuple[int, dict[str, Any] | LineProblem]]:
        """Each non-blank line as (line number, object) or (line number, problem); a missing file is empty.

        Never raises for bad content: a malformed line, a non-object line or a torn last line
        (a writer killed mid-line) is reported as a LineProblem and the rest still reads. The file is
        read a block at a time, so memory holds one line however large the file is.
        """
        for line in self.stream():
            yield line.number, line.value

    def _open_to_read(self) -> BinaryIO | None:
        """The file opened for reading a block at a time; None when it does not exist, DataError when the system
        refuses it."""
        try:
            return self.path.open("rb", buffering=READ_BLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DataError(f"cannot read {self.path}: {os_problem(exc)}") from None

    def _parse(self, line_no: int, raw: bytes) -> dict[str, Any] | LineProblem | None:
        """One line's object, or the LineProblem saying why it cannot be used; None for a blank line."""
        if line_no == 1:
            raw = raw.removeprefix(_BOM)  # written by some Windows editors; not part of the first record
        try:
            value = json.loads(raw.decode("utf-8"))  # decoding here spares json its encoding detection
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return LineProblem(self.path, line_no, _unreadable(raw, exc)) if raw.strip() else None
        if type(value) is not dict:
            return LineProblem(self.path, line_no, f"expected a JSON object, got {type(value).__name__}; skipped")
        return value

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
        """Append `payload` while holding the lock, starting a fresh line if the last one was torn.

        If any step fails (a full disk after half the bytes, a failed fsync) the file is cut back to its
        size before this append, so no partial line is left for the next writer to build on.
        """
        created = False
        try:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND)
            except FileNotFoundError:
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
                created = True
        except OSError as exc:
            raise WriteFailed(f"cannot write {self.path}: {os_problem(exc)}") from None
        size = -1
        try:
            stat = os.fstat(fd)
            size = stat.st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                _write_all(fd, b"\n" + payload)
                offset = size + 1
            else:
                _write_all(fd, payload)
                offset = size
            os.fsync(fd)
        except OSError as exc:
            restored = size < 0 or _truncate(fd, size)
            if created and restored:
                self.path.unlink(missing_ok=True)
            state = "left as it was" if restored else "its last line may be incomplete: hcap check shows it"
            raise WriteFailed(f"cannot write {self.path} ({state}): {os_problem(exc)}") from None
        finally:
            os.close(fd)
        if created:
            try:
                _fsync_dir(self.path.parent)
            except OSError as exc:
                raise WriteFailed(f"cannot make {self.path} durable: {os_problem(exc)}") from None
        return Appended(self.path, offset, payload, stat.st_ino)

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
            except OSError as exc:
                raise WriteFailed(f"cannot undo in {self.path}: {os_problem(exc)}") from None
            at = _find_lines(content, receipt.data)
            if at < 0:
                return None
            self.replace_locked(content[:at] + content[at + len(receipt.data) :])
            return self.path.stat().st_ino

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        """Atomically replace the whole file with `records` (under the writer lock)."""
        with self.locked():
            self.replace_locked(b"".join(encode(r) for r in records))

    def replace_locked(self, content: bytes | Iterable[bytes]) -> None:
        """Atomically replace the file with `content`; the caller must hold `locked()`."""
        write_atomic(self.path, content, locked=True)


# A rewrite's temporary file: `.<name>.tmp-<pid>-<thread>` beside the file it replaces.
_TEMP_NAME = re.compile(r"\.(?P<target>.+)\.tmp-(?P<pid>\d+)-\d+")
STALE_AFTER_S = 600.0
"""Age past which a temporary file whose process is gone is stale; a live rewrite keeps one for moments."""


@dataclass(frozen=True)
class TempFile:
    """A temporary file of an atomic rewrite: which file it was to replace and which process wrote it."""

    path: Path
    target: str
    pid: int
    size: int
    age_s: float

    @property
    def writer_running(self) -> bool:
        """Whether the process that wrote it still runs on this machine (it may be mid-rewrite)."""
        if self.pid == os.getpid():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # another user's process
        return True

    @property
    def stale(self) -> bool:
        """Left behind by a rewrite that was killed: old, and its process is gone."""
        return self.age_s > STALE_AFTER_S and not self.writer_running


def temp_files(folder: Path, target: str | None = None) -> list[TempFile]:
    """The temporary files rewrites left in `folder` (only those of the file named `target`, when given)."""
    found = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or (target is not None and match["target"] != target):
            continue
        try:
            stat = entry.stat(follow_symlinks=False)
        except OSError:
            continue  # removed meanwhile
        found.append(TempFile(Path(entry.path), match["target"], int(match["pid"]), stat.st_size, now - stat.st_mtime))
    return sorted(found, key=lambda temp: -temp.age_s)


def write_atomic(path: Path, content: bytes | Iterable[bytes], *, locked: bool = False) -> None:
    """Replace `path` with `content` so that readers see the old file or the new one, never a mix.

    The new file keeps the old one's permission bits and group (and its owner, where allowed, as for
    root), so a file that two reviewers share stays theirs after a rewrite. A failure leaves the old
    file as it was and no temporary file behind. Temporary files of earlier rewrites of `path` that
    were killed are removed first: every one of them when the caller holds the file's writer lock
    (`locked`: no other rewrite of it can be under way), else those that are `stale`.
    """
    # A name per writer, threads included: two checkpoint writes at once must not share a temporary file.
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    for temp in temp_files(path.parent, path.name):
        if temp.path != tmp and (locked or temp.stale):
            try:
                temp.path.unlink(missing_ok=True)
            except OSError:
                pass  # another user's file in a sticky folder: `hcap check` lists it
    try:
        with tmp.open("wb") as handle:
            try:  # content may be chunks made as they are written (a large file streams through)
                handle.writelines((content,) if isinstance(content, bytes) else content)
            except BaseException:  # a chunk source that fails (Ctrl-C in a long rewrite) leaves no temporary file
                handle.close()
                tmp.unlink(missing_ok=True)
                raise
            handle.flush()
            _copy_access(path, handle.fileno())
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise WriteFailed(f"cannot write {path} (left as it was): {os_problem(exc)}") from None
    try:
        _fsync_dir(path.parent)
    except OSError as exc:
        raise WriteFailed(f"cannot make {path} durable: {os_problem(exc)}") from None


def _copy_access(path: Path, fd: int) -> None:
    """Give the open file `fd` the owner (if allowed), group (if allowed) and permission bits of `path`."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return
    try:
        os.fchown(fd, stat.st_uid, stat.st_gid)  # only root may give a file to another user
    except PermissionError:
        try:
            os.fchown(fd, -1, stat.st_gid)
        except PermissionError:
            pass  # not a member of that group: the file keeps this user's group
    os.fchmod(fd, stat.st_mode & 0o7777)


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


def _truncate(fd: int, size: int) -> bool:
    """Cut a file back to `size` after a failed append; False when even that failed."""
    try:
        os.ftruncate(fd, size)
    except OSError:
        return False
    try:
        os.fsync(fd)
    except OSError:
        pass  # the shorter size already holds for every reader; only its durability is in doubt
    return True


def _fsync_dir(directory: Path) -> None:
    """Make a file's creation or rename durable by syncing its folder."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
