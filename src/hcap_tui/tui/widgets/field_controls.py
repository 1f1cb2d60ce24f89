"""One control per label signal, generated from the schema: a checkbox per boolean, a row of values per enum.

Each boolean shows its key and the reviewer's value. Each enum shows all its values in schema order, each
with the capital letter that sets it, the current one highlighted: what is shown is what Enter saves. Where
a value differs from what the source proposed, a "was ..." marker says what the proposal was; where the
teacher disagreed with a prediction, a "teacher ..." marker gives the teacher's value; a race-level field
shows the field size and what gold gives the race's other runners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Checkbox, Static

from hcap_tui.review.checks import shown_value
from hcap_tui.schema import LabelSchema, SchemaField

CHANGED_STYLE = "italic $text-warning"
TEACHER_STYLE = "italic $text-accent"


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


class EnumRow(Static):
    """An enum's values in a row; a click on one sets it (the keys are the capital letters shown)."""

    @dataclass
    class Picked(Message):
        """A value was clicked."""

        name: str
        value: str

    def __init__(self, field: SchemaField, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.field = field

    def action_pick(self, index: int) -> None:
        self.post_message(self.Picked(self.field.name, self.field.values[index]))


@dataclass(frozen=True)
class EnumContext:
    """What an enum row shows beside its values: the field size (race-level fields) and what gold says of the race."""

    runners: int | None = None
    race: str | None = None


class FieldControls(Vertical):
    """Checkboxes and value rows for the schema's signals; posts `Edited` when the reviewer ticks a checkbox."""

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
        .enum-row {
            height: 1;
            text-wrap: nowrap;
            text-overflow: ellipsis;
            link-style: none;
            link-color: $text;
            link-background: transparent;
            link-style-hover: underline;
        }
        .enum-markers { height: 1; padding: 0 0 0 2; text-wrap: nowrap; text-overflow: ellipsis; display: none; }
        .enum-markers.-shown { display: block; }
    }
    """

    @dataclass
    class Edited(Message):
        """The reviewer set a field through its control."""

        name: str
        value: Any

    def __init__(
        self, schema: LabelSchema, keys: dict[str, str], value_keys: dict[str, dict[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.schema = schema
        self.keys = keys
        self.value_keys = value_keys

    def compose(self) -> ComposeResult:
        with Grid(id="booleans"):
            for field in self.schema.booleans:
                yield SignalCheckbox(self._label(field, None), id=f"field-{field.name}", compact=True)
        for field in self.schema.enums:
            yield EnumRow(field, id=f"field-{field.name}", classes="enum-row", markup=False)
            yield Static(id=f"was-{field.name}", classes="enum-markers")

    @property
    def rows(self) -> int:
        """Rows the controls take now: the checkbox grid, and per enum its values and, when it has any, markers."""
        booleans = (len(self.schema.booleans) + 1) // 2
        markers = sum(1 for row in self.query(".enum-markers") if row.has_class("-shown"))
        return booleans + len(self.schema.enums) + markers

    def _label(self, field: SchemaField, markers: Content | None) -> Content:
        """A checkbox's label: its key, its title and its markers (what was proposed, what the teacher said)."""
        key = self.keys.get(field.name)
        parts: list[Any] = [(f"{key} ", "bold")] if key else []
        parts.append(field.title)
        if markers is not None:
            parts.append(("  ", ""))
            parts.append(markers)
        return Content.assemble(*parts)

    def show(
        self,
        draft: dict[str, Any],
        proposal: dict[str, Any],
        teacher: dict[str, Any],
        context: dict[str, EnumContext],
    ) -> None:
        """Set every control to the draft, marking fields whose value differs from the proposal, giving the
        teacher's value of each field in `teacher`, and an enum's field size and race values from `context`."""
        for field in self.schema.booleans:
            box = self.query_one(f"#field-{field.name}", Checkbox)
            with box.prevent(Checkbox.Changed):
                box.value = bool(draft[field.name])
            label = self._label(field, self._markers(field, draft, proposal, teacher))
            if box.label != label:
                box.label = label
        for field in self.schema.enums:
            extra = context.get(field.name, EnumContext())
            self.query_one(f"#field-{field.name}", Static).update(self._values_row(field, draft[field.name], extra))
            markers = self._markers(field, draft, proposal, teacher)
            if extra.race:
                race = Content.styled(extra.race, "italic")
                markers = race if markers is None else Content(" · ").join([markers, race])
            row = self.query_one(f"#was-{field.name}", Static)
            row.set_class(markers is not None, "-shown")
            row.update(markers or "")

    def _values_row(self, field: SchemaField, value: Any, extra: EnumContext) -> Content:
        """An enum's title, then each value with its key (a click sets it), the current one highlighted, then the
        field size."""
        parts: list[Any] = []
        cycle = self.keys.get(field.name)
        if cycle:
            parts.append((f"{cycle} ", "bold"))
        parts.append(f"{field.title} ")
        for index, option in enumerate(field.values):
            key = self.value_keys.get(field.name, {}).get(option)
            current = option == value
            click = f" @click=pick({index})"
            parts.append(("[" if current else " ", "bold"))
            if key:
                parts.append((f"{key} ", ("bold reverse" if current else "bold") + click))
            parts.append((option, ("bold reverse" if current else "") + click))
            parts.append(("]" if current else " ", "bold"))
        if extra.runners:
            parts.append((f"   {extra.runners} runners", "dim"))
        return Content.assemble(*parts)

    @staticmethod
    def _markers(
        field: SchemaField, draft: dict[str, Any], proposal: dict[str, Any], teacher: dict[str, Any]
    ) -> Content | None:
        """The markers of a field changed from its proposal ("was …") or disputed by the teacher, or None."""
        parts: list[Content] = []
        if field.name in proposal and proposal[field.name] != draft[field.name]:
            parts.append(Content.styled(f"was {shown_value(proposal[field.name])}", CHANGED_STYLE))
        if field.name in teacher:
            parts.append(Content.styled(f"teacher {shown_value(teacher[field.name])}", TEACHER_STYLE))
        return Content(" · ").join(parts) if parts else None

    @on(EnumRow.Picked)
    def _picked(self, event: EnumRow.Picked) -> None:
        event.stop()
        self.post_message(self.Edited(event.name, event.value))

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Edited((event.checkbox.id or "").removeprefix("field-"), event.value))
