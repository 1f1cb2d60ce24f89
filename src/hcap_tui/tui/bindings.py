"""The review keys, derived from the label schema, and the rows of the help screen that lists them.

Booleans get the digits 1..9 in schema order; each enum gets the first letter of its name that no
other key uses (r for the default schema's race strength), which cycles it, and the same letter in
upper case, which opens a picker. Nothing here names a schema field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from textual.binding import Binding

from hcap_tui.schema import LabelSchema

# Keys of the review pane other than the schema's fields. Descriptions are the footer's words; tooltips
# (shown on hover and in the help screen) say more. Approve is deliberately not a priority binding: a
# priority binding runs as soon as the app reads the key, ahead of keys typed just before it that still
# wait in the pane's queue, so a quick "3 Enter" would save the item before the 3 had toggled it. The
# pane's checkboxes carry no Enter binding instead, so Enter reaches the pane from them.
APPROVE = Binding("enter", "approve", "Approve", tooltip="Save to gold as shown and go to the next item")
NAVIGATION_BINDINGS = [
    APPROVE,
    Binding("s", "skip", "Skip", tooltip="Next item without approving; drops edits to this one"),
    Binding("u", "undo", "Undo", tooltip="Take this tab's last approval back out of gold and return to it"),
    Binding("f", "cycle_filter", "Filter", tooltip="Visit all / not in gold / in gold / disagrees with gold"),
    Binding(
        "o",
        "order_by_confidence",
        "Order",
        tooltip="Least confident predictions first, or file order again (predictions with confidences)",
    ),
    Binding("e", "edit_text", "Edit text", tooltip="Edit the text field (the keys type into it until esc)"),
    Binding("escape", "leave_editing", "Done", key_display="esc", tooltip="Leave the text or list being edited"),
    Binding("left,p", "previous", "Previous item", show=False),
    Binding("right,n", "next", "Next item", show=False),
    Binding("g", "next_pending", "Next item not in gold", show=False),
    Binding("home", "first", "First item (in the current order and filter)", show=False),
    Binding("end", "last", "Last item (in the current order and filter)", show=False),
    Binding("up", "scroll_item(-1)", "Scroll the comments up (race, then horse)", show=False),
    Binding("down", "scroll_item(1)", "Scroll the comments down (race, then horse)", show=False),
    Binding("pageup", "scroll_item(-5)", "Page the comments up", show=False),
    Binding("pagedown", "scroll_item(5)", "Page the comments down", show=False),
]
RESERVED_KEYS = frozenset("spnguefoqt")


def field_keys(schema: LabelSchema) -> dict[str, str]:
    """The key of each boolean and enum field that can have one (digits run out after 9)."""
    keys: dict[str, str] = {}
    for number, field in enumerate(schema.booleans[:9], start=1):
        keys[field.name] = str(number)
    taken = set(RESERVED_KEYS)
    for field in schema.enums:
        letter = next((c for c in field.name.lower() if c.isalpha() and c not in taken), None)
        if letter is not None:
            taken.add(letter)
            keys[field.name] = letter
    return keys


def field_bindings(schema: LabelSchema) -> list[Binding]:
    """Parameterised bindings for the schema's fields: toggle each boolean, cycle or pick each enum, and `e`
    named after the schema's first text field (without one, the pane hides `e`)."""
    keys = field_keys(schema)
    bindings = [
        Binding("e", "edit_text", text.title, tooltip=f"Edit the {text.title.lower()} (the keys type into it until esc)")
        for text in schema.texts[:1]
    ]
    bindings += [
        Binding(keys[f.name], f"toggle_field('{f.name}')", f"Toggle {f.title}", show=False)
        for f in schema.booleans
        if f.name in keys
    ]
    for f in schema.enums:
        if f.name in keys:
            key = keys[f.name]
            bindings.append(Binding(key, f"cycle_field('{f.name}')", f"Cycle {f.title}", show=False))
            bindings.append(
                Binding(
                    f"{key.upper()},shift+{key}",
                    f"pick_field('{f.name}')",
                    f"Choose {f.title}",
                    show=False,
                    key_display=key.upper(),
                )
            )
    return bindings


def help_rows(bindings: Iterable[Binding], key_display: Callable[[Binding], str]) -> list[tuple[str, str]]:
    """(keys, what they do) per binding, alternative keys joined, in the order given, repeated actions dropped."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for binding in bindings:
        if not binding.description or binding.action in seen:
            continue
        seen.add(binding.action)
        keys = [key.strip() for key in binding.key.split(",")]
        shown = binding.key_display or " / ".join(key_display(Binding(key, binding.action)) for key in keys)
        rows.append((shown, binding.tooltip or binding.description))
    return rows
