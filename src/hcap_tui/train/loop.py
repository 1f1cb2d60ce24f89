"""The training loop: TRL's SFTTrainer over rows hcap has already tokenised and masked.

hcap prepares the ids and labels itself (`train.data`) and tells the trainer to skip its own dataset
preparation, so the text, the single BOS and the answer-only loss do not depend on which TRL or Unsloth
version is installed. Before the first step the trainer's own collator is run on the first row and the
loss check is repeated on what it returns: what is checked is what is trained.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hcap_tui.finetune_data import TrainingRow
from hcap_tui.train.backend import Loaded
from hcap_tui.train.data import IGNORE_INDEX, check_loss
from hcap_tui.train.options import TrainError, TrainOptions
from hcap_tui.train.progress import StepReporter


def total_steps(rows: int, options: TrainOptions) -> int:
    """Optimiser steps the run will take: --max-steps, or the epochs over batches of the effective size."""
    if options.max_steps is not None:
        return options.max_steps
    per_epoch = math.ceil(rows / (options.batch_size * options.grad_accumulation))
    return max(1, math.ceil(per_epoch * options.epochs))


def build_trainer(loaded: Loaded, encoded: list[dict[str, list[int]]], options: TrainOptions, work_dir: Path) -> Any:
    """An SFTTrainer over the encoded rows, with hcap's collator and no checkpoints or logging services."""
    import torch
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq
    from trl import SFTConfig, SFTTrainer

    cuda = loaded.device == "cuda"
    bf16 = cuda and torch.cuda.is_bf16_supported()
    args = SFTConfig(
        output_dir=str(work_dir),
        per_device_train_batch_size=options.batch_size,
        gradient_accumulation_steps=options.grad_accumulation,
        num_train_epochs=options.epochs,
        max_steps=options.max_steps if options.max_steps is not None else -1,
        learning_rate=options.learning_rate,
        lr_scheduler_type="linear",
        warmup_steps=min(5, total_steps(len(encoded), options) // 10),
        weight_decay=0.01,
        optim="adamw_8bit" if cuda and loaded.backend == "unsloth" else "adamw_torch",
        bf16=bf16,
        fp16=cuda and not bf16,
        use_cpu=not cuda,
        logging_steps=1,
        disable_tqdm=True,
        save_strategy="no",
        report_to="none",
        seed=options.seed,
        data_seed=options.seed,
        max_length=options.max_seq_length,
        packing=False,
        remove_unused_columns=False,
        dataloader_num_workers=0,
        dataset_kwargs={"skip_prepare_dataset": True},
    )
    collator = DataCollatorForSeq2Seq(loaded.tokenizer, padding=True, label_pad_token_id=IGNORE_INDEX)
    return SFTTrainer(
        model=loaded.model,
        args=args,
        train_dataset=Dataset.from_list(encoded),
        processing_class=loaded.tokenizer,
        data_collator=collator,
    )


def check_collated(trainer: Any, tokenizer: Any, first: TrainingRow) -> str:
    """Run the trainer's collator on its first row and check one BOS and the answer-only loss; return what is learned."""
    example = {k: trainer.train_dataset[0][k] for k in ("input_ids", "attention_mask", "labels")}
    batch = trainer.data_collator([example])
    return check_loss(tokenizer, first, batch["input_ids"][0].tolist(), batch["labels"][0].tolist())


def fit(trainer: Any, reporter: StepReporter, options: TrainOptions) -> float:
    """Train, showing progress; return the mean training loss. Out of memory becomes a one-line TrainError."""
    import torch
    from transformers import PrinterCallback, TrainerCallback

    class Report(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any) -> None:
            if logs and "loss" in logs:  # logged after every optimiser step (logging_steps=1)
                reporter.update(state.global_step, float(logs["loss"]))

    trainer.remove_callback(PrinterCallback)  # it prints every log as a dict; the reporter shows them instead
    trainer.add_callback(Report())
    reporter.start()
    try:
        result = trainer.train()
    except torch.cuda.OutOfMemoryError:
        raise TrainError(
            f"out of GPU memory while training {options.base} with --batch-size {options.batch_size}: "
            "use --batch-size 1, a shorter --max-seq-length, or the 1B model"
        ) from None
    except MemoryError:
        raise TrainError(
            f"out of memory while training {options.base}: use --batch-size 1, a GPU, or the 1B model"
        ) from None
    finally:
        reporter.stop()
    return float(result.training_loss)

