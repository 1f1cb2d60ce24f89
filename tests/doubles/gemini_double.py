"""A faithful Gemini API for tests: a real HTTP server on a loopback port, driven by the real google-genai SDK.

It answers `POST /{version}/models/{model}:generateContent` (the SDK uses v1 or v1beta depending on its
version) with the documented body (candidates, usageMetadata, modelVersion), checks the
`x-goog-api-key` header as Google does (403 when missing, 400 API_KEY_INVALID when wrong), and plays
scripted replies: a valid label derived from the request's `responseSchema`, any text, or google.rpc
error bodies such as 429 RESOURCE_EXHAUSTED with a RetryInfo delay and 500 INTERNAL. Point the SDK at
it with `GOOGLE_GEMINI_BASE_URL=double.url`, or use the `gemini` fixture (doubles/fixtures.py), which does
that and sets the key.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from doubles.loopback import InFlight, LoopbackHandler, LoopbackServer, scripted

TEST_KEY = "test-gemini-key-8f2c61d0a9"
ROUTE = re.compile(r"^/(v1[a-z0-9]*)/models/([^/:?]+):generateContent(?:\?.*)?$")
STATUS_NAMES = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED",
                500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class GeminiReply:
    """How the double answers one generateContent request."""

    text: str | None = None  # the candidate's text; None → a valid label derived from the responseSchema
    status: int = 200  # >= 400 answers a google.rpc error body
    message: str = ""  # the error's message
    retry_delay: str | None = None  # with 429: the RetryInfo retryDelay, e.g. "0.01s"
    finish_reason: str = "STOP"
    prompt_tokens: int = 400
    completion_tokens: int = 60
    thoughts_tokens: int = 0
    delay: float = 0.0  # seconds before answering


def invalid_json() -> GeminiReply:
    """Output cut off mid-object, as a model that ran out of tokens gives."""
    return GeminiReply(text='{"in_form": tru', finish_reason="MAX_TOKENS")


def rate_limited(retry_delay: str | None = "0.01s") -> GeminiReply:
    """A 429 RESOURCE_EXHAUSTED with the quota details the real API sends, and RetryInfo unless None."""
    return GeminiReply(
        status=429,
        message="You exceeded your current quota, please check your plan and billing details.",
        retry_delay=retry_delay,
    )


def server_error() -> GeminiReply:
    """A 500 INTERNAL as the real API sends it."""
    return GeminiReply(status=500, message="An internal error has occurred. Please retry or report the problem.")


def sequence(*replies: GeminiReply) -> Callable[[dict], GeminiReply]:
    """A reply function that answers with `replies` in turn, then with valid labels."""
    return scripted(replies, GeminiReply)


def label_for(prompt: str, response_schema: dict | None) -> dict[str, Any]:
    """A deterministic label valid against a Gemini `responseSchema` (OBJECT of BOOLEAN / STRING / enum)."""
    properties = (response_schema or {}).get("properties", {})
    label: dict[str, Any] = {}
    for i, (name, prop) in enumerate(properties.items()):
        kind = str(prop.get("type", "")).upper()
        if kind == "BOOLEAN":
            label[name] = (len(prompt) + i) % 3 == 0
        elif prop.get("enum"):
            label[name] = prop["enum"][len(prompt) % len(prop["enum"])]
        else:
            label[name] = f"The comment reads: {prompt[:60]}"
    return label


def request_text(body: dict) -> str:
    """The user turn's text of a generateContent body."""
    return "".join(p.get("text", "") for c in body.get("contents", []) for p in c.get("parts", []))


class GeminiDouble(LoopbackServer):
    """A running fake Gemini API; a context manager, or call `start()` / `stop()`."""

    def __init__(
        self,
        *,
        api_key: str = TEST_KEY,
        models: tuple[str, ...] = ("gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro"),
        reply: Callable[[dict], GeminiReply] | None = None,
    ) -> None:
        super().__init__(_Handler)
        self.api_key = api_key
        self.models = models
        self.reply = reply or (lambda _request: GeminiReply())
        self.requests: list[dict] = []  # {"version", "model", "headers", "body"} in arrival order
        self._lock = threading.Lock()
        self._flight = InFlight()

    @property
    def max_in_flight(self) -> int:
        """The most requests answered at once."""
        return self._flight.most

    @property
    def bodies(self) -> list[dict]:
        """The JSON bodies of the requests that reached a model, in arrival order."""
        return [r["body"] for r in self.requests]

    def generate(self, version: str, model: str, headers: dict[str, str], body: dict) -> tuple[int, dict]:
        """generateContent: check the key and model, then answer with the reply the test chose."""
        key = headers.get("x-goog-api-key")
        if not key:
            return _error(403, "Method doesn't allow unregistered callers (callers without established identity).")
        if key != self.api_key:
            return _error(400, "API key not valid. Please pass a valid API key.",
                          [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
                            "domain": "googleapis.com"}])
        if model not in self.models:
            return _error(404, f"models/{model} is not found for API version {version}, "
                               "or is not supported for generateContent.")
        with self._lock:
            self.requests.append({"version": version, "model": model, "headers": headers, "body": body})
        with self._flight.answering():
            reply = self.reply(body)
            if reply.delay:
                self._stopping.wait(reply.delay)
        if reply.status >= 400:
            details = None
            if reply.status == 429:
                details = [
                    {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                     "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                                     "quotaId": "GenerateRequestsPerMinutePerProjectPerModel"}]},
                    {"@type": "type.googleapis.com/google.rpc.Help",
                     "links": [{"description": "Learn more about Gemini API quotas",
                                "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]},
                ]
                if reply.retry_delay is not None:
                    details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                    "retryDelay": reply.retry_delay})
            return _error(reply.status, reply.message or "error", details)
        text = reply.text
        if text is None:
            schema = (body.get("generationConfig") or {}).get("responseSchema")
            text = json.dumps(label_for(request_text(body), schema))
        usage = {
            "promptTokenCount": reply.prompt_tokens,
            "candidatesTokenCount": reply.completion_tokens,
            "totalTokenCount": reply.prompt_tokens + reply.completion_tokens + reply.thoughts_tokens,
        }
        if reply.thoughts_tokens:
            usage["thoughtsTokenCount"] = reply.thoughts_tokens
        return 200, {
            "candidates": [
                {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": reply.finish_reason,
                 "index": 0}
            ],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": f"double-{len(self.requests)}",
        }


def _error(status: int, message: str, details: list[dict] | None = None) -> tuple[int, dict]:
    """A google.rpc error body as the Gemini API sends it."""
    error: dict[str, Any] = {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        error["details"] = details
    return status, {"error": error}


class _Handler(LoopbackHandler):
    """Routes generateContent requests to the double."""

    double: GeminiDouble

    def do_POST(self) -> None:
        data = self._read_body()
        match = ROUTE.match(self.path)
        if match is None:
            self._send(*_error(404, f"no route for {self.path}"))
            return
        try:
            body = json.loads(data or b"{}")
        except json.JSONDecodeError:
            self._send(*_error(400, "Invalid JSON payload received."))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._send(*self.double.generate(match.group(1), match.group(2), headers, body))
