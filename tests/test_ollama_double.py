"""The Ollama double speaks the documented API: the real client's pydantic models accept every body it sends."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import httpx
import ollama as ollama_lib
import pytest
from doubles.ollama_double import BUSY, DEFAULT_DIGEST, OllamaDouble, Reply
from doubles.ollama_output import label_for, tokens

from hcap_tui.schema import LabelSchema

MESSAGES = [{"role": "user", "content": "Won | [HORSE]: Made all, kept on gamely"}]


def test_streaming_chat_is_ndjson_ending_with_metrics(ollama: OllamaDouble, schema: LabelSchema) -> None:
    with ollama_lib.Client(host=ollama.url) as client:
        parts = list(client.chat("flat-hcap", MESSAGES, format=schema.json_schema(), stream=True, logprobs=True))
        text = "".join(p.message.content or "" for p in parts)
        assert text == client.chat("flat-hcap", MESSAGES, format=schema.json_schema()).message.content
        assert schema.parse(text) == label_for(MESSAGES[0]["content"], schema.json_schema())
        assert [p.done for p in parts] == [False] * (len(parts) - 1) + [True]
        assert parts[-1].done_reason == "stop" and parts[-1].eval_count == len(tokens(text)) == len(parts) - 1
        assert all(len(p.logprobs or []) == 1 for p in parts[:-1])


def test_tags_show_and_version_fit_the_client(ollama: OllamaDouble) -> None:
    with ollama_lib.Client(host=ollama.url) as client:
        (listed,) = client.list().models
        assert listed.model == "flat-hcap:latest" and listed.digest == DEFAULT_DIGEST
        assert listed.details is not None and listed.details.family == "llama"
        shown = client.show("flat-hcap")
        assert shown.modelinfo["general.architecture"] == "llama" and 'stop "<|eot_id|>"' in (shown.parameters or "")
        assert httpx.get(f"{ollama.url}/api/version").json() == {"version": "0.13.0"}
        with pytest.raises(ollama_lib.ResponseError) as caught:
            client.show("nope")
        assert caught.value.status_code == 404 and caught.value.error == "model 'nope' not found"


def test_blobs_create_copy_and_delete(ollama: OllamaDouble, tmp_path: Path) -> None:
    path = tmp_path / "m.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 64)
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    blob_url = f"{ollama.url}/api/blobs/{digest}"
    with ollama_lib.Client(host=ollama.url) as client:
        assert httpx.head(blob_url).status_code == 404
        assert client.create_blob(path) == digest
        assert httpx.head(blob_url).status_code == 200
        bad = httpx.post(f"{ollama.url}/api/blobs/sha256:{'0' * 64}", content=b"other")
        assert bad.status_code == 400 and "digest mismatch" in bad.json()["error"]
        progress = client.create("m:r1", files={"m.gguf": digest}, template="{{ .Prompt }}", stream=True)
        statuses = [p.status for p in progress]
        assert statuses[-1] == "success" and len(statuses) > 1
        assert client.copy("m:r1", "m").status == "success" and ollama.models["m:latest"] == ollama.models["m:r1"]
        assert client.delete("m:r1").status == "success" and "m:r1" not in ollama.models
        with pytest.raises(ollama_lib.ResponseError) as caught:
            client.create("x", files={"x.gguf": "sha256:" + "1" * 64})
    assert caught.value.status_code == 400


def test_requests_beyond_the_queue_are_turned_away_busy() -> None:
    with (
        OllamaDouble(slots=1, max_queue=1, reply=lambda _body: Reply(delay=0.3)) as double,
        ollama_lib.Client(host=double.url) as client,
    ):
        threads = [threading.Thread(target=client.chat, args=("flat-hcap", MESSAGES)) for _ in range(2)]
        for thread in threads:
            thread.start()
        while not (double.max_in_flight == 1 and double.queued == 1):  # one in the slot, one waiting
            time.sleep(0.005)
        with pytest.raises(ollama_lib.ResponseError) as caught:
            client.chat("flat-hcap", MESSAGES)
        for thread in threads:
            thread.join()
    assert caught.value.status_code == 503 and caught.value.error == BUSY and double.max_in_flight == 1
