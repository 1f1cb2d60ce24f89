"""Training rows as token ids with the loss on the answer only, and the checks made before any training.

Each row is rendered with hcap's template (`render_training_text`) and tokenised without the tokenizer's
own special tokens, because the template already starts with the one `<|begin_of_text|>`. The prompt part
(everything up to and including the assistant header) is masked out of the loss, so the model learns to
write the label JSON and the closing `<|eot_id|>`, not race comments. Both backends (Unsloth and plain
transformers) train on exactly these ids and labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hcap_tui.finetune_data import TrainingRow, generation_prompt
from hcap_tui.template import BOS_TOKEN, EOT_TOKEN, render_training_text
from hcap_tui.train.options import TrainError

IGNORE_INDEX = -100  # label of a token that does not count in the loss (the convention of torch's cross-entropy)
# Pad with a token the model never has to predict: Llama 3.2's reserved padding token, else end-of-text.
PAD_CANDIDATES = ("<|finetune_right_pad_id|>", "<|end_of_text|>")


def check_llama3_tokenizer(tokenizer: Any, base: str) -> None:
    """Refuse a base whose tokenizer is not Llama 3's: hcap's template is built from Llama 3's special tokens."""
    vocab = tokenizer.get_vocab()
    if tokenizer.bos_token != BOS_TOKEN or EOT_TOKEN not in vocab:
        raise TrainError(
            f"{base} is not a Llama 3 model (its BOS token is {tokenizer.bos_token!r}, hcap's template needs "
            f"{BOS_TOKEN} and {EOT_TOKEN}): use a Llama 3.2 Instruct base such as unsloth/Llama-3.2-1B-Instruct"
        )


def set_pad_token(tokenizer: Any) -> None:
    """Give the tokenizer a padding token (Llama 3 has none) that is not `<|eot_id|>`, which the model must learn."""
    if tokenizer.pad_token is not None and tokenizer.pad_token != EOT_TOKEN:
        return
    vocab = tokenizer.get_vocab()
    tokenizer.pad_token = next((t for t in PAD_CANDIDATES if t in vocab), tokenizer.eos_token)


def encode_row(tokenizer: Any, row: TrainingRow) -> dict[str, list[int]]:
    """One row as `input_ids`, `attention_mask` and `labels` (the prompt's positions set to IGNORE_INDEX)."""
    ids = tokenizer(render_training_text(row.prompt, row.completion), add_special_tokens=False)["input_ids"]
    prompt_ids = tokenizer(generation_prompt(row.prompt), add_special_tokens=False)["input_ids"]
    if ids[: len(prompt_ids)] != prompt_ids:
        raise TrainError(
            "the tokenizer splits the prompt differently when the answer follows it, so the loss cannot be "
            "limited to the answer: use a Llama 3 tokenizer"
        )
    labels = [IGNORE_INDEX] * len(prompt_ids) + ids[len(prompt_ids) :]
    return {"input_ids": ids, "attention_mask": [1] * len(ids), "labels": labels}


def encode_rows(tokenizer: Any, rows: Sequence[TrainingRow], max_seq_length: int) -> list[dict[str, list[int]]]:
    """Every row encoded; rows longer than `max_seq_length` stop the run (cutting them would cut the answer)."""
    encoded = [encode_row(tokenizer, row) for row in rows]
    too_long = [len(e["input_ids"]) for e in encoded if len(e["input_ids"]) > max_seq_length]
    if too_long:
        raise TrainError(
            f"{len(too_long)} training rows are longer than --max-seq-length {max_seq_length} tokens (the longest "
            f"is {max(too_long)}): raise --max-seq-length"
        )
    return encoded


def learned_text(tokenizer: Any, input_ids: Sequence[int], labels: Sequence[int]) -> str:
    """The text the loss covers in one encoded (or collated) row: the tokens whose label is not ignored."""
    kept = [token for token, label in zip(input_ids, labels) if label != IGNORE_INDEX]
    return tokenizer.decode(kept, skip_special_tokens=False, clean_up_tokenization_spaces=False)


def check_loss(tokenizer: Any, row: TrainingRow, input_ids: Sequence[int], labels: Sequence[int]) -> str:
    """Check one row is trained as served: one BOS first, and the loss on the label JSON + `<|eot_id|>` only.

    `input_ids` and `labels` may be padded (as a collator returns them); padding must carry no loss.
    Returns the text the loss covers; raises TrainError naming what is wrong.
    """
    bos = tokenizer.convert_tokens_to_ids(BOS_TOKEN)
    ids = [int(t) for t in input_ids]
    if bos not in ids or ids.count(bos) != 1 or ids.index(bos) != _first_content(tokenizer, ids):
        raise TrainError(
            f"a training row holds {ids.count(bos)} {BOS_TOKEN} tokens where it needs exactly one, at the start: "
            "the tokenizer adds its own; use a Llama 3 tokenizer"
        )
    learned = learned_text(tokenizer, ids, [int(label) for label in labels])
    expected = row.completion + EOT_TOKEN
    if learned != expected:
        raise TrainError(f"the loss would cover {learned[:80]!r}…, not the label JSON and {EOT_TOKEN}")
    return learned


def _first_content(tokenizer: Any, ids: list[int]) -> int:
    """Index of the first token that is not padding (collators may pad on the left)."""
    pad = tokenizer.pad_token_id
    return next((i for i, token in enumerate(ids) if token != pad), 0)
