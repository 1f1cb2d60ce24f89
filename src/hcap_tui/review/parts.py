"""An item's formatted_input taken apart again: the result line, the race comment and the horse comment.

hcap builds `formatted_input` as `{result} | [RACE]: {race comment} | [HORSE]: {horse comment}` (either
comment may be missing). The review app shows the parts apart, and race-level checks key on the race
comment, which every runner of one race shares word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RACE_MARKER = " | [RACE]: "
HORSE_MARKER = " | [HORSE]: "
_RUNNERS = re.compile(r"\bof (\d+)\b")


@dataclass(frozen=True)
class InputParts:
    """A formatted_input split into what the reviewer reads: result, race comment, horse comment."""

    result: str
    race: str
    horse: str

    @classmethod
    def split(cls, formatted_input: str) -> InputParts:
        """Split on the `[RACE]:` and `[HORSE]:` parts; text without them is all result."""
        head, found, horse = formatted_input.rpartition(HORSE_MARKER)
        if not found:
            head, horse = formatted_input, ""
        result, found, race = head.partition(RACE_MARKER)
        return cls(result, race if found else "", horse)

    @property
    def runners(self) -> int | None:
        """The field size the result line states ("3rd of 12" → 12); None for a winner ("Won")."""
        match = _RUNNERS.search(self.result)
        return int(match.group(1)) if match else None


def race_key(formatted_input: str) -> int | None:
    """A fingerprint of an item's race comment, shared by every runner of the race; None without one.

    A hash rather than the text, so an index over a large gold file holds a number per item; two races sharing
    one would at worst show a needless warning.
    """
    start = formatted_input.find(RACE_MARKER)
    if start < 0:
        return None
    start += len(RACE_MARKER)
    end = formatted_input.rfind(HORSE_MARKER)
    race = formatted_input[start : end if end >= start else len(formatted_input)]
    return hash(race) if race else None
