"""Review data folders built in tmp dirs, and ways to wait for and read the review app in tests."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from testdata import label as base_label
from testdata import read_jsonl, write_jsonl  # noqa: F401  (re-exported for the app tests)
from textual import events
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Static

from hcap_tui.review.suspects import SuspectRanking
from hcap_tui.triage import SignalDoubt, Suspect
from hcap_tui.tui.widgets.review_pane import ReviewPane
from hcap_tui.tui.widgets.stats_view import StatsView

RACE = (
    "A competitive handicap run at a strong gallop throughout, with the pace collapsing late and those held up "
    "coming to the fore; the first three pulled clear and the form should work out well, with the winner a "
    "progressive sort and the runner-up unlucky not to follow up a recent course success. The draw played its "
    "part, with low numbers racing against the far rail holding a clear advantage over the last two furlongs, "
    "and the principals all came from off the pace, which suggests the leaders went off far too quickly for "
    "the ground. Several of those in mid-division were denied room at the two-furlong pole when the field "
    "concertinaed, and the race should throw up plenty of winners at a similar level this summer. The "
    "time was good, over a second inside standard, and the third and fourth both ran to their best figures of "
    "the year, so there is little reason to doubt the form or to think it was a fluke. Stewards held an inquiry "
    "into interference over 1f out but the placings remained unaltered, and the favourite never landed a blow."
)
HORSE = (
    "Held up towards rear, not clear run over 2f out, switched right and ran on strongly inside final furlong, "
    "nearest finish; shaped much better than the bare result and remains of interest off this sort of mark "
    "when things fall his way, especially back on a galloping track with a truly run race to aim at. He is only "
    "3lb higher than when last successful and the trainer said he would come on for this first run in a month. "
    "Well backed beforehand. Tongue tie refitted. Drawn 11 of 12."
)
LONG_ITEM = f"3rd of 12, involved in finish | [RACE]: {RACE} | [HORSE]: {HORSE}"
# An item of the median real length (~515 characters), its reasoning five lines at 80 columns.
MEDIAN_ITEM = (
    "5th of 11, competitive | [RACE]: An ordinary handicap run at an even gallop, with the first two clear of a "
    "bunched field. The winner was well backed and did it nicely from the front; the second came from off the pace "
    "and may do better over further. Those drawn high were at no disadvantage. | [HORSE]: Tracked leaders, ridden "
    "over 2f out, kept on same pace without threatening. Probably ran close to form. Dropped 2lb since his last run."
)
MEDIAN_REASONING = (
    "“Kept on same pace without threatening” describes an ordinary run with no verdict on the horse's form either "
    "way, so neither form flag is set. Nothing in the running suggests bad luck or a flattering run, so neither "
    "better_than_show nor worse_than_show. “An ordinary handicap run at an even gallop” puts the race at an average "
    "level for the grade. The result line fits that reading of the run."
)
ITEMS = [
    LONG_ITEM,
    "Won | [RACE]: Strong race, good pace throughout | [HORSE]: Made all, kept on gamely",
    "5th of 9, competitive | [RACE]: Modest affair, slowly run | [HORSE]: Chased leaders, one pace final furlong",
    "10th of 16, well beaten | [HORSE]: Never travelling, hung left and found nothing when asked",
]
STRENGTHS = ["strong", "strong", "weak", "average"]
REASONING = (
    "The comment says “shaped much better than the bare result”, and being denied a clear run over 2f out before "
    "running on strongly is an excuse that marks the run up, so better_than_show is set. Nothing says the horse is "
    "thriving or regressing beyond this one run, so neither form flag. “A competitive handicap run at a strong "
    "gallop” and “the form should work out well” make this strong form, so the run can be rated positively."
)
TEACHER = {"teacher": "gemini", "model": "gemini-2.5-flash"}


def label(**overrides: Any) -> dict[str, Any]:
    """A label in the default schema, all signals off unless overridden, with a reasoning of the real length."""
    return base_label(reasoning=REASONING) | overrides


def teacher_records() -> list[dict[str, Any]]:
    """Teacher labels for ITEMS, the first (as long as real items get) better than show, with the teacher's
    provenance as `hcap label` writes it."""
    return [
        {"formatted_input": text} | label(better_than_show=i == 0, race_strength=STRENGTHS[i]) | TEACHER
        for i, text in enumerate(ITEMS)
    ]


def hand_ranking(items_seen: int) -> SuspectRanking:
    """A triage ranking of the four teacher items as the student might make it, most suspect first: 3 (the teacher
    missed out of form), the long item 0 (race strength and better than show doubted), 1, then 2."""
    pending = [
        Suspect(ITEMS[3], 4, 0.9, (SignalDoubt("out_of_form", False, True, 0.09, 0.91),), teacher={}),
        Suspect(
            ITEMS[0],
            1,
            0.74,
            (
                SignalDoubt("better_than_show", True, False, 0.48, 0.52),
                SignalDoubt("race_strength", "strong", "average", 0.3, 0.58),
            ),
            teacher={},
        ),
        Suspect(ITEMS[1], 2, 0.4, (), teacher={}),
        Suspect(ITEMS[2], 3, 0.1, (), teacher={}),
    ]
    return SuspectRanking.of(pending, [], items_seen)


def prediction_records() -> list[dict[str, Any]]:
    """Two predictions of the second and third items; the second failed."""
    provenance = {"model": "flat-hcap", "model_digest": "sha256:" + "d" * 64, "batch_id": "b1"}
    return [
        {"formatted_input": ITEMS[1]} | label(in_form=True, race_strength="strong") | provenance,
        {"formatted_input": ITEMS[2], "status": "failed", "error": "done_reason length", "raw": '{"in_'} | provenance,
    ]


def gold_records() -> list[dict[str, Any]]:
    """Gold as the review app writes it, for the Stats tab: two teacher approvals (one corrected: in form), two
    approved predictions of older batches from two model versions (one corrected: race strength), and an old line
    with no provenance. ITEMS[1] and ITEMS[2] stay out of gold."""
    teacher, model_a, model_b = teacher_records(), "sha256:" + "a" * 64, "sha256:" + "b" * 64
    unlabeled = {k: v for k, v in teacher[0].items() if k not in ("formatted_input", *TEACHER)}

    def approved(text: str, proposed: dict[str, Any], final: dict[str, Any], **provenance: Any) -> dict[str, Any]:
        changed = [name for name in final if final[name] != proposed[name]]
        review = {"proposed": proposed, "changed": changed, "reviewer": "ann", "reviewed_at": "2025-05-01T10:00:00Z"}
        return {"formatted_input": text} | final | provenance | review

    return [
        approved(ITEMS[0], unlabeled, unlabeled | {"in_form": True}, origin="gemini"),
        approved(ITEMS[3], label(), label(), origin="gemini"),
        approved(
            "Won | [HORSE]: Made all, ran on strongly, a batch reviewed earlier",
            label(in_form=True),
            label(in_form=True, race_strength="strong"),
            origin="predictions",
            model="flat-hcap",
            model_digest=model_a,
        ),
        approved(
            "2nd of 8, involved in finish | [HORSE]: Chased winner, kept on, a batch reviewed earlier",
            label(),
            label(),
            origin="predictions",
            model="flat-hcap",
            model_digest=model_b,
        ),
        {"formatted_input": "6th of 10, fairly beaten | [HORSE]: Never a threat"} | label(out_of_form=True),
    ]


COMMENTS_CSV = (
    "horse,race_comment,main_race_comment,finishing_position,number_of_runners,total_distance_beaten\n"
    "Alpha,Kept on well in the final furlong,Strong race,2,10,1.5\n"
    "Beta,Short,Weak race,3,10,4\n"
    "Gamma,Never travelling at any stage,,PU,10,\n"
)


async def settle(pilot: Pilot) -> None:
    """Wait until every review tab has finished loading (shown its item, empty state or problem) and every worker
    the keys started (approvals, undos, checkpoint writes) is done, with its outcome on screen."""
    panes = list(pilot.app.screen.query(ReviewPane))
    quiet = 0  # checks in a row that found nothing under way: a key still queued may start a worker after one
    for _ in range(500):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        quiet = quiet + 1 if all(_settled(pane) for pane in panes) and not len(pilot.app.workers) else 0
        if quiet == 3:
            return
    raise AssertionError("the review tabs never finished loading")


async def positions_saved(pilot: Pilot) -> None:
    """Wait until every tab's checkpoint write has reached the disk (tests write each move at once: see conftest)."""
    await settle(pilot)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Type keys as a terminal delivers a burst (over SSH, in one read): all queued before the app handles the
    first, then wait for everything they started."""
    for key in keys:
        character = {"enter": "\r", "space": " "}.get(key, key if len(key) == 1 else None)
        pilot.app.post_message(events.Key(key, character))
    await settle(pilot)


def _settled(pane: ReviewPane) -> bool:
    if pane.query_one(ContentSwitcher).current == "loading":
        return False
    return pane.session is None or not pane.session.loading and pane.session.gold.complete


def record_notes(app: App[Any], monkeypatch: Any) -> list[str]:
    """Collect the message of every notification the app shows from now on (they still show)."""
    notes: list[str] = []
    original = app.notify
    monkeypatch.setattr(app, "notify", lambda message, **kw: (notes.append(message), original(message, **kw))[1])
    return notes


def pane(pilot: Pilot, source: str = "gemini") -> ReviewPane:
    """The review pane of a source."""
    return pilot.app.screen.query_one(f"#review-{source}", ReviewPane)


def shown(pilot: Pilot, selector: str, source: str = "gemini") -> str:
    """The plain text a Static in a review pane shows."""
    return str(pane(pilot, source).query_one(selector, Static).render())


def status(pilot: Pilot, source: str = "gemini") -> str:
    """The status line of a source's tab: counters, then markers and the last outcome."""
    return " ".join(shown(pilot, f"#status-{part}", source) for part in ("counters", "markers"))


def rendered(static: Static) -> str:
    """The plain text of what a Static shows, when that is a Rich renderable (a table, say) rather than text."""
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(static.content)
    return console.export_text()


async def stats_text(pilot: Pilot) -> str:
    """What the Stats tab shows once its count has finished: the note above the figures, then the figures."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    view = pilot.app.screen.query_one(StatsView)
    note = view.query_one("#stats-note", Static)
    return (str(note.render()) if note.display else "") + "\n" + rendered(view.query_one("#stats-figures", Static))


async def press(pilot: Pilot, *keys: str) -> None:
    """Press keys one after another, as Pilot does, then wait for everything they started (approvals and undos
    write in workers) to be on disk and on screen."""
    await pilot.press(*keys)
    await settle(pilot)
