"""`hcap model import` through the real ollama client against the loopback Ollama double."""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from doubles.loopback import closed_url
from doubles.ollama_double import OllamaDouble
from testdata import ROWS, write_comments
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.model_import import next_tag
from hcap_tui.template import OLLAMA_PARAMETERS, OLLAMA_TEMPLATE


@pytest.fixture
def gguf(tmp_path: Path) -> Path:
    """A small file with a GGUF header (magic, version 3, no tensors, no metadata)."""
    path = tmp_path / "flat-hcap-3b.Q4_K_M.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + bytes(range(256)) * 4)
    return path


@pytest.fixture
def server() -> Iterator[OllamaDouble]:
    """An Ollama double holding no models yet."""
    with OllamaDouble(models={}) as double:
        yield double


def run(*args: str):
    """Run `hcap model import ...` and return the result."""
    return CliRunner().invoke(app, ["model", "import", *args])


def test_import_creates_a_versioned_tag_with_the_project_template_and_points_the_name_at_it(
    gguf: Path, server: OllamaDouble
) -> None:
    result = run(str(gguf), "--host", server.url)
    assert result.exit_code == 0, result.output
    blob = "sha256:" + hashlib.sha256(gguf.read_bytes()).hexdigest()
    assert server.blobs == {blob: gguf.read_bytes()}
    created = server.created["flat-hcap:r1"]
    assert created["files"] == {gguf.name: blob}
    assert created["template"] == OLLAMA_TEMPLATE and created["parameters"] == OLLAMA_PARAMETERS
    assert server.models["flat-hcap:latest"] == server.models["flat-hcap:r1"]
    assert f"imported flat-hcap:r1 ({server.models['flat-hcap:r1']})" in result.stdout
    assert "flat-hcap now points at flat-hcap:r1" in result.stdout
    assert "next: hcap predict --count 20\n" in result.stdout
    assert "uploading flat-hcap-3b.Q4_K_M.gguf" in result.stderr


def test_the_next_import_gets_the_next_round_tag(gguf: Path, server: OllamaDouble) -> None:
    server.models.update({"flat-hcap:r2": "sha256:" + "a" * 64, "flat-hcap:r10": "sha256:" + "b" * 64})
    result = run(str(gguf), "--host", server.url, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "flat-hcap:r11" and report["latest"] == "flat-hcap:latest"
    assert report["digest"] == server.models["flat-hcap:r11"] == server.models["flat-hcap:latest"]


def test_next_tag_counts_only_round_tags_of_that_name() -> None:
    existing = ["flat-hcap:r3", "flat-hcap:latest", "flat-hcap:r3-test", "other:r9", "flat-hcap-big:r7"]
    assert next_tag(existing, "flat-hcap") == "r4"
    assert next_tag([], "flat-hcap") == "r1"


def test_an_explicit_tag_and_name_are_used_and_the_hint_names_the_model(gguf: Path, server: OllamaDouble) -> None:
    result = run(str(gguf), "--host", server.url, "--name", "hcap-small", "--tag", "v2.1")
    assert result.exit_code == 0, result.output
    assert set(server.models) == {"hcap-small:v2.1", "hcap-small:latest"}
    assert "next: hcap predict --count 20 --model hcap-small" in result.stdout


def test_an_existing_tag_is_not_overwritten(gguf: Path, server: OllamaDouble) -> None:
    server.models["flat-hcap:r1"] = "sha256:" + "c" * 64
    result = run(str(gguf), "--host", server.url, "--tag", "r1")
    assert result.exit_code == 1
    assert result.stderr == "error: flat-hcap:r1 already exists in Ollama: pass another --tag, e.g. r2\n"
    assert server.blobs == {} and server.models == {"flat-hcap:r1": "sha256:" + "c" * 64}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "flat-hcap:r3"], "--name 'flat-hcap:r3' includes a tag"),
        (["--tag", "latest"], "--tag 'latest' cannot be used"),
        (["--tag", "r 3"], "--tag 'r 3' cannot be used"),
    ],
)
def test_bad_names_and_tags_are_one_line(gguf: Path, server: OllamaDouble, args: list[str], message: str) -> None:
    result = run(str(gguf), "--host", server.url, *args)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {message}")
    assert server.blobs == {}


def test_a_missing_file_is_one_line(tmp_path: Path, server: OllamaDouble) -> None:
    result = run(str(tmp_path / "nope.gguf"), "--host", server.url)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'nope.gguf'} not found")
    assert server.blobs == {}


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path, server: OllamaDouble) -> None:
    path = tmp_path / "adapter.safetensors"
    path.write_bytes(b'{"__metadata__": {}}')
    result = run(str(path), "--host", server.url)
    assert result.exit_code == 1 and "is not a GGUF file (it does not start with 'GGUF')" in result.stderr
    assert server.blobs == {}


def test_a_server_that_is_down_is_one_line(gguf: Path) -> None:
    url = closed_url()
    result = run(str(gguf), "--host", url)
    assert result.exit_code == 1
    assert result.stderr == f"error: cannot reach Ollama at {url}: start it with `ollama serve`, or point hcap at it with --host or OLLAMA_HOST\n"


def test_a_server_too_old_for_files_says_which_version_is_needed(gguf: Path) -> None:
    with OllamaDouble(models={}, version="0.5.4") as old:
        result = run(str(gguf), "--host", old.url)
        assert old.models == {}
    assert result.exit_code == 1
    assert "too old to create models from uploaded files: upgrade to Ollama 0.5.5 or newer" in result.stderr


def test_an_imported_model_serves_hcap_predict(gguf: Path, server: OllamaDouble, data_dir: Path) -> None:
    write_comments(data_dir, ROWS[1:2])
    assert run(str(gguf), "--host", server.url).exit_code == 0
    result = CliRunner().invoke(app, ["predict", "--data-dir", str(data_dir), "--host", server.url, "--seed", "1"])
    assert result.exit_code == 0, result.output
    record = json.loads((data_dir / "predictions.jsonl").read_text(encoding="utf-8"))
    assert record["model"] == "flat-hcap" and record["model_digest"] == server.models["flat-hcap:r1"]
