"""The training rows hcap builds: one BOS, the loss on the label JSON and `<|eot_id|>` only, and the refusals
(a base that is not Llama 3, rows longer than the limit, a tokenizer that adds its own BOS), checked on a real
Llama 3-style tokenizer built by scripts/tiny_llama.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hcap_tui.finetune_data import TrainingRow, generation_prompt
from hcap_tui.schema import LabelSchema
from hcap_tui.template import BOS_TOKEN, CHAT_TEMPLATE, EOT_TOKEN, render_training_text
from hcap_tui.train.backend import load_tokenizer
from hcap_tui.train.data import IGNORE_INDEX, check_loss, encode_row, encode_rows, learned_text
from hcap_tui.train.options import TrainError

SAMPLE_LABELS = Path(__file__).resolve().parents[2] / "data" / "labeled.jsonl"


@pytest.fixture(scope="module")
def rows() -> list[TrainingRow]:
    """Five rows as hcap export writes them, from the bundled teacher labels (curly quotes included)."""
    schema = LabelSchema.default()
    records = [json.loads(line) for line in SAMPLE_LABELS.read_text(encoding="utf-8").splitlines()[:5]]
    return [TrainingRow(r["formatted_input"], schema.dumps(schema.extract(r))) for r in records]


@pytest.fixture(scope="module")
def tokenizer(tiny_base: Path):
    return load_tokenizer(str(tiny_base))


def test_the_loss_covers_the_label_json_and_eot_after_one_bos(tokenizer, rows) -> None:
    bos = tokenizer.convert_tokens_to_ids(BOS_TOKEN)
    for row in rows:
        encoded = encode_row(tokenizer, row)
        ids, labels = encoded["input_ids"], encoded["labels"]

        assert ids[0] == bos and ids.count(bos) == 1
        assert learned_text(tokenizer, ids, labels) == row.completion + EOT_TOKEN
        prompt_length = labels.index(next(label for label in labels if label != IGNORE_INDEX))
        assert tokenizer.decode(ids[:prompt_length]) == generation_prompt(row.prompt)
        assert tokenizer.decode(ids) == render_training_text(row.prompt, row.completion)
        assert check_loss(tokenizer, row, ids, labels) == row.completion + EOT_TOKEN


def test_the_base_gets_hcap_template_and_a_pad_token_that_is_not_eot(tokenizer) -> None:
    assert tokenizer.chat_template == CHAT_TEMPLATE
    assert tokenizer.pad_token not in (None, EOT_TOKEN)


def test_a_doubled_bos_or_a_loss_on_the_prompt_is_refused(tokenizer, rows) -> None:
    row = rows[0]
    doubled = tokenizer(render_training_text(row.prompt, row.completion))["input_ids"]  # adds its own BOS too
    with pytest.raises(TrainError, match=r"holds 2 <\|begin_of_text\|> tokens where it needs exactly one"):
        check_loss(tokenizer, row, doubled, doubled)

    encoded = encode_row(tokenizer, row)
    everything = list(encoded["input_ids"])  # loss on every token, prompt included
    with pytest.raises(TrainError, match="the loss would cover '<\\|begin_of_text\\|>"):
        check_loss(tokenizer, row, encoded["input_ids"], everything)


def test_padding_carries_no_loss(tokenizer, rows) -> None:
    encoded = encode_row(tokenizer, rows[0])
    pad = tokenizer.pad_token_id
    ids = [pad, pad, *encoded["input_ids"]]
    labels = [IGNORE_INDEX, IGNORE_INDEX, *encoded["labels"]]
    assert check_loss(tokenizer, rows[0], ids, labels) == rows[0].completion + EOT_TOKEN


def test_rows_longer_than_the_limit_stop_the_run(tokenizer, rows) -> None:
    with pytest.raises(TrainError, match=r"5 training rows are longer than --max-seq-length 64 tokens .*raise"):
        encode_rows(tokenizer, rows, max_seq_length=64)
    assert len(encode_rows(tokenizer, rows, max_seq_length=2048)) == 5


def test_a_base_that_is_not_llama3_is_refused_by_its_bos(tiny_llama, tmp_path: Path) -> None:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    other = Tokenizer(models.WordLevel({"<s>": 0, "</s>": 1, "<unk>": 2, "Won": 3}, unk_token="<unk>"))
    other.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=other, bos_token="<s>", eos_token="</s>").save_pretrained(tmp_path)

    with pytest.raises(TrainError, match=rf"{tmp_path} is not a Llama 3 model \(its BOS token is '<s>'"):
        load_tokenizer(str(tmp_path))
