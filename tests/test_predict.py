"""`hcap predict` end to end: the CLI, the real ollama client and the loopback Ollama double."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from doubles.loopback import closed_url
from doubles.ollama_double import DEFAULT_DIGEST, OllamaDouble, Reply, sequence
from doubles.ollama_output import label_for
from testdata import eligible_inputs, read_jsonl, write_comments
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

PROVENANCE = ["model", "model_digest", "created_at", "batch_id", "latency_ms", "prompt_tokens", "completion_tokens"]
INPUTS = eligible_inputs()  # five eligible rows, in file order


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of five eligible rows."""
    return write_comments(data_dir)


def predict(project: Path, *args: str):
    """Run `hcap predict` on the project and return the result."""
    return CliRunner().invoke(app, ["predict", "--data-dir", str(project), "--seed", "7", *args])


def content(body: dict) -> str:
    """The user message of a chat request."""
    return body["messages"][-1]["content"]


def test_labels_land_on_disk_flat_in_schema_order_with_provenance(
    project: Path, ollama: OllamaDouble, schema: LabelSchema
) -> None:
    result = predict(project, "--count", "3", "--host", ollama.url)
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "predictions.jsonl")
    assert len(records) == 3
    batch = records[0]["batch_id"]
    for record in records:
        assert list(record) == ["formatted_input", *schema.names, *PROVENANCE, "metadata"]
        assert {k: record[k] for k in schema.names} == label_for(record["formatted_input"], schema.json_schema())
        assert record["model"] == "flat-hcap" and record["model_digest"] == DEFAULT_DIGEST
        assert record["batch_id"] == batch and record["created_at"].endswith("+00:00")
        assert set(record["metadata"]) == {"horse_name"}
    assert {r["formatted_input"] for r in records} <= set(INPUTS)
    assert f"batch {batch}: 3 labelled, 0 failed" in result.stdout
    assert "race_strength" in result.stdout and "predicting" in result.stderr


def test_json_summary_counts_each_signal_value(project: Path, ollama: OllamaDouble, schema: LabelSchema) -> None:
    result = predict(project, "--count", "5", "--host", ollama.url, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    labels = [label_for(text, schema.json_schema()) for text in INPUTS]
    assert summary["done"] == 5 and summary["failed"] == 0 and summary["requested"] == 5
    positives = sum(label["in_form"] for label in labels)
    assert summary["counts"]["in_form"] == {k: v for k, v in {"true": positives, "false": 5 - positives}.items() if v}
    assert list(summary["counts"]) == [f.name for f in schema.signals]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (Reply(content='{"in_form": true,, }'), "not valid JSON"),
        (Reply(content=json.dumps({"in_form": "false"})), "in_form: expected true or false"),
        (Reply(content='{"in_form": false, "out_of_form": fal', done_reason="length"), "cut off"),
    ],
    ids=["malformed", "wrongly-typed", "truncated"],
)
def test_a_bad_output_is_retried_once_then_kept_as_a_failed_line(
    project: Path, schema: LabelSchema, bad: Reply, reason: str
) -> None:
    doomed = INPUTS[1]
    with OllamaDouble(reply=lambda body: bad if content(body) == doomed else Reply()) as double:
        result = predict(project, "--count", "5", "--host", double.url)
        assert [content(b) for b in double.requests].count(doomed) == 2
    assert result.exit_code == 1
    assert "error: 1 of 5 predictions failed (kept in predictions.jsonl for review)" in result.stderr
    records = {r["formatted_input"]: r for r in read_jsonl(project / "predictions.jsonl")}
    failed = records[doomed]
    assert failed["status"] == "failed" and reason in failed["error"] and failed["raw"] == bad.content
    assert not set(schema.names) & set(failed)
    assert list(failed)[:4] == ["formatted_input", "status", "error", "raw"]
    assert failed["model_digest"] == DEFAULT_DIGEST
    assert sum(1 for r in records.values() if r.get("status") != "failed") == 4


def test_a_missing_model_stops_before_anything_is_written(project: Path, ollama: OllamaDouble) -> None:
    result = predict(project, "--host", ollama.url, "--model", "flat-hcap:r4")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: model 'flat-hcap:r4' is not in Ollama")
    assert "hcap model import PATH.gguf" in result.stderr and "Traceback" not in result.output
    assert not (project / "predictions.jsonl").exists() and ollama.requests == []


def test_a_server_that_is_down_is_one_line(project: Path) -> None:
    url = closed_url()
    result = predict(project, "--host", url)
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot reach Ollama at {url}: start it with `ollama serve`, or point hcap at it with --host or OLLAMA_HOST\n"
    assert not (project / "predictions.jsonl").exists()


def test_busy_then_free_labels_everything(project: Path) -> None:
    busy = Reply(status=503, error="server busy, please try again.  maximum pending requests exceeded")
    with OllamaDouble(reply=sequence(busy, busy)) as double:
        result = predict(project, "--count", "2", "--host", double.url)
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(project / "predictions.jsonl")) == 2


def test_a_slow_server_past_the_timeout_stops_with_the_fix(project: Path) -> None:
    with OllamaDouble(reply=sequence(Reply(), Reply(delay=2.0))) as double:
        result = predict(project, "--count", "3", "--host", double.url, "--timeout", "0.3")
    assert result.exit_code == 1
    assert "did not answer within 0.3 s: raise it with --timeout" in result.stderr
    assert "1 of 3 predictions finished and are saved" in result.stderr
    assert len(read_jsonl(project / "predictions.jsonl")) == 1


def test_gold_and_pending_items_are_not_drawn_again(project: Path, ollama: OllamaDouble, schema: LabelSchema) -> None:
    gold, pending, old_style = INPUTS[0], INPUTS[1], INPUTS[2]
    label = label_for(gold, schema.json_schema())
    (project / "goldstandard.jsonl").write_text(json.dumps({"formatted_input": gold, **label}) + "\n")
    (project / "predictions.jsonl").write_text(
        json.dumps({"formatted_input": pending, "status": "failed", "error": "x", "raw": ""}) + "\n"
        + json.dumps({"prompt": old_style, "completion": schema.dumps(label)}) + "\n"
    )
    result = predict(project, "--count", "20", "--host", ollama.url)
    assert result.exit_code == 0, result.output
    assert sorted(content(b) for b in ollama.requests) == sorted(INPUTS[3:])
    records = read_jsonl(project / "predictions.jsonl")
    assert records[0]["formatted_input"] == pending and records[1]["prompt"] == old_style  # untouched
    assert len(records) == 4
    again = predict(project, "--host", ollama.url)
    assert again.exit_code == 0 and "nothing to predict" in again.stderr


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_ctrl_c_keeps_every_finished_line(project: Path, monkeypatch: pytest.MonkeyPatch, concurrency: str) -> None:
    real_append = Store.append
    calls = []

    def append_then_interrupt(self: Store, path: Path, records: list[dict]):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_append(self, path, records)

    monkeypatch.setattr(Store, "append", append_then_interrupt)
    with OllamaDouble(slots=3) as double:
        result = predict(project, "--count", "5", "--host", double.url, "--concurrency", concurrency)
    assert result.exit_code == 130
    assert "2 of 5 predictions finished and are saved" in result.stderr
    assert len(read_jsonl(project / "predictions.jsonl")) == 2


def test_a_killed_run_keeps_the_lines_it_finished(project: Path, schema: LabelSchema) -> None:
    hung = Reply(delay=30.0)
    with OllamaDouble(reply=sequence(Reply(), Reply(), hung, hung, hung)) as double:
        command = [sys.executable, "-c", "from hcap_tui.cli import main; main()", "predict", "--data-dir",
                   str(project), "--host", double.url, "--count", "5", "--seed", "7"]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            path = project / "predictions.jsonl"
            while len(double.requests) < 3 and process.poll() is None:  # the third request hangs in its slot
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            process.wait()
    records = read_jsonl(path)
    assert len(records) == 2 and all(list(r)[1 : len(schema.names) + 1] == list(schema.names) for r in records)
    assert {r["formatted_input"] for r in records} == {content(b) for b in double.requests[:2]}


def test_requests_really_overlap_with_concurrency(project: Path) -> None:
    with OllamaDouble(slots=4, reply=lambda _body: Reply(delay=0.1)) as double:
        result = predict(project, "--count", "5", "--host", double.url, "--concurrency", "4")
        assert double.max_in_flight == 4
    assert result.exit_code == 0 and len(read_jsonl(project / "predictions.jsonl")) == 5


def test_ollama_host_and_project_settings_are_honoured(
    project: Path, ollama: OllamaDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", ollama.url)
    result = predict(project)
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(project / "predictions.jsonl")) == 5  # predict_count 20, only five eligible
    with OllamaDouble(models={"other:7b": "sha256:" + "ef" * 32}) as other:
        (project / "hcap.toml").write_text(f'model = "other:7b"\npredict_count = 1\nollama_host = "{other.url}"\n')
        (project / "predictions.jsonl").unlink()
        result = predict(project)
        assert result.exit_code == 0, result.output
        assert [b["model"] for b in other.requests] == ["other:7b"]
    assert read_jsonl(project / "predictions.jsonl")[0]["model_digest"] == "sha256:" + "ef" * 32
