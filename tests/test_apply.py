"""`hcap apply` end to end against the loopback doubles: lines on disk, resume, retries, refusals, tables, errors.

The real llama-server runs in tests/test_apply_engine.py (N lines, kill -9, batch round trip); here the
doubles script what a real server does only on a bad day, and count the requests that reach them.
"""

from __future__ import annotations

import csv
import json
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from doubles.loopback import closed_url
from doubles.ollama_double import DEFAULT_DIGEST, OllamaDouble
from doubles.ollama_output import label_for
from doubles.openai_double import Completion, OpenAIDouble, busy, user_text
from testdata import COLUMNS, ROWS, eligible_inputs, label, read_jsonl, write_comments, write_jsonl
from typer.testing import CliRunner

from hcap_tui.apply import run
from hcap_tui.apply.batch import custom_id
from hcap_tui.cli import app
from hcap_tui.schema import LabelSchema

MODEL = "openai:flat-hcap"
INPUTS = eligible_inputs()  # five eligible rows of six
PROVENANCE = ["model", "model_digest", "created_at"]


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of five eligible rows (and one too short to label)."""
    return write_comments(data_dir)


def apply(project: Path, *args: str, host: str | None = None):
    """Run `hcap apply` on the project against a server and return the result."""
    options = ["--model", MODEL, "--host", host] if host else []
    return CliRunner().invoke(app, ["apply", "--data-dir", str(project), *options, *args])


def failing_on(text: str) -> object:
    """A reply function answering `text` with output that is not a label, everything else with a valid one."""
    return lambda body: Completion(content="no label here") if user_text(body) == text else Completion()


def test_every_eligible_comment_gets_one_flat_line(project: Path, openai: OpenAIDouble, schema: LabelSchema) -> None:
    result = apply(project, "--concurrency", "2", host=openai.base_url)
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "signals.jsonl")
    assert sorted(r["formatted_input"] for r in records) == sorted(INPUTS)
    names = {row[5]: row for row in ROWS}
    for record in records:
        assert list(record) == ["formatted_input", "horse_name", *schema.names, *PROVENANCE]
        assert {k: record[k] for k in schema.names} == label_for(record["formatted_input"], schema.json_schema())
        assert record["horse_name"] in names and record["model"] == MODEL and record["model_digest"] is None
    assert len(openai.requests) == 5
    assert "5 labelled, 0 failed, 0 skipped" in result.stdout
    assert "labelling 5 of 5 eligible comments with openai:flat-hcap" in result.stderr


def test_a_rerun_skips_every_labelled_comment_without_asking_the_server(project: Path, openai: OpenAIDouble) -> None:
    assert apply(project, host=openai.base_url).exit_code == 0
    before = (project / "signals.jsonl").read_bytes()
    sent = len(openai.requests)
    result = apply(project, host=openai.base_url)
    assert result.exit_code == 0, result.output
    assert len(openai.requests) == sent  # not one chat request
    assert (project / "signals.jsonl").read_bytes() == before
    assert "0 labelled, 0 failed, 5 skipped" in result.stdout
    assert "nothing to label: the 5 eligible comments" in result.stderr


def test_failures_are_kept_then_retried_and_replaced_by_a_rerun(
    project: Path, schema: LabelSchema
) -> None:
    with OpenAIDouble(reply=failing_on(INPUTS[2])) as bad_day:
        first = apply(project, host=bad_day.base_url)
    assert first.exit_code == 1
    assert first.stderr.strip().splitlines()[-1].startswith("error: 1 failed (kept in signals.jsonl")
    failed = [r for r in read_jsonl(project / "signals.jsonl") if r.get("status") == "failed"]
    assert [r["formatted_input"] for r in failed] == [INPUTS[2]]
    assert failed[0]["raw"] == "no label here" and "invalid output" in failed[0]["error"]
    assert not set(schema.names) & set(failed[0])
    with OpenAIDouble() as good_day:
        second = apply(project, "--json", host=good_day.base_url)
        asked = [user_text(body) for body in good_day.requests]
    assert second.exit_code == 0, second.output
    assert asked == [INPUTS[2]]  # only the failure is asked again
    records = read_jsonl(project / "signals.jsonl")
    assert sorted(r["formatted_input"] for r in records) == sorted(INPUTS)  # one line each: the failed one is gone
    assert not [r for r in records if r.get("status") == "failed"]
    summary = json.loads(second.stdout)
    assert (summary["labelled"], summary["retried"], summary["skipped"], summary["replaced_lines"]) == (1, 1, 4, 1)


def test_lines_of_another_model_are_relabelled_and_replaced(project: Path, openai: OpenAIDouble,
                                                            schema: LabelSchema) -> None:
    write_jsonl(project / "signals.jsonl", [{"formatted_input": text, **label(), "model": "flat-hcap:r2",
                                             "model_digest": "sha256:0ld", "created_at": "2025-01-01"}
                                            for text in INPUTS[:3]])
    result = apply(project, "--json", host=openai.base_url)
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "signals.jsonl")
    assert sorted(r["formatted_input"] for r in records) == sorted(INPUTS)
    assert {r["model"] for r in records} == {MODEL}
    summary = json.loads(result.stdout)
    assert (summary["labelled"], summary["relabelled"], summary["replaced_lines"]) == (5, 3, 3)
    assert "3 labelled by another model (flat-hcap:r2) to relabel and replace" in result.stderr


def test_the_digest_decides_for_a_model_of_the_same_name(project: Path, schema: LabelSchema) -> None:
    old = [{"formatted_input": INPUTS[0], **label(), "model": "flat-hcap", "model_digest": "sha256:0ld",
            "created_at": "2025-01-01"}]
    same = [{"formatted_input": text, **label(), "model": "flat-hcap", "model_digest": DEFAULT_DIGEST,
             "created_at": "2025-01-01"} for text in INPUTS[1:]]
    write_jsonl(project / "signals.jsonl", old + same)
    with OllamaDouble() as ollama:
        result = CliRunner().invoke(app, ["apply", "--data-dir", str(project), "--host", ollama.url, "--json"])
        asked = [body["messages"][-1]["content"] for body in ollama.requests]
    assert result.exit_code == 0, result.output
    assert asked == [INPUTS[0]]  # the default model (flat-hcap in Ollama): only the line of other weights
    records = read_jsonl(project / "signals.jsonl")
    assert len(records) == 5 and {r["model_digest"] for r in records} == {DEFAULT_DIGEST}


def test_limit_labels_at_most_n_and_leaves_the_rest(project: Path, openai: OpenAIDouble) -> None:
    result = apply(project, "--limit", "2", "--json", host=openai.base_url)
    assert result.exit_code == 0, result.output
    assert [r["formatted_input"] for r in read_jsonl(project / "signals.jsonl")] == INPUTS[:2]
    summary = json.loads(result.stdout)
    assert (summary["labelled"], summary["left"], summary["to_label"]) == (2, 3, 2)


def test_the_json_summary(project: Path, openai: OpenAIDouble) -> None:
    result = apply(project, "--json", "--concurrency", "2", host=openai.base_url)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert set(summary) == {"output", "model", "model_digest", "eligible", "to_label", "labelled", "failed",
                            "skipped", "retried", "relabelled", "left", "repeated", "replaced_lines", "unreadable_lines", "elapsed_s",
                            "items_per_s", "stopped", "csv"}
    assert summary["output"] == str(project / "signals.jsonl") and summary["model"] == MODEL
    assert (summary["eligible"], summary["to_label"], summary["labelled"], summary["failed"]) == (5, 5, 5, 0)
    assert summary["elapsed_s"] > 0 and summary["items_per_s"] > 0 and summary["stopped"] is None


def test_format_csv_joins_the_input_rows_with_their_labels(project: Path, openai: OpenAIDouble,
                                                          schema: LabelSchema) -> None:
    with OpenAIDouble(reply=failing_on(INPUTS[1])) as double:
        result = apply(project, "--format", "csv", host=double.base_url)
    assert result.exit_code == 1  # one failed: it is in the table too, with its reason
    with (project / "signals.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["formatted_input"] for row in rows] == INPUTS  # the input's order, eligible rows only
    for row, source in zip(rows, [r for r in ROWS if r[0] != "Too short"]):
        assert [row[c] for c in COLUMNS] == list(source)  # every input column as it was
    expected = label_for(INPUTS[0], schema.json_schema())
    assert [rows[0][name] for name in schema.names] == [
        ("true" if v else "false") if isinstance(v, bool) else v for v in expected.values()
    ]
    assert rows[1]["status"] == "failed" and rows[1]["error"] and rows[1][schema.names[0]] == ""
    assert rows[0]["model"] == MODEL and rows[0]["status"] == ""
    assert "table: " in result.stdout


def test_a_csv_column_named_like_an_hcap_field_is_kept_under_a_prefix(data_dir: Path, openai: OpenAIDouble,
                                                                      schema: LabelSchema) -> None:
    reasoning = schema.texts[0].name
    with (data_dir / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*COLUMNS, "model", reasoning])
        writer.writerow([*ROWS[0], "their model", "their notes"])
    result = apply(data_dir, host=openai.base_url)
    assert result.exit_code == 0, result.output
    [record] = read_jsonl(data_dir / "signals.jsonl")
    assert record["csv_model"] == "their model" and record[f"csv_{reasoning}"] == "their notes"
    assert record["model"] == MODEL and record[reasoning] != "their notes"
    assert "column 'model' is written as 'csv_model'" in result.stderr


def test_a_stopped_server_is_one_error_line_and_writes_nothing(project: Path) -> None:
    url = closed_url() + "/v1"
    result = apply(project, host=url)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot reach the OpenAI-compatible server at {url}")
    assert result.stderr.count("\n") == 1 and not (project / "signals.jsonl").exists()


def test_a_model_the_server_lacks_is_one_error_line(project: Path, openai: OpenAIDouble) -> None:
    result = CliRunner().invoke(app, ["apply", "--data-dir", str(project), "--model", "openai:other",
                                      "--host", openai.base_url])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: the server at {openai.base_url} serves 'flat-hcap', not 'other'")
    assert result.stderr.count("\n") == 1


def test_a_server_that_stays_busy_stops_the_run_keeping_what_was_saved(project: Path) -> None:
    replies = iter([Completion(), Completion()])
    with OpenAIDouble(reply=lambda _body: next(replies, busy())) as double:
        result = apply(project, "--json", host=double.base_url)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: the server at")
    assert "stayed busy (503" in result.stderr
    assert "stopped: 2 results saved in" in result.stderr
    assert len(read_jsonl(project / "signals.jsonl")) == 2
    summary = json.loads(result.stdout)
    assert summary["labelled"] == 2 and "stayed busy" in summary["stopped"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--csv", "missing.csv"], "missing.csv not found: put your comments.csv there, or name it with --csv"),
        (["--out", "no-such-folder/signals.jsonl"], "no-such-folder is not a folder"),
        (["--out", "."], "is a folder: name a file with --out"),
        (["--out", "/proc/signals.jsonl"], "error: cannot write"),  # a folder no one may write in, root included
        (["--model", "openai:flat-hcap", "--write-batch", "r.jsonl", "--read-batch", "s.jsonl"], None),
    ],
)
def test_bad_inputs_are_one_error_line(project: Path, openai: OpenAIDouble, args: list[str],
                                       expected: str | None) -> None:
    result = CliRunner().invoke(app, ["apply", "--data-dir", str(project), "--host", openai.base_url, *args])
    if expected is None:  # a usage error
        assert result.exit_code == 2 and "write requests or read results, not both" in result.stderr
        return
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and expected in result.stderr and result.stderr.count("\n") == 1
    assert openai.requests == [] and not (project / "signals.jsonl").exists()


# As a terminal starts a command: Ctrl-C not ignored, however the suite itself was started (a shell script's
# background job, say, inherits SIGINT ignored, and so would every process it starts).
IN_A_TERMINAL = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "


def hcap_process(project: Path, host: str, *args: str) -> subprocess.Popen[str]:
    """`hcap apply` in its own process, as a user's second terminal runs it."""
    command = [sys.executable, "-c", IN_A_TERMINAL + "from hcap_tui.cli import main; main()", "apply", "--data-dir",
               str(project), "--model", MODEL, "--host", host, *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def first_answered_rest_held(first: str) -> Callable[[dict], Completion]:
    """Replies answering the comment `first` at once and every other one only when the double stops: a run is
    always mid-request once `first`'s line is written."""
    return lambda body: Completion(delay=0 if user_text(body) == first else 60)


def wait_for(condition, timeout: float = 30.0) -> None:
    """Poll until `condition()` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_a_second_run_on_the_same_output_is_refused_and_sends_nothing(project: Path) -> None:
    lock = project / ".signals.jsonl.run"
    released = threading.Event()  # the first run's answers wait for it, so that run is still going however slow CI is

    def held(_body: dict) -> Completion:
        released.wait(30)
        return Completion()

    with OpenAIDouble(reply=held) as slow, OpenAIDouble() as other:
        first = hcap_process(project, slow.base_url)
        try:
            wait_for(lambda: lock.exists() and lock.read_text())
            second = apply(project, host=other.base_url)
        finally:
            released.set()
            _, err = first.communicate(timeout=60)
        assert other.requests == [] and other.headers == []  # refused before it asked the server anything
    assert second.exit_code == 1
    assert second.stderr.count("\n") == 1
    assert second.stderr.startswith(f"error: {project / 'signals.jsonl'} is being written by another run "
                                    f"(hcap apply, pid {first.pid} on ")
    assert "raise --concurrency" in second.stderr
    assert first.returncode == 0, err
    records = read_jsonl(project / "signals.jsonl")
    assert sorted(r["formatted_input"] for r in records) == sorted(INPUTS)


def test_write_batch_holds_exactly_the_live_request_bodies(project: Path, openai: OpenAIDouble) -> None:
    result = apply(project, "--model", MODEL, "--write-batch", "requests.jsonl", "--limit", "3")
    assert result.exit_code == 0, result.output
    requests = read_jsonl(Path("requests.jsonl"))
    assert [r["body"]["messages"][-1]["content"] for r in requests] == INPUTS[:3]
    assert all(set(r) == {"custom_id", "method", "url", "body"} for r in requests)
    assert all(r["method"] == "POST" and r["url"] == "/v1/chat/completions" for r in requests)
    assert len({r["custom_id"] for r in requests}) == 3
    assert apply(project, "--limit", "3", host=openai.base_url).exit_code == 0
    assert [r["body"] for r in requests] == openai.requests  # byte for byte what a live call sends
    again = apply(project, "--model", MODEL, "--write-batch", "requests.jsonl", "--json")
    assert json.loads(again.stdout)["requests"] == 2 and json.loads(again.stdout)["skipped"] == 3
    assert [r["body"]["messages"][-1]["content"] for r in read_jsonl(Path("requests.jsonl"))] == INPUTS[3:]


def test_write_batch_needs_an_openai_model(project: Path) -> None:
    result = CliRunner().invoke(app, ["apply", "--data-dir", str(project), "--write-batch", "r.jsonl"])
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: ollama:flat-hcap cannot be used through a batch file")
    assert not Path("r.jsonl").exists()


def result_line(custom_id: str, content: str | None = None, *, status: int = 200, error: dict | None = None,
                schema: LabelSchema | None = None, text: str = "") -> dict:
    """One line of an OpenAI batch output file."""
    if content is None and schema is not None:
        content = json.dumps(label_for(text, schema.json_schema()))
    body = {"id": "chatcmpl-1", "object": "chat.completion", "model": "flat-hcap",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30}}
    response = {"status_code": status, "request_id": f"req-{custom_id}", "body": None if error else body}
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": response, "error": error}


def test_read_batch_writes_valid_answers_and_reports_every_other_line(project: Path, openai: OpenAIDouble,
                                                                      schema: LabelSchema) -> None:
    assert apply(project, "--limit", "1", host=openai.base_url).exit_code == 0  # the first comment is labelled
    assert apply(project, "--model", MODEL, "--write-batch", "requests.jsonl").exit_code == 0
    ids = {r["body"]["messages"][-1]["content"]: r["custom_id"] for r in read_jsonl(Path("requests.jsonl"))}
    first = custom_id(INPUTS[0])
    lines = [
        result_line(ids[INPUTS[1]], schema=schema, text=INPUTS[1]),
        result_line(ids[INPUTS[2]], "not json"),
        result_line(ids[INPUTS[3]], status=500,  # vLLM's shape of an error
                    error={"error": {"message": "engine died", "type": "InternalServerError", "code": 500}}),
        result_line("hcap-unknown", schema=schema, text="x"),
        result_line(ids[INPUTS[1]], schema=schema, text=INPUTS[1]),  # the same id again
        result_line(first, schema=schema, text=INPUTS[0]),  # a comment already labelled
    ]
    write_jsonl(Path("results.jsonl"), lines)
    result = apply(project, "--model", MODEL, "--read-batch", "results.jsonl", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["lines"], summary["labelled"], summary["failed"]) == (6, 1, 2)
    assert summary["invalid_ids"] == [ids[INPUTS[2]], ids[INPUTS[3]]]
    assert summary["unknown_ids"] == ["hcap-unknown"]
    assert sorted(summary["duplicate_ids"]) == sorted([ids[INPUTS[1]], first])
    records = {r["formatted_input"]: r for r in read_jsonl(project / "signals.jsonl")}
    assert set(records) == set(INPUTS[:4])
    assert {k: records[INPUTS[1]][k] for k in schema.names} == label_for(INPUTS[1], schema.json_schema())
    assert records[INPUTS[2]]["status"] == "failed" and records[INPUTS[2]]["raw"] == "not json"
    assert "invalid output" in records[INPUTS[2]]["error"]
    assert records[INPUTS[3]]["error"] == "the batch request failed: 500: engine died"
    error = result.stderr.strip().splitlines()[-1]
    assert error == ("error: 2 failed (kept in signals.jsonl; a live rerun retries them); 1 custom_ids match no "
                     "eligible comment in comments.csv (results of another CSV?); 2 duplicates not written (an id "
                     "given twice, or a comment already labelled)")


def test_a_malformed_results_line_is_one_error_line_and_writes_nothing(project: Path, schema: LabelSchema) -> None:
    write_jsonl(Path("results.jsonl"), [result_line("hcap-a", schema=schema, text=INPUTS[0])], extra="{oops\n")
    result = apply(project, "--model", MODEL, "--read-batch", "results.jsonl")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: results.jsonl line 2: not valid JSON")
    assert "nothing was written" in result.stderr and not (project / "signals.jsonl").exists()
    write_jsonl(Path("results.jsonl"), [{"response": {}}])
    result = apply(project, "--model", MODEL, "--read-batch", "results.jsonl")
    assert result.exit_code == 1 and "results.jsonl line 1 is not a batch result" in result.stderr


def test_a_model_failing_every_comment_stops_the_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "FAILED_IN_A_ROW", 3)
    with OpenAIDouble(reply=lambda _body: Completion(content="{}")) as double:
        result = apply(project, host=double.base_url)
    assert result.exit_code == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: the last 3 comments all failed (output does not match the label schema")
    records = read_jsonl(project / "signals.jsonl")
    assert len(records) == 3 and all(r["status"] == "failed" for r in records)  # kept, retried by the next run


def test_a_comment_the_server_cannot_answer_fails_alone(project: Path) -> None:
    broken = Completion(status=500, error="The model produced output that does not match the expected format")
    with OpenAIDouble(reply=lambda body: broken if user_text(body) == INPUTS[1] else Completion()) as double:
        result = apply(project, "--json", host=double.base_url)
    assert result.exit_code == 1 and "error: 1 failed (kept" in result.stderr
    assert json.loads(result.stdout)["labelled"] == 4
    [failed] = [r for r in read_jsonl(project / "signals.jsonl") if r.get("status") == "failed"]
    assert failed["formatted_input"] == INPUTS[1] and failed["error"].startswith("the server answered 500: The model")


def test_a_run_with_more_comments_than_it_holds_reads_the_csv_again(project: Path, openai: OpenAIDouble,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run, "HELD_AT_MOST", 2)
    result = apply(project, host=openai.base_url)
    assert result.exit_code == 0, result.output
    assert [user_text(body) for body in openai.requests] == INPUTS  # each once, in the CSV's order
    assert [r["formatted_input"] for r in read_jsonl(project / "signals.jsonl")] == INPUTS


def test_ctrl_c_keeps_every_finished_line_and_a_rerun_completes(project: Path) -> None:
    import signal

    output = project / "signals.jsonl"
    first_input = INPUTS[0]
    with OpenAIDouble(reply=first_answered_rest_held(first_input)) as slow:
        process = hcap_process(project, slow.base_url)
        wait_for(lambda: output.exists() and output.read_bytes().count(b"\n") >= 1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted: everything finished before Ctrl-C is saved"
    kept = read_jsonl(output)  # whole lines only
    assert [r["formatted_input"] for r in kept] == [first_input] and "1 result saved in" in err
    with OpenAIDouble() as double:
        rerun = apply(project, host=double.base_url)
        assert len(double.requests) == 5 - len(kept)
    assert rerun.exit_code == 0, rerun.output
    assert sorted(r["formatted_input"] for r in read_jsonl(output)) == sorted(INPUTS)


@pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64", reason="signals one thread with x86-64 Linux's tgkill"
)
def test_ctrl_c_handed_to_a_thread_other_than_the_main_one_still_stops_the_run(project: Path) -> None:
    """The system may deliver Ctrl-C to any thread of the process (the result writer's, say): the run stops at
    once all the same, not when the model's answer finally comes."""
    import ctypes
    import os
    import signal

    output = project / "signals.jsonl"
    first_input = INPUTS[0]
    with OpenAIDouble(reply=first_answered_rest_held(first_input)) as slow:
        process = hcap_process(project, slow.base_url)
        wait_for(lambda: len(slow.requests) >= 2 and output.exists() and output.read_bytes().count(b"\n") >= 1)
        threads = [int(tid) for tid in os.listdir(f"/proc/{process.pid}/task") if int(tid) != process.pid]
        assert threads, "the run has a thread besides the main one once it has written a result"
        tgkill = 234  # its syscall number on x86-64 Linux
        assert ctypes.CDLL(None, use_errno=True).syscall(tgkill, process.pid, threads[0], signal.SIGINT) == 0
        _, err = process.communicate(timeout=20)  # the held answer would take 60 s
    assert process.returncode == 130, err
    assert err.strip().splitlines()[-1] == "error: interrupted: everything finished before Ctrl-C is saved"
    assert [r["formatted_input"] for r in read_jsonl(output)] == [first_input]


def test_format_csv_with_nothing_labelled_writes_a_header_only_table(data_dir: Path, openai: OpenAIDouble) -> None:
    write_comments(data_dir, [ROWS[5]])  # the one row too short to label
    result = apply(data_dir, "--format", "csv", host=openai.base_url)
    assert result.exit_code == 0, result.output
    assert (data_dir / "signals.csv").read_text(encoding="utf-8").count("\n") == 1
    assert not (data_dir / "signals.jsonl").exists() and openai.requests == []
    assert "nothing to label: " in result.stderr and "has no eligible comment" in result.stderr


def test_unreadable_lines_of_the_output_are_named_and_kept(project: Path, openai: OpenAIDouble) -> None:
    write_jsonl(project / "signals.jsonl", [{"note": "the user's own line"}], extra='{"formatted_input": "torn')
    result = apply(project, "--json", host=openai.base_url)
    assert result.exit_code == 0, result.output
    assert "signals.jsonl line 1: no formatted_input (kept as it is)" in result.stderr
    assert "signals.jsonl line 2: incomplete last line (a write was interrupted) (kept as it is)" in result.stderr
    assert json.loads(result.stdout)["unreadable_lines"] == 2
    lines = (project / "signals.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ['{"note": "the user\'s own line"}', '{"formatted_input": "torn']  # the append began a new line
    assert sorted(json.loads(line)["formatted_input"] for line in lines[2:]) == sorted(INPUTS)
