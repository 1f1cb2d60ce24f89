"""A faithful Ollama server for tests: a real HTTP server on a loopback port, driven by the real `ollama` client.

It speaks the documented bodies of /api/chat (one JSON body or an NDJSON stream, with metrics and, when asked,
log-probabilities), /api/tags, /api/show, /api/version, /api/blobs, /api/create, /api/copy and /api/delete, answers
unknown models with 404 and `{"error": ...}`, and runs chat requests in `slots` parallel slots with a bounded queue
behind them, answering 503 "server busy" when the queue is full, as `OLLAMA_NUM_PARALLEL` / `OLLAMA_MAX_QUEUE` do.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from doubles.loopback import Delivery, InFlight, LoopbackHandler, LoopbackServer, scripted
from doubles.ollama_output import label_for, logprobs_for, tokens

DEFAULT_DIGEST = "sha256:" + hashlib.sha256(b"flat-hcap test weights").hexdigest()
BUSY = "server busy, please try again.  maximum pending requests exceeded"
FILES_MIN_VERSION = (0, 5, 5)
DETAILS = {
    "parent_model": "",
    "format": "gguf",
    "family": "llama",
    "families": ["llama"],
    "parameter_size": "3.2B",
    "quantization_level": "Q4_K_M",
}


@dataclass
class Reply:
    """How the double answers one chat request."""

    content: str | None = None  # message.content; None → a valid label derived from the prompt
    done_reason: str = "stop"
    status: int = 200  # >= 400 answers {"error": error}
    error: str = ""
    delay: float = 0.0  # seconds spent inside a slot before answering
    logprobs: list[dict] | None = None
    drip: float = 0.0  # seconds after each byte of the body: a server that trickles its answer


def sequence(*replies: Reply) -> Callable[[dict], Reply]:
    """A reply function that answers with `replies` in turn, then with valid labels."""
    return scripted(replies, Reply)


def full_name(name: str) -> str:
    """Ollama's canonical model name: `flat-hcap` means `flat-hcap:latest`."""
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"


class OllamaDouble(LoopbackServer):
    """A running fake Ollama server; a context manager, or call `start()` / `stop()`."""

    def __init__(
        self,
        *,
        models: dict[str, str] | None = None,
        slots: int = 1,
        reply: Callable[[dict], Reply] | None = None,
        version: str = "0.13.0",
        max_queue: int = 512,
    ) -> None:
        super().__init__(_Handler)
        models = {"flat-hcap:latest": DEFAULT_DIGEST} if models is None else models
        self.models = {full_name(k): v for k, v in models.items()}
        self.slots = slots
        self.reply = reply or (lambda _request: Reply())
        self.version = version
        self.max_queue = max_queue
        self.requests: list[dict] = []
        self.created: dict[str, dict] = {}
        self.blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self._slots = threading.Semaphore(slots)
        self._flight = InFlight()
        self._waiting = 0

    @property
    def max_in_flight(self) -> int:
        """The most chat requests inside slots at once."""
        return self._flight.most

    @property
    def queued(self) -> int:
        """Chat requests waiting for a free slot right now."""
        with self._lock:
            return self._waiting

    # -- endpoints: each returns (status, body) where body is a dict, a list of NDJSON lines, or None

    def chat(self, body: dict) -> tuple[Any, ...]:
        """/api/chat: queue for a slot, then answer with the Reply the test chose."""
        with self._lock:
            self.requests.append(body)
        name = full_name(str(body.get("model", "")))
        if name not in self.models:
            return _not_found(body.get("model"))
        reply = self.reply(body)
        with self._lock:
            if self._waiting >= self.max_queue:
                return 503, {"error": BUSY}
            self._waiting += 1
        with self._slots:
            with self._lock:
                self._waiting -= 1
            with self._flight.answering():
                if reply.delay:
                    self._stopping.wait(reply.delay)
        if reply.status >= 400:
            return reply.status, {"error": reply.error or "internal error"}
        return 200, self._chat_answer(body, name, reply), Delivery(drip=reply.drip)

    def _chat_answer(self, body: dict, name: str, reply: Reply) -> Any:
        """The chat response body (or NDJSON lines when streaming) for a successful reply."""
        users = [str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"]
        prompt = users[-1] if users else ""
        content = reply.content if reply.content is not None else json.dumps(label_for(prompt, body.get("format")))
        pieces, done_reason = tokens(content), reply.done_reason
        limit = (body.get("options") or {}).get("num_predict")
        if isinstance(limit, int) and 0 < limit < len(pieces):
            pieces, done_reason = pieces[:limit], "length"
            content = "".join(pieces)
        logprobs = None
        if body.get("logprobs"):
            logprobs = reply.logprobs if reply.logprobs is not None else (
                logprobs_for(content, int(body.get("top_logprobs") or 0), body.get("format"))
            )
        head = {"model": name, "created_at": _now()}
        metrics = {
            "done": True,
            "done_reason": done_reason,
            "total_duration": int(reply.delay * 1e9) + 1_000_000,
            "load_duration": 500_000,
            "prompt_eval_count": len(tokens(prompt)),
            "prompt_eval_duration": 300_000,
            "eval_count": len(pieces),
            "eval_duration": int(reply.delay * 1e9) + 200_000,
        }
        if body.get("stream", True) is False:
            answer = {**head, "message": {"role": "assistant", "content": content}, **metrics}
            return answer | ({"logprobs": logprobs} if logprobs is not None else {})
        lines = []
        for i, piece in enumerate(pieces):
            line = {**head, "message": {"role": "assistant", "content": piece}, "done": False}
            if logprobs is not None and i < len(logprobs):
                line["logprobs"] = [logprobs[i]]
            lines.append(line)
        return lines + [{**head, "message": {"role": "assistant", "content": ""}, **metrics}]

    def tags(self) -> tuple[int, Any]:
        """/api/tags: every model with its digest and details."""
        models = [
            {"name": name, "model": name, "modified_at": _now(), "size": 2_019_393_189, "digest": digest,
             "details": DETAILS}
            for name, digest in sorted(self.models.items())
        ]
        return 200, {"models": models}

    def show(self, body: dict) -> tuple[int, Any]:
        """/api/show: template, parameters, details and model_info of one model."""
        name = full_name(str(body.get("model", "")))
        if name not in self.models:
            return _not_found(body.get("model"))
        created = self.created.get(name, {})
        template = created.get("template", "{{ .Prompt }}")
        params = created.get("parameters", {"stop": ["<|eot_id|>"], "temperature": 0})
        lines = [f"{k} {json.dumps(v) if isinstance(v, str) else v}" for k, vs in params.items()
                 for v in (vs if isinstance(vs, list) else [vs])]
        modelfile = f"FROM {name}\nTEMPLATE {json.dumps(template)}\n" + "".join(f"PARAMETER {ln}\n" for ln in lines)
        return 200, {
            "modelfile": modelfile,
            "template": template,
            "parameters": "\n".join(lines),
            "details": DETAILS,
            "model_info": {"general.architecture": "llama", "general.parameter_count": 3_212_749_888,
                           "llama.context_length": 131_072},
            "capabilities": ["completion"],
            "modified_at": _now(),
        }

    def create(self, body: dict) -> tuple[int, Any]:
        """/api/create from uploaded files (server >= 0.5.5) or from an existing model."""
        if _version(self.version) < FILES_MIN_VERSION:
            return 400, {"error": "path or Modelfile are required"}
        name = full_name(str(body.get("model", "")))
        files = body.get("files") or {}
        source = body.get("from")
        missing = [d for d in files.values() if d not in self.blobs]
        if missing:
            return 400, {"error": f"blob {missing[0]} not found"}
        if not files and not (source and full_name(source) in self.models):
            return 400, {"error": "neither 'from' or 'files' was specified"}
        self.created[name] = body
        self.models[name] = "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        steps = ["parsing GGUF", *(f"using existing layer {d}" for d in files.values()), "writing manifest", "success"]
        if body.get("stream", True) is False:
            return 200, {"status": "success"}
        return 200, [{"status": s} for s in steps]

    def copy(self, body: dict) -> tuple[int, Any]:
        """/api/copy: the destination becomes the same model as the source."""
        source, destination = full_name(str(body.get("source", ""))), full_name(str(body.get("destination", "")))
        if source not in self.models:
            return _not_found(body.get("source"))
        self.models[destination] = self.models[source]
        if source in self.created:
            self.created[destination] = self.created[source]
        return 200, None

    def delete(self, body: dict) -> tuple[int, Any]:
        """/api/delete: forget a model."""
        name = full_name(str(body.get("model", "")))
        if self.models.pop(name, None) is None:
            return _not_found(body.get("model"))
        self.created.pop(name, None)
        return 200, None

    def upload(self, digest: str, data: bytes) -> tuple[int, Any]:
        """POST /api/blobs/<digest>: keep the bytes when they hash to the digest."""
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if actual != digest:
            return 400, {"error": f'digest mismatch, expected "{digest}", got "{actual}"'}
        self.blobs[digest] = data
        return 201, None


class _Handler(LoopbackHandler):
    """Routes requests to the double's endpoints as Ollama's server lays them out."""

    double: OllamaDouble

    def do_GET(self) -> None:
        if self.path == "/api/tags":
            self._send(*self.double.tags())
        elif self.path == "/api/version":
            self._send(200, {"version": self.double.version})
        else:
            self._send(404, "404 page not found")

    def do_HEAD(self) -> None:
        if self.path.startswith("/api/blobs/"):
            found = self.path.removeprefix("/api/blobs/") in self.double.blobs
            self.send_response(200 if found else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, None)

    def do_POST(self) -> None:
        data = self._read_body()
        if self.path.startswith("/api/blobs/"):
            self._send(*self.double.upload(self.path.removeprefix("/api/blobs/"), data))
            return
        routes = {"/api/chat": self.double.chat, "/api/show": self.double.show,
                  "/api/create": self.double.create, "/api/copy": self.double.copy}
        self._route(routes, data)

    def do_DELETE(self) -> None:
        self._route({"/api/delete": self.double.delete}, self._read_body())

    def _route(self, routes: dict[str, Callable[[dict], tuple[Any, ...]]], data: bytes) -> None:
        endpoint = routes.get(self.path)
        if endpoint is None:
            self._send(404, "404 page not found")
            return
        try:
            body = json.loads(data or b"{}")
        except json.JSONDecodeError:
            self._send(400, {"error": "invalid request body"})
            return
        self._send(*endpoint(body))


def _now() -> str:
    """A timestamp in the server's RFC 3339 form."""
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _version(text: str) -> tuple[int, ...]:
    """A version string such as 0.5.4 as a comparable tuple."""
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def _not_found(model: object) -> tuple[int, dict]:
    """The server's answer for a model it does not have."""
    return 404, {"error": f"model '{model}' not found"}
