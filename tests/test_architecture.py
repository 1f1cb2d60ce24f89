"""Architecture rules checked on the source.

The data layer (the review core in `review/` included) never imports Textual; signal names live in the schema;
one module speaks to Ollama and one to Gemini, and neither client library loads until a model is used; only the
store writes JSONL files.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import hcap_tui

PACKAGE_ROOT = Path(hcap_tui.__file__).resolve().parent
SIGNAL_NAMES = re.compile(r"\b(in_form|out_of_form|better_than_show|worse_than_show|race_strength)\b")

# Runs in a fresh interpreter: imports the CLI, then every module outside the `tui` package, found on disk
# (without importing `tui` to look inside it), and reports what ended up in sys.modules.
IMPORT_PROBE = """
import importlib, json, pkgutil, sys
import hcap_tui.cli
after_cli = "textual" in sys.modules

def modules(path, prefix):
    for info in pkgutil.iter_modules(path, prefix):
        if info.name == "hcap_tui.tui" or info.name.endswith(".__main__"):
            continue
        yield info.name
        if info.ispkg:
            yield from modules([info.module_finder.path + "/" + info.name.rsplit(".", 1)[1]], info.name + ".")

names = list(modules(importlib.import_module("hcap_tui").__path__, "hcap_tui."))
for name in names:
    importlib.import_module(name)
heavy = ("torch", "transformers", "peft", "trl", "datasets", "unsloth", "xllamacpp")
print(json.dumps({"after_cli": after_cli, "modules": names,
                  "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual.")),
                  "heavy": sorted(m for m in sys.modules if m in heavy)}))
"""


def test_cli_and_data_layer_never_import_textual() -> None:
    probe = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert report["after_cli"] is False, "importing hcap_tui.cli pulled in textual"
    assert {"hcap_tui.cli", "hcap_tui.cli.app", "hcap_tui.schema", "hcap_tui.comments", "hcap_tui.store",
            "hcap_tui.jsonl", "hcap_tui.config", "hcap_tui.safe_text"} <= set(report["modules"])
    review_core = {f"hcap_tui.review.{name}" for name in ("session", "navigation", "order", "sources", "reader",
                                                          "writer", "held_keys", "throttle", "checks", "races")}
    assert review_core <= set(report["modules"]), "the review core is a package of its own, outside tui/"
    assert not any(name.startswith("hcap_tui.tui") for name in report["modules"])
    assert report["textual"] == [], "a data-layer module imports textual"
    assert {"hcap_tui.train", "hcap_tui.train.run", "hcap_tui.cli.train"} <= set(report["modules"])
    assert report["heavy"] == [], "import the training libraries inside the functions that use them"


def test_signal_names_appear_only_in_the_schema_files() -> None:
    offenders = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if PACKAGE_ROOT / "schemas" in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SIGNAL_NAMES.search(line):
                offenders.append(f"{path.relative_to(PACKAGE_ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "iterate the label schema instead of naming its fields:\n" + "\n".join(offenders)


def source_files() -> Iterator[tuple[str, ast.Module]]:
    """Every module of the package as (path relative to the package, parsed tree)."""
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        yield path.relative_to(PACKAGE_ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every import anywhere in a module, `from a import b` giving both `a` and `a.b`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.lineno, node.module
            yield from ((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)


def importers(prefix: str) -> set[str]:
    """`file:line` of each import of the module `prefix` or anything inside it."""
    return {
        f"{name}:{line}"
        for name, tree in source_files()
        for line, module in imported_modules(tree)
        if module == prefix or module.startswith(prefix + ".")
    }


def test_only_the_ollama_provider_imports_ollama() -> None:
    found = importers("ollama")
    assert found and all(hit.startswith("models/ollama.py:") for hit in found), sorted(found)


def test_only_the_gemini_provider_imports_google_genai() -> None:
    found = importers("google.genai")
    assert found and all(hit.startswith("models/gemini.py:") for hit in found), sorted(found)


# Runs in a fresh interpreter: what the `hcap` command line loads before any command runs.
CLI_IMPORT_PROBE = """
import json, sys
import hcap_tui.cli
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("ollama", "google", "httpx2"))))
"""


def test_the_command_line_loads_no_model_client_library() -> None:
    probe = subprocess.run([sys.executable, "-c", CLI_IMPORT_PROBE], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    assert json.loads(probe.stdout) == [], "import providers lazily, in hcap_tui.models.registry"


# Runs in a fresh interpreter: `hcap --help`, then `hcap COMMAND --help` for every command, noting the top-level
# packages loaded after the first and after all of them.
HELP_PROBE = """
import contextlib, io, json, sys
from hcap_tui.cli import app, main
from typer.main import get_command

def run(*args):
    sys.argv = ["hcap", *args]
    with contextlib.redirect_stdout(io.StringIO()) as out, contextlib.suppress(SystemExit):
        main()
    return out.getvalue()

def loaded():
    return sorted({name.split(".")[0] for name in sys.modules})

listing = run("--help")
after_help = loaded()
group = get_command(app)
commands = []
for name, command in sorted(group.commands.items()):
    commands.append(name)
    for sub in sorted(getattr(command, "commands", {})):
        commands.append(f"{name} {sub}")
helps = {name: run(*name.split(), "--help") for name in commands}
print(json.dumps({"listing": listing, "after_help": after_help, "after_commands": loaded(), "helps": helps}))
"""
# What `hcap --help` and every command's start must not load: the model clients, the prompt templates, the TUI.
# Help alone loads neither pydantic nor Rich either, for the app or any command (a group's --help flag left off
# must not make typer build a pydantic validator): each command imports what it does the work with when it runs.
NEVER_AT_START = {"ollama", "jinja2", "textual", "google", "httpx", "sklearn", "numpy", "torch"}


def test_help_and_every_command_start_load_only_what_they_use() -> None:
    probe = subprocess.run([sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert not NEVER_AT_START & set(report["after_help"]), "hcap --help loaded a heavy library"
    assert not {"pydantic", "rich"} & set(report["after_help"]), "hcap --help loaded pydantic or Rich"
    assert not NEVER_AT_START & set(report["after_commands"]), "a command imports its heavy work at module level"
    assert not {"pydantic", "rich"} & set(report["after_commands"]), "a command's --help loaded pydantic or Rich"
    for name, text in report["helps"].items():
        assert text.startswith("Usage: hcap " + name), (name, text[:200])
        if " " not in name:  # each command is listed with its help text
            first = text.split("\n\n")[1].strip().split("\n")[0][:30]
            assert f"  {name} " in report["listing"] and first in " ".join(report["listing"].split()), name


# Calls that create, overwrite or extend a file, by the name of the called function or method.
WRITE_MODE = re.compile(r"[wax+]")
WRITE_METHODS = {"write_text", "write_bytes", "write_atomic"}
SHUTIL_WRITES = {"copy", "copyfile", "copy2", "copytree", "move"}
MOVES = {"replace", "rename"}  # os.replace(a, b) and Path.replace(b); str.replace and dataclasses.replace differ
OS_WRITE_FLAGS = {"O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT", "O_TRUNC"}
# Modules that may write files other than through `JsonlFile.append`/`rewrite`, and with which calls.
ALLOWED_WRITES = {
    "jsonl.py": None,  # the one place that writes JSONL bytes
    "store.py": None,  # checkpoints and set-aside files, through jsonl.py's atomic writes
    "export.py": {"write_atomic"},  # training files are replaced whole through jsonl.write_atomic
    # `hcap apply`'s batch request files and CSV table, streamed whole into place through jsonl.write_atomic
    "apply/batch.py": {"write_atomic"},
    "apply/table.py": {"write_atomic"},
    # a training run's Modelfile and report (write_atomic) and its GGUF moved into place from a temporary folder
    "train/artifacts.py": {"write_atomic", "replace"},
    "train/llama_cpp.py": {"replace"},  # the fetched converter moved into hcap's cache in one step
}


def _call_name(call: ast.Call) -> tuple[str, str]:
    """(receiver name or "", called name): `os.open(...)` gives ("os", "open"), `open(...)` ("", "open")."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return (func.value.id if isinstance(func.value, ast.Name) else "?"), func.attr
    return "", func.id if isinstance(func, ast.Name) else ""


def _mode(call: ast.Call, position: int) -> str | None:
    """The constant mode string of an open-like call, or None when it reads (the default)."""
    args = [kw.value for kw in call.keywords if kw.arg == "mode"] or call.args[position : position + 1]
    return args[0].value if args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str) else None


def _writes(call: ast.Call) -> str | None:
    """The name of the write a call makes, or None when it does not write a file."""
    receiver, name = _call_name(call)
    if receiver == "os" and name == "open":
        flags = {node.attr for node in ast.walk(call) if isinstance(node, ast.Attribute)}
        return "os.open" if flags & OS_WRITE_FLAGS else None
    if name in ("open", "fdopen"):
        # builtin open(path, mode) and os.fdopen(fd, mode) take the mode second, Path.open(mode) first
        mode = _mode(call, 1 if receiver in ("", "os", "io") else 0)
        return name if mode is not None and WRITE_MODE.search(mode) else None
    if name in WRITE_METHODS or (receiver == "shutil" and name in SHUTIL_WRITES):
        return name
    path_move = receiver not in ("", "dataclasses") and len(call.args) == 1 and not call.keywords
    return name if name in MOVES and (receiver == "os" or path_move) else None


def file_writes(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, write) of every call in a module that may write a file."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (write := _writes(node)) is not None:
            yield node.lineno, write


def test_the_write_detector_finds_every_kind_of_write() -> None:
    source = """
paths.gold.open("a", encoding="utf-8")
open(path, "w")
open(path, mode="rb+")
path.write_text("x")
os.open(path, os.O_WRONLY | os.O_APPEND)
os.replace(tmp, path)
write_atomic(path, b"")
tmp.replace(path)
shutil.copy(a, b)
path.open("rb"); open(path); os.open(path, os.O_RDONLY); "text".replace("a", "b"); replace(item, line=2)
client.copy(source, destination); labels.copy()
"""
    found = [name for _, name in file_writes(ast.parse(source))]
    assert sorted(found) == sorted(
        ["open", "open", "open", "write_text", "os.open", "replace", "write_atomic", "replace", "copy"]
    )


def test_only_the_store_writes_jsonl_files() -> None:
    offenders = []
    for name, tree in source_files():
        allowed = ALLOWED_WRITES.get(name, set())
        if allowed is None:
            continue
        offenders += [f"{name}:{line}: {call}" for line, call in file_writes(tree) if call not in allowed]
    assert offenders == [], "write JSONL through hcap_tui.jsonl / Store (append, rewrite):\n" + "\n".join(offenders)


def test_the_review_core_has_no_ui_imports() -> None:
    offenders = {hit for hit in importers("textual") | importers("rich") if hit.startswith("review/")}
    assert offenders == set(), "review/ is the review core without a UI: keep Textual and Rich in tui/"
