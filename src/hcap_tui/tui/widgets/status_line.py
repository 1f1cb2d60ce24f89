"""The one-line status under the review pane: place, progress, filter and order, item markers, the last outcome."""

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

    def show(
        self,
        counters: str,
        *,
        filter_name: str,
        by_confidence: bool,
        in_gold: bool,
        confidence: float | None,
        loading: str,
        outcome: str,
    ) -> None:
        """Render the status: which items are visited, in what order and where, then this item's markers
        (its confidence, whether it is in gold) and the last outcome."""
        visiting = [f"{filter_name} only"] if filter_name != "all" else []
        if by_confidence:
            visiting.append("least confident first")
        left = Text()
        if visiting:
            left.append(" · ".join(visiting) + " ▸ ", style="bold")
        left.append(counters)
        right = Text(" · ").join(
            part
            for part in (
                Text(loading, style="italic") if loading else None,
                Text(f"confidence {confidence:.0%}") if confidence is not None else None,
                Text("● in gold", style="bold green") if in_gold else None,
                Text(outcome, style="bold") if outcome else None,
            )
            if part is not None
        )
        # Both parts are one row whatever they say: a repaint is enough, no layout pass.
        self.query_one("#status-counters", Static).update(left, layout=False)
        self.query_one("#status-markers", Static).update(right)
