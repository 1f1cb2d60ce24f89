"""Pytest fixtures around the test doubles, loaded for the whole suite by `pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from doubles.gemini_double import GeminiDouble
from doubles.ollama_double import OllamaDouble
from doubles.openai_double import OpenAIDouble
from hcap_tui.models.base import Labeller


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Busy back-off pauses of milliseconds in every test, so a double's 503 answers never slow the suite."""
    monkeypatch.setattr(Labeller, "busy_backoff", (0.01, 0.01, 0.01))


@pytest.fixture
def ollama() -> Iterator[OllamaDouble]:
    """A started Ollama double with the default `flat-hcap:latest` model and one slot."""
    with OllamaDouble() as double:
        yield double


@pytest.fixture
def gemini(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiDouble]:
    """A started Gemini double that the real SDK reaches through GOOGLE_GEMINI_BASE_URL, with GEMINI_API_KEY set."""
    with GeminiDouble() as running:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", running.url)
        monkeypatch.setenv("GEMINI_API_KEY", running.api_key)
        yield running


@pytest.fixture
def openai() -> Iterator[OpenAIDouble]:
    """A started OpenAI-compatible double serving `flat-hcap` with two slots."""
    with OpenAIDouble(slots=2) as double:
        yield double
