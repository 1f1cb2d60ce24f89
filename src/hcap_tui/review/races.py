"""What gold says about each race: the values its runners' approvals gave the race-level fields.

A field declared `"scope": "race"` in the schema (race strength, by default) belongs to the race, and
every runner of a race carries the same race comment. `RaceValues` indexes gold by that comment, so the
review app can show the value given to the race's other runners and warn before approving another one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from hcap_tui.gcpause import gc_paused
from hcap_tui.input_parts import race_key


class RaceValues:
    """Per race (its comment's fingerprint), per gold item, the values of the race-level fields."""

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)
        self._races: dict[int, dict[str, tuple[Any, ...]]] = {}
        self._values: dict[tuple[Any, ...], tuple[Any, ...]] = {}  # each distinct tuple of values, held once

    def load(self, labels: Iterable[tuple[str, dict[str, Any] | None]]) -> None:
        """Index many gold items at once (a full read of gold): `put` for each, without its per-call overhead."""
        if not self.fields:
            return
        races, fields, held = self._races, self.fields, self._values.setdefault
        with gc_paused():  # a dict per race, none of them cyclic: the collector would only rescan them
            for formatted_input, label in labels:
                key = race_key(formatted_input)
                if key is not None and label is not None:
                    runners = races.get(key)
                    if runners is None:
                        runners = races[key] = {}
                    values = tuple([label[name] for name in fields])
                    runners[formatted_input] = held(values, values)

    def put(self, formatted_input: str, label: dict[str, Any] | None) -> None:
        """Record (or with None forget) what gold holds for one item."""
        if not self.fields:
            return
        key = race_key(formatted_input)
        if key is None:
            return
        runners = self._races.setdefault(key, {})
        if label is None:
            runners.pop(formatted_input, None)
            if not runners:
                del self._races[key]
        else:
            values = tuple(label.get(name) for name in self.fields)
            runners[formatted_input] = self._values.setdefault(values, values)

    def others(self, formatted_input: str) -> dict[str, Counter[Any]]:
        """For each race-level field, how many other runners of this item's race gold gives each value."""
        key = race_key(formatted_input) if self.fields else None
        runners = self._races.get(key, {}) if key is not None else {}
        counts: dict[str, Counter[Any]] = {name: Counter() for name in self.fields}
        for other, values in runners.items():
            if other != formatted_input:
                for name, value in zip(self.fields, values, strict=True):
                    counts[name][value] += 1
        return {name: counter for name, counter in counts.items() if counter}
