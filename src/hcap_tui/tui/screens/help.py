"""The help screen (`?`): every key of the review, including those the footer has no room for."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

CHECKPOINT_NOTE = (
    "Each tab's position is saved in the data folder (.checkpoint-gemini, .checkpoint-predictions), so "
    "reviewers sharing a folder share positions; approvals from another reviewer show up as you go, and "
    "Enter never silently replaces an item they approved since you opened it."
)


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do; Esc, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
        VerticalScroll {
            width: 76;
            max-width: 95%;
            height: auto;
            max-height: 90%;
            border: round $accent;
            border-title-align: center;
            background: $surface;
            padding: 0 1;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "Close", show=False)]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, description in self.rows:
            table.add_row(Text(keys), Text(description))  # schema titles are the user's words, not markup
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys · esc closes"
            yield Static(table)
            yield Static(Text(CHECKPOINT_NOTE, style="dim"), id="help-note")
