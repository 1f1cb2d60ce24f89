"""What a review tab shows of its session: the item, its controls, a pending confirmation and the status line.

`ReviewView` draws a `ReviewSession` as it is; it holds no review state of its own. After each draw it shares
its rows: the controls, the confirmation and the status take theirs, and the item's parts share the rest by
what they hold (`ItemView.fit`), again whenever the terminal is resized.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from hcap_tui.review.checks import race_summary
from hcap_tui.review.session import ReviewSession
from hcap_tui.schema import LabelSchema
from hcap_tui.tui.bindings import field_keys, value_keys
from hcap_tui.tui.widgets.field_controls import EnumContext, FieldControls
from hcap_tui.tui.widgets.item_view import ItemView
from hcap_tui.tui.widgets.status_line import StatusLine
from hcap_tui.tui.widgets.text_editor import TextEditor
from hcap_tui.tui.widgets.text_part import wrapped


class ReviewView(Vertical):
    """The current item of a session with its controls, confirmation panel and status line."""

    DEFAULT_CSS = """
    ReviewView {
        height: 1fr;
        #confirm { height: auto; padding: 0 1; background: $warning-muted; display: none; }
        #confirm.-shown { display: block; }
        StatusLine { dock: bottom; }
    }
    """

    def __init__(self, schema: LabelSchema, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.session: ReviewSession | None = None
        self._confirm_text = Text()  # the warnings waiting for a second Enter, as shown

    def compose(self) -> ComposeResult:
        yield ItemView(self.schema.texts)
        yield FieldControls(self.schema, field_keys(self.schema), value_keys(self.schema))
        yield Static(id="confirm", markup=False)
        yield StatusLine()

    @property
    def item(self) -> ItemView:
        return self.query_one(ItemView)

    def editor(self, name: str) -> TextEditor:
        """The editor of a text field."""
        return self.item.editor(name)

    def draw(self, session: ReviewSession, *, outcome: str, progress: str) -> None:
        """Draw the session's current item, its controls, a pending confirmation and the status line."""
        self.session = session
        item, gold = session.current, session.gold_item
        gold_note = None
        if gold is not None:
            who = ", ".join(str(gold.record[k]) for k in ("reviewer", "reviewed_at") if gold.record.get(k))
            gold_note = f"in gold ({who})" if who else "in gold"
        failure = None
        if item.failed:
            failure = str(item.record.get("error") or "no label")
            raw = item.record.get("raw")
            if isinstance(raw, str) and raw.strip():
                failure += f" · it answered: {raw.strip()}"
        draft = session.draft
        texts = {f.name: draft[f.name] for f in self.schema.texts}
        self.item.show(
            item.formatted_input, texts, gold_note=gold_note, failure=failure, suspect=session.suspect_note
        )
        self.draw_controls(session)
        confirming = session.confirming
        panel = self.query_one("#confirm", Static)
        panel.set_class(confirming is not None, "-shown")
        self._confirm_text = Text()
        if confirming is not None:
            self._confirm_text = Text("Press Enter again to approve (any other key: not saved):", style="bold")
            for warning in confirming:
                self._confirm_text.append(f"\n• {warning}")
            panel.update(self._confirm_text)
        self.draw_status(session, outcome=outcome, progress=progress)
        self.fit()

    def draw_controls(self, session: ReviewSession) -> None:
        """Set the controls to the draft, with the field size and the race's values in gold beside race fields."""
        races = race_summary(self.schema, session.race_others)
        context = {
            f.name: EnumContext(session.runners if f.is_race_level else None, races.get(f.name))
            for f in self.schema.enums
        }
        self.query_one(FieldControls).show(session.draft, session.proposal, session.teacher, context)

    def draw_status(self, session: ReviewSession, *, outcome: str, progress: str) -> None:
        """Place within the filter, progress, this item's markers and the last outcome."""
        self.query_one(StatusLine).show(
            session.counter_text(),
            filter_name=session.filter.short,
            in_gold=session.gold_item is not None,
            order_name=session.order.mode.short,
            confidence=session.confidence,
            loading=progress,
            outcome=outcome,
        )

    def fit(self) -> None:
        """Share the rows among the item's parts, after the controls, confirmation and status took theirs."""
        width, height = self.size
        if not width or not height or self.session is None:
            return
        panel = self.query_one("#confirm", Static)
        panel_rows = 0
        if panel.has_class("-shown"):
            panel_rows = len(wrapped(self.app.console, self._confirm_text, width - 2))
            panel.styles.height = panel_rows
        room = height - self.query_one(FieldControls).rows - panel_rows - 1
        self.item.fit(room, width)

    def on_resize(self, event: events.Resize) -> None:
        self.fit()
