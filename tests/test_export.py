"""`hcap export`: what lands in training_data.jsonl and eval_data.jsonl, and what the user is told."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.config import DataPaths
from hcap_tui.export import split_of
from hcap_tui.schema import LabelSchema
from hcap_tui.store import Store, flat_record

runner = CliRunner()
STRENGTHS = ["strong", "average", "weak", "no_signal"]


def make_label(i: int, *, rare_every: int = 10) -> dict[str, Any]:
    """A varied but deterministic label for item i; worse_than_show is true for one item in `rare_every`."""
    return {
        "in_form": i % 2 == 0,
        "out_of_form": i % 3 == 0,
        "better_than_show": i % 2 == 1,
        "worse_than_show": i % rare_every == 0,
        "race_strength": STRENGTHS[i % 4],
        "reasoning": f"Kept on \u00abgamely\u00bb in item {i}.",
    }


def item_input(i: int) -> str:
    return f"{i % 9 + 2}th of 14, competitive | [RACE]: Run at a fair gallop | [HORSE]: hld up, kpt on item {i}"


def gold_line(schema: LabelSchema, i: int, **overrides: Any) -> dict[str, Any]:
    label = {**make_label(i), **overrides}
    return flat_record(schema, item_input(i), label, origin="gemini", proposed=dict(label), changed=[], reviewer="ann")


def write_gold(paths: DataPaths, lines: list[dict[str, Any]]) -> None:
    with paths.gold.open("a", encoding="utf-8") as handle:
        for line in lines:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def export(data_dir: Path, *args: str):
    return runner.invoke(app, ["export", "--data-dir", str(data_dir), *args])


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def prompts(path: Path) -> set[str]:
    return {row["prompt"] if isinstance(row["prompt"], str) else row["prompt"][0]["content"] for row in read_rows(path)}


def table_cells(stdout: str) -> list[list[str]]:
    """The value, train and eval cells of each row of the printed table."""
    return [[cell.strip() for cell in line.split("\u2502")[2:5]] for line in stdout.splitlines() if "\u2502" in line]


def test_rows_hold_prompt_then_canonical_completion_in_schema_order(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(40)])
    write_gold(paths, [gold_line(schema, 5, in_form=True, race_strength="strong", reasoning="Corrected.")])

    result = export(data_dir)

    assert result.exit_code == 0, result.output
    rows = read_rows(paths.training) + read_rows(paths.eval)
    assert len(rows) == 40  # the corrected item counts once
    for row in rows:
        assert list(row) == ["prompt", "completion"]
        completion = json.loads(row["completion"])
        assert list(completion) == list(schema.names)
        assert row["completion"] == schema.dumps(completion)
    by_prompt = {row["prompt"]: json.loads(row["completion"]) for row in rows}
    assert set(by_prompt) == {item_input(i) for i in range(40)}
    assert by_prompt[item_input(5)]["race_strength"] == "strong"  # the last gold line wins
    assert by_prompt[item_input(5)]["reasoning"] == "Corrected."
    assert "\u00abgamely\u00bb" in paths.training.read_text(encoding="utf-8")  # UTF-8 kept, not escaped


def test_chat_format_writes_one_user_and_one_assistant_message(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(30)])

    result = export(data_dir, "--format", "chat")

    assert result.exit_code == 0, result.output
    for row in read_rows(paths.training) + read_rows(paths.eval):
        assert list(row) == ["prompt", "completion"]
        [user], [assistant] = row["prompt"], row["completion"]
        assert list(user) == ["role", "content"] and user["role"] == "user"
        assert assistant["role"] == "assistant"
        assert assistant["content"] == schema.dumps(schema.parse(assistant["content"]))


def test_an_item_never_changes_split_as_gold_grows(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(60)])
    assert export(data_dir).exit_code == 0
    first_train, first_eval = prompts(paths.training), prompts(paths.eval)
    assert first_eval, "60 items at 10% should hold some out"

    write_gold(paths, [gold_line(schema, i) for i in range(60, 200)])
    write_gold(paths, [gold_line(schema, 7, out_of_form=True), gold_line(schema, 11, in_form=False)])
    assert export(data_dir).exit_code == 0
    second_train, second_eval = prompts(paths.training), prompts(paths.eval)

    assert first_train <= second_train
    assert first_eval <= second_eval
    assert len(second_train) + len(second_eval) == 200
    assert all(split_of(p, 0.1) == "eval" for p in second_eval)


def test_same_gold_gives_byte_identical_files_whatever_the_line_order(data_dir, paths, schema) -> None:
    lines = [gold_line(schema, i) for i in range(50)]
    write_gold(paths, lines)
    assert export(data_dir).exit_code == 0
    train, held_out = paths.training.read_bytes(), paths.eval.read_bytes()

    assert export(data_dir).exit_code == 0
    assert (paths.training.read_bytes(), paths.eval.read_bytes()) == (train, held_out)

    shuffled = lines[:]
    random.Random(3).shuffle(shuffled)
    paths.gold.unlink()
    write_gold(paths, shuffled)
    assert export(data_dir).exit_code == 0
    assert (paths.training.read_bytes(), paths.eval.read_bytes()) == (train, held_out)


def test_counts_table_shows_every_signal_value_for_train_and_eval(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(80)])

    result = export(data_dir)
    summary = json.loads(export(data_dir, "--json").stdout)

    assert result.exit_code == 0
    train_rows = [json.loads(r["completion"]) for r in read_rows(paths.training)]
    eval_rows = [json.loads(r["completion"]) for r in read_rows(paths.eval)]
    assert f"train ({len(train_rows)})" in result.stdout and f"eval ({len(eval_rows)})" in result.stdout
    strong_train = sum(1 for label in train_rows if label["race_strength"] == "strong")
    strong_eval = sum(1 for label in eval_rows if label["race_strength"] == "strong")
    assert ["strong", str(strong_train), str(strong_eval)] in table_cells(result.stdout), result.stdout
    for name in ("in_form", "out_of_form", "better_than_show", "worse_than_show", "race_strength", "no_signal"):
        assert name in result.stdout
    assert summary["train"]["rows"] == len(train_rows) and summary["eval"]["rows"] == len(eval_rows)
    in_form_true = sum(1 for label in train_rows if label["in_form"])
    assert summary["train"]["counts"]["in_form"] == {"true": in_form_true, "false": len(train_rows) - in_form_true}
    assert summary["eval"]["counts"]["race_strength"]["strong"] == strong_eval


def test_warns_about_values_too_rare_to_learn(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(200)])  # worse_than_show true on 1 item in 10

    result = export(data_dir)

    assert result.exit_code == 0
    assert "worse_than_show=true" in result.stderr and "too rare" in result.stderr
    assert "in_form=true" not in result.stderr  # half the items: plenty


def test_a_small_export_warns_once_about_its_size_and_never_calls_a_majority_value_rare(data_dir, paths, schema):
    write_gold(paths, [gold_line(schema, i, worse_than_show=False) for i in range(12)])

    result = export(data_dir)

    assert result.exit_code == 0
    assert "warning: only" in result.stderr and "training rows: review at least 100 items" in result.stderr
    assert "worse_than_show=false" not in result.stderr  # every row holds it: scarce rows, not a rare value
    assert "worse_than_show=true is in only 0 of" in result.stderr


def test_empty_or_missing_gold_is_one_error_line_and_writes_nothing(data_dir, paths) -> None:
    missing = export(data_dir)
    paths.gold.write_text("", encoding="utf-8")
    empty = export(data_dir)

    for result in (missing, empty):
        assert result.exit_code == 1
        assert result.stderr.startswith("error: no gold items") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.output
    assert not paths.training.exists() and not paths.eval.exists()


def test_an_undone_approval_is_not_exported(data_dir, paths, schema) -> None:
    store = Store(paths, schema)
    store.approve(gold_line(schema, 1))
    receipt = store.approve(gold_line(schema, 2))
    store.undo(receipt)

    assert export(data_dir, "--eval-fraction", "0").exit_code == 0

    assert prompts(paths.training) == {item_input(1)}
    assert paths.eval.read_text(encoding="utf-8") == ""


def test_unreadable_gold_lines_are_reported_not_silently_dropped(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(10)])
    with paths.gold.open("a", encoding="utf-8") as handle:
        handle.write('{"formatted_input": "x", "in_form": "yes"}\n')

    result = export(data_dir, "--eval-fraction", "0")

    assert result.exit_code == 0
    assert "goldstandard.jsonl line 11" in result.stderr
    assert len(read_rows(paths.training)) == 10


def test_eval_fraction_out_of_range_is_refused(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(10)])

    result = export(data_dir, "--eval-fraction", "1")

    assert result.exit_code == 1
    assert result.stderr.startswith("error: --eval-fraction")
    assert not paths.training.exists()


def test_an_empty_eval_split_is_warned_about_with_the_fix(data_dir, paths, schema) -> None:
    train_only = [i for i in range(100) if split_of(item_input(i), 0.1) == "train"][:3]
    write_gold(paths, [gold_line(schema, i) for i in train_only])

    result = export(data_dir)

    assert result.exit_code == 0
    assert paths.eval.read_text(encoding="utf-8") == ""
    assert (
        "warning: eval_data.jsonl has 0 rows (hcap eval wants at least 20): "
        "approve more items or raise --eval-fraction" in result.stderr
    )


def test_a_tiny_eval_split_is_warned_about_and_a_large_one_is_not(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(40)])
    held_out = sum(split_of(item_input(i), 0.1) == "eval" for i in range(40))

    tiny = export(data_dir)
    ample = export(data_dir, "--eval-fraction", "0.7")

    assert 0 < held_out < 20
    assert f"warning: eval_data.jsonl has only {held_out} row" in tiny.stderr
    assert json.loads(export(data_dir, "--json").stdout)["eval_warning"].startswith("eval_data.jsonl has only")
    assert ample.exit_code == 0 and "eval_data.jsonl has" not in ample.stderr


def test_gold_with_empty_text_is_left_out_with_a_warning(data_dir, paths, schema) -> None:
    write_gold(paths, [gold_line(schema, i) for i in range(30)])
    write_gold(paths, [gold_line(schema, 3, reasoning=""), gold_line(schema, 8, reasoning=" \n\t ")])

    result = export(data_dir)

    assert result.exit_code == 0, result.output
    exported = prompts(paths.training) | prompts(paths.eval)
    assert len(exported) == 28 and not {item_input(3), item_input(8)} & exported
    assert (
        "warning: 2 gold item(s) left out: reasoning is empty (goldstandard.jsonl line(s) 31, 32); "
        "approve them again in the review app with the text written\n"
    ) in result.stderr
    summary = json.loads(export(data_dir, "--json").stdout)
    assert summary["left_out"] == ["goldstandard.jsonl line 31: reasoning is empty",
                                   "goldstandard.jsonl line 32: reasoning is empty"]


def test_the_text_fields_left_empty_come_from_the_projects_schema(data_dir, paths) -> None:
    own = {"name": "two", "fields": [{"name": "keen", "type": "bool"}, {"name": "why", "type": "text"}]}
    (data_dir / "label_schema.json").write_text(json.dumps(own), encoding="utf-8")
    lines = [{"formatted_input": item_input(i), "keen": i % 2 == 0, "why": "" if i == 4 else f"Because {i}."}
             for i in range(12)]
    write_gold(paths, lines)

    result = export(data_dir, "--eval-fraction", "0")

    assert result.exit_code == 0, result.output
    assert "left out: why is empty (goldstandard.jsonl line(s) 5)" in result.stderr
    assert item_input(4) not in prompts(paths.training) and len(prompts(paths.training)) == 11
