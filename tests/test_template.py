"""The training template and the serving template render the same prompt, character for character.

The Jinja side is rendered by hcap itself (as a Hugging Face tokenizer would). The Go side is rendered
by `render_go`, a small evaluator written here for exactly the text/template constructs hcap's
TEMPLATE uses: `{{ range .Messages }}` ... `{{ end }}`, field lookups (`.Role`, `.Content`), and the
`{{-` / `-}}` whitespace trims. Any other action makes it fail loudly rather than guess, so a template
change that needs a richer evaluator cannot pass by accident.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from hcap_tui.schema import LabelSchema
from hcap_tui.template import (
    BOS_TOKEN,
    CHAT_TEMPLATE,
    EOT_TOKEN,
    OLLAMA_PARAMETERS,
    OLLAMA_TEMPLATE,
    modelfile,
    render_chat,
    render_training_text,
)

GO_WHITESPACE = " \t\r\n"
USER = "<|start_header_id|>user<|end_header_id|>\n\n"
ASSISTANT = "<|start_header_id|>assistant<|end_header_id|>\n\n"
ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.DOTALL)

ITEMS = [
    "Won | [RACE]: Strong race, good pace throughout | [HORSE]: Made all, kept on gamely",
    "3rd of 12, involved in finish | [RACE]: Modest affair | [HORSE]: Denied clear run inside final furlong",
    "10th of 16, well beaten | [HORSE]: Never travelling",
    (
        "2nd of 7 | [HORSE]: hld up, hdwy 2f out, ev ch ins fnl f, kpt on \u2013 r\u00e9sum\u00e9 \"quoted\""
        " {{ .Content }} {% raw %}\n  "
    ),  # template syntax inside the data must stay data
]


def _tokens(template: str) -> list[tuple[str, str]]:
    """Split a Go template into ("text", s) and ("action", s) tokens, applying the trim markers."""
    tokens: list[tuple[str, str]] = []
    position = 0
    for match in ACTION.finditer(template):
        text = template[position : match.start()]
        if match.group(1):
            text = text.rstrip(GO_WHITESPACE)
        if tokens and tokens[-1][0] == "trim-next":
            tokens.pop()
            text = text.lstrip(GO_WHITESPACE)
        tokens.append(("text", text))
        tokens.append(("action", match.group(2)))
        if match.group(3):
            tokens.append(("trim-next", ""))
        position = match.end()
    tail = template[position:]
    if tokens and tokens[-1][0] == "trim-next":
        tokens.pop()
        tail = tail.lstrip(GO_WHITESPACE)
    tokens.append(("text", tail))
    return tokens


def _execute(tokens: list[tuple[str, str]], start: int, dot: dict[str, Any], out: list[str]) -> int:
    """Run tokens from `start` with `dot` as the Go cursor until a matching `end`; returns the index after it."""
    index = start
    while index < len(tokens):
        kind, value = tokens[index]
        index += 1
        if kind == "text":
            out.append(value)
        elif value == "end":
            return index
        elif value.startswith("range "):
            for item in _lookup(dot, value.removeprefix("range ").strip()):
                _execute(tokens, index, item, out)
            index = _after_end(tokens, index)
        elif value.startswith("."):
            out.append(str(_lookup(dot, value)))
        else:
            raise AssertionError(f"the test's Go evaluator does not support {{{{ {value} }}}}; extend it")
    return index


def _after_end(tokens: list[tuple[str, str]], start: int) -> int:
    """The index just after the `end` that closes the block opened before `start`."""
    depth = 1
    for index in range(start, len(tokens)):
        kind, value = tokens[index]
        if kind == "action" and value.startswith("range "):
            depth += 1
        elif kind == "action" and value == "end":
            depth -= 1
            if depth == 0:
                return index + 1
    raise AssertionError("unclosed range in the Go template")


def _lookup(dot: dict[str, Any], path: str) -> Any:
    """Resolve `.A.B` against the cursor as text/template does for map keys."""
    value: Any = dot
    for part in path.strip(".").split("."):
        value = value[part]
    return value


def render_go(template: str, messages: list[dict[str, str]]) -> str:
    """Render `template` the way Ollama does for a chat request: `.Messages` holds Role/Content pairs."""
    data = {"Messages": [{"Role": m["role"], "Content": m["content"]} for m in messages]}
    out: list[str] = []
    _execute(_tokens(template), 0, data, out)
    return "".join(out)


def without_bos(text: str) -> str:
    """The Jinja rendering minus the BOS token the tokenizer writes and llama.cpp adds by itself."""
    assert text.startswith(BOS_TOKEN), "the chat template must start with the tokenizer's BOS token"
    return text.removeprefix(BOS_TOKEN)


@pytest.mark.parametrize("item", ITEMS)
def test_serving_prompt_equals_training_prompt(item: str) -> None:
    messages = [{"role": "user", "content": item}]
    served = render_go(OLLAMA_TEMPLATE, messages)
    trained = without_bos(render_chat(messages, add_generation_prompt=True))
    assert served == trained
    assert served == USER + item + EOT_TOKEN + ASSISTANT


@pytest.mark.parametrize("item", ITEMS)
def test_training_text_is_the_served_prompt_then_the_label_and_eot(item: str, schema: LabelSchema) -> None:
    label = {
        "in_form": True,
        "out_of_form": False,
        "better_than_show": True,
        "worse_than_show": False,
        "race_strength": "weak",
        "reasoning": "Denied a clear run \u2013 \u00abshaped better\u00bb than the bare result.",
    }
    completion = schema.dumps(label)
    text = render_training_text(item, completion)
    served_prompt = render_go(OLLAMA_TEMPLATE, [{"role": "user", "content": item}])
    assert without_bos(text) == served_prompt + completion + EOT_TOKEN
    assert render_training_text(item, None) == BOS_TOKEN + served_prompt


def test_no_system_turn_or_date_header_is_injected() -> None:
    rendered = render_training_text("Won | [HORSE]: Made all", None)
    assert "system" not in rendered
    assert "Cutting Knowledge Date" not in rendered and "Today Date" not in rendered
    assert rendered.count("<|start_header_id|>") == 2  # the user turn and the assistant header only


def test_multi_turn_conversations_also_agree() -> None:
    messages = [
        {"role": "user", "content": ITEMS[0]},
        {"role": "assistant", "content": '{"in_form": true}'},
        {"role": "user", "content": ITEMS[1]},
    ]
    assert render_go(OLLAMA_TEMPLATE, messages) == without_bos(render_chat(messages, add_generation_prompt=True))


@pytest.mark.parametrize(
    "broken",
    [
        OLLAMA_TEMPLATE.replace("<|end_header_id|>\n\n", "<|end_header_id|>\n", 1),
        "<|start_header_id|>system<|end_header_id|>\n\nToday Date: 26 July 2024<|eot_id|>" + OLLAMA_TEMPLATE,
        OLLAMA_TEMPLATE.replace("<|eot_id|>", ""),
    ],
    ids=["single-newline", "system-block", "no-eot"],
)
def test_the_comparison_catches_a_drifted_serving_template(broken: str) -> None:
    messages = [{"role": "user", "content": ITEMS[1]}]
    assert render_go(broken, messages) != without_bos(render_chat(messages, add_generation_prompt=True))


def test_the_evaluator_refuses_constructs_it_does_not_know() -> None:
    with pytest.raises(AssertionError, match="does not support"):
        render_go('{{ if eq .Role "user" }}x{{ end }}', [])


def test_generation_prompt_is_optional_in_the_jinja_template() -> None:
    messages = [{"role": "user", "content": ITEMS[2]}]
    assert render_chat(messages, add_generation_prompt=False) == BOS_TOKEN + USER + ITEMS[2] + EOT_TOKEN
    assert "add_generation_prompt" in CHAT_TEMPLATE
    assert CHAT_TEMPLATE.startswith(BOS_TOKEN)  # literal, so trainers see the template already writes it


def test_parameters_stop_at_end_of_turn_and_decode_greedily() -> None:
    assert OLLAMA_PARAMETERS == {"stop": ["<|eot_id|>"], "temperature": 0}


def test_modelfile_serves_the_gguf_with_the_project_template() -> None:
    text = modelfile("flat-hcap-q4_k_m.gguf")
    assert text.startswith("FROM ./flat-hcap-q4_k_m.gguf\n")
    template = re.search(r'^TEMPLATE """(.*?)"""$', text, re.DOTALL | re.MULTILINE)
    assert template is not None and template.group(1) == OLLAMA_TEMPLATE
    assert text.endswith('PARAMETER stop "<|eot_id|>"\nPARAMETER temperature 0\n')
    assert "temperature 1.5" not in text and "min_p" not in text


def test_modelfile_keeps_explicit_paths() -> None:
    assert modelfile("/models/flat.gguf").splitlines()[0] == "FROM /models/flat.gguf"
