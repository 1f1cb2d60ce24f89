"""The labeller interface every model role goes through, whichever server answers.

A labeller turns one `formatted_input` into a `LabelResult`: a validated label, or a kept failure with
the raw text and the reason, plus tokens, latency, the model's id and digest and, when asked for,
per-signal confidence. Providers (Ollama, any OpenAI-compatible server, Gemini) implement a check that the
model can be used and `ask`: a single request answered with an `Answer`, backing off on their own server's
busy signals.
Validation, the one retry of a bad output and batching are written once above them (`batch.py`), so
predict, label and eval behave the same on every backend.

Errors that stop a run (server down, model missing, busy through every retry, a request past its
deadline) are `ModelError`s with one line naming the problem and the fix; a problem with one item only
is `ItemFailed`, which becomes a failed result for that item.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeVar

from hcap_tui.errors import HcapError
from hcap_tui.models.blocking_loop import BlockingLoop
from hcap_tui.models.confidence import TokenLogprob
from hcap_tui.schema import LabelSchema

T = TypeVar("T")
pause = asyncio.sleep  # how busy back-off waits; one name so tests can observe the waits without sitting them out


class ModelError(HcapError):
    """A model server could not do what was asked; `str()` is one line naming the problem and the fix."""


class ServerUnreachable(ModelError):
    """Nothing answers at the host."""


class ModelMissing(ModelError):
    """The server answers but does not serve the model."""


class ServerBusy(ModelError):
    """The server stayed busy (429/503) through every back-off retry.

    `retry_after` is the wait in seconds the server asked for, when it said.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestTimeout(ModelError):
    """A request went past its deadline."""


class ItemFailed(Exception):
    """One item cannot be labelled (a server error that outlasted its retries), the run can go on.

    `str()` is the reason kept on the item's failed result.
    """


@dataclass(frozen=True)
class ModelSpec:
    """Which provider serves which model: `ollama:flat-hcap`, `openai:flat-hcap`, `gemini:gemini-2.5-flash`."""

    provider: str
    name: str

    def __str__(self) -> str:
        return f"{self.provider}:{self.name}"

    @property
    def recorded(self) -> str:
        """The name written as `model` on predictions and eval runs: a bare name means Ollama, as it always has."""
        return self.name if self.provider == "ollama" else str(self)


@dataclass(frozen=True)
class Answer:
    """One reply of a model to one request, before validation."""

    text: str
    problem: str | None = None  # why the text cannot be a label whatever it says (cut off, blocked), else None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    logprobs: Sequence[TokenLogprob] | None = None  # per generated token, when asked for and returned


@dataclass(frozen=True)
class LabelResult:
    """The outcome of labelling one input: a validated label, or the raw text and why it failed."""

    formatted_input: str
    label: dict[str, Any] | None  # validated, in schema order; None when failed
    raw: str  # the model's text on the last attempt
    error: str | None  # one-line reason when failed, None when ok
    spec: ModelSpec  # which provider and model answered
    digest: str | None  # the model's digest or id as the server reports it
    latency_ms: float
    prompt_tokens: int | None  # summed over every attempt: each was computed (and, for a paid teacher, billed)
    completion_tokens: int | None
    confidence: dict[str, float] | None  # per signal, when log-probabilities were asked for and returned
    attempts: int

    @property
    def ok(self) -> bool:
        """Whether the model produced a valid label."""
        return self.label is not None

    @property
    def model(self) -> str:
        """The model's name as its provider knows it."""
        return self.spec.name


class Labeller:
    """What every provider shares: its spec, schema and options, its clients per event loop, a blocking facade.

    A provider sets `provider`, implements `acheck`, `ask` and `_open_client`, and may override
    `logprobs_unavailable`. Blocking callers use `check`, `call` and `close`, which run on the
    labeller's own event loop; code already inside an event loop awaits `acheck`/`ask` and `aclose`.
    """

    provider: ClassVar[str]
    busy_backoff: Sequence[float] = (0.5, 1.0, 2.0, 4.0)  # pauses between tries while the server says it is busy
    logprobs_needs: ClassVar[str] = "a server that returns token log-probabilities"
    renormalise_logprobs: ClassVar[bool] = False  # the server's log-probabilities come from before the grammar mask

    def __init__(
        self,
        name: str,
        schema: LabelSchema,
        *,
        host: str = "",
        timeout: float = 120.0,
        system: str | None = None,
        logprobs: bool = False,
        max_tokens: int = 512,
    ) -> None:
        self.spec = ModelSpec(self.provider, name)
        self.schema = schema
        self.host = host
        self.timeout = timeout
        self.system = system
        self.logprobs = logprobs
        self.max_tokens = max_tokens
        self.digest: str | None = None  # set by check()
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._loop: BlockingLoop | None = None

    @property
    def model(self) -> str:
        """The model's name as the provider knows it."""
        return self.spec.name

    # -- what a provider implements

    async def acheck(self) -> str | None:
        """Make sure the model can be used before any item is sent; return (and remember) its digest or id."""
        raise NotImplementedError

    async def ask(self, formatted_input: str) -> Answer:
        """One request for one input; raises ModelError when the run cannot go on, ItemFailed for this item only."""
        raise NotImplementedError

    def _open_client(self) -> Any:
        """A new client for the running event loop."""
        raise NotImplementedError

    async def _close_client(self, client: Any) -> None:
        """Release a client's connections."""
        await client.aclose()

    def logprobs_unavailable(self) -> str | None:
        """The server (say `Ollama 0.12.10`) when it is known not to return log-probabilities; None otherwise."""
        return None

    # -- shared machinery

    def messages(self, formatted_input: str) -> list[dict[str, str]]:
        """The chat for one input: the system text first when there is one, then the input as the user's message."""
        chat = [{"role": "system", "content": self.system}] if self.system else []
        chat.append({"role": "user", "content": formatted_input})
        return chat

    def client(self) -> Any:
        """The running event loop's client, opened on first use: each loop needs its own connections."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._clients[loop] = self._open_client()
        return client

    async def aclose(self) -> None:
        """Release the connections opened in the running event loop."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await self._close_client(client)

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to completion on the labeller's own event loop (for blocking callers); Ctrl-C cancels it
        and raises KeyboardInterrupt."""
        if self._loop is None:
            self._loop = BlockingLoop()
        return self._loop.run(coroutine)

    def check(self) -> str | None:
        """`acheck` for blocking callers."""
        return self.call(self.acheck())

    def close(self) -> None:
        """Release the blocking facade's connections and its event loop."""
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run(self.aclose())
            finally:
                loop.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def within_deadline(self, request: Awaitable[T], on_timeout: Callable[[], ModelError]) -> T:
        """Await one request for at most `timeout` seconds in all, however slowly its bytes arrive.

        A client's own timeout bounds each read, so a server that sends a byte now and then would never
        trip it; this bounds the whole request.
        """
        try:
            async with asyncio.timeout(self.timeout):
                return await request
        except TimeoutError:
            raise on_timeout() from None

    async def backing_off(self, request: Callable[[], Awaitable[T]]) -> T:
        """`request()`, tried again while the server says it is busy: after each `busy_backoff` pause, or after
        the wait the server asked for."""
        for wait in self.busy_backoff:
            try:
                return await request()
            except ServerBusy as exc:
                await pause(wait if exc.retry_after is None else exc.retry_after)
        return await request()
