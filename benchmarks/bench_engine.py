"""Throughput and client overhead of `openai:` models against a real llama-server (the tiny GGUF, 4 slots).

Prints figures beside their targets and never asserts; run it with `python3 benchmarks/bench_engine.py`
(needs the `test` extra for xllamacpp). The server is tests/engine's LlamaServer: llama.cpp's own server from
the xllamacpp wheel, one compute thread, 4 parallel slots, serving tests/fixtures/tiny-flat-hcap.gguf.

- throughput: ITEMS labels through hcap's batch driver (`label_many`, validation included) at concurrency 1, 2
  and 4, as items/s and as speed-up over concurrency 1 against the ideal min(N, 4). Target: at least 0.9 of
  ideal. The same requests sent as bare httpx POSTs from N threads are measured too, and so is the server's own
  time per generated token (its `timings`), to tell a client limit from the server's; so is the server's token
  rate at concurrency 1 and 4 without the structured-output grammar, to tell the grammar's share.
- overhead: wall time per item at concurrency 1 for hcap's client (request, parse, schema validation) minus
  that of a bare httpx POST of the same request body to the same server. Passes alternate and every pass sends
  the items in the same order, so both see the same prompt-cache state; each side's fastest pass is taken (the
  one least disturbed by other work on the machine), and every pass's difference is printed. Target: under 5 ms.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from hcap_tui.comments import CommentsFile
from hcap_tui.models import label_many
from hcap_tui.models.openai import OpenAILabeller
from hcap_tui.schema import LabelSchema

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
ITEMS = 32
SLOTS = 4
CONCURRENCY = (1, 2, 4)
PASSES = 5
RATIO_TARGET = 0.9
OVERHEAD_TARGET_MS = 5.0


def timed_hcap(model: OpenAILabeller, inputs: list[str], concurrency: int) -> float:
    """Seconds for hcap's batch driver to label every input with `concurrency` requests in flight."""
    started = time.perf_counter()
    results = [done.result for done in label_many(model, inputs, concurrency)]
    elapsed = time.perf_counter() - started
    failed = [r.error for r in results if not r.ok]
    assert not failed, f"every item should get a label: {failed[:2]}"
    return elapsed


def timed_bare(client: httpx.Client, bodies: list[dict], concurrency: int, per_token: list[float]) -> float:
    """Seconds for bare httpx POSTs of the same bodies from `concurrency` threads; collects the server's ms/token."""

    def post(body: dict) -> None:
        data = client.post("chat/completions", json=body).raise_for_status().json()
        per_token.append(float(data["timings"]["predicted_per_token_ms"]))

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, bodies))
    return time.perf_counter() - started


def token_rate(client: httpx.Client, bodies: list[dict], concurrency: int) -> float:
    """Generated tokens per second over bare POSTs of `bodies` from `concurrency` threads."""
    tokens: list[int] = []

    def post(body: dict) -> None:
        answer = client.post("chat/completions", json=body).raise_for_status().json()
        tokens.append(answer["usage"]["completion_tokens"])

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(post, bodies))
    return sum(tokens) / (time.perf_counter() - started)


def main() -> None:
    """Measure and print."""
    sys.path.insert(0, str(TESTS))  # the llama-server helper and the tiny GGUF live with the tests
    from engine.llama_server import TINY_GGUF, LlamaServer

    schema = LabelSchema.default()
    comments = CommentsFile(ROOT / "data" / "comments.csv").random_sample(ITEMS, 11)
    inputs = [c.formatted_input for c in comments]
    with LlamaServer(TINY_GGUF, parallel=SLOTS) as server, OpenAILabeller(
        "flat-hcap", schema, host=server.openai_url
    ) as model, httpx.Client(base_url=server.openai_url + "/", timeout=120,
                             limits=httpx.Limits(max_connections=None)) as client:
        model.check()
        bodies = [model.request_body(text) for text in inputs]
        timed_hcap(model, inputs, SLOTS)  # warm-up: connections, caches, the server's first batches
        timed_bare(client, bodies, SLOTS, [])
        hcap_s = {n: statistics.median(timed_hcap(model, inputs, n) for _ in range(PASSES)) for n in CONCURRENCY}
        per_token: dict[int, list[float]] = {n: [] for n in CONCURRENCY}
        bare_s = {n: statistics.median(timed_bare(client, bodies, n, per_token[n]) for _ in range(PASSES))
                  for n in CONCURRENCY}
        pairs = []
        for _ in range(PASSES):  # alternate, so neither side always runs on the other's cache state
            pairs.append((timed_hcap(model, inputs, 1), timed_bare(client, bodies, 1, [])))
        free = [{k: v for k, v in body.items() if k != "response_format"} for body in bodies]
        rates = {(grammar, n): token_rate(client, bodies if grammar else free, n)
                 for grammar in (True, False) for n in (1, SLOTS)}
    cores = os.cpu_count()
    print(f"llama-server (xllamacpp, 1 compute thread, {SLOTS} slots) serving {TINY_GGUF.name}; {ITEMS} items; "
          f"{cores} CPU cores; median of {PASSES} passes")
    base = ITEMS / hcap_s[1]
    bare_base = ITEMS / bare_s[1]
    for n in CONCURRENCY:
        rate, bare_rate = ITEMS / hcap_s[n], ITEMS / bare_s[n]
        ideal = min(n, SLOTS)
        ratio = rate / base / ideal
        verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
        print(f"  concurrency {n}: hcap {rate:.1f} items/s, speed-up {rate / base:.2f}x of ideal {ideal}x = "
              f"{ratio:.2f} (target >= {RATIO_TARGET}) {verdict}; bare httpx {bare_rate:.1f} items/s, speed-up "
              f"{bare_rate / bare_base:.2f}x; server {statistics.median(per_token[n]):.2f} ms per generated token "
              f"per request, {statistics.median(per_token[n]) / n:.2f} ms per token of all {n} together")
    for grammar in (True, False):
        low, high = rates[(grammar, 1)], rates[(grammar, SLOTS)]
        print(f"  server token rate {'with' if grammar else 'without'} the schema grammar: {low:.0f} tokens/s at "
              f"concurrency 1, {high:.0f} at {SLOTS} ({high / low:.2f}x)")
    overhead = (min(h for h, _ in pairs) - min(b for _, b in pairs)) / ITEMS * 1000
    verdict = "ok" if overhead < OVERHEAD_TARGET_MS else "ABOVE TARGET"
    per_item = min(b for _, b in pairs) / ITEMS * 1000
    passes = ", ".join(f"{(h - b) / ITEMS * 1000:+.2f}" for h, b in pairs)
    print(f"  client overhead per item at concurrency 1: {overhead:.2f} ms (target < {OVERHEAD_TARGET_MS:.0f} ms) "
          f"{verdict}; a bare POST takes {per_item:.1f} ms per item (hcap adds {overhead / per_item:.1%}); "
          f"pass by pass: {passes} ms")


if __name__ == "__main__":
    main()
