"""A loopback HTTP server for test doubles: a free port, a background thread, keep-alive and quiet hang-ups.

A double subclasses `LoopbackServer` for its state and endpoints and `LoopbackHandler` for its routes;
the handler reads plain or chunked request bodies and sends JSON, plain text or chunked NDJSON streams,
with extra headers and, to play a server that trickles its answer, a pause between the body's bytes.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

R = TypeVar("R")


class InFlight:
    """Counts the requests a double is answering at once, and the most it ever answered at once."""

    def __init__(self) -> None:
        self.most = 0
        self._now = 0
        self._lock = threading.Lock()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Count one request for as long as the block runs."""
        with self._lock:
            self._now += 1
            self.most = max(self.most, self._now)
        try:
            yield
        finally:
            with self._lock:
                self._now -= 1


@dataclass
class Delivery:
    """How a reply's bytes go out: extra headers, and a pause after each byte of the body (a dripping server)."""

    headers: dict[str, str] = field(default_factory=dict)
    drip: float = 0.0


class LoopbackServer:
    """Serves a handler class on a free 127.0.0.1 port in a background thread; a context manager.

    Each request's handler sees this object as its `double` attribute.
    """

    def __init__(self, handler: type[LoopbackHandler]) -> None:
        self.url = ""
        self._handler = handler
        self._stopping = threading.Event()  # replies that are still waiting give up when set
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> Self:
        """Listen on a free loopback port and serve in a background thread."""
        handler = type("Handler", (self._handler,), {"double": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving; replies still waiting give up at once."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    """A threading server that stays quiet about clients that hung up (e.g. after a client timeout)."""

    daemon_threads = True
    request_queue_size = 128  # like a real server's listen backlog: a burst of connections must not be dropped

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Drop the connection silently."""


class LoopbackHandler(BaseHTTPRequestHandler):
    """Keep-alive HTTP/1.1 request handling shared by the doubles."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; don't let them wait for an ACK

    def log_message(self, format: str, *args: Any) -> None:
        """No access log on the test output."""

    def _read_body(self) -> bytes:
        """The request body, whether sent with Content-Length or chunked."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return b"".join(parts)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: Any, delivery: Delivery | None = None) -> None:
        """A JSON body, an NDJSON stream (a list of lines, sent chunked), plain text or nothing."""
        delivery = delivery or Delivery()
        try:
            if isinstance(body, list):
                self._stream(status, body)
                return
            if body is None:
                payload, kind = b"", "text/plain; charset=utf-8"
            elif isinstance(body, str):
                payload, kind = body.encode(), "text/plain; charset=utf-8"
            else:
                payload, kind = json.dumps(body).encode(), "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in delivery.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if not delivery.drip:
                self.wfile.write(payload)
                return
            for i in range(len(payload)):
                self.wfile.write(payload[i : i + 1])
                self.wfile.flush()
                if self.double._stopping.wait(delivery.drip):  # type: ignore[attr-defined]
                    break
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _stream(self, status: int, lines: Iterable[dict]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for line in lines:
            chunk = json.dumps(line).encode() + b"\n"
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def closed_url() -> str:
    """The URL of a loopback port nothing listens on: a server that is not running."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def scripted(replies: Iterable[R], default: Callable[[], R]) -> Callable[[dict], R]:
    """A reply function for a double: answers with `replies` in turn, then with `default()` for ever."""
    queue = list(replies)
    lock = threading.Lock()

    def reply(_request: dict) -> R:
        with lock:
            return queue.pop(0) if queue else default()

    return reply
