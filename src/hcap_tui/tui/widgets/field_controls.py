"""One control per label signal, generated from the schema: a checkbox per boolean, a compact select per enum.

Each control shows its key and the reviewer's value; when that differs from what the source proposed,
a "was ..." marker says what the proposal was, so corrections are visible before approving. Where the
teacher disagreed with a prediction, a "teacher ..." marker says the teacher's value beside the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Label, Select

from hcap_tui.schema import LabelSchema, SchemaField

CHANGED_STYLE = "italic $text-warning"
TEACHER_STYLE = "italic $text-accent"


def _shown(value: Any) -> str:
    """A field value as the controls print it."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


class SignalCheckbox(Checkbox, inherit_bindings=False):
    """A checkbox whose mark says its state in any terminal: ✓ when on, blank when off, not colour alone.

    Space toggles it but Enter does not, so Enter from a focused checkbox reaches the review pane, in the
    order the keys were typed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("space", "toggle_button", "Toggle", show=False)]

    BUTTON_INNER = " "

    def on_mount(self) -> None:
        self.watch(self, "value", self._mark, init=True)

    def _mark(self, value: bool) -> None:
        """Draw the tick for the current value."""
        self.BUTTON_INNER = "✓" if value else " "
        self.refresh()


class FieldControls(Vertical):
    """Checkboxes and selects for the schema's signals; posts `Edited` when the reviewer changes one."""

    DEFAULT_CSS = """
    FieldControls {
        height: auto;
        padding: 0 1;
        #booleans { grid-size: 2; grid-gutter: 0 2; height: auto; grid-rows: 1; }
        Checkbox, Checkbox:focus {
            border: none;
            padding: 0;
            height: 1;
            width: 1fr;
            background: transparent;
        }
        .enum-row { height: 1; }
        .enum-row Label { width: auto; padding: 0 1 0 0; }
        .enum-row Select { width: 16; }
        .enum-row .was { padding: 0 0 0 1; }
    }
    """

    @dataclass
    class Edited(Message):
        """The reviewer set a field through its control."""

        name: str
        value: Any

    def __init__(self, schema: LabelSchema, keys: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.keys = keys

    def compose(self) -> ComposeResult:
        with Grid(id="booleans"):
            for field in self.schema.booleans:
                yield SignalCheckbox(self._label(field, None), id=f"field-{field.name}", compact=True)
        for field in self.schema.enums:
            with Horizontal(classes="enum-row"):
                yield Label(self._label(field, None))
                yield Select(
                    [(value, value) for value in field.values],
                    id=f"field-{field.name}",
                    compact=True,
                    prompt="choose…",
                )
                yield Label(id=f"was-{field.name}", classes="was")

    def _label(self, field: SchemaField, markers: Content | None) -> Content:
        """A control's label: its key, its title and its markers (what was proposed, what the teacher said)."""
        key = self.keys.get(field.name)
        parts: list[Any] = [(f"{key} ", "bold")] if key else []
        parts.append(field.title)
        if markers is not None:
            parts.append(("  ", ""))
            parts.append(markers)
        return Content.assemble(*parts)

    def show(self, draft: dict[str, Any], proposal: dict[str, Any], teacher: dict[str, Any]) -> None:
        """Set every control to the draft, marking fields whose value differs from the proposal and giving the
        teacher's value of each field in `teacher` (where the teacher disagreed with the model)."""
        for field in self.schema.booleans:
            box = self.query_one(f"#field-{field.name}", Checkbox)
            with box.prevent(Checkbox.Changed):
                box.value = bool(draft[field.name])
            label = self._label(field, self._markers(field, draft, proposal, teacher))
            if box.label != label:
                box.label = label
        for field in self.schema.enums:
            select = self.query_one(f"#field-{field.name}", Select)
            with select.prevent(Select.Changed):
                if draft[field.name] is None:
                    select.clear()
                else:
                    select.value = draft[field.name]
            markers = self._markers(field, draft, proposal, teacher)
            self.query_one(f"#was-{field.name}", Label).update(markers or "")

    @staticmethod
    def _markers(
        field: SchemaField, draft: dict[str, Any], proposal: dict[str, Any], teacher: dict[str, Any]
    ) -> Content | None:
        """The markers of a field changed from its proposal ("was …") or disputed by the teacher, or None."""
        parts: list[Content] = []
        if field.name in proposal and proposal[field.name] != draft[field.name]:
            parts.append(Content.styled(f"was {_shown(proposal[field.name])}", CHANGED_STYLE))
        if field.name in teacher:
            parts.append(Content.styled(f"teacher {_shown(teacher[field.name])}", TEACHER_STYLE))
        return Content(" · ").join(parts) if parts else None

    def pick(self, name: str) -> None:
        """Focus an enum's select and open its list, to set the value directly."""
        select = self.query_one(f"#field-{name}", Select)
        select.focus()
        select.action_show_overlay()

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Edited(self._field_name(event.checkbox.id), event.value))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.value is not Select.NULL:
            self.post_message(self.Edited(self._field_name(event.select.id), event.value))

    @staticmethod
    def _field_name(control_id: str | None) -> str:
        return (control_id or "").removeprefix("field-")
