"""The parts of a formatted_input read back: the result, the `[RACE]` paragraph and the `[HORSE]` comment.

`comments.format_input` joins them as `3rd of 12, involved in finish | [RACE]: … | [HORSE]: …`; this is its
inverse, used wherever hcap needs one part on its own (items of one race share their `[RACE]` paragraph; the
triage student reads each part apart). A comment may itself contain ` | `, so a part ends only where the next
tag begins: the first ` | [HORSE]: ` after the race tag, which keeps the race paragraph identical for every
runner of one race whatever their own comments say. Inputs that do not follow the format (older records,
other tools) come back whole as the horse comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hcap_tui.comments import HORSE_TAG, PART_SEPARATOR, RACE_TAG, WINNER

_PLACED = re.compile(r"(\d+)(?:st|nd|rd|th) of ([^,]+)(?:, (.+))?")
_RACE_AFTER_RESULT = PART_SEPARATOR + RACE_TAG
_HORSE_AFTER_PART = PART_SEPARATOR + HORSE_TAG


@dataclass(frozen=True)
class InputParts:
    """One formatted_input taken apart; a missing part is ""."""

    result: str  # "Won" or "3rd of 12, involved in finish"
    race: str  # the race-level comment, shared by every runner of the race
    horse: str  # the runner's own comment
    position: int | None  # finishing position, None when the result is absent or not in the usual form
    runners: int | None  # field size; a winner's result does not say it
    phrase: str  # "Won", or the words after the placing ("well beaten"); "" when there are none


def split_input(text: str) -> InputParts:
    """The result, race paragraph and horse comment of a formatted_input, with the result parsed."""
    result, race, horse = _split(text)
    position, runners, phrase = _parse_result(result)
    return InputParts(result, race, horse, position, runners, phrase)


def race_paragraph(text: str) -> str:
    """Only the `[RACE]` paragraph of a formatted_input ("" when it has none): grouping many items by race
    needs nothing else, so nothing else is cut out (as `_split` would find it)."""
    if text.startswith(RACE_TAG):
        start = len(RACE_TAG)
    else:
        at = text.find(_RACE_AFTER_RESULT)
        if at < 0:
            return ""
        start = at + len(_RACE_AFTER_RESULT)
    end = text.find(_HORSE_AFTER_PART, start)
    return text[start:] if end < 0 else text[start:end]


def race_key(text: str) -> int | None:
    """A fingerprint of an item's `[RACE]` paragraph, shared by every runner of the race; None without one.

    A hash rather than the text, so an index over a large gold file holds a number per item; two races sharing
    one would at worst show a needless warning.
    """
    race = race_paragraph(text)
    return hash(race) if race else None


def _split(text: str) -> tuple[str, str, str]:
    """(result, race, horse) as they stand in the text."""
    if text.startswith(RACE_TAG):
        result, race_start = "", len(RACE_TAG)
    else:
        at = text.find(_RACE_AFTER_RESULT)
        if at < 0:
            if text.startswith(HORSE_TAG):
                return "", "", text[len(HORSE_TAG) :]
            at = text.find(_HORSE_AFTER_PART)
            return (text[:at], "", text[at + len(_HORSE_AFTER_PART) :]) if at >= 0 else ("", "", text)
        result, race_start = text[:at], at + len(_RACE_AFTER_RESULT)
    at = text.find(_HORSE_AFTER_PART, race_start)
    if at < 0:
        return result, text[race_start:], ""
    return result, text[race_start:at], text[at + len(_HORSE_AFTER_PART) :]


def _parse_result(result: str) -> tuple[int | None, int | None, str]:
    """(position, runners, phrase) of a result prefix such as `Won` or `10th of 16, well beaten`."""
    if result == WINNER:
        return 1, None, WINNER
    match = _PLACED.fullmatch(result)
    if match is None:
        return None, None, ""
    runners = match[2].strip()
    return int(match[1]), int(runners) if runners.isdigit() else None, match[3] or ""
