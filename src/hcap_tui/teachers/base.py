"""What every teacher offers: one label per input, sync or async, and a bounded-concurrency batch.

A teacher is a large model (Gemini, or any Ollama model) whose validated labels seed labeled.jsonl.
Teachers report per-item problems (invalid output after a retry, a server error that outlasted the
retries) as failed results, and raise an HcapError only when no further item could succeed either
(bad key, unreachable server, quota exhausted), so a run stops early instead of failing every item.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class TeacherResult:
    """A teacher's answer for one input: a validated label, or the reason there is none."""

    formatted_input: str
    label: dict[str, Any] | None  # validated, in schema order; None when the teacher failed
    raw: str  # the teacher's text on the last attempt
    error: str | None  # one-line reason when failed
    model: str
    prompt_tokens: int | None  # summed over every attempt, since every attempt is billed
    completion_tokens: int | None
    attempts: int = 1

    @property
    def ok(self) -> bool:
        """Whether the teacher produced a valid label."""
        return self.label is not None


class Teacher(Protocol):
    """A model that labels formatted inputs according to the project's schema and guidelines."""

    kind: str  # "gemini" or "ollama": written as `teacher` on every label
    model: str

    def check(self) -> None:
        """Fail fast with an HcapError when the teacher cannot be used at all."""

    def label(self, formatted_input: str) -> TeacherResult:
        """Label one input (blocking)."""

    async def alabel(self, formatted_input: str) -> TeacherResult:
        """Label one input inside a running event loop."""

    async def aclose(self) -> None:
        """Release connections opened by `alabel` in the current event loop."""


async def label_batch(teacher: Teacher, inputs: Iterable[str], concurrency: int = 1) -> AsyncIterator[TeacherResult]:
    """Label `inputs` with at most `concurrency` requests in flight, yielding results as they complete.

    An HcapError from any item stops the batch: the other requests are cancelled and the error
    propagates after the results already yielded.
    """
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(formatted_input: str) -> TeacherResult:
        async with gate:
            return await teacher.alabel(formatted_input)

    tasks = [asyncio.ensure_future(one(formatted_input)) for formatted_input in inputs]
    try:
        for next_done in asyncio.as_completed(tasks):
            yield await next_done
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
