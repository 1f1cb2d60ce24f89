"""Fixtures shared by the whole suite: an isolated data folder, the default label schema and the service doubles."""

from __future__ import annotations

from pathlib import Path

import pytest

from hcap_tui.config import DataPaths
from hcap_tui.schema import LabelSchema

pytest_plugins = ["doubles.fixtures", "engine.fixtures"]  # doubles of Ollama and Gemini; a real llama-server


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's data folder, Ollama host or API keys."""
    for name in ("HCAP_DATA_DIR", "OLLAMA_HOST", "GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def schema() -> LabelSchema:
    """The default five-signal schema."""
    return LabelSchema.default()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """An empty project data folder."""
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def paths(data_dir: Path) -> DataPaths:
    """The named files of the empty data folder."""
    return DataPaths(data_dir)
