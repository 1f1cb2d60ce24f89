"""Review data folders built in tmp dirs, and ways to wait for and read the review app in tests."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from testdata import label as base_label
from testdata import read_jsonl, write_jsonl  # noqa: F401  (re-exported for the app tests)
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import ContentSwitcher, Static

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
    "the year, so there is little reason to doubt the form or to think it was a fluke."
)
HORSE = (
    "Held up towards rear, not clear run over 2f out, switched right and ran on strongly inside final furlong, "
    "nearest finish; shaped much better than the bare result and remains of interest off this sort of mark "
    "when things fall his way, especially back on a galloping track with a truly run race to aim at. Tidy."
)
LONG_ITEM = f"3rd of 12, involved in finish | [RACE]: {RACE} | [HORSE]: {HORSE}"
ITEMS = [
    LONG_ITEM,
    "Won | [RACE]: Strong race, good pace throughout | [HORSE]: Made all, kept on gamely",
    "5th of 9, competitive | [RACE]: Modest affair, slowly run | [HORSE]: Chased leaders, one pace final furlong",
    "10th of 16, well beaten | [HORSE]: Never travelling, hung left and found nothing when asked",
]
STRENGTHS = ["strong", "strong", "weak", "average"]


def label(**overrides: Any) -> dict[str, Any]:
    """A label in the default schema, all signals off unless overridden, with the reasoning the snapshots show."""
    return base_label(reasoning="Ran to form; nothing in the comment points either way.") | overrides


def teacher_records() -> list[dict[str, Any]]:
    """Teacher labels for ITEMS, the first (1,266 characters, as long as real items get) better than show."""
    return [
        {"formatted_input": text} | label(better_than_show=i == 0, race_strength=STRENGTHS[i])
        for i, text in enumerate(ITEMS)
    ]


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
    unlabeled = {k: v for k, v in teacher[0].items() if k != "formatted_input"}

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
    """Wait until every review tab has finished loading (shown its item, empty state or problem)."""
    panes = list(pilot.app.screen.query(ReviewPane))
    for _ in range(500):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if all(_settled(pane) for pane in panes):
            await pilot.pause()
            return
    raise AssertionError("the review tabs never finished loading")


async def positions_saved(pilot: Pilot) -> None:
    """Write every tab's pending checkpoint now, as switching tabs does (rather than waiting out the throttle), and
    wait until the writes have reached the disk."""
    await pilot.app.workers.wait_for_complete()
    for pane in pilot.app.screen.query(ReviewPane):
        if pane.checkpoint_pending:
            pane.flush_checkpoint()
    await pilot.app.workers.wait_for_complete()


def _settled(pane: ReviewPane) -> bool:
    if pane.query_one(ContentSwitcher).current == "loading":
        return False
    return pane.session is None or not pane.session.loading


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
