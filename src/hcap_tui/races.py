"""Races whose items disagree on a race-level field.

Runners of one race share their `[RACE]` paragraph, and a field the schema marks `"scope": "race"` describes the
race, not the runner: every item of the race should carry the same value. `Tally.race_conflicts` (tally.py) finds
the races where they do not, for `hcap check`, `hcap stats` and the Stats tab; each is a `RaceConflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hcap_tui.schema import value_name


@dataclass(frozen=True)
class RaceConflict:
    """One race whose items carry more than one value of a race-level field."""

    race: str  # the shared `[RACE]` paragraph
    field: str
    values: dict[Any, int]  # value -> how many items of the race carry it, values in first-seen order

    def counts(self) -> dict[str, int]:
        """Items per value, most common first, values as text ("true"/"false" for booleans)."""
        ordered = sorted(self.values.items(), key=lambda entry: -entry[1])
        return {value_name(value): count for value, count in ordered}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the race paragraph (which finds its items), the field and items per value."""
        return {"race": self.race, "field": self.field, "counts": self.counts()}
