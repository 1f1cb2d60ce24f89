"""The `hcap` command line: one module per command, all registered on `hcap_tui.cli.app.app`.

Importing this package must not import Textual: the TUI is loaded only by `hcap review`.
"""

from hcap_tui.cli import (  # noqa: F401  (each module registers its commands)
    apply,
    check,
    evaluate,
    export,
    gold,
    label,
    model,
    predict,
    review,
    sample,
    stats,
    train,
    triage,
)
from hcap_tui.cli.app import app


def main() -> None:
    """Console-script entry point for `hcap`."""
    app()
