"""A label file summed up in one streaming pass: per input, a fingerprint, its last line and a small summary.

`hcap stats` and `hcap check` read every teacher label, prediction and gold line of the user's archive
(130,000 of each and growing). Holding those items would hold their ~500-character inputs and their
reasonings: hundreds of MiB. A `Tally` keeps, per distinct input, a 16-byte fingerprint of its text, the
line where it was last seen (the last line wins, as everywhere), the number of its race and its values of
the schema's race-level fields, and whatever summary the caller reduces the item to; summaries are
interned, so items alike share one. Races are numbered by their `[RACE]` paragraph, so items of one race
are compared without their text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from hcap_tui.gcpause import gc_paused
from hcap_tui.input_parts import race_paragraph
from hcap_tui.jsonl import LineProblem
from hcap_tui.races import RaceConflict
from hcap_tui.store import Keep, LabeledItem, Store

NO_RACE = -1


def fingerprint(formatted_input: str) -> bytes:
    """16 bytes that stand for an input's text where many are held (BLAKE2b: two inputs share one by a chance of
    one in 2^128, never in practice)."""
    # surrogatepass: a lone surrogate read from a JSON escape is still text to fingerprint
    return hashlib.blake2b(formatted_input.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class Latest(NamedTuple):
    """What a tally keeps of one input: its last line, its race (NO_RACE without a `[RACE]` paragraph), and the
    shared (race-level values, summary) pair; the values are None when the item has no label."""

    line: int
    race: int
    kept: tuple[tuple[Any, ...] | None, Hashable]

    @property
    def race_values(self) -> tuple[Any, ...] | None:
        """The item's values of the race-level fields in schema order, None for a failed prediction."""
        return self.kept[0]

    @property
    def summary(self) -> Hashable:
        """What the caller's `summarise` made of the item."""
        return self.kept[1]


@dataclass
class Tally:
    """One label file read once: usable and failed lines, skipped lines, and the last line of each input."""

    path: Path
    race_fields: tuple[str, ...]  # the schema's race-level fields, in the order `Latest.race_values` holds them
    races: list[str] = field(default_factory=list)  # race number -> its `[RACE]` paragraph
    latest: dict[bytes, Latest] = field(default_factory=dict)  # fingerprint -> last line, in first-seen order
    lines: int = 0  # usable lines
    failed: int = 0  # usable lines of failed predictions
    problems: list[LineProblem] = field(default_factory=list)

    @property
    def superseded(self) -> int:
        """Usable lines replaced by a later line for the same input."""
        return self.lines - len(self.latest)

    def entries(self) -> Iterator[Latest]:
        """The last line of each input, in the order inputs first appear."""
        return iter(self.latest.values())

    def race_conflicts(self) -> list[RaceConflict]:
        """Races whose items (their last lines, labelled ones only) carry different values of a race-level field:
        one per race and field, races in first-seen order, with how many items carry each value."""
        if not self.race_fields:
            return []
        members: dict[int, list[Latest]] = {}
        for entry in self.latest.values():
            if entry.race != NO_RACE and entry.race_values is not None:
                members.setdefault(entry.race, []).append(entry)
        found = []
        for race, entries in members.items():
            if len(entries) < 2:
                continue
            for position, name in enumerate(self.race_fields):
                values: dict[Any, int] = {}
                for entry in entries:
                    value = entry.race_values[position]  # type: ignore[index]
                    values[value] = values.get(value, 0) + 1
                if len(values) > 1:
                    found.append(RaceConflict(self.races[race], name, values))
        return found


def tally(
    store: Store,
    path: Path,
    summarise: Callable[[LabeledItem], Hashable] = lambda item: None,
    *,
    keep: Keep = False,
) -> Tally:
    """Read a label file once and keep, per input, its last line, race, race-level values and `summarise(item)`
    (a hashable value, interned: items alike share it); `keep` is what `summarise` needs of each record."""
    schema = store.schema
    result = Tally(path, tuple(f.name for f in schema.race_fields))
    positions = [schema.names.index(name) for name in result.race_fields]
    races = result.races
    race_numbers: dict[str, int] = {}
    shared: dict[Any, Any] = {}  # interned (race values, summary) pairs
    latest = result.latest
    new = tuple.__new__  # builds a Latest without NamedTuple's Python-level constructor
    with gc_paused():  # what is kept stays alive to the end: the cycle collector would only rescan it
        for entry in store.scan(path, keep=keep):
            if type(entry) is LineProblem:
                result.problems.append(entry)
                continue
            item: LabeledItem = entry  # type: ignore[assignment]
            result.lines += 1
            values = item.values
            if values is None:
                result.failed += 1
                race_values = None
            else:
                race_values = tuple([values[p] for p in positions])
            text = item.formatted_input
            paragraph = race_paragraph(text)
            race = NO_RACE
            if paragraph:
                race = race_numbers.get(paragraph, NO_RACE)
                if race == NO_RACE:
                    race = race_numbers[paragraph] = len(races)
                    races.append(paragraph)
            kept = (race_values, summarise(item))
            latest[fingerprint(text)] = new(Latest, (item.line, race, shared.setdefault(kept, kept)))
    return result
