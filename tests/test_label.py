"""`hcap label` end to end: the CLI, the real google-genai and ollama clients, and loopback doubles of both APIs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import testdata
from doubles.gemini_double import (
    TEST_KEY,
    GeminiDouble,
    GeminiReply,
    invalid_json,
    rate_limited,
    request_text,
    sequence,
    server_error,
)
from doubles.loopback import closed_url
from doubles.ollama_double import OllamaDouble, Reply
from testdata import eligible_inputs, read_jsonl, write_comments
from typer.testing import CliRunner

import hcap_tui.models.gemini as gemini_teacher
from hcap_tui.cli import app
from hcap_tui.config import open_project
from hcap_tui.models import label as label_one
from hcap_tui.models import parse_teacher, teacher
from hcap_tui.schema import LabelSchema
from hcap_tui.teacher_prompt import default_guidelines

ROWS = [*testdata.ROWS[:4], testdata.ROWS[-1]]  # four eligible rows and one too short to label
INPUTS = eligible_inputs(ROWS)
PROVENANCE = ["teacher", "model", "created_at", "prompt_tokens", "completion_tokens", "metadata"]


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of four eligible rows."""
    return write_comments(data_dir, ROWS)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the Gemini teacher waits before retries, recorded instead of slept."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(gemini_teacher, "pause", record)
    return recorded


@pytest.fixture
def double(gemini: GeminiDouble, waits: list[float]) -> GeminiDouble:
    """The Gemini double, with retry waits recorded instead of slept."""
    return gemini


def label(project: Path, *args: str):
    """Run `hcap label` on the project with a fixed seed."""
    return CliRunner().invoke(app, ["label", "--data-dir", str(project), "--seed", "7", *args])


def test_gemini_labels_land_in_schema_order_with_provenance(project: Path, double: GeminiDouble,
                                                           schema: LabelSchema) -> None:
    result = label(project, "--count", "3")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "labeled.jsonl")
    assert len(records) == 3
    for record in records:
        assert list(record) == ["formatted_input", *schema.names, *PROVENANCE]
        assert record["formatted_input"] in INPUTS
        schema.extract(record)
        assert record["teacher"] == "gemini" and record["model"] == "gemini-2.5-flash"
        assert (record["prompt_tokens"], record["completion_tokens"]) == (400, 60)
        assert record["metadata"]["horse_name"] in {"Alpha", "Beta", "Gamma", "Delta"}
    assert "labeled 3 of 3 comments with gemini:gemini-2.5-flash" in result.stdout
    assert "failed: 0" in result.stdout
    assert "tokens: 1,200 in, 180 out" in result.stdout
    assert "estimated cost: $0.0008" in result.stdout  # 1,200 x $0.30/M + 180 x $2.50/M


def test_the_request_carries_instructions_schema_and_only_the_input(project: Path, double: GeminiDouble,
                                                                   schema: LabelSchema) -> None:
    assert label(project, "--count", "1").exit_code == 0
    body = double.bodies[0]
    assert request_text(body) == read_jsonl(project / "labeled.jsonl")[0]["formatted_input"]
    system = "".join(p["text"] for p in body["systemInstruction"]["parts"])
    assert default_guidelines().strip() in system
    assert all(field.description in system for field in schema.fields)
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == 0
    response_schema = config["responseSchema"]
    assert list(response_schema["properties"]) == list(schema.names)
    ordering = response_schema.get("propertyOrdering", response_schema.get("property_ordering"))
    assert ordering == list(schema.names)
    assert response_schema["required"] == list(schema.names)
    assert double.requests[0]["headers"]["x-goog-api-key"] == TEST_KEY


def test_invalid_json_is_asked_for_again_once(project: Path, double: GeminiDouble) -> None:
    double.reply = sequence(invalid_json())
    result = label(project, "--count", "1")
    assert result.exit_code == 0, result.output
    assert len(double.requests) == 2
    [record] = read_jsonl(project / "labeled.jsonl")
    assert record["prompt_tokens"] == 800  # both attempts were billed
    assert "tokens: 800 in, 120 out" in result.stdout


@pytest.mark.parametrize(
    "bad_text",
    [
        '{"in_form": tru',
        json.dumps({"in_form": "yes", "out_of_form": 0, "better_than_show": False, "worse_than_show": False,
                    "race_strength": "huge", "reasoning": "Made all."}),
    ],
    ids=["invalid-json", "wrong-types"],
)
def test_output_invalid_twice_is_skipped_counted_and_not_written(project: Path, double: GeminiDouble,
                                                                 bad_text: str) -> None:
    doomed = INPUTS[1]
    double.reply = lambda body: GeminiReply(text=bad_text) if request_text(body) == doomed else GeminiReply()
    result = label(project, "--count", "4")
    assert result.exit_code == 1
    assert sum(1 for body in double.bodies if request_text(body) == doomed) == 2
    written = [r["formatted_input"] for r in read_jsonl(project / "labeled.jsonl")]
    assert sorted(written) == sorted(set(INPUTS) - {doomed})
    assert "failed: 1" in result.stdout
    assert "labeled 3 of 4" in result.stdout
    assert "not labeled: 3rd of 12" in result.stderr and "invalid output" in result.stderr
    assert "error: 1 of 4 comments failed and were not written" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("replies", "expected_waits"),
    [
        ((rate_limited("0.25s"), rate_limited("3s")), [0.25, 3.0]),  # the server's RetryInfo delay
        ((rate_limited(None), rate_limited(None)), [gemini_teacher.backoff(1), gemini_teacher.backoff(2)]),
        ((server_error(), server_error()), [gemini_teacher.backoff(1), gemini_teacher.backoff(2)]),
    ],
    ids=["429-retry-info", "429-no-retry-info", "500"],
)
def test_rate_limits_and_server_errors_are_waited_out(project: Path, double: GeminiDouble, waits: list[float],
                                                      replies: tuple[GeminiReply, ...],
                                                      expected_waits: list[float]) -> None:
    double.reply = sequence(*replies)
    result = label(project, "--count", "1")
    assert result.exit_code == 0, result.output
    assert waits == expected_waits
    assert len(double.requests) == 3
    assert len(read_jsonl(project / "labeled.jsonl")) == 1


def test_a_rate_limit_that_never_lifts_stops_the_run_with_one_line(project: Path, double: GeminiDouble) -> None:
    double.reply = lambda body: rate_limited()
    result = label(project, "--count", "2")
    assert result.exit_code == 1
    assert not (project / "labeled.jsonl").exists()
    [error] = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert "rate limit still exceeded" in error and "--concurrency" in error
    assert "labeled 0 of 2" in result.stdout
    assert "Traceback" not in result.output


def test_server_errors_outlasting_the_retries_fail_only_that_item(project: Path, double: GeminiDouble) -> None:
    doomed = INPUTS[0]
    double.reply = lambda body: server_error() if request_text(body) == doomed else GeminiReply()
    result = label(project, "--count", "4")
    assert result.exit_code == 1
    assert sum(1 for body in double.bodies if request_text(body) == doomed) == 1 + gemini_teacher.SERVER_RETRIES
    assert len(read_jsonl(project / "labeled.jsonl")) == 3
    assert "server error 500" in result.stderr


def test_missing_key_is_one_line_naming_gemini_api_key(project: Path, double: GeminiDouble,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    result = label(project, "--count", "1")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "GEMINI_API_KEY" in result.stderr
    assert double.requests == []


def test_google_api_key_is_accepted_too(project: Path, double: GeminiDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    monkeypatch.setenv("GOOGLE_API_KEY", TEST_KEY)
    assert label(project, "--count", "1").exit_code == 0
    assert double.requests[0]["headers"]["x-goog-api-key"] == TEST_KEY


def test_a_rejected_key_stops_with_one_line(project: Path, double: GeminiDouble,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "not-the-key")
    result = label(project, "--count", "2")
    assert result.exit_code == 1
    assert "error: Gemini rejected the API key (API key not valid" in result.stderr
    assert not (project / "labeled.jsonl").exists()


def test_the_key_lands_in_no_file_and_no_output(project: Path, double: GeminiDouble) -> None:
    doomed = INPUTS[2]
    double.reply = lambda body: invalid_json() if request_text(body) == doomed else GeminiReply()
    result = label(project, "--count", "4", "--json")
    assert result.exit_code == 1
    assert TEST_KEY not in result.output
    files = [p for p in project.parent.rglob("*") if p.is_file()]
    assert project / "labeled.jsonl" in files
    for path in files:
        assert TEST_KEY.encode() not in path.read_bytes(), path


def test_labelled_and_gold_items_are_never_drawn_again(project: Path, double: GeminiDouble,
                                                      schema: LabelSchema) -> None:
    old_teacher, old_gold = INPUTS[0], INPUTS[3]
    label_fields = {"in_form": True, "out_of_form": False, "better_than_show": False, "worse_than_show": False,
                    "race_strength": "strong", "reasoning": "Made all."}
    (project / "labeled.jsonl").write_text(
        json.dumps({"formatted_input": old_teacher, **label_fields, "gemini_labeled": True}) + "\n", encoding="utf-8")
    (project / "goldstandard.jsonl").write_text(
        json.dumps({"formatted_input": old_gold, **label_fields}) + "\n", encoding="utf-8")
    result = label(project, "--count", "10")
    assert result.exit_code == 0, result.output
    assert sorted(request_text(body) for body in double.bodies) == sorted(set(INPUTS) - {old_teacher, old_gold})
    records = read_jsonl(project / "labeled.jsonl")
    assert records[0]["gemini_labeled"] is True  # the user's line is kept as it was
    assert len(records) == 3

    again = label(project, "--count", "10")
    assert again.exit_code == 0
    assert "nothing to label" in again.stderr
    assert len(double.requests) == 2


def test_json_summary_counts_thinking_tokens_as_output(project: Path, double: GeminiDouble) -> None:
    double.reply = lambda body: GeminiReply(thoughts_tokens=500)
    result = label(project, "--count", "2", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["labeled"] == 2 and summary["failed"] == 0 and summary["sampled"] == 2
    assert summary["prompt_tokens"] == 800 and summary["completion_tokens"] == 1120
    assert summary["estimated_cost_usd"] == pytest.approx((800 * 0.30 + 1120 * 2.50) / 1e6)
    assert summary["teacher"] == "gemini:gemini-2.5-flash"
    assert read_jsonl(project / "labeled.jsonl")[0]["completion_tokens"] == 560


def test_concurrency_bounds_requests_in_flight(project: Path, double: GeminiDouble) -> None:
    double.reply = lambda body: GeminiReply(delay=0.1)
    result = label(project, "--count", "4", "--concurrency", "2")
    assert result.exit_code == 0, result.output
    assert double.max_in_flight == 2
    assert len(read_jsonl(project / "labeled.jsonl")) == 4


@pytest.mark.parametrize("value", ["gpt-4o", "ollama", "ollama:", "claude:opus", ""])
def test_a_bad_teacher_is_one_line_listing_the_accepted_forms(project: Path, value: str) -> None:
    result = label(project, "--teacher", value)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "gemini:<model>" in result.stderr and "ollama:<model>" in result.stderr


def test_host_is_refused_for_a_gemini_teacher(project: Path, double: GeminiDouble) -> None:
    result = label(project, "--host", "http://127.0.0.1:1")
    assert result.exit_code == 1 and "--host is for ollama teachers" in result.stderr


def test_missing_google_genai_says_how_to_install_it(project: Path, double: GeminiDouble,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import google

    monkeypatch.delattr(google, "genai", raising=False)
    monkeypatch.setitem(sys.modules, "google.genai", None)
    result = label(project, "--count", "1")
    assert result.exit_code == 1
    assert "pip install -e '.[gemini]'" in result.stderr and result.stderr.count("\n") == 1


def test_missing_comments_file_is_one_line(data_dir: Path, double: GeminiDouble) -> None:
    result = label(data_dir, "--count", "1")
    assert result.exit_code == 1 and "comments.csv not found" in result.stderr


def test_a_teacher_can_label_one_input_outside_a_run(double: GeminiDouble, schema: LabelSchema,
                                                      data_dir: Path) -> None:
    with teacher(open_project(data_dir), parse_teacher("gemini"), "Label the comment.") as gemini:
        first, second = label_one(gemini, INPUTS[0]), label_one(gemini, INPUTS[1])
    assert first.ok and second.ok
    assert list(first.label or {}) == list(schema.names)
    assert (first.model, first.prompt_tokens, first.attempts) == ("gemini-2.5-flash", 400, 1)
    assert [request_text(body) for body in double.bodies] == INPUTS[:2]

# -- the Ollama teacher, against the Ollama double -------------------------------------------------------------

TEACHER_MODEL = "qwen2.5:7b"


@pytest.fixture
def ollama_teacher() -> Iterator[OllamaDouble]:
    """An Ollama double serving a general model to use as teacher."""
    with OllamaDouble(models={TEACHER_MODEL: "sha256:" + "ab" * 32}) as running:
        yield running


def test_an_ollama_model_teaches_with_the_instructions_as_system_message(
    project: Path, ollama_teacher: OllamaDouble, schema: LabelSchema
) -> None:
    result = label(project, "--count", "2", "--teacher", f"ollama:{TEACHER_MODEL}", "--host", ollama_teacher.url)
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "labeled.jsonl")
    assert len(records) == 2
    for record in records:
        assert list(record) == ["formatted_input", *schema.names, *PROVENANCE]
        assert record["teacher"] == "ollama" and record["model"] == TEACHER_MODEL
    request = ollama_teacher.requests[0]
    system, user = request["messages"]
    assert system["role"] == "system" and default_guidelines().strip() in system["content"]
    assert user == {"role": "user", "content": records[0]["formatted_input"]}
    assert list(request["format"]["properties"]) == list(schema.names)
    assert "estimated cost: $0 (local model)" in result.stdout


def test_the_teacher_setting_in_hcap_toml_is_the_default(project: Path, ollama_teacher: OllamaDouble) -> None:
    (project / "hcap.toml").write_text(
        f'teacher = "ollama:{TEACHER_MODEL}"\nollama_host = "{ollama_teacher.url}"\n', encoding="utf-8")
    result = label(project, "--count", "1")
    assert result.exit_code == 0, result.output
    assert read_jsonl(project / "labeled.jsonl")[0]["teacher"] == "ollama"


def test_ollama_output_invalid_twice_is_counted_and_not_written(project: Path) -> None:
    with OllamaDouble(models={TEACHER_MODEL: "sha256:" + "cd" * 32},
                      reply=lambda body: Reply(content='{"in_form": "maybe"}')) as running:
        result = label(project, "--count", "2", "--teacher", f"ollama:{TEACHER_MODEL}", "--host", running.url)
        assert len(running.requests) == 4
    assert result.exit_code == 1
    assert not (project / "labeled.jsonl").exists()
    assert "failed: 2" in result.stdout


def test_an_ollama_teacher_the_server_lacks_is_one_line(project: Path, ollama_teacher: OllamaDouble) -> None:
    result = label(project, "--count", "1", "--teacher", "ollama:llama3.3:70b", "--host", ollama_teacher.url)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "llama3.3:70b" in result.stderr
    assert ollama_teacher.requests == []


def test_an_unreachable_ollama_is_one_line(project: Path) -> None:
    result = label(project, "--count", "1", "--teacher", f"ollama:{TEACHER_MODEL}", "--host", "http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach Ollama" in result.stderr and result.stderr.count("\n") == 1



def test_an_unreachable_gemini_is_one_line(project: Path, double: GeminiDouble,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    url = closed_url()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
    result = label(project, "--count", "2")
    assert result.exit_code == 1
    [error] = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert error.startswith(f"error: cannot reach Gemini at {url} (ConnectError")
    assert "GOOGLE_GEMINI_BASE_URL" in error and "Traceback" not in result.output
    assert not (project / "labeled.jsonl").exists()
