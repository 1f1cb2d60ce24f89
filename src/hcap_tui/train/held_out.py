"""Greedy answers of the freshly trained model to the held-out rows, for scoring with hcap's metrics.

The prompt is exactly what a server builds from hcap's template, and generation stops at `<|eot_id|>`.
Unlike serving, it is not constrained by the JSON-schema grammar, so an answer that is not valid label JSON
counts as a failure: a slightly stricter test than `hcap eval` against the served model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hcap_tui.finetune_data import TrainingRow, generation_prompt
from hcap_tui.template import EOT_TOKEN


def generate(model: Any, tokenizer: Any, rows: Sequence[TrainingRow], max_new_tokens: int) -> list[str]:
    """The model's greedy answer to each row's prompt, without special tokens."""
    import torch

    eot = tokenizer.convert_tokens_to_ids(EOT_TOKEN)
    answers = []
    with torch.inference_mode():
        for row in rows:
            inputs = tokenizer(generation_prompt(row.prompt), add_special_tokens=False, return_tensors="pt")
            inputs = inputs.to(model.device)
            output = model.generate(
                **inputs,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                eos_token_id=eot,
                pad_token_id=tokenizer.pad_token_id,
            )
            answers.append(tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True))
    return answers

