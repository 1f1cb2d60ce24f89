"""llama.cpp's own GGUF converter, fetched once from PyPI and cached, and its optional quantize tool.

The converter (`convert_hf_to_gguf.py`, its `conversion` package and its own `gguf-py`) ships inside the
llama-cpp-python source distribution under `vendor/llama.cpp/`. hcap pins one release and checks its
SHA-256, so every machine converts with the same code; the PyPI `gguf` package is not used because its
version can disagree with the converter's. The converter writes f32, f16, bf16 and q8_0 itself; q4_k_m
needs llama.cpp's `llama-quantize` binary, used when it is on PATH.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from hcap_tui.errors import HcapError

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
LLAMA_CPP_PYTHON_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
CACHE_ENV = "HCAP_CACHE_DIR"
QUANTIZE_TOOL = "llama-quantize"
# What the converter needs from the sdist (about 2 MB of its 77 MB).
CONVERTER_MEMBERS = ("convert_hf_to_gguf.py", "conversion/", "gguf-py/")
CONVERTER_TYPES = ("f32", "f16", "bf16", "q8_0")


class ConvertError(HcapError):
    """The GGUF converter could not be fetched or failed on the model."""


def cache_dir() -> Path:
    """hcap's cache folder: $HCAP_CACHE_DIR, else $XDG_CACHE_HOME/hcap, else ~/.cache/hcap."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hcap"


def converter_dir(on_step: Callable[[str], None] = print) -> Path:
    """The cached `vendor/llama.cpp` folder holding the converter, fetched with pip on first use."""
    target = cache_dir() / f"llama.cpp-{LLAMA_CPP_PYTHON_VERSION}"
    if (target / "convert_hf_to_gguf.py").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    on_step(
        f"fetching llama.cpp's GGUF converter (llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} source, about 77 MB, "
        f"once; cached in {target.parent})"
    )
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        sdist = _download_sdist(Path(tmp))
        unpacked = Path(tmp) / "llama.cpp"
        _extract_converter(sdist, unpacked)
        try:
            os.replace(unpacked, target)
        except OSError:
            if not (target / "convert_hf_to_gguf.py").is_file():  # another process may have just put it there
                raise
    return target


def _download_sdist(folder: Path) -> Path:
    """pip-download the pinned llama-cpp-python sdist into `folder` and check its SHA-256."""
    # `--no-binary` names the one package: with `:all:` pip would also build the sdist's build tools from source
    # to read its metadata (six minutes instead of fifteen seconds).
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", "llama-cpp-python",
        "--dest", str(folder), f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION}",
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    found = sorted(folder.glob("llama_cpp_python-*.tar.gz"))
    if run.returncode != 0 or not found:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise ConvertError(
            f"could not download llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} from PyPI ({last}): check the network "
            f"or put its sdist's vendor/llama.cpp folder in {cache_dir()}/llama.cpp-{LLAMA_CPP_PYTHON_VERSION}"
        )
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != LLAMA_CPP_PYTHON_SHA256:
        raise ConvertError(f"{found[0].name} has SHA-256 {digest}, not the pinned {LLAMA_CPP_PYTHON_SHA256}")
    return found[0]


def _extract_converter(sdist: Path, destination: Path) -> None:
    """Unpack the converter's files from the sdist's `vendor/llama.cpp/` into `destination`."""
    prefix = f"llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp/"
    with tarfile.open(sdist, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if member.name.startswith(prefix) and member.name[len(prefix) :].startswith(CONVERTER_MEMBERS):
                member.name = member.name[len(prefix) :]
                members.append(member)
        archive.extractall(destination, members=members, filter="data")


def convert(model_dir: Path, outfile: Path, outtype: str, on_step: Callable[[str], None] = print) -> Path:
    """Convert a Hugging Face model folder to one GGUF file of `outtype` (f32, f16, bf16 or q8_0)."""
    if outtype not in CONVERTER_TYPES:
        raise ValueError(f"the converter writes {', '.join(CONVERTER_TYPES)}, not {outtype}")
    llama_cpp = converter_dir(on_step)
    command = [
        sys.executable, "-m", "hcap_tui.train.gguf_convert", str(llama_cpp), str(model_dir), str(outfile), outtype,
    ]  # fmt: skip
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    if run.returncode != 0 or not outfile.is_file():
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        raise ConvertError(f"GGUF conversion of {model_dir} failed: {lines[-1] if lines else 'no output'}")
    return outfile


def quantize_tool() -> Path | None:
    """llama.cpp's `llama-quantize` when it is on PATH (q4_k_m and other k-quants need it)."""
    found = shutil.which(QUANTIZE_TOOL)
    return Path(found) if found else None


def quantize(tool: Path, source: Path, outfile: Path, qtype: str) -> Path:
    """Quantise a GGUF with llama.cpp's quantize tool (`llama-quantize SOURCE OUTFILE Q4_K_M`)."""
    run = subprocess.run(
        [str(tool), str(source), str(outfile), qtype.upper()], capture_output=True, text=True, check=False
    )
    if run.returncode != 0 or not outfile.is_file():
        lines = [line for line in (run.stderr or run.stdout).splitlines() if line.strip()]
        raise ConvertError(f"{tool.name} failed on {source.name}: {lines[-1] if lines else 'no output'}")
    return outfile
