"""Running a review pane's keys in the order they reach it, and passing on those that came too late for it.

Textual hands each key to whatever has the keyboard when the key is read, but a pane runs its keys one after
another from its own queue. In a burst ("edit, type, Esc, next"; "next tab, toggle"), the keys after one that
moves the keyboard (the editor opening, another tab taking over) are already waiting in the pane's queue by the
time that key runs. `KeyRouter` runs the pane's own keys itself, at once and in order, and passes the waiting
ones on to where the keyboard now is, each exactly once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from textual import events
from textual.actions import parse as parse_action
from textual.binding import Binding, BindingType
from textual.widget import Widget

from hcap_tui.tui.widgets.text_editor import TextEditor


class KeyRouter:
    """The key handling of one pane: its bindings as a key → action map, and the keys it passed on."""

    def __init__(self, pane: Widget, bindings: Iterable[list[BindingType]], run: Callable[[str, tuple], bool]) -> None:
        self.pane = pane
        self.run = run
        """Runs an action by name with its parameters when it applies now; whether it did."""
        self.commands: dict[str, str] = {}
        for group in bindings:  # the first binding of a key wins, as in Textual
            for binding in Binding.make_bindings(group):
                self.commands.setdefault(binding.key, binding.action)
        self._passed: deque[events.Key] = deque(maxlen=64)

    def route(self, event: events.Key) -> None:
        """Run, pass on, or let bubble one key that reached the pane."""
        pane, came_back = self.pane, any(event is passed for passed in self._passed)
        focused = pane.app.focused
        editors = list(pane.query(TextEditor))
        if isinstance(focused, TextEditor) and not focused.closed and focused in editors:
            if not (came_back or focused.saw(event)):
                self._pass_on(event, focused)  # typed while the editor was opening: it types there
            return  # else the editor's own untyped key (a cursor key): its binding runs further up
        if focused is not None and focused is not pane and pane not in focused.ancestors:
            if not came_back:
                self._pass_on(event, focused)  # another tab took the keyboard
            return
        action = self.commands.get(event.key)
        if action is not None:
            _, name, params = parse_action(action)
            if self.run(name, params):
                event.stop()
                event.prevent_default()
        elif any(editor.saw(event) for editor in editors):
            self._pass_on(event, pane)  # untyped by the editor that closed, which kept it from the app's keys

    def _pass_on(self, event: events.Key, target: Widget) -> None:
        copy = events.Key(event.key, event.character)
        self._passed.append(copy)
        event.stop()
        event.prevent_default()
        target.post_message(copy)
