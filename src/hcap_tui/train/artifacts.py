"""What a training run leaves in its output folder, and the GGUF step that produces the served file.

    OUT/adapter/            the LoRA adapter and tokenizer (vLLM: base + --lora-modules)
    OUT/merged/             merged safetensors with hcap's chat template (vLLM serves this folder)
    OUT/flat-hcap-Q.gguf    the GGUF for Ollama or llama-server, Q = f16, q8_0 or q4_k_m
    OUT/Modelfile           for `ollama create` without hcap (hcap model import sets the same template)
    OUT/train_report.json   settings, loss, held-out agreement and timings of the run
"""

from __future__ import annotations

import json
import os
import shlex
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hcap_tui.finetune_data import find_gguf
from hcap_tui.jsonl import write_atomic
from hcap_tui.template import modelfile
from hcap_tui.train import llama_cpp
from hcap_tui.train.backend import Loaded, save_gguf_unsloth
from hcap_tui.train.options import TrainError, TrainOptions

Q4_FROM = "f16"  # what the quantize tool starts from
ROUTES = {
    "converter": "llama.cpp's converter",
    "unsloth": "Unsloth's GGUF export",
    "quantize": f"llama.cpp's converter, then {llama_cpp.QUANTIZE_TOOL}",
}


def check_out_dir(out: Path) -> None:
    """Refuse an output folder that already holds files, so no earlier run is overwritten."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise TrainError(f"{out} already exists and is not empty: pass --out with a new folder")


def create_out_dir(out: Path) -> Path:
    """Create the (checked) output folder once training is about to start."""
    check_out_dir(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TrainError(f"cannot create {out}: {exc.strerror or exc}; pass --out with a writable folder") from None
    return out


def gguf_route(options: TrainOptions, unsloth: bool) -> str:
    """How the GGUF will be made, decided before training so a run never fails at its last step.

    "none", "converter" (llama.cpp's converter writes f16/q8_0), "unsloth" (Unsloth's export, for q4_k_m on a
    GPU) or "quantize" (converter to f16, then llama.cpp's quantize tool).
    """
    if options.gguf == "none":
        return "none"
    if options.gguf in llama_cpp.CONVERTER_TYPES:
        return "converter"
    if unsloth:
        return "unsloth"
    if llama_cpp.quantize_tool() is not None:
        return "quantize"
    raise TrainError(
        f"--gguf {options.gguf} needs Unsloth on a CUDA GPU or llama.cpp's {llama_cpp.QUANTIZE_TOOL} on PATH: "
        "use --gguf q8_0 (a larger file, as good or better) or install llama.cpp"
    )


def write_gguf(
    route: str, loaded: Loaded, merged: Path, out: Path, options: TrainOptions, on_step: Callable[[str], None]
) -> Path | None:
    """Make OUT/flat-hcap-Q.gguf by the chosen route; None for `--gguf none`."""
    target = out / options.gguf_name()
    if route == "none":
        return None
    if route == "converter":
        return llama_cpp.convert(merged, target, options.gguf, on_step)
    with tempfile.TemporaryDirectory(dir=out, prefix=".gguf-") as tmp:
        if route == "unsloth":
            export = Path(tmp) / "export"  # Unsloth may write into a sibling `export_gguf`: inside tmp too
            save_gguf_unsloth(loaded, export, options.gguf)
            os.replace(find_gguf([export, Path(tmp) / "export_gguf"], options.gguf), target)
        else:
            tool = llama_cpp.quantize_tool()
            assert tool is not None  # checked by gguf_route before training
            source = llama_cpp.convert(merged, Path(tmp) / f"model-{Q4_FROM}.gguf", Q4_FROM, on_step)
            llama_cpp.quantize(tool, source, target, options.gguf)
    return target


def write_modelfile(out: Path, gguf: Path) -> Path:
    """OUT/Modelfile serving the GGUF beside it with hcap's template, stop token and temperature."""
    path = out / "Modelfile"
    write_atomic(path, modelfile(gguf.name).encode("utf-8"))
    return path


def write_report(out: Path, report: dict[str, Any]) -> Path:
    """OUT/train_report.json: what was trained, how, and how well."""
    path = out / "train_report.json"
    write_atomic(path, (json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
    return path


def import_command(gguf: Path) -> str:
    """The exact command that serves the GGUF in Ollama as flat-hcap."""
    return f"hcap model import {shlex.quote(str(gguf))}"
