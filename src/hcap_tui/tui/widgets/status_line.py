"""The one-line status under the review pane: place, progress, filter and order, item markers, the last outcome."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from hcap_tui.safe_text import safe


class StatusLine(Horizontal):
    """Counters on the left, always whole; item markers and the last outcome on the right, cut short when room
    runs out. Nothing here is read as markup, and outcomes (which may quote a file) are made safe."""

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        Static { text-wrap: nowrap; text-overflow: ellipsis; }
        #status-counters { width: auto; }
        #status-markers { width: 1fr; padding: 0 0 0 2; content-align-horizontal: right; }
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
        order_name: str,
        in_gold: bool,
        confidence: float | None,
        loading: str,
        outcome: str,
    ) -> None:
        """Render the status: the place within the filter and order ("3/17 not in gold suspect first") and
        progress, then this item's markers (its confidence, whether it is in gold) and the last outcome, which is
        cut short first.

        `counters` starts with the place ("3/17 · …"); the filter's short name goes right after it.
        """
        place, _, rest = counters.partition(" · ")
        left = Text(place, style="bold")
        if filter_name:
            left.append(f" {filter_name}", style="bold")
        if order_name:
            left.append(f" {order_name}", style="bold")
        if rest:
            left.append(f" · {rest}")
        right = Text(" · ").join(
            part
            for part in (
                Text(loading, style="italic") if loading else None,
                Text(f"confidence {confidence:.0%}") if confidence is not None else None,
                Text("● in gold", style="bold green") if in_gold else None,
                Text(safe(outcome), style="bold") if outcome else None,
            )
            if part is not None
        )
        self.query_one("#status-counters", Static).update(left)
        self.query_one("#status-markers", Static).update(right)
