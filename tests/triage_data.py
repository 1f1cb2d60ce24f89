"""A data folder whose truth is known: comments whose words decide each signal, a teacher with planted errors.

Every runner's comment is built from phrases that each imply one signal, its race paragraph says how strong the
race was, and it carries a name of its own (words only that item has, which a student that saw the item's label
could memorise). The teacher copies the truth except on the items chosen as errors, where it gets one signal
wrong; gold, where asked for, holds the truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testdata import write_jsonl

from hcap_tui.comments import format_input
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

PHRASES = {
    "in_form": ["rallied gamely", "will remain of interest", "best effort of the season", "thriving at present"],
    "out_of_form": ["found nothing when asked", "continues out of sorts", "hung badly", "hard to fancy"],
    "better_than_show": ["denied a clear run", "hampered at a crucial stage", "ran on when too late",
                         "shaped better than the bare result"],
    "worse_than_show": ["flattered by proximity", "got a soft lead", "had the run of the race"],
    # the user's seven-signal schema renames worse_than_show and adds two attitude signals
    "flattered_by_result": ["flattered by proximity", "got a soft lead", "had the run of the race"],
    "positive_attitude": ["battled on bravely", "knuckled down willingly", "stuck to the task"],
    "negative_attitude": ["carried head awkwardly", "found little", "looked reluctant"],
}
FILLER = ["mid-field", "tracked leaders", "headway over 2f out", "every chance 1f out", "kept on", "held up in rear",
          "pushed along 3f out", "one pace", "chased leaders", "raced wide", "slowly away", "in touch"]
RACE_WORDS = {
    "strong": ["a competitive field run at a strong gallop", "smart handicap form that should work out well"],
    "average": ["ordinary handicap form", "run at an even tempo with no great depth"],
    "weak": ["a modest affair that was slowly run", "weak form that will not take much following"],
    "no_signal": ["the stalls were on the stands' side", "the ground rode as described"],
}
UNIQUE_NAMES = 3  # made-up names in each horse comment: words of its own a student could memorise
SYLLABLES = ["ka", "ri", "mo", "ten", "zu", "bel", "dra", "vo", "lin", "qua", "sy", "por", "fen", "gal", "ux", "ny"]


@dataclass
class Folder:
    """What was written: the truth per input, the teacher's label per input, and which inputs hold an error."""

    truth: dict[str, dict[str, Any]] = field(default_factory=dict)
    teacher: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: set[str] = field(default_factory=set)
    gold: set[str] = field(default_factory=set)


def unique_name(rng: random.Random) -> str:
    """A made-up horse name of three syllables: nearly every item gets words no other item has."""
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + " " + rng.choice(SYLLABLES).capitalize()


def build(
    data_dir: Path,
    schema: LabelSchema,
    *,
    items: int = 300,
    error_rate: float = 0.15,
    gold: int = 0,
    seed: int = 1,
    systematic: str | None = None,
) -> Folder:
    """Write labeled.jsonl (and goldstandard.jsonl with the first `gold` items' truth) into `data_dir`.

    `systematic` names a phrase the teacher always misses (it never sets its signal for it), a learnable
    error only gold can teach.
    """
    rng = random.Random(seed)
    folder = Folder()
    races = [(rng.choice(list(RACE_WORDS)), i) for i in range(items // 6 + 1)]
    error_items = set(rng.sample(range(items), round(items * error_rate)))
    teacher_lines, gold_lines = [], []
    for i in range(items):
        strength, race_no = races[i // 6]
        truth: dict[str, Any] = {f.name: False for f in schema.booleans}
        chosen = []
        for name, phrases in PHRASES.items():
            if name in truth and rng.random() < {"in_form": 0.35, "out_of_form": 0.25}.get(name, 0.3):
                if name == "out_of_form" and truth.get("in_form"):
                    continue
                truth[name] = True
                chosen.append(rng.choice(phrases))
        for enum in schema.enums:
            truth[enum.name] = strength if strength in enum.values else enum.values[0]
        truth["reasoning"] = "Quotes the comment."
        horse = ", ".join(rng.sample(FILLER, 3) + chosen)
        name = " ".join(unique_name(rng) for _ in range(UNIQUE_NAMES))
        race = f"Race {race_no}: {rng.choice(RACE_WORDS[strength])}. {unique_name(rng)} won it."
        position = rng.randint(1, 14)
        row = {"race_comment": f"{name} {horse}", "main_race_comment": race, "finishing_position": str(position),
               "number_of_runners": "14", "total_distance_beaten": str(rng.choice([0.5, 2, 4, 7, 12]))}
        text = format_input(row)
        assert text is not None
        teacher = dict(truth)
        if systematic and systematic in horse:
            owner = next(n for n, phrases in PHRASES.items() if systematic in phrases)
            teacher[owner] = False
        if i in error_items:
            wrong = rng.choice([f for f in schema.signals])
            teacher[wrong.name] = (not truth[wrong.name]) if wrong.kind == "bool" else rng.choice(
                [v for v in wrong.values if v != truth[wrong.name]])
        label = {name: teacher[name] for name in schema.names}
        truth = {name: truth[name] for name in schema.names}
        folder.truth[text], folder.teacher[text] = truth, label
        if label != truth:
            folder.errors.add(text)
        teacher_lines.append(flat_record(schema, text, label, teacher="gemini", model="test"))
        if i < gold:
            folder.gold.add(text)
            gold_lines.append(flat_record(schema, text, truth, origin="gemini", proposed=label, reviewer="ann"))
    write_jsonl(data_dir / "labeled.jsonl", teacher_lines)
    if gold_lines:
        write_jsonl(data_dir / "goldstandard.jsonl", gold_lines)
    return folder
