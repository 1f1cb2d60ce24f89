"""Rebuild the tiny flat-hcap test model, `tests/fixtures/tiny-flat-hcap.gguf`, from nothing downloadable.

The tiny Llama 3–style base (scripts/tiny_llama.py) is fine-tuned by hcap's own training API on the bundled
sample labels (data/labeled.jsonl, split as `hcap export` splits gold), converted to GGUF by llama.cpp's
converter, and copied into tests/fixtures with a JSON file beside it giving its SHA-256, the command that
made it and the figures of its training run. One thread and fixed seeds make the run repeatable; the bytes
are the same again with the same library versions (listed in the JSON).

    python scripts/build_tiny_model.py       # needs the train extra; about 3 minutes on one core
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

import tiny_llama  # noqa: E402

from hcap_tui.export import EVAL, DEFAULT_EVAL_FRACTION, ExportFormat, export_row, split_of  # noqa: E402
from hcap_tui.jsonl import encode  # noqa: E402
from hcap_tui.schema import LabelSchema  # noqa: E402
from hcap_tui.train import TrainOptions, train  # noqa: E402
from hcap_tui.train.llama_cpp import LLAMA_CPP_PYTHON_VERSION  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures"
NAME = "tiny-flat-hcap"
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


def build(out_dir: Path = FIXTURES, steps: int = STEPS) -> dict:
    """Build the fixture GGUF and its JSON record into `out_dir`; return the record."""
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
    record = {
        "file": gguf.name,
        "sha256": hashlib.sha256(gguf.read_bytes()).hexdigest(),
        "bytes": gguf.stat().st_size,
        "rebuild": COMMAND,
        "base": "scripts/tiny_llama.py (byte-level BPE on data/, 2 layers, hidden 64, random init)",
        "training": {
            "rows": "data/labeled.jsonl, export split",
            "steps": steps,
            "learning_rate": LEARNING_RATE,
            "lora_rank": options.lora_rank,
            "training_loss": round(result.training_loss, 4),
            "held_out": result.scorecard.to_dict() if result.scorecard else None,
        },
        "converter": f"llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} vendor/llama.cpp/convert_hf_to_gguf.py, f16",
        "libraries": {name: importlib.metadata.version(name) for name in LIBRARIES},
    }
    (out_dir / f"{NAME}.json").write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=FIXTURES, help="where to put the GGUF and its JSON")
    parser.add_argument("--steps", type=int, default=STEPS)
    args = parser.parse_args(argv)
    record = build(args.out_dir, args.steps)
    print(f"{args.out_dir / record['file']}  sha256 {record['sha256']}  {record['bytes']} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
