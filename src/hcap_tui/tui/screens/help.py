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

NOTES = (
    "Scrolling: a part of the item that does not fit ends in a marker such as \"↓ 3 more lines\"; ↓ / ↑ read on or "
    "back one line and PgDn / PgUp five, through the race comment, then the horse comment, then the reasoning.",
    "Editing: e puts the cursor at the end of the reasoning, E selects all of it so typing replaces it, c empties it. "
    "Esc leaves the editor and the next key is a command again; Enter leaves it and approves; Ctrl+J types a new line.",
    "A second Enter is asked for before replacing an item already in gold (its values are shown beside yours), "
    "before approving two signals that contradict each other, and before giving a race another strength than its "
    "other runners have in gold.",
    "Each tab's position, filter and order are saved in the data folder (.checkpoint-gemini and "
    ".checkpoint-predictions, which the old dashboard reads too, plus a .json file beside each), so reviewers sharing "
    "a folder share positions; approvals from another reviewer show up as you go, and Enter never silently replaces "
    "an item they approved since you opened it.",
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
            yield Static(Text("\n\n".join(NOTES), style="dim"), id="help-note")
