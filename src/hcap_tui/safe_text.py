"""Text from files made safe to put on a terminal: no control characters, no escape sequences.

Everything hcap shows comes from files someone else wrote (comments, reasoning, model output, error
text, reviewer names, model names), and a terminal obeys what it is sent: an OSC sequence sets its
title, OSC 8 plants a hyperlink, CSI moves the cursor or recolours the screen. `safe()` removes whole
escape sequences (7-bit and 8-bit forms) and shows every other control character as a visible symbol,
keeping tabs and newlines. Plain strings in and out, so the command line and the review app share it.
"""

from __future__ import annotations

import re

# Whole escape sequences, removed. String sequences (OSC, DCS, SOS, PM, APC) run to their terminator
# (BEL or ST); without one only the introducer goes, below, and the rest shows as the plain text it is.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]"  # CSI: colours, cursor moves, screen clears
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"  # OSC (titles, links), DCS...
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]",  # two-character and nF escapes (reset, charset switches), lone introducers
    re.DOTALL,
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0 but tab and newline, DEL, C1
_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)} | {0x7F: "\u2421"}


def _picture(match: re.Match[str]) -> str:
    """A visible stand-in for one control character: its Unicode control picture, or U+FFFD for C1."""
    code = ord(match.group())
    return _PICTURES.get(code, "\ufffd")


def safe(text: str) -> str:
    """`text` with escape sequences removed and other control characters (but tab and newline) made visible."""
    if _CONTROL.search(text) is None:
        return text  # the usual case: nothing to do
    text = _SEQUENCE.sub("", text.replace("\r\n", "\n"))
    return _CONTROL.sub(_picture, text)


def one_line(text: str, width: int | None = None) -> str:
    """`safe(text)` on one line: runs of whitespace (line breaks too) as one space, cut to `width` with an ellipsis."""
    line = " ".join(safe(text).split())
    if width is None or len(line) <= width:
        return line
    return line[: max(width - 1, 1)] + "…"
