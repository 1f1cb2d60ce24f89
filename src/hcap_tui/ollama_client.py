"""The one module that talks to Ollama: labelling with a local model, and managing the models it serves.

`LocalModel` sends one comment per chat request with the label schema as the structured-output `format`,
greedy decoding, a bounded `num_predict`, an explicit timeout and a keep_alive, and validates what comes
back strictly. Output that was cut off, is not JSON or does not match the schema is retried once and then
returned as a failed `Prediction` carrying the raw text, never as a made-up label. Problems with the
server itself (down, model missing, busy, too slow) raise typed `OllamaError`s whose message names the fix.
`ModelRegistry` holds what `hcap model import` needs: blob upload, create from files, tags and copies.
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
import ollama

from hcap_tui.errors import HcapError, LabelError
from hcap_tui.schema import LabelSchema
from hcap_tui.token_confidence import signal_confidence

DEFAULT_HOST = "http://127.0.0.1:11434"
HOST_ENV = "OLLAMA_HOST"
ATTEMPTS = 2  # a bad output is retried once
TOP_LOGPROBS = 5
FILES_MIN_VERSION = "0.5.5"
LOGPROBS_MIN_VERSION = "0.12.11"  # the first server that returns token log-probabilities


class OllamaError(HcapError):
    """Ollama could not do what was asked; `str()` is one line naming the problem and the fix."""


class OllamaUnreachable(OllamaError):
    """Nothing answers at the host."""

    def __init__(self, host: str) -> None:
        super().__init__(f"cannot reach Ollama at {host}: start it with `ollama serve`, or point hcap at it with --host or OLLAMA_HOST")


class ModelMissing(OllamaError):
    """The server answers but does not have the model."""

    def __init__(self, model: str, host: str) -> None:
        super().__init__(
            f"model {model!r} is not in Ollama at {host}: import the fine-tune with `hcap model import PATH.gguf` "
            f"(or `ollama create {model} -f Modelfile`), or pass --model with one `ollama list` shows"
        )


class ServerBusy(OllamaError):
    """The server's request queue is full (503); raised once the back-off retries are used up."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Ollama at {host} stayed busy (503, request queue full) through every retry: "
            "lower --concurrency or raise OLLAMA_MAX_QUEUE on the server"
        )


class OllamaTimeout(OllamaError):
    """A request took longer than the configured timeout."""

    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(
            f"Ollama at {host} did not answer within {timeout:g} s: raise it with --timeout or timeout_s in "
            "hcap.toml (time queued behind other requests counts too)"
        )


class ServerTooOld(OllamaError):
    """The server predates creating models from uploaded files."""

    def __init__(self, host: str) -> None:
        super().__init__(
            f"Ollama at {host} is too old to create models from uploaded files: "
            f"upgrade to Ollama {FILES_MIN_VERSION} or newer (https://ollama.com/download)"
        )


@dataclass
class Prediction:
    """The outcome of labelling one input: a validated label, or the raw text and why it failed."""

    formatted_input: str
    label: dict[str, Any] | None  # validated, schema order; None when failed
    raw: str  # the model's text (last attempt)
    error: str | None  # why it failed, None when ok
    model: str
    digest: str | None
    latency_ms: float
    prompt_tokens: int | None
    completion_tokens: int | None
    confidence: dict[str, float] | None  # per signal, only when logprobs were requested and returned
    attempts: int

    @property
    def ok(self) -> bool:
        """Whether the model produced a valid label."""
        return self.label is not None


def resolve_host(host: str | None) -> str:
    """The server URL: the argument, else OLLAMA_HOST, else Ollama's default."""
    return host or os.environ.get(HOST_ENV) or DEFAULT_HOST


def base_url(host: str) -> str:
    """A full URL for a host as OLLAMA_HOST allows it (`localhost`, `0.0.0.0:11434`, `https://box`), as the client reads it."""
    url = httpx.URL(host if "://" in host else f"http://{host}")
    port = url.port or (443 if url.scheme == "https" else 11434)
    return str(url.copy_with(port=port)).rstrip("/")


def full_name(name: str) -> str:
    """Ollama's canonical model name: `flat-hcap` means `flat-hcap:latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


@contextmanager
def _translated(host: str, timeout: float, model: str | None = None) -> Iterator[None]:
    """Turn the client's exceptions into OllamaErrors with the fix in the message."""
    try:
        yield
    except ollama.ResponseError as exc:
        if exc.status_code == 404 and model is not None:
            raise ModelMissing(model, host) from None
        if exc.status_code == 503:
            raise ServerBusy(host) from None
        if exc.status_code == 400 and "path or modelfile are required" in str(exc.error).lower():
            raise ServerTooOld(host) from None
        raise OllamaError(f"Ollama at {host} answered {exc.status_code}: {exc.error}") from None
    except httpx.TimeoutException:
        raise OllamaTimeout(host, timeout) from None
    except (ConnectionError, httpx.ConnectError):
        raise OllamaUnreachable(host) from None
    except httpx.TransportError as exc:
        raise OllamaError(f"lost the connection to Ollama at {host} ({exc}): check that it is still running") from None


class LocalModel:
    """A model served by Ollama that labels formatted inputs; sync, async and batched."""

    busy_backoff: Sequence[float] = (0.5, 1.0, 2.0, 4.0)  # pauses between tries while the server answers 503

    def __init__(
        self,
        model: str,
        schema: LabelSchema,
        *,
        host: str | None = None,
        timeout: float = 120.0,
        system: str | None = None,
        temperature: float = 0.0,
        num_predict: int = 512,
        keep_alive: str = "10m",
        logprobs: bool = False,
    ) -> None:
        self.model = model
        self.schema = schema
        self.host = resolve_host(host)
        self.timeout = timeout
        self.system = system
        self.num_predict = num_predict
        self.logprobs = logprobs
        self.digest: str | None = None  # set by check()
        self._options = {"temperature": temperature, "num_predict": num_predict}
        self._keep_alive = keep_alive
        self._format = schema.json_schema()
        self._tls = httpx.create_ssl_context()  # built once: each client building its own costs tens of ms
        self._client = ollama.Client(host=self.host, timeout=timeout, verify=self._tls)
        self._async_clients: weakref.WeakKeyDictionary[Any, ollama.AsyncClient] = weakref.WeakKeyDictionary()

    def check(self) -> str | None:
        """Make sure the server is up and has the model; remember and return the model's digest."""
        with _translated(self.host, self.timeout):
            listing = self._client.list()
        wanted = full_name(self.model)
        for entry in listing.models:
            if entry.model and full_name(entry.model) == wanted:
                self.digest = entry.digest
                return entry.digest
        raise ModelMissing(self.model, self.host)

    def server_version(self) -> str | None:
        """The server's version from /api/version, or None when the server does not say.

        The ollama client has no call for this endpoint, so it is one plain GET on the resolved host.
        """
        with _translated(self.host, self.timeout):
            response = httpx.get(f"{base_url(self.host)}/api/version", timeout=self.timeout)
        if response.status_code == 404:
            return None
        try:
            version = response.json().get("version")
        except (ValueError, AttributeError):
            return None
        return version if isinstance(version, str) and version else None

    def predict(self, formatted_input: str) -> Prediction:
        """Label one input, retrying a bad output once; raises OllamaError when the server fails."""
        started = time.perf_counter()
        request = self._request(formatted_input)
        for attempt in range(1, ATTEMPTS + 1):
            prediction = self._judge(formatted_input, self._chat(request), attempt, started)
            if prediction.ok:
                break
        return prediction

    async def apredict(self, formatted_input: str) -> Prediction:
        """`predict` for asyncio code, sharing one connection pool per event loop."""
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = self._async_client()
        return await self._apredict_with(client, formatted_input)

    def predict_many(self, inputs: Iterable[str], concurrency: int = 1) -> Iterator[Prediction]:
        """Label inputs with up to `concurrency` requests in flight, yielding each result as it completes.

        Results that completed are always yielded before an OllamaError from another request is raised.
        Closing the iterator (or Ctrl-C) cancels the requests still in flight. One at a time needs no
        event loop, so it takes the plain blocking path.
        """
        if concurrency <= 1:
            yield from map(self.predict, inputs)
            return
        loop = asyncio.new_event_loop()
        client = self._async_client()
        source = iter(inputs)
        pending: set[asyncio.Task[Prediction]] = set()
        try:
            while True:
                while len(pending) < concurrency and (item := next(source, None)) is not None:
                    pending.add(loop.create_task(self._apredict_with(client, item)))
                if not pending:
                    return
                done, pending = loop.run_until_complete(asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED))
                failures = [task.exception() for task in done if task.exception() is not None]
                yield from (task.result() for task in done if task.exception() is None)
                if failures:
                    raise failures[0]  # type: ignore[misc]
        finally:
            unfinished = asyncio.all_tasks(loop)  # requests in flight, and the wait Ctrl-C broke into
            for task in unfinished:
                task.cancel()
            if unfinished:
                loop.run_until_complete(asyncio.wait(unfinished))
            loop.run_until_complete(client.close())
            loop.close()

    def close(self) -> None:
        """Release the blocking client's connections (`aclose` releases those `apredict` opened)."""
        self._client.close()

    async def aclose(self) -> None:
        """Release the connections `apredict` opened in the running event loop."""
        client = self._async_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _async_client(self) -> ollama.AsyncClient:
        """A new asyncio client; each event loop needs its own."""
        return ollama.AsyncClient(host=self.host, timeout=self.timeout, verify=self._tls)

    async def _apredict_with(self, client: ollama.AsyncClient, formatted_input: str) -> Prediction:
        """The async twin of `predict`, on a given client."""
        started = time.perf_counter()
        request = self._request(formatted_input)
        for attempt in range(1, ATTEMPTS + 1):
            prediction = self._judge(formatted_input, await self._achat(client, request), attempt, started)
            if prediction.ok:
                break
        return prediction

    def _request(self, formatted_input: str) -> dict[str, Any]:
        """Chat arguments: the input as the one user message (after the system prompt, when there is one)."""
        messages = [{"role": "system", "content": self.system}] if self.system else []
        messages.append({"role": "user", "content": formatted_input})
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "format": self._format,
            "options": self._options,
            "keep_alive": self._keep_alive,
        }
        if self.logprobs:
            request.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return request

    def _chat(self, request: dict[str, Any]) -> ollama.ChatResponse:
        """One chat call, backing off while the server is busy."""
        for pause in self.busy_backoff:
            try:
                with _translated(self.host, self.timeout, self.model):
                    return self._client.chat(**request)
            except ServerBusy:
                time.sleep(pause)
        with _translated(self.host, self.timeout, self.model):
            return self._client.chat(**request)

    async def _achat(self, client: ollama.AsyncClient, request: dict[str, Any]) -> ollama.ChatResponse:
        """The async twin of `_chat`."""
        for pause in self.busy_backoff:
            try:
                with _translated(self.host, self.timeout, self.model):
                    return await client.chat(**request)
            except ServerBusy:
                await asyncio.sleep(pause)
        with _translated(self.host, self.timeout, self.model):
            return await client.chat(**request)

    def _judge(self, formatted_input: str, response: ollama.ChatResponse, attempt: int, started: float) -> Prediction:
        """A Prediction from one response: a validated label, or the reason the output cannot be used."""
        raw = response.message.content or ""
        label: dict[str, Any] | None = None
        error: str | None = None
        if response.done_reason == "length":
            error = f"output cut off at num_predict={self.num_predict} tokens before the JSON was complete"
        else:
            try:
                label = self.schema.parse(raw)
            except LabelError as exc:
                error = f"output does not match the label schema: {exc}"
        confidence = None
        if label is not None and self.logprobs and response.logprobs:
            confidence = signal_confidence(self.schema, raw, response.logprobs)
        return Prediction(
            formatted_input=formatted_input,
            label=label,
            raw=raw,
            error=error,
            model=self.model,
            digest=self.digest,
            latency_ms=round((time.perf_counter() - started) * 1000, 1),
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
            confidence=confidence,
            attempts=attempt,
        )


class ModelRegistry:
    """The models one Ollama server holds, and the calls that add them (what `hcap model import` needs)."""

    def __init__(self, host: str | None = None, timeout: float = 600.0) -> None:
        self.host = resolve_host(host)
        self.timeout = timeout
        self._client = ollama.Client(host=self.host, timeout=timeout)

    def close(self) -> None:
        """Release the client's connections."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def models(self) -> dict[str, str | None]:
        """Every model's full name (`name:tag`) with its digest."""
        with _translated(self.host, self.timeout):
            listing = self._client.list()
        return {full_name(m.model): m.digest for m in listing.models if m.model}

    def upload(self, path: Path) -> str:
        """Upload a file as a blob and return its `sha256:` digest."""
        with _translated(self.host, self.timeout):
            return self._client.create_blob(path)

    def create(self, model: str, files: dict[str, str], template: str, parameters: dict[str, Any]) -> None:
        """Create (or replace) `model` from uploaded blobs with a prompt template and parameters."""
        with _translated(self.host, self.timeout):
            self._client.create(model=model, files=files, template=template, parameters=parameters, stream=False)

    def copy(self, source: str, destination: str) -> None:
        """Make `destination` another name for `source`."""
        with _translated(self.host, self.timeout, source):
            self._client.copy(source, destination)
