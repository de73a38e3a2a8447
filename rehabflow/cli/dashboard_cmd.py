"""``rehabflow dashboard``: start the Streamlit app (the same as ``streamlit run dashboard/app.py``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import typer

from .app import app, user_errors


def _dashboard_app() -> Path:
    """The Streamlit script of the ``dashboard`` package (located without importing the package)."""
    spec = importlib.util.find_spec("dashboard")
    assert spec is not None and spec.origin is not None, "the dashboard package is part of this distribution"
    return Path(spec.origin).resolve().parent / "app.py"


APP_PATH = _dashboard_app()


def streamlit_argv(port: int, address: str, headless: bool) -> list[str]:
    """The ``streamlit run`` command line for the dashboard (separate so that it can be tested)."""
    argv = [
        "streamlit",
        "run",
        str(APP_PATH),
        f"--server.port={port}",
        f"--server.address={address}",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
    ]
    if headless:
        argv.append("--server.headless=true")
    return argv


@app.command("dashboard")
@user_errors
def dashboard(
    port: int = typer.Option(8501, min=1, max=65535, help="Port to serve on."),
    address: str = typer.Option("localhost", help="Address to listen on (0.0.0.0 to share on the network)."),
    headless: bool = typer.Option(False, "--headless", help="Do not open a browser window."),
) -> None:
    """Open the dashboard: what-if simulation, scenario comparison, weekly roster, the model explained."""
    from streamlit.web import cli as stcli

    sys.argv = streamlit_argv(port, address, headless)
    sys.exit(stcli.main())
