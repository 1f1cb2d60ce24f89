"""`hcap sample`: show the comments the loop would draw, as JSON lines."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import typer

from hcap_tui.cli.app import DataDirOption, app, guarded, note
from hcap_tui.errors import DataError

CsvOption = Annotated[
    Path | None,
    typer.Option("--csv", help="Comments CSV [default: comments.csv in the data folder].", show_default=False),
]
SeedOption = Annotated[
    int | None, typer.Option("--seed", help="Seed for a repeatable draw [default: a fresh one, printed on stderr].")
]


def resolve_seed(seed: int | None) -> int:
    """The seed to use; a fresh one is reported on stderr so the draw can be repeated."""
    if seed is None:
        seed = random.SystemRandom().randrange(2**31)
        note(f"seed: {seed} (pass --seed {seed} to draw the same items again)")
    return seed


@app.command()
@guarded
def sample(
    count: Annotated[int, typer.Option("--count", "-n", min=1, help="How many comments to draw.")] = 20,
    seed: SeedOption = None,
    csv_path: CsvOption = None,
    exclude: Annotated[
        list[Path] | None,
        typer.Option("--exclude", help="JSONL file whose formatted_inputs are left out (repeatable)."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Print COUNT eligible comments drawn uniformly at random, one JSON object per line."""
    from hcap_tui.comments import CommentsFile
    from hcap_tui.config import open_project
    from hcap_tui.store import Store

    project = open_project(data_dir, must_exist=csv_path is None)
    store = Store(project.paths, project.schema)
    excluded: set[str] = set()
    for path in exclude or []:
        if not path.is_file():
            raise DataError(f"--exclude file {path} not found: give an existing JSONL file")
        excluded |= store.keys(path)
    comments = CommentsFile(csv_path or project.paths.comments)
    comments.header()  # a missing or malformed file fails before a seed is announced
    drawn = comments.random_sample(count, resolve_seed(seed), excluded)
    for comment in drawn:
        record = {"formatted_input": comment.formatted_input, "row": comment.row, "metadata": comment.metadata}
        typer.echo(json.dumps(record, ensure_ascii=False))
    if len(drawn) < count:
        note(f"only {len(drawn)} eligible comments{' not excluded' if excluded else ''}: printed them all")
