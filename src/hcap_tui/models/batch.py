"""One validate-and-retry wrapper and one concurrency-bounded batch driver, shared by every provider and run.

`alabel` asks a labeller for one input and validates the answer against the label schema: output that
was cut off, is not JSON or does not match the schema is asked for again once, then returned as a failed
`LabelResult` carrying the raw text, never as a made-up label. `alabel_many` keeps up to `concurrency`
requests in flight over any iterable of inputs, drawing the next input only when a slot frees, and
yields each result as it completes, so an unbounded stream (a whole archive) runs in bounded memory.
`label` and `label_many` are the same for blocking callers, run on the labeller's own event loop.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from hcap_tui.errors import LabelError
from hcap_tui.models.base import Answer, ItemFailed, Labeller, LabelResult
from hcap_tui.models.confidence import signal_confidence
from hcap_tui.schema import LabelSchema

ATTEMPTS = 2  # a bad output is asked for again once
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class HasInput(Protocol):
    """Anything carrying a formatted_input: a comment, a labelled item."""

    formatted_input: str


C = TypeVar("C", bound="str | HasInput")


@dataclass(frozen=True)
class Labelled(Generic[C]):
    """An item handed to the batch driver, and its result."""

    item: C
    result: LabelResult


def input_text(item: str | HasInput) -> str:
    """The text a model labels for an item: the item itself, or its formatted_input."""
    return item if isinstance(item, str) else item.formatted_input


def judge(schema: LabelSchema, answer: Answer) -> tuple[dict[str, Any] | None, str | None]:
    """(label, None) for a usable answer, else (None, why it cannot be used)."""
    if answer.problem is not None:
        return None, answer.problem
    try:
        return schema.parse(answer.text), None
    except LabelError as exc:
        return None, f"output does not match the label schema (invalid output): {exc}"


def sendable(text: str) -> str:
    """The text as a request can carry it. UTF-8 has no form for a lone surrogate (a JSON escape some other tool
    wrote into a label file), so each becomes U+FFFD in what the model is asked; the result keeps the input as
    given. Other text is passed on as it is."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return LONE_SURROGATE.sub("\ufffd", text)
    return text


async def alabel(labeller: Labeller, formatted_input: str) -> LabelResult:
    """Label one input, asking once more after a bad output; raises ModelError when the server fails."""
    started = time.perf_counter()
    asked = sendable(formatted_input)
    label: dict[str, Any] | None = None
    raw, error, answer = "", None, None
    prompt_tokens = completion_tokens = None
    attempts = 0
    while attempts < ATTEMPTS and label is None:
        attempts += 1
        try:
            answer = await labeller.ask(asked)
        except ItemFailed as exc:
            error, answer = str(exc), None
            break
        raw = answer.text
        prompt_tokens = _plus(prompt_tokens, answer.prompt_tokens)
        completion_tokens = _plus(completion_tokens, answer.completion_tokens)
        label, error = judge(labeller.schema, answer)
    confidence = None
    if label is not None and labeller.logprobs and answer is not None and answer.logprobs:
        confidence = signal_confidence(
            labeller.schema, raw, answer.logprobs, renormalise=labeller.renormalise_logprobs
        )
    return LabelResult(
        formatted_input=formatted_input,
        label=label,
        raw=raw,
        error=error,
        spec=labeller.spec,
        digest=labeller.digest,
        latency_ms=round((time.perf_counter() - started) * 1000, 1),
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        confidence=confidence,
        attempts=attempts,
    )


def label(labeller: Labeller, formatted_input: str) -> LabelResult:
    """`alabel` for blocking callers."""
    return labeller.call(alabel(labeller, formatted_input))


async def alabel_many(labeller: Labeller, items: Iterable[C], concurrency: int = 1) -> AsyncIterator[Labelled[C]]:
    """Label items with at most `concurrency` requests in flight, yielding each result as it completes.

    The next item is drawn from `items` only when a request finishes, so the iterable may be endless and
    may decide what comes next from the results so far. Results that completed are yielded before a
    ModelError from another request is raised; closing the iterator cancels the requests in flight.
    """
    source = iter(items)
    pending: dict[asyncio.Task[LabelResult], C] = {}
    drawn_all = False
    try:
        while True:
            while not drawn_all and len(pending) < max(1, concurrency):
                try:
                    item = next(source)
                except StopIteration:
                    drawn_all = True
                    break
                pending[asyncio.ensure_future(alabel(labeller, input_text(item)))] = item
            if not pending:
                return
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            failure: BaseException | None = None
            for task in [task for task in pending if task in done]:  # in the order the items were drawn
                item = pending.pop(task)
                if task.exception() is None:
                    yield Labelled(item, task.result())
                elif failure is None:
                    failure = task.exception()
            if failure is not None:
                raise failure
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


def label_many(labeller: Labeller, items: Iterable[C], concurrency: int = 1) -> Iterator[Labelled[C]]:
    """`alabel_many` for blocking callers: the same driver, run on the labeller's own event loop.

    The requests in flight make progress only while the caller waits for the next result; closing the
    iterator (or Ctrl-C) cancels them.
    """
    results = alabel_many(labeller, items, concurrency)

    async def next_result() -> Labelled[C]:
        return await anext(results)

    try:
        while True:
            try:
                yield labeller.call(next_result())
            except StopAsyncIteration:
                return
    finally:
        labeller.call(results.aclose())


def _plus(total: int | None, more: int | None) -> int | None:
    """A token count added to a running total, None while neither is known."""
    if more is None:
        return total
    return (total or 0) + more
