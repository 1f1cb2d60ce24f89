"""A faithful OpenAI-compatible server for tests: a real HTTP server on a loopback port, as llama-server answers.

It serves `GET /v1/models` and `POST /v1/chat/completions` with the documented bodies (choices with message,
finish_reason and, when asked, logprobs in OpenAI's shape; usage; system_fingerprint), honours `max_tokens`
(cutting the answer and saying `finish_reason: "length"`), answers unknown models with 404 as vLLM does,
runs requests in `slots` parallel slots, and plays the faults a real server shows only under load or on a bad
day: 429/503 with or without Retry-After, 5xx, a slow answer and an answer trickled a byte at a time. Like
llama-server it can strip leading whitespace from the content while its logprob tokens keep it (`lead`).
When `api_key` is set, requests without `Authorization: Bearer <key>` get 401.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from doubles.loopback import Delivery, InFlight, LoopbackHandler, LoopbackServer, scripted
from doubles.ollama_output import label_for, logprobs_for, tokens

FINGERPRINT = "b7000-double"


@dataclass
class Completion:
    """How the double answers one chat completion request."""

    content: str | None = None  # message.content; None → a valid label derived from the request's schema
    finish_reason: str = "stop"
    status: int = 200  # >= 400 answers {"error": {"code", "message", "type"}}
    error: str = ""
    retry_after: str | None = None  # with a 429/503: the Retry-After header
    delay: float = 0.0  # seconds spent inside a slot before answering
    drip: float = 0.0  # seconds after each byte of the body: a server that trickles its answer
    lead: str = ""  # whitespace the model produced before the JSON: kept in logprob tokens, stripped from content
    logprobs: list[dict] | None = None  # logprobs.content entries; None → derived from the content when asked


def sequence(*replies: Completion) -> Callable[[dict], Completion]:
    """A reply function that answers with `replies` in turn, then with valid labels."""
    return scripted(replies, Completion)


def busy(status: int = 503, retry_after: str | None = None) -> Completion:
    """A busy answer: llama-server's 503 while loading, or a rate limiter's 429."""
    message = "Loading model" if status == 503 else "Too many requests"
    return Completion(status=status, error=message, retry_after=retry_after)


def schema_of(body: dict) -> dict | None:
    """The JSON Schema of a request's `response_format`, when it carries one."""
    response_format = body.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("schema") or response_format.get("schema")


def user_text(body: dict) -> str:
    """The last user message of a chat completion request."""
    users = [str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"]
    return users[-1] if users else ""


class OpenAIDouble(LoopbackServer):
    """A running fake OpenAI-compatible server; a context manager, or call `start()` / `stop()`.

    `url` is the server's root; `base_url` (`url + "/v1"`) is what hcap is given as --host.
    """

    def __init__(
        self,
        *,
        models: tuple[str, ...] = ("flat-hcap",),
        slots: int = 1,
        reply: Callable[[dict], Completion] | None = None,
        api_key: str | None = None,
        listing: bool = True,
    ) -> None:
        super().__init__(_Handler)
        self.models = models
        self.serves_listing = listing  # False: no /v1/models, as some servers have none
        self.reply = reply or (lambda _request: Completion())
        self.api_key = api_key
        self.requests: list[dict] = []  # chat bodies in arrival order
        self.headers: list[dict[str, str]] = []  # the headers of every request, in arrival order
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(slots)
        self._flight = InFlight()

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, as a user passes it to --host."""
        return f"{self.url}/v1"

    @property
    def max_in_flight(self) -> int:
        """The most chat requests inside slots at once."""
        return self._flight.most

    def authorised(self, headers: dict[str, str]) -> bool:
        """Whether a request carries the key (always, when the double has none)."""
        with self._lock:
            self.headers.append(headers)
        return self.api_key is None or headers.get("authorization") == f"Bearer {self.api_key}"

    def listing(self) -> tuple[int, Any]:
        """GET /v1/models."""
        created = int(time.time())
        data = [{"id": name, "object": "model", "created": created, "owned_by": "double"} for name in self.models]
        return 200, {"object": "list", "data": data}

    def chat(self, body: dict) -> tuple[Any, ...]:
        """POST /v1/chat/completions: wait for a slot, then answer with the reply the test chose."""
        with self._lock:
            self.requests.append(body)
        if body.get("model") not in self.models:
            return _error(404, f"The model `{body.get('model')}` does not exist.", "NotFoundError")
        reply = self.reply(body)
        with self._slots, self._flight.answering():
            if reply.delay:
                self._stopping.wait(reply.delay)
        if reply.status >= 400:
            headers = {"Retry-After": reply.retry_after} if reply.retry_after is not None else {}
            return (*_error(reply.status, reply.error or "internal error", "server_error"), Delivery(headers=headers))
        return 200, self._answer(body, reply), Delivery(drip=reply.drip)

    def _answer(self, body: dict, reply: Completion) -> dict:
        """The chat completion body for a successful reply."""
        schema = schema_of(body)
        content = reply.content if reply.content is not None else json.dumps(label_for(user_text(body), schema))
        generated = tokens(reply.lead + content)
        finish = reply.finish_reason
        limit = body.get("max_tokens")
        if isinstance(limit, int) and 0 < limit < len(generated):
            generated, finish = generated[:limit], "length"
        text = "".join(generated).lstrip()
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish,
        }
        if body.get("logprobs"):
            entries = reply.logprobs
            if entries is None:
                entries = logprobs_for("".join(generated), int(body.get("top_logprobs") or 0), schema)
            choice["logprobs"] = {"content": entries}
        return {
            "id": f"chatcmpl-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model"),
            "system_fingerprint": FINGERPRINT,
            "choices": [choice],
            "usage": {
                "prompt_tokens": len(tokens(user_text(body))),
                "completion_tokens": len(generated),
                "total_tokens": len(tokens(user_text(body))) + len(generated),
            },
        }


def _error(status: int, message: str, kind: str) -> tuple[int, dict]:
    """An error body as OpenAI-compatible servers send it."""
    return status, {"error": {"code": status, "message": message, "type": kind}}


class _Handler(LoopbackHandler):
    """Routes requests to the double."""

    double: OpenAIDouble

    def do_GET(self) -> None:
        if not self.double.authorised({k.lower(): v for k, v in self.headers.items()}):
            self._send(*_error(401, "Invalid API Key", "authentication_error"))
        elif self.path.rstrip("/") == "/v1/models" and self.double.serves_listing:
            self._send(*self.double.listing())
        else:
            self._send(*_error(404, "File Not Found", "not_found_error"))

    def do_POST(self) -> None:
        data = self._read_body()
        if not self.double.authorised({k.lower(): v for k, v in self.headers.items()}):
            self._send(*_error(401, "Invalid API Key", "authentication_error"))
            return
        if self.path != "/v1/chat/completions":
            self._send(*_error(404, "File Not Found", "not_found_error"))
            return
        try:
            body = json.loads(data or b"{}")
        except json.JSONDecodeError:
            self._send(*_error(400, "Invalid JSON", "invalid_request_error"))
            return
        self._send(*self.double.chat(body))
