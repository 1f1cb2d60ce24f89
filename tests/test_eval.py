"""`hcap eval` end to end: the CLI and the real ollama client against a loopback Ollama double."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from doubles.ollama_double import DEFAULT_DIGEST, OllamaDouble, Reply
from testdata import label, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record

runner = CliRunner()
BOOLEANS = ("in_form", "out_of_form", "better_than_show", "worse_than_show")



def key(i: int) -> str:
    return f"{i + 2}th of 12, competitive | [RACE]: Run at a fair gallop | [HORSE]: Kept on, item {i}"


# The reference for each held-out item (item 0's comes from gold, overriding its exported completion) ...
REFERENCE = [
    label(in_form=True, race_strength="strong"),
    label(out_of_form=True),
    label(in_form=True),
    label(better_than_show=True, race_strength="weak"),
    label(),
    label(in_form=True),
]
# ... what the model answers: right on 0, 1, 3 (other reasoning), 5; misses in_form on 2; false in_form on 4 ...
MODEL = [
    REFERENCE[0],
    REFERENCE[1],
    label(),
    REFERENCE[3] | {"reasoning": "Different words, same signals."},
    label(in_form=True),
    REFERENCE[5],
]
# ... and what the teacher said on items 0-3 (items 4 and 5 it never labeled).
TEACHER = [label(), REFERENCE[1], REFERENCE[2], REFERENCE[3]]


def pick(figures: dict[str, Any], *names: str) -> list[Any]:
    return [figures[name] for name in names]


def scripted(answers: dict[str, Reply]) -> Any:
    """A double reply function answering each input with its scripted reply."""
    return lambda request: answers[request["messages"][-1]["content"]]


@pytest.fixture
def project(paths: DataPaths, schema: LabelSchema) -> DataPaths:
    """Six held-out items; gold approves items 0 and 1; the teacher labeled items 0-3."""
    completions = [TEACHER[0], *REFERENCE[1:]]
    write_jsonl(paths.eval, [{"prompt": key(i), "completion": schema.dumps(c)} for i, c in enumerate(completions)])
    write_jsonl(paths.gold, [flat_record(schema, key(i), REFERENCE[i], origin="gemini") for i in (0, 1)])
    write_jsonl(paths.labeled, [flat_record(schema, key(i), t, teacher="gemini") for i, t in enumerate(TEACHER)])
    return paths


@pytest.fixture
def model_double() -> Iterator[OllamaDouble]:
    """A double answering each held-out item with the MODEL label."""
    answers = {key(i): Reply(content=json.dumps(m)) for i, m in enumerate(MODEL)}
    with OllamaDouble(reply=scripted(answers), slots=2) as double:
        yield double


def run_eval(paths: DataPaths, double: OllamaDouble | None, *args: str, url: str | None = None):
    host = url or (double.url if double else "http://127.0.0.1:9")
    return runner.invoke(app, ["eval", "--data-dir", str(paths.root), "--host", host, *args], env={"COLUMNS": "160"})


def eval_json(paths: DataPaths, double: OllamaDouble, *args: str) -> dict[str, Any]:
    result = run_eval(paths, double, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_scores_the_model_against_gold(project: DataPaths, model_double: OllamaDouble) -> None:
    data = eval_json(project, model_double)
    assert data["n"] == 6 and data["from_gold"] == 2
    model = data["model"]
    for name in BOOLEANS:
        assert {"precision", "recall", "f1", "support"} <= set(model[name])
    assert pick(model["in_form"], "precision", "recall", "f1", "support") == [0.6667, 0.6667, 0.6667, 3]
    assert model["better_than_show"]["f1"] == 1.0
    assert pick(model["worse_than_show"], "f1", "support") == [0.0, 0]
    assert model["race_strength"]["accuracy"] == 1.0
    assert model["race_strength"]["confusion"]["strong"] == {"strong": 1, "average": 0, "weak": 0, "no_signal": 0}
    assert model["race_strength"]["confusion"]["average"]["average"] == 4
    assert model["exact_match"] == pytest.approx(0.6667, abs=1e-4)
    assert model["failed"] == 0
    assert data["model_name"] == "flat-hcap" and data["model_digest"] == DEFAULT_DIGEST
    assert sorted(r["messages"][-1]["content"] for r in model_double.requests) == sorted(key(i) for i in range(6))


def test_json_scores_the_teacher_on_the_items_it_labeled(project: DataPaths, model_double: OllamaDouble) -> None:
    data = eval_json(project, model_double)
    teacher = data["teacher"]
    assert teacher["n"] == 4 and data["teacher_unlabeled"] == 2
    # item 0: the teacher missed in_form and the strong race that gold records
    assert pick(teacher["in_form"], "precision", "recall", "support") == [1.0, 0.5, 2]
    assert teacher["race_strength"]["accuracy"] == 0.75
    assert teacher["race_strength"]["confusion"]["strong"]["average"] == 1
    assert teacher["exact_match"] == 0.75


def test_chat_form_rows_are_read(project: DataPaths, schema: LabelSchema, model_double: OllamaDouble) -> None:
    rows = [
        {
            "prompt": [{"role": "user", "content": key(i)}],
            "completion": [{"role": "assistant", "content": schema.dumps(REFERENCE[i])}],
        }
        for i in range(6)
    ]
    write_jsonl(project.eval, rows)
    data = eval_json(project, model_double)
    assert data["n"] == 6 and data["model"]["exact_match"] == pytest.approx(0.6667, abs=1e-4)


def test_a_failed_prediction_counts_as_wrong(project: DataPaths) -> None:
    answers = {key(i): Reply(content=json.dumps(m)) for i, m in enumerate(MODEL)}
    answers[key(5)] = Reply(content="The horse kept on.")  # not JSON, on the retry too
    with OllamaDouble(reply=scripted(answers)) as double:
        data = eval_json(project, double)
        report = run_eval(project, double)
    assert data["model"]["failed"] == 1
    assert data["model"]["in_form"]["recall"] == pytest.approx(0.3333, abs=1e-4)  # item 5's in_form is missed
    assert data["model"]["exact_match"] == 0.5
    assert "1 of 6 predictions failed and count as wrong" in report.stdout
    assert "item 5: output does not match the label schema" in report.stdout


def test_each_run_appends_history_and_the_report_shows_it(project: DataPaths) -> None:
    digests = {"first": "sha256:" + "1" * 64, "second": "sha256:" + "2" * 64}
    answers = {key(i): Reply(content=json.dumps(m)) for i, m in enumerate(MODEL)}
    with OllamaDouble(models={"flat-hcap": digests["first"]}, reply=scripted(answers)) as double:
        assert run_eval(project, double).exit_code == 0
    with OllamaDouble(models={"flat-hcap": digests["second"]}, reply=scripted(answers)) as double:
        result = run_eval(project, double)
    assert result.exit_code == 0, result.output
    history = [json.loads(line) for line in project.evals.read_text(encoding="utf-8").splitlines()]
    assert [h["model_digest"] for h in history] == [digests["first"], digests["second"]]
    for record in history:
        assert record["model"] == "flat-hcap" and record["n"] == 6
        assert record["exact_match"] == pytest.approx(0.6667, abs=1e-4)
        assert record["metrics"]["model"]["in_form"]["f1"] == pytest.approx(0.6667, abs=1e-4)
        assert record["metrics"]["teacher"]["n"] == 4
        assert record["created_at"].endswith("+00:00")
    out = result.stdout
    assert "History (evals.jsonl)" in out
    assert "111111111111" in out and "222222222222" in out


def test_report_tables_and_small_set_note(project: DataPaths, model_double: OllamaDouble) -> None:
    result = run_eval(project, model_double)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "flat-hcap" in out and "on 6 held-out items (2 scored against gold, 4 against the exported label)" in out
    assert "2 of 6 items were never labeled by the teacher; its figures cover the other 4" in out
    assert "6 items is a small set" in out and "95% intervals" in out
    assert "0.67 [0.21-0.94]" in out  # model in_form precision 2/3 with its Wilson interval
    assert "race_strength: accuracy and confusion" in out
    assert "exact match" in out


def test_concurrency_reaches_the_server(project: DataPaths) -> None:
    answers = {key(i): Reply(content=json.dumps(m), delay=0.05) for i, m in enumerate(MODEL)}
    with OllamaDouble(reply=scripted(answers), slots=2) as double:
        result = run_eval(project, double, "--concurrency", "2", "--json")
        assert result.exit_code == 0, result.output
        assert double.max_in_flight == 2


def test_missing_eval_data_says_to_export(data_dir: Path) -> None:
    result = runner.invoke(app, ["eval", "--data-dir", str(data_dir)])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "run `hcap export`" in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (data_dir / "evals.jsonl").exists()


def test_eval_data_without_usable_rows_is_an_error(paths: DataPaths, ollama: OllamaDouble) -> None:
    paths.eval.write_text('{"prompt": "x"}\n', encoding="utf-8")
    result = run_eval(paths, ollama)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert "has no usable rows (eval_data.jsonl line 1: expected" in result.stderr
    assert ollama.requests == []


def test_bad_rows_are_skipped_with_a_warning(project: DataPaths, model_double: OllamaDouble) -> None:
    with project.eval.open("a", encoding="utf-8") as handle:
        handle.write('{"prompt": "7th of 9 | [HORSE]: Faded", "completion": "{\\"in_form\\": 1}"}\n')
        handle.write(json.dumps({"prompt": key(1), "completion": "{}"}) + "\n")
    result = run_eval(project, model_double, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 6
    assert "warning: eval_data.jsonl line 7:" in result.stderr
    assert "line 8: same prompt as line 2; skipped" in result.stderr


def test_unreachable_server_is_one_line_error(project: DataPaths) -> None:
    with OllamaDouble() as double:
        url = double.url
    result = run_eval(project, None, url=url)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot reach Ollama") and result.stderr.count("\n") == 1
    assert not project.evals.exists()


def test_missing_model_is_one_line_error(project: DataPaths, ollama: OllamaDouble) -> None:
    result = run_eval(project, ollama, "--model", "flat-hcap-v9")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: model 'flat-hcap-v9' is not in Ollama")
    assert not project.evals.exists()


def test_model_and_host_default_to_hcap_toml(project: DataPaths) -> None:
    answers = {key(i): Reply(content=json.dumps(m)) for i, m in enumerate(MODEL)}
    with OllamaDouble(models={"flat-hcap-r2": DEFAULT_DIGEST}, reply=scripted(answers)) as double:
        project.config.write_text(f'model = "flat-hcap-r2"\nollama_host = "{double.url}"\n', encoding="utf-8")
        result = runner.invoke(app, ["eval", "--data-dir", str(project.root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["model_name"] == "flat-hcap-r2"


def test_unreadable_history_lines_are_warned_about(project: DataPaths, model_double: OllamaDouble) -> None:
    project.evals.write_text('{"note": "not a run"}\n', encoding="utf-8")
    result = run_eval(project, model_double)
    assert result.exit_code == 0, result.output
    assert "warning: evals.jsonl line 1: not an evaluation run record; skipped" in result.stderr
    assert len(project.evals.read_text(encoding="utf-8").splitlines()) == 2  # the old line is kept


def test_an_empty_eval_file_gets_the_export_advice(paths: DataPaths, ollama: OllamaDouble) -> None:
    paths.eval.write_text("", encoding="utf-8")
    result = run_eval(paths, ollama)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: eval_data.jsonl has 0 rows")
    assert "approve more items or raise --eval-fraction, then run `hcap export` again" in result.stderr
    assert ollama.requests == []


def test_a_failed_teacher_line_never_hides_an_earlier_label(data_dir: Path, schema: LabelSchema) -> None:
    from hcap_tui.evaluation import teacher_labels
    from hcap_tui.store import Store

    write_jsonl(data_dir / "labeled.jsonl", [
        flat_record(schema, "A", label(in_form=True)),
        {"formatted_input": "A", "status": "failed", "error": "not JSON", "raw": "{"},
        flat_record(schema, "B", label()),
        flat_record(schema, "B", label(in_form=True)),  # otherwise the last line wins
    ])
    labels, problems = teacher_labels(Store(DataPaths(data_dir), schema))
    assert labels == {"A": label(in_form=True), "B": label(in_form=True)} and problems == []
