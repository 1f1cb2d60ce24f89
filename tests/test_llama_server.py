"""The real-engine fixture: the committed tiny GGUF, served by llama-server, answers like a flat-hcap model.

What these tests hold: the fixture file is the one its record describes; grammar-constrained answers are labels
hcap accepts; the server renders hcap's prompt template character for character and adds the single BOS itself
(train = serve, checked by llama.cpp's own template engine and tokenizer); the helper stops its server cleanly.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from engine.llama_server import TINY_GGUF, TINY_RECORD, LlamaServer

from hcap_tui.comments import CommentsFile
from hcap_tui.schema import LabelSchema
from hcap_tui.template import BOS_TOKEN, render_training_text

SAMPLE_COMMENTS = Path(__file__).resolve().parents[1] / "data" / "comments.csv"


@pytest.fixture(scope="module")
def prompts() -> list[str]:
    """Eight formatted_inputs from the bundled sample comments."""
    return [c.formatted_input for c in CommentsFile(SAMPLE_COMMENTS).random_sample(8, seed=11)]


def chat(server: LlamaServer, prompt: str, schema: LabelSchema, max_tokens: int = 400) -> dict:
    body = {
        "model": "flat-hcap",
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0,
        "max_tokens": max_tokens,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "label", "schema": schema.json_schema(), "strict": True},
        },
    }
    response = httpx.post(f"{server.openai_url}/chat/completions", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()["choices"][0]


def test_the_committed_fixtures_are_the_files_their_record_describes() -> None:
    record = json.loads(TINY_RECORD.read_text(encoding="utf-8"))
    data = TINY_GGUF.read_bytes()
    assert data[:4] == b"GGUF"
    assert record["file"] == TINY_GGUF.name and record["bytes"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["rebuild"] == "python scripts/build_tiny_model.py"
    folder = TINY_GGUF.parent / "tiny-llama3"
    assert record["base_folder"] == {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}
    assert {"config.json", "model.safetensors", "tokenizer.json", "chat_template.jinja"} <= set(record["base_folder"])


def test_served_answers_are_labels_of_the_label_schema(llama_server: LlamaServer, prompts, schema) -> None:
    models = httpx.get(f"{llama_server.openai_url}/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == ["flat-hcap"]
    for prompt in prompts:
        choice = chat(llama_server, prompt, schema)
        assert choice["finish_reason"] == "stop", choice
        label = schema.parse(choice["message"]["content"])  # raises on anything off-schema
        assert list(label) == list(schema.names)


def test_a_cut_off_answer_is_reported_as_length(llama_server: LlamaServer, prompts, schema) -> None:
    choice = chat(llama_server, prompts[0], schema, max_tokens=5)
    assert choice["finish_reason"] == "length"


def test_the_server_renders_hcap_template_and_adds_the_one_bos(llama_server: LlamaServer, prompts) -> None:
    with httpx.Client(base_url=llama_server.url, timeout=30) as client:
        for prompt in prompts:
            training_text = render_training_text(prompt, None)
            served = client.post("/apply-template", json={"messages": [{"role": "user", "content": prompt}]})
            assert BOS_TOKEN + served.json()["prompt"] == training_text

            # What the model reads when serving (template + the BOS the server adds) is, token for token,
            # what it was trained on (the training text with its literal BOS).
            serve_ids = client.post(
                "/tokenize", json={"content": served.json()["prompt"], "add_special": True, "parse_special": True}
            ).json()["tokens"]
            train_ids = client.post(
                "/tokenize", json={"content": training_text, "add_special": False, "parse_special": True}
            ).json()["tokens"]
            bos = client.post("/tokenize", json={"content": BOS_TOKEN, "parse_special": True}).json()["tokens"][-1]
            assert serve_ids == train_ids
            assert serve_ids[0] == bos and serve_ids.count(bos) == 1


def test_the_helper_stops_its_server_and_frees_the_port() -> None:
    pytest.importorskip("xllamacpp", reason="xllamacpp (in the test extra) runs the real llama.cpp server")
    server = LlamaServer(TINY_GGUF, parallel=1).start()
    url = server.url
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200

    assert server.stop() == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=5)
