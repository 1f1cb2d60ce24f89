"""`hcap train`: fine-tune the local model on the exported gold (the `train` extra), then evaluate and export it."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, guarded
from hcap_tui.train.options import DEFAULT_BASE, GGUF_TYPES, TrainOptions

GgufType = Enum("GgufType", {name: name for name in GGUF_TYPES}, type=str)  # type: ignore[misc]


@app.command()
@guarded
def train(
    base: Annotated[
        str, typer.Option("--base", help="Llama 3 base: a Hugging Face model id or a local model folder.")
    ] = DEFAULT_BASE,
    epochs: Annotated[float, typer.Option("--epochs", help="Passes over the training rows.")] = 3.0,
    max_steps: Annotated[
        int | None, typer.Option("--max-steps", help="Stop after this many optimiser steps (overrides --epochs).")
    ] = None,
    lora_rank: Annotated[int, typer.Option("--lora-rank", help="Rank of the LoRA adapters.")] = 16,
    learning_rate: Annotated[float, typer.Option("--learning-rate", help="Peak learning rate.")] = 2e-4,
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Rows per forward pass; lower it when memory runs out.")
    ] = 2,
    max_seq_length: Annotated[int, typer.Option("--max-seq-length", help="Longest training row, in tokens.")] = 2048,
    gguf: Annotated[
        GgufType,
        typer.Option(
            "--gguf",
            help="GGUF to write: q4_k_m needs Unsloth on a GPU or llama.cpp's llama-quantize; none skips it.",
        ),
    ] = GgufType["q4_k_m"],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="New folder for the results [default: DATA_DIR/models/flat-hcap-<time>].",
                     show_default=False),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Fine-tune a Llama 3 base with LoRA on training_data.jsonl, score it on eval_data.jsonl, write merged
    safetensors, a GGUF and a Modelfile, and print the `hcap model import` command."""
    options = TrainOptions(
        base=base, epochs=epochs, max_steps=max_steps, lora_rank=lora_rank, learning_rate=learning_rate,
        batch_size=batch_size, max_seq_length=max_seq_length, gguf=gguf.value, out=out,
    )  # fmt: skip
    from hcap_tui.train.run import train as run_training

    result = run_training(options, data_dir)
    if as_json:
        summary = {
            "out": str(result.out),
            "adapter": str(result.adapter),
            "merged": str(result.merged),
            "gguf": str(result.gguf) if result.gguf else None,
            "modelfile": str(result.modelfile) if result.modelfile else None,
            "backend": result.backend,
            "device": result.device,
            "steps": result.steps,
            "training_loss": result.training_loss,
            "eval": result.scorecard.to_dict() if result.scorecard else None,
            "import_command": result.import_command,
        }
        typer.echo(json.dumps(summary, ensure_ascii=False))
        return
    typer.echo(f"adapter   {result.adapter}")
    typer.echo(f"merged    {result.merged}   (safetensors with hcap's chat template: what vLLM serves)")
    if result.gguf is not None:
        typer.echo(f"gguf      {result.gguf}")
        typer.echo(f"Modelfile {result.modelfile}")
        typer.echo(f"next: {result.import_command}")
