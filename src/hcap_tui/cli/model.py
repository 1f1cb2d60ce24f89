"""`hcap model ...`: put a fine-tuned model into Ollama."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hcap_tui.cli.app import DataDirOption, JsonOption, app, command_group, guarded, note
from hcap_tui.cli.predict import HostOption

model_app = command_group(app, "model", "Manage the local model served by Ollama.")


@model_app.command("import")
@guarded
def import_model(
    path: Annotated[Path, typer.Argument(help="The fine-tune's .gguf file.", show_default=False)],
    name: Annotated[str, typer.Option("--name", help="Model name, without a tag.")] = "flat-hcap",
    tag: Annotated[
        str | None, typer.Option("--tag", help="Version tag [default: r<N+1> after the highest rN of NAME].")
    ] = None,
    host: HostOption = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Serve a GGUF as NAME:TAG with hcap's prompt template, and point NAME (NAME:latest) at it."""
    from hcap_tui.config import open_project
    from hcap_tui.model_import import import_gguf  # loads the Ollama client, which only this command needs
    from hcap_tui.models.ollama import ModelRegistry

    project = open_project(data_dir, must_exist=False)
    settings = project.settings
    source = "--host" if host else f"ollama_host in {project.paths.config}"
    with ModelRegistry(host or settings.ollama_host, source=source) as registry:
        result = import_gguf(path, name=name, tag=tag, registry=registry, on_step=note)
    if as_json:
        typer.echo(json.dumps({"model": result.model, "latest": result.latest, "blob": result.blob,
                               "digest": result.digest}))
        return
    typer.echo(f"imported {result.model} ({result.digest or result.blob})")
    typer.echo(f"{name} now points at {result.model}")
    model_flag = "" if name == settings.model else f" --model {name}"
    typer.echo(f"next: hcap predict --count 20{model_flag}")
