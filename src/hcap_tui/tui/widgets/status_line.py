"""The one-line status under the review pane: position, progress, filter, gold marker and the last outcome."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static


class StatusLine(Horizontal):
    """Counters on the left (cut short first when space runs out), item markers and the last outcome on the right.

    Nothing here is read as markup.
    """

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        Static { text-wrap: nowrap; text-overflow: ellipsis; }
        #status-counters { width: 1fr; }
        #status-markers { width: auto; max-width: 60%; padding: 0 0 0 1; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="status-counters", markup=False)
        yield Static(id="status-markers", markup=False)

    def show(self, counters: str, *, filter_name: str, in_gold: bool, loading: str, outcome: str) -> None:
        """Render the status: which items are visited and where, then this item's markers and the last outcome."""
        left = Text()
        if filter_name != "all":
            left.append(f"{filter_name} only ▸ ", style="bold")
        left.append(counters)
        right = Text(" · ").join(
            part
            for part in (
                Text(loading, style="italic") if loading else None,
                Text("● in gold", style="bold green") if in_gold else None,
                Text(outcome, style="bold") if outcome else None,
            )
            if part is not None
        )
        # Both parts are one row whatever they say: a repaint is enough, no layout pass.
        self.query_one("#status-counters", Static).update(left, layout=False)
        self.query_one("#status-markers", Static).update(right)
