"""`hcap train`: LoRA fine-tuning of a Llama 3 base on the exported gold, then evaluation, merge, GGUF, Modelfile.

The training libraries (the `train` extra: torch, transformers, peft, trl, datasets, sentencepiece) are
imported only inside the functions that use them, and the run itself (which reads the project through the
store) only when `train` or `TrainResult` is first asked for, so importing this package, like `hcap --help`
reading the options, stays light.
"""

from typing import Any

from hcap_tui.train.options import DEFAULT_BASE, GGUF_TYPES, TrainError, TrainOptions

__all__ = ["DEFAULT_BASE", "GGUF_TYPES", "TrainError", "TrainOptions", "TrainResult", "train"]


def __getattr__(name: str) -> Any:
    """`train` and `TrainResult`, from the run module, loaded on first use."""
    if name in ("TrainResult", "train"):
        from hcap_tui.train import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
