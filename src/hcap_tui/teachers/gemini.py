"""Gemini as teacher, through the google-genai SDK with structured output.

The request carries the teacher instructions as system instruction and the label schema as
`response_schema` with an explicit property ordering, so keys come back in schema order. The SDK's
`.parsed` is silently None on bad output, so the text is validated here with `schema.parse`.
Retries are hcap's own (the SDK does none by default): invalid output once, rate limits (429) with
the server's RetryInfo delay when it gives one, server errors and timeouts a few times with
exponential backoff. The API key comes only from the environment and is never written anywhere;
`GOOGLE_GEMINI_BASE_URL`, which the SDK honours, points it at a proxy or a local double.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

import httpx

from hcap_tui.errors import HcapError, LabelError
from hcap_tui.schema import LabelSchema
from hcap_tui.teachers.base import TeacherResult

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BASE_URL_VARIABLE = "GOOGLE_GEMINI_BASE_URL"
INVALID_OUTPUT_RETRIES = 1
SERVER_RETRIES = 3  # for 5xx answers and timeouts
RATE_LIMIT_RETRIES = 8  # for 429 answers
BACKOFF_S = 1.0  # first wait after a server error or a 429 without RetryInfo; doubles each time
MAX_BACKOFF_S = 60.0
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
DEFAULT_MODEL = "gemini-2.5-flash"  # what a bare `--teacher gemini` means
pause = asyncio.sleep  # how retries wait; one name so tests can observe the delays without waiting them out


class GeminiError(HcapError):
    """Gemini cannot be used for this run: missing SDK or key, rejected request, quota, network."""


def api_key_from_env() -> str:
    """The API key from GEMINI_API_KEY or GOOGLE_API_KEY, or a GeminiError naming GEMINI_API_KEY."""
    for name in KEY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise GeminiError(
        "no Gemini API key: set GEMINI_API_KEY (or GOOGLE_API_KEY) in the environment, "
        "or use a local teacher with --teacher ollama:<model>"
    )


def response_schema_dict(schema: LabelSchema) -> dict[str, Any]:
    """The label's JSON Schema in the form Gemini's `response_schema` takes.

    `propertyOrdering` fixes the key order to the schema's. `additionalProperties` is dropped: the SDK
    accepts it only for Vertex AI, and with every property required there is no room for extras anyway.
    """
    result = schema.json_schema()
    result.pop("additionalProperties", None)
    result["propertyOrdering"] = list(schema.names)
    return result


def retry_delay(details: Any) -> float | None:
    """Seconds the server asked us to wait, from a google.rpc RetryInfo detail ("7s", "0.5s"), if any."""
    error = details.get("error", details) if isinstance(details, dict) else None
    entries = error.get("details") if isinstance(error, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("@type") == RETRY_INFO_TYPE:
            text = str(entry.get("retryDelay", "")).strip()
            try:
                return max(0.0, float(text.removesuffix("s")))
            except ValueError:
                return None
    return None


def backoff(retry: int) -> float:
    """Exponential wait before retry number `retry` (1-based)."""
    return min(BACKOFF_S * 2 ** (retry - 1), MAX_BACKOFF_S)


class GeminiTeacher:
    """Labels inputs with a Gemini model; the SDK client opens on first use and `aclose` drops it, so each
    event loop (a run, or one blocking `label` call) has its own connections."""

    kind = "gemini"

    def __init__(
        self,
        model: str,
        schema: LabelSchema,
        instructions: str,
        *,
        timeout: float = 120.0,
        temperature: float = 0.0,
    ) -> None:
        try:
            from google import genai
            from google.genai import errors, types
        except ImportError:
            raise GeminiError(
                "the Gemini teacher needs the google-genai package: pip install -e '.[gemini]'"
            ) from None
        self.model = model
        self.schema = schema
        self._genai, self._errors = genai, errors
        self._api_key = api_key_from_env()
        self._http_options = types.HttpOptions(timeout=int(timeout * 1000))
        self._config = types.GenerateContentConfig(
            system_instruction=instructions,
            response_mime_type="application/json",
            response_schema=types.Schema.model_validate(response_schema_dict(schema)),
            temperature=temperature,
        )
        self._client: Any = None

    @property
    def base_url(self) -> str:
        """Where requests go: GOOGLE_GEMINI_BASE_URL when set, else Google's endpoint."""
        return os.environ.get(BASE_URL_VARIABLE) or "https://generativelanguage.googleapis.com"

    def check(self) -> None:
        """Nothing to probe without spending a request: key and SDK were checked on construction."""

    def label(self, formatted_input: str) -> TeacherResult:
        """Label one input (blocking), with its own client for the duration of the call."""

        async def once() -> TeacherResult:
            try:
                return await self.alabel(formatted_input)
            finally:
                await self.aclose()

        return asyncio.run(once())

    async def aclose(self) -> None:
        """Close the client's connections; the next `alabel` opens a fresh client."""
        client, self._client = self._client, None
        if client is not None:
            await client.aio.aclose()

    async def alabel(self, formatted_input: str) -> TeacherResult:
        """Ask Gemini for one label; invalid output is asked for again once, then reported as a failure."""
        spent = _Spent()
        raw, error = "", ""
        for _ in range(1 + INVALID_OUTPUT_RETRIES):
            response, error = await self._generate(formatted_input, spent)
            if response is None:
                break
            raw = response.text or ""
            try:
                if not raw:
                    raise LabelError(f"no text (finish reason {_finish_reason(response)})")
                label = self.schema.parse(raw)
            except LabelError as exc:
                error = f"invalid output: {exc}"
                continue
            return spent.result(formatted_input, label, raw, None, self.model)
        return spent.result(formatted_input, None, raw, error, self.model)

    async def _generate(self, formatted_input: str, spent: _Spent) -> tuple[Any, str]:
        """One answer from Gemini, waiting out rate limits and retrying server errors and timeouts.

        Returns (response, "") or, once server errors outlast the retries, (None, reason). Raises
        GeminiError for what retrying cannot fix: a rejected request, an exhausted quota, no network.
        """
        if self._client is None:
            self._client = self._genai.Client(api_key=self._api_key, http_options=self._http_options)
        server_retries = rate_retries = 0
        while True:
            spent.attempts += 1
            try:
                response = await self._client.aio.models.generate_content(
                    model=self.model, contents=formatted_input, config=self._config
                )
            except self._errors.ClientError as exc:
                if exc.code != 429:
                    raise GeminiError(self._rejected(exc)) from None
                if rate_retries == RATE_LIMIT_RETRIES:
                    raise GeminiError(
                        f"Gemini rate limit still exceeded after {rate_retries} retries ({_reason(exc)}): "
                        "lower --concurrency or wait for the quota to refill; finished labels are saved"
                    ) from None
                rate_retries += 1
                asked = retry_delay(exc.details)
                await pause(backoff(rate_retries) if asked is None else asked)
                continue
            except (self._errors.ServerError, httpx.TimeoutException) as exc:
                if server_retries == SERVER_RETRIES:
                    what = f"server error {exc.code} ({_reason(exc)})" if hasattr(exc, "code") else "request timed out"
                    return None, f"Gemini {what} on {server_retries + 1} attempts"
                server_retries += 1
                await pause(backoff(server_retries))
                continue
            except httpx.TransportError as exc:
                raise GeminiError(
                    f"cannot reach Gemini at {self.base_url} ({type(exc).__name__}): check the network "
                    f"or {BASE_URL_VARIABLE}"
                ) from None
            spent.add(response.usage_metadata)
            return response, ""

    def _rejected(self, exc: Any) -> str:
        """One line for a 4xx that retrying cannot fix (bad key, unknown model, bad request)."""
        reason = _reason(exc)
        if exc.code == 404:
            return f"Gemini has no model {self.model!r} ({reason}): pass --teacher gemini:<model>, e.g. {DEFAULT_MODEL}"
        if exc.code in (401, 403) or "API key" in reason:
            return f"Gemini rejected the API key ({reason}): check GEMINI_API_KEY"
        return f"Gemini rejected the request ({exc.code}: {reason})"


@dataclass
class _Spent:
    """What one item's attempts cost so far: every attempt is billed, valid or not."""

    attempts: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, usage: Any) -> None:
        """Count a response's token usage; thinking tokens are billed as output, so they count as completion."""
        if usage is None:
            return
        self.prompt_tokens += usage.prompt_token_count or 0
        self.completion_tokens += (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)

    def result(
        self, formatted_input: str, label: dict[str, Any] | None, raw: str, error: str | None, model: str
    ) -> TeacherResult:
        """The item's result with these costs attached."""
        return TeacherResult(
            formatted_input, label, raw, error, model, self.prompt_tokens, self.completion_tokens, self.attempts
        )


def _reason(exc: Any) -> str:
    """The server's message of an SDK error, on one line."""
    text = exc.message or exc.status or str(exc.code)
    return " ".join(str(text).split())


def _finish_reason(response: Any) -> str:
    """Why an answer carries no text (SAFETY, MAX_TOKENS, ...), for the failure message."""
    candidates = response.candidates or []
    reason = candidates[0].finish_reason if candidates else None
    return str(getattr(reason, "value", reason) or "none")
