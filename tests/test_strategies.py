"""`hcap predict --strategy uncertain|disagree` end to end, against the Ollama double with scripted logprobs."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from doubles.ollama_double import OllamaDouble, Reply
from doubles.ollama_output import label_for, logprobs_for
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.comments import format_input
from hcap_tui.models.base import Labeller
from hcap_tui.schema import LabelSchema

COLUMNS = ("race_comment", "main_race_comment", "finishing_position", "number_of_runners",
           "total_distance_beaten", "horse_name")
RACES = ("Strong race, good pace throughout", "Modest affair", "", "Slowly run, muddling tempo")
ROWS = [
    (f"Runner {i} tracked leaders, ridden 2f out, kept on inside final furlong", RACES[i % 4], str(i % 9 + 1), "14",
     f"{i * 0.7:.1f}", f"Horse {i}")
    for i in range(12)
]
NO_LOGPROBS = "the server returned no log-probabilities (Ollama ≥ 0.12.11 needed): falling back to random"
Replier = Callable[[dict], Reply]


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Busy back-off pauses of milliseconds."""
    monkeypatch.setattr(Labeller, "busy_backoff", (0.01, 0.01, 0.01))


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of twelve eligible rows."""
    with (data_dir / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(ROWS)
    return data_dir


def inputs() -> list[str]:
    """The formatted inputs of the rows, in file order."""
    return [format_input(dict(zip(COLUMNS, row))) or "" for row in ROWS]


def predict(project: Path, *args: str):
    """Run `hcap predict` on the project with a fixed seed and return the result."""
    return CliRunner().invoke(app, ["predict", "--data-dir", str(project), "--seed", "7", *args])


def lines(path: Path) -> list[dict]:
    """The JSON objects of a JSONL file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def content(body: dict) -> str:
    """The user message of a chat request."""
    return body["messages"][-1]["content"]


def write_jsonl(path: Path, records: list[dict]) -> None:
    """A JSONL file holding `records`."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def doubtful(levels: dict[str, float | tuple[float, ...]]) -> Replier:
    """Replies whose first booleans are chosen with the probabilities `levels[prompt]` (one level: the first
    boolean only); everything else as the double says."""

    def reply(body: dict) -> Reply:
        text = json.dumps(label_for(content(body), body["format"]))
        entries = logprobs_for(text, int(body.get("top_logprobs") or 0), body["format"])
        level = levels.get(content(body))
        if level is not None:
            booleans = [e for e in entries if e["token"].strip() in ("true", "false")]
            for entry, probability in zip(booleans, level if isinstance(level, tuple) else (level,), strict=False):
                entry["logprob"] = math.log(probability)
        return Reply(content=text, logprobs=entries)

    return reply


def expected_confidence(schema: LabelSchema, level: float) -> dict[str, float]:
    """The per-signal confidence the double's logprobs give when the first boolean has probability `level`."""
    first = schema.booleans[0].name
    return {f.name: 0.9 for f in schema.booleans} | {f.name: 0.7 for f in schema.enums} | {first: level}


def test_uncertain_keeps_the_least_confident_of_the_pool(project: Path, schema: LabelSchema) -> None:
    levels = {text: round(0.40 + 0.02 * i, 2) for i, text in enumerate(inputs())}  # all below the enum's 0.7
    with OllamaDouble(reply=doubtful(levels)) as double:
        result = predict(project, "--strategy", "uncertain", "--count", "2", "--pool-factor", "3",
                         "--host", double.url)
        pool = [content(body) for body in double.requests]
        assert all(body["logprobs"] is True for body in double.requests)
    assert result.exit_code == 0, result.output
    assert len(pool) == 6 == len(set(pool))
    least = sorted(pool, key=levels.__getitem__)[:2]
    records = lines(project / "predictions.jsonl")
    assert [r["formatted_input"] for r in records] == least  # most doubtful first
    for record in records:
        assert record["confidence"] == expected_confidence(schema, levels[record["formatted_input"]])
        assert {k: record[k] for k in schema.names} == label_for(record["formatted_input"], schema.json_schema())
        assert list(record)[: len(schema.names) + 1] == ["formatted_input", *schema.names]
    low, high = (math.prod(expected_confidence(schema, levels[text]).values()) for text in least)  # all signals
    assert f"kept the 2 least confident of 6 predicted (item confidence {low:.2f} to {high:.2f}), 0 failed" in (
        result.stdout
    )
    assert "the other 4 are not written" in result.stdout


def test_the_pool_skips_gold_and_pending_items(project: Path, schema: LabelSchema) -> None:
    gold, pending = inputs()[0], inputs()[1]
    write_jsonl(project / "goldstandard.jsonl", [{"formatted_input": gold, **label_for(gold, schema.json_schema())}])
    write_jsonl(project / "predictions.jsonl", [{"formatted_input": pending, "status": "failed", "error": "x"}])
    with OllamaDouble() as double:
        result = predict(project, "--strategy", "uncertain", "--count", "3", "--host", double.url, "--json")
        asked = sorted(content(body) for body in double.requests)
    assert result.exit_code == 0, result.output
    assert asked == sorted(inputs()[2:])  # a pool of 15 wanted, ten left to draw
    summary = json.loads(result.stdout)
    assert (summary["strategy"], summary["pool"], summary["predicted"], summary["done"]) == ("uncertain", 10, 10, 3)
    every_signal = math.prod(expected_confidence(schema, 0.9).values())  # the double's default confidences
    assert summary["fallback"] is None
    assert summary["confidence_min"] == summary["confidence_max"] == pytest.approx(every_signal)
    records = lines(project / "predictions.jsonl")
    assert records[0]["formatted_input"] == pending and len(records) == 4


def test_failed_predictions_in_the_pool_are_kept_first(project: Path, schema: LabelSchema) -> None:
    levels = {text: 0.5 for text in inputs()}
    doomed: list[str] = []

    def reply(body: dict) -> Reply:
        if not doomed or content(body) == doomed[0]:
            doomed[:1] = [content(body)]
            return Reply(content='{"broken": ')
        return doubtful(levels)(body)

    with OllamaDouble(reply=reply) as double:
        result = predict(project, "--strategy", "uncertain", "--count", "2", "--pool-factor", "3",
                         "--host", double.url)
    assert result.exit_code == 1
    assert "error: 1 of 6 predictions failed (kept in predictions.jsonl for review)" in result.stderr
    records = lines(project / "predictions.jsonl")
    assert len(records) == 2
    assert records[0]["formatted_input"] == doomed[0] and records[0]["status"] == "failed"
    assert "not valid JSON" in records[0]["error"] and not set(schema.names) & set(records[0])
    assert records[1]["confidence"][schema.booleans[0].name] == 0.5


def test_an_old_server_falls_back_to_the_random_draw(project: Path, tmp_path: Path) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(project, twin)
    with OllamaDouble(version="0.12.10") as double:
        result = predict(project, "--strategy", "uncertain", "--count", "3", "--host", double.url, "--json")
        random_run = predict(twin, "--count", "3", "--host", double.url)
        assert not any("logprobs" in body for body in double.requests)
    assert result.exit_code == 0 and random_run.exit_code == 0, result.output
    assert ("Ollama 0.12.10 returns no log-probabilities (Ollama ≥ 0.12.11 needed): falling back to random"
            in result.stderr)
    records = lines(project / "predictions.jsonl")
    assert [r["formatted_input"] for r in records] == [r["formatted_input"] for r in lines(twin / "predictions.jsonl")]
    assert all("confidence" not in r for r in records)
    summary = json.loads(result.stdout)
    assert summary["strategy"] == "uncertain" and "falling back to random" in summary["fallback"]
    assert summary["done"] == 3


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_replies_without_logprobs_fall_back_to_random(project: Path, tmp_path: Path, concurrency: str) -> None:
    twin = tmp_path / "twin"
    shutil.copytree(project, twin)
    with OllamaDouble(slots=3, reply=lambda _body: Reply(logprobs=[])) as double:
        result = predict(project, "--strategy", "uncertain", "--count", "3", "--host", double.url,
                         "--concurrency", concurrency)
        assert len(double.requests) == 3  # not the pool of 15
        assert predict(twin, "--count", "3", "--host", double.url).exit_code == 0
    assert result.exit_code == 0, result.output
    assert NO_LOGPROBS in result.stderr.splitlines()
    records = lines(project / "predictions.jsonl")
    assert sorted(r["formatted_input"] for r in records) == sorted(r["formatted_input"] for r in
                                                                    lines(twin / "predictions.jsonl"))
    assert all("confidence" not in r for r in records)
    assert "3 labelled, 0 failed (drawn at random: no log-probabilities)" in result.stdout


def test_uncertain_ranks_items_by_the_product_of_their_signals_confidence(project: Path) -> None:
    # One signal in real doubt, or two in some doubt: the second is the likelier to need a correction.
    levels: dict[str, float | tuple[float, ...]] = {text: (0.9, 0.9) for text in inputs()}
    first, second = inputs()[3:5]
    levels |= {first: (0.5, 0.95), second: (0.6, 0.6)}
    with OllamaDouble(reply=doubtful(levels)) as double:
        result = predict(project, "--strategy", "uncertain", "--count", "1", "--pool-factor", "20",
                         "--host", double.url)
        pool = {content(body) for body in double.requests}
    assert result.exit_code == 0, result.output
    assert pool == set(inputs())  # every comment in the pool
    [record] = lines(project / "predictions.jsonl")
    assert record["formatted_input"] == second  # the least sure signal alone would have kept the first


def test_a_pool_cut_short_keeps_the_least_confident_it_finished(project: Path) -> None:
    levels = {text: 0.6 - 0.01 * i for i, text in enumerate(inputs())}
    answered: list[str] = []

    def reply(body: dict) -> Reply:
        if len(answered) == 2:
            return Reply(delay=2.0)
        answered.append(content(body))
        return doubtful(levels)(body)

    with OllamaDouble(reply=reply) as double:
        result = predict(project, "--strategy", "uncertain", "--count", "1", "--host", double.url,
                         "--timeout", "0.3")
    assert result.exit_code == 1
    assert "did not answer within 0.3 s" in result.stderr
    assert "stopped after 2 of 5 pool predictions; saved the 1 least confident of them" in result.stderr
    records = lines(project / "predictions.jsonl")
    assert [r["formatted_input"] for r in records] == [min(answered, key=levels.__getitem__)]
    assert pool_sidecars(project) == []  # the stop was handled: nothing is left to resume


def pool_sidecars(project: Path) -> list[Path]:
    """The uncertain run's pool sidecars in the data folder."""
    return sorted(project.glob(".predictions-pool-*.jsonl"))


def wait_for_pool_lines(project: Path, count: int, proc: subprocess.Popen) -> Path:
    """Poll until a pool sidecar holds `count` whole lines (the run is then stuck on its next request)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        for path in pool_sidecars(project):
            if path.read_text(encoding="utf-8").count("\n") >= count:
                return path
        time.sleep(0.02)
    raise AssertionError(f"no pool sidecar with {count} lines (exit {proc.poll()})")


def test_a_pool_killed_mid_run_is_reused_by_the_next_uncertain_run(project: Path) -> None:
    levels = {text: round(0.40 + 0.02 * i, 2) for i, text in enumerate(inputs())}
    answered: list[str] = []

    def stalls_after_three(body: dict) -> Reply:
        if len(answered) == 3:
            return Reply(delay=60.0)  # until the double stops: the run is killed while it waits
        answered.append(content(body))
        return doubtful(levels)(body)

    args = ["predict", "--data-dir", str(project), "--seed", "7", "--strategy", "uncertain", "--count", "2",
            "--pool-factor", "3"]
    with OllamaDouble(reply=stalls_after_three) as double:
        command = [sys.executable, "-c", "from hcap_tui.cli import app; app()", *args, "--host", double.url]
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            sidecar = wait_for_pool_lines(project, 3, proc)
        finally:
            proc.kill()  # SIGKILL: no cleanup runs
            proc.wait()
    assert not (project / "predictions.jsonl").exists()
    batch = lines(sidecar)[0]["batch_id"]

    with OllamaDouble(reply=doubtful(levels)) as double:
        result = CliRunner().invoke(app, [*args, "--host", double.url])
        asked = [content(body) for body in double.requests]
    assert result.exit_code == 0, result.output
    assert f"found an interrupted pool (batch {batch})" in result.stderr
    assert "reusing its 3 predictions instead of asking the model again" in result.stderr
    assert len(asked) == 3 and not set(asked) & set(answered)  # the pool is completed, not redone
    records = lines(project / "predictions.jsonl")
    assert [r["formatted_input"] for r in records] == sorted(answered + asked, key=levels.__getitem__)[:2]
    assert {r["batch_id"] for r in records} == {batch}
    assert "kept the 2 least confident of 6 predicted" in result.stdout and "3 of them reused" in result.stdout
    assert pool_sidecars(project) == [] and not list(project.glob("*predictions-pool-*"))


def test_a_pool_left_by_another_model_version_is_named_and_kept(project: Path, schema: LabelSchema) -> None:
    text = inputs()[0]
    other = {"formatted_input": text, **label_for(text, schema.json_schema()), "model": "flat-hcap:latest",
             "model_digest": "sha256:" + "9" * 64, "batch_id": "20250101T000000Z-abcdef", "confidence": {}}
    sidecar = project / ".predictions-pool-20250101T000000Z-abcdef.jsonl"
    write_jsonl(sidecar, [other])
    with OllamaDouble() as double:
        result = predict(project, "--strategy", "uncertain", "--count", "1", "--pool-factor", "2",
                         "--host", double.url)
        assert len(double.requests) == 2
    assert result.exit_code == 0, result.output
    assert f"{sidecar.name}: an interrupted pool from another model or version; left" in result.stderr
    assert pool_sidecars(project) == [sidecar]


def teacher_lines(schema: LabelSchema, changes: dict[str, dict]) -> list[dict]:
    """labeled.jsonl lines for every input: the double's own label, changed where `changes` says."""
    records = []
    for text in inputs():
        label = label_for(text, schema.json_schema()) | changes.get(text, {})
        records.append({"formatted_input": text, **label, "gemini_labeled": True, "human_verified": False})
    return records


def flipped(schema: LabelSchema, text: str, name: str) -> dict:
    """A change that makes the teacher's `name` differ from what the double predicts for `text`."""
    value = label_for(text, schema.json_schema())[name]
    if isinstance(value, bool):
        return {name: not value}
    values = schema.field(name).values
    return {name: values[(values.index(value) + 1) % len(values)]}


def test_disagree_keeps_only_disagreements_with_the_fields(project: Path, schema: LabelSchema) -> None:
    texts = inputs()
    boolean, enum = schema.booleans[0].name, schema.enums[0].name
    changes = {texts[0]: flipped(schema, texts[0], boolean), texts[2]: flipped(schema, texts[2], enum),
               texts[3]: flipped(schema, texts[3], boolean), texts[4]: flipped(schema, texts[4], boolean)}
    write_jsonl(project / "labeled.jsonl", teacher_lines(schema, changes)[:6])
    gold_label = label_for(texts[3], schema.json_schema())
    write_jsonl(project / "goldstandard.jsonl", [{"formatted_input": texts[3], **gold_label}])
    write_jsonl(project / "predictions.jsonl", [{"prompt": texts[4], "completion": schema.dumps(gold_label)}])
    with OllamaDouble() as double:
        result = predict(project, "--strategy", "disagree", "--count", "20", "--host", double.url)
        asked = sorted(content(body) for body in double.requests)
    assert result.exit_code == 0, result.output
    assert asked == sorted([texts[0], texts[1], texts[2], texts[5]])  # gold and pending are not checked
    records = lines(project / "predictions.jsonl")
    assert records[0] == {"prompt": texts[4], "completion": schema.dumps(gold_label)}
    kept = {r["formatted_input"]: r for r in records[1:]}
    assert set(kept) == {texts[0], texts[2]}
    for text, name in ((texts[0], boolean), (texts[2], enum)):
        record = kept[text]
        model_label = label_for(text, schema.json_schema())
        assert {k: record[k] for k in schema.names} == model_label
        assert record["disagrees_with_teacher"] == [name]
        assert record["teacher_values"] == {name: changes[text][name]} != {name: model_label[name]}
        assert list(record)[: len(schema.names) + 1] == ["formatted_input", *schema.names]
    assert "checked 4 of 4 teacher-labelled items: 2 disagree (kept), 2 agree (not written), 0 failed" in (
        result.stdout
    )
    assert f"disagreements: {boolean} 1, {enum} 1" in result.stdout


@pytest.mark.parametrize("concurrency", ["1", "3"])
def test_disagree_stops_once_count_disagreements_are_found(
    project: Path, schema: LabelSchema, concurrency: str
) -> None:
    boolean = schema.booleans[0].name
    write_jsonl(project / "labeled.jsonl",
                teacher_lines(schema, {text: flipped(schema, text, boolean) for text in inputs()}))
    with OllamaDouble(slots=3) as double:
        result = predict(project, "--strategy", "disagree", "--count", "2", "--host", double.url, "--json",
                         "--concurrency", concurrency)
        assert 2 <= len(double.requests) <= 1 + int(concurrency)  # what was in flight at the second is cancelled
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["candidates"], summary["agreed"], summary["done"]) == (12, 0, 2) and summary["checked"] >= 2
    assert summary["disagreements"] == {boolean: 2} and summary["strategy"] == "disagree"
    assert len(lines(project / "predictions.jsonl")) == 2


def test_disagree_keeps_a_failed_prediction_without_disagreement_fields(project: Path, schema: LabelSchema) -> None:
    write_jsonl(project / "labeled.jsonl", teacher_lines(schema, {})[:3])
    doomed = inputs()[1]
    with OllamaDouble(reply=lambda body: Reply(content="nope") if content(body) == doomed else Reply()) as double:
        result = predict(project, "--strategy", "disagree", "--host", double.url)
    assert result.exit_code == 1
    assert "error: 1 of 3 predictions failed" in result.stderr
    assert "2 agree (not written), 1 failed" in result.stdout
    [record] = lines(project / "predictions.jsonl")
    assert record["formatted_input"] == doomed and record["status"] == "failed"
    assert "disagrees_with_teacher" not in record and "teacher_values" not in record


def test_disagree_with_nothing_to_check_says_so(project: Path) -> None:
    with OllamaDouble() as double:
        result = predict(project, "--strategy", "disagree", "--host", double.url)
        assert double.requests == []
    assert result.exit_code == 0
    assert "nothing to check: every teacher-labelled item is already in gold or pending" in result.stderr
    assert not (project / "predictions.jsonl").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "confident"], "Invalid value for '--strategy'"),
        (["--pool-factor", "3"], "only --strategy uncertain predicts a pool"),
        (["--strategy", "uncertain", "--pool-factor", "0"], "Invalid value for '--pool-factor'"),
    ],
    ids=["unknown-strategy", "pool-without-uncertain", "zero-pool"],
)
def test_bad_strategy_options_are_usage_errors(project: Path, ollama: OllamaDouble, args: list[str],
                                               message: str) -> None:
    result = predict(project, "--host", ollama.url, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert ollama.requests == [] and not (project / "predictions.jsonl").exists()
