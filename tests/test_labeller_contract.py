"""One contract for every provider: the same inputs and failure cases against each server.

Each backend serves the model behind its real client path (the `ollama` client, plain httpx for an
OpenAI-compatible server, the google-genai SDK), opened through the registry as a run opens it. The loopback
doubles play generic scripted answers: a valid label, text that is not JSON, an answer cut off by the output
limit, a busy server, an answer trickled a byte at a time. A real llama-server (`openai:` over the tiny GGUF
fixture) runs the cases a real engine can: a valid label, a stopped server, a model it does not serve, and
concurrent results equal to sequential ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from doubles.gemini_double import GeminiDouble, GeminiReply, rate_limited
from doubles.gemini_double import sequence as gemini_sequence
from doubles.loopback import closed_url
from doubles.ollama_double import BUSY, OllamaDouble, Reply
from doubles.ollama_double import sequence as ollama_sequence
from doubles.openai_double import Completion, OpenAIDouble, busy
from doubles.openai_double import sequence as openai_sequence

import hcap_tui.models.gemini as gemini_provider
from hcap_tui.config import Project, open_project
from hcap_tui.models import Labeller, ModelError, ModelMissing, ModelSpec, RequestTimeout, label, label_many
from hcap_tui.models.registry import open_labeller
from hcap_tui.schema import LabelSchema

ITEM = "3rd of 12, involved in finish | [RACE]: Modest affair | [HORSE]: Denied clear run inside final furlong"
CUT = '{"in_form": tr'
MODELS = {"ollama": "flat-hcap", "openai": "flat-hcap", "gemini": "gemini-2.5-flash", "llama-server": "flat-hcap"}
BACKENDS = ["gemini", "llama-server", "ollama", "openai"]

# Generic answers, as each provider's double plays them.
SCRIPTS: dict[str, dict[str, Callable[[], Any]]] = {
    "ollama": {
        "label": Reply,
        "not-json": lambda: Reply(content="not json"),
        "cut-off": lambda: Reply(content=CUT, done_reason="length"),
        "busy": lambda: Reply(status=503, error=BUSY),
        "drip": lambda: Reply(drip=0.05),
    },
    "openai": {
        "label": Completion,
        "not-json": lambda: Completion(content="not json"),
        "cut-off": lambda: Completion(content=CUT, finish_reason="length"),
        "busy": busy,
        "drip": lambda: Completion(drip=0.05),
    },
    "gemini": {
        "label": GeminiReply,
        "not-json": lambda: GeminiReply(text="not json"),
        "cut-off": lambda: GeminiReply(text=CUT, finish_reason="MAX_TOKENS"),
        "busy": rate_limited,
    },
}


@pytest.fixture
def project(data_dir: Path) -> Project:
    """An empty project with the default schema."""
    return open_project(data_dir)


@pytest.fixture(autouse=True)
def quick_gemini_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gemini's rate-limit waits pass at once."""

    async def no_wait(_seconds: float) -> None:
        return None

    monkeypatch.setattr(gemini_provider, "pause", no_wait)


Serve = Callable[..., Any]


@pytest.fixture(params=BACKENDS)
def serve(request: pytest.FixtureRequest, project: Project, monkeypatch: pytest.MonkeyPatch) -> Serve:
    """`serve(*answers, slots=1, timeout=None, down=False)`: a labeller of this backend, its double playing `answers`
    (then valid labels); `down=True` points it at a port where nothing listens."""
    provider = request.param

    @contextmanager
    def running(*answers: str, slots: int = 1, timeout: float | None = None, down: bool = False,
                model: str | None = None) -> Iterator[Labeller]:
        if provider == "llama-server":
            if answers:
                pytest.skip("a real engine does not play scripted answers")
            url = closed_url() + "/v1" if down else request.getfixturevalue("llama_server").openai_url
            spec = ModelSpec("openai", model or MODELS[provider])
            with open_labeller(spec, project, host=url, timeout=timeout) as labeller:
                yield labeller
            return
        script = SCRIPTS[provider]
        if any(answer not in script for answer in answers):
            pytest.skip(f"the {provider} double has no {', '.join(answers)} answer")
        replies = [script[answer]() for answer in answers]
        spec = ModelSpec(provider, model or MODELS[provider])
        with _double(provider, replies, slots) as double:
            url = closed_url() if down else double.url
            if provider == "gemini":
                monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
                monkeypatch.setenv("GEMINI_API_KEY", double.api_key)
                host = None
            else:
                host = url + ("/v1" if provider == "openai" else "")
            with open_labeller(spec, project, host=host, timeout=timeout) as labeller:
                yield labeller

    running.provider = provider  # type: ignore[attr-defined]
    return running


def _double(provider: str, replies: list[Any], slots: int) -> Any:
    """A double of `provider` answering `replies` in turn, then valid labels."""
    if provider == "ollama":
        return OllamaDouble(reply=ollama_sequence(*replies), slots=slots)
    if provider == "openai":
        return OpenAIDouble(reply=openai_sequence(*replies), slots=slots)
    return GeminiDouble(reply=gemini_sequence(*replies))


def test_a_valid_answer_is_a_validated_label_in_schema_order(serve: Serve, schema: LabelSchema) -> None:
    with serve() as labeller:
        labeller.check()
        result = label(labeller, ITEM)
    assert result.ok and result.error is None and result.attempts == 1
    assert list(result.label or {}) == list(schema.names)
    assert result.model == MODELS[serve.provider] and result.spec == labeller.spec
    assert result.prompt_tokens and result.completion_tokens and result.latency_ms > 0


def test_one_bad_output_is_asked_for_again(serve: Serve) -> None:
    with serve("not-json") as labeller:
        result = label(labeller, ITEM)
    assert result.ok and result.attempts == 2


@pytest.mark.parametrize(("answer", "reason"), [("not-json", "not valid JSON"), ("cut-off", "cut off")])
def test_a_bad_output_twice_is_a_failed_result_with_the_raw_text(serve: Serve, answer: str, reason: str) -> None:
    with serve(answer, answer) as labeller:
        result = label(labeller, ITEM)
    assert not result.ok and result.label is None and result.attempts == 2
    assert result.raw == ("not json" if answer == "not-json" else CUT)
    assert reason in (result.error or "")


def test_a_busy_server_is_waited_out(serve: Serve) -> None:
    with serve("busy", "busy") as labeller:
        result = label(labeller, ITEM)
    assert result.ok


def test_a_stopped_server_is_one_line_naming_it(serve: Serve) -> None:
    with serve(down=True) as labeller, pytest.raises(ModelError) as caught:
        labeller.check()
        label(labeller, ITEM)
    message = str(caught.value)
    assert "\n" not in message and labeller.host in message and "Traceback" not in message


def test_a_model_the_server_lacks_stops_before_any_item(serve: Serve) -> None:
    if serve.provider == "gemini":
        pytest.skip("Gemini is not asked about its models before the first request")
    with serve(model="flat-hcap:r99") as labeller, pytest.raises(ModelMissing, match="flat-hcap:r99"):
        labeller.check()


def test_concurrent_results_equal_sequential_ones(serve: Serve) -> None:
    items = [f"{ITEM}, runner {i}" for i in range(6)]
    with serve(slots=3) as labeller:
        one = {done.item: done.result.label for done in label_many(labeller, items, concurrency=1)}
        three = {done.item: done.result.label for done in label_many(labeller, items, concurrency=3)}
    assert one == three and len(one) == 6 and all(one.values())


def test_a_trickled_answer_stops_at_the_deadline(serve: Serve) -> None:
    with serve("drip", timeout=0.5) as labeller, pytest.raises(RequestTimeout, match=r"within 0\.5 s"):
        label(labeller, ITEM)


def test_an_input_with_a_lone_surrogate_is_labelled_under_its_own_text(serve: Serve) -> None:
    odd = ITEM + " \ud800 written by another tool"  # a JSON escape with no UTF-8 form, from some other file
    with serve() as labeller:
        result = label(labeller, odd)
    assert result.ok and result.formatted_input == odd
