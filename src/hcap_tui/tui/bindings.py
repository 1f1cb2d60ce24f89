"""The review keys, derived from the label schema, and the rows of the help screen that lists them.

Booleans get the digits 1..9 in schema order. Each enum gets the first letter of its name that no other
key uses (r for the default schema's race strength), which cycles it, and each of its values a capital
letter of its own (S strong, A average, W weak, N no_signal), which sets it in one key. Nothing here
names a schema field.

Every letter key also answers to its Alt form: a terminal sends Esc followed quickly by a key as one
sequence that reads as Alt+key, so `Esc n` typed fast (or arriving in one burst over SSH) still means
"leave the editor, then next item".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.binding import Binding

from hcap_tui.schema import LabelSchema


def with_alt(keys: str) -> str:
    """A binding's keys plus the Alt form of each letter among them ("s" → "s,alt+s"; "S" → "S,alt+shift+s")."""
    names = [key.strip() for key in keys.split(",")]
    extra = []
    for key in names:
        if len(key) == 1 and key.isalpha():
            extra.append(f"alt+shift+{key.lower()}" if key.isupper() else f"alt+{key}")
    return ",".join(names + [k for k in extra if k not in names])


def command(keys: str, action: str, description: str, **options: Any) -> Binding:
    """A binding whose letter keys also work in their Alt form (see the module docstring)."""
    return Binding(with_alt(keys), action, description, **options)


# Keys of the review pane other than the schema's fields. Descriptions are the footer's words; tooltips
# (shown on hover and in the help screen) say more. Approve is deliberately not a priority binding: a
# priority binding runs as soon as the app reads the key, ahead of keys typed just before it that still
# wait in the pane's queue, so a quick "3 Enter" would save the item before the 3 had toggled it. The
# pane's checkboxes carry no Enter binding instead, so Enter reaches the pane from them.
APPROVE = Binding(
    "enter",
    "approve",
    "Approve",
    key_display="⏎",
    tooltip="Save to gold as shown and go to the next item not yet in gold (a second Enter confirms a warning)",
)
NAVIGATION_BINDINGS = [
    APPROVE,
    command("s", "skip", "Skip", tooltip="Next item without approving; drops edits to this one"),
    command("u", "undo", "Undo", tooltip="Take this tab's last approval back out of gold and return to it"),
    command("f", "cycle_filter", "Filter", tooltip="Visit all / not in gold / in gold / disagrees with gold"),
    command(
        "o",
        "toggle_order",
        "Order",
        tooltip="Predictions least confident first, teacher labels most suspect first (hcap triage), or file order",
    ),
    command("e", "edit_text", "Edit text", tooltip="Edit the text field, cursor at the end (keys type until esc)"),
    Binding("escape", "leave_editing", "Done", key_display="esc", tooltip="Leave the text being edited"),
    command("left,p", "previous", "Previous item", show=False),
    command("right,n", "next", "Next item", show=False),
    command("g", "next_pending", "Next item not in gold", show=False),
    Binding("home", "first", "First item (in the current order and filter)", show=False),
    Binding("end", "last", "Last item (in the current order and filter)", show=False),
    Binding(
        "down",
        "scroll_item(1)",
        "Scroll down",
        show=False,
        tooltip="Read on where a part is cut (↓ N more lines): the race comment, then the horse, then the reasoning",
    ),
    Binding("up", "scroll_item(-1)", "Scroll up", show=False, tooltip="Scroll back up, the last part scrolled first"),
    Binding("pagedown", "scroll_item(5)", "Page down", show=False, tooltip="Read on five lines at a time"),
    Binding("pageup", "scroll_item(-5)", "Page up", show=False, tooltip="Back five lines at a time"),
]
RESERVED_KEYS = frozenset("spnguefoqtcd") | {"E"}
TEXT_ACTIONS = frozenset({"edit_text", "replace_text", "clear_text"})  # shown only when the schema has a text field


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


def value_keys(schema: LabelSchema) -> dict[str, dict[str, str]]:
    """Per enum field, the capital letter that sets each of its values: the value's first letter that is free.

    A value whose letters are all taken has no key of its own (the enum's cycle key still reaches it).
    """
    taken = {key for key in RESERVED_KEYS if key.isupper()}
    keys: dict[str, dict[str, str]] = {}
    for field in schema.enums:
        keys[field.name] = {}
        for value in field.values:
            letter = next((c.upper() for c in value if c.isalpha() and c.isascii() and c.upper() not in taken), None)
            if letter is not None:
                taken.add(letter)
                keys[field.name][value] = letter
    return keys


def field_bindings(schema: LabelSchema) -> list[Binding]:
    """Parameterised bindings for the schema's fields: toggle each boolean, cycle each enum and set each of its
    values, and `e` / `E` / `c` (edit, replace, clear) named after the schema's first text field (without one,
    the pane hides them)."""
    keys, values = field_keys(schema), value_keys(schema)
    bindings = []
    for text in schema.texts[:1]:
        name = text.title.lower()
        bindings += [
            command("e", "edit_text", text.title, tooltip=f"Edit the {name}, cursor at the end (esc: done)"),
            command("E", "replace_text", f"Replace {name}", show=False, tooltip=f"Edit the {name}, all of it selected"),
            command("c", "clear_text", f"Clear {name}", show=False, tooltip=f"Empty the {name} and start typing"),
        ]
    bindings += [
        command(keys[f.name], f"toggle_field('{f.name}')", f"Toggle {f.title}", show=False)
        for f in schema.booleans
        if f.name in keys
    ]
    for f in schema.enums:
        if f.name in keys:
            bindings.append(command(keys[f.name], f"cycle_field('{f.name}')", f"Cycle {f.title}", show=False))
        for value, key in values[f.name].items():
            bindings.append(
                Binding(
                    with_alt(f"{key},shift+{key.lower()}"),
                    f"set_field('{f.name}', '{value}')",
                    f"{f.title}: {value}",
                    show=False,
                    key_display=key,
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
        keys = [key.strip() for key in binding.key.split(",") if not key.strip().startswith("alt+")]
        shown = binding.key_display or " / ".join(key_display(Binding(key, binding.action)) for key in keys)
        rows.append((shown, binding.tooltip or binding.description))
    return rows
