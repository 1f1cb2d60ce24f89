"""Teacher labels for the generated sample comments: what a careful teacher reads from each comment's words.

Each runner carries the words every signal rests on (its evidence), so a label follows from its comment;
about one label in ten is then misread on purpose so that a reviewer has something to correct, and the
reasoning quotes the words each decision rests on. The oldest lines carry the user's former dashboard flags.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sample_phrases import BTS, FORM_REASON, IF, LUCK_REASON, OOF, RACE_REASON, RESULT_REASON, WTS

from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

if TYPE_CHECKING:
    from generate_sample_data import Runner

LABEL_SHARES = {IF: 0.4, OOF: 0.15, BTS: 0.35, WTS: 0.05}  # as in the user's own labelled files
OLD_FLAGS = {"gemini_labeled": True, "human_verified": False, "human_corrected": False}
TEACHER = {"teacher": "gemini", "model": "gemini-2.5-flash"}
SHORTEST_LABELLED = 259  # characters: the user's teacher labels run from 259 to 1,717 (median ~515)


def teacher_labels(eligible: dict[str, Runner], count: int, rng: random.Random, schema: LabelSchema) -> list[dict]:
    """Flat teacher lines for `count` of the eligible runners (by formatted_input), right about nine times in ten."""
    picked = _pick(rng, eligible, count)
    misread = set(rng.sample(range(len(picked)), round(len(picked) * 0.1)))
    old_lines = round(len(picked) * 0.15)  # the oldest lines, from the user's former dashboard
    created = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    records = []
    for index, formatted in enumerate(picked):
        runner = eligible[formatted]
        quotes = dict(runner.evidence)
        quotes["race"] = runner.race_quote or runner.cells[1].split(". ")[0]
        label: dict = {tag: tag in quotes for tag in (IF, OOF, BTS, WTS)}
        label["race_strength"] = runner.strength
        if index in misread:
            _misread(rng, schema, label, quotes, has_race=bool(runner.cells[1]))
        result = formatted.split(" | ")[0]
        label["reasoning"] = _reasoning(rng, label, quotes, has_race=bool(runner.cells[1]), result=result)
        label = schema.validate(label)
        created += timedelta(seconds=rng.randint(3, 40))
        if index < old_lines:
            records.append(flat_record(schema, formatted, label, **OLD_FLAGS))
            continue
        stamp, tokens = created.isoformat(timespec="seconds"), len(schema.dumps(label)) // 4
        records.append(
            flat_record(
                schema,
                formatted,
                label,
                **TEACHER,
                created_at=stamp,
                prompt_tokens=900 + len(formatted) // 4,
                completion_tokens=tokens,
            )
        )
    return records


def _pick(rng: random.Random, eligible: dict[str, Runner], count: int) -> list[str]:
    """Of a few hundred random draws, the one whose true flags come closest to the user's label shares."""
    keys = sorted(key for key in eligible if len(key) >= SHORTEST_LABELLED)
    count = min(count, len(keys))
    best: tuple[float, list[str]] = (float("inf"), [])
    for _ in range(300):
        picked = rng.sample(keys, count)
        miss = sum(
            abs(sum(tag in eligible[k].evidence for k in picked) - share * count) for tag, share in LABEL_SHARES.items()
        )
        best = min(best, (miss, picked))
        if miss <= count * 0.03:
            break
    return best[1]


def _misread(rng: random.Random, schema: LabelSchema, label: dict, quotes: dict, has_race: bool) -> None:
    """Get one field wrong the way a teacher does: over- or under-read a flag, or misjudge the race."""
    field = rng.choice((IF, OOF, BTS, BTS, WTS) + (("race_strength",) * 3 if has_race else ()))
    if field == "race_strength":
        label[field] = rng.choice([v for v in schema.field(field).values if v != label[field]])
        return
    rival = {IF: OOF, OOF: IF, BTS: WTS, WTS: BTS}[field]
    if label[rival] and not label[field]:
        field = rival  # missing a flag the comment carries, rather than asserting two that contradict
    label[field] = not label[field]
    if label[field]:
        quotes[field] = quotes[None]
    else:
        del quotes[field]


def _reasoning(rng: random.Random, label: dict, quotes: dict, has_race: bool, result: str) -> str:
    """Two to four sentences quoting the words each decision rests on (form, luck, race, sometimes the result)."""
    form = IF if label[IF] else OOF if label[OOF] else None
    luck = BTS if label[BTS] else WTS if label[WTS] else None
    sentences = [rng.choice(FORM_REASON[form]).format(q=quotes[form])]
    if luck or rng.random() < 0.85:
        sentences.append(rng.choice(LUCK_REASON[luck]).format(q=quotes.get(luck)))
    if has_race:
        sentences.append(rng.choice(RACE_REASON[label["race_strength"]]).format(q=quotes["race"]))
    else:
        sentences.append("There is no race comment, so nothing can be said about the strength of the race")
    if len(sentences) < 4 and rng.random() < 0.35:
        sentences.append(rng.choice(RESULT_REASON).format(r=result))
    return ". ".join(sentences) + "."
