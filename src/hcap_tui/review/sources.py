"""What a review works from: the label files a reviewer turns into gold, and the gold they share.

Each `ReviewSource` is one tab of the review app (teacher labels, model predictions); its name is the
`origin` its approvals carry in gold (`gemini` for the teacher, whichever model teaches, so the user's
files and scripts keep their meaning) and the suffix of its checkpoint file. `GoldBook` is gold as this
process knows it, shared by every tab so an approval in one shows in the others; each approval's writer
reads what other reviewers appended to gold under gold's lock, and the book takes that in.
"""

from __future__ import annotations

import shlex
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from hcap_tui.config import DEFAULT_DATA_DIR, DataPaths
from hcap_tui.gcpause import gc_paused
from hcap_tui.jsonl import Appended, LineProblem
from hcap_tui.review.races import RaceValues
from hcap_tui.safe_text import safe
from hcap_tui.store import TEACHER_VALUES, FileMark, GoldIndex, GoldKeys, LabeledItem, Loaded, Store, Tail

MODEL_NAME_SHOWN = 32  # characters of a model name a tab title shows


@dataclass(frozen=True)
class ReviewSource:
    """A file whose labels a reviewer turns into gold; `name` is its gold `origin` and checkpoint suffix.

    `copies_model`: approvals copy the model and digest of the prediction; `copies_teacher`: they copy which
    teacher and model proposed the label, and the tab is titled with that model.
    """

    name: str
    title: str
    file: str
    fill_command: str
    copies_model: bool = False
    copies_teacher: bool = False

    def path(self, paths: DataPaths) -> Path:
        """The source file inside a data folder."""
        return getattr(paths, self.file)

    def fill_command_for(self, paths: DataPaths) -> str:
        """The command that fills this source, naming the data folder unless it is the default one."""
        if paths.root == DEFAULT_DATA_DIR:
            return self.fill_command
        return f"{self.fill_command} --data-dir {shlex.quote(str(paths.root))}"

    def title_for(self, models: Counter[str]) -> str:
        """The tab's title: for the teacher, with the model that proposed most of its labels ("Teacher ·
        gemini-2.5-flash", "+1" when others did too)."""
        if not self.copies_teacher or not models:
            return self.title
        (top, _), others = models.most_common(1)[0], len(models) - 1
        name = safe(top).replace("\n", " ")
        name = name if len(name) <= MODEL_NAME_SHOWN else name[: MODEL_NAME_SHOWN - 1] + "…"
        return f"{self.title} · {name}" + (f" +{others}" if others else "")


TEACHER = ReviewSource("gemini", "Teacher", "labeled", "hcap label --count 200", copies_teacher=True)
PREDICTIONS = ReviewSource(
    "predictions", "Model Predictions", "predictions", "hcap predict --count 20", copies_model=True
)
SOURCES = (TEACHER, PREDICTIONS)


ITEM_FIELDS = ("teacher", "model", "model_digest", "confidence", "error", "raw", TEACHER_VALUES)
"""What a tab keeps of each line of its source besides the label: who proposed it (for the title and the gold line's
provenance), the model's confidence (for the order), why a prediction failed, and the teacher's values beside it."""

LOOKED_UP = 64  # gold lines read one at a time while gold is opening, kept for the redraws that follow


class GoldBook:
    """The gold standard as this process knows it, shared by every review tab: last approval per input wins.

    `version` grows with every change so sessions can tell when another tab changed gold under them.
    `mark` is how far through the gold file the book has read, so catching up reads only the new tail.

    A book can open in two steps, so a tab shows its first item before all of gold is parsed: `opening` reads only
    which inputs gold holds and where their lines are (membership, and so "not in gold", is exact from then on;
    one input's gold item is read from its line when asked), and `complete` takes in the full read, after which
    every label's signals are in memory and the race-level values are known. Until then `complete` is False. Texts
    and provenance (the reasoning, who approved an item and when) stay on disk, read back for the item shown.
    """

    def __init__(self, index: GoldIndex, mark: FileMark | None = None, race_fields: tuple[str, ...] = ()) -> None:
        self._by_input = dict(index.by_input)
        self._race_fields = race_fields
        self.races = RaceValues(race_fields)
        """The race-level values gold gives each race's runners."""
        self.races.load((key, item.held_label) for key, item in self._by_input.items())
        self.problems = index.loaded.problems
        """Lines of the full read that were skipped (for the notification at start)."""
        self.mark = mark
        self.version = 0
        self._rewrites: dict[int, int] = {}  # gold's inode before and after an undo of ours rewrote it
        self._keys: GoldKeys | None = None  # while opening: gold's inputs and their lines
        self._gone: set[str] = set()  # while opening: inputs taken out of gold since its keys were read
        self._looked_up: dict[str, LabeledItem | None] = {}
        self._store: Store | None = None

    @classmethod
    def load(cls, store: Store) -> GoldBook:
        """Read gold in full in one step (scripts and tests; the app opens it in two: `opening`, then `read_all`); the
        mark is taken first, so a line appended meanwhile is at worst read twice."""
        mark = store.gold_mark()
        return cls(cls.read_all(store), mark, tuple(f.name for f in store.schema.race_fields))

    @classmethod
    def opening(cls, store: Store) -> GoldBook:
        """A book that knows only which inputs gold holds (a fast read); `complete` gives it the rest."""
        keys = store.gold_keys()
        book = cls(GoldIndex(Loaded(store.paths.gold)), keys.mark, tuple(f.name for f in store.schema.race_fields))
        book._keys, book._store = keys, store
        return book

    @property
    def complete(self) -> bool:
        """Whether every gold label is in memory (else only which inputs are in gold, until `complete_with`)."""
        return self._keys is None

    @staticmethod
    def read_all(store: Store, held: Mapping[str, str | LabeledItem] | None = None) -> GoldIndex:
        """All of gold, last line per input winning, for `complete_with` (in a worker: it is the slow part), texts
        and provenance left on disk (`Store.scan`'s `read_back`). Each line shares the strings of what `held` holds
        for its input (the book's `inputs`), as soon as it is read, so a tab's items and their gold entries hold
        their inputs once."""
        loaded, by_input = Loaded(store.paths.gold), {}
        held = held or {}
        with gc_paused():  # every item stays alive: the cycle collector would only rescan them
            for entry in store.scan(store.paths.gold, read_back=True):
                if type(entry) is LineProblem:
                    loaded.problems.append(entry)
                    continue
                other = held.get(entry.formatted_input)  # type: ignore[union-attr]
                if type(other) is str:
                    entry.formatted_input = other  # type: ignore[union-attr]
                elif other is not None:
                    entry.share(other)  # type: ignore[union-attr]
                by_input[entry.formatted_input] = entry  # type: ignore[union-attr]
        return GoldIndex(loaded, by_input)

    @property
    def inputs(self) -> Mapping[str, str | LabeledItem]:
        """While opening: each input gold holds, mapped to itself or to a tab's item of it (`adopt`); else empty."""
        return self._keys.inputs if self._keys is not None else {}

    def adopt(self, item: LabeledItem) -> None:
        """A tab's item arrived: let it and its gold entry hold the same strings (its input, and its values where
        they are equal), so that 100,000 inputs are held once, not twice."""
        keys = self._keys
        if keys is None:
            entry = self._by_input.get(item.formatted_input)
            if entry is not None:
                item.share(entry)
            return
        held = keys.inputs.get(item.formatted_input)
        if type(held) is str:
            item.formatted_input = held
            keys.inputs[held] = item  # the full read shares this item's strings
        elif held is not None:
            item.share(held)

    def complete_with(self, index: GoldIndex) -> None:
        """Take in the full read of gold (from where `opening` started, or later); what changed since the book
        opened (approvals, undos, lines caught up with) stays on top of it."""
        if self._keys is None:
            return
        changed, gone = self._by_input, self._gone
        self._keys, self._gone, self._looked_up, self._store = None, set(), {}, None
        self._by_input = index.by_input  # the book's own from now on: a copy would only add to the peak
        for key in gone:
            self._by_input.pop(key, None)
        self._by_input.update(changed)
        self.races = RaceValues(self._race_fields)
        self.races.load((key, item.held_label) for key, item in self._by_input.items())
        self.problems = index.loaded.problems
        self.version += 1

    def reset(self, index: GoldIndex, mark: FileMark | None) -> None:
        """Take over a fresh full read (after gold was rewritten under this book)."""
        if self._keys is not None:
            self._keys, self._gone, self._looked_up, self._store = None, set(), {}, None
            self._by_input.clear()
        for key in list(self._by_input):
            if key not in index.by_input:
                self.put(key, None)
        for key, item in index.by_input.items():
            self.put(key, item)
        self.mark = mark
        self.version += 1

    def take_in(self, tail: Tail) -> None:
        """Take in the lines a read of gold's tail found (in file order) and where that read stopped."""
        for item in tail.items:
            self.put(item.formatted_input, item)
        self.mark = tail.mark

    def appended(self, receipt: Appended) -> None:
        """Our own append landed right where the book stopped reading: move the mark past it."""
        mark = self.mark
        if receipt.offset == 0 if mark is None else (mark.inode, mark.size) == (receipt.inode, receipt.offset):
            self.mark = FileMark(receipt.inode, receipt.end)

    def removed(self, receipt: Appended, inode: int) -> None:
        """Our own undo took `receipt` out, leaving gold with `inode`: if it truncated the tail the book had
        read up to, step the mark back; if it rewrote gold, remember that the other approvals of this
        process moved, unchanged, to the new file."""
        if inode != receipt.inode:
            self._rewrites[receipt.inode] = inode
        elif self.mark == FileMark(receipt.inode, receipt.end):
            self.mark = FileMark(receipt.inode, receipt.offset)

    def followed(self, receipt: Appended) -> Appended:
        """A receipt pointing at the file its line is in now, after the rewrites our own undos made."""
        inode = receipt.inode
        while inode in self._rewrites:
            inode = self._rewrites[inode]
        return replace(receipt, inode=inode)

    @property
    def holds_any(self) -> bool:
        """Whether gold may hold any item (False: it surely holds none)."""
        return bool(self._by_input) or (self._keys is not None and bool(self._keys.offsets))

    def __contains__(self, formatted_input: str) -> bool:
        if formatted_input in self._by_input:
            return True
        keys = self._keys
        return keys is not None and formatted_input in keys.offsets and formatted_input not in self._gone

    def get(self, formatted_input: str) -> LabeledItem | None:
        """The gold item for an input, or None (while opening, read from its line the first time it is asked for)."""
        item = self._by_input.get(formatted_input)
        if item is not None or self._keys is None or formatted_input not in self:
            return item
        if formatted_input not in self._looked_up:
            if len(self._looked_up) >= LOOKED_UP:
                self._looked_up.clear()
            assert self._store is not None
            offset = self._keys.offsets[formatted_input]
            self._looked_up[formatted_input] = self._store.gold_at(formatted_input, offset, self._keys.mark)
        return self._looked_up[formatted_input]

    def put(self, formatted_input: str, item: LabeledItem | None) -> LabeledItem | None:
        """Set (or with None remove) the gold item for an input; returns the one it replaced."""
        previous = self.get(formatted_input) if self._keys is not None else self._by_input.get(formatted_input)
        self._by_input.pop(formatted_input, None)
        self._looked_up.pop(formatted_input, None)
        if self._keys is not None:
            self._gone.add(formatted_input)  # what the opening read saw of it no longer counts
        if item is not None:
            self._by_input[formatted_input] = item
        self.races.put(formatted_input, item.held_label if item is not None else None)
        self.version += 1
        return previous
