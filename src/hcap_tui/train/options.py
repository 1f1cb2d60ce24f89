"""What a training run is asked to do: the settings `hcap train` and the notebook pass to `train()`.

Plain data with no heavy imports, so the CLI can build and check it before torch is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hcap_tui.errors import HcapError

DEFAULT_BASE = "unsloth/Llama-3.2-1B-Instruct"
GGUF_TYPES = ("f16", "q8_0", "q4_k_m", "none")
MODEL_NAME = "flat-hcap"
# Rows per optimiser step: batch size × gradient accumulation, kept at this whatever the batch size.
EFFECTIVE_BATCH = 8


class TrainError(HcapError):
    """A training run cannot start or cannot go on; the message names the fix."""


@dataclass(frozen=True)
class TrainOptions:
    """Settings of one fine-tune: base model, length of training, LoRA size, output."""

    base: str = DEFAULT_BASE
    epochs: float = 3.0
    max_steps: int | None = None  # overrides epochs when set
    lora_rank: int = 16
    learning_rate: float = 2e-4
    batch_size: int = 2
    max_seq_length: int = 2048
    gguf: str = "q4_k_m"
    out: Path | None = None  # default: <data folder>/models/flat-hcap-<time>
    seed: int = 3407
    max_new_tokens: int = 512  # answer length limit at evaluation, as `hcap predict` uses

    def __post_init__(self) -> None:
        if self.gguf not in GGUF_TYPES:
            raise TrainError(f"--gguf {self.gguf} is not one of {', '.join(GGUF_TYPES)}")
        for name in ("epochs", "learning_rate"):
            if not getattr(self, name) > 0:
                raise TrainError(f"--{name.replace('_', '-')} must be above 0")
        for name in ("lora_rank", "batch_size", "max_seq_length", "max_new_tokens"):
            if getattr(self, name) < 1:
                raise TrainError(f"--{name.replace('_', '-')} must be at least 1")
        if self.max_steps is not None and self.max_steps < 1:
            raise TrainError("--max-steps must be at least 1")

    @property
    def grad_accumulation(self) -> int:
        """Batches accumulated per optimiser step, so a smaller batch trains the same way, only slower."""
        return max(1, EFFECTIVE_BATCH // self.batch_size)

    def out_dir(self, data_dir: Path) -> Path:
        """Where this run writes: `out`, or a new time-stamped folder under the data folder's `models/`."""
        if self.out is not None:
            return self.out
        return data_dir / "models" / f"{MODEL_NAME}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"

    def gguf_name(self) -> str:
        """The GGUF file name in the output folder, e.g. `flat-hcap-q4_k_m.gguf`."""
        return f"{MODEL_NAME}-{self.gguf}.gguf"
