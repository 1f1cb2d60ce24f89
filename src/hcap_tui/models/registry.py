"""`PROVIDER:MODEL` specs and the model roles of a project: the student that predicts and the teacher that labels.

A spec names its provider before the first colon: `ollama:flat-hcap`, `openai:flat-hcap` (any
OpenAI-compatible server), `gemini:gemini-2.5-flash`. A student model may also be a bare Ollama name
(`flat-hcap`, `qwen2.5:7b`), as it always could; a teacher names its provider (or is just `gemini`). The
provider modules are imported only when a labeller is opened, so `hcap --help` loads none of their
client libraries.

Where a provider's server is: `--host`, else the setting in hcap.toml (`ollama_host`, `openai_base_url`),
else for Ollama `OLLAMA_HOST` and its default, for an OpenAI-compatible server `OPENAI_BASE_URL`; Gemini
is reached at Google (or `GOOGLE_GEMINI_BASE_URL`) and takes no --host.
"""

from __future__ import annotations

import os
from typing import Any

from hcap_tui.config import Project
from hcap_tui.errors import HcapError
from hcap_tui.models.base import Labeller, ModelSpec

PROVIDERS = ("ollama", "openai", "gemini")
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"  # what a bare `--teacher gemini` means
OPENAI_BASE_URL_ENV = "OPENAI_BASE_URL"
TEACHER_FORMS = (
    f"gemini:<model> (e.g. gemini:{DEFAULT_GEMINI_MODEL}), ollama:<model> (e.g. ollama:qwen2.5:7b) "
    "or openai:<model> (a model on an OpenAI-compatible server)"
)


def parse_model(value: str, source: str = "--model") -> ModelSpec:
    """A student model: `PROVIDER:NAME`, or a bare name (with an optional `:tag`) that Ollama serves."""
    provider, colon, name = value.strip().partition(":")
    if colon and provider.strip().lower() in PROVIDERS:
        provider, name = provider.strip().lower(), name.strip()
    else:
        provider, name = "ollama", value.strip()
    if not name:
        raise HcapError(
            f"{source} {value!r} names no model: use NAME (an Ollama model such as flat-hcap) or PROVIDER:NAME "
            "with provider ollama, openai or gemini"
        )
    return ModelSpec(provider, name)


def parse_teacher(value: str, source: str = "--teacher") -> ModelSpec:
    """A teacher: `gemini:<model>`, `ollama:<model>`, `openai:<model>` or a bare `gemini`.

    Only the first colon separates provider from model, since Ollama model names carry tags (`qwen2.5:7b`).
    """
    provider, _, name = value.strip().partition(":")
    provider, name = provider.strip().lower(), name.strip()
    if provider == "gemini" and not name:
        name = DEFAULT_GEMINI_MODEL
    if provider not in PROVIDERS or not name:
        raise HcapError(f"{source} {value!r} is not a teacher: use {TEACHER_FORMS}")
    return ModelSpec(provider, name)


def open_labeller(
    spec: ModelSpec,
    project: Project,
    *,
    host: str | None = None,
    timeout: float | None = None,
    system: str | None = None,
    logprobs: bool = False,
    offline: bool = False,
) -> Labeller:
    """A labeller for `spec` on the project's schema; `host` is the --host option, settings fill the rest.

    `offline`: an `openai:` labeller that talks to no server, for batch files: it builds the very request
    bodies its live self would send and reads answers the same way.

    Raises HcapError (one line) when it cannot be built: a malformed or missing server URL, --host for
    Gemini, no SDK or key, a model other than `openai:` offline.
    """
    settings = project.settings
    if offline and spec.provider != "openai":
        raise HcapError(
            f"{spec} cannot be used through a batch file, which holds OpenAI-format requests: name the model as "
            f"openai:{spec.name} (the name the batch server serves it under)"
        )
    options: dict[str, Any] = {
        "timeout": timeout or settings.timeout_s, "system": system, "logprobs": logprobs,
    }
    if spec.provider == "ollama":
        from hcap_tui.models.ollama import OllamaLabeller, resolve_host

        source = "--host" if host else f"ollama_host in {project.paths.config}"
        url = resolve_host(host or settings.ollama_host, source)
        return OllamaLabeller(spec.name, project.schema, host=url, **options)
    if spec.provider == "openai":
        from hcap_tui.models.openai import OpenAILabeller, resolve_base_url

        url, source = host, "--host"
        if not url and settings.openai_base_url:
            url, source = settings.openai_base_url, f"openai_base_url in {project.paths.config}"
        if not url and os.environ.get(OPENAI_BASE_URL_ENV):
            url, source = os.environ[OPENAI_BASE_URL_ENV], OPENAI_BASE_URL_ENV
        base_url = "" if offline else resolve_base_url(url, source)
        return OpenAILabeller(spec.name, project.schema, host=base_url, **options)
    if host:
        raise HcapError(
            f"--host is for ollama and openai models, not {spec}: drop it (Gemini is reached at Google, "
            "or at GOOGLE_GEMINI_BASE_URL)"
        )
    from hcap_tui.models.gemini import GeminiLabeller

    return GeminiLabeller(spec.name, project.schema, **options)


def student(
    project: Project, model: str | None = None, *, host: str | None = None, timeout: float | None = None,
    logprobs: bool = False, offline: bool = False,
) -> Labeller:
    """The model `hcap predict`, `hcap eval` and `hcap apply` use: --model, else `model` in hcap.toml."""
    source = "--model" if model else f"{project.paths.config} setting model ="
    spec = parse_model(model or project.settings.model, source)
    return open_labeller(spec, project, host=host, timeout=timeout, logprobs=logprobs, offline=offline)


def teacher_spec(project: Project, teacher: str | None = None) -> ModelSpec:
    """The teacher `hcap label` uses: --teacher, else `teacher` in hcap.toml."""
    if teacher is not None:
        return parse_teacher(teacher)
    return parse_teacher(project.settings.teacher, f"{project.paths.config} setting teacher =")


def teacher(
    project: Project, spec: ModelSpec, instructions: str, *, host: str | None = None
) -> Labeller:
    """The teacher named by `spec`, with the project's instructions as its system text."""
    if host and spec.provider == "gemini":
        raise HcapError(f"--host is for ollama teachers and openai servers, not {spec}: drop it or pass "
                        "--teacher ollama:<model> or openai:<model>")
    return open_labeller(spec, project, host=host, system=instructions)
