"""The item under review: its result line, the race comment and the horse comment, never read as markup.

The race comment is the long, analytical part; it gets the height the other parts leave (CSS `1fr`)
and scrolls, so the horse comment, always shown whole, and the controls below stay on screen together
even at 80x24 and while the reasoning editor is open.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

RACE_MARKER = " | [RACE]: "
HORSE_MARKER = " | [HORSE]: "


@dataclass(frozen=True)
class InputParts:
    """A formatted_input split into what the reviewer reads: result, race comment, horse comment."""

    result: str
    race: str
    horse: str

    @classmethod
    def split(cls, formatted_input: str) -> InputParts:
        """Split on the `[RACE]:` and `[HORSE]:` parts; text without them is all result."""
        head, found, horse = formatted_input.rpartition(HORSE_MARKER)
        if not found:
            head, horse = formatted_input, ""
        result, found, race = head.partition(RACE_MARKER)
        return cls(result, race if found else "", horse)


class ItemView(Vertical):
    """Result, race comment and horse comment of one item, plus a gold marker and a failure note."""

    DEFAULT_CSS = """
    ItemView {
        height: 1fr;
        #result-line { height: auto; max-height: 3; padding: 0 1; color: $text-accent; }
        #failure { height: auto; max-height: 2; padding: 0 1; color: $text-error; display: none; }
        #failure.-shown { display: block; }
        #race { height: 1fr; min-height: 1; }
        #horse { height: auto; }
        #race-text { border-left: outer $secondary; padding: 0 1 0 0; }
        #horse-text { border-left: outer $success; padding: 0 1 0 0; }
        #race.-absent { display: none; }
    }
    """

    _shown = ""

    def compose(self) -> ComposeResult:
        yield Static(id="result-line", markup=False)
        yield Static(id="failure", markup=False)
        with VerticalScroll(id="race", can_focus=False):
            yield Static(id="race-text", markup=False)
        with VerticalScroll(id="horse", can_focus=False):
            yield Static(id="horse-text", markup=False)

    def show(self, formatted_input: str, *, gold_note: str | None, failure: str | None) -> None:
        """Display an item; `gold_note` marks one already in gold, `failure` a prediction the model failed."""
        parts = InputParts.split(formatted_input)
        result = Text(parts.result, style="bold")
        if gold_note:
            result.append(f"   ● {gold_note}", style="bold green")
        self.query_one("#result-line", Static).update(result)
        failure_line = self.query_one("#failure", Static)
        failure_line.set_class(failure is not None, "-shown")
        failure_line.update(Text(f"The model failed on this item: {failure}"))
        race = self.query_one("#race", VerticalScroll)
        race.set_class(not parts.race, "-absent")
        if formatted_input != self._shown:
            race.scroll_home(animate=False)
            self.query_one("#horse", VerticalScroll).scroll_home(animate=False)
            self._shown = formatted_input
        self.query_one("#race-text", Static).update(Text.assemble(("RACE  ", "bold"), parts.race))
        self.query_one("#horse-text", Static).update(Text.assemble(("HORSE  ", "bold"), parts.horse))

    def scroll_item(self, lines: int) -> None:
        """Scroll the comments by a number of lines (negative: up): the race comment while it can move that
        way, then the horse comment (which scrolls only in a terminal too small to show it whole)."""
        race, horse = self.query_one("#race", VerticalScroll), self.query_one("#horse", VerticalScroll)
        at_end = race.scroll_y >= race.max_scroll_y if lines > 0 else race.scroll_y <= 0
        (horse if at_end or race.has_class("-absent") else race).scroll_relative(y=lines, animate=False)
