"""Malformed server URLs, on the command line, in hcap.toml or in OLLAMA_HOST, are one line, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from doubles.ollama_double import OllamaDouble, Reply
from doubles.openai_double import Completion, OpenAIDouble
from testdata import label, read_jsonl, write_comments, write_jsonl
from typer.testing import CliRunner

from hcap_tui.cli import app

MALFORMED = ["localhost:abc", "http://127.0.0.1:99999", "::::", "http://[::1"]


@pytest.fixture
def project(data_dir: Path) -> Path:
    """A data folder with a comments.csv of five eligible rows."""
    return write_comments(data_dir)


def one_error_line(result, names: str) -> None:
    """The command failed with exit 1 and a single `error:` line naming the value's source."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: {names} ") and result.stderr.count("\n") == 1
    assert "is not a server URL" in result.stderr and "give one such as http" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("host", MALFORMED)
@pytest.mark.parametrize(
    "command",
    [
        ["predict"],
        ["predict", "--model", "openai:flat-hcap"],
        ["eval"],
        ["label", "--teacher", "ollama:qwen2.5:7b"],
        ["label", "--teacher", "openai:flat-hcap"],
        ["model", "import", "flat-hcap.gguf"],
    ],
    ids=["predict", "predict-openai", "eval", "label-ollama", "label-openai", "model-import"],
)
def test_a_malformed_host_option_is_one_line(project: Path, command: list[str], host: str) -> None:
    write_jsonl(project / "eval_data.jsonl", [{"prompt": "Won | [HORSE]: Made all", "completion": json.dumps(label())}])
    result = CliRunner().invoke(app, [*command, "--data-dir", str(project), "--host", host])
    one_error_line(result, f"--host {host!r}")


@pytest.mark.parametrize("host", MALFORMED)
def test_a_malformed_host_in_hcap_toml_names_the_setting(project: Path, host: str) -> None:
    (project / "hcap.toml").write_text(f'ollama_host = "{host}"\nopenai_base_url = "{host}"\n', encoding="utf-8")
    for args in (["predict"], ["predict", "--model", "openai:flat-hcap"]):
        result = CliRunner().invoke(app, [*args, "--data-dir", str(project)])
        setting = "openai_base_url" if "openai:flat-hcap" in args else "ollama_host"
        one_error_line(result, f"{setting} in {project / 'hcap.toml'} {host!r}")


def run_script(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A console script of this interpreter's installation, in a fresh process (environment read at import)."""
    script = Path(sys.executable).parent / args[0]
    return subprocess.run([str(script), *args[1:]], capture_output=True, text=True, env=env, cwd=cwd, timeout=60,
                          check=False)


@pytest.mark.parametrize("host", MALFORMED)
def test_a_malformed_ollama_host_breaks_no_front_end(project: Path, host: str) -> None:
    env = {**os.environ, "OLLAMA_HOST": host}
    for args in (["hcap", "--help"], ["hcap", "stats", "--data-dir", str(project)],
                 ["hcap-tui", "--help"], ["hcap-tui", "review", "--help"], ["hcap", "review", "--help"]):
        done = run_script(*args, env=env, cwd=project)
        assert done.returncode == 0, (args, done.stderr)
        assert "Traceback" not in done.stderr
    done = run_script("hcap", "predict", "--data-dir", str(project), env=env, cwd=project)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: OLLAMA_HOST {host!r} is not a server URL (")
    assert done.stderr.count("\n") == 1


def test_a_well_formed_host_option_wins_over_a_malformed_ollama_host(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "::::")
    with OllamaDouble() as double:
        result = CliRunner().invoke(app, ["predict", "--data-dir", str(project), "--host", double.url, "--count", "1"])
    assert result.exit_code == 0, result.output
    assert len(read_jsonl(project / "predictions.jsonl")) == 1


@pytest.mark.parametrize(
    ("model", "serve"),
    [("flat-hcap", lambda: OllamaDouble(reply=lambda _b: Reply(drip=0.05))),
     ("openai:flat-hcap", lambda: OpenAIDouble(reply=lambda _b: Completion(drip=0.05)))],
    ids=["ollama", "openai"],
)
def test_a_server_trickling_its_answer_is_stopped_at_the_timeout(project: Path, model: str, serve) -> None:
    """The answer arrives a byte every 50 ms (about 30 s in all), well inside any per-read timeout."""
    with serve() as double:
        host = double.url + ("/v1" if model.startswith("openai:") else "")
        result = CliRunner().invoke(app, ["predict", "--data-dir", str(project), "--model", model, "--host", host,
                                          "--count", "1", "--timeout", "1"])
    assert result.exit_code == 1, result.output
    assert "did not answer within 1 s: raise it with --timeout" in result.stderr
    assert not (project / "predictions.jsonl").exists()
