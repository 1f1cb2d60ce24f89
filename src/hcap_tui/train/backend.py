"""Loading the base model with LoRA adapters, merging them back, and the two ways of doing it.

Unsloth (fast kernels, 4-bit base weights) is used when it is installed and a CUDA GPU is present; plain
transformers + PEFT otherwise, CPU included. Either way the tokenizer gets hcap's chat template, LoRA goes on
the same projection layers with the same rank, and training sees the same rows (`train.data`).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hcap_tui.template import CHAT_TEMPLATE, EOT_TOKEN
from hcap_tui.train.data import check_llama3_tokenizer, set_pad_token
from hcap_tui.train.options import TrainError, TrainOptions

# Every attention and MLP projection of a Llama block: the usual LoRA targets for a small instruction model.
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TRAIN_EXTRA = ("torch", "transformers", "peft", "trl", "datasets", "sentencepiece")
INSTALL_EXTRA = "python3 -m pip install -e '.[train]'"


class MissingExtraError(TrainError):
    """The optional training libraries are not installed."""


def require_train_extra() -> None:
    """Raise MissingExtraError naming the pip command when any library of the `train` extra is missing."""
    missing = [name for name in TRAIN_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"hcap train needs the train extra ({', '.join(missing)} not installed): run {INSTALL_EXTRA} "
            "in the hcap folder"
        )


@dataclass
class Loaded:
    """The base model with LoRA adapters, its tokenizer, and which backend loaded them."""

    model: Any
    tokenizer: Any
    backend: str  # "unsloth" or "transformers"
    device: str  # "cuda" or "cpu"

    @property
    def parameters(self) -> int:
        """Parameters of the base model (for the time estimate)."""
        return sum(p.numel() for p in self.model.parameters())


def unsloth_usable() -> bool:
    """Unsloth is installed and a CUDA GPU is there for it."""
    if importlib.util.find_spec("unsloth") is None:
        return False
    import torch

    return torch.cuda.is_available()


def load_tokenizer(base: str) -> Any:
    """The base's tokenizer, checked to be Llama 3's, with hcap's chat template and a padding token."""
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base)
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot load the base model {base}: {_first_line(exc)}") from None
    return prepare_tokenizer(tokenizer, base)


def prepare_tokenizer(tokenizer: Any, base: str) -> Any:
    """Check a loaded tokenizer is Llama 3's and set hcap's template and padding on it."""
    check_llama3_tokenizer(tokenizer, base)
    tokenizer.chat_template = CHAT_TEMPLATE
    set_pad_token(tokenizer)
    return tokenizer


def load(options: TrainOptions, tokenizer: Any) -> Loaded:
    """The base model with LoRA adapters on every projection, ready to train.

    `tokenizer` is the base's, already checked by `load_tokenizer`; Unsloth loads (and patches) its own.
    """
    return _load_unsloth(options) if unsloth_usable() else _load_transformers(options, tokenizer)


def _load_unsloth(options: TrainOptions) -> Loaded:
    from unsloth import FastLanguageModel

    try:
        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=options.base, max_seq_length=options.max_seq_length, dtype=None, load_in_4bit=True
        )
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot load the base model {options.base}: {_first_line(exc)}") from None
    tokenizer = prepare_tokenizer(tokenizer, options.base)
    model = FastLanguageModel.get_peft_model(
        model,
        r=options.lora_rank,
        lora_alpha=options.lora_rank,
        lora_dropout=0,
        target_modules=LORA_TARGETS,
        bias="none",
        use_gradient_checkpointing="unsloth",
        random_state=options.seed,
    )
    return Loaded(model, tokenizer, "unsloth", "cuda")


def _load_transformers(options: TrainOptions, tokenizer: Any) -> Loaded:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    cuda = torch.cuda.is_available()
    dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if cuda else torch.float32
    torch.manual_seed(options.seed)
    try:
        model = AutoModelForCausalLM.from_pretrained(options.base, dtype=dtype)
    except (OSError, ValueError) as exc:
        raise TrainError(f"cannot load the base model {options.base}: {_first_line(exc)}") from None
    if cuda:
        model = model.to("cuda")
    config = LoraConfig(
        r=options.lora_rank,
        lora_alpha=options.lora_rank,
        lora_dropout=0.0,
        target_modules=LORA_TARGETS,
        bias="none",
        task_type="CAUSAL_LM",
    )
    return Loaded(get_peft_model(model, config), tokenizer, "transformers", "cuda" if cuda else "cpu")


def for_inference(loaded: Loaded) -> None:
    """Switch the model to generation (Unsloth has its own fast path for it)."""
    if loaded.backend == "unsloth":
        from unsloth import FastLanguageModel

        FastLanguageModel.for_inference(loaded.model)
    else:
        loaded.model.eval()


def save_adapter(loaded: Loaded, folder: Path) -> None:
    """The LoRA adapter alone with the tokenizer: what vLLM serves beside the base (`--lora-modules`)."""
    loaded.model.save_pretrained(str(folder))
    loaded.tokenizer.save_pretrained(str(folder))


def save_merged(loaded: Loaded, folder: Path) -> None:
    """The adapters merged into the base, as 16-bit (GPU) or 32-bit (CPU) safetensors with the tokenizer."""
    eot = loaded.tokenizer.convert_tokens_to_ids(EOT_TOKEN)
    if loaded.backend == "unsloth":
        loaded.model.save_pretrained_merged(str(folder), loaded.tokenizer, save_method="merged_16bit")
        return
    merged = loaded.model.merge_and_unload()
    stops = merged.generation_config.eos_token_id
    stops = [] if stops is None else [stops] if isinstance(stops, int) else list(stops)
    merged.generation_config.eos_token_id = stops if eot in stops else [eot, *stops]
    merged.save_pretrained(str(folder), safe_serialization=True)
    loaded.tokenizer.save_pretrained(str(folder))


def save_gguf_unsloth(loaded: Loaded, folder: Path, quantization: str) -> None:
    """Unsloth's own GGUF export (it builds llama.cpp's quantize tool); used for the k-quants like q4_k_m."""
    loaded.model.save_pretrained_gguf(str(folder), loaded.tokenizer, quantization_method=quantization)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
