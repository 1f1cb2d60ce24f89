"""Build a tiny Llama 3–style base model from nothing downloadable, for tests and the CPU training smoke run.

The folder it writes has what `hcap train --base` expects of a real Llama 3.2: a byte-level BPE tokenizer
with Llama 3's pre-tokenizer split and special tokens (`<|begin_of_text|>` added as the one BOS, `<|eot_id|>`
ending a turn), hcap's own chat template, and a randomly initialised `LlamaForCausalLM` (2 layers, hidden 128).
Its output head is initialised 15 times wider than the usual 0.02: a LoRA fine-tune trains only the attention
and MLP projections, and with a head that small no hidden state can make one token much likelier than the
rest, so the loss could hardly fall (a pretrained model's head has learned that scale). The head rows of tokens
that are not whole UTF-8 characters (a lone byte above 0x7F, half a curly quote) start at zero and, frozen under
LoRA, stay there: a random row could make such a token the likeliest now and then, and llama-server's chat
endpoint answers HTTP 500 when the text it generated is not valid UTF-8. (A pretrained model has learned never to
emit them on their own.) The tokenizer is trained on the bundled sample comments and labels, so a comment takes a
few hundred tokens rather than a thousand bytes. Every step is seeded: the same inputs give the same files.

    python scripts/tiny_llama.py OUT_DIR        # needs the train extra (torch, transformers) and `tokenizers`
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from hcap_tui.comments import CommentsFile
from hcap_tui.schema import LabelSchema
from hcap_tui.template import BOS_TOKEN, CHAT_TEMPLATE, EOT_TOKEN

SAMPLE_DATA = REPO / "data"
# Llama 3's pre-tokenizer: how text is cut into words before byte-level BPE merges (from its tokenizer.json).
LLAMA3_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
END_OF_TEXT = "<|end_of_text|>"
# Appended after the learned vocabulary, as in Llama 3 (whose reserved tokens this model does without).
SPECIAL_TOKENS = [BOS_TOKEN, END_OF_TEXT, "<|start_header_id|>", "<|end_header_id|>", EOT_TOKEN]
VOCAB_SIZE = 2048  # learned tokens; the specials come on top
HEAD_INIT_STD = 0.3
SEED = 20240917


def corpus(data_dir: Path = SAMPLE_DATA) -> Iterator[str]:
    """The texts the tokenizer learns from: every eligible comment's formatted_input and every sample label."""
    for comment in CommentsFile(data_dir / "comments.csv"):
        yield comment.formatted_input
    schema = LabelSchema.default()
    for line in (data_dir / "labeled.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield schema.dumps(schema.extract(json.loads(line)))


def build_tokenizer(texts: Iterable[str], vocab_size: int = VOCAB_SIZE):
    """A Llama 3–style fast tokenizer trained on `texts`: BOS added on encoding, hcap's chat template set."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(ignore_merges=True))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(LLAMA3_SPLIT), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(texts, trainer)
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    bos_id = tokenizer.token_to_id(BOS_TOKEN)
    tokenizer.post_processor = processors.Sequence(
        [
            processors.ByteLevel(trim_offsets=False),
            processors.TemplateProcessing(
                single=f"{BOS_TOKEN}:0 $A:0",
                pair=f"{BOS_TOKEN}:0 $A:0 {BOS_TOKEN}:1 $B:1",
                special_tokens=[(BOS_TOKEN, bos_id)],
            ),
        ]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, bos_token=BOS_TOKEN, eos_token=EOT_TOKEN, pad_token=END_OF_TEXT
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def partial_utf8_tokens(tokenizer) -> list[int]:
    """Ids of the tokens whose bytes are not whole UTF-8 characters (decoding them alone gives U+FFFD)."""
    decoder = tokenizer.backend_tokenizer.decoder
    return sorted(
        index
        for token, index in tokenizer.get_vocab().items()
        if token not in SPECIAL_TOKENS and "\ufffd" in decoder.decode([token])
    )


def build_base(
    out_dir: Path, *, seed: int = SEED, data_dir: Path = SAMPLE_DATA, hidden: int = 128, layers: int = 2
) -> Path:
    """Write a tiny random-init Llama 3–style model folder (safetensors, config, tokenizer) to `out_dir`."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(corpus(data_dir))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=3 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        rope_theta=500000.0,
        rms_norm_eps=1e-5,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.convert_tokens_to_ids(EOT_TOKEN),
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    with torch.no_grad():
        torch.nn.init.normal_(model.lm_head.weight, std=HEAD_INIT_STD)
        model.lm_head.weight[partial_utf8_tokens(tokenizer)] = 0.0
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=[config.eos_token_id, tokenizer.convert_tokens_to_ids(END_OF_TEXT)],
        pad_token_id=config.pad_token_id,
        do_sample=False,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write the model to (created)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    build_base(args.out_dir, seed=args.seed)
    print(args.out_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
