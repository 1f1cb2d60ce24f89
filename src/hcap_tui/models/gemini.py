"""Gemini through the google-genai SDK with structured output: the only module that imports it.

The request carries the system text (the teacher's instructions) as system instruction and the label
schema as `response_schema` with an explicit property ordering, so keys come back in schema order. The
SDK's `.parsed` is silently None on bad output, so the text is validated above, like every provider's.
Waits are hcap's own (the SDK does none by default): rate limits (429) with the server's RetryInfo delay
when it gives one, server errors and timeouts a few times with exponential backoff, after which that item
fails and the run goes on. The API key comes only from the environment and is never written anywhere;
`GOOGLE_GEMINI_BASE_URL`, which the SDK honours, points it at a proxy or a local double. The SDK may talk
through httpx, its fork httpx2 or aiohttp; transport errors of each are caught as one.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from typing import Any

import httpx

from hcap_tui.models.base import Answer, ItemFailed, Labeller, ModelError
from hcap_tui.schema import LabelSchema

KEY_VARIABLES = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
BASE_URL_VARIABLE = "GOOGLE_GEMINI_BASE_URL"
DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
SERVER_RETRIES = 3  # for 5xx answers and timeouts
RATE_LIMIT_RETRIES = 8  # for 429 answers
BACKOFF_S = 1.0  # first wait after a server error or a 429 without RetryInfo; doubles each time
MAX_BACKOFF_S = 60.0
RETRY_INFO_TYPE = "type.googleapis.com/google.rpc.RetryInfo"
DEFAULT_MODEL = "gemini-2.5-flash"  # what a bare `--teacher gemini` means
pause = asyncio.sleep  # how retries wait; one name so tests can observe the delays without waiting them out


class GeminiError(ModelError):
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


def transport_errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """(timeouts, other transport failures) of every HTTP stack the SDK may use that is installed."""
    timeouts: list[type[BaseException]] = [TimeoutError, httpx.TimeoutException]
    failures: list[type[BaseException]] = [OSError, httpx.TransportError]
    for name in ("httpx2", "aiohttp"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        timeouts += [getattr(module, n) for n in ("TimeoutException", "ServerTimeoutError") if hasattr(module, n)]
        failures += [getattr(module, n) for n in ("TransportError", "ClientError") if hasattr(module, n)]
    return tuple(timeouts), tuple(failures)


class GeminiLabeller(Labeller):
    """Labels inputs with a Gemini model; each event loop gets its own SDK client."""

    provider = "gemini"

    def __init__(
        self,
        name: str,
        schema: LabelSchema,
        *,
        timeout: float = 120.0,
        system: str | None = None,
        logprobs: bool = False,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> None:
        try:
            from google import genai
            from google.genai import errors, types
        except ImportError:
            raise GeminiError("Gemini needs the google-genai package: pip install -e '.[gemini]'") from None
        super().__init__(
            name, schema, host=os.environ.get(BASE_URL_VARIABLE) or DEFAULT_BASE_URL, timeout=timeout,
            system=system, logprobs=logprobs, max_tokens=max_tokens,
        )
        self._genai, self._errors = genai, errors
        self._api_key = api_key_from_env()
        self._http_options = types.HttpOptions(timeout=int(timeout * 1000))
        self._config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=types.Schema.model_validate(response_schema_dict(schema)),
            temperature=temperature,
        )
        self._timeouts, self._transport = transport_errors()

    def _open_client(self) -> Any:
        return self._genai.Client(api_key=self._api_key, http_options=self._http_options)

    async def _close_client(self, client: Any) -> None:
        await client.aio.aclose()

    async def acheck(self) -> str | None:
        """Nothing to probe without spending a request: key and SDK were checked on construction."""
        return None

    async def ask(self, formatted_input: str) -> Answer:
        """One answer from Gemini, waiting out rate limits and retrying server errors and timeouts.

        Raises ItemFailed once server errors outlast the retries, GeminiError for what retrying cannot
        fix: a rejected request, an exhausted quota, no network.
        """
        server_retries = rate_retries = 0
        while True:
            try:
                async with asyncio.timeout(self.timeout):
                    response = await self.client().aio.models.generate_content(
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
            except (self._errors.ServerError, *self._timeouts) as exc:
                if server_retries == SERVER_RETRIES:
                    what = f"server error {exc.code} ({_reason(exc)})" if hasattr(exc, "code") else "request timed out"
                    raise ItemFailed(f"Gemini {what} on {server_retries + 1} attempts") from None
                server_retries += 1
                await pause(backoff(server_retries))
                continue
            except self._transport as exc:
                raise GeminiError(
                    f"cannot reach Gemini at {self.host} ({type(exc).__name__}: {_first_line(exc)}): check the "
                    f"network or {BASE_URL_VARIABLE}"
                ) from None
            return self._answer(response)

    def _answer(self, response: Any) -> Answer:
        """The text and billed tokens of a response; thinking tokens are billed as output, so they count too."""
        usage = response.usage_metadata
        prompt = completion = None
        if usage is not None:
            prompt = usage.prompt_token_count or 0
            completion = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        text = response.text or ""
        reason = _finish_reason(response)
        problem = None
        if reason == "MAX_TOKENS":
            problem = "output cut off by the model's output limit (finish reason MAX_TOKENS)"
        elif not text:
            problem = f"invalid output: no text (finish reason {reason})"
        return Answer(text=text, problem=problem, prompt_tokens=prompt, completion_tokens=completion)

    def _rejected(self, exc: Any) -> str:
        """One line for a 4xx that retrying cannot fix (bad key, unknown model, bad request)."""
        reason = _reason(exc)
        if exc.code == 404:
            return f"Gemini has no model {self.model!r} ({reason}): pass --teacher gemini:<model>, e.g. {DEFAULT_MODEL}"
        if exc.code in (401, 403) or "API key" in reason:
            return f"Gemini rejected the API key ({reason}): check GEMINI_API_KEY"
        return f"Gemini rejected the request ({exc.code}: {reason})"


def _reason(exc: Any) -> str:
    """The server's message of an SDK error, on one line."""
    text = exc.message or exc.status or str(exc.code)
    return " ".join(str(text).split())


def _first_line(exc: BaseException) -> str:
    """An exception's message on one line."""
    return " ".join(str(exc).split()) or "no detail"


def _finish_reason(response: Any) -> str:
    """Why an answer ended (STOP, SAFETY, MAX_TOKENS, ...)."""
    candidates = response.candidates or []
    reason = candidates[0].finish_reason if candidates else None
    return str(getattr(reason, "value", reason) or "none")
