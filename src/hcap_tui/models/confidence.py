"""Per-signal confidence from the token log-probabilities a model returned with its label.

A label's booleans and enum values are each decided at one token: for a boolean the `true`/`false`
token, for an enum the first token of the value. How sure the model was of that signal is the
probability of the chosen value among the values the schema allows at that token, which lets a
reviewer look first at the predictions the model doubted.

Some servers report log-probabilities from before the structured-output grammar masks tokens out
(llama-server and vLLM do), so the chosen token's probability is shared with tokens the grammar would
never allow there (`{`, `maybe`). For those, `renormalise=True` takes the chosen value's share of the
listed alternatives that start an allowed value. llama-server also strips leading
whitespace from the message text but not from the tokens, so leading whitespace before the first
character of the text is skipped when tokens are matched to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring

from hcap_tui.schema import LabelSchema, SchemaField

WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class TokenLogprob:
    """One generated token, its log-probability, and the most likely alternatives the server listed."""

    token: str
    logprob: float
    top: dict[str, float] = field(default_factory=dict)  # alternative token → log-probability (may include token)


def item_confidence(probabilities: Iterable[float]) -> float | None:
    """How sure a model was of a whole item: the product of its per-signal confidences (None when it has none).

    The product is the chance that every signal is right, if the signals' errors were independent; it ranks
    items by how likely a reviewer is to change something. On the user's real gold, a student's item
    confidence put teacher errors first better as the product than as the least sure signal (AUROC .68
    against .59), since an item that is a little unsure on several signals is often wrong on one of them.
    """
    product, seen = 1.0, False
    for probability in probabilities:
        product *= probability
        seen = True
    return product if seen else None


def signal_confidence(
    schema: LabelSchema, text: str, logprobs: Sequence[TokenLogprob], *, renormalise: bool = False
) -> dict[str, float] | None:
    """Probability of each signal's chosen value, at the token holding the value's first character.

    Tokens are matched to the text by position; a field whose value lies past a token that does not match
    the text (a split multi-byte character, say) gets no confidence.
    """
    spans: list[tuple[int, int, TokenLogprob]] = []
    position = 0
    for entry in logprobs:
        token = entry.token
        if position == 0 and not text[:1].isspace():
            token = token.lstrip()  # whitespace the server stripped from the text
            if not token:
                continue
        if not token or not text.startswith(token, position):
            break
        spans.append((position, position + len(token), entry))
        position += len(token)
    starts = _value_starts(text)
    confidence = {}
    for signal in schema.signals:
        start = starts.get(signal.name)
        if start is None:
            continue
        span = next(((first, entry) for first, end, entry in spans if first <= start < end), None)
        if span is not None:
            first, entry = span
            share = math.exp(entry.logprob)
            if renormalise:
                share = _share(entry, text[first:start], _value_text(text, start, signal), signal)
            confidence[signal.name] = round(share, 4)
    return confidence or None


def _share(entry: TokenLogprob, lead: str, chosen: str, signal: SchemaField) -> float:
    """The chosen value's probability among the listed alternatives that start an allowed value.

    `lead` is the part of the chosen token before the value (a quote, a space); an alternative must carry
    the same non-space characters (the grammar lets whitespace vary, nothing else). Alternatives that
    could start more than one allowed value, or none, say nothing about this choice and are left out. An
    allowed value the server did not list is taken to be as likely as the least likely token it did list,
    so a short list errs towards doubt. With no alternatives listed, the token's own probability is used.
    """
    if not entry.top:
        return math.exp(entry.logprob)
    allowed = _allowed(signal)
    core = lead.strip(WHITESPACE)
    options = dict(entry.top)
    options[entry.token] = entry.logprob
    mass = dict.fromkeys(allowed, 0.0)
    for token, logprob in options.items():
        piece = token.lstrip(WHITESPACE)
        if not piece.startswith(core):
            continue
        piece = piece[len(core):]
        starts = [value for value in allowed if piece and (value.startswith(piece) or piece.startswith(value))]
        if len(starts) == 1:
            mass[starts[0]] += math.exp(logprob)
    if mass[chosen] == 0.0:
        return math.exp(entry.logprob)
    floor = min(math.exp(logprob) for logprob in entry.top.values())
    rivals = sum(p if p > 0.0 else floor for value, p in mass.items() if value != chosen)
    return mass[chosen] / (mass[chosen] + rivals)


def _allowed(signal: SchemaField) -> list[str]:
    """The texts a signal's value may take in JSON (enum values without their quotes)."""
    return ["true", "false"] if signal.kind == "bool" else list(signal.values)


def _value_text(text: str, start: int, signal: SchemaField) -> str:
    """The allowed value that begins at `start` in the text."""
    return next((value for value in _allowed(signal) if text.startswith(value, start)), text[start:start + 1])


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
