"""Any OpenAI-compatible server (llama.cpp's llama-server, vLLM, SGLang) over plain httpx.

One `POST {base}/chat/completions` per input: the input as the one user message (after the system text,
when there is one), the label schema as a strict `json_schema` response format, temperature 0 and a
bounded `max_tokens`; with `logprobs` the per-token log-probabilities and the top alternatives. No client
library sits in between, so nothing retries behind hcap's back: 429 and 503 are backed off here (after
the server's Retry-After when it sends one); a 500 fails that one item with the server's reason (llama-server
answers 500 when it cannot parse what the model generated for one input, every time it is asked), and
everything else is one `ModelError` line like Ollama's.
The key comes from OPENAI_API_KEY when set and is sent only as the Authorization header.

`check` reads `{base}/models`: a server that lists models but not this one is refused before any item is
sent (llama-server names its model after `--alias`, vLLM after `--served-model-name`).
"""

from __future__ import annotations

import math
import os
from typing import Any

import httpx

from hcap_tui.models.base import (
    Answer,
    ItemFailed,
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

KEY_VARIABLE = "OPENAI_API_KEY"
EXAMPLE_URL = "http://127.0.0.1:8080/v1"
TOP_LOGPROBS = 10  # alternatives per token: enough to see every value a signal could take
MAX_RETRY_AFTER_S = 60.0
BUSY = (429, 503)
SERVER_ERROR = 500  # to a chat request: that item fails, the run goes on


def resolve_base_url(host: str | None, source: str) -> str:
    """The server's base URL (`http://HOST:PORT/v1`) from `host`, said to come from `source`; checked."""
    if not host:
        raise ModelError(
            f"no server URL for an openai: model: pass --host {EXAMPLE_URL} (the server's base URL) "
            "or set openai_base_url in hcap.toml"
        )
    return server_url(host, source, example=EXAMPLE_URL)


class OpenAILabeller(Labeller):
    """A model behind an OpenAI-compatible `/chat/completions` endpoint."""

    provider = "openai"
    logprobs_needs = "a server that returns logprobs"
    renormalise_logprobs = True  # llama-server and vLLM report them before the grammar mask

    def __init__(
        self,
        name: str,
        schema: LabelSchema,
        *,
        host: str,
        timeout: float = 120.0,
        system: str | None = None,
        logprobs: bool = False,
        max_tokens: int = 512,
    ) -> None:
        super().__init__(
            name, schema, host=host, timeout=timeout, system=system, logprobs=logprobs, max_tokens=max_tokens
        )
        self._response_format = {
            "type": "json_schema",
            "json_schema": {"name": "label", "strict": True, "schema": schema.json_schema()},
        }
        key = os.environ.get(KEY_VARIABLE, "").strip()
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._tls = httpx.create_ssl_context()  # built once: each client building its own costs tens of ms

    def _open_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.host + "/", headers=self._headers, timeout=self.timeout, verify=self._tls,
            limits=httpx.Limits(max_keepalive_connections=None, max_connections=None),
        )

    async def acheck(self) -> str | None:
        """Make sure the server answers and serves the model; remember and return the id it reports."""
        response = await self._send("GET", "models")
        if response.status_code == 404:
            return None  # a server without the listing: the chat request itself will say
        self._raise_for(response)
        entries = _json(response).get("data")
        if not isinstance(entries, list):
            return None
        served = [e for e in entries if isinstance(e, dict) and isinstance(e.get("id"), str)]
        match = next((e for e in served if e["id"] == self.model), None)
        if match is None and served:
            names = ", ".join(repr(e["id"]) for e in served[:5])
            raise ModelMissing(
                f"the server at {self.host} serves {names}, not {self.model!r}: pass --model openai:<one of those>, "
                f"or serve it under that name (llama-server --alias {self.model}, "
                f"vllm serve --served-model-name {self.model})"
            )
        if match is not None:
            digest = match.get("digest") or match.get("root")
            self.digest = digest if isinstance(digest, str) and digest else None
        return self.digest

    async def ask(self, formatted_input: str) -> Answer:
        """One chat completion, backing off while the server is busy."""
        body = self.request_body(formatted_input)

        async def once() -> httpx.Response:
            response = await self._send("POST", "chat/completions", body)
            if response.status_code == SERVER_ERROR:  # this input broke the server, as it will each time
                raise ItemFailed(f"the server answered {SERVER_ERROR}: {_error_text(response)}")
            self._raise_for(response)
            return response

        return self.answer(_json(await self.backing_off(once)))

    def answer(self, data: dict[str, Any]) -> Answer:
        """A chat completion's JSON body as an Answer: what `ask` returns, and how a batch result is read.

        Raises ModelError when the body is not a chat completion.
        """
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError):
            raise ModelError(
                f"the server at {self.host} answered without a chat completion: check that --host is the base "
                f"URL of an OpenAI-compatible server, such as {EXAMPLE_URL}"
            ) from None
        problem = None
        if choice.get("finish_reason") == "length":
            problem = f"output cut off at max_tokens={self.max_tokens} tokens before the JSON was complete"
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        return Answer(
            text=text,
            problem=problem,
            prompt_tokens=_count(usage.get("prompt_tokens")),
            completion_tokens=_count(usage.get("completion_tokens")),
            logprobs=_logprobs(choice.get("logprobs")),
        )

    def request_body(self, formatted_input: str) -> dict[str, Any]:
        """The chat completion body for one input: what `ask` sends, and what a batch request line carries."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": self.messages(formatted_input),
            "response_format": self._response_format,
            "temperature": 0,
            "max_tokens": self.max_tokens,
            "stream": False,
        }
        if self.logprobs:
            body.update(logprobs=True, top_logprobs=TOP_LOGPROBS)
        return body

    async def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        """One HTTP exchange within the deadline, transport failures turned into one-line errors."""
        try:
            return await self.within_deadline(self.client().request(method, path, json=body), self._timed_out)
        except httpx.TimeoutException:
            raise self._timed_out() from None
        except httpx.ConnectError:
            raise ServerUnreachable(
                f"cannot reach the OpenAI-compatible server at {self.host}: start it (llama-server -m MODEL.gguf "
                "--alias NAME, or vllm serve), or point hcap at it with --host or openai_base_url in hcap.toml"
            ) from None
        except httpx.TransportError as exc:
            raise ModelError(
                f"lost the connection to the server at {self.host} ({type(exc).__name__}): check that it is "
                "still running"
            ) from None

    def _raise_for(self, response: httpx.Response) -> None:
        """A one-line ModelError for an answer that is not a success."""
        status = response.status_code
        if status < 400:
            return
        reason = _error_text(response)
        if status in BUSY:
            raise ServerBusy(
                f"the server at {self.host} stayed busy ({status}: {reason}) through every retry: lower "
                "--concurrency, or give the server more slots (llama-server --parallel, vLLM --max-num-seqs)",
                retry_after=_retry_after(response),
            )
        if status == 404:
            raise ModelMissing(
                f"the server at {self.host} has no model {self.model!r} ({reason}): pass --model "
                f"openai:<a name the server lists at /models>, and check --host ends in /v1 (e.g. {EXAMPLE_URL})"
            )
        if status in (401, 403):
            raise ModelError(
                f"the server at {self.host} refused the request ({status}: {reason}): check {KEY_VARIABLE}"
            )
        raise ModelError(f"the server at {self.host} answered {status}: {reason}")

    def _timed_out(self) -> RequestTimeout:
        return RequestTimeout(
            f"the server at {self.host} did not answer within {self.timeout:g} s: raise it with --timeout or "
            "timeout_s in hcap.toml (time queued behind other requests counts too)"
        )


def _json(response: httpx.Response) -> dict[str, Any]:
    """A response's JSON object, or {} when the body is not one."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _error_text(response: httpx.Response) -> str:
    """The server's reason for an error, on one line: `error.message`, `error`, `detail` or the body."""
    data = _json(response)
    error = data.get("error", data.get("detail"))
    if isinstance(error, dict):
        error = error.get("message")
    text = str(error) if error else response.text or response.reason_phrase
    return " ".join(text.split())[:300]


def _retry_after(response: httpx.Response) -> float | None:
    """The wait a busy server asked for in Retry-After (seconds), capped; None when it gave none."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S) if math.isfinite(seconds) else None


def _count(value: Any) -> int | None:
    """A token count as the server reported it, or None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _logprobs(logprobs: Any) -> list[TokenLogprob] | None:
    """`choice.logprobs.content` in OpenAI's shape as TokenLogprobs, or None when absent or malformed."""
    content = logprobs.get("content") if isinstance(logprobs, dict) else None
    if not isinstance(content, list):
        return None
    entries = []
    for entry in content:
        try:
            top = {str(t["token"]): float(t["logprob"]) for t in entry.get("top_logprobs") or []}
            entries.append(TokenLogprob(str(entry["token"]), float(entry["logprob"]), top))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None
    return entries or None


