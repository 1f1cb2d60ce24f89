"""Errors a user can cause and fix: each carries one line naming the problem and the fix.

The CLI prints these as a single line on stderr with a non-zero exit, and the TUI shows them as
notifications, so no user mistake ever surfaces as a traceback.
"""

from __future__ import annotations


class HcapError(Exception):
    """A problem the user can act on; `str(error)` is the one-line message shown to them."""

    exit_code: int = 1


class DataError(HcapError):
    """A data file or folder is missing, unreadable or malformed."""


class SchemaError(HcapError):
    """The label schema file itself is invalid."""


class LabelError(ValueError):
    """A label does not match the label schema (wrong type, unknown value, missing or extra field).

    A ValueError rather than an HcapError: it describes one record, and callers decide whether it
    means "skip this line", "retry the model" or "stop".
    """
