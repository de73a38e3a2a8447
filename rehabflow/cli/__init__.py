"""The ``rehabflow`` command line: a thin layer over scenarios/, sim/ and optimizer/.

Each command module registers itself on :data:`app` when imported; add new ones to the import list below.
"""

from __future__ import annotations

from . import (
    clinic_cmd,  # noqa: F401  (registers `rehabflow clinic ...`)
    dashboard_cmd,  # noqa: F401  (registers `rehabflow dashboard`)
    roster_cmd,  # noqa: F401  (registers `rehabflow roster`, `check-roster`, `sample-week`)
    scenarios_cmd,  # noqa: F401  (registers commands)
    simulate_cmd,  # noqa: F401  (registers `rehabflow simulate` and `rehabflow compare`)
    sweep_cmd,  # noqa: F401  (registers `rehabflow sweep` and `rehabflow recommend`)
    trial_cmd,  # noqa: F401  (registers `rehabflow trial`)
)
from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
