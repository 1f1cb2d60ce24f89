"""`hcap apply` against a real llama.cpp server (the tiny flat-hcap GGUF as `openai:flat-hcap`).

N eligible comments end as N lines; `kill -9` halfway and a rerun still end as N lines, none repeated or torn;
`--write-batch`, each request body sent to the server as a batch service would, then `--read-batch` of its
answers gives the labels a live run gives.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from engine.llama_server import LlamaServer
from testdata import read_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.comments import format_input
from hcap_tui.schema import LabelSchema

SAMPLE_COMMENTS = Path(__file__).resolve().parents[1] / "data" / "comments.csv"
MODEL = "openai:flat-hcap"


def comments_csv(folder: Path, rows: int) -> Path:
    """A data folder whose comments.csv holds the first `rows` eligible rows of the bundled sample."""
    folder.mkdir(parents=True, exist_ok=True)
    with SAMPLE_COMMENTS.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        kept = [row for row in reader if format_input(dict(zip(header, row)))][:rows]
    with (folder / "comments.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([header, *kept])
    return folder


def apply(project: Path, server: LlamaServer, *args: str):
    """Run `hcap apply` on the project against the server."""
    return CliRunner().invoke(app, ["apply", "--data-dir", str(project), "--model", MODEL,
                                    "--host", server.openai_url, *args])


def lines_of(path: Path) -> list[bytes]:
    """The raw lines of a file."""
    return path.read_bytes().splitlines(keepends=True) if path.exists() else []


def test_n_eligible_comments_end_as_n_valid_lines(tmp_path: Path, llama_server: LlamaServer,
                                                   schema: LabelSchema) -> None:
    project = comments_csv(tmp_path / "data", 24)
    result = apply(project, llama_server, "--concurrency", "4", "--json")
    assert result.exit_code == 0, result.output
    records = read_jsonl(project / "signals.jsonl")
    assert len(records) == 24 and len({r["formatted_input"] for r in records}) == 24
    for record in records:
        schema.extract(record)
        assert record["model"] == MODEL and "horse_name" in record and "race_id" in record
    assert json.loads(result.stdout)["labelled"] == 24


def test_kill_9_halfway_then_a_rerun_ends_with_one_whole_line_per_comment(tmp_path: Path,
                                                                        llama_server: LlamaServer) -> None:
    project = comments_csv(tmp_path / "data", 160)
    output = project / "signals.jsonl"
    command = [sys.executable, "-c", "from hcap_tui.cli import main; main()", "apply", "--data-dir", str(project),
               "--model", MODEL, "--host", llama_server.openai_url, "--concurrency", "2"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(lines_of(output)) < 12:
        assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
        assert time.monotonic() < deadline, "no lines appeared"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = lines_of(output)
    assert process.returncode == -signal.SIGKILL and 12 <= len(killed_at) < 160  # killed halfway, not finished
    assert all(line.endswith(b"\n") for line in killed_at)  # no torn line
    rerun = apply(project, llama_server, "--concurrency", "4", "--json")
    summary = json.loads(rerun.stdout)
    assert rerun.exit_code == (1 if summary["failed"] else 0), rerun.output  # llama-server fails a rare comment
    assert summary["skipped"] >= len(killed_at) - summary["retried"]
    assert summary["labelled"] + summary["failed"] + summary["skipped"] == 160
    records = read_jsonl(output)  # every line parses: none torn
    assert len(records) == 160 and len({r["formatted_input"] for r in records}) == 160
    assert len([r for r in records if r.get("status") == "failed"]) == summary["failed"] <= 3
    assert lines_of(output)[: len(killed_at)] == killed_at  # the lines written before the kill are kept as they were


def test_a_batch_round_trip_gives_the_labels_of_a_live_run(tmp_path: Path, llama_server: LlamaServer,
                                                           schema: LabelSchema) -> None:
    live = comments_csv(tmp_path / "live", 10)
    offline = comments_csv(tmp_path / "offline", 10)
    assert apply(live, llama_server).exit_code == 0
    written = CliRunner().invoke(app, ["apply", "--data-dir", str(offline), "--model", MODEL,
                                       "--write-batch", str(tmp_path / "requests.jsonl")])
    assert written.exit_code == 0, written.output
    results = []
    with httpx.Client(base_url=llama_server.url, timeout=60) as client:  # what `vllm run-batch` does with each line
        for number, request in enumerate(read_jsonl(tmp_path / "requests.jsonl")):
            response = client.request(request["method"], request["url"], json=request["body"])
            results.append({"id": f"batch_req_{number}", "custom_id": request["custom_id"],
                            "response": {"status_code": response.status_code, "request_id": f"req_{number}",
                                         "body": response.json()},
                            "error": None})
    results.reverse()  # a batch service answers in any order
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    read = CliRunner().invoke(app, ["apply", "--data-dir", str(offline), "--model", MODEL,
                                    "--read-batch", str(tmp_path / "results.jsonl"), "--json", "--format", "csv"])
    assert read.exit_code == 0, read.output
    assert json.loads(read.stdout)["labelled"] == 10
    with (offline / "signals.csv").open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 10
    live_labels = {r["formatted_input"]: {k: r[k] for k in schema.names} for r in read_jsonl(live / "signals.jsonl")}
    batch_labels = {r["formatted_input"]: {k: r[k] for k in schema.names}
                    for r in read_jsonl(offline / "signals.jsonl")}
    assert len(live_labels) == 10 and batch_labels == live_labels
