"""The review app and the factory that both the command line and the tests build it with."""

from __future__ import annotations

import getpass
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.widgets import TextArea

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.teacher_prompt import load_guidelines
from hcap_tui.tui.bindings import (
    APPROVE,
    NAVIGATION_BINDINGS,
    TEXT_ACTIONS,
    command,
    field_bindings,
    field_keys,
    help_rows,
)
from hcap_tui.tui.screens.definitions import DefinitionsScreen
from hcap_tui.tui.screens.help import HelpScreen
from hcap_tui.tui.screens.review import ReviewScreen


class ReviewApp(App[None]):
    """Keyboard-first review of teacher labels and model predictions into the gold standard."""

    TITLE = "hcap review"
    ENABLE_COMMAND_PALETTE = False  # the footer's room goes to review keys
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", key_display="?", tooltip="This list of keys"),
        command("d", "definitions", "Definitions", tooltip="What each signal means, and the labelling guidelines"),
        command("q", "quit_key", "Quit", tooltip="Save each tab's position and leave (unapproved edits are dropped)"),
    ]

    def __init__(self, project: Project, reviewer: str) -> None:
        super().__init__()
        self.project = project
        self.reviewer = reviewer
        self.review_screen = ReviewScreen(project, reviewer)

    def get_default_screen(self) -> ReviewScreen:
        """Start on the tabbed review screen."""
        return self.review_screen

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`q`, `?` and `d` type into a text area rather than quitting or opening a screen; Ctrl+Q quits from
        anywhere."""
        return not (action in ("quit_key", "help", "definitions") and isinstance(self.focused, TextArea))

    def action_help(self) -> None:
        """Open the list of every key."""
        schema = self.project.schema
        bindings = [
            APPROVE,
            *field_bindings(schema),
            *(b for b in NAVIGATION_BINDINGS if b.action not in TEXT_ACTIONS or schema.texts),
            *ReviewScreen.BINDINGS,
            *self.BINDINGS,
        ]
        self.push_screen(HelpScreen(help_rows(bindings, self.get_key_display)))

    def action_definitions(self) -> None:
        """Open the signal definitions and the labelling guidelines."""
        try:
            guidelines = load_guidelines(self.project.paths)
        except HcapError as exc:
            guidelines = str(exc)
        self.push_screen(DefinitionsScreen(self.project.schema, field_keys(self.project.schema), guidelines))

    async def action_quit_key(self) -> None:
        """`q`: quit, unless a text area has the keyboard (then it types a q)."""
        await self.action_quit()

    async def action_quit(self) -> None:
        """Save every tab's position, then leave (unapproved edits are not kept)."""
        self.review_screen.save_checkpoints()
        self.exit()


def create_app(project: Project, *, reviewer: str | None = None) -> ReviewApp:
    """The review app for a project; the reviewer defaults to the login name."""
    return ReviewApp(project, reviewer or getpass.getuser())
