"""Errors a user can cause and fix: each carries one line naming the problem and the fix.

The CLI prints these as a single line on stderr with a non-zero exit, and the TUI shows them as
notifications, so no user mistake ever surfaces as a traceback.
"""

from __future__ import annotations

import errno


class HcapError(Exception):
    """A problem the user can act on; `str(error)` is the one-line message shown to them."""

    exit_code: int = 1


class DataError(HcapError):
    """A data file or folder is missing, unreadable or malformed."""


class WriteFailed(DataError):
    """A file could not be written (disk full, quota, permissions, an I/O error); it was left as it was."""


class SchemaError(HcapError):
    """The label schema file itself is invalid."""


class LabelError(ValueError):
    """A label does not match the label schema (wrong type, unknown value, missing or extra field).

    A ValueError rather than an HcapError: it describes one record, and callers decide whether it
    means "skip this line", "retry the model" or "stop".
    """


# What the user can do about the usual reasons a file operation fails, by errno.
_FIXES = {
    errno.ENOSPC: "free some disk space",
    errno.EDQUOT: "free some space within your disk quota",
    errno.EFBIG: "the file would pass this process's file-size limit: raise `ulimit -f`",
    errno.EACCES: "check the permissions of the file and its folder",
    errno.EPERM: "check the permissions of the file and its folder",
    errno.EROFS: "the file system is mounted read-only",
    errno.EIO: "the disk reported an error: check it",
    errno.ELOOP: "a symbolic link there points back to itself: fix or remove it",
    errno.EISDIR: "a folder has the file's name: move it away",
    errno.ENOTDIR: "part of the path is a file, not a folder",
    errno.ENAMETOOLONG: "the path is too long",
}


def os_problem(exc: OSError) -> str:
    """The reason an operating-system call failed and, where one is known, what to do about it."""
    reason = exc.strerror or str(exc)
    fix = _FIXES.get(exc.errno or 0)
    return f"{reason}; {fix}" if fix else reason
