"""Text from the user's files made safe to print on one terminal line.

Comments and race paragraphs are untrusted: an escape sequence or a line break inside one must not move the
cursor, recolour the terminal or break a report's layout.
"""

from __future__ import annotations

import unicodedata


def one_line(text: str, width: int | None = None) -> str:
    """`text` with control characters as spaces and runs of whitespace as one, cut to `width` with an ellipsis."""
    cleaned = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    line = " ".join(cleaned.split())
    if width is None or len(line) <= width:
        return line
    return line[: max(width - 1, 1)] + "…"
