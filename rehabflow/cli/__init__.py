"""The ``rehabflow`` command line: a thin layer over scenarios/, sim/ and optimizer/.

Each command module registers itself on :data:`app` when imported; add new ones to the import list below.
"""

from __future__ import annotations

from . import scenarios_cmd  # noqa: F401  (registers commands)
from . import dashboard_cmd  # noqa: F401  (registers `rehabflow dashboard`)
from . import roster_cmd  # noqa: F401  (registers `rehabflow roster`, `check-roster`, `sample-week`)
from . import simulate_cmd  # noqa: F401  (registers `rehabflow simulate` and `rehabflow compare`)
from . import sweep_cmd  # noqa: F401  (registers `rehabflow sweep` and `rehabflow recommend`)
from . import clinic_cmd  # noqa: F401  (registers `rehabflow clinic ...`)
from . import trial_cmd  # noqa: F401  (registers `rehabflow trial`)
from .app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
