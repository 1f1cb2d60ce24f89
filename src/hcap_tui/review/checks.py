"""What an approval needs a second Enter for: replacing human gold, contradicting signals, disagreeing with the race.

None of these refuses an approval (the teacher itself marks items both ways, and a reviewer may mean a
different race strength); each is one line the reviewer reads before pressing Enter again.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hcap_tui.safe_text import safe
from hcap_tui.schema import LabelSchema
from hcap_tui.store import LabeledItem


def shown_value(value: Any) -> str:
    """A field value as the review screen prints it: ✓ / ✗ for booleans, – for unset."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return safe(str(value))


def approval_warnings(
    schema: LabelSchema, draft: dict[str, Any], gold: LabeledItem | None, race_others: dict[str, Counter[Any]]
) -> list[str]:
    """One line per reason to confirm approving `draft`: the gold line it replaces (with that line's values beside
    the new ones), each exclusive pair set both ways, each race-level value other runners of the race disagree with."""
    warnings = []
    if gold is not None and gold.label is not None:
        warnings.append(replaces_gold(schema, draft, gold))
    for first, second in schema.contradictions(draft):
        titles = schema.field(first).title, schema.field(second).title
        warnings.append(f"{titles[0]} and {titles[1]} are both set, and they contradict each other")
    for name, counts in race_others.items():
        value = draft.get(name)
        others = [(other, n) for other, n in counts.most_common() if other != value]
        if value is not None and others:
            said = " and ".join(f"{shown_value(other)} on {n} other runner{'s' * (n > 1)}" for other, n in others)
            warnings.append(f"{schema.field(name).title} {shown_value(value)} here, but {said} of this race in gold")
    return warnings


def replaces_gold(schema: LabelSchema, draft: dict[str, Any], gold: LabeledItem) -> str:
    """The gold approval this one replaces: who and when, then each changed field as "gold → new"."""
    record, label = gold.record, gold.label or {}
    who = " at ".join(safe(str(record[key])) for key in ("reviewer", "reviewed_at") if record.get(key))
    changes = []
    for f in schema.fields:
        was, now = label.get(f.name), draft[f.name]
        if was != now:
            shown = "edited" if f.kind == "text" else f"{shown_value(was)} → {shown_value(now)}"
            changes.append(f"{f.title} {shown}")
    return f"Replaces the gold approval{f' by {who}' if who else ''}: " + (" · ".join(changes) or "same values")


def race_summary(schema: LabelSchema, race_others: dict[str, Counter[Any]]) -> dict[str, str]:
    """Per race-level field, what gold gives the race's other runners, e.g. "strong ×2 in gold"."""
    return {
        name: "race in gold: " + ", ".join(f"{shown_value(value)} ×{n}" for value, n in counts.most_common())
        for name, counts in race_others.items()
    }
