"""Run llama.cpp's `convert_hf_to_gguf.py` from a cached llama.cpp folder, in its own process.

    python -m hcap_tui.train.gguf_convert LLAMA_CPP_DIR MODEL_DIR OUTFILE OUTTYPE

The converter's own `gguf-py` goes first on sys.path (the PyPI `gguf` package may be another version).
llama.cpp names a BPE tokenizer's pre-tokenizer by hashing how a known vocabulary splits a probe text;
a vocabulary it has never seen (a Llama 3 tokenizer retrained on other text, as the test models are) is
refused even when its split rule is exactly Llama 3's. Such a tokenizer is written as `llama-bpe`, the
name llama.cpp gives Llama 3's rule; any other unknown tokenizer is still refused.
"""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path
from typing import Any

# Llama 3's pre-tokenizer split (its tokenizer.json): the rule llama.cpp implements as `llama-bpe`.
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA3_PRE_TOKENIZER = "llama-bpe"


def split_patterns(node: Any) -> list[str]:
    """Every `Split` regex in a tokenizer.json pre-tokenizer, however deeply it is nested in sequences."""
    if isinstance(node, dict):
        found = []
        if node.get("type") == "Split" and isinstance(node.get("pattern"), dict) and "Regex" in node["pattern"]:
            found.append(node["pattern"]["Regex"])
        for value in node.values():
            found += split_patterns(value)
        return found
    if isinstance(node, list):
        return [pattern for item in node for pattern in split_patterns(item)]
    return []


def splits_like_llama3(model_dir: Path) -> bool:
    """Whether the model's tokenizer.json pre-tokenizes with exactly Llama 3's split rule."""
    try:
        config = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return split_patterns(config.get("pre_tokenizer")) == [LLAMA3_SPLIT]


def main(argv: list[str]) -> None:
    llama_cpp, model_dir, outfile, outtype = argv
    sys.path[:0] = [str(Path(llama_cpp) / "gguf-py"), llama_cpp]
    from conversion.base import TextModel  # the converter's package, from the folder just put on sys.path

    known_vocab_pre = TextModel.get_vocab_base_pre

    def vocab_pre(self: Any, tokenizer: Any) -> str:
        try:
            return known_vocab_pre(self, tokenizer)
        except NotImplementedError:
            if splits_like_llama3(Path(self.dir_model)):
                return LLAMA3_PRE_TOKENIZER
            raise

    TextModel.get_vocab_base_pre = vocab_pre
    sys.argv = ["convert_hf_to_gguf.py", model_dir, "--outfile", outfile, "--outtype", outtype]
    runpy.run_path(str(Path(llama_cpp) / "convert_hf_to_gguf.py"), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
