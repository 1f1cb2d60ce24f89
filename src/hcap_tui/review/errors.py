"""Why a review step was refused: the errors `ReviewSession` raises and the review pane turns into notices."""

from __future__ import annotations

from hcap_tui.errors import HcapError


class ReviewError(HcapError):
    """A review step that cannot be done right now (incomplete label, nothing to undo...)."""


class ConfirmApproval(ReviewError):
    """The approval needs a second Enter: it replaces a gold line, sets two contradicting signals, or gives the
    race another value than its other runners have in gold. `warnings` say which, one line each."""

    def __init__(self, warnings: list[str]) -> None:
        super().__init__(" · ".join(warnings) + ": press Enter again to approve")
        self.warnings = warnings


class GoldChanged(ReviewError):
    """Another reviewer changed the item's gold entry since it was shown; approving again replaces theirs."""


class WriteFailed(ReviewError):
    """A file could not be written (disk full, permissions, I/O error): nothing was saved, the edit is kept."""
