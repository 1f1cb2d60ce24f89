"""The benchmarks' data: a user-sized archive of comments, teacher labels and gold with the real items' shapes.

One generator for every benchmark script, so their figures describe the same files:

- `comments_csv(rows)`: a comments.csv from the repository's seeded sample generator
  (`scripts/generate_sample_data.py`), cached under `benchmarks/.work/` and made again only when the generator
  changes;
- `archive_inputs(csv, count)`: the first `count` eligible formatted_inputs of such a file (about 500
  characters each, as the user's are);
- `random_label`: flags true about a third of the time, a random enum value, and a reasoning of 3-4 sentences
  that fills about five lines at 80 columns (the user's teacher writes a median of five);
- `teacher_record` / `gold_record`: lines as `hcap label` and the review app write them;
- `build_archive(root, ...)`: a data folder with all of it.
"""

from __future__ import annotations

import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hcap_tui.comments import CommentsFile
from hcap_tui.config import DataPaths
from hcap_tui.input_parts import race_paragraph
from hcap_tui.jsonl import encode
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benchmarks" / ".work"
GENERATOR = ROOT / "scripts" / "generate_sample_data.py"
LABELLED = datetime(2025, 1, 1, tzinfo=UTC)  # when the teacher labelled the first item
REVIEWED = datetime(2025, 3, 1, tzinfo=UTC)  # when the first item was reviewed
sys.path.insert(0, str(GENERATOR.parent))  # the sample generator is a script beside the package, not part of it
from generate_sample_data import write_comments_csv  # noqa: E402

SEED = 7
ARCHIVE_COMMENTS = 130_000  # the user's archive today
DIGESTS = ["sha256:" + digit * 64 for digit in "abc"]

# Sentences a teacher's reasoning is built from: each cites the words its decision rests on.
_OPENINGS = (
    "The comment says the horse {verb} and {finish}, which points to a runner in good heart.",
    "Held up off a {pace} gallop, it {verb} before it {finish}, so the run reads better than the bare result.",
    "It was {trouble} at a key stage and still {finish}, which is why better_than_show is marked.",
    "The race comment calls this a {strength} renewal run at a {pace} gallop, and the form is rated accordingly.",
)
_MIDDLES = (
    "Nothing in the wording suggests the result flattered it: there is no soft lead and no mention of the race "
    "falling apart around it.",
    "Attitude words weigh heavily here, and '{finish}' is the kind of phrase that supports the in-form call.",
    "One moderate run is not enough to call it out of form, so that flag stays off despite the beaten margin.",
    "The draw and the pace both worked against those ridden handily, and this one raced {position} throughout.",
    "The reader notes it {verb}, and being {trouble} cost it ground it could not make up in the final furlong.",
)
_CLOSINGS = (
    "Race strength follows the race paragraph, which describes a {strength} field with the form looking "
    "solid.",
    "Overall the comment supports a cautious reading: one to note next time on a sounder surface.",
    "With the field finishing compressed behind the principals, the form is treated as {strength}.",
)
_FILLS = {
    "verb": ("travelled well", "kept on gamely", "rallied when headed", "found little when asked", "hung left"),
    "finish": ("stayed on strongly", "was nearest at the finish", "could only keep on at one pace", "battled on"),
    "pace": ("strong", "steady", "muddling", "furious"),
    "trouble": ("denied a clear run", "hampered", "short of room", "forced wide"),
    "strength": ("strong", "average", "weak"),
    "position": ("prominently", "in mid-division", "towards the rear"),
}


def comments_csv(rows: int) -> Path:
    """A `rows`-row comments.csv from the seeded sample generator, cached under benchmarks/.work/."""
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / f"comments-{rows}.csv"
    changed = max(script.stat().st_mtime for script in GENERATOR.parent.glob("*.py"))
    if not path.exists() or path.stat().st_mtime < changed:
        started = time.perf_counter()
        write_comments_csv(path, rows, SEED)
        print(f"generated {path.name} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s",
              file=sys.stderr)
    return path


def archive_inputs(csv_path: Path, count: int) -> list[str]:
    """The first `count` distinct eligible formatted_inputs of a comments.csv."""
    inputs: dict[str, None] = {}
    for comment in CommentsFile(csv_path):
        inputs[comment.formatted_input] = None
        if len(inputs) == count:
            break
    if len(inputs) < count:
        raise SystemExit(f"{csv_path} has only {len(inputs)} distinct eligible rows; {count} were asked for")
    return list(inputs)


def reasoning(rng: random.Random) -> str:
    """A teacher's reasoning: 3-4 sentences, about five lines at 80 columns."""
    parts = [rng.choice(_OPENINGS), *rng.sample(_MIDDLES, rng.choice((1, 1, 1, 2))), rng.choice(_CLOSINGS)]
    text = " ".join(parts)
    return text.format(**{name: rng.choice(choices) for name, choices in _FILLS.items()})


def random_label(schema: LabelSchema, rng: random.Random) -> dict[str, Any]:
    """A consistent label: flags true about a third of the time, a random enum value and a realistic reasoning."""
    label: dict[str, Any] = {}
    for f in schema.fields:
        if f.kind == "bool":
            label[f.name] = rng.random() < 0.3
        elif f.kind == "enum":
            label[f.name] = rng.choice(f.values)
        else:
            label[f.name] = reasoning(rng)
    for _, second in schema.contradictions(label):
        label[second] = False  # the teacher keeps exclusive pairs apart, as the user's labels do
    return label


def flipped(schema: LabelSchema, rng: random.Random, label: dict[str, Any], rate: float) -> dict[str, Any]:
    """A copy of `label` with each signal changed with probability `rate` (a reviewer's or a model's disagreement)."""
    other = dict(label)
    for f in schema.signals:
        if rng.random() < rate:
            other[f.name] = (not label[f.name]) if f.kind == "bool" else rng.choice(f.values)
    return other


def stamp(start: datetime, index: int, seconds: int) -> str:
    """The time of the `index`-th line written every `seconds` from `start`: every line has its own, as real ones do."""
    return (start + timedelta(seconds=index * seconds)).isoformat(timespec="seconds")


def teacher_record(schema: LabelSchema, text: str, label: dict[str, Any], index: int) -> dict[str, Any]:
    """A labeled.jsonl line as `hcap label` writes it."""
    return flat_record(schema, text, label, teacher="gemini", model="gemini-2.5-flash",
                       created_at=stamp(LABELLED, index, 2), prompt_tokens=812, completion_tokens=96)


def gold_record(schema: LabelSchema, text: str, proposed: dict[str, Any], final: dict[str, Any], index: int
                ) -> dict[str, Any]:
    """A goldstandard.jsonl line as the review app writes it: half from the teacher, half from three model
    versions."""
    version = {"model": "flat-hcap", "model_digest": DIGESTS[index % 3]} if index % 2 == 0 else {}
    return flat_record(
        schema, text, final,
        origin="predictions" if version else "gemini",
        proposed=proposed,
        changed=schema.changed_fields(proposed, final),
        reviewer="bench",
        reviewed_at=stamp(REVIEWED, index, 20),
        **version,
    )


def write_lines(path: Path, records: list[dict[str, Any]]) -> None:
    """Write records as JSONL in one go (setup, not measured)."""
    path.write_bytes(b"".join(encode(record) for record in records))


def build_archive(root: Path, *, csv_rows: int = ARCHIVE_COMMENTS, labeled: int = ARCHIVE_COMMENTS,
                  gold: int = ARCHIVE_COMMENTS, seed: int = SEED) -> DataPaths:
    """A fresh data folder: comments.csv of `csv_rows` rows (a link to the cached file), teacher labels of its
    first `labeled` eligible items and `gold` reviewed items, the last of the first max(labeled, gold): gold
    covers the teacher's labels when both are the same size, and leaves the first items waiting for review
    when it is smaller."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    paths = DataPaths(root)
    source = comments_csv(csv_rows)
    paths.comments.symlink_to(source)
    schema = LabelSchema.default()
    rng = random.Random(seed)
    inputs = archive_inputs(source, max(labeled, gold))
    teacher = {text: random_label(schema, rng) for text in inputs}
    reviewed = {text: flipped(schema, rng, label, 0.1) for text, label in teacher.items()}
    by_race(schema, rng, teacher, reviewed)
    write_lines(paths.labeled, [teacher_record(schema, text, teacher[text], i) for i, text in enumerate(inputs[:labeled])])
    write_lines(paths.gold, [
        gold_record(schema, text, teacher[text], reviewed[text], i)
        for i, text in enumerate(inputs[len(inputs) - gold :])
    ])
    return paths


def by_race(schema: LabelSchema, rng: random.Random, teacher: dict[str, dict[str, Any]],
            reviewed: dict[str, dict[str, Any]]) -> None:
    """Give the race-level fields one value per race, as the user's labels have them: the teacher's value for the
    race, and in gold the reviewer's (changed for one race in ten); the teacher slips on one runner in a hundred,
    which leaves a few races whose runners disagree (the user's teacher left 13)."""
    fields = schema.race_fields
    races: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for text in teacher:
        race = race_paragraph(text)
        if not race:
            continue
        if race not in races:
            given = {f.name: teacher[text][f.name] for f in fields}
            races[race] = (given, other_values(schema, rng, given) if rng.random() < 0.1 else given)
        given, kept = races[race]
        teacher[text].update(other_values(schema, rng, given) if rng.random() < 0.01 else given)
        reviewed[text].update(kept)


def other_values(schema: LabelSchema, rng: random.Random, values: dict[str, Any]) -> dict[str, Any]:
    """Different values of the race-level fields than `values`."""
    return {f.name: rng.choice([v for v in f.values if v != values[f.name]]) if f.kind == "enum"
            else not values[f.name] for f in schema.race_fields}
