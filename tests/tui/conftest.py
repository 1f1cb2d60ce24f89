"""Fixtures for the review app tests: a data folder with teacher labels and predictions, and the app factory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hcap_tui.config import DataPaths, open_project
from hcap_tui.review import throttle
from hcap_tui.tui.app import ReviewApp, create_app
from tui.helpers import COMMENTS_CSV, gold_records, prediction_records, teacher_records, write_jsonl


@pytest.fixture
def review_dir(data_dir: Path) -> Path:
    """A data folder with four teacher labels and two predictions (one failed), no gold yet."""
    paths = DataPaths(data_dir)
    write_jsonl(paths.labeled, teacher_records())
    write_jsonl(paths.predictions, prediction_records())
    return data_dir


@pytest.fixture
def empty_dir(tmp_path: Path) -> Path:
    """A data folder of its own with nothing in it (`data_dir` gets the review files as soon as `make_app` is used)."""
    path = tmp_path / "empty"
    path.mkdir()
    return path


@pytest.fixture
def stats_dir(review_dir: Path) -> Path:
    """The review folder plus comments.csv and gold from every origin, for the Stats tab."""
    paths = DataPaths(review_dir)
    paths.comments.write_text(COMMENTS_CSV, encoding="utf-8")
    write_jsonl(paths.gold, gold_records())
    return review_dir


@pytest.fixture
def make_app(review_dir: Path) -> Callable[[], ReviewApp]:
    """Build the app the way `hcap-tui review` does, for reviewer "ann", with animations off: Pilot waits for each
    to finish after every key (a tab switch slides its underline for 0.3 s), and the end state is the same."""

    def make(data_dir: Path = review_dir) -> ReviewApp:
        app = create_app(open_project(data_dir), reviewer="ann")
        app.animation_level = "none"
        return app

    return make


@pytest.fixture(autouse=True)
def positions_written_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every move writes its checkpoint at once (in a worker), so tests wait for workers rather than a timer."""
    monkeypatch.setattr(throttle, "CHECKPOINT_EVERY", 0.0)
