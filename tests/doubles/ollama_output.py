"""What the fake Ollama model says: valid labels derived from the prompt, token splits and log-probabilities.

Kept apart from the HTTP server so tests can compute the exact label or confidence the double will produce.
"""

from __future__ import annotations

import hashlib
import math
import re
from typing import Any

from hcap_tui.schema import LabelSchema

# Roughly how a BPE tokenizer splits JSON text: `{"`, `in`, `_form`, `":`, ` false`, `,`, ` "`, `strong`, `"}`.
TOKEN = re.compile(r'\{"|":|",|"\}|\s?"|\s?[A-Za-z]+|_[A-Za-z]+|\d{1,3}|\s?[^\sA-Za-z\d]|\s+|.', re.DOTALL)


def label_for(prompt: str, format_schema: dict | None = None) -> dict[str, Any]:
    """The label the double derives from a prompt: deterministic, valid against the requested JSON Schema."""
    schema = format_schema if isinstance(format_schema, dict) else LabelSchema.default().json_schema()
    label: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        pick = int.from_bytes(hashlib.sha256(f"{name}\0{prompt}".encode()).digest()[:4], "big")
        if prop.get("type") == "boolean":
            label[name] = pick % 3 == 0
        elif "enum" in prop:
            label[name] = prop["enum"][pick % len(prop["enum"])]
        else:
            label[name] = f"The comment reads: {prompt[:60]}"
    return label


def tokens(text: str) -> list[str]:
    """Split text into token-like pieces whose concatenation is the text."""
    return TOKEN.findall(text)


def logprobs_for(content: str, top: int, format_schema: dict | None) -> list[dict]:
    """Realistic log-probabilities: near-certain syntax, less certain signal values with their rivals listed."""
    rivals: list[list[str]] = [["true", "false"]]
    if isinstance(format_schema, dict):
        rivals += [list(p["enum"]) for p in format_schema.get("properties", {}).values() if "enum" in p]
    entries = []
    for token in tokens(content):
        word, lead = token.strip(), token[: len(token) - len(token.lstrip())]
        choices = next((r for r in rivals if word in r), None)
        if choices is None:
            ranked = [(token, -0.0005)]
        else:
            chosen_p = 0.9 if len(choices) == 2 else 0.7
            rest = (1 - chosen_p) / (len(choices) - 1)
            ranked = [(token, math.log(chosen_p))] + [(lead + c, math.log(rest)) for c in choices if c != word]
        entries.append(
            {
                "token": token,
                "logprob": ranked[0][1],
                "bytes": list(token.encode()),
                "top_logprobs": [{"token": t, "logprob": lp, "bytes": list(t.encode())} for t, lp in ranked[:top]],
            }
        )
    return entries
