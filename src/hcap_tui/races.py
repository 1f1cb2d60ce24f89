"""Items grouped by race, and races whose items disagree on a race-level field.

Runners of one race share their `[RACE]` paragraph, and a field the schema marks `"scope": "race"` describes the
race, not the runner: every item of the race should carry the same value. `race_conflicts` finds the races
where they do not, for `hcap check`, `hcap stats` and the review app. Items without a race paragraph belong
to no race.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hcap_tui.input_parts import race_paragraph
from hcap_tui.schema import LabelSchema


@dataclass(frozen=True)
class RaceConflict:
    """One race whose items carry more than one value of a race-level field."""

    race: str  # the shared `[RACE]` paragraph
    field: str
    values: dict[Any, list[str]]  # value -> the formatted_inputs carrying it, values and items in first-seen order

    @property
    def items(self) -> int:
        """How many items of the race carry a value."""
        return sum(len(inputs) for inputs in self.values.values())

    def counts(self) -> dict[str, int]:
        """Items per value, most common first, values as text ("true"/"false" for booleans)."""
        ordered = sorted(self.values.items(), key=lambda entry: -len(entry[1]))
        return {_text(value): len(inputs) for value, inputs in ordered}

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the race paragraph (which finds its items), the field and items per value."""
        return {"race": self.race, "field": self.field, "counts": self.counts()}


def race_of(formatted_input: str) -> str:
    """The `[RACE]` paragraph of an item, "" when it has none."""
    return race_paragraph(formatted_input)


def group_by_race(inputs: Iterable[str]) -> dict[str, list[str]]:
    """Race paragraph -> the distinct inputs that share it, races and items in first-seen order."""
    races: dict[str, dict[str, None]] = {}
    for formatted_input in inputs:
        race = race_of(formatted_input)
        if race:
            races.setdefault(race, {})[formatted_input] = None
    return {race: list(members) for race, members in races.items()}


def race_conflicts(schema: LabelSchema, labels: Mapping[str, Mapping[str, Any]]) -> list[RaceConflict]:
    """Races whose items (formatted_input -> label) carry different values of a race-level field.

    One entry per race and field, in the order the races first appear; empty when the schema marks no field
    as race-level.
    """
    fields = schema.race_fields
    if not fields:
        return []
    conflicts = []
    for race, inputs in group_by_race(labels).items():
        if len(inputs) < 2:
            continue
        for f in fields:
            values: dict[Any, list[str]] = {}
            for formatted_input in inputs:
                values.setdefault(labels[formatted_input][f.name], []).append(formatted_input)
            if len(values) > 1:
                conflicts.append(RaceConflict(race, f.name, values))
    return conflicts


def _text(value: Any) -> str:
    """A field value as text: booleans as JSON spells them."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
