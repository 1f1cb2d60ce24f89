"""Choices and defaults of command-line options, held apart from the modules that act on them.

`hcap --help` and the start of every command read these without loading what does the work (the model
layer for `hcap predict`, the triage student's libraries for `hcap triage`).
"""

from __future__ import annotations

from enum import StrEnum

DEFAULT_POOL_FACTOR = 5  # `hcap predict --strategy uncertain`: predict COUNT × this many, keep the least confident
DEFAULT_FOLDS = 5  # `hcap triage`: cross-fitting folds


class Strategy(StrEnum):
    """How `hcap predict` chooses the items it writes."""

    RANDOM = "random"
    UNCERTAIN = "uncertain"
    DISAGREE = "disagree"


DEFAULT_EVAL_FRACTION = 0.1  # `hcap export`: share of gold held out for evaluation


class ExportFormat(StrEnum):
    """Row shapes `hcap export` writes."""

    PROMPT_COMPLETION = "prompt-completion"
    CHAT = "chat"
