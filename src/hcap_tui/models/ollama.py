"""The one module that talks to Ollama: labelling with a model it serves, and adding models to it.

`OllamaLabeller` sends one chat request per input: the label schema as the structured-output `format`,
greedy decoding, a bounded `num_predict`, a keep_alive and a deadline for the whole request. Problems
with the server (down, model missing, busy through every back-off, too slow) raise `ModelError`s whose
message names the fix. `ModelRegistry` holds what `hcap model import` needs: blob upload, create from
files, tags and copies.

The `ollama` package builds a default client from OLLAMA_HOST when it is imported, which raises on a
malformed value; hcap always passes the host it checked itself, so the package is imported with
OLLAMA_HOST hidden and a bad value is reported by hcap as one line instead.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import httpx

from hcap_tui.models.base import (
    Answer,
    Labeller,
    ModelError,
    ModelMissing,
    RequestTimeout,
    ServerBusy,
    ServerUnreachable,
)
from hcap_tui.models.confidence import TokenLogprob
from hcap_tui.models.hosts import server_url
from hcap_tui.schema import LabelSchema

_import_lock = threading.Lock()
with _import_lock:
    _hidden = os.environ.pop("OLLAMA_HOST", None)
    try:
        import ollama
    finally:
        if _hidden is not None:
            os.environ["OLLAMA_HOST"] = _hidden

DEFAULT_HOST = "http://127.0.0.1:11434"
DEFAULT_PORT = 11434
HOST_ENV = "OLLAMA_HOST"
TOP_LOGPROBS = 5
FILES_MIN_VERSION = "0.5.5"
LOGPROBS_MIN_VERSION = "0.12.11"  # the first server that returns token log-probabilities


def resolve_host(host: str | None, source: str = "--host") -> str:
    """The server URL: `host` (from `source`), else OLLAMA_HOST, else Ollama's default; checked and made whole."""
    if not host:
        host, source = os.environ.get(HOST_ENV), HOST_ENV
    if not host:
        return DEFAULT_HOST
    return server_url(host, source, example=DEFAULT_HOST, default_port=DEFAULT_PORT)


def full_name(name: str) -> str:
    """Ollama's canonical model name: `flat-hcap` means `flat-hcap:latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


def unreachable(host: str) -> ServerUnreachable:
    """Nothing answers at the host."""
    return ServerUnreachable(
        f"cannot reach Ollama at {host}: start it with `ollama serve`, or point hcap at it with --host or OLLAMA_HOST"
    )


def model_missing(model: str, host: str) -> ModelMissing:
    """The server answers but does not have the model."""
    return ModelMissing(
        f"model {model!r} is not in Ollama at {host}: import the fine-tune with `hcap model import PATH.gguf` "
        f"(or `ollama create {model} -f Modelfile`), or pass --model with one `ollama list` shows"
    )


def server_busy(host: str) -> ServerBusy:
    """The server's request queue stayed full (503) through every retry."""
    return ServerBusy(
        f"Ollama at {host} stayed busy (503, request queue full) through every retry: "
        "lower --concurrency or raise OLLAMA_MAX_QUEUE on the server"
    )


def timed_out(host: str, timeout: float) -> RequestTimeout:
    """A request went past its deadline."""
    return RequestTimeout(
        f"Ollama at {host} did not answer within {timeout:g} s: raise it with --timeout or timeout_s in "
        "hcap.toml (time queued behind other requests counts too)"
    )


def server_too_old(host: str) -> ModelError:
    """The server predates creating models from uploaded files."""
    return ModelError(
        f"Ollama at {host} is too old to create models from uploaded files: "
        f"upgrade to Ollama {FILES_MIN_VERSION} or newer (https://ollama.com/download)"
    )


@contextmanager
def _translated(host: str, timeout: float, model: str | None = None) -> Iterator[None]:
    """Turn the client's exceptions into ModelErrors with the fix in the message."""
    try:
        yield
    except ollama.ResponseError as exc:
        if exc.status_code == 404 and model is not None:
            raise model_missing(model, host) from None
        if exc.status_code == 503:
            raise server_busy(host) from None
        if exc.status_code == 400 and "path or modelfile are required" in str(exc.error).lower():
            raise server_too_old(host) from None
        raise ModelError(f"Ollama at {host} answered {exc.status_code}: {exc.error}") from None
    except httpx.TimeoutException:
        raise timed_out(host, timeout) from None
    except (ConnectionError, httpx.ConnectError):
        raise unreachable(host) from None
    except httpx.TransportError as exc:
        raise ModelError(f"lost the connection to Ollama at {host} ({exc}): check that it is still running") from None


class OllamaLabeller(Labeller):
    """A model served by Ollama that labels formatted inputs."""

    provider = "ollama"
    logprobs_needs = f"Ollama ≥ {LOGPROBS_MIN_VERSION}"

    def __init__(
        self,
        name: str,
        schema: LabelSchema,
        *,
        host: str | None = None,
        timeout: float = 120.0,
        system: str | None = None,
        logprobs: bool = False,
        max_tokens: int = 512,
        temperature: float = 0.0,
        keep_alive: str = "10m",
    ) -> None:
        super().__init__(
            name, schema, host=resolve_host(host), timeout=timeout, system=system, logprobs=logprobs,
            max_tokens=max_tokens,
        )
        self._options = {"temperature": temperature, "num_predict": max_tokens}
        self._keep_alive = keep_alive
        self._format = schema.json_schema()
        self._tls = httpx.create_ssl_context()  # built once: each client building its own costs tens of ms

    def _open_client(self) -> ollama.AsyncClient:
        return ollama.AsyncClient(host=self.host, timeout=self.timeout, verify=self._tls)

    async def _close_client(self, client: ollama.AsyncClient) -> None:
        await client.close()

    async def acheck(self) -> str | None:
        """Make sure the server is up and has the model; remember and return the model's digest."""
        with _translated(self.host, self.timeout):
            listing = await self.within_deadline(self.client().list(), self._timed_out)
        wanted = full_name(self.model)
        for entry in listing.models:
            if entry.model and full_name(entry.model) == wanted:
                self.digest = entry.digest
                return entry.digest
        raise model_missing(self.model, self.host)

    def server_version(self) -> str | None:
        """The server's version from /api/version, or None when the server does not say.

        The ollama client has no call for this endpoint, so it is one plain GET on the resolved host.
        """
        with _translated(self.host, self.timeout):
            response = httpx.get(f"{self.host}/api/version", timeout=self.timeout)
        if response.status_code == 404:
            return None
        try:
            version = response.json().get("version")
        except (ValueError, AttributeError):
            return None
        return version if isinstance(version, str) and version else None

    def logprobs_unavailable(self) -> str | None:
        """`Ollama 0.12.10` when the server is known to predate log-probabilities, else None."""
        version = self.server_version()
        return f"Ollama {version}" if too_old_for_logprobs(version) else None

    async def ask(self, formatted_input: str) -> Answer:
        """One chat request, backing off while the server is busy."""
        request = self._request(formatted_input)

        async def once() -> ollama.ChatResponse:
            with _translated(self.host, self.timeout, self.model):
                return await self.within_deadline(self.client().chat(**request), self._timed_out)

        response = await self.backing_off(once)
        problem = None
        if response.done_reason == "length":
            problem = f"output cut off at num_predict={self.max_tokens} tokens before the JSON was complete"
        logprobs = None
        if response.logprobs:
            logprobs = [
                TokenLogprob(entry.token, entry.logprob, {top.token: top.logprob for top in entry.top_logprobs or []})
                for entry in response.logprobs
            ]
        return Answer(
            text=response.message.content or "",
            problem=problem,
            prompt_tokens=response.prompt_eval_count,
            completion_tokens=response.eval_count,
            logprobs=logprobs,
        )

    def _timed_out(self) -> RequestTimeout:
        return timed_out(self.host, self.timeout)

    def _request(self, formatted_input: str) -> dict[str, Any]:
        """Chat arguments: the input as the one user message (after the system prompt, when there is one)."""
        request: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages(formatted_input),
            "format": self._format,
            "options": self._options,
            "keep_alive": self._keep_alive,
        }
        if self.logprobs:
            request.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return request


def too_old_for_logprobs(version: str | None) -> bool:
    """Whether a server version is known to predate log-probabilities.

    An unknown version, or a development build's 0.0.0, is given the benefit of the doubt: the replies
    themselves then show whether log-probabilities come back.
    """
    found = _version_tuple(version or "")
    return len(found) == 3 and found != (0, 0, 0) and found < _version_tuple(LOGPROBS_MIN_VERSION)


def _version_tuple(version: str) -> tuple[int, ...]:
    """`0.12.11` (or `0.12.11-rc1`) as a comparable tuple of its first three numbers."""
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


class ModelRegistry:
    """The models one Ollama server holds, and the calls that add them (what `hcap model import` needs)."""

    def __init__(self, host: str | None = None, timeout: float = 600.0, source: str = "--host") -> None:
        self.host = resolve_host(host, source)
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
