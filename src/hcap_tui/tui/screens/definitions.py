"""The definitions screen (`d`): what each signal means and the guidelines the teacher follows, inside the app.

The reviewer judges the teacher's labels by the same rules the teacher was given: the schema's field
descriptions and the project's `guidelines.md` (or hcap's own). Both are the user's files, shown as
plain text, never as markup.
"""

from __future__ import annotations

from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from hcap_tui.safe_text import safe
from hcap_tui.schema import LabelSchema


class DefinitionsScreen(ModalScreen[None]):
    """Each field's key, title, values and description, then the guidelines; scrolls, and Esc, d or q closes it."""

    DEFAULT_CSS = """
    DefinitionsScreen {
        align: center middle;
        VerticalScroll {
            width: 100;
            max-width: 95%;
            height: 90%;
            border: round $accent;
            border-title-align: center;
            background: $surface;
            padding: 0 1;
        }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,d,q", "dismiss", "Close", show=False)]

    def __init__(self, schema: LabelSchema, keys: dict[str, str], guidelines: str) -> None:
        super().__init__()
        self.schema = schema
        self.keys = keys
        self.guidelines = guidelines

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for field in self.schema.fields:
            heading = Text(safe(field.title), style="bold")
            if field.kind == "enum":
                heading.append(f"  ({' / '.join(safe(v) for v in field.values)})", style="dim")
            table.add_row(self.keys.get(field.name, ""), Text.assemble(heading, "\n", safe(field.description)))
        guidelines = Text(safe(self.guidelines.strip()))
        with VerticalScroll() as scroll:
            scroll.border_title = "Signals and guidelines · ↑ ↓ scroll · esc closes"
            yield Static(Group(table, Text(""), Text("Guidelines", style="bold underline"), guidelines))
