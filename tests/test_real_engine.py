"""hcap's commands against a real engine: llama-server serving the tiny flat-hcap GGUF, as `openai:flat-hcap`.

The doubles check every fault a server can have; these check that hcap and a real llama.cpp engine agree on
everything in between: the grammar from hcap's schema, the answer shape, finish reasons, token counts and
log-probabilities (leading whitespace, alternatives from before the grammar mask).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from doubles.loopback import closed_url
from engine.llama_server import LlamaServer
from testdata import read_jsonl, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.comments import CommentsFile
from hcap_tui.config import open_project
from hcap_tui.models import label_many, student
from hcap_tui.predict import PredictionRun
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

SAMPLE_COMMENTS = Path(__file__).resolve().parents[1] / "data" / "comments.csv"
MODEL = "openai:flat-hcap"


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder holding the bundled sample comments."""
    shutil.copy(SAMPLE_COMMENTS, data_dir / "comments.csv")
    return data_dir


def hcap(project: Path, server: LlamaServer, command: str, *args: str):
    """Run an hcap command on the project against the server."""
    return CliRunner().invoke(app, [command, "--data-dir", str(project), "--host", server.openai_url, *args])


def test_predict_writes_valid_flat_lines(project: Path, llama_server: LlamaServer, schema: LabelSchema) -> None:
    result = hcap(project, llama_server, "predict", "--model", MODEL, "--count", "8", "--seed", "11",
                  "--concurrency", "4")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 8 and not [r for r in records if r.get("status") == "failed"]
    for record in records:
        schema.extract(record)
        assert list(record)[: len(schema.names) + 1] == ["formatted_input", *schema.names]
        assert record["model"] == MODEL and record["prompt_tokens"] > 0 and record["completion_tokens"] > 0
    assert "8 labelled, 0 failed" in result.stdout


def test_uncertain_predictions_carry_renormalised_confidences(
    project: Path, llama_server: LlamaServer, schema: LabelSchema
) -> None:
    result = hcap(project, llama_server, "predict", "--model", MODEL, "--strategy", "uncertain", "--count", "3",
                  "--pool-factor", "3", "--seed", "11", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 3
    for record in records:
        confidence = record["confidence"]
        assert list(confidence) == [f.name for f in schema.signals]
        assert all(0.0 < p <= 1.0 for p in confidence.values())
    assert "kept the 3 least confident of 9 predicted" in result.stdout


def test_an_openai_teacher_labels_into_labeled_jsonl(project: Path, llama_server: LlamaServer,
                                                     schema: LabelSchema) -> None:
    result = hcap(project, llama_server, "label", "--teacher", MODEL, "--count", "4", "--seed", "11",
                  "--concurrency", "4")
    records = read_jsonl(project / "labeled.jsonl")
    assert result.exit_code == 0, result.output
    assert len(records) == 4
    for record in records:
        schema.extract(record)
        assert record["teacher"] == "openai" and record["model"] == "flat-hcap"


def test_eval_scores_the_served_model(project: Path, llama_server: LlamaServer, schema: LabelSchema) -> None:
    held_out = CommentsFile(project / "comments.csv").random_sample(6, 5)
    reference = {name: False for name in (f.name for f in schema.booleans)}
    rows = [{"prompt": c.formatted_input,
             "completion": schema.dumps(reference | {"race_strength": "average", "reasoning": "Held-out item."})}
            for c in held_out]
    write_jsonl(project / "eval_data.jsonl", rows)
    result = hcap(project, llama_server, "eval", "--model", MODEL, "--json", "--concurrency", "4")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["n"] == 6 and data["model"]["failed"] == 0 and data["model_name"] == MODEL
    assert 0.0 <= data["model"]["exact_match"] <= 1.0
    assert read_jsonl(project / "evals.jsonl")[0]["n"] == 6


def test_a_tiny_output_limit_keeps_a_failed_line(project: Path, llama_server: LlamaServer,
                                                 schema: LabelSchema) -> None:
    opened = open_project(project)
    comments = CommentsFile(project / "comments.csv").random_sample(2, 11)
    with student(opened, MODEL, host=llama_server.openai_url) as model:
        model.max_tokens = 5
        run = PredictionRun(Store(opened.paths, schema), model, comments)
        results = list(run.run(concurrency=2))
    assert [r.attempts for r in results] == [2, 2]
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 2 and run.summary.failed == 2
    for record in records:
        assert record["status"] == "failed" and "cut off at max_tokens=5" in record["error"]
        assert record["raw"] and not set(schema.names) & set(record)


def test_concurrent_results_equal_sequential_ones(project: Path, llama_server: LlamaServer) -> None:
    opened = open_project(project)
    comments = CommentsFile(project / "comments.csv").random_sample(8, 11)
    with student(opened, MODEL, host=llama_server.openai_url, logprobs=True) as model:
        one = {d.item.formatted_input: d.result for d in label_many(model, comments, concurrency=1)}
        four = {d.item.formatted_input: d.result for d in label_many(model, comments, concurrency=4)}
    assert set(one) == set(four) and len(one) == 8
    assert {k: r.label for k, r in one.items()} == {k: r.label for k, r in four.items()}
    assert all(r.ok for r in one.values())
    for key, result in one.items():
        assert result.confidence == pytest.approx(four[key].confidence, abs=0.02)


def test_a_stopped_server_is_one_error_line(project: Path) -> None:
    url = closed_url() + "/v1"
    result = CliRunner().invoke(app, ["predict", "--data-dir", str(project), "--model", MODEL, "--host", url,
                                      "--seed", "11"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach the OpenAI-compatible server at {url}")
    assert result.stderr.count("\n") == 1 and not (project / "predictions.jsonl").exists()
