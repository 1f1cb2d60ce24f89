"""Offline batches: OpenAI batch request files for `vllm run-batch` or any OpenAI-compatible batch service,
and their results written into the output exactly as live answers are.

`write_batch` writes one request line per comment a live run would label (`custom_id`, `method`, `url`,
`body`); the body is the live `openai:` backend's own `request_body`, so a batch server gets the same
messages, response format and limits as a live call. `read_batch` reads the service's result lines, reads
each body with the backend's own `answer` and validates it with the batch driver's `judge`, as a live
answer is, and appends each to the output through the store. A `custom_id` is a hash of the comment's
formatted_input, so results map back to comments whatever order they come in; ids that match no comment,
ids given twice and answers for comments already labelled are reported and listed, never written silently.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from hcap_tui.apply.output import Layout, Model, Output, input_key
from hcap_tui.apply.run import Plan, plan
from hcap_tui.comments import CommentsFile
from hcap_tui.config import Project
from hcap_tui.errors import DataError
from hcap_tui.jsonl import JsonlFile, LineProblem, encode, write_atomic
from hcap_tui.models import LabelResult, ModelError, student
from hcap_tui.models.batch import judge
from hcap_tui.store import Store, now_iso

if TYPE_CHECKING:
    from hcap_tui.models.openai import OpenAILabeller

ENDPOINT = "/v1/chat/completions"
ID_PREFIX = "hcap-"


def batch_model(project: Project, model: str | None = None) -> OpenAILabeller:
    """The student as a batch service serves it: an `openai:` labeller that talks to no server.

    It builds request bodies and reads answers exactly as the live backend does, with the same settings.
    """
    return cast("OpenAILabeller", student(project, model, offline=True))


def custom_id(formatted_input: str) -> str:
    """The batch id of a comment: `hcap-` and a 128-bit BLAKE2b hash of its formatted_input."""
    return ID_PREFIX + hashlib.blake2b(formatted_input.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


@dataclass
class WriteSummary:
    """What `write_batch` wrote."""

    path: Path
    model: str
    requests: int
    planned: Plan

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return {
            "requests": self.requests,
            "path": str(self.path),
            "model": self.model,
            "eligible": self.planned.eligible,
            "skipped": self.planned.skipped,
            "left": self.planned.left,
            "repeated": self.planned.repeated,
        }


def write_batch(labeller: OpenAILabeller, comments: CommentsFile, output: Output, path: Path,
                limit: int | None = None) -> WriteSummary:
    """Write a request line for every comment a live run would label now (atomically, streamed)."""
    planned = plan(comments, output.scan(Model(labeller.spec.recorded, None)), limit)
    requests = len(planned.todo)

    def lines() -> Iterator[bytes]:
        for comment in planned.comments(comments):
            yield encode({
                "custom_id": custom_id(comment.formatted_input),
                "method": "POST",
                "url": ENDPOINT,
                "body": labeller.request_body(comment.formatted_input),
            })

    write_atomic(path, lines())
    return WriteSummary(path, labeller.spec.recorded, requests, planned)


@dataclass
class ReadSummary:
    """What `read_batch` found in a results file and wrote into the output."""

    results: Path
    output: Path
    model: str
    lines: int = 0  # result lines in the file
    labelled: int = 0
    invalid: list[str] = field(default_factory=list)  # custom_ids written as failed lines
    unknown: list[str] = field(default_factory=list)  # custom_ids of no eligible comment in the CSV
    duplicates: list[str] = field(default_factory=list)  # custom_ids given again, or answering a labelled comment
    replaced_lines: int = 0
    elapsed_s: float = 0.0
    csv_out: Path | None = None

    @property
    def failed(self) -> int:
        """Answers kept as failed lines."""
        return len(self.invalid)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain JSON-ready data."""
        return {
            "results": str(self.results),
            "output": str(self.output),
            "model": self.model,
            "lines": self.lines,
            "labelled": self.labelled,
            "failed": self.failed,
            "unknown": len(self.unknown),
            "duplicates": len(self.duplicates),
            "replaced_lines": self.replaced_lines,
            "elapsed_s": round(self.elapsed_s, 3),
            "invalid_ids": self.invalid,
            "unknown_ids": self.unknown,
            "duplicate_ids": self.duplicates,
            "csv": None if self.csv_out is None else str(self.csv_out),
        }


def read_batch(store: Store, labeller: OpenAILabeller, comments: CommentsFile, output: Output,
               results: Path) -> ReadSummary:
    """Validate every result like a live answer and append it to the output; the caller holds the output.

    The whole results file is checked to be result lines before anything is written; a line that is not
    (not JSON, no custom_id) is a DataError naming it.
    """
    started = time.perf_counter()
    summary = ReadSummary(results, output.path, labeller.spec.recorded)
    index = _index(results, summary)
    layout = Layout.for_header(store.schema, comments.header())
    ledger = output.scan(Model(labeller.spec.recorded, None))
    replacing = ledger.failed | ledger.other | ledger.repeated
    with results.open("rb") as handle:
        for comment in comments:
            offset = index.pop(custom_id(comment.formatted_input), None)
            if offset is None:
                continue
            handle.seek(offset)
            entry = json.loads(handle.readline())
            if input_key(comment.formatted_input) in ledger.done:
                summary.duplicates.append(entry["custom_id"])
                continue
            result = judged(labeller, comment.formatted_input, entry)
            store.append(output.path, [layout.record(comment, result, now_iso())])
            if result.ok:
                summary.labelled += 1
            else:
                summary.invalid.append(entry["custom_id"])
    summary.unknown.extend(index)
    summary.replaced_lines = output.compact(replacing)
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _index(results: Path, summary: ReadSummary) -> dict[str, int]:
    """Each custom_id of a results file and the offset of its first line; repeats go to `duplicates`."""
    if not results.is_file():
        raise DataError(f"{results} not found: name the results file the batch service wrote with --read-batch")
    index: dict[str, int] = {}
    for line in JsonlFile(results).stream():
        value = line.value
        if isinstance(value, LineProblem):
            reason = value.reason.removesuffix("; skipped")
            raise DataError(f"{results} line {line.number}: {reason}: fix or remove it (nothing was written)")
        cid = value.get("custom_id")
        if not isinstance(cid, str) or not cid:
            raise DataError(
                f"{results} line {line.number} is not a batch result (it has no custom_id): read only the "
                "file the batch service wrote (nothing was written)"
            )
        summary.lines += 1
        if cid in index:
            summary.duplicates.append(cid)
        else:
            index[cid] = line.offset
    return index


def judged(labeller: OpenAILabeller, formatted_input: str, entry: dict[str, Any]) -> LabelResult:
    """A batch result as the LabelResult a live call gives: the backend's `answer`, then the schema's `judge`."""
    response = entry.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    status = response.get("status_code") if isinstance(response, dict) else None
    label: dict[str, Any] | None = None
    text, prompt_tokens, completion_tokens = "", None, None
    if entry.get("error") or status != 200 or not isinstance(body, dict):
        reason: str | None = f"the batch request failed: {_failure(entry.get('error'), status, body)}"
    else:
        try:
            answer = labeller.answer(body)
        except ModelError:
            reason = "the result's body is not a chat completion"
        else:
            label, reason = judge(labeller.schema, answer)
            text, prompt_tokens, completion_tokens = answer.text, answer.prompt_tokens, answer.completion_tokens
    return LabelResult(
        formatted_input=formatted_input, label=label, raw=text, error=reason, spec=labeller.spec, digest=None,
        latency_ms=0.0, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, confidence=None,
        attempts=1,
    )


def _failure(error: Any, status: Any, body: Any) -> str:
    """One line saying why a batch request failed, from its error (text, or an object such as vLLM's
    `{"error": {"message": ...}}`), its status and its body."""
    detail = error or (body.get("error") if isinstance(body, dict) else None) or "no response body"
    while isinstance(detail, dict):
        inner = detail.get("error") or detail.get("message")
        detail = inner if inner else json.dumps(detail, ensure_ascii=False)
    text = f"{status}: {detail}" if isinstance(status, int) else str(detail)
    return " ".join(text.split())[:300]
