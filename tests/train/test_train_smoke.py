"""`hcap train` end to end on CPU, as a user runs it: gold → hcap export → hcap train → GGUF → llama-server →
hcap predict and hcap eval through the `openai:` backend.

The base is the tiny Llama 3-style model in tests/fixtures/tiny-llama3 (built by scripts/build_tiny_model.py from
nothing downloadable: the same folder the served test fixture was converted from), so 20 steps on one CPU thread
take seconds and the served model answers in the label shape. Every step is a real command in a subprocess; the
only shortcut is that the model is tiny.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from engine.llama_server import LlamaServer

from hcap_tui.comments import CommentsFile
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record
from hcap_tui.template import BOS_TOKEN, modelfile, render_training_text

REPO = Path(__file__).resolve().parents[2]
TINY_BASE = REPO / "tests" / "fixtures" / "tiny-llama3"
HCAP = "import sys; from hcap_tui.cli import main; sys.argv[0] = 'hcap'; main()"


def hcap(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run the hcap command line in a fresh interpreter, one compute thread (the CI machine has two cores)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run(
        [sys.executable, "-c", HCAP, *map(str, args)], capture_output=True, text=True, env=env, timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder with the sample comments and the sample teacher labels approved as gold, then exported."""
    data = tmp_path_factory.mktemp("smoke") / "data"
    data.mkdir()
    shutil.copy(REPO / "data" / "comments.csv", data / "comments.csv")
    schema = LabelSchema.default()
    lines = []
    for line in (REPO / "data" / "labeled.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        gold = flat_record(schema, record["formatted_input"], schema.extract(record), origin="gemini")
        lines.append(json.dumps(gold, ensure_ascii=False) + "\n")
    (data / "goldstandard.jsonl").write_text("".join(lines), encoding="utf-8")
    exported = hcap("export", "--data-dir", data)
    assert exported.returncode == 0, exported.stderr
    return data


@pytest.fixture(scope="module")
def trained(project: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """`hcap train --base TINY --max-steps 20 --gguf f16`, run once for the module."""
    out = project.parent / "run"
    run = hcap("train", "--base", TINY_BASE, "--max-steps", "20", "--gguf", "f16", "--out", out,
               "--data-dir", project)  # fmt: skip
    assert run.returncode == 0, run.stderr
    return out, run


def test_hcap_train_leaves_a_gguf_a_modelfile_and_the_merged_model(trained) -> None:
    out, run = trained
    gguf = out / "flat-hcap-f16.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF"
    assert run.stdout.splitlines()[-1] == f"next: hcap model import {gguf}"
    assert (out / "Modelfile").read_text(encoding="utf-8") == modelfile("flat-hcap-f16.gguf")
    assert (out / "merged" / "model.safetensors").is_file() and (out / "adapter" / "adapter_config.json").is_file()
    merged_config = json.loads((out / "merged" / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert merged_config["bos_token"] == BOS_TOKEN

    report = json.loads((out / "train_report.json").read_text(encoding="utf-8"))
    assert report["steps"] == 20 and report["training_rows"] + report["eval_rows"] == 200
    assert report["eval"]["n"] == report["eval_rows"]

    err = run.stderr
    assert "the loss covers only the label JSON and <|eot_id|>, after one <|begin_of_text|>" in err
    assert "(a rough estimate)" in err and "step 20/20" in err
    assert "exact match" in err  # the held-out agreement table
    assert "Traceback" not in err


def test_the_served_gguf_renders_the_training_text(trained, project: Path) -> None:
    out, _ = trained
    prompts = [c.formatted_input for c in CommentsFile(project / "comments.csv").random_sample(4, seed=5)]
    with LlamaServer(out / "flat-hcap-f16.gguf") as server:
        for prompt in prompts:
            served = httpx.post(
                f"{server.url}/apply-template", json={"messages": [{"role": "user", "content": prompt}]}, timeout=30
            ).json()["prompt"]
            assert BOS_TOKEN + served == render_training_text(prompt, None)


def test_the_trained_model_labels_through_hcap_predict_and_eval(trained, project: Path) -> None:
    pytest.importorskip("hcap_tui.models", reason="the openai: backend (hcap_tui.models) is not on this branch yet")
    out, _ = trained
    schema = LabelSchema.default()
    with LlamaServer(out / "flat-hcap-f16.gguf", parallel=2) as server:
        model = ["--model", "openai:flat-hcap", "--host", server.openai_url, "--data-dir", project]
        predicted = hcap("predict", "--count", "8", "--concurrency", "2", "--seed", "3", *model)
        assert predicted.returncode == 0, predicted.stderr
        lines = [json.loads(line) for line in (project / "predictions.jsonl").read_text().splitlines()]
        assert len(lines) == 8
        for line in lines:
            assert line.get("status") != "failed", line
            schema.extract(line)  # every signal present and valid

        evaluated = hcap("eval", *model)
        assert evaluated.returncode == 0, evaluated.stderr
        history = [json.loads(line) for line in (project / "evals.jsonl").read_text().splitlines()]
        assert history[-1]["model"].endswith("flat-hcap") and history[-1]["n"] > 0
