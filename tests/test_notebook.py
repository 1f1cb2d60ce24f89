"""The Colab notebook: a valid, output-free nbformat 4 file that installs, uploads, sets, makes one call into
`hcap_tui.train` (the code `hcap train` runs) and downloads; and the export-reading helpers that training uses."""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from hcap_tui.cli import app
from hcap_tui.errors import DataError
from hcap_tui.finetune_data import TrainingRow, agreement_lines, evaluate, find_gguf, generation_prompt, load_rows
from hcap_tui.schema import LabelSchema
from hcap_tui.store import flat_record
from hcap_tui.template import BOS_TOKEN, EOT_TOKEN, render_training_text
from hcap_tui.train import DEFAULT_BASE, TrainOptions

NOTEBOOK = Path(__file__).resolve().parents[1] / "colab" / "finetune_flat_hcap.ipynb"
STRENGTHS = ["strong", "average", "weak", "no_signal"]


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def code_cells(nb: nbformat.NotebookNode) -> list[str]:
    """Each code cell's Python, with IPython magics and shell lines (`%pip`, `!ls`) left out."""
    return [
        "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for cell in nb.cells
        if cell.cell_type == "code"
    ]


def hcap_imports(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """Every (module, name) the notebook imports from hcap_tui."""
    found = []
    for source in code_cells(nb):
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("hcap_tui"):
                found.extend((node.module, alias.name) for alias in node.names)
    return found


def test_notebook_is_valid_nbformat_4_without_outputs(notebook) -> None:
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


def test_every_code_cell_is_python_and_every_step_is_explained(notebook) -> None:
    for source in code_cells(notebook):
        ast.parse(source)
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds[0] == "markdown"
    assert kinds.count("markdown") >= kinds.count("code") - 3  # at most a few code cells share one explanation


def train_options_call(nb: nbformat.NotebookNode) -> ast.Call:
    """The notebook's one `TrainOptions(...)` call."""
    calls = [
        node
        for source in code_cells(nb)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TrainOptions"
    ]
    assert len(calls) == 1
    return calls[0]


def test_the_notebook_trains_with_one_call_into_hcap_train(notebook) -> None:
    imports = hcap_imports(notebook)
    assert ("hcap_tui.train", "TrainOptions") in imports and ("hcap_tui.train", "train") in imports
    for module, name in imports:
        assert hasattr(importlib.import_module(module), name), f"{module}.{name} does not exist"
    source = "\n".join(code_cells(notebook))
    assert "result = train(options, data_dir=WORK)" in source

    # Every setting is a real TrainOptions field, so the notebook and `hcap train` take the same settings.
    keywords = {kw.arg for kw in train_options_call(notebook).keywords}
    assert keywords == {"base", "epochs", "lora_rank", "learning_rate", "batch_size", "gguf", "out"}
    assert keywords <= set(TrainOptions.__dataclass_fields__)
    assert f'BASE = "{DEFAULT_BASE}"' in source and 'GGUF = "q4_k_m"' in source


def test_the_notebook_has_no_training_code_of_its_own(notebook) -> None:
    """Template, loss masking, trainer, evaluation and export live in hcap_tui.train, tested there, not here."""
    source = "\n".join(code_cells(notebook))
    for own_code in ("SFTTrainer", "get_peft_model", "chat_template", "train_on_responses_only", "generate(",
                     "save_pretrained", "from_pretrained"):
        assert own_code not in source, own_code
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "hcap model import" in markdown and "hcap train" in markdown


def test_the_notebook_hcap_imports_need_only_what_colab_has(notebook) -> None:
    """The wheel goes in with --no-deps beside Unsloth's stack, which brings Rich (through its CLI libraries);
    the notebook's hcap imports may need nothing else of hcap's own dependencies."""
    modules = sorted({module for module, _ in hcap_imports(notebook)})
    probe = f"import sys; import {', '.join(modules)}; print(' '.join(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    loaded = set(run.stdout.split())
    for package in ("typer", "textual", "ollama", "httpx", "google", "torch", "transformers"):
        assert package not in loaded, f"the notebook's hcap imports pull in {package}"


@pytest.fixture
def exported(data_dir: Path, paths, schema: LabelSchema) -> Path:
    """A data folder after a real `hcap export` of 40 gold items (prompt-completion rows)."""
    with paths.gold.open("w", encoding="utf-8") as handle:
        for i in range(40):
            label = {
                "in_form": i % 2 == 0,
                "out_of_form": i % 5 == 0,
                "better_than_show": i % 3 == 0,
                "worse_than_show": False,
                "race_strength": STRENGTHS[i % 4],
                "reasoning": f"\u201cRallied gamely\u201d late on, item {i}.",
            }
            formatted = f"{i + 2}th of 20, well beaten | [RACE]: Modest affair | [HORSE]: Never travelling {i}"
            handle.write(json.dumps(flat_record(schema, formatted, label, origin="gemini"), ensure_ascii=False) + "\n")
    result = CliRunner().invoke(app, ["export", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return data_dir


def test_load_rows_reads_both_export_formats_alike(exported: Path, paths, schema) -> None:
    plain = load_rows(paths.training, schema) + load_rows(paths.eval, schema)
    result = CliRunner().invoke(app, ["export", "--data-dir", str(exported), "--format", "chat"])
    assert result.exit_code == 0
    chat = load_rows(paths.training, schema) + load_rows(paths.eval, schema)

    assert plain == chat
    assert len(plain) == 40
    assert all(isinstance(row, TrainingRow) and schema.parse(row.completion) for row in plain)


def test_generation_prompts_are_the_template_rendering_of_each_row(exported: Path, paths, schema) -> None:
    rows = load_rows(paths.training, schema)
    for row in rows:
        text = render_training_text(row.prompt, row.completion)
        assert text == generation_prompt(row.prompt) + row.completion + EOT_TOKEN
        assert text.startswith(BOS_TOKEN) and text.count(BOS_TOKEN) == 1


def test_evaluate_scores_generated_answers_against_held_out_gold(exported: Path, paths, schema) -> None:
    rows = load_rows(paths.training, schema)[:10]
    perfect = evaluate(schema, rows, [f"  {row.completion}\n" for row in rows])
    assert perfect.exact_match == 1.0 and perfect.failed == 0

    answers = [row.completion for row in rows]
    answers[0] = '{"in_form": tru'  # cut off mid-JSON
    flipped = schema.parse(answers[1])
    flipped["in_form"] = not flipped["in_form"]
    answers[1] = schema.dumps(flipped)
    card = evaluate(schema, rows, answers)

    assert card.failed == 1 and card.exact == 8
    assert card.booleans["in_form"].accuracy == pytest.approx(0.8)
    report = "\n".join(agreement_lines(schema, card))
    assert "1 answers that were not valid label JSON" in report
    assert "in_form" in report and "80.0%" in report and "exact match  80.0%" in report


def test_load_rows_stops_on_a_file_that_is_not_export_output(tmp_path: Path, schema) -> None:
    wrong = tmp_path / "labeled.jsonl"
    wrong.write_text('{"formatted_input": "Won", "in_form": true}\n', encoding="utf-8")
    with pytest.raises(DataError, match="labeled.jsonl line 1"):
        load_rows(wrong, schema)

    other_schema = tmp_path / "training_data.jsonl"
    other_schema.write_text(json.dumps({"prompt": "Won", "completion": '{"in_form": true}'}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="training_data.jsonl line 1: .*missing"):
        load_rows(other_schema, schema)

    empty = tmp_path / "eval_data.jsonl"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="holds no rows"):
        load_rows(empty, schema)


def test_find_gguf_picks_the_quantised_file_wherever_the_exporter_put_it(tmp_path: Path) -> None:
    out, sibling = tmp_path / "gguf", tmp_path / "gguf_gguf"
    out.mkdir()
    sibling.mkdir()
    (out / "Llama-3.2-1B-Instruct.F16.gguf").write_bytes(b"GGUF")
    (sibling / "Llama-3.2-1B-Instruct.Q4_K_M.gguf").write_bytes(b"GGUF")

    assert find_gguf([out, sibling], "q4_k_m") == sibling / "Llama-3.2-1B-Instruct.Q4_K_M.gguf"
    with pytest.raises(DataError, match="no q8_0 GGUF file found"):
        find_gguf([out, sibling, tmp_path / "absent"], "q8_0")
