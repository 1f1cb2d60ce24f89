"""`hcap train`: LoRA fine-tuning of a Llama 3 base on the exported gold, then evaluation, merge, GGUF, Modelfile.

The training libraries (the `train` extra: torch, transformers, peft, trl, datasets, sentencepiece) are
imported only inside the functions that use them, so importing this package, like `hcap --help`, stays light.
"""

from hcap_tui.train.options import DEFAULT_BASE, GGUF_TYPES, TrainError, TrainOptions
from hcap_tui.train.run import TrainResult, train

__all__ = ["DEFAULT_BASE", "GGUF_TYPES", "TrainError", "TrainOptions", "TrainResult", "train"]
