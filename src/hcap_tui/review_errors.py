"""Why a review step was refused: the errors `ReviewSession` raises and the review pane turns into notices."""

from __future__ import annotations

from hcap_tui.errors import HcapError


class ReviewError(HcapError):
    """A review step that cannot be done right now (incomplete label, nothing to undo...)."""


class GoldChanged(ReviewError):
    """Another reviewer changed the item's gold entry since it was shown; approving again replaces theirs."""


class GoldReplaced(ReviewError):
    """Gold was rewritten under this process (compaction): it must be read again in full before approving."""
