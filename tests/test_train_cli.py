"""`hcap train` before any training library is touched: options, the missing-extra message, and the parts of a run
that need no torch (progress lines, the time estimate, the GGUF route, the output folder, the converter cache).

The training itself is tested in tests/train/, which needs the `train` extra.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.train import artifacts, llama_cpp
from hcap_tui.train.estimate import estimate
from hcap_tui.train.gguf_convert import LLAMA3_SPLIT, splits_like_llama3
from hcap_tui.train.options import TrainError, TrainOptions
from hcap_tui.train.progress import StepReporter

# Runs `hcap train` in a fresh interpreter in which the training libraries cannot be imported, as on a machine
# without the extra (whether or not this one has it).
WITHOUT_EXTRA = """
import sys
for name in ("torch", "transformers", "peft", "trl", "datasets", "sentencepiece"):
    sys.modules[name] = None  # what Python does for a module that cannot be imported: find_spec gives None
sys.argv = ["hcap", *sys.argv[1:]]
from hcap_tui.cli import main
main()
"""


def hcap_without_extra(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_EXTRA, *args], capture_output=True, text=True, check=False)


def test_without_the_train_extra_hcap_train_names_the_pip_command(data_dir: Path) -> None:
    (data_dir / "training_data.jsonl").write_text("", encoding="utf-8")
    result = hcap_without_extra("train", "--data-dir", str(data_dir), "--gguf", "f16")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        (
            "error: hcap train needs the train extra (torch, transformers, peft, trl, datasets, sentencepiece not "
            "installed): run python3 -m pip install -e '.[train]' in the hcap folder"
        )
    ]
    assert list(data_dir.iterdir()) == [data_dir / "training_data.jsonl"]  # nothing written


def test_train_help_lists_the_options_of_a_fine_tune() -> None:
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for option in ("--base", "--epochs", "--max-steps", "--lora-rank", "--learning-rate", "--gguf", "--out",
                   "--batch-size", "--data-dir"):
        assert option in result.output
    assert "q4_k_m" in result.output and "unsloth/Llama-3.2-1B-Instruct" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-steps", "0"], "error: --max-steps must be at least 1"),
        (["--learning-rate", "0"], "error: --learning-rate must be above 0"),
        (["--lora-rank", "0"], "error: --lora-rank must be at least 1"),
    ],
)
def test_out_of_range_settings_are_one_error_line(data_dir: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["train", "--data-dir", str(data_dir), *args])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [message]


def test_an_unknown_gguf_type_is_a_usage_error(data_dir: Path) -> None:
    result = CliRunner().invoke(app, ["train", "--data-dir", str(data_dir), "--gguf", "q2_k"])
    assert result.exit_code == 2
    assert "q2_k" in result.stderr and "Traceback" not in result.stderr


def test_the_batch_size_keeps_the_rows_per_step_and_the_out_folder_is_new(data_dir: Path) -> None:
    assert TrainOptions(batch_size=2).grad_accumulation == 4
    assert TrainOptions(batch_size=1).grad_accumulation == 8
    assert TrainOptions(batch_size=16).grad_accumulation == 1
    out = TrainOptions().out_dir(data_dir)
    assert out.parent == data_dir / "models" and out.name.startswith("flat-hcap-")
    assert TrainOptions(gguf="q8_0").gguf_name() == "flat-hcap-q8_0.gguf"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_off_a_terminal_is_a_line_every_tenth_of_the_run() -> None:
    out = io.StringIO()
    clock = Clock()
    reporter = StepReporter(Console(file=out, force_terminal=False, width=200), total_steps=20, clock=clock)
    reporter.start()
    for step in range(1, 21):
        clock.now += 1.5
        reporter.update(step, loss=3.0 - step * 0.1)
    reporter.stop()

    lines = out.getvalue().splitlines()
    assert lines[0] == "step 1/20  loss 2.900  elapsed 2 s  left 28 s"
    assert lines[-1] == "step 20/20  loss 1.000  elapsed 30 s  left 0 s"
    assert len(lines) == 11  # steps 1, 3, 5, … 19, then the last


def test_progress_on_a_terminal_is_a_bar_with_steps_loss_and_time_left() -> None:
    out = io.StringIO()
    reporter = StepReporter(Console(file=out, force_terminal=True, width=120), total_steps=40, clock=Clock())
    reporter.start()
    reporter.update(10, loss=1.234)
    reporter.stop()
    screen = out.getvalue()
    assert "10/40" in screen and "loss 1.234" in screen and "left" in screen


def test_the_estimate_warns_before_days_of_cpu_training() -> None:
    three_b_cpu = estimate(3_200_000_000, tokens_per_step=8 * 250, steps=75, device="cpu")
    assert three_b_cpu.warning is not None
    assert "3.2B-parameter model on CPU" in three_b_cpu.warning and "GPU" in three_b_cpu.warning
    one_b_gpu = estimate(1_240_000_000, tokens_per_step=8 * 250, steps=75, device="cuda")
    assert one_b_gpu.warning is None and 60 < one_b_gpu.seconds < 3600
    assert one_b_gpu.line(75, "cuda").startswith("about ") and "(a rough estimate)" in one_b_gpu.line(75, "cuda")


def test_q4_k_m_without_unsloth_or_a_quantize_tool_suggests_q8_0(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TrainError, match=r"--gguf q4_k_m needs Unsloth on a CUDA GPU .* use --gguf q8_0"):
        artifacts.gguf_route(TrainOptions(gguf="q4_k_m"), unsloth=False)
    assert artifacts.gguf_route(TrainOptions(gguf="q4_k_m"), unsloth=True) == "unsloth"
    assert artifacts.gguf_route(TrainOptions(gguf="f16"), unsloth=False) == "converter"
    assert artifacts.gguf_route(TrainOptions(gguf="none"), unsloth=False) == "none"

    tool = tmp_path / "llama-quantize"
    tool.write_text("#!/bin/sh\n", encoding="utf-8")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    assert artifacts.gguf_route(TrainOptions(gguf="q4_k_m"), unsloth=False) == "quantize"


def test_a_used_output_folder_is_refused(tmp_path: Path) -> None:
    used = tmp_path / "out"
    used.mkdir()
    (used / "flat-hcap-f16.gguf").write_bytes(b"GGUF")
    with pytest.raises(TrainError, match="already exists and is not empty: pass --out with a new folder"):
        artifacts.check_out_dir(used)
    artifacts.check_out_dir(tmp_path / "new")
    assert not (tmp_path / "new").exists()  # checking creates nothing


def test_the_import_command_quotes_the_path() -> None:
    assert artifacts.import_command(Path("/data/models/my run/flat-hcap-f16.gguf")) == (
        "hcap model import '/data/models/my run/flat-hcap-f16.gguf'"
    )


def test_the_converter_cache_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HCAP_CACHE_DIR", str(tmp_path / "cache"))
    assert llama_cpp.cache_dir() == tmp_path / "cache"
    monkeypatch.delenv("HCAP_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert llama_cpp.cache_dir() == tmp_path / "xdg" / "hcap"


def test_a_cached_converter_is_used_without_fetching(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HCAP_CACHE_DIR", str(tmp_path))
    cached = tmp_path / f"llama.cpp-{llama_cpp.LLAMA_CPP_PYTHON_VERSION}"
    cached.mkdir()
    (cached / "convert_hf_to_gguf.py").write_text("", encoding="utf-8")
    steps: list[str] = []
    assert llama_cpp.converter_dir(steps.append) == cached
    assert steps == []


def test_only_a_llama3_split_rule_is_named_llama_bpe(tmp_path: Path) -> None:
    def tokenizer_with(pattern: str) -> Path:
        folder = tmp_path / str(abs(hash(pattern)))
        folder.mkdir()
        pre = {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
        ]}  # fmt: skip
        (folder / "tokenizer.json").write_text(json.dumps({"pre_tokenizer": pre}), encoding="utf-8")
        return folder

    assert splits_like_llama3(tokenizer_with(LLAMA3_SPLIT))
    assert not splits_like_llama3(tokenizer_with(r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+"))  # GPT-2's
    assert not splits_like_llama3(tmp_path)  # no tokenizer.json


@pytest.mark.skipif(os.name != "posix", reason="quantize tool stand-in is a shell script")
def test_a_failing_quantize_tool_is_one_line(tmp_path: Path) -> None:
    tool = tmp_path / "llama-quantize"
    tool.write_text("#!/bin/sh\necho 'llama_model_quantize: failed to quantize: bad magic' >&2\nexit 1\n")
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    with pytest.raises(llama_cpp.ConvertError, match="llama-quantize failed on in.gguf: .*bad magic"):
        llama_cpp.quantize(tool, tmp_path / "in.gguf", tmp_path / "out.gguf", "q4_k_m")


def finished_run(tmp_path: Path):
    """What train() returns after a run that wrote every file (the run itself is tested in tests/train)."""
    from hcap_tui.metrics import Scorecard
    from hcap_tui.train import TrainResult

    out = tmp_path / "models" / "run 1"
    return TrainResult(
        out=out, adapter=out / "adapter", merged=out / "merged", gguf=out / "flat-hcap-q8_0.gguf",
        modelfile=out / "Modelfile", report=out / "train_report.json", backend="transformers", device="cpu",
        steps=20, training_loss=1.25, scorecard=Scorecard(n=0, failed=0, booleans={}, enums={}, exact=0),
    )  # fmt: skip


def test_a_finished_run_prints_its_files_and_the_import_command(monkeypatch, data_dir: Path, tmp_path: Path) -> None:
    result = finished_run(tmp_path)
    seen: list[TrainOptions] = []

    def fake_train(options: TrainOptions, data_dir: Path | None):
        seen.append(options)
        return result

    monkeypatch.setattr("hcap_tui.train.run.train", fake_train)
    printed = CliRunner().invoke(app, ["train", "--data-dir", str(data_dir), "--gguf", "q8_0", "--max-steps", "20"])
    assert printed.exit_code == 0, printed.output
    assert seen[0].gguf == "q8_0" and seen[0].max_steps == 20 and seen[0].base == "unsloth/Llama-3.2-1B-Instruct"
    lines = printed.stdout.splitlines()
    assert lines[0] == f"adapter   {result.adapter}"
    assert lines[-1] == f"next: hcap model import '{result.gguf}'"

    as_json = CliRunner().invoke(app, ["train", "--data-dir", str(data_dir), "--gguf", "q8_0", "--json"])
    summary = json.loads(as_json.stdout)
    assert summary["gguf"] == str(result.gguf) and summary["import_command"] == f"hcap model import '{result.gguf}'"
    assert summary["steps"] == 20 and summary["eval"]["n"] == 0
