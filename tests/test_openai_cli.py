"""`hcap predict`, `hcap label` and `hcap eval` with `openai:` models, end to end against the loopback double."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from doubles.loopback import closed_url
from doubles.ollama_output import label_for
from doubles.openai_double import Completion, OpenAIDouble, user_text
from testdata import eligible_inputs, read_jsonl, write_comments, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema

KEY = "sk-test-4b8e21aa90cd"
INPUTS = eligible_inputs()


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of five eligible rows."""
    return write_comments(data_dir)


def hcap(project: Path, *args: str):
    """Run an hcap command on the project and return the result."""
    return CliRunner().invoke(app, [args[0], "--data-dir", str(project), *args[1:]])


def test_predict_writes_valid_lines_recording_the_provider(
    project: Path, openai: OpenAIDouble, schema: LabelSchema
) -> None:
    result = hcap(project, "predict", "--model", "openai:flat-hcap", "--host", openai.base_url, "--count", "4",
                  "--seed", "7", "--concurrency", "2")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 4 and all(r.get("status") != "failed" for r in records)
    for record in records:
        assert {k: record[k] for k in schema.names} == label_for(record["formatted_input"], schema.json_schema())
        assert record["model"] == "openai:flat-hcap" and record["completion_tokens"] > 0
    assert "batch " in result.stdout and "4 labelled, 0 failed" in result.stdout
    assert f"with openai:flat-hcap (unknown digest) at {openai.base_url}" in result.stderr


def test_uncertain_predictions_carry_confidence(project: Path, openai: OpenAIDouble, schema: LabelSchema) -> None:
    result = hcap(project, "predict", "--model", "openai:flat-hcap", "--host", openai.base_url, "--count", "2",
                  "--strategy", "uncertain", "--pool-factor", "2", "--seed", "7")
    assert result.exit_code == 0, result.output
    assert all(body["logprobs"] is True for body in openai.requests) and len(openai.requests) == 4
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 2
    for record in records:
        assert set(record["confidence"]) == {f.name for f in schema.signals}
        assert all(0 < p <= 1 for p in record["confidence"].values())


def test_the_base_url_setting_and_the_key_are_used_and_the_key_lands_nowhere(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    doomed = INPUTS[0]
    reply = lambda body: Completion(content="no label") if user_text(body) == doomed else Completion()
    with OpenAIDouble(api_key=KEY, reply=reply) as double:
        (project / "hcap.toml").write_text(
            f'model = "openai:flat-hcap"\nopenai_base_url = "{double.base_url}"\n', encoding="utf-8")
        result = hcap(project, "predict", "--count", "5", "--json")
        assert {h["authorization"] for h in double.headers} == {f"Bearer {KEY}"}
    assert result.exit_code == 1 and "1 of 5 predictions failed" in result.stderr
    [failed] = [r for r in read_jsonl(project / "predictions.jsonl") if r.get("status") == "failed"]
    assert failed["formatted_input"] == doomed and failed["raw"] == "no label"
    assert KEY not in result.output
    for path in (p for p in project.parent.rglob("*") if p.is_file()):
        assert KEY.encode() not in path.read_bytes(), path


def test_an_openai_teacher_labels_with_the_instructions(project: Path, openai: OpenAIDouble,
                                                        schema: LabelSchema) -> None:
    result = hcap(project, "label", "--teacher", "openai:flat-hcap", "--host", openai.base_url, "--count", "3",
                  "--seed", "7")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "labeled.jsonl")
    assert len(records) == 3
    assert all(r["teacher"] == "openai" and r["model"] == "flat-hcap" for r in records)
    system, user = openai.requests[0]["messages"]
    assert system["role"] == "system" and all(f.name in system["content"] for f in schema.fields)
    assert user["role"] == "user" and user["content"] in INPUTS
    assert "labeled 3 of 3 comments with openai:flat-hcap" in result.stdout
    assert "estimated cost: unknown" in result.stdout


def test_eval_scores_an_openai_model(project: Path, openai: OpenAIDouble, schema: LabelSchema) -> None:
    rows = [{"prompt": text, "completion": schema.dumps(label_for(text, schema.json_schema()))} for text in INPUTS]
    write_jsonl(project / "eval_data.jsonl", rows)
    result = CliRunner().invoke(app, ["eval", "--data-dir", str(project), "--model", "openai:flat-hcap", "--host",
                                      openai.base_url, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 5 and data["model"]["exact_match"] == 1.0 and data["model_name"] == "openai:flat-hcap"
    assert read_jsonl(project / "evals.jsonl")[0]["model"] == "openai:flat-hcap"


def test_a_stopped_server_is_one_error_line(project: Path) -> None:
    url = closed_url() + "/v1"
    for command in (["predict", "--model", "openai:flat-hcap"], ["label", "--teacher", "openai:flat-hcap"]):
        result = hcap(project, *command, "--host", url, "--seed", "7")
        assert result.exit_code == 1
        assert result.stderr.startswith(f"error: cannot reach the OpenAI-compatible server at {url}")
        assert result.stderr.count("\n") == 1
    assert not (project / "predictions.jsonl").exists() and not (project / "labeled.jsonl").exists()


def test_a_slow_answer_past_the_timeout_keeps_what_finished(project: Path) -> None:
    slow = {INPUTS[1], INPUTS[2], INPUTS[3], INPUTS[4]}
    reply = lambda body: Completion(delay=3.0) if user_text(body) in slow else Completion()
    with OpenAIDouble(reply=reply) as double:
        result = hcap(project, "predict", "--model", "openai:flat-hcap", "--host", double.base_url, "--count",
                      "5", "--timeout", "0.3", "--seed", "7")
    assert result.exit_code == 1
    assert "did not answer within 0.3 s: raise it with --timeout" in result.stderr
    assert len(read_jsonl(project / "predictions.jsonl")) <= 1
