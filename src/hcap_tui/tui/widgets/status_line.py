"""The one-line status under the review pane: position, progress, filter, gold marker and the last outcome."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class StatusLine(Static):
    """Shows where the reviewer is and what the last key did; never reads its text as markup."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def __init__(self, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)

    def show(self, counters: str, *, filter_name: str, in_gold: bool, loading: str, outcome: str) -> None:
        """Render the status: counters first, then what is worth knowing about this item and the last action."""
        line = Text(counters)
        if filter_name != "all":
            line.append(f" · filter: {filter_name}", style="bold")
        if loading:
            line.append(f" · {loading}", style="italic")
        if in_gold:
            line.append(" · ● in gold", style="bold green")
        if outcome:
            line.append(f" · {outcome}", style="bold")
        self.update(line)
