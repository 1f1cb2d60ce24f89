"""The item under review: its result line, race comment, horse comment and text fields, laid out by content.

Under the result line, a failed prediction says why it failed, and in the teacher's most-suspect-first order
the item says what the student doubts (`review.suspects.suspect_line`).

Each part gets the rows its text wraps to when everything fits (so there is never a blank band between
parts); when it does not, the rows are shared in proportion to what each part holds (`layout.allocate`) and
every cut part says how many lines it hides. The arrow and page keys read on through the cut parts in
reading order. A text field's editor takes its part's place while it is open.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from hcap_tui.input_parts import split_input
from hcap_tui.safe_text import safe
from hcap_tui.schema import SchemaField
from hcap_tui.tui.layout import allocate
from hcap_tui.tui.widgets.text_editor import TextEditor
from hcap_tui.tui.widgets.text_part import TextPart, wrapped

FLOOR = 3  # rows a cut part keeps: two lines of text and its marker
EDITOR_FLOOR = 4  # rows an open editor keeps: its title and three lines
RESULT_ROWS, FAILURE_ROWS, SUSPECT_ROWS = 2, 2, 2  # at most, however long the line


class ItemView(Vertical):
    """Result, race comment, horse comment and text fields of one item, plus a gold marker, a failure note and
    the student's doubts."""

    DEFAULT_CSS = """
    ItemView {
        height: auto;
        #result-line { height: auto; padding: 0 1; color: $text-accent; }
        #failure { height: auto; padding: 0 1; color: $text-error; display: none; }
        #failure.-shown { display: block; }
        #suspect { height: auto; padding: 0 1; color: $text-warning; display: none; }
        #suspect.-shown { display: block; }
        #horse { border-left: outer $success; }
        .text-part { border-left: outer $warning; }
    }
    """

    def __init__(self, texts: tuple[SchemaField, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.texts = texts
        self._shown = ""
        self._fixed_text = {"#result-line": Text(), "#failure": Text(), "#suspect": Text()}  # the fixed lines

    def compose(self) -> ComposeResult:
        yield Static(id="result-line", markup=False)
        yield Static(id="failure", markup=False)
        yield Static(id="suspect", markup=False)
        yield TextPart("RACE", id="race")
        yield TextPart("HORSE", id="horse")
        for field in self.texts:
            yield TextPart(field.title.upper(), id=f"text-{field.name}", classes="text-part")
            yield TextEditor(field.name, field.title, id=f"field-{field.name}")

    @property
    def parts(self) -> list[TextPart]:
        """The scrollable parts in reading order: race, horse, then the text fields."""
        return list(self.query(TextPart))

    def show(
        self,
        formatted_input: str,
        texts: dict[str, str],
        *,
        gold_note: str | None,
        failure: str | None,
        suspect: str | None = None,
    ) -> None:
        """Display an item; `gold_note` marks one already in gold, `failure` a prediction the model failed,
        `suspect` what the student doubts of a teacher label."""
        same = formatted_input == self._shown
        self._shown = formatted_input
        parts = split_input(formatted_input)
        result = Text(safe(parts.result), style="bold")
        if gold_note:
            result.append(f"   ● {safe(gold_note)}", style="bold green")
        self._fixed_text["#result-line"] = result
        self._fixed_text["#failure"] = Text(f"The model failed on this item: {safe(failure or '')}")
        self.query_one("#result-line", Static).update(result)
        failure_line = self.query_one("#failure", Static)
        failure_line.set_class(failure is not None, "-shown")
        failure_line.update(self._fixed_text["#failure"])
        self._fixed_text["#suspect"] = Text(safe(suspect or ""))
        suspect_line = self.query_one("#suspect", Static)
        suspect_line.set_class(suspect is not None, "-shown")
        suspect_line.update(self._fixed_text["#suspect"])
        self.query_one("#race", TextPart).set_text(parts.race, keep_place=same)
        self.query_one("#horse", TextPart).set_text(parts.horse, keep_place=same)
        for field in self.texts:
            self.query_one(f"#text-{field.name}", TextPart).set_text(texts[field.name], keep_place=same)

    def fit(self, room: int, width: int) -> int:
        """Share `room` rows among the parts at a pane `width`; returns the rows used."""
        console = self.app.console
        fixed = 0
        for selector, most in (("#result-line", RESULT_ROWS), ("#failure", FAILURE_ROWS), ("#suspect", SUSPECT_ROWS)):
            line = self.query_one(selector, Static)
            shown = selector == "#result-line" or line.has_class("-shown")
            rows = min(len(wrapped(console, self._fixed_text[selector], width - 2)), most) if shown else 0
            line.styles.height = rows
            fixed += rows
        slots: list[TextPart | TextEditor] = []
        needs, floors = [], []
        for part in self.parts:
            editor = self._editor_of(part)
            if editor is not None and not editor.closed:
                part.display = False
                text_rows = len(wrapped(console, Text(editor.text), max(width - 2, 1)))
                slots.append(editor)
                needs.append(max(text_rows + 2, EDITOR_FLOOR))
                floors.append(EDITOR_FLOOR)
            else:
                part.display = part.present
                slots.append(part)
                needs.append(part.need(width))
                floors.append(FLOOR)
        rows = allocate(needs, room - fixed, floors)
        for slot, given in zip(slots, rows, strict=True):
            if isinstance(slot, TextPart):
                slot.fit(given)
            else:
                slot.styles.height = given
        return fixed + sum(rows)

    def _editor_of(self, part: TextPart) -> TextEditor | None:
        """The editor that takes `part`'s place while open (text fields only)."""
        name = (part.id or "").removeprefix("text-")
        if not part.has_class("text-part"):
            return None
        return self.query_one(f"#field-{name}", TextEditor)

    def editor(self, name: str) -> TextEditor:
        """The editor of a text field."""
        return self.query_one(f"#field-{name}", TextEditor)

    def scroll_item(self, lines: int) -> bool:
        """Read on (positive) or back (negative) through the cut parts in reading order; whether anything moved.

        Down moves the first part that still hides lines below; up the last part that is scrolled down.
        """
        parts = [part for part in self.parts if part.display]
        if lines > 0:
            candidates = [part for part in parts if part.below]
        else:
            candidates = [part for part in reversed(parts) if part.first_line]
        for part in candidates:
            if part.scroll_by(lines):
                return True
        return False
