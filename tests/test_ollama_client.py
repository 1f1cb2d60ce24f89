"""The Ollama provider through the real `ollama` client against the loopback Ollama double."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from doubles.loopback import closed_url
from doubles.ollama_double import DEFAULT_DIGEST, OllamaDouble, Reply, sequence
from doubles.ollama_output import label_for

from hcap_tui.models import alabel, label_many
from hcap_tui.models import label as label_one
from hcap_tui.models.base import ModelError as OllamaError
from hcap_tui.models.base import ModelMissing, ServerBusy
from hcap_tui.models.base import RequestTimeout as OllamaTimeout
from hcap_tui.models.base import ServerUnreachable as OllamaUnreachable
from hcap_tui.models.confidence import signal_confidence
from hcap_tui.models.ollama import OllamaLabeller as LocalModel
from hcap_tui.schema import LabelSchema

MakeModel = Callable[..., LocalModel]
ITEM = "3rd of 12, involved in finish | [RACE]: Modest affair | [HORSE]: Denied clear run inside final furlong"


@pytest.fixture
def local(schema: LabelSchema) -> Iterator[MakeModel]:
    """Make LocalModels of the default schema (`flat-hcap` unless told) and close them after the test."""
    made: list[LocalModel] = []

    def make(host: str | None, model: str = "flat-hcap", **options: Any) -> LocalModel:
        made.append(LocalModel(model, schema, host=host, **options))
        return made[-1]

    yield make
    for model in made:
        model.close()


def good(schema: LabelSchema, text: str = ITEM) -> str:
    """The valid label text the double would produce for `text`."""
    return json.dumps(label_for(text, schema.json_schema()))


def test_a_valid_answer_is_a_validated_label_in_schema_order(
    ollama: OllamaDouble, schema: LabelSchema, local: MakeModel
) -> None:
    model = local(ollama.url)
    assert model.check() == DEFAULT_DIGEST
    prediction = label_one(model, ITEM)
    assert prediction.ok and prediction.error is None and prediction.attempts == 1
    assert prediction.label == label_for(ITEM, schema.json_schema())
    assert list(prediction.label) == list(schema.names)
    assert prediction.digest == DEFAULT_DIGEST and prediction.model == "flat-hcap"
    assert prediction.prompt_tokens and prediction.completion_tokens and prediction.latency_ms > 0
    assert prediction.confidence is None


def test_the_request_is_one_user_message_with_the_schema_as_format(
    ollama: OllamaDouble, schema: LabelSchema, local: MakeModel
) -> None:
    label_one(local(ollama.url, max_tokens=300, keep_alive="5m"), ITEM)
    (request,) = ollama.requests
    assert request["messages"] == [{"role": "user", "content": ITEM}]
    assert request["format"] == schema.json_schema()
    assert list(request["format"]["properties"]) == list(schema.names)
    assert request["options"] == {"temperature": 0.0, "num_predict": 300}
    assert request["keep_alive"] == "5m" and request["stream"] is False
    assert "logprobs" not in request


def test_a_system_prompt_goes_first_only_when_given(ollama: OllamaDouble, local: MakeModel) -> None:
    label_one(local(ollama.url, system="Label carefully."), ITEM)
    assert ollama.requests[0]["messages"] == [
        {"role": "system", "content": "Label carefully."},
        {"role": "user", "content": ITEM},
    ]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(content='{"in_form": true, "out_of'), "not valid JSON"),
        (Reply(content='{"in_form": "false"}'), "in_form: expected true or false, got 'false'"),
        (Reply(content='{"in_form": tr', done_reason="length"), "cut off at num_predict=512"),
    ],
    ids=["malformed", "wrongly-typed", "truncated"],
)
def test_a_bad_output_is_retried_once_then_failed_with_raw_text(reply: Reply, reason: str, local: MakeModel) -> None:
    with OllamaDouble(reply=lambda _body: reply) as double:
        prediction = label_one(local(double.url), ITEM)
        assert len(double.requests) == 2
    assert not prediction.ok and prediction.label is None and prediction.attempts == 2
    assert prediction.raw == reply.content
    assert reason in (prediction.error or "")


def test_output_cut_off_by_num_predict_fails(ollama: OllamaDouble, schema: LabelSchema, local: MakeModel) -> None:
    prediction = label_one(local(ollama.url, max_tokens=8), ITEM)
    assert not prediction.ok and "num_predict=8" in (prediction.error or "")
    assert prediction.raw and good(schema).startswith(prediction.raw)


def test_a_retry_that_succeeds_gives_the_label(schema: LabelSchema, local: MakeModel) -> None:
    with OllamaDouble(reply=sequence(Reply(content="not json"))) as double:
        prediction = label_one(local(double.url), ITEM)
    assert prediction.ok and prediction.attempts == 2 and prediction.raw == good(schema)


def test_a_missing_model_says_how_to_import_it(ollama: OllamaDouble, local: MakeModel) -> None:
    model = local(ollama.url, model="flat-hcap:r9")
    with pytest.raises(ModelMissing, match=r"hcap model import PATH\.gguf.*ollama create"):
        model.check()
    with pytest.raises(ModelMissing):
        label_one(model, ITEM)  # the server's own 404
    assert len(ollama.requests) == 1


def test_a_server_that_is_down_names_the_host_and_the_fix(local: MakeModel) -> None:
    url = closed_url()
    model = local(url)
    with pytest.raises(OllamaUnreachable) as caught:
        model.check()
    assert str(caught.value) == f"cannot reach Ollama at {url}: start it with `ollama serve`, or point hcap at it with --host or OLLAMA_HOST"
    with pytest.raises(OllamaUnreachable):
        label_one(model, ITEM)


def test_busy_is_retried_after_a_pause(local: MakeModel) -> None:
    busy = Reply(status=503, error="server busy, please try again.  maximum pending requests exceeded")
    with OllamaDouble(reply=sequence(busy, busy)) as double:
        prediction = label_one(local(double.url), ITEM)
        assert len(double.requests) == 3
    assert prediction.ok


def test_busy_for_good_raises_server_busy(local: MakeModel) -> None:
    with (
        OllamaDouble(reply=lambda _body: Reply(status=503, error="server busy")) as double,
        pytest.raises(ServerBusy, match="OLLAMA_MAX_QUEUE"),
    ):
        label_one(local(double.url), ITEM)
    assert len(double.requests) == 4  # the first try and one per back-off pause


def test_a_slow_answer_past_the_timeout_raises_with_the_fix(local: MakeModel) -> None:
    with (
        OllamaDouble(reply=lambda _body: Reply(delay=2.0)) as double,
        pytest.raises(OllamaTimeout, match=r"within 0\.2 s: raise it with --timeout or timeout_s"),
    ):
        label_one(local(double.url, timeout=0.2), ITEM)


def test_other_server_errors_are_one_line(local: MakeModel) -> None:
    with (
        OllamaDouble(reply=lambda _body: Reply(status=500, error="llama runner process has terminated")) as double,
        pytest.raises(OllamaError, match="answered 500: llama runner process has terminated"),
    ):
        label_one(local(double.url), ITEM)


def test_ollama_host_is_honoured(ollama: OllamaDouble, monkeypatch: pytest.MonkeyPatch, local: MakeModel) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    model = local(None)
    assert model.host == ollama.url and label_one(model, ITEM).ok


def test_the_server_version_is_read_from_a_host_written_without_scheme(
    ollama: OllamaDouble, monkeypatch: pytest.MonkeyPatch, local: MakeModel
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url.removeprefix("http://"))  # as users often write it: 127.0.0.1:PORT
    assert local(None).server_version() == "0.13.0"


def test_confidence_comes_from_the_value_tokens(ollama: OllamaDouble, schema: LabelSchema, local: MakeModel) -> None:
    prediction = label_one(local(ollama.url, logprobs=True), ITEM)
    assert ollama.requests[0]["logprobs"] is True and ollama.requests[0]["top_logprobs"] == 5
    assert prediction.confidence == {f.name: 0.9 for f in schema.booleans} | {f.name: 0.7 for f in schema.enums}


def test_confidence_reads_the_first_token_of_a_split_enum_value(schema: LabelSchema, local: MakeModel) -> None:
    label = label_for(ITEM, schema.json_schema()) | {"race_strength": "no_signal"}
    text = json.dumps(label)
    at = text.index('"no_signal"') + 1
    pieces = [text[:at], "no", "_signal", text[at + len("no_signal") :]]
    logprobs = [{"token": p, "logprob": math.log(0.6 if p == "no" else 0.99)} for p in pieces]
    with OllamaDouble(reply=lambda _body: Reply(content=text, logprobs=logprobs)) as double:
        prediction = label_one(local(double.url, logprobs=True), ITEM)
    assert prediction.confidence is not None and prediction.confidence["race_strength"] == 0.6


def test_no_logprobs_from_the_server_leaves_confidence_unset(local: MakeModel) -> None:
    with OllamaDouble(reply=lambda _body: Reply(logprobs=[])) as double:
        prediction = label_one(local(double.url, logprobs=True), ITEM)
    assert prediction.ok and prediction.confidence is None


def test_tokens_that_stop_matching_the_text_drop_only_later_fields(schema: LabelSchema) -> None:
    text = json.dumps(label_for(ITEM, schema.json_schema()))
    cut = text.index('"out_of_form"')
    entries = [SimpleNamespace(token=text[:cut], logprob=math.log(0.5)), SimpleNamespace(token="\ufffd", logprob=0.0)]
    assert signal_confidence(schema, text, entries) == {"in_form": 0.5}


def test_many_requests_overlap_up_to_the_concurrency(local: MakeModel) -> None:
    items = [f"{ITEM} {i}" for i in range(8)]
    with OllamaDouble(slots=4, reply=lambda _body: Reply(delay=0.1)) as double:
        results = [done.result for done in label_many(local(double.url), items, concurrency=4)]
        assert double.max_in_flight == 4
    assert sorted(p.formatted_input for p in results) == sorted(items) and all(p.ok for p in results)


def test_results_come_back_as_they_complete(local: MakeModel) -> None:
    items = ["slow one, a long comment here", "quick one, a long comment here"]

    def reply(body: dict) -> Reply:
        return Reply(delay=0.2 if body["messages"][0]["content"].startswith("slow") else 0.0)

    with OllamaDouble(slots=2, reply=reply) as double:
        results = [done.result for done in label_many(local(double.url), items, concurrency=2)]
    assert [p.formatted_input for p in results] == list(reversed(items))


def test_finished_results_are_yielded_before_a_server_error(local: MakeModel) -> None:
    items = ["fine one, a long comment here", "broken one, a long comment here"]

    def reply(body: dict) -> Reply:
        if body["messages"][0]["content"].startswith("broken"):
            return Reply(status=500, error="llama runner process has terminated", delay=0.2)
        return Reply()

    seen = []
    with OllamaDouble(slots=2, reply=reply) as double, pytest.raises(OllamaError, match="terminated"):
        for done in label_many(local(double.url), items, concurrency=2):
            seen.append(done.result.formatted_input)
    assert seen == [items[0]]


async def test_apredict_labels_inside_an_event_loop(
    ollama: OllamaDouble, schema: LabelSchema, local: MakeModel
) -> None:
    model = local(ollama.url)
    first, second = await asyncio.gather(alabel(model, ITEM), alabel(model, ITEM + " again"))
    await model.aclose()
    assert first.ok and second.ok and first.label == label_for(ITEM, schema.json_schema())
