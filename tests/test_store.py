"""The JSONL store: flat records, tolerant reads, gold as an append, undo, durability, locking, compaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import testdata

from hcap_tui.config import DataPaths
from hcap_tui.errors import DataError, LabelError
from hcap_tui.jsonl import JsonlFile, LineProblem
from hcap_tui.schema import LabelSchema
from hcap_tui.store import ON_DISK, Checkpoint, Store, flat_record

KILL_SCRIPT = """
import sys
from pathlib import Path
from hcap_tui.jsonl import JsonlFile, LineProblem
target = JsonlFile(Path(sys.argv[1]))
pad = "x" * 20000
i = 0
while True:
    target.append([{"i": i, "pad": pad}])
    i += 1
"""

WRITER_SCRIPT = """
import sys, time
from pathlib import Path
from hcap_tui.jsonl import JsonlFile, LineProblem
target, go, writer, count = JsonlFile(Path(sys.argv[1])), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
for seq in range(count):
    size = (seq * 7919 + writer * 104729) % 70000  # many lines far larger than one pipe buffer
    target.append([{"writer": writer, "seq": seq, "pad": chr(97 + writer) * size}])
"""


DENIED_A_RUN = {"better_than_show": True, "race_strength": "strong",
                "reasoning": "Denied a clear run over 1f out; would have gone close."}


def label(**changes: Any) -> dict[str, Any]:
    """A valid label with a flag set and a strong race: a horse denied a clear run, with changes."""
    return testdata.label(**DENIED_A_RUN | changes)


def write_lines(path: Path, lines: list[str | dict]) -> None:
    """Write raw text lines (dicts as JSON) exactly as given."""
    path.write_text("".join((json.dumps(x) if isinstance(x, dict) else x) + "\n" for x in lines), encoding="utf-8")


@pytest.fixture
def store(paths: DataPaths, schema: LabelSchema) -> Store:
    return Store(paths, schema)


def test_flat_record_puts_provenance_beside_label_fields(store: Store, schema: LabelSchema) -> None:
    record = flat_record(schema, "Won | [HORSE]: Made all, kept on gamely", label(), teacher="gemini",
                         model="gemini-2.5-flash", created_at="2025-05-01T10:00:00+00:00", prompt_tokens=812,
                         completion_tokens=None)
    store.append(store.paths.labeled, [record])
    line = json.loads(store.paths.labeled.read_text(encoding="utf-8"))
    assert list(line) == ["formatted_input", *schema.names, "teacher", "model", "created_at", "prompt_tokens"]
    loaded = store.labeled(keep=True)
    assert loaded.problems == []
    [item] = loaded.items
    assert item.formatted_input == "Won | [HORSE]: Made all, kept on gamely"
    assert item.label == label() and list(item.label) == list(schema.names)
    assert item.record["teacher"] == "gemini" and item.line == 1


def test_tolerant_reading_skips_bad_lines_and_names_them(store: Store) -> None:
    good = flat_record(store.schema, "first input", label())
    write_lines(store.paths.labeled, [
        good,
        '{"formatted_input": "broken", "in_form": tru',
        "[1, 2, 3]",
        json.dumps(flat_record(store.schema, "stringly", label()) | {"in_form": "false"}),
        "",
        json.dumps(label()),
        json.dumps(flat_record(store.schema, "unknown strength", label(race_strength="decent"))),
        json.dumps(flat_record(store.schema, "last input", label())),
    ])
    loaded = store.labeled()
    assert [item.formatted_input for item in loaded.items] == ["first input", "last input"]
    assert [item.line for item in loaded.items] == [1, 8]
    problems = [str(p) for p in loaded.problems]
    assert [p.line for p in loaded.problems] == [2, 3, 4, 6, 7]
    assert problems[0].startswith("labeled.jsonl line 2: not valid JSON")
    assert problems[1] == "labeled.jsonl line 3: expected a JSON object, got list; skipped"
    assert "in_form: expected true or false, got 'false'" in problems[2]
    assert "missing formatted_input" in problems[3]
    assert "race_strength: 'decent' is not one of" in problems[4]


def test_bom_and_non_utf8_lines(store: Store) -> None:
    good = json.dumps(flat_record(store.schema, "first", label())).encode()
    store.paths.labeled.write_bytes(b"\xef\xbb\xbf" + good + b"\n" + good.replace(b"first", b"caf\xe9") + b"\n")
    loaded = store.labeled()
    assert [item.formatted_input for item in loaded.items] == ["first"]
    assert [str(p) for p in loaded.problems] == ["labeled.jsonl line 2: not UTF-8 text; skipped"]


def test_missing_file_reads_as_empty(store: Store) -> None:
    assert store.predictions().items == [] and store.gold().by_input == {}


def test_legacy_prompt_completion_and_failed_prediction_lines(store: Store, schema: LabelSchema) -> None:
    failed = flat_record(schema, "failed input", None, status="failed", error="cut off by num_predict",
                         raw='{"in_form": tr', model="flat-hcap:latest", batch_id="b1")
    write_lines(store.paths.predictions, [
        {"prompt": "legacy input", "completion": schema.dumps(label(in_form=True))},
        {"prompt": "legacy bad", "completion": '{"in_form": "yes"}'},
        failed,
        flat_record(schema, "new input", label(), model="flat-hcap:latest", model_digest="sha256:ab", latency_ms=812.5),
    ])
    loaded = store.predictions(keep=True)
    assert [(i.formatted_input, i.failed) for i in loaded.items] == [
        ("legacy input", False), ("failed input", True), ("new input", False)
    ]
    assert loaded.items[0].label == label(in_form=True)
    assert loaded.items[1].label is None and loaded.items[1].record["error"] == "cut off by num_predict"
    assert [p.line for p in loaded.problems] == [2]
    assert not set(schema.names) & set(loaded.items[1].record)  # a failure carries no label fields


def test_old_lines_with_extra_booleans_are_kept(store: Store) -> None:
    old = flat_record(store.schema, "old input", label()) | {"gemini_labeled": True, "human_verified": False,
                                                            "human_corrected": False}
    write_lines(store.paths.labeled, [old])
    [item] = store.labeled(keep=True).items
    assert item.label == label()
    assert item.record["gemini_labeled"] is True and item.record["human_corrected"] is False


def test_keys_covers_flat_and_legacy_lines(store: Store) -> None:
    write_lines(store.paths.predictions, [
        {"prompt": "legacy input", "completion": "{}"},
        flat_record(store.schema, "flat input", None, status="failed"),
        "not json",
    ])
    assert store.keys(store.paths.predictions) == {"legacy input", "flat input"}


def test_gold_last_write_wins(store: Store) -> None:
    store.approve(flat_record(store.schema, "A", label(), origin="gemini"))
    store.approve(flat_record(store.schema, "B", label()))
    store.approve(flat_record(store.schema, "A", label(in_form=True), origin="predictions"))
    gold = store.gold(keep=True)
    assert gold.by_input["A"].label == label(in_form=True)
    assert gold.by_input["A"].record["origin"] == "predictions"
    assert gold.superseded == 1
    assert len(store.paths.gold.read_text(encoding="utf-8").splitlines()) == 3


def test_approve_is_an_append_that_leaves_earlier_bytes_alone(store: Store) -> None:
    write_lines(store.paths.gold, [{"formatted_input": "user's old gold", **label()}])
    before = store.paths.gold.read_bytes()
    store.approve(flat_record(store.schema, "new", label(), reviewer="analyst"))
    after = store.paths.gold.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == 2


def test_approve_refuses_an_invalid_label(store: Store) -> None:
    with pytest.raises(LabelError, match="race_strength"):
        store.approve(flat_record(store.schema, "bad", label()) | {"race_strength": "great"})
    assert not store.paths.gold.exists()


def test_undo_truncates_its_own_tail_and_the_older_line_wins_again(store: Store) -> None:
    store.approve(flat_record(store.schema, "A", label()))
    before = store.paths.gold.read_bytes()
    receipt = store.approve(flat_record(store.schema, "A", label(out_of_form=True)))
    assert store.undo(receipt) is not None
    assert store.paths.gold.read_bytes() == before
    assert store.gold().by_input["A"].label == label()
    assert store.undo(receipt) is None


def test_undo_after_another_writer_removes_just_that_line(store: Store, paths: DataPaths, schema: LabelSchema) -> None:
    store.approve(flat_record(schema, "A", label()))
    receipt = store.approve(flat_record(schema, "B", label()))
    Store(paths, schema).approve(flat_record(schema, "C", label()))  # another reviewer
    assert store.undo(receipt) is not None
    assert [json.loads(line)["formatted_input"] for line in paths.gold.read_text().splitlines()] == ["A", "C"]


def test_torn_last_line_is_reported_and_next_append_starts_fresh(store: Store) -> None:
    whole = json.dumps(flat_record(store.schema, "whole", label()))
    store.paths.gold.write_text(whole + '\n{"formatted_input": "torn", "in_fo', encoding="utf-8")
    gold = store.gold()
    assert list(gold.by_input) == ["whole"]
    assert [str(p) for p in gold.loaded.problems] == [
        "goldstandard.jsonl line 2: incomplete last line (a write was interrupted); skipped"
    ]
    store.approve(flat_record(store.schema, "after", label()))
    lines = store.paths.gold.read_text(encoding="utf-8").split("\n")
    assert lines[1] == '{"formatted_input": "torn", "in_fo'
    assert json.loads(lines[2])["formatted_input"] == "after" and lines[3] == ""
    gold = store.gold()
    assert list(gold.by_input) == ["whole", "after"] and [p.line for p in gold.loaded.problems] == [2]


def test_kill_9_mid_run_leaves_every_earlier_line_valid(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(path)])
    try:
        deadline = time.monotonic() + 60
        while (not path.exists() or path.read_bytes().count(b"\n") < 100) and time.monotonic() < deadline:
            assert proc.poll() is None, "the appending process died on its own"
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    data = path.read_bytes()
    complete = data.split(b"\n")[:-1]
    assert len(complete) >= 100
    assert [json.loads(line)["i"] for line in complete] == list(range(len(complete)))
    entries = list(JsonlFile(path).read())
    problems = [value for _, value in entries if not isinstance(value, dict)]
    assert len(entries) - len(problems) == len(complete) and len(problems) <= 1
    JsonlFile(path).append([{"i": "after"}])
    assert [v["i"] for _, v in JsonlFile(path).read() if isinstance(v, dict)][-1] == "after"


def test_concurrent_writer_processes_never_interleave(tmp_path: Path) -> None:
    path, go = tmp_path / "gold.jsonl", tmp_path / "go"
    writers, count = 4, 60
    procs = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(path), str(go), str(w), str(count)])
             for w in range(writers)]
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0] * writers
    lines = path.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]
    assert len(records) == writers * count
    for w in range(writers):
        mine = [r for r in records if r["writer"] == w]
        assert [r["seq"] for r in mine] == list(range(count))
        assert all(set(r["pad"]) <= {chr(97 + w)} for r in mine)


def test_append_waits_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    path, ready = tmp_path / "gold.jsonl", tmp_path / "ready"
    script = (
        "import sys; from pathlib import Path; from hcap_tui.jsonl import JsonlFile\n"
        "Path(sys.argv[2]).touch()\n"
        "JsonlFile(Path(sys.argv[1])).append([{'from': 'second reviewer'}])\n"
    )
    with JsonlFile(path).locked():
        proc = subprocess.Popen([sys.executable, "-c", script, str(path), str(ready)])
        while not ready.exists() and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(0.3)  # ample time for an append that ignored the lock to land
        assert not path.exists()
    assert proc.wait(timeout=60) == 0
    assert path.read_text(encoding="utf-8") == '{"from": "second reviewer"}\n'


def test_concurrent_threads_never_interleave(store: Store, schema: LabelSchema) -> None:
    def reviewer(name: str) -> None:
        for i in range(40):
            store.approve(flat_record(schema, f"{name}-{i}", label(reasoning=name * 5000), reviewer=name))

    threads = [threading.Thread(target=reviewer, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    gold = store.gold()
    assert gold.loaded.problems == [] and len(gold.by_input) == 120


def test_compaction_keeps_one_line_per_input_and_sets_bad_lines_aside(store: Store, schema: LabelSchema) -> None:
    bad = '{"formatted_input": "broken", "in_form": tr'
    wrong = json.dumps(flat_record(schema, "wrong", label()) | {"in_form": "false"})
    write_lines(store.paths.gold, [
        flat_record(schema, "A", label()),
        flat_record(schema, "B", label()),
        bad,
        flat_record(schema, "A", label(in_form=True), reviewer="second look"),
        wrong,
    ])
    inode = store.paths.gold.stat().st_ino
    report = store.compact_gold()
    assert (report.kept, report.superseded, report.set_aside) == (2, 1, 2)
    lines = [json.loads(line) for line in store.paths.gold.read_text(encoding="utf-8").splitlines()]
    assert [(r["formatted_input"], r["in_form"]) for r in lines] == [("A", True), ("B", False)]
    assert lines[0]["reviewer"] == "second look"
    assert report.set_aside_path is not None
    assert report.set_aside_path.read_text(encoding="utf-8") == bad + "\n" + wrong + "\n"
    assert store.paths.gold.stat().st_ino != inode  # replaced as a whole, never edited in place
    assert not [p for p in store.paths.root.iterdir() if ".tmp-" in p.name]


def test_compaction_never_overwrites_an_earlier_set_aside_file(store: Store, schema: LabelSchema) -> None:
    write_lines(store.paths.gold, [flat_record(schema, "A", label()), "junk one"])
    first = store.compact_gold().set_aside_path
    with store.paths.gold.open("a", encoding="utf-8") as handle:
        handle.write("junk two\n")
    second = store.compact_gold().set_aside_path
    assert first != second
    assert first.read_text() == "junk one\n" and second.read_text() == "junk two\n"


def test_clean_compaction_writes_no_set_aside_file(store: Store, schema: LabelSchema) -> None:
    assert store.compact_gold().kept == 0  # no gold yet
    write_lines(store.paths.gold, [flat_record(schema, "A", label())])
    report = store.compact_gold()
    assert (report.kept, report.set_aside, report.set_aside_path) == (1, 0, None)


def test_failed_compaction_leaves_gold_untouched(store: Store, schema: LabelSchema,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    write_lines(store.paths.gold, [flat_record(schema, "A", label()), flat_record(schema, "A", label(in_form=True))])
    before = store.paths.gold.read_bytes()

    def disk_full(*args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(DataError, match="No space left on device"):
        store.compact_gold()
    assert store.paths.gold.read_bytes() == before
    assert not [p for p in store.paths.root.iterdir() if ".tmp-" in p.name]


def test_legacy_bare_integer_checkpoint_is_honoured(store: Store) -> None:
    store.paths.checkpoint("gemini").write_text("175", encoding="utf-8")
    assert store.read_checkpoint("gemini") == Checkpoint(175)
    store.paths.checkpoint("predictions").write_text("12\n", encoding="utf-8")
    assert store.read_checkpoint("predictions") == Checkpoint(12)


def test_checkpoint_round_trips_and_replaces_atomically(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.read_checkpoint("gemini") is None
    store.write_checkpoint("gemini", Checkpoint(176, "3rd of 12 | [HORSE]: é"))
    assert store.read_checkpoint("gemini") == Checkpoint(176, "3rd of 12 | [HORSE]: é")
    before = store.paths.checkpoint("gemini").read_bytes()
    monkeypatch.setattr(os, "replace", lambda *args: (_ for _ in ()).throw(OSError(5, "Input/output error")))
    with pytest.raises(DataError, match="Input/output error"):
        store.write_checkpoint("gemini", Checkpoint(999))
    assert store.paths.checkpoint("gemini").read_bytes() == before


@pytest.mark.parametrize("garbage", ["", "abc", "-3", "1.5", "[]", "{}", '{"index": -1}', '{"index": true}',
                                     '{"index": "7"}', '{"index": 3, "formatted_input": 5}'])
def test_garbage_checkpoint_is_a_data_error(store: Store, garbage: str) -> None:
    path = store.paths.checkpoint("gemini")
    path.write_text(garbage, encoding="utf-8")
    with pytest.raises(DataError) as caught:
        store.read_checkpoint("gemini")
    assert str(path) in str(caught.value) and "delete it" in str(caught.value)


SECOND_USER_SCRIPT = """
import os, sys
from pathlib import Path
from hcap_tui.jsonl import JsonlFile  # imported first: the second user may not read the interpreter's files
os.setgid(65534)
os.setuid(65534)
JsonlFile(Path(sys.argv[1])).append([{"formatted_input": "by the second user"}])
"""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to act as a second user")
def test_a_second_unix_user_can_append_beside_the_first() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as shared:  # pytest's own tmp folders are private to root
        os.chmod(shared, 0o777)
        _append_as_two_users(Path(shared) / "goldstandard.jsonl")


def _append_as_two_users(gold: Path) -> None:
    old_umask = os.umask(0o022)  # the usual umask: the lock file comes out 0644, owned by the first user
    try:
        JsonlFile(gold).append([{"formatted_input": "by the first user"}])
    finally:
        os.umask(old_umask)
    os.chmod(gold, 0o666)  # gold itself made writable for everyone sharing the folder
    script = [sys.executable, "-c", SECOND_USER_SCRIPT, str(gold)]
    run = subprocess.run(script, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["formatted_input"] for line in gold.read_text().splitlines()] == [
        "by the first user",
        "by the second user",
    ]


def test_rewrites_keep_the_files_permission_bits(store: Store, schema: LabelSchema) -> None:
    store.approve(flat_record(schema, "A", label()))
    store.approve(flat_record(schema, "A", label(in_form=True)))
    os.chmod(store.paths.gold, 0o664)
    store.compact_gold()
    assert store.paths.gold.stat().st_mode & 0o7777 == 0o664


def test_checkpoints_written_from_two_threads_at_once_never_fail(store: Store, paths: DataPaths) -> None:
    errors: list[Exception] = []

    def write(index: int) -> None:
        for _ in range(200):
            try:
                store.write_checkpoint("gemini", Checkpoint(index, f"item {index}"))
            except DataError as exc:  # e.g. one writer's temporary file removed by the other's rename
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.read_checkpoint("gemini") in (Checkpoint(0, "item 0"), Checkpoint(1, "item 1"))
    assert [p.name for p in paths.root.iterdir() if ".tmp-" in p.name] == []


def test_items_hold_no_record_unless_asked_and_share_their_field_names(store: Store, schema: LabelSchema) -> None:
    write_lines(store.paths.gold, [
        flat_record(schema, "A", label(), origin="gemini", reviewer="ann"),
        flat_record(schema, "B", label(in_form=True), origin="predictions", model="flat-hcap"),
    ])
    compact = store.gold().by_input
    assert [item.record for item in compact.values()] == [None, None]
    assert compact["B"].label == label(in_form=True) and list(compact["B"].label) == list(schema.names)
    assert compact["A"].values == tuple(label().values())
    enum = schema.enums[0]
    value = compact["A"].values[schema.names.index(enum.name)]
    assert value is enum.values[enum.values.index(label()[enum.name])]  # the schema's own string, shared
    some = store.gold(keep=("origin", "model")).by_input
    assert some["A"].record == {"origin": "gemini"}
    assert some["B"].record == {"origin": "predictions", "model": "flat-hcap"}
    whole = store.gold(keep=True).by_input
    assert whole["A"].record == json.loads(store.paths.gold.read_text(encoding="utf-8").splitlines()[0])



# Reading back: items a review holds leave their texts and unkept provenance on disk.


def read_back(store: Store, path: Path, keep: Any = False) -> list[Any]:
    return list(store.scan(path, keep=keep, read_back=True))


def test_items_read_back_hold_no_text_and_read_it_from_their_line(store: Store, paths: DataPaths) -> None:
    lines = [{"formatted_input": f"item {n}"} | label(reasoning=f"Reason {n} ✓.") | {"reviewer": "ann"} for n in range(3)]
    write_lines(paths.gold, ["\ufeff" + json.dumps(lines[0]), "", lines[1], "not json", lines[2]])
    items = read_back(store, paths.gold)
    assert [type(i).__name__ for i in items] == ["LabeledItem", "LabeledItem", "LineProblem", "LabeledItem"]
    items = [i for i in items if not isinstance(i, LineProblem)]
    for n, item in enumerate(items):
        assert item.held_label["reasoning"] is ON_DISK  # type: ignore[index]
        assert item.label == label(reasoning=f"Reason {n} ✓.")
        assert item.record == lines[n]  # none kept: the whole line, read back
    assert items[0].held_label == items[1].held_label and items[0]._values is items[1]._values  # one tuple for all
    kept = [i for i in read_back(store, paths.gold, keep=("reviewer",)) if not isinstance(i, LineProblem)]
    assert kept[2].record == {"reviewer": "ann"} and kept[2].label == label(reasoning="Reason 2 ✓.")


def test_a_file_replaced_after_reading_still_reads_as_it_was(store: Store, paths: DataPaths) -> None:
    write_lines(paths.gold, [{"formatted_input": "a"} | label(reasoning="First words.")])
    (item,) = read_back(store, paths.gold)
    replacement = paths.root / "new.jsonl"
    write_lines(replacement, [{"formatted_input": "b"} | label(reasoning="Other words, other offsets.")] * 3)
    os.replace(replacement, paths.gold)  # an undo or `hcap gold compact` elsewhere
    assert item.label == label(reasoning="First words.")


def test_a_line_changed_in_place_is_found_again_by_its_input(store: Store, paths: DataPaths) -> None:
    write_lines(paths.labeled, [{"formatted_input": n} | label(reasoning=f"About {n}.") for n in ("a", "b")])
    first, second = read_back(store, paths.labeled)
    with paths.labeled.open("r+", encoding="utf-8") as handle:  # rewritten in place, lines swapped and longer
        handle.write("".join(json.dumps({"formatted_input": n} | label(reasoning=f"Now about {n}.")) + "\n"
                             for n in ("bb", "b", "a")))
    assert first.label == label(reasoning="Now about a.")
    assert second.label == label(reasoning="Now about b.")


def test_an_item_whose_line_is_gone_reads_blank_texts_and_keeps_its_signals(store: Store, paths: DataPaths) -> None:
    write_lines(paths.gold, [{"formatted_input": n} | label(reasoning="Gone soon.", in_form=True) for n in "ab"])
    first, second = read_back(store, paths.gold)
    with paths.gold.open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
    assert first.label == label(reasoning="", in_form=True) and first.record == {}
    paths.gold.unlink()
    paths.gold.mkdir()  # and where it was cannot be read at all
    assert second.label == label(reasoning="", in_form=True) and second.record == {}


def test_a_read_back_file_is_closed_once_no_item_holds_it(store: Store, paths: DataPaths) -> None:
    write_lines(paths.gold, [{"formatted_input": "a"} | label()])
    before = len(os.listdir("/proc/self/fd"))
    items = read_back(store, paths.gold)
    assert len(os.listdir("/proc/self/fd")) == before + 1
    assert items[0].label == label()
    del items
    assert len(os.listdir("/proc/self/fd")) == before
    assert read_back(store, paths.root / "missing.jsonl") == []
