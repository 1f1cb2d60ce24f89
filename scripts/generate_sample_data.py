#!/usr/bin/env python3
"""Write hcap's bundled sample data: an invented race-reader comments.csv and teacher labels for part of it.

Everything is seeded: the same arguments give byte-identical files. Every phrase comes from a bank in
`sample_phrases.py` tagged with the signal it implies, so each label (`sample_labels.py`) follows from the
words its comment was built from, as a careful teacher would read them; about one label in ten is then
misread on purpose so that a reviewer has something to correct. Banks are rendered once per sex and style
at import, so `write_comments_csv` (which benchmarks import) makes a 1,000,000-row CSV in well under a minute.

Usage: python3 scripts/generate_sample_data.py [--rows 3200] [--labels 200] [--seed 7] [--out data]
"""

from __future__ import annotations

import argparse
import os
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sample_labels import teacher_labels
from sample_phrases import (
    BTS,
    CHALLENGE,
    CONTEXT,
    COURSES,
    DISTANCES,
    FINISH,
    GOING,
    GROUND,
    HEADED,
    IF,
    LEAD_WTS,
    MIDDLE,
    MIDDLE_OOF,
    NAMES,
    NONFINISH,
    NOTES,
    OOF,
    POINT_TEXT,
    POINTS,
    POSITION,
    PROGRESS,
    QUOTED,
    RESULT,
    SEXES,
    SHORT,
    START,
    START_BTS,
    STORY,
    STRENGTH,
    SWITCH,
    TAIL,
    TROUBLE,
    VERDICT,
    WIDE_BTS,
    WIN_FRONT,
    WTS,
    Chain,
)

from hcap_tui.comments import format_input
from hcap_tui.jsonl import encode, write_atomic
from hcap_tui.schema import LabelSchema

COLUMNS = ("race_comment", "main_race_comment", "finishing_position", "number_of_runners", "total_distance_beaten",
           "horse_name", "race_date", "course", "race_id")
FIELD_SIZES = (5, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 14, 14, 15, 16, 18, 20)
MARGINS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.5, 0.75, 0.75, 1, 1, 1.25, 1.5, 1.75, 2, 2.5, 3, 4, 6)  # lengths to the next
SMALL_MARGINS = {0.05: "nse", 0.1: "shd", 0.2: "hd", 0.3: "nk"}
# in_form, out_of_form when not in_form, better_than_show, worse_than_show when not better_than_show
SIGNAL_ODDS = {
    "won": (0.8, 0.0, 0.1, 0.22),
    "close": (0.75, 0.08, 0.36, 0.12),
    "mid": (0.5, 0.2, 0.45, 0.04),
    "beaten": (0.05, 0.3, 0.3, 0.0),
}
CAUSES = {
    IF: ("finish", "verdict", "verdict"),
    OOF: ("middle", "finish", "verdict", "verdict"),
    BTS: ("start", "trouble", "trouble", "wide", "late", "verdict"),
    WTS: ("lead", "verdict", "verdict"),
}
HORSE_MAX, RACE_MAX, RACE_MIN = 500, 1180, 200


COURSE_NAMES = tuple(COURSES)
RACE_STRENGTHS = ("strong", "strong", "strong", "average", "average", "weak", "weak", "weak", "no_signal")


class FastRandom(random.Random):
    """`random.Random` whose `choice` costs one float instead of rejection sampling: most of the generator's time."""

    def choice(self, seq: Sequence[Any]) -> Any:
        """One element of a non-empty sequence."""
        return seq[int(self.random() * len(seq))]


class Runner(NamedTuple):
    """One CSV row plus what it was built from: signal -> the words it rests on, and the race's strength."""

    cells: tuple[str, ...]
    line: str  # the row as a CSV line
    evidence: dict[str | None, str]  # key None: the plain finishing clause, which a teacher may over-read
    strength: str
    race_quote: str | None


def generate_runners(rows: int, seed: int) -> Iterator[Runner]:
    """`rows` runners grouped by race and meeting, in result order within each race."""
    rng = FastRandom(seed)
    made = race_id = 0
    while made < rows:
        course = rng.choice(COURSE_NAMES)
        day = (date(2019, 4, 1) + timedelta(days=rng.randrange(2000))).isoformat()
        going = rng.choice(GOING[COURSES[course]])
        for _ in range(rng.randint(6, 8)):
            if made >= rows:
                break
            race_id += 1
            size = min(rng.choice(FIELD_SIZES), rows - made)
            yield from _race(rng, size, (day, course, str(700000 + race_id)), going)
            made += size


def _race(rng: FastRandom, size: int, where: tuple[str, str, str], going: str) -> Iterator[Runner]:
    """Every runner of one race, sharing its race comment; non-finishers come last."""
    names = rng.sample(NAMES, size + 5)  # spares keep the narrative fluent in very small fields
    fallers = sum(rng.random() < 0.015 for _ in range(size)) if size > 4 else 0
    strength = rng.choice(RACE_STRENGTHS)
    long_race = rng.random() < 0.08
    if rng.random() < 0.015:
        race, strength, quote = "", "no_signal", None
    else:
        race, quote = _race_comment(rng, strength, names, size, where[1], going, long_race)
    race_cell, where_cells = _csv_cell(race), ",".join(where)  # quoted once for every runner of the race
    beaten = 0.0
    for place in range(1, size + 1):
        sex = int(rng.random() * len(SEXES))
        evidence: dict[str | None, str] = {}
        if place > size - fallers:
            position, distance = rng.choice(tuple(NONFINISH)), ""
            horse = _fill(rng, rng.choice(NONFINISH[position][sex]))
        else:
            position, distance, outcome = str(place), "0" if rng.random() < 0.7 else "", "won"
            if place > 1:
                margin = rng.choice(MARGINS)
                beaten = round(beaten + margin, 2)
                text_margin = place == 2 and margin in SMALL_MARGINS and rng.random() < 0.6
                distance = SMALL_MARGINS[margin] if text_margin else "" if rng.random() < 0.01 else f"{beaten:g}"
                outcome = "close" if beaten <= 3 else "mid" if beaten <= 8 else "beaten"
            if rng.random() < 0.015:
                horse = rng.choice(SHORT)
            else:
                target = rng.randint(440, 495) if long_race and rng.random() < 0.6 else int(rng.triangular(60, 300, 70))
                horse, evidence = _horse_comment(rng, sex, outcome, _signals(rng, outcome), target)
        cells = (horse, race, position, str(size), distance, names[place - 1]) + where
        line = f"{_csv_cell(horse)},{race_cell},{position},{size},{distance},{_csv_cell(cells[5])},{where_cells}\n"
        yield Runner(cells, line, evidence, strength, quote)


def _signals(rng: FastRandom, outcome: str) -> list[str]:
    """The signals a runner's comment will carry, drawn with odds that depend on how it finished."""
    p_in, p_out, p_better, p_worse = SIGNAL_ODDS[outcome]
    signals = [IF] if rng.random() < p_in else [OOF] if rng.random() < p_out else []
    return signals + ([BTS] if rng.random() < p_better else [WTS] if rng.random() < p_worse else [])


def _fill(rng: FastRandom, text: str) -> str:
    """Resolve the runtime markers of a rendered sentence: an early point of the race and small numbers."""
    if "{" not in text:
        return text
    return text.format(p=rng.choice(POINTS[:5]), n=2 + int(rng.random() * 8), m=10 + int(rng.random() * 7))


def _race_comment(
    rng: FastRandom, strength: str, names: list[str], size: int, course: str, going: str, long_race: bool
) -> tuple[str, str | None]:
    """A race comment of 200-1,180 characters and the sentence its race_strength rests on (None: no signal)."""
    slots = dict(zip("WSTF", names), L=rng.choice(names[4 : max(size, 5)]), course=course, going=going)
    slots["dist"] = rng.choice(DISTANCES)
    target = rng.randint(1100, 1170) if long_race else int(rng.triangular(RACE_MIN, 560, 205))
    while True:
        groups = rng.sample(STRENGTH[strength], rng.randint(1, 2)) if strength in STRENGTH else []
        tagged = [rng.choice(group).format(**slots) for group in groups]
        sentences = [rng.choice(bank).format(**slots) for bank in STORY]
        losers = [n for n in names[4:] if n != slots["L"]][: 5 if long_race else 0]  # more of the beaten
        for loser, said in zip(losers, rng.sample(STORY[-1], len(losers)), strict=False):
            sentences.append(said.format(**dict(slots, L=loser)))
        context = (*CONTEXT, GROUND[COURSES[course]])
        for bank in rng.sample(context, len(context) if long_race else rng.randint(1, len(context))):
            twice = long_race and bank in CONTEXT  # a long comment says more of each (the ground once)
            for sentence in rng.sample(bank, 2 if twice else 1):
                sentences.insert(rng.randint(0, len(sentences)), sentence.format(**slots))
        sentences[:0] = tagged[:1]
        if len(tagged) > 1:
            sentences.insert(rng.randint(2, len(sentences)), tagged[1])
        if rng.random() < 0.4:
            sentences[0], sentences[1] = sentences[1], sentences[0]
        text = f"{sentences[0]}. {sentences[1]}."
        for sentence in sentences[2:]:
            if len(text) >= target or len(text) + len(sentence) + 2 > RACE_MAX:
                break
            text += f" {sentence}."
        if len(text) >= RACE_MIN:
            return text, tagged[0] if tagged else None


def _horse_comment(
    rng: FastRandom, sex: int, outcome: str, signals: list[str], target: int
) -> tuple[str, dict[str | None, str]]:
    """A horse comment of 60-500 characters carrying `signals`, and the words each signal rests on."""
    long = target > 400
    while True:
        text, evidence = _compose(rng, sex, outcome, signals, long)
        plain = IF not in signals and OOF not in signals  # a neutral verdict would contradict a form verdict
        used: set[str] = set()
        for bank in ((RESULT[outcome],) if plain else ()) + (NOTES,) * (7 if long else 1):
            template = rng.choice(bank[sex])
            extra = _fill(rng, template)
            if len(text) >= target or len(text) + len(extra) + 3 > HORSE_MAX:
                break
            if template not in used and extra not in text:  # one note of each kind ("Drawn 5 of 13" once)
                used.add(template)
                text += f"{'' if text.endswith('.') else '.'} {extra}."
        if 60 <= len(text) <= HORSE_MAX:
            if rng.random() < 0.003 and ". " in text:
                text = text.replace(". ", ".\n", 1)  # as pasted from a two-line source
            return text, evidence


def _causes(rng: FastRandom, outcome: str, signals: list[str]) -> dict[str, str]:
    """Where in the comment each signal shows: the start, the running, the finish, or a verdict sentence."""
    cause = {tag: rng.choice(CAUSES[tag]) for tag in signals}
    for tag in signals:
        if cause[tag] in ("finish", "late") and (outcome, tag) not in FINISH:
            cause[tag] = "verdict"
    finishers = [tag for tag in signals if cause[tag] in ("finish", "late")]
    for tag in finishers[1:]:  # one finishing clause can carry only one signal
        cause[tag] = "verdict"
    return cause


def _running(
    rng: FastRandom, outcome: str, signals: list[str], cause: dict[str, str], short: int
) -> list[tuple[str, str | None]]:
    """The in-running chain from start to finish, each clause with the signal it carries (None: none)."""
    style = "front" if cause.get(WTS) == "lead" else rng.choice(("front", "prominent", "prominent", "mid", "rear"))
    chain: list[tuple[str, str | None]] = []
    point = 0  # points of the race only move forward along the chain

    def run(bank: Chain, tag: str | None = None) -> None:
        """Add a clause from `bank`, placed at or after the previous clause's point of the race."""
        nonlocal point
        phrase = rng.choice(bank.phrases[short])
        if "{p}" in phrase:
            low = max(bank.lo, point)
            point = low + int(rng.random() * (max(bank.hi, low) - low + 1))
            phrase = phrase.replace("{p}", POINT_TEXT[short][point])
        chain.append((phrase, tag))

    if cause.get(BTS) == "start":
        run(START_BTS, BTS)
    elif rng.random() < 0.15:
        run(START)
    if cause.get(WTS) == "lead":
        run(LEAD_WTS, WTS)
    else:
        run(WIN_FRONT if style == "front" and outcome == "won" else POSITION[style])
    if cause.get(OOF) == "middle":
        run(MIDDLE_OOF, OOF)
    elif rng.random() < 0.4:
        run(MIDDLE)
    if cause.get(BTS) == "wide":
        run(WIDE_BTS, BTS)
    if style == "front" and outcome != "won":
        run(HEADED)
    elif style != "front" and rng.random() < 0.6:
        run(PROGRESS)
    if cause.get(BTS) == "trouble":
        run(TROUBLE, BTS)
        if rng.random() < 0.4:
            run(SWITCH)
    if style != "front" and outcome in ("close", "mid") and rng.random() < 0.5:
        run(CHALLENGE)
    finisher = next((tag for tag in signals if cause[tag] in ("finish", "late")), None)
    run(FINISH[("front" if style == "front" and outcome == "won" and not finisher else outcome, finisher)], finisher)
    return chain


def _compose(
    rng: FastRandom, sex: int, outcome: str, signals: list[str], long: bool
) -> tuple[str, dict[str | None, str]]:
    """An in-running chain plus verdict sentences, in shorthand, longhand or prose, with its evidence."""
    cause = _causes(rng, outcome, signals)
    short = int(rng.random() < 0.3)
    chain = _running(rng, outcome, signals, cause, short)
    if not short or rng.random() < 0.5:
        chain[0] = (chain[0][0][:1].upper() + chain[0][0][1:], chain[0][1])
    evidence: dict[str | None, str] = {None: chain[-1][0]}
    for text, tag in chain:
        evidence.setdefault(tag, text)
    prose = not short and len(chain) > 2 and rng.random() < 0.55
    running = ", ".join(t for t, _ in chain[:-1]) + (" and " if prose else ", ") + chain[-1][0]
    verdicts = []
    for tag in signals:
        if cause[tag] == "verdict" or rng.random() < (0.8 if long else 0.3):
            core = rng.choice(VERDICT[tag][sex])
            evidence.setdefault(tag, core)
            verdicts.append(core + (rng.choice(TAIL[tag][sex]) if rng.random() < (0.8 if long else 0.4) else ""))
    body = [verdicts[0], running] + verdicts[1:] if prose and verdicts and rng.random() < 0.6 else [running] + verdicts
    body += [rng.choice(QUOTED[sex])] if rng.random() < 0.01 else []
    end = "." if len(body) > 1 or not short or rng.random() < 0.5 else ""
    return ". ".join(body) + end, evidence


def eligible_runners(runners: Iterable[Runner]) -> dict[str, Runner]:
    """The first runner for each distinct formatted_input, skipping rows hcap would not label."""
    eligible: dict[str, Runner] = {}
    for runner in runners:
        formatted = format_input(dict(zip(COLUMNS, runner.cells)))
        if formatted is not None:
            eligible.setdefault(formatted, runner)
    return eligible


def write_comments_csv(path: Path | str, rows: int, seed: int) -> None:
    """Write a generated comments.csv of `rows` rows (quick enough for 1,000,000) through a temporary file."""
    _write_csv(Path(path), generate_runners(rows, seed))


def _write_csv(path: Path, runners: Iterable[Runner]) -> None:
    """UTF-8 with "\\n" line ends, written to a temporary file and moved into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        handle.writelines(runner.line for runner in runners)
    os.replace(tmp, path)


def _csv_cell(text: str) -> str:
    """A cell quoted exactly as `csv.QUOTE_MINIMAL` does; by hand so a race's comment is quoted once, not per runner."""
    if '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return f'"{text}"' if "," in text or "\n" in text or "\r" in text else text


def main(argv: list[str] | None = None) -> None:
    """Generate comments.csv and labeled.jsonl into the output folder."""
    parser = argparse.ArgumentParser(description="Write hcap's seeded sample comments.csv and labeled.jsonl.")
    parser.add_argument("--rows", type=int, default=3200, help="comment rows to write (default 3200)")
    parser.add_argument("--labels", type=int, default=200, help="teacher labels to write (default 200)")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument("--out", type=Path, default=Path("data"), help="output folder (default data)")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.labels < 0:
        parser.error("--rows must be at least 1 and --labels at least 0")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; give a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    runners = list(generate_runners(args.rows, args.seed))
    _write_csv(args.out / "comments.csv", runners)
    rng = FastRandom(f"labels-{args.seed}")
    labels = teacher_labels(eligible_runners(runners), args.labels, rng, LabelSchema.default())
    write_atomic(args.out / "labeled.jsonl", b"".join(encode(record) for record in labels))
    print(
        f"wrote {args.out / 'comments.csv'} ({args.rows} rows) and {args.out / 'labeled.jsonl'} ({len(labels)} labels)"
    )


if __name__ == "__main__":
    main()
