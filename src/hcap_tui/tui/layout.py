"""Sharing the review screen's rows among an item's parts by what they hold: plain arithmetic, no widgets.

The race comment, the horse comment and the reasoning each need as many rows as their text wraps to. When
all of them fit, each gets exactly that (no blank band between parts). When they do not, each keeps a floor
(a few rows, so no part disappears) and the rows left are shared in proportion to what each part still
needs; a part that is cut shows a "↓ N more lines" marker in its last row.
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(needs: Sequence[int], room: int, floors: Sequence[int]) -> list[int]:
    """Rows for each part: its need when everything fits in `room`, else its floor (or its need, if smaller)
    plus a share of what is left, in proportion to need; never more than `room` in all."""
    room = max(room, 0)
    if sum(needs) <= room:
        return list(needs)
    base = [min(need, floor) for need, floor in zip(needs, floors, strict=True)]
    if sum(base) > room:  # a very small terminal: split the room evenly, the first parts first
        return _even(needs, room)
    left = room - sum(base)
    wanting = [need - rows for need, rows in zip(needs, base, strict=True)]
    total = sum(wanting)
    shares = [left * want // total for want in wanting]
    rows = [b + s for b, s in zip(base, shares, strict=True)]
    # Rows lost to rounding go to the parts with the largest remainders, first parts first on ties.
    remainders = sorted(range(len(needs)), key=lambda i: -(left * wanting[i] % total))
    for i in remainders[: left - sum(shares)]:
        rows[i] += 1
    return rows


def _even(needs: Sequence[int], room: int) -> list[int]:
    """`room` rows dealt out one at a time to the parts that still need one, in order."""
    rows = [0] * len(needs)
    while room > 0 and any(r < n for r, n in zip(rows, needs, strict=True)):
        for i, need in enumerate(needs):
            if room and rows[i] < need:
                rows[i] += 1
                room -= 1
    return rows
