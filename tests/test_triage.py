"""`hcap triage` and `triage.rank`: a cross-fitted student ranks teacher labels by how likely they are wrong."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from testdata import label, write_jsonl
from triage_data import build
from typer.testing import CliRunner

import hcap_tui.triage as triage_module
from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record
from hcap_tui.triage import auroc, triage

runner = CliRunner()
needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="the triage extra (scikit-learn) is not installed"
)
SEVEN_SIGNALS = {
    "name": "seven",
    "fields": [
        {"name": "in_form", "type": "bool"},
        {"name": "out_of_form", "type": "bool"},
        {"name": "better_than_show", "type": "bool"},
        {"name": "flattered_by_result", "type": "bool"},
        {"name": "positive_attitude", "type": "bool"},
        {"name": "negative_attitude", "type": "bool"},
        {"name": "race_strength", "type": "enum", "scope": "race", "values": ["strong", "average", "weak", "no_signal"]},
        {"name": "reasoning", "type": "text"},
    ],
}


def run(*args: str):
    return runner.invoke(app, list(args))


def wrong_fields(folder, text: str) -> set[str]:
    return {name for name, value in folder.teacher[text].items() if folder.truth[text][name] != value}


def caught_share(folder, suspects) -> float:
    """Of the items with a planted error, the share whose wrong signal the student names as suspect."""
    errors = [s for s in suspects if s.formatted_input in folder.errors]
    named = [s for s in errors if wrong_fields(folder, s.formatted_input) <= {d.field for d in s.suspects}]
    return len(named) / len(errors)


@needs_sklearn
def test_planted_errors_rise_to_the_top_with_their_signals_named(data_dir: Path, schema: LabelSchema) -> None:
    folder = build(data_dir, schema, items=300, error_rate=0.15, seed=1)
    suspects = triage(Store(DataPaths(data_dir), schema)).suspects
    assert [s.formatted_input for s in suspects] != list(folder.teacher)  # ranked, not in file order
    assert {s.formatted_input for s in suspects} == set(folder.teacher)
    base_rate = len(folder.errors) / len(folder.teacher)
    top = [s.formatted_input in folder.errors for s in suspects[:20]]
    assert sum(top) / 20 >= 3 * base_rate, f"{sum(top)} of the top 20 are errors; base rate {base_rate:.0%}"
    assert caught_share(folder, suspects) >= 0.85


@needs_sklearn
def test_a_student_that_saw_the_items_own_labels_fails_that_check(
    data_dir: Path, schema: LabelSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above holds only because each item is judged by a student that never saw its label."""
    folder = build(data_dir, schema, items=300, error_rate=0.15, seed=1)
    monkeypatch.setattr(triage_module, "_splits", lambda fold, folds: [(fold >= 0, fold >= 0)])
    assert caught_share(folder, triage(Store(DataPaths(data_dir), schema)).suspects) < 0.7


@needs_sklearn
def test_gold_outranks_the_teacher_for_its_items(data_dir: Path, tmp_path: Path, schema: LabelSchema) -> None:
    """The teacher always misses one phrase; gold, which has it right, teaches the student to doubt the teacher."""
    phrase = "ran on when too late"
    with_gold = build(data_dir, schema, items=300, gold=200, seed=3, systematic=phrase, error_rate=0.1)
    bare = tmp_path / "bare"
    bare.mkdir()
    build(bare, schema, items=300, seed=3, systematic=phrase, error_rate=0.1)
    pending = {text for text in with_gold.teacher if phrase in text and text not in with_gold.gold}
    assert len(pending) >= 5

    def doubt(folder_dir: Path) -> float:
        """The student's mean doubt of the teacher's (always false) better_than_show on those items."""
        suspects = [s for s in triage(Store(DataPaths(folder_dir), schema)).suspects if s.formatted_input in pending]
        assert all(not s.teacher["better_than_show"] for s in suspects)
        return sum(next(d.doubt for d in s.signals if d.field == "better_than_show") for s in suspects) / len(suspects)

    taught, untaught = doubt(data_dir), doubt(bare)
    assert taught >= 0.35 and taught >= 2 * untaught, (taught, untaught)


@needs_sklearn
def test_items_in_gold_are_left_out_of_the_list_and_make_the_gold_check(data_dir: Path, schema: LabelSchema) -> None:
    folder = build(data_dir, schema, items=240, gold=80, seed=2)
    result = triage(Store(DataPaths(data_dir), schema))
    assert {s.formatted_input for s in result.suspects} == set(folder.teacher) - folder.gold
    assert {s.formatted_input for s in result.reviewed} == folder.gold
    check = result.check
    assert check is not None and check.items == 80
    assert check.errors == len(folder.errors & folder.gold)
    assert check.top == 20 and check.top_errors == sum(s.formatted_input in folder.errors for s in result.reviewed[:20])
    assert check.auroc is not None and check.auroc > 0.7
    assert sum(c["errors"] for c in check.fields.values()) == sum(len(wrong_fields(folder, t)) for t in folder.gold)


@needs_sklearn
def test_a_project_schema_with_other_signals_drives_the_student(data_dir: Path) -> None:
    (data_dir / "label_schema.json").write_text(json.dumps(SEVEN_SIGNALS), encoding="utf-8")
    schema = LabelSchema.load(data_dir / "label_schema.json")
    folder = build(data_dir, schema, items=300, seed=4)
    result = run("triage", "--json", "--top", "0", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["judged"] == [f.name for f in schema.signals] and out["not_judged"] == {}
    for item in out["items"]:
        assert list(item["signals"]) == out["judged"]
    named = {name for item in out["items"][:40] for name in item["suspects"]}
    assert {"flattered_by_result", "positive_attitude", "negative_attitude"} & named
    top = [item["formatted_input"] in folder.errors for item in out["items"][:20]]
    assert sum(top) >= 3 * len(folder.errors) / len(folder.teacher) * 20


@needs_sklearn
def test_json_lists_every_pending_item_most_suspect_first(data_dir: Path, schema: LabelSchema) -> None:
    folder = build(data_dir, schema, items=120, gold=30, seed=5)
    result = run("triage", "--json", "--top", "0", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {"data_dir", "labeled", "in_gold", "pending", "trained_on", "folds", "judged", "not_judged",
                        "shown", "items", "gold_check", "problems"}
    assert (out["labeled"], out["in_gold"], out["pending"], out["shown"], out["folds"]) == (120, 30, 90, 90, 5)
    items = out["items"]
    assert [i["formatted_input"] for i in items if i["formatted_input"] in folder.gold] == []
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    first = items[0]
    assert set(first) == {"formatted_input", "line", "score", "suspects", "signals"}
    assert 0 < first["score"] <= 1 and first["line"] >= 1
    for name, verdict in first["signals"].items():
        assert set(verdict) == {"teacher", "student", "p_teacher", "p_student"}
        assert verdict["teacher"] == folder.teacher[first["formatted_input"]][name]
        assert (name in first["suspects"]) == (verdict["student"] != verdict["teacher"])
    product = 1.0
    for verdict in first["signals"].values():
        product *= verdict["p_teacher"]
    assert first["score"] == pytest.approx(1 - product, abs=1e-3)
    assert set(out["gold_check"]) >= {"items", "errors", "base_rate", "top_errors", "top_precision", "auroc",
                                      "auroc_weakest", "fields"}
    assert json.loads(run("triage", "--json", "--data-dir", str(data_dir)).stdout)["items"] == items[:20]


@needs_sklearn
def test_report_lists_the_top_with_doubted_signals(data_dir: Path, schema: LabelSchema) -> None:
    build(data_dir, schema, items=120, gold=30, seed=5)
    result = run("triage", "--top", "3", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].endswith("120 teacher labels, 30 in gold, 90 to review")
    assert [line.split()[0] for line in lines if line[:5].strip().isdigit()] == ["1", "2", "3"]
    assert any(": teacher " in line and ", student " in line for line in lines)
    assert "showing the 3 most suspect of 90 (--top 0 lists all)" in lines
    assert lines[-1].startswith("on the 30 items gold holds: ")
    assert "student: 5 folds over 120 labelled items" in result.stderr


@needs_sklearn
def test_untrusted_text_cannot_drive_the_terminal(data_dir: Path, schema: LabelSchema) -> None:
    records = [flat_record(schema, f"{i + 2}th of 9 | [HORSE]: Led \x1b[2J early {i}\nwon", label(in_form=i % 2 == 0))
               for i in range(12)]
    write_jsonl(data_dir / "labeled.jsonl", records)
    result = run("triage", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "Led early 0 won" in result.stdout  # the whole sequence removed


@needs_sklearn
def test_all_items_already_in_gold_is_nothing_to_triage(data_dir: Path, schema: LabelSchema) -> None:
    build(data_dir, schema, items=40, gold=40, seed=6)
    result = run("triage", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "nothing to triage: all 40 teacher-labelled items are already in gold" in result.stdout
    out = json.loads(run("triage", "--json", "--data-dir", str(data_dir)).stdout)
    assert (out["pending"], out["items"], out["gold_check"]["items"]) == (0, [], 40)


@pytest.mark.parametrize(
    ("count", "args", "words"),
    [
        (0, (), "error: no teacher labels in "),
        (9, (), ("error: triage needs at least 10 labelled items for 5 folds, found 9: label more with `hcap label` "
                 "(`hcap triage --folds 2` needs fewer)")),
        (7, ("--folds", "4"), "error: triage needs at least 8 labelled items for 4 folds, found 7"),
    ],
)
def test_too_few_labels_is_one_line_error(data_dir: Path, schema: LabelSchema, count: int, args, words: str) -> None:
    if count:
        write_jsonl(data_dir / "labeled.jsonl",
                    [flat_record(schema, f"Won | [HORSE]: item {i}", label(in_form=i % 2 == 0)) for i in range(count)])
    result = run("triage", "--data-dir", str(data_dir), *args)
    assert result.exit_code == 1
    assert result.stderr.startswith(words) and result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_a_file_of_unreadable_lines_says_so(data_dir: Path) -> None:
    (data_dir / "labeled.jsonl").write_text('{"formatted_input": "x"}\n{oops\n', encoding="utf-8")
    result = run("triage", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert result.stderr == (f"error: no usable teacher labels in {data_dir / 'labeled.jsonl'}: its 2 line(s) cannot "
                             "be read (`hcap check` lists them)\n")


@pytest.mark.parametrize("args", [("--folds", "1"), ("--top", "-1"), ("--top", "many")])
def test_bad_option_values_are_usage_errors(data_dir: Path, args: tuple[str, str]) -> None:
    assert run("triage", "--data-dir", str(data_dir), *args).exit_code == 2


@needs_sklearn
def test_a_signal_with_one_value_is_not_judged_and_said_so(data_dir: Path, schema: LabelSchema) -> None:
    records = [flat_record(schema, f"{i % 9 + 2}th of 12 | [HORSE]: comment {i} " + ("rallied" if i % 3 else "hung"),
                           label(in_form=bool(i % 3))) for i in range(30)]
    write_jsonl(data_dir / "labeled.jsonl", records)
    result = run("triage", "--json", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["judged"] == ["in_form"]
    assert out["not_judged"] == {f.name: f"every label says {'average' if f.kind == 'enum' else 'false'}"
                                 for f in schema.signals if f.name != "in_form"}
    assert f"note: {schema.signals[1].name} is not judged: every label says false" in result.stderr
    assert all(list(item["signals"]) == ["in_form"] for item in out["items"])


def test_no_signal_with_two_values_is_one_line_error(data_dir: Path, schema: LabelSchema) -> None:
    write_jsonl(data_dir / "labeled.jsonl", [flat_record(schema, f"Won | [HORSE]: item {i}", label()) for i in range(12)])
    result = run("triage", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: nothing to judge: every signal has a single value across all 12 labels")


@needs_sklearn
def test_bad_lines_are_skipped_with_a_warning_and_nothing_is_written(data_dir: Path, schema: LabelSchema) -> None:
    build(data_dir, schema, items=60, gold=10, seed=7)
    labeled, gold = data_dir / "labeled.jsonl", data_dir / "goldstandard.jsonl"
    labeled.write_text(labeled.read_text(encoding="utf-8") + '{"formatted_input": "x", "in_form": "yes"}\n{oops\n',
                       encoding="utf-8")
    before = {path.name: path.read_bytes() for path in data_dir.iterdir()}
    result = run("triage", "--json", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: ") == 2 and "labeled.jsonl line 61" in result.stderr
    assert json.loads(result.stdout)["pending"] == 50
    assert {path.name: path.read_bytes() for path in data_dir.iterdir()} == before
    assert gold.exists()


def test_missing_scikit_learn_names_the_install_command(
    data_dir: Path, schema: LabelSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(data_dir, schema, items=30, seed=8)
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` now raises ImportError
    result = run("triage", "--data-dir", str(data_dir))
    assert result.exit_code == 1
    assert result.stderr == (
        "error: hcap triage needs scikit-learn, which is not installed: python3 -m pip install -e '.[triage]' "
        "(or: python3 -m pip install scikit-learn)\n"
    )


def test_scikit_learn_is_imported_only_when_triage_runs() -> None:
    probe = (
        "import sys, hcap_tui.cli, hcap_tui.triage, hcap_tui.races, hcap_tui.stats\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'numpy'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_auroc_counts_ties_as_half() -> None:
    assert auroc([0.9, 0.8, 0.1, 0.2], [True, True, False, False]) == 1.0
    assert auroc([0.1, 0.2, 0.9, 0.8], [True, True, False, False]) == 0.0
    assert auroc([0.5, 0.5, 0.5, 0.5], [True, False, True, False]) == 0.5
    assert auroc([0.9, 0.5, 0.5, 0.1], [True, True, False, False]) == pytest.approx(0.875)
    assert auroc([0.3, 0.4], [True, True]) is None
