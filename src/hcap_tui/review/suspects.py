"""The teacher's tab visited most suspect first: a triage ranking as the review uses it, and what each item shows.

`hcap triage`'s cross-fitted student (`triage.triage`) judges every teacher label; the review turns its verdicts
into a visiting order (`SuspectRanking`): items not yet in gold when it ranked, most likely wrong first, then those
gold already held, judged the same way, then anything it did not judge (lines added after it read the file, failed
lines) in file order. The order is fixed once ranked, so approving an item never reshuffles the items around it.

Training takes seconds for a thousand labels and minutes for a hundred thousand, so the review app runs
`rank_for_review` in a thread; `RankingState` is the part of a session that knows whether a ranking is wanted,
under way or known. scikit-learn is optional (the `triage` extra): `available()` says whether it is installed
without importing it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from hcap_tui.choices import DEFAULT_FOLDS
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store
from hcap_tui.triage import INSTALL_HINT, SignalDoubt, Stop, Suspect, triage

NOT_INSTALLED = f"ordering most suspect first needs scikit-learn, which is not installed: {INSTALL_HINT}"


def available() -> bool:
    """Whether scikit-learn, which the student needs, is installed (found without importing it)."""
    try:
        return importlib.util.find_spec("sklearn") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class SuspectRanking:
    """The student's verdict on each teacher-labelled input, and the place each input is visited at."""

    verdicts: dict[str, Suspect]
    places: dict[str, int]
    pending: int  # inputs that were not in gold when it ranked (they come first)
    items_seen: int  # how many items the tab held when the ranking was asked for

    @classmethod
    def of(cls, pending: list[Suspect], reviewed: list[Suspect], items_seen: int) -> SuspectRanking:
        """A ranking from triage's two lists, each most suspect first: those not in gold, then those in gold."""
        ordered = [*pending, *reviewed]
        return cls(
            verdicts={s.formatted_input: s for s in ordered},
            places={s.formatted_input: place for place, s in enumerate(ordered)},
            pending=len(pending),
            items_seen=items_seen,
        )

    def verdict(self, formatted_input: str) -> Suspect | None:
        """The student's verdict on an input, or None when it did not judge it."""
        return self.verdicts.get(formatted_input)

    def __len__(self) -> int:
        return len(self.places)


def rank_for_review(
    store: Store, items_seen: int, stop: Stop | None = None, folds: int = DEFAULT_FOLDS
) -> SuspectRanking:
    """Judge every teacher label (seconds to minutes: call it from a worker thread, whose cancellation `stop`
    reports, so a ranking called off or left behind by quitting ends at its next step).

    Raises what `triage.triage` raises: `TriageUnavailable` without scikit-learn, `DataError` when there is too
    little to learn from, `TriageStopped` when stopped.
    """
    result = triage(store, folds=folds, stop=stop)
    return SuspectRanking.of(result.suspects, result.reviewed, items_seen)


class RankingState:
    """Whether the tab wants its items most suspect first, whether a ranking is under way, and the last one made.

    A ranking is asked for once and kept: going back to file order and forth again reuses it, unless items were
    added to the tab since it was asked for (then it ranks again). A ranking the reviewer called off is stopped
    by its caller; should it arrive all the same, it is kept for next time without changing the order.
    """

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        """Whether this tab's items can be triaged at all (the teacher's labels)."""
        self.wanted = False
        """The reviewer asked for the order (or it was saved) and it has not been shown yet."""
        self.running = False
        """A ranking is being computed."""
        self.ranking: SuspectRanking | None = None

    def fresh(self, items: int) -> bool:
        """Whether the kept ranking was asked for with every item the tab now holds."""
        return self.ranking is not None and self.ranking.items_seen >= items

    def want(self) -> None:
        """Ask for the order: it is shown when the ranking arrives (`due` until one is started)."""
        self.wanted = True

    @property
    def due(self) -> bool:
        """Whether a ranking is wanted and none is under way: the caller should start one (`begin`)."""
        return self.wanted and not self.running

    def begin(self) -> None:
        """A ranking was started."""
        self.running = True

    def arrived(self, ranking: SuspectRanking | None) -> bool:
        """A ranking finished (None: it failed); whether it should be shown now."""
        self.running = False
        if ranking is not None:
            self.ranking = ranking
        shown, self.wanted = self.wanted and ranking is not None, False
        return shown


def suspect_line(schema: LabelSchema, suspect: Suspect) -> str:
    """What an item says of the student's verdict, e.g. "suspect 87%: Out of form (student: true, 91%)".

    The score is the probability that the teacher is wrong somewhere; each suspect signal, most doubtful first,
    gives the value the student would choose and its probability of it.
    """
    head = f"suspect {suspect.score:.0%}"
    doubts = suspect.suspects
    if not doubts:
        return f"{head}: the student agrees with every signal, only less sure"
    return f"{head}: " + " · ".join(_doubt(schema, doubt) for doubt in doubts)


def _doubt(schema: LabelSchema, doubt: SignalDoubt) -> str:
    student = doubt.student
    value = ("true" if student else "false") if isinstance(student, bool) else str(student)
    return f"{schema.field(doubt.field).title} (student: {value}, {doubt.p_student:.0%})"
