"""The main screen: one tab per review source, all sharing the gold standard, then the Stats tab.

Review tabs are built from `SOURCES`; the teacher's tab is titled with the model that proposed its labels once
they are read. Gold is opened first (which inputs it holds: a fast scan), so each tab can show its first item;
once every tab has read its source, the rest of gold is read, and the tabs are told when it is complete. The Stats
tab counts the project's files itself, when it is shown, so it needs nothing from the review tabs: what they
approve reaches it through the gold file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.review.reader import summarize_problems
from hcap_tui.review.sources import SOURCES, GoldBook
from hcap_tui.safe_text import safe
from hcap_tui.store import GoldIndex, Store
from hcap_tui.tui.bindings import command
from hcap_tui.tui.widgets.review_pane import ReviewPane
from hcap_tui.tui.widgets.stats_view import StatsView


class ReviewScreen(Screen):
    """Tabs "Teacher · <model>", "Model Predictions" and "Stats", the footer, and the shared gold."""

    BINDINGS: ClassVar[list[BindingType]] = [
        command("t", "next_tab", "Next tab", show=False, tooltip="Switch to the next tab (the last one is Stats)")
    ]

    @dataclass
    class GoldOpened(Message):
        """Which inputs gold holds is read; every tab can start."""

        gold: GoldBook

    @dataclass
    class GoldRead(Message):
        """All of gold is read, for the book to take in."""

        index: GoldIndex

    def __init__(self, project: Project, reviewer: str) -> None:
        super().__init__()
        self.project = project
        self.reviewer = reviewer
        self.gold: GoldBook | None = None
        self._sources_unread: set[str] = set()  # the tabs still reading their source
        self._reading = False  # whether the rest of gold is being read

    def compose(self) -> ComposeResult:
        pane_class = ReviewPane.for_schema(self.project.schema)
        with TabbedContent(id="tabs"):
            for source in SOURCES:
                with TabPane(source.title, id=f"tab-{source.name}"):
                    yield pane_class(self.project, source, self.reviewer, id=f"review-{source.name}")
            with TabPane("Stats", id="tab-stats"):
                yield StatsView(self.project, id="stats")
        yield Footer(compact=True)

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
        """Open gold (which inputs it holds), so the tabs can start."""
        self.post_message(self.GoldOpened(GoldBook.opening(Store(self.project.paths, self.project.schema))))

    @on(GoldOpened)
    def _gold_opened(self, message: GoldOpened) -> None:
        self.gold = message.gold
        self._sources_unread = {pane.source.name for pane in self.panes}
        for pane in self.panes:
            pane.start(self.gold)

    @on(ReviewPane.SourceRead)
    def _source_read(self, message: ReviewPane.SourceRead) -> None:
        """Once every tab has read its source (or shows why it has none), read the rest of gold: before, that read
        would only slow theirs down (both want the same processor), and each gold line can now share the strings
        of the tab's item for its input as it is read."""
        self._sources_unread.discard(message.pane.source.name)
        if not self._sources_unread and self.gold is not None and not self.gold.complete and not self._reading:
            self._reading = True
            self._read_gold(self.gold)

    @work(thread=True, exclusive=True, exit_on_error=False, group="gold-read")
    def _read_gold(self, book: GoldBook) -> None:
        """Read all of gold, for the book to take in on the main thread."""
        store = Store(self.project.paths, self.project.schema)
        self.post_message(self.GoldRead(GoldBook.read_all(store, book.inputs)))

    @on(GoldRead)
    def _gold_read(self, message: GoldRead) -> None:
        """Every label of gold is known: counts that waited for them, and approvals held meanwhile, go on."""
        assert self.gold is not None
        self.gold.complete_with(message.index)
        summary = summarize_problems(self.gold.problems)
        if summary:
            title = "Some gold lines were skipped"
            self.notify(safe(summary), title=title, severity="warning", timeout=10, markup=False)
        for pane in self.panes:
            pane.gold_completed()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Unreadable gold: every tab says why, since nothing can be reviewed against it."""
        if event.state is WorkerState.ERROR and event.worker.group in ("gold", "gold-read"):
            error = event.worker.error
            problem = str(error) if isinstance(error, HcapError) else f"cannot read gold: {error!r}"
            for pane in self.panes:
                pane.show_problem(problem)

    @on(ReviewPane.TitleChanged)
    def _retitle(self, message: ReviewPane.TitleChanged) -> None:
        """Name the tab after what its pane now knows (the teacher's model), never read as markup."""
        self.query_one(TabbedContent).get_tab(f"tab-{message.pane.source.name}").label = Content(message.title)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id != self.query_one(TabbedContent).active:
            return  # keys switched on again before this was handled: focusing this tab would switch back to it
        for pane in self.panes:
            pane.flush_checkpoint()  # leaving a tab saves its position without waiting for the timer
        self._give_keyboard(event.pane)
        for pane in event.pane.query(ReviewPane):
            pane.redraw()  # another tab may have changed this item's gold
        for view in event.pane.query(StatsView):
            view.shown()

    def _give_keyboard(self, tab: TabPane) -> None:
        """Focus the tab's pane or Stats view at once, so the very next key acts on it."""
        for widget in tab.query("ReviewPane, StatsView"):
            self.set_focus(widget)
            return

    def action_next_tab(self) -> None:
        """Switch to the next tab and give it the keyboard before the next key is read."""
        tabs = self.query_one(TabbedContent)
        ids = [pane.id for pane in tabs.query(TabPane) if pane.id]
        tabs.active = ids[(ids.index(tabs.active) + 1) % len(ids)]
        self._give_keyboard(tabs.get_pane(tabs.active))

    def save_checkpoints(self) -> None:
        """Save every tab's position (on quit)."""
        for pane in self.panes:
            pane.save_checkpoint()
