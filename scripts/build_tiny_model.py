"""Rebuild the tiny flat-hcap test models in tests/fixtures from nothing downloadable.

The tiny Llama 3–style base (scripts/tiny_llama.py) is fine-tuned by hcap's own training API on the bundled
sample labels (data/labeled.jsonl, split as `hcap export` splits gold) and converted to GGUF by llama.cpp's
converter. Two results are kept:

- `tiny-flat-hcap.gguf`: what llama-server serves in the real-engine tests;
- `tiny-llama3/`: the same weights as a Hugging Face folder (16-bit safetensors, tokenizer, hcap's chat
  template): a tiny "instruct" base that already answers in the label shape, which the CPU training test
  fine-tunes further with `hcap train --base`.

`tiny-flat-hcap.json` beside them records their SHA-256, the command that made them and the figures of the
training run. One thread and fixed seeds make the run repeatable: the bytes come out the same again with the
same library versions (listed in the JSON).

    python scripts/build_tiny_model.py       # needs the train extra; about 4 minutes on one core
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "scripts"))

import tiny_llama

from hcap_tui.export import DEFAULT_EVAL_FRACTION, EVAL, ExportFormat, export_row, split_of
from hcap_tui.jsonl import encode
from hcap_tui.schema import LabelSchema
from hcap_tui.train import TrainOptions, train
from hcap_tui.train.llama_cpp import LLAMA_CPP_PYTHON_VERSION

FIXTURES = REPO / "tests" / "fixtures"
NAME = "tiny-flat-hcap"
BASE_FOLDER = "tiny-llama3"
COMMAND = "python scripts/build_tiny_model.py"
STEPS = 400
LEARNING_RATE = 5e-3  # far above a real model's 2e-4: a random-init model has everything to learn
LIBRARIES = ("torch", "transformers", "peft", "trl", "tokenizers", "datasets")


def write_export(data_dir: Path, labeled: Path) -> tuple[int, int]:
    """training_data.jsonl and eval_data.jsonl from the sample teacher labels, split as hcap export splits gold."""
    schema = LabelSchema.default()
    train_lines, eval_lines = [], []
    for line in labeled.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        row = export_row(schema, record["formatted_input"], schema.extract(record), ExportFormat.PROMPT_COMPLETION)
        (eval_lines if split_of(record["formatted_input"], DEFAULT_EVAL_FRACTION) == EVAL else train_lines).append(row)
    (data_dir / "training_data.jsonl").write_bytes(b"".join(encode(r) for r in train_lines))
    (data_dir / "eval_data.jsonl").write_bytes(b"".join(encode(r) for r in eval_lines))
    return len(train_lines), len(eval_lines)


def save_16bit(merged: Path, folder: Path) -> None:
    """The merged model as 16-bit safetensors with its tokenizer: the same weights the f16 GGUF holds."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if folder.exists():
        shutil.rmtree(folder)
    AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float16).save_pretrained(folder)
    AutoTokenizer.from_pretrained(merged).save_pretrained(folder)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out_dir: Path = FIXTURES, steps: int = STEPS) -> dict:
    """Build the fixture GGUF, the tiny base folder and their JSON record into `out_dir`; return the record."""
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="tiny-flat-hcap-") as tmp:
        work = Path(tmp)
        base = tiny_llama.build_base(work / "base")
        data = work / "data"
        data.mkdir()
        write_export(data, REPO / "data" / "labeled.jsonl")
        options = TrainOptions(
            base=str(base), max_steps=steps, learning_rate=LEARNING_RATE, gguf="f16", out=work / "out",
            max_new_tokens=160,
        )  # fmt: skip
        result = train(options, data)
        out_dir.mkdir(parents=True, exist_ok=True)
        gguf = out_dir / f"{NAME}.gguf"
        shutil.copyfile(result.gguf, gguf)
        folder = out_dir / BASE_FOLDER
        save_16bit(result.merged, folder)
    card = result.scorecard
    record = {
        "file": gguf.name,
        "sha256": sha256(gguf),
        "bytes": gguf.stat().st_size,
        "base_folder": {p.name: sha256(p) for p in sorted(folder.iterdir())},
        "rebuild": COMMAND,
        "base": "scripts/tiny_llama.py (byte-level BPE on data/, 2 layers, hidden 128, random init)",
        "training": {
            "rows": "data/labeled.jsonl, export split",
            "steps": steps,
            "learning_rate": LEARNING_RATE,
            "lora_rank": options.lora_rank,
            "training_loss": round(result.training_loss, 4),
            "held_out": None if card is None else {
                "n": card.n, "not_label_json": card.failed, "exact_match": round(card.exact_match, 4),
                **{name: round(score.accuracy, 4) for name, score in {**card.booleans, **card.enums}.items()},
            },
        },
        "converter": f"llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} vendor/llama.cpp/convert_hf_to_gguf.py, f16",
        "libraries": {name: importlib.metadata.version(name) for name in LIBRARIES},
    }
    (out_dir / f"{NAME}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=FIXTURES, help="where to put the models and their JSON")
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    record = build(args.out_dir, args.steps)
    print(f"{args.out_dir / record['file']}  sha256 {record['sha256']}  {record['bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
