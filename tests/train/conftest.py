"""Fixtures for the training tests, which run only where the `train` extra is installed.

Without it every test here is skipped with the pip command that installs it; `.ci/run` installs the extra and
runs this folder as its own step after the main suite.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from hcap_tui.train.backend import INSTALL_EXTRA, TRAIN_EXTRA

REPO = Path(__file__).resolve().parents[2]
MISSING = [name for name in TRAIN_EXTRA if importlib.util.find_spec(name) is None]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not MISSING:
        return
    skip = pytest.mark.skip(reason=f"needs the train extra ({', '.join(MISSING)} missing): {INSTALL_EXTRA}")
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_llama():
    """scripts/tiny_llama.py, the builder of tiny Llama 3-style models, as a module."""
    sys.path.insert(0, str(REPO / "scripts"))
    import tiny_llama

    return tiny_llama


@pytest.fixture(scope="session")
def tiny_base(tiny_llama, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh tiny random-init base folder, built by the shared builder (about 5 seconds)."""
    return tiny_llama.build_base(tmp_path_factory.mktemp("tiny-base"))
