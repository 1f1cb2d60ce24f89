"""Where a project's files live and the settings every command shares.

A project is one data folder: `./data` by default, `HCAP_DATA_DIR` or `--data-dir` to choose another.
It holds the user's files under the names their old dashboard used, so every command finds them
without further flags, plus an optional `hcap.toml` for defaults and `label_schema.json` /
`guidelines.md` overrides.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hcap_tui import DATA_DIR_ENV
from hcap_tui.errors import DataError
from hcap_tui.schema import LabelSchema

DEFAULT_DATA_DIR = Path("data")


@dataclass(frozen=True)
class DataPaths:
    """The named files of one data folder (each path is built once: the store asks for them on every write)."""

    root: Path

    @cached_property
    def comments(self) -> Path:
        """The user's race comments (CSV)."""
        return self.root / "comments.csv"

    @cached_property
    def labeled(self) -> Path:
        """Teacher labels."""
        return self.root / "labeled.jsonl"

    @cached_property
    def predictions(self) -> Path:
        """Local-model predictions awaiting review."""
        return self.root / "predictions.jsonl"

    @cached_property
    def gold(self) -> Path:
        """Human-approved labels, keyed by formatted_input, last line wins."""
        return self.root / "goldstandard.jsonl"

    @cached_property
    def training(self) -> Path:
        """Training rows written by `hcap export`."""
        return self.root / "training_data.jsonl"

    @cached_property
    def eval(self) -> Path:
        """Held-out rows written by `hcap export`."""
        return self.root / "eval_data.jsonl"

    @cached_property
    def evals(self) -> Path:
        """History of `hcap eval` runs."""
        return self.root / "evals.jsonl"

    @cached_property
    def signals(self) -> Path:
        """The archive labelled by `hcap apply`: one line per comment."""
        return self.root / "signals.jsonl"

    @cached_property
    def schema_override(self) -> Path:
        """A project's own label schema, used instead of the default when present."""
        return self.root / "label_schema.json"

    @cached_property
    def guidelines_override(self) -> Path:
        """A project's own teacher guidelines, used instead of the default when present."""
        return self.root / "guidelines.md"

    @cached_property
    def config(self) -> Path:
        """Optional per-project settings."""
        return self.root / "hcap.toml"

    def checkpoint(self, source: str) -> Path:
        """The review checkpoint of a source, e.g. `.checkpoint-gemini`: a bare item index, as the old dashboard
        reads and writes it."""
        return self.root / f".checkpoint-{source}"

    def review_state(self, source: str) -> Path:
        """Beside the checkpoint, what only hcap keeps of a tab's position: the item's identity, filter and order."""
        return self.root / f".checkpoint-{source}.json"

    def jsonl_files(self) -> list[Path]:
        """Every JSONL file hcap reads or writes in this folder, in loop order."""
        return [self.labeled, self.predictions, self.gold, self.training, self.eval, self.evals, self.signals]


class Settings(BaseModel):
    """Per-project defaults, read from `hcap.toml`; command-line flags override them."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        "flat-hcap",
        description="The student model `hcap predict` and `hcap eval` use: an Ollama name, or PROVIDER:NAME.",
    )
    ollama_host: str | None = Field(None, description="Ollama URL; OLLAMA_HOST or the client default when unset.")
    openai_base_url: str | None = Field(
        None, description="Base URL of the OpenAI-compatible server for openai: models, e.g. http://127.0.0.1:8080/v1."
    )
    timeout_s: float = Field(120.0, gt=0, description="Seconds before a model request is abandoned.")
    predict_count: int = Field(20, gt=0, description="Items `hcap predict` draws when --count is not given.")
    concurrency: int = Field(1, gt=0, description="Requests in flight; match OLLAMA_NUM_PARALLEL.")
    teacher: str = Field("gemini:gemini-2.5-flash", description="The teacher `hcap label` uses: PROVIDER:NAME.")


@dataclass(frozen=True)
class Project:
    """A data folder with its settings and label schema: what every command works on."""

    paths: DataPaths
    settings: Settings
    schema: LabelSchema


def resolve_data_dir(option: Path | None) -> Path:
    """The data folder: the option, else HCAP_DATA_DIR, else ./data."""
    if option is not None:
        return option
    env = os.environ.get(DATA_DIR_ENV)
    return Path(env) if env else DEFAULT_DATA_DIR


def load_settings(paths: DataPaths) -> Settings:
    """Settings from the folder's `hcap.toml`, or the defaults when there is none."""
    if not os.path.lexists(paths.config):  # a broken or looping link is reported below, not ignored
        return Settings()
    try:
        data = tomllib.loads(paths.config.read_text(encoding="utf-8"))
        return Settings.model_validate(data)
    except OSError as exc:
        raise DataError(f"cannot read {paths.config}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataError(f"{paths.config} is not UTF-8 text: re-save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{paths.config} is not valid TOML ({exc}): fix or remove it") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise DataError(f"{paths.config}: setting {key!r}: {first['msg']}; fix or remove it") from None


def open_project(data_dir: Path | None, *, must_exist: bool = True) -> Project:
    """Resolve and open a data folder, raising DataError when it is missing and must exist."""
    root = resolve_data_dir(data_dir)
    if must_exist and os.path.lexists(root) and not root.is_dir():  # a file, or a link looping or leading nowhere
        raise DataError(f"data folder {root} is not a folder: pass --data-dir or set {DATA_DIR_ENV} to a folder")
    if must_exist and not root.is_dir():
        raise DataError(
            f"data folder {root} does not exist: pass --data-dir, set {DATA_DIR_ENV}, or run from the project folder"
        )
    paths = DataPaths(root)
    return Project(paths=paths, settings=load_settings(paths), schema=LabelSchema.for_project(paths.schema_override))
