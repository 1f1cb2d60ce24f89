"""`hcap review`: open the keyboard review app (the same app as `hcap-tui review`)."""

from __future__ import annotations

from hcap_tui.cli.app import DataDirOption, app, guarded


@app.command()
@guarded
def review(data_dir: DataDirOption = None) -> None:
    """Review teacher labels and model predictions into goldstandard.jsonl, from the keyboard."""
    from hcap_tui.tui.main import launch  # Textual loads only when the app is opened

    launch(data_dir)
