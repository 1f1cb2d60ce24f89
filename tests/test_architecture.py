"""Architecture rules checked on the source: the data layer never imports Textual; signal names live in the schema."""

from __future__ import annotations

import json
import re
import subprocess
import sys
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
print(json.dumps({"after_cli": after_cli, "modules": names,
                  "textual": sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))}))
"""


def test_cli_and_data_layer_never_import_textual() -> None:
    probe = subprocess.run([sys.executable, "-c", IMPORT_PROBE], capture_output=True, text=True, check=False)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout)
    assert report["after_cli"] is False, "importing hcap_tui.cli pulled in textual"
    assert {"hcap_tui.cli", "hcap_tui.cli.app", "hcap_tui.schema", "hcap_tui.comments", "hcap_tui.store",
            "hcap_tui.jsonl", "hcap_tui.config"} <= set(report["modules"])
    assert not any(name.startswith("hcap_tui.tui") for name in report["modules"])
    assert report["textual"] == [], "a data-layer module imports textual"


def test_signal_names_appear_only_in_the_schema_files() -> None:
    offenders = []
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if PACKAGE_ROOT / "schemas" in path.parents:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SIGNAL_NAMES.search(line):
                offenders.append(f"{path.relative_to(PACKAGE_ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "iterate the label schema instead of naming its fields:\n" + "\n".join(offenders)
