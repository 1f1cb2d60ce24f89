"""The OpenAI-compatible provider over httpx against the loopback double: requests, keys, faults, confidence."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.loopback import closed_url
from doubles.ollama_output import label_for, logprobs_for, tokens
from doubles.openai_double import Completion, OpenAIDouble, busy, schema_of, sequence

import hcap_tui.models.base as model_base
from hcap_tui.config import open_project
from hcap_tui.errors import HcapError
from hcap_tui.models import ModelError, ModelMissing, ServerBusy, ServerUnreachable, label, label_many
from hcap_tui.models.openai import TOP_LOGPROBS, OpenAILabeller
from hcap_tui.models.registry import open_labeller, parse_model
from hcap_tui.schema import LabelSchema

ITEM = "3rd of 12, involved in finish | [RACE]: Modest affair | [HORSE]: Denied clear run inside final furlong"
KEY = "sk-test-9d1f0c77b2e4"


@pytest.fixture
def openai() -> Iterator[OpenAIDouble]:
    """A started double serving `flat-hcap` with one slot."""
    with OpenAIDouble() as double:
        yield double


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The busy back-off waits, recorded instead of slept."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(model_base, "pause", record)
    return recorded


def labeller(url: str, schema: LabelSchema, **options: Any) -> OpenAILabeller:
    """A labeller of `flat-hcap` at `url` (a base URL ending in /v1)."""
    return OpenAILabeller("flat-hcap", schema, host=url, **options)


def test_the_request_is_one_user_message_with_a_strict_schema(openai: OpenAIDouble, schema: LabelSchema) -> None:
    with labeller(openai.base_url, schema, max_tokens=300) as model:
        result = label(model, ITEM)
    (body,) = openai.requests
    assert body["messages"] == [{"role": "user", "content": ITEM}]
    assert body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "label", "strict": True, "schema": schema.json_schema()},
    }
    assert body["temperature"] == 0 and body["max_tokens"] == 300 and body["stream"] is False
    assert "logprobs" not in body and "authorization" not in openai.headers[0]
    assert result.ok and result.label == label_for(ITEM, schema.json_schema())
    assert result.prompt_tokens == len(tokens(ITEM)) and result.completion_tokens == len(tokens(result.raw))


def test_a_system_text_goes_first_and_logprobs_are_asked_for_when_wanted(
    openai: OpenAIDouble, schema: LabelSchema
) -> None:
    with labeller(openai.base_url, schema, system="Label carefully.", logprobs=True) as model:
        label(model, ITEM)
    body = openai.requests[0]
    assert body["messages"][0] == {"role": "system", "content": "Label carefully."}
    assert body["logprobs"] is True and body["top_logprobs"] == TOP_LOGPROBS


def test_the_key_from_the_environment_is_sent_as_a_bearer_token(
    schema: LabelSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with OpenAIDouble(api_key=KEY) as double, labeller(double.base_url, schema) as model:
        model.check()
        assert label(model, ITEM).ok
        assert {h["authorization"] for h in double.headers} == {f"Bearer {KEY}"}


def test_a_refused_key_is_one_line_naming_the_variable(schema: LabelSchema, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
    with (
        OpenAIDouble(api_key=KEY) as double,
        labeller(double.base_url, schema) as model,
        pytest.raises(ModelError, match=r"refused the request \(401: Invalid API Key\): check OPENAI_API_KEY"),
    ):
        model.check()


def test_a_model_the_server_does_not_list_names_those_it_does(schema: LabelSchema) -> None:
    with (
        OpenAIDouble(models=("tiny-llama",)) as double,
        labeller(double.base_url, schema) as model,
        pytest.raises(ModelMissing) as caught,
    ):
        model.check()
    message = str(caught.value)
    assert "serves 'tiny-llama', not 'flat-hcap'" in message and "--alias flat-hcap" in message
    assert "--served-model-name flat-hcap" in message and double.requests == []


def test_a_server_without_a_model_listing_is_asked_directly(schema: LabelSchema) -> None:
    with OpenAIDouble(listing=False) as double, labeller(double.base_url, schema) as model:
        assert model.check() is None
        assert label(model, ITEM).ok


def test_busy_answers_wait_for_retry_after_then_the_back_off(
    schema: LabelSchema, waits: list[float]
) -> None:
    with OpenAIDouble(reply=sequence(busy(429, retry_after="3"), busy(503))) as double:
        with labeller(double.base_url, schema) as model:
            assert label(model, ITEM).ok
        assert len(double.requests) == 3
    assert waits == [3.0, model_base.Labeller.busy_backoff[1]]


def test_busy_for_good_is_one_line(schema: LabelSchema, waits: list[float]) -> None:
    with (
        OpenAIDouble(reply=lambda _body: busy(429)) as double,
        labeller(double.base_url, schema) as model,
        pytest.raises(ServerBusy, match=r"busy \(429: Too many requests\) through every retry: lower --concurrency"),
    ):
        label(model, ITEM)
    assert len(double.requests) == 1 + len(waits)


def test_a_server_error_fails_that_item_with_its_reason(schema: LabelSchema) -> None:
    reply = Completion(status=500, error="The model produced output that does not match the expected format")
    with OpenAIDouble(reply=lambda _body: reply) as double, labeller(double.base_url, schema) as model:
        result = label(model, ITEM)
    assert not result.ok and result.attempts == 1 and len(double.requests) == 1
    assert result.error == "the server answered 500: The model produced output that does not match the expected format"


def test_a_gateway_error_stops_with_its_reason(schema: LabelSchema) -> None:
    reply = Completion(status=502, error="upstream replica gone")
    with (
        OpenAIDouble(reply=lambda _body: reply) as double,
        labeller(double.base_url, schema) as model,
        pytest.raises(ModelError, match=r"answered 502: upstream replica gone$"),
    ):
        label(model, ITEM)


def test_a_url_without_the_api_path_says_to_end_it_in_v1(schema: LabelSchema) -> None:
    with OpenAIDouble() as double, labeller(double.url, schema) as model:  # the root, not the /v1 base URL
        with pytest.raises(ModelError, match=r"no model 'flat-hcap' .*check --host ends in /v1"):
            label(model, ITEM)


def test_a_stopped_server_names_the_fix(schema: LabelSchema) -> None:
    url = closed_url() + "/v1"
    with labeller(url, schema) as model, pytest.raises(ServerUnreachable) as caught:
        model.check()
    assert str(caught.value).startswith(f"cannot reach the OpenAI-compatible server at {url}: start it")


def test_confidence_skips_the_stripped_lead_and_renormalises_over_allowed_values(schema: LabelSchema) -> None:
    """llama-server: content without the leading space its first token has, and alternatives from before
    the grammar mask (`{`, `maybe`) that the schema never allows at a value."""
    first = schema.booleans[0].name
    text = json.dumps(label_for(ITEM, schema.json_schema()) | {first: True})

    def reply(body: dict) -> Completion:
        entries = logprobs_for(" " + text, 0, schema_of(body))
        value = next(e for e in entries if e["token"].strip() == "true")
        value["logprob"] = math.log(0.3)
        value["top_logprobs"] = [{"token": t, "logprob": math.log(p)} for t, p in
                                 [(" true", 0.3), ("{", 0.4), (" false", 0.1), (" maybe", 0.15)]]
        return Completion(content=text, lead=" ", logprobs=entries)

    with OpenAIDouble(reply=reply) as double, labeller(double.base_url, schema, logprobs=True) as model:
        result = label(model, ITEM)
        assert double.requests[0]["logprobs"] is True
    assert result.ok and result.raw == text
    assert result.confidence is not None
    assert result.confidence[first] == 0.75  # 0.3 of the 0.4 the allowed values share
    assert set(result.confidence) == {f.name for f in schema.signals}


def test_an_unlisted_rival_is_counted_as_likely_as_the_least_listed_token(schema: LabelSchema) -> None:
    first = schema.booleans[0].name
    text = json.dumps(label_for(ITEM, schema.json_schema()) | {first: False})

    def reply(body: dict) -> Completion:
        entries = logprobs_for(text, 0, schema_of(body))
        value = next(e for e in entries if e["token"].strip() == "false")
        value["top_logprobs"] = [{"token": t, "logprob": math.log(p)} for t, p in [(" false", 0.6), ("\n", 0.2)]]
        value["logprob"] = math.log(0.6)
        return Completion(content=text, logprobs=entries)

    with OpenAIDouble(reply=reply) as double, labeller(double.base_url, schema, logprobs=True) as model:
        result = label(model, ITEM)
    assert result.confidence is not None and result.confidence[first] == 0.75  # 0.6 / (0.6 + 0.2)


def test_results_are_the_same_one_at_a_time_and_four_at_a_time(schema: LabelSchema) -> None:
    items = [f"{ITEM} {i}" for i in range(8)]
    with OpenAIDouble(slots=4, reply=lambda _body: Completion(delay=0.05)) as double:
        with labeller(double.base_url, schema) as model:
            one = {d.item: d.result.label for d in label_many(model, items, 1)}
            four = {d.item: d.result.label for d in label_many(model, items, 4)}
        assert double.max_in_flight == 4
    assert one == four and all(one.values())


def test_the_base_url_comes_from_the_option_the_setting_or_the_environment(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_model("openai:flat-hcap")
    with pytest.raises(ModelError, match=r"no server URL for an openai: model: pass --host http://127\.0\.0\.1:8080/v1"):
        open_labeller(spec, open_project(data_dir))
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert open_labeller(spec, open_project(data_dir)).host == "http://127.0.0.1:9/v1"
    (data_dir / "hcap.toml").write_text('openai_base_url = "http://127.0.0.1:8/v1"\n', encoding="utf-8")
    assert open_labeller(spec, open_project(data_dir)).host == "http://127.0.0.1:8/v1"
    assert open_labeller(spec, open_project(data_dir), host="localhost:7/v1").host == "http://localhost:7/v1"
    (data_dir / "hcap.toml").write_text('openai_base_url = "http://[::1/v1"\n', encoding="utf-8")
    with pytest.raises(HcapError, match=r"openai_base_url in .*hcap\.toml 'http://\[::1/v1' is not a server URL"):
        open_labeller(spec, open_project(data_dir))
