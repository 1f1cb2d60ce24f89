"""A real llama.cpp server for tests and benchmarks: llama-server from the `xllamacpp` wheel, in a child process.

    with LlamaServer(TINY_GGUF, parallel=4) as server:
        httpx.post(f"{server.openai_url}/chat/completions", json={...})

The child (this file run as a script) builds `xllamacpp.CommonParams`, starts `xllamacpp.Server` on a free
127.0.0.1 port and prints the address it listens on; the parent then waits for `/health` to answer 200.
Each process gets ONE compute thread for generation and one for prompt batches: on a busy 2-core machine two
threads made generation about 100 times slower. Stopping closes the child's stdin; the child drops the server
(llama.cpp finishes its slots and closes the port) and exits 0. If the test process dies, the closed pipe stops
the child the same way, so no server outlives its tests. llama.cpp's log goes to a file, shown on failure.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import httpx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TINY_GGUF = FIXTURES / "tiny-flat-hcap.gguf"
TINY_RECORD = FIXTURES / "tiny-flat-hcap.json"
ALIAS = "flat-hcap"  # the name /v1/models lists; llama-server answers whatever model name a request gives


class LlamaServerError(RuntimeError):
    """The server did not start or did not become healthy; the message ends with its log."""


class LlamaServer:
    """llama-server serving one GGUF on 127.0.0.1 with `parallel` slots of `ctx_per_slot` tokens each."""

    def __init__(
        self,
        model: Path = TINY_GGUF,
        *,
        parallel: int = 1,
        ctx_per_slot: int = 2048,
        alias: str = ALIAS,
        start_timeout: float = 60.0,
    ) -> None:
        self.model = Path(model)
        self.parallel = parallel
        self.config = {
            "model": str(self.model),
            "parallel": parallel,
            "ctx": ctx_per_slot * parallel,
            "alias": alias,
        }
        self.start_timeout = start_timeout
        self.url = ""  # http://127.0.0.1:PORT once started
        self.process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.NamedTemporaryFile(prefix="llama-server-", suffix=".log", delete=False)  # noqa: SIM115  (closed in __exit__)
        self.log_path = Path(self._log.name)

    @property
    def openai_url(self) -> str:
        """The OpenAI-compatible base URL, `http://127.0.0.1:PORT/v1` (what `--host` takes for `openai:`)."""
        return f"{self.url}/v1"

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def start(self) -> Self:
        """Start the child, read the address it listens on, and wait until `/health` answers 200."""
        if not self.model.is_file():
            raise LlamaServerError(f"{self.model} not found: run python scripts/build_tiny_model.py")
        self.process = subprocess.Popen(
            [sys.executable, __file__, json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
        )
        deadline = time.monotonic() + self.start_timeout
        self.url = self._read_address(deadline)
        self._wait_healthy(deadline)
        return self

    def _read_address(self, deadline: float) -> str:
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        line = self.process.stdout.readline().decode() if ready else ""
        if not line.startswith("http://"):
            self.stop()
            raise LlamaServerError(f"llama-server did not start (no address printed): {self.log_tail()}")
        return line.strip()

    def _wait_healthy(self, deadline: float) -> None:
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                try:
                    if client.get(f"{self.url}/health").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if self.process is not None and self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise LlamaServerError(f"llama-server at {self.url} never became healthy: {self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> int | None:
        """Ask the child to stop (close its stdin) and wait; kill it if it hangs. Returns its exit code."""
        process, self.process = self.process, None
        if process is None:
            return None
        try:
            if process.stdin is not None:
                process.stdin.close()
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
        finally:
            if process.stdout is not None:
                process.stdout.close()

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of llama.cpp's log, for failure messages."""
        self._log.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._log.close()
        self.log_path.unlink(missing_ok=True)


def serve(config: dict[str, Any]) -> None:
    """The child: start xllamacpp's server, print its address, and run until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = config["model"]
    params.model_alias = {config["alias"]}
    params.hostnames = ["127.0.0.1"]
    params.port = 0  # the system picks a free port; listening_address says which
    params.n_parallel = config["parallel"]
    params.n_ctx = config["ctx"]
    params.cpuparams.n_threads = 1
    params.cpuparams_batch.n_threads = 1
    params.warmup = False
    server = xllamacpp.Server(params)
    sys.stdout.write(server.listening_address + "\n")
    sys.stdout.flush()
    sys.stdin.buffer.read()  # returns when the parent closes the pipe (or dies)
    del server  # stops the HTTP server and the slots before the process exits


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    serve(json.loads(sys.argv[1]))
