"""The one prompt template of a flat-hcap model, in the two languages that need it.

A fine-tune learns the exact string it was trained on; if Ollama serves a different one (a system block,
a date header, another separator) the model "works in Colab, babbles in Ollama". So hcap owns the
template: the user turn is the item's formatted_input, there is no system turn and no date header, and
the assistant turn is the label JSON closed by `<|eot_id|>`. `CHAT_TEMPLATE` (Jinja) renders it for
training, `OLLAMA_TEMPLATE` (Go text/template) renders the same string for serving, and a test holds
the two to identical output. Only the `<|begin_of_text|>` token differs: the Jinja template writes it
because chat-template tokenisation adds no special tokens, while llama.cpp adds it itself at serving.
It is written literally rather than as `bos_token`, so trainers that look for the BOS token in the
template (Unsloth, to avoid doubling it) find it there.
"""

from __future__ import annotations

from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment

BOS_TOKEN = "<|begin_of_text|>"
EOT_TOKEN = "<|eot_id|>"

# Llama 3 turn markup; a turn is `<|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>`.
# Content is written as given (no trimming), so both renderers keep every character of formatted_input.
CHAT_TEMPLATE = (
    "<|begin_of_text|>"
    "{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}"
    "{%- endif %}"
)

# Ollama renders `.Messages` (the chat request's messages) and always wants the model to answer next,
# so the assistant header closes the prompt unconditionally: the Jinja template's generation prompt.
OLLAMA_TEMPLATE = (
    "{{- range .Messages }}"
    "<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}<|eot_id|>"
    "{{- end }}"
    "<|start_header_id|>assistant<|end_header_id|>\n\n"
)

# Stop at the end of the assistant turn and decode greedily: a label is an answer, not a creative text.
OLLAMA_PARAMETERS: dict[str, Any] = {"stop": [EOT_TOKEN], "temperature": 0}

# Compiled once, in the environment transformers renders chat templates with.
_CHAT = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(CHAT_TEMPLATE)


def render_chat(messages: list[dict[str, str]], *, add_generation_prompt: bool) -> str:
    """Render a conversation through `CHAT_TEMPLATE` exactly as a Hugging Face tokenizer would."""
    return _CHAT.render(messages=messages, add_generation_prompt=add_generation_prompt)


def render_training_text(prompt: str, completion: str | None) -> str:
    """The text a model trains on for one item: the prompt turn, then the completion and `<|eot_id|>`.

    With `completion=None` it is the inference prompt, ending with the assistant header the model
    continues from: the string Ollama builds for a chat request holding `prompt` as its one message.
    """
    messages = [{"role": "user", "content": prompt}]
    if completion is None:
        return render_chat(messages, add_generation_prompt=True)
    messages.append({"role": "assistant", "content": completion})
    return render_chat(messages, add_generation_prompt=False)


def modelfile(gguf_filename: str) -> str:
    """An Ollama Modelfile serving `gguf_filename` (a path relative to the Modelfile) with hcap's template."""
    source = gguf_filename if gguf_filename.startswith(("/", "./", "../")) else f"./{gguf_filename}"
    lines = [f"FROM {source}", f'TEMPLATE """{OLLAMA_TEMPLATE}"""']
    for name, value in OLLAMA_PARAMETERS.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f'PARAMETER {name} "{item}"' if isinstance(item, str) else f"PARAMETER {name} {item}")
    return "\n".join(lines) + "\n"
