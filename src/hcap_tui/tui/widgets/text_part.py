"""One part of an item on screen (race comment, horse comment, reasoning), cut to the rows it is given.

The part wraps its text itself, so the rows it says it needs are exactly the rows it draws, and shows only
the lines that fit from where it is scrolled to. When lines are cut off, its last row says how many and
which way ("↓ 3 more lines"), so nothing is hidden behind a faint scrollbar. Text comes from files and is
shown through `safe()`, never as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text
from textual.widgets import Static

from hcap_tui.safe_text import safe

MARKER_STYLE = "italic dim"


def wrapped(console: Console, text: Text, width: int) -> list[Text]:
    """`text` wrapped to `width` cells, one Text per screen line (at least one line)."""
    if width <= 0:
        return [text]
    return list(text.wrap(console, width, overflow="fold")) or [Text()]


class TextPart(Static):
    """A labelled text that shows the window of its wrapped lines the pane gives it rows for, with a marker."""

    DEFAULT_CSS = """
    TextPart {
        height: auto;
        border-left: outer $secondary;
        padding: 0 1 0 0;
        text-wrap: nowrap;
        text-overflow: clip;
    }
    TextPart.-absent { display: none; }
    """

    def __init__(self, label: str, **kwargs: object) -> None:
        super().__init__(markup=False, **kwargs)  # type: ignore[arg-type]
        self.label = label
        self._text: str | None = None  # as given, before it was made safe
        self._full = Text()
        self._wrapped: list[Text] = []
        self._wrap_width = 0
        self._given = 0
        self.first_line = 0
        """The first wrapped line shown."""

    def set_text(self, text: str, *, keep_place: bool) -> None:
        """Show a new text (from a file: made safe); `keep_place` keeps the scroll position (same item), and the
        lines already wrapped when the text is the one shown."""
        if keep_place and text == self._text:
            return
        self._text = text
        self._full = Text.assemble((f"{self.label}  ", "bold"), safe(text))
        self._wrap_width = 0  # wrap again
        if not keep_place:
            self.first_line = 0
        self.set_class(not text, "-absent")

    @property
    def present(self) -> bool:
        """Whether the part has any text (an item may have no race comment)."""
        return not self.has_class("-absent")

    def need(self, width: int) -> int:
        """Rows needed to show every line at a pane `width` (the border and padding take two columns)."""
        if not self.present:
            return 0
        inner = max(width - 2, 1)
        if inner != self._wrap_width:
            self._wrapped, self._wrap_width = wrapped(self.app.console, self._full, inner), inner
        return len(self._wrapped)

    @property
    def lines_shown(self) -> int:
        """Lines of text shown in the rows given (one row goes to the marker when lines are cut off)."""
        cut = self._given < len(self._wrapped)
        return self._given - 1 if cut and self._given >= 2 else self._given

    @property
    def below(self) -> int:
        """Lines cut off below the window."""
        return max(len(self._wrapped) - self.first_line - self.lines_shown, 0)

    def fit(self, rows: int) -> None:
        """Draw in `rows` rows (after `need`): the window from the scroll position, then a marker if cut."""
        self._given = rows
        self.first_line = min(self.first_line, max(len(self._wrapped) - self.lines_shown, 0))
        self.styles.height = rows
        self._draw()

    def scroll_by(self, lines: int) -> int:
        """Move the window by up to `lines` (negative: up); returns how far it moved."""
        target = min(max(self.first_line + lines, 0), max(len(self._wrapped) - self.lines_shown, 0))
        moved, self.first_line = target - self.first_line, target
        if moved:
            self._draw()
        return moved

    def _draw(self) -> None:
        shown = self._wrapped[self.first_line : self.first_line + self.lines_shown]
        if self.lines_shown < self._given:
            shown = [*shown, Text(self._marker(), style=MARKER_STYLE)]
        self.update(Text("\n").join(shown))

    def _marker(self) -> str:
        """Where the cut-off lines are: "↓ 3 more lines", "↑ 2 lines above · ↓ 1 more", "↑ 4 lines above"."""
        above, below = self.first_line, self.below
        plural = "" if below == 1 else "s"
        if below and above:
            return f"↑ {above} above · ↓ {below} more line{plural}"
        if below:
            return f"↓ {below} more line{plural} (↓ / PgDn)"
        return f"↑ {above} line{'' if above == 1 else 's'} above (↑ / PgUp)"
