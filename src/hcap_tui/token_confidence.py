"""Per-signal confidence from the token log-probabilities a model returned with its label.

A label's booleans and enum values are each decided at one token: for a boolean the `true`/`false`
token, for an enum the first token of the value. The probability the model gave that token is how
sure it was of that signal, which lets a reviewer look first at the predictions the model doubted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from json.decoder import scanstring
from typing import Any

from hcap_tui.schema import LabelSchema


def signal_confidence(schema: LabelSchema, text: str, logprobs: Sequence[Any]) -> dict[str, float] | None:
    """Probability of each signal's chosen value: the token holding the value's first character.

    For a boolean that is the `true`/`false` token, for an enum the first token of the value. Tokens
    are matched to the text by position; a field whose value lies past a token that does not match
    the text (a split multi-byte character, say) gets no confidence.
    """
    spans: list[tuple[int, int, float]] = []
    position = 0
    for entry in logprobs:
        token = entry.token
        if not token or not text.startswith(token, position):
            break
        spans.append((position, position + len(token), entry.logprob))
        position += len(token)
    starts = _value_starts(text)
    confidence = {}
    for field in schema.signals:
        start = starts.get(field.name)
        match = next((lp for first, end, lp in spans if first <= start < end), None) if start is not None else None
        if match is not None:
            confidence[field.name] = round(math.exp(match), 4)
    return confidence or None


def _value_starts(text: str) -> dict[str, int]:
    """Offset of each top-level value's first character in a JSON object (inside the quotes for strings)."""
    decoder = json.JSONDecoder()
    starts: dict[str, int] = {}

    def skip(i: int) -> int:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        return i

    i = skip(0)
    if not text.startswith("{", i):
        return starts
    i = skip(i + 1)
    while text.startswith('"', i):
        key, i = scanstring(text, i + 1)
        i = skip(i)
        if not text.startswith(":", i):
            break
        i = skip(i + 1)
        starts[key] = i + 1 if text.startswith('"', i) else i
        _, i = decoder.raw_decode(text, i)
        i = skip(i)
        i = skip(i + 1) if text.startswith(",", i) else i
    return starts
