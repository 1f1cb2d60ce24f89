"""Pytest fixtures around a real llama-server, loaded for the whole suite by `pytest_plugins` in tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.llama_server import TINY_GGUF, LlamaServer

SLOTS = 4


@pytest.fixture(scope="session")
def llama_server() -> Iterator[LlamaServer]:
    """llama-server serving tests/fixtures/tiny-flat-hcap.gguf on a free loopback port with 4 parallel slots.

    One server for the whole session (it starts in well under a second, but tests share its warm caches);
    its OpenAI base URL is `llama_server.openai_url`.
    """
    pytest.importorskip("xllamacpp", reason="xllamacpp (in the test extra) runs the real llama.cpp server")
    with LlamaServer(TINY_GGUF, parallel=SLOTS) as server:
        yield server
