"""`hcap train` refusing a run, as a user sees it: one `error:` line, exit 1, and no output folder left behind.

Each refusal happens before any model weights are loaded, so these run in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.train.loop import fit
from hcap_tui.train.options import TrainError, TrainOptions
from hcap_tui.train.progress import StepReporter

TINY_BASE = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "tiny-llama3"
PROMPT = "Won | [HORSE]: Led, kept on."


def exported(data_dir: Path, schema, rows: int = 3) -> Path:
    label = {f.name: (False if f.kind == "bool" else f.values[0] if f.kind == "enum" else "Led, kept on.")
             for f in schema.fields}
    line = json.dumps({"prompt": PROMPT, "completion": schema.dumps(label)}) + "\n"
    (data_dir / "training_data.jsonl").write_text(line * rows, encoding="utf-8")
    return data_dir


def train(data_dir: Path, *args: str):
    return CliRunner().invoke(app, ["train", "--data-dir", str(data_dir), *args])


def assert_refused(result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0]


def test_no_training_rows_says_to_export(data_dir: Path, tmp_path: Path) -> None:
    result = train(data_dir, "--base", str(TINY_BASE), "--gguf", "f16", "--out", str(tmp_path / "out"))
    assert_refused(result, "training_data.jsonl not found", "run hcap export first")

    (data_dir / "training_data.jsonl").write_text("", encoding="utf-8")
    result = train(data_dir, "--base", str(TINY_BASE), "--gguf", "f16", "--out", str(tmp_path / "out"))
    assert_refused(result, "holds no rows", "hcap export")
    assert not (tmp_path / "out").exists()


def test_a_base_that_is_not_llama3_is_refused(data_dir: Path, schema, tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    other = Tokenizer(models.WordLevel({"<s>": 0, "</s>": 1, "<unk>": 2}, unk_token="<unk>"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    base = tmp_path / "mistral-like"
    PreTrainedTokenizerFast(tokenizer_object=other, bos_token="<s>", eos_token="</s>").save_pretrained(base)

    result = train(exported(data_dir, schema), "--base", str(base), "--gguf", "f16", "--out", str(tmp_path / "out"))
    assert_refused(result, "is not a Llama 3 model", "<s>", "Llama 3.2 Instruct")
    assert not (tmp_path / "out").exists()


def test_a_missing_base_is_one_line(data_dir: Path, schema, tmp_path: Path) -> None:
    result = train(exported(data_dir, schema), "--base", str(tmp_path / "no-such-model"), "--gguf", "f16",
                   "--out", str(tmp_path / "out"))
    assert_refused(result, "cannot load the base model", "no-such-model")


def test_a_used_output_folder_is_refused(data_dir: Path, schema, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "flat-hcap-f16.gguf").write_bytes(b"GGUF earlier run")
    result = train(exported(data_dir, schema), "--base", str(TINY_BASE), "--gguf", "f16", "--out", str(out))
    assert_refused(result, "already exists and is not empty")
    assert (out / "flat-hcap-f16.gguf").read_bytes() == b"GGUF earlier run"


def test_q4_k_m_on_cpu_without_a_quantize_tool_suggests_q8_0_before_training(
    data_dir: Path, schema, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hcap_tui.train.llama_cpp.quantize_tool", lambda: None)
    result = train(exported(data_dir, schema), "--base", str(TINY_BASE), "--out", str(tmp_path / "out"))
    assert_refused(result, "--gguf q4_k_m needs Unsloth on a CUDA GPU", "use --gguf q8_0")
    assert not (tmp_path / "out").exists()


def test_rows_longer_than_the_limit_are_refused(data_dir: Path, schema, tmp_path: Path) -> None:
    result = train(exported(data_dir, schema), "--base", str(TINY_BASE), "--gguf", "f16", "--max-seq-length", "16",
                   "--out", str(tmp_path / "out"))
    assert_refused(result, "3 training rows are longer than --max-seq-length 16 tokens", "raise --max-seq-length")
    assert not (tmp_path / "out").exists()


class OutOfMemoryTrainer:
    """Stands in for the trainer at the moment CUDA runs out of memory in the first step."""

    def add_callback(self, callback) -> None:
        pass

    def remove_callback(self, callback) -> None:
        pass

    def train(self):
        import torch

        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_running_out_of_gpu_memory_suggests_a_smaller_batch_or_the_1b_model() -> None:
    from rich.console import Console

    reporter = StepReporter(Console(quiet=True), total_steps=10)
    options = TrainOptions(base="unsloth/Llama-3.2-3B-Instruct", batch_size=4)
    with pytest.raises(TrainError) as raised:
        fit(OutOfMemoryTrainer(), reporter, options)
    assert str(raised.value) == (
        "out of GPU memory while training unsloth/Llama-3.2-3B-Instruct with --batch-size 4: use --batch-size 1, "
        "a shorter --max-seq-length, or the 1B model"
    )


def test_unsloth_is_used_only_when_installed_and_a_cuda_gpu_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    import torch

    from hcap_tui.train import backend

    real_find_spec = importlib.util.find_spec

    def with_unsloth(installed: bool):
        return lambda name, *a: (object() if installed else None) if name == "unsloth" else real_find_spec(name, *a)

    for installed, cuda, expected in [(True, True, True), (True, False, False), (False, True, False)]:
        monkeypatch.setattr(importlib.util, "find_spec", with_unsloth(installed))
        monkeypatch.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
        assert backend.unsloth_usable() is expected
