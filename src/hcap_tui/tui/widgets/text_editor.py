"""The editor of a text field (the reasoning): a text area that Esc, Enter and Alt+key always close.

Keys reach a focused widget through its own queue, so in a fast burst ("edit, type, Esc, n") the keys after
Esc are already queued here when Esc closes the editor. Once closed, the editor types none of them: they go
on to the review keys, in the order typed. Enter closes it and goes on as the approve key (the reasoning is
prose: Ctrl+J starts a new line when one is really wanted); an Alt+key (how a terminal reads Esc and a key
typed together) closes it and goes on as that key's command.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.widgets import TextArea


class TextEditor(TextArea):
    """A soft-wrapped text area for one text field; `closed` while the pane has the keyboard."""

    DEFAULT_CSS = """
    TextEditor {
        height: auto;
        border: none;
        border-top: solid $accent;
        border-title-align: left;
        padding: 0 1;
        display: none;
    }
    """

    @dataclass
    class Closed(Message):
        """The editor closed itself (Esc, Enter or an Alt+key): the pane takes the keyboard back."""

        editor: TextEditor

    def __init__(self, field_name: str, title: str, **kwargs: object) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", **kwargs)  # type: ignore[arg-type]
        self.field_name = field_name
        self.border_title = f"{title} · esc done · ⏎ done and approve · ctrl+j new line"
        self.closed = True
        self._seen: deque[events.Key] = deque(maxlen=64)

    def saw(self, key: events.Key) -> bool:
        """Whether a key event came through this editor (it bubbled on from here)."""
        return any(key is seen for seen in self._seen)

    def open(self, text: str, *, select_all: bool = False) -> None:
        """Start editing `text`: the cursor at its end, or all of it selected so typing replaces it."""
        self.closed = False
        self.display = True
        if self.text != text:
            with self.prevent(TextArea.Changed):
                self.load_text(text)
        self.screen.set_focus(self)  # at once, not after the keys already queued: they type here
        if select_all:
            self.select_all()
        else:
            self.move_cursor(self.document.end)

    def close(self) -> None:
        """Stop editing and give the keyboard back to the review pane at once, so that the key that closed the
        editor, bubbling on, and every key after it find the review keys."""
        self.closed = True
        self.display = False
        owner = next((node for node in self.ancestors if getattr(node, "can_focus", False)), None)
        self.screen.set_focus(owner)
        self.post_message(self.Closed(self))

    def on_key(self, event: events.Key) -> None:
        """Close on Esc, Enter or Alt+key; once closed, let queued keys through to the review keys untyped."""
        self._seen.append(event)
        if self.closed:
            event.prevent_default()  # not typed: it bubbles on to the review keys
            return
        if event.key == "ctrl+j":
            event.prevent_default()
            event.stop()
            self.insert("\n")
        elif event.key == "escape":
            event.prevent_default()
            event.stop()
            self.close()
        elif event.key == "enter" or event.key.startswith("alt+"):
            event.prevent_default()  # not typed: it bubbles on, as the approve key or the key's command
            self.close()

    def on_blur(self) -> None:
        """The keyboard went elsewhere (a click): the editor is no longer open for typing."""
        if not self.closed:
            self.closed = True
            self.display = False
            self.post_message(self.Closed(self))
