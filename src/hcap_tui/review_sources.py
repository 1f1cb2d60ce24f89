"""What a review works from: the label files a reviewer turns into gold, and the gold they share.

Each `ReviewSource` is one tab of the review app (teacher labels, model predictions); its name is the
`origin` its approvals carry in gold and the suffix of its checkpoint file. `GoldBook` is gold as this
process knows it, read once and shared by every tab so an approval in one shows in the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hcap_tui.config import DataPaths
from hcap_tui.store import GoldIndex, LabeledItem


@dataclass(frozen=True)
class ReviewSource:
    """A file whose labels a reviewer turns into gold; `name` is its gold `origin` and checkpoint suffix."""

    name: str
    title: str
    file: str
    fill_command: str
    copies_model: bool

    def path(self, paths: DataPaths) -> Path:
        """The source file inside a data folder."""
        return getattr(paths, self.file)


GEMINI = ReviewSource("gemini", "Gemini Review", "labeled", "hcap label --count 200", copies_model=False)
PREDICTIONS = ReviewSource(
    "predictions", "Model Predictions", "predictions", "hcap predict --count 20", copies_model=True
)
SOURCES = (GEMINI, PREDICTIONS)


class GoldBook:
    """The gold standard as this process knows it, shared by every review tab: last approval per input wins.

    `version` grows with every change so sessions can tell when another tab changed gold under them.
    """

    def __init__(self, index: GoldIndex) -> None:
        self._by_input = dict(index.by_input)
        self.version = 0

    def __contains__(self, formatted_input: str) -> bool:
        return formatted_input in self._by_input

    def get(self, formatted_input: str) -> LabeledItem | None:
        """The gold item for an input, or None."""
        return self._by_input.get(formatted_input)

    def put(self, formatted_input: str, item: LabeledItem | None) -> LabeledItem | None:
        """Set (or with None remove) the gold item for an input; returns the one it replaced."""
        previous = self._by_input.pop(formatted_input, None)
        if item is not None:
            self._by_input[formatted_input] = item
        self.version += 1
        return previous
