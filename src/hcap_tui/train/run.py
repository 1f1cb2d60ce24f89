"""One fine-tune from exported gold to a servable GGUF: what `hcap train` and the Colab notebook both call.

Order matters for the user's time: everything that can refuse the run (missing libraries, no rows, a base
that is not Llama 3, a GGUF type nothing here can write, an output folder in use, a loss on the wrong
tokens) is checked before the model weights are loaded, and the estimate is shown before the first step.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

from hcap_tui.config import open_project
from hcap_tui.finetune_data import TrainingRow, agreement_lines, evaluate, load_rows
from hcap_tui.metrics import Scorecard
from hcap_tui.train import artifacts, backend
from hcap_tui.train.data import check_loss, encode_rows
from hcap_tui.train.estimate import estimate
from hcap_tui.train.options import TrainError, TrainOptions
from hcap_tui.train.progress import StepReporter, duration


@dataclass
class TrainResult:
    """Where a run put its files, and how it went."""

    out: Path
    adapter: Path
    merged: Path
    gguf: Path | None
    modelfile: Path | None
    report: Path
    backend: str
    device: str
    steps: int
    training_loss: float
    scorecard: Scorecard | None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def import_command(self) -> str | None:
        """`hcap model import OUT/flat-hcap-Q.gguf`, or None when no GGUF was written."""
        return artifacts.import_command(self.gguf) if self.gguf is not None else None


def train(options: TrainOptions, data_dir: Path | None = None, console: Console | None = None) -> TrainResult:
    """Fine-tune `options.base` on the data folder's training_data.jsonl, evaluate, merge and export.

    Progress and figures go to `console` (stderr by default). Raises TrainError (or another HcapError) with a
    one-line message for every problem the user can fix.
    """
    console = console or Console(stderr=True, soft_wrap=True)
    say = _printer(console)
    backend.require_train_extra()
    project = open_project(data_dir)
    train_rows, eval_rows = _rows(project.paths.training, project.paths.eval, project.schema, say)
    unsloth = backend.unsloth_usable()
    route = artifacts.gguf_route(options, unsloth)
    out = options.out_dir(project.paths.root)
    artifacts.check_out_dir(out)
    _quiet_libraries()
    seconds: dict[str, float] = {}

    with _timed(seconds, "load"):
        tokenizer = backend.load_tokenizer(options.base)
        encoded = encode_rows(tokenizer, train_rows, options.max_seq_length)
        for row, item in zip(train_rows, encoded):
            check_loss(tokenizer, row, item["input_ids"], item["labels"])
        say(f"{len(train_rows)} training rows, {len(eval_rows)} held-out rows; the loss covers only the label JSON "
            "and <|eot_id|>, after one <|begin_of_text|>")
        backend_name = "Unsloth" if unsloth else "transformers + PEFT"
        say(f"loading {options.base} with {backend_name} (LoRA rank {options.lora_rank})")
        loaded = backend.load(options, tokenizer)
    artifacts.create_out_dir(out)

    with _timed(seconds, "train"):
        steps, loss = _fit(loaded, encoded, train_rows[0], options, console, say)
    say(f"trained {steps} steps in {duration(seconds['train'])}, training loss {loss:.3f}")

    card = None
    if eval_rows:
        with _timed(seconds, "eval"):
            card = _evaluate(loaded, eval_rows, project.schema, options, say)

    adapter, merged = out / "adapter", out / "merged"
    with _timed(seconds, "merge"):
        say(f"saving the adapter and the merged model in {out}")
        backend.save_adapter(loaded, adapter)
        backend.save_merged(loaded, merged)
    with _timed(seconds, "gguf"):
        if route != "none":
            say(f"writing {options.gguf_name()} ({artifacts.ROUTES[route]})")
        gguf = artifacts.write_gguf(route, loaded, merged, out, options, say)
    modelfile = artifacts.write_modelfile(out, gguf) if gguf is not None else None

    result_fields: dict[str, Any] = {
        "out": out, "adapter": adapter, "merged": merged, "gguf": gguf, "modelfile": modelfile,
        "backend": loaded.backend, "device": loaded.device, "steps": steps, "training_loss": loss,
        "scorecard": card, "seconds": seconds,
    }  # fmt: skip
    report = artifacts.write_report(out, _report(options, result_fields, len(train_rows), len(eval_rows)))
    return TrainResult(report=report, **result_fields)


@contextmanager
def _timed(seconds: dict[str, float], phase: str) -> Iterator[None]:
    """Add the seconds the block takes to `seconds[phase]` (reported in train_report.json)."""
    started = time.monotonic()
    try:
        yield
    finally:
        seconds[phase] = time.monotonic() - started


def _fit(
    loaded: backend.Loaded,
    encoded: list[dict[str, list[int]]],
    first: TrainingRow,
    options: TrainOptions,
    console: Console,
    say: Callable[[str], None],
) -> tuple[int, float]:
    """Estimate, check the trainer's first batch, train with progress; return (steps, mean training loss)."""
    from hcap_tui.train.loop import build_trainer, check_collated, fit, total_steps

    steps = total_steps(len(encoded), options)
    mean_tokens = sum(len(e["input_ids"]) for e in encoded) / len(encoded)
    guess = estimate(loaded.parameters, mean_tokens * options.batch_size * options.grad_accumulation, steps,
                     loaded.device)  # fmt: skip
    say(guess.line(steps, loaded.device))
    if guess.warning:
        say(f"warning: {guess.warning}")
    with tempfile.TemporaryDirectory(prefix="hcap-train-") as scratch:  # the trainer's own folder; it saves nothing
        trainer = build_trainer(loaded, encoded, options, Path(scratch))
        check_collated(trainer, loaded.tokenizer, first)
        return steps, fit(trainer, StepReporter(console, steps), options)


def _printer(console: Console) -> Callable[[str], None]:
    """A function printing one plain line of progress (no markup: paths and model names are shown as they are)."""

    def say(message: str) -> None:
        console.print(message, markup=False, highlight=False, soft_wrap=True)

    return say


def _rows(
    training: Path, held_out: Path, schema: Any, say: Callable[[str], None]
) -> tuple[list[TrainingRow], list[TrainingRow]]:
    """The exported training rows (required) and held-out rows (optional: without them there is no evaluation)."""
    if not training.is_file():
        raise TrainError(f"{training} not found: run hcap export first (it writes the training rows from gold)")
    train_rows = load_rows(training, schema)
    eval_rows = load_rows(held_out, schema) if held_out.is_file() and held_out.stat().st_size else []
    if not eval_rows:
        say(f"note: no held-out rows in {held_out}: the run will not be evaluated (hcap export writes them)")
    return train_rows, eval_rows


def _evaluate(
    loaded: backend.Loaded, rows: list[TrainingRow], schema: Any, options: TrainOptions, say: Callable[[str], None]
) -> Scorecard:
    """Greedy answers on the held-out rows, scored and printed per signal."""
    from hcap_tui.train.held_out import generate

    say(f"evaluating on {len(rows)} held-out rows (greedy, no grammar)")
    backend.for_inference(loaded)
    answers = generate(loaded.model, loaded.tokenizer, rows, options.max_new_tokens)
    card = evaluate(schema, rows, answers)
    for line in agreement_lines(schema, card):
        say(line)
    return card


def _report(options: TrainOptions, result: dict[str, Any], n_train: int, n_eval: int) -> dict[str, Any]:
    """The JSON written to train_report.json."""
    card = result["scorecard"]
    return {
        "options": {k: getattr(options, k) for k in options.__dataclass_fields__},
        "backend": result["backend"],
        "device": result["device"],
        "training_rows": n_train,
        "eval_rows": n_eval,
        "steps": result["steps"],
        "training_loss": result["training_loss"],
        "eval": card.to_dict() if card is not None else None,
        "files": {k: result[k] for k in ("adapter", "merged", "gguf", "modelfile")},
        "seconds": {k: round(v, 2) for k, v in result["seconds"].items()},
    }


def _quiet_libraries() -> None:
    """Keep the libraries' advice and progress bars out of hcap's output; their errors still show."""
    import os
    import warnings

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"(transformers|peft|trl)\.")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
