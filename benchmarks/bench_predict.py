"""Throughput of `hcap predict` against the Ollama double with a fixed latency and four slots.

Prints figures beside their targets and never asserts; run it with `python3 benchmarks/bench_predict.py`.
Scratch files live under `benchmarks/.work/predict/` and are rewritten on each run.

- concurrency: a full prediction run (the real ollama client, validation, the fsynced append of each line to
  predictions.jsonl) over 64 items at --concurrency 1, 4 and 8, against a double that spends 50 ms per request
  in one of its 4 slots. The speed-up over concurrency 1 is printed as a ratio to the ideal min(N, 4).
  Target: at least 0.8 of ideal.
- overhead: wall time per item at concurrency 1 minus the double's 50 ms, for the client alone
  (`label_many` over the Ollama provider) and for the whole run with its durable appends. Target (client): under 5 ms.
  A bare httpx POST of the same request is timed too: the part of the overhead that is the double's own
  handling and the machine waking threads after each 50 ms pause, not the client.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import httpx

from hcap_tui.comments import Comment
from hcap_tui.config import DataPaths
from hcap_tui.models import label_many
from hcap_tui.models.ollama import OllamaLabeller
from hcap_tui.predict import PredictionRun
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store

TESTS = Path(__file__).resolve().parents[1] / "tests"
WORK = Path(__file__).resolve().parent / ".work" / "predict"
LATENCY_S = 0.05
SLOTS = 4
ITEMS = 64
CONCURRENCY = (1, 4, 8)
RATIO_TARGET = 0.8
OVERHEAD_TARGET_MS = 5.0


def comments(count: int) -> list[Comment]:
    """Distinct inputs shaped like the user's (about 500 characters)."""
    race = "[RACE]: A competitive handicap run at a strong gallop, the principals came from off the pace. " * 3
    return [
        Comment(f"{i % 9 + 2}th of 14, fairly beaten | {race}| [HORSE]: Held up, headway 2f out, kept on {i}", i + 2)
        for i in range(count)
    ]


def timed_run(model: OllamaLabeller, schema: LabelSchema, concurrency: int) -> float:
    """Seconds for a full prediction run of ITEMS items into a fresh predictions.jsonl."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    run = PredictionRun(Store(DataPaths(WORK), schema), model, comments(ITEMS))
    started = time.perf_counter()
    finished = sum(1 for _ in run.run(concurrency))
    elapsed = time.perf_counter() - started
    assert finished == ITEMS and run.summary.done == ITEMS, "every item should get a label"
    return elapsed


def timed_client(model: OllamaLabeller) -> float:
    """Seconds for the client alone to label ITEMS items one at a time."""
    started = time.perf_counter()
    results = list(label_many(model, (c.formatted_input for c in comments(ITEMS)), concurrency=1))
    elapsed = time.perf_counter() - started
    assert all(done.result.ok for done in results)
    return elapsed


def timed_bare_post(model: OllamaLabeller, url: str) -> float:
    """Seconds for ITEMS bare httpx POSTs of the same chat request: the double's and the machine's share."""
    with httpx.Client() as client:
        started = time.perf_counter()
        for comment in comments(ITEMS):
            client.post(f"{url}/api/chat", json={**model_request(model, comment.formatted_input), "stream": False})
        return time.perf_counter() - started


def model_request(model: OllamaLabeller, formatted_input: str) -> dict:
    """The chat request body the Ollama provider sends for one input."""
    return {
        "model": model.model,
        "messages": [{"role": "user", "content": formatted_input}],
        "format": model.schema.json_schema(),
        "options": {"temperature": 0, "num_predict": model.max_tokens},
    }


def main() -> None:
    """Measure and print."""
    sys.path.insert(0, str(TESTS))  # the Ollama double lives with the tests
    from doubles.ollama_double import OllamaDouble, Reply

    schema = LabelSchema.default()
    with OllamaDouble(slots=SLOTS, reply=lambda _body: Reply(delay=LATENCY_S)) as double:
        model = OllamaLabeller("flat-hcap", schema, host=double.url)
        model.check()
        timed_client(model)  # warm-up: connections, imports, caches
        seconds = {n: timed_run(model, schema, n) for n in CONCURRENCY}
        client_s = timed_client(model)
        bare_s = timed_bare_post(model, double.url)
    print(f"prediction runs of {ITEMS} items, double latency {LATENCY_S * 1000:.0f} ms, {SLOTS} slots")
    base = ITEMS / seconds[1]
    for n in CONCURRENCY:
        rate = ITEMS / seconds[n]
        ideal = min(n, SLOTS)
        ratio = (rate / base) / ideal
        verdict = "ok" if ratio >= RATIO_TARGET else "BELOW TARGET"
        print(
            f"  --concurrency {n}: {seconds[n]:.2f} s, {rate:.1f} items/s, speed-up {rate / base:.2f}x "
            f"of ideal {ideal}x = {ratio:.2f} (target >= {RATIO_TARGET}) {verdict}; "
            f"{rate / (ideal / LATENCY_S):.2f} of the double's {ideal / LATENCY_S:.0f} items/s"
        )
    client_ms = client_s / ITEMS * 1000 - LATENCY_S * 1000
    run_ms = seconds[1] / ITEMS * 1000 - LATENCY_S * 1000
    bare_ms = bare_s / ITEMS * 1000 - LATENCY_S * 1000
    verdict = "ok" if client_ms < OVERHEAD_TARGET_MS else "ABOVE TARGET"
    print(f"  client overhead per prediction: {client_ms:.2f} ms (target < {OVERHEAD_TARGET_MS:.0f} ms) {verdict}")
    print(f"    of which a bare httpx POST of the same request already spends: {bare_ms:.2f} ms")
    print(f"  whole-run overhead per prediction (validation, record, fsynced append): {run_ms:.2f} ms")


if __name__ == "__main__":
    main()
