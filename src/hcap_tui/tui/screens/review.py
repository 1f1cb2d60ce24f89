"""The main screen: one tab per review source, all sharing the gold standard, then the Stats tab.

Review tabs are built from `SOURCES`. The Stats tab counts the project's files itself, when it is
shown, so it needs nothing from the review tabs: what they approve reaches it through the gold file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.review_sources import SOURCES, GoldBook
from hcap_tui.store import Store
from hcap_tui.tui.source_reader import summarize_problems
from hcap_tui.tui.widgets.review_pane import ReviewPane
from hcap_tui.tui.widgets.stats_view import StatsView


class ReviewScreen(Screen):
    """Tabs "Gemini Review", "Model Predictions" and "Stats", the footer, and the shared gold."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "next_tab", "Next tab", show=False, tooltip="Switch to the next tab (the last one is Stats)")
    ]

    @dataclass
    class GoldLoaded(Message):
        """Gold was read; every tab can start."""

        gold: GoldBook

    def __init__(self, project: Project, reviewer: str) -> None:
        super().__init__()
        self.project = project
        self.reviewer = reviewer
        self.gold: GoldBook | None = None

    def compose(self) -> ComposeResult:
        pane_class = ReviewPane.for_schema(self.project.schema)
        with TabbedContent(id="tabs"):
            for source in SOURCES:
                with TabPane(source.title, id=f"tab-{source.name}"):
                    yield pane_class(self.project, source, self.reviewer, id=f"review-{source.name}")
            with TabPane("Stats", id="tab-stats"):
                yield StatsView(self.project, id="stats")
        yield Footer()

    def on_mount(self) -> None:
        # Keys switch tabs (t); keeping the tab strip out of the focus chain keeps review keys live.
        self.query_one(Tabs).can_focus = False
        self._load_gold()

    @property
    def panes(self) -> list[ReviewPane]:
        """The review panes, one per source."""
        return list(self.query(ReviewPane))

    @work(thread=True, exclusive=True, exit_on_error=False, group="gold")
    def _load_gold(self) -> None:
        self.post_message(self.GoldLoaded(GoldBook.load(Store(self.project.paths, self.project.schema))))

    @on(GoldLoaded)
    def _gold_loaded(self, message: GoldLoaded) -> None:
        summary = summarize_problems(message.gold.problems)
        if summary:
            self.notify(summary, title="Some gold lines were skipped", severity="warning", timeout=10, markup=False)
        self.gold = message.gold
        for pane in self.panes:
            pane.start(self.gold)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Unreadable gold: every tab says why, since nothing can be reviewed against it."""
        if event.state is WorkerState.ERROR and event.worker.group == "gold":
            error = event.worker.error
            problem = str(error) if isinstance(error, HcapError) else f"cannot read gold: {error!r}"
            for pane in self.panes:
                pane.show_problem(problem)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        for pane in self.panes:
            pane.flush_checkpoint()  # leaving a tab saves its position without waiting for the timer
        for pane in event.pane.query(ReviewPane):
            pane.focus()  # the review keys act on the focused pane
            pane.redraw()  # another tab may have changed this item's gold
        for view in event.pane.query(StatsView):
            view.focus()  # the arrow and page keys scroll it
            view.shown()

    def action_next_tab(self) -> None:
        """Switch to the next tab."""
        tabs = self.query_one(TabbedContent)
        ids = [pane.id for pane in tabs.query(TabPane) if pane.id]
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)]

    def save_checkpoints(self) -> None:
        """Save every tab's position (on quit)."""
        for pane in self.panes:
            pane.save_checkpoint()
