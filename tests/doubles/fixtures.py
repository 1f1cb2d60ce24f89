"""Pytest fixtures around the test doubles; load them with `pytest_plugins` or import them into a test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from doubles.ollama_double import OllamaDouble


@pytest.fixture
def ollama() -> Iterator[OllamaDouble]:
    """A started Ollama double with the default `flat-hcap:latest` model and one slot."""
    with OllamaDouble() as double:
        yield double
