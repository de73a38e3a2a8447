"""The dashboard with the stub model installed (browser test of the run flow only; see dashboard_stubs.py)."""

from pathlib import Path

import dashboard_stubs

dashboard_stubs.install(delay=0.3)
APP = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
exec(compile(APP.read_text(encoding="utf-8"), str(APP), "exec"), {"__file__": str(APP), "__name__": "__main__"})
