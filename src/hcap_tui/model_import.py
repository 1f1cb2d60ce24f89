"""Serving a fine-tuned GGUF in Ollama under a versioned tag, with the project's own prompt template.

A fine-tune only behaves when Ollama wraps the comment in the same template it was trained on, so the
model is always created with `OLLAMA_TEMPLATE` and `OLLAMA_PARAMETERS` from `hcap_tui.template`, never
with whatever template the GGUF carries. Each import gets its own tag (`flat-hcap:r1`, `r2`, ...), so
earlier rounds stay available for comparison, and the plain name (`flat-hcap`, i.e. `:latest`) is
pointed at the newest, which is what `hcap predict` uses by default.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hcap_tui.errors import DataError
from hcap_tui.models.ollama import ModelRegistry, full_name
from hcap_tui.template import OLLAMA_PARAMETERS, OLLAMA_TEMPLATE

GGUF_MAGIC = b"GGUF"
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
ROUND_TAG = re.compile(r"r(\d+)")


@dataclass(frozen=True)
class ImportResult:
    """What an import created."""

    model: str  # name:tag
    latest: str  # name:latest, now the same model
    blob: str  # sha256 digest of the uploaded GGUF
    digest: str | None  # the model's digest as the server lists it


def check_gguf(path: Path) -> None:
    """Raise DataError unless `path` is a readable file that starts with the GGUF magic bytes."""
    if not path.is_file():
        raise DataError(f"{path} not found: give the path of the .gguf file the fine-tune exported")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise DataError(
            f"{path} is not a GGUF file (it does not start with 'GGUF'): export the fine-tune as GGUF "
            "(e.g. Unsloth's save_pretrained_gguf) and import that file"
        )


def next_tag(existing: Iterable[str], name: str) -> str:
    """`r<N+1>`, where N is the highest `r<number>` tag `name` already has (r1 when it has none)."""
    prefix = f"{name}:"
    rounds = [
        int(match.group(1))
        for model in existing
        if model.startswith(prefix) and (match := ROUND_TAG.fullmatch(model[len(prefix) :]))
    ]
    return f"r{max(rounds, default=0) + 1}"


def import_gguf(
    path: Path,
    *,
    name: str = "flat-hcap",
    tag: str | None = None,
    registry: ModelRegistry,
    on_step: Callable[[str], None] = lambda _message: None,
) -> ImportResult:
    """Upload a GGUF, create `name:tag` from it with the project's template, and point `name` at it."""
    if ":" in name:
        raise DataError(f"--name {name!r} includes a tag: give the bare name and the tag with --tag")
    if tag is not None and (tag == "latest" or not TAG_PATTERN.fullmatch(tag)):
        raise DataError(
            f"--tag {tag!r} cannot be used: give a version such as r3 (letters, digits, '_', '.', '-'); "
            "the plain name always points at the newest import"
        )
    check_gguf(path)
    existing = registry.models()
    tag = tag or next_tag(existing, name)
    target = f"{name}:{tag}"
    if target in existing:
        raise DataError(f"{target} already exists in Ollama: pass another --tag, e.g. {next_tag(existing, name)}")
    size_mb = path.stat().st_size / 1e6
    on_step(f"uploading {path.name} ({size_mb:,.1f} MB) to {registry.host}")
    blob = registry.upload(path)
    filename = path.name if path.name.endswith(".gguf") else f"{path.name}.gguf"
    on_step(f"creating {target} with hcap's prompt template")
    registry.create(target, {filename: blob}, OLLAMA_TEMPLATE, OLLAMA_PARAMETERS)
    latest = full_name(name)
    on_step(f"pointing {name} ({latest}) at {target}")
    registry.copy(target, latest)
    return ImportResult(model=target, latest=latest, blob=blob, digest=registry.models().get(target))
