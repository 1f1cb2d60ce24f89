"""Where the loop stands, as Rich tables built from a `Stats` value: what `hcap stats` prints and the Stats tab shows.

One rendering serves both front ends, so the terminal report and the tab never drift apart. Tables keep
their natural width (the tab scrolls both ways), so a column per model version never squeezes the figures.
Every name that comes from the user's files (origins, model names, enum values, problems) goes in as `Text`,
never as markup, and through `safe()`, so no control sequence in a file reaches the terminal. Rich only: no
Textual here.
"""

from __future__ import annotations

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from hcap_tui.safe_text import one_line, safe
from hcap_tui.stats import CorrectionGroup, Stats

DIGEST_SHOWN = 8  # hex digits of a model digest that tell versions apart
VALUES_PER_ROW = 2  # signal values per row of the distribution table
RACES_SHOWN = 10  # per source; `hcap stats --json` lists every race
RACE_SHOWN_CHARS = 60  # of a race paragraph: enough to find the race


def stats_renderable(stats: Stats) -> RenderableType:
    """Every section of the Stats tab, one under the other: the loop, gold's labels, review corrections."""
    distribution: RenderableType = (
        _distribution_table(stats) if stats.gold else _aside("No gold yet: approvals on the review tabs count here.")
    )
    corrections: RenderableType = (
        _corrections_table(stats)
        if stats.corrections
        else _aside("None recorded yet: each approval in this app records what was proposed.")
    )
    sections = [
        ("Where the loop stands", _loop_table(stats)),
        (f"Label distribution in gold ({stats.gold:,} items)", distribution),
        ("Reviewer corrections: how often a proposed value was changed", corrections),
    ]
    if any(stats.race_conflicts.values()):
        titles = " or ".join(f.title for f in stats.schema.race_fields)
        sections.append((f"Races whose items disagree on {titles}", _race_conflicts_table(stats)))
    parts: list[RenderableType] = []
    for title, body in sections:
        parts += [Text(title, style="bold"), Padding(body, (0, 0, 1, 2))]
    if stats.problems:
        plural = "s" if len(stats.problems) > 1 else ""
        note = Text(f"{len(stats.problems)} problem{plural} while counting (`hcap check` lists them): ", style="yellow")
        parts.append(note.append(safe(stats.problems[0])))
    return Group(*parts)


def _aside(message: str) -> Text:
    """A dim line standing in for an empty section."""
    return Text(message, style="dim")


def _loop_table(s: Stats) -> Table:
    """How many items each stage of the loop holds, with a detail per stage."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_column(style="dim", no_wrap=True)
    if s.eligible_comments is None:
        table.add_row("eligible comments", "–", "comments.csv absent or unreadable")
    else:
        table.add_row("eligible comments", f"{s.eligible_comments:,}", f"of {s.comment_rows:,} rows in comments.csv")
    table.add_row("teacher-labeled", f"{s.labeled:,}", f"{s.labeled_pending:,} not yet in gold")
    table.add_row("predictions pending review", f"{s.predictions_pending:,}", f"{s.predictions_failed:,} failed")
    origins = Text(" · ").join(Text(f"{safe(origin)} {count:,}") for origin, count in s.gold_by_origin.items())
    table.add_row("gold", f"{s.gold:,}", origins)
    return table


def _distribution_table(s: Stats) -> Table:
    """Gold items per value of each signal, with each value's share; the values line up in columns, two to a row
    so that a four-valued enum still fits 80 columns."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True)
    for _ in range(min(VALUES_PER_ROW, max(len(counts) for counts in s.distribution.values()))):
        table.add_column(no_wrap=True)
    for f in s.schema.signals:
        cells = [
            Text.assemble((safe(str(value)), "bold"), f" {count:,} ", (f"{count / s.gold:.0%}", "dim"))
            for value, count in s.distribution[f.name].items()
        ]
        for start in range(0, max(len(cells), 1), VALUES_PER_ROW):
            table.add_row(Text(f.title if start == 0 else ""), *cells[start : start + VALUES_PER_ROW])
    return table


def _corrections_table(s: Stats) -> Table:
    """Per signal (rows) and source (columns: each origin, then each model version), how often the reviewer
    changed the proposed value; more versions make it wider, and the tab scrolls sideways."""
    groups = [(Text(safe(origin)), group) for origin, group in s.corrections.items()]
    groups += [(_version(group), group) for group in s.model_corrections]
    table = Table(box=box.SIMPLE_HEAD, padding=(0, 1), show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("")
    for source, _ in groups:
        table.add_column(source, justify="right", no_wrap=True)
    table.add_row("items", *(Text(f"{group.items:,}") for _, group in groups))
    if any(group.no_proposal for _, group in groups):
        table.add_row("no proposal", *(Text(f"{group.no_proposal:,}", style="dim") for _, group in groups))
    table.add_row("any signal", *(_share(g.changed_items, g.items) for _, g in groups), end_section=True)
    for f in s.schema.signals:
        table.add_row(Text(f.title), *(_share(g.changed.get(f.name, 0), g.reviewed.get(f.name, 0)) for _, g in groups))
    return table


def _race_conflicts_table(s: Stats) -> Table:
    """Per source (teacher labels, gold), the races whose items carry different values of a race-level field:
    the values with their item counts, and the start of the race paragraph to find the race by."""
    rows: list[tuple[Text, Text, Text]] = []
    for source, conflicts in s.race_conflicts.items():
        for conflict in conflicts[:RACES_SHOWN]:
            values = Text(" · ").join(
                Text.assemble((value, "bold"), f" {count}") for value, count in conflict.counts().items()
            )
            if len(s.schema.race_fields) > 1:
                values = Text.assemble(f"{s.schema.field(conflict.field).title}: ", values)
            rows.append((Text(source), values, Text(one_line(conflict.race, RACE_SHOWN_CHARS), style="dim")))
        if len(conflicts) > RACES_SHOWN:
            more = f"… and {len(conflicts) - RACES_SHOWN:,} more (hcap stats --json lists them all)"
            rows.append((Text(source), Text(more, style="dim"), Text("")))
    table = Table.grid(padding=(0, 2))
    # the source and the values keep their width; a narrow screen cuts the race paragraph instead
    for column in range(2):
        table.add_column(no_wrap=True, min_width=max(row[column].cell_len for row in rows))
    table.add_column(no_wrap=True, overflow="ellipsis")
    for row in rows:
        table.add_row(*row)
    return table


def _version(group: CorrectionGroup) -> Text:
    """A model version's column name: the model over the start of its digest."""
    digest = (group.model_digest or "").removeprefix("sha256:")[:DIGEST_SHOWN]
    return Text.assemble(safe(group.model or "unknown model"), (f"\n{safe(digest)}" if digest else "", "dim"))


def _share(changed: int, proposed: int) -> Text:
    """A change rate and its counts, highlighted when the reviewer changed anything; a dash when nothing
    was proposed."""
    if not proposed:
        return Text("–", style="dim")
    return Text.assemble(
        (f"{changed / proposed:.0%}", "bold yellow" if changed else ""), (f" {changed}/{proposed}", "dim")
    )
