"""``rehabflow trial FILE.yaml|NAME [--out DIR]`` and ``rehabflow trial --list``: the pain and outcome model alone
on a cohort configured like a published trial (docs/reference/formats.md, "Trial files"; the model is ``sim.trial``).

Prints one row per arm and read-out, and the published figures the file lists beside the model's; with ``--out``
writes ``results.csv`` (the stable columns) and, if the file has published figures, ``comparison.csv``, into a
folder that is whole or absent (``outputs.staged_output``). A bad trial file is one line per problem and exit
status 2.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from .app import app, user_errors
from .outputs import check_out, staged_output
from .sweep_cmd import _csv_safe

_N = typer.Option(None, "--n", "-n", min=1, max=200_000, help="Patients per arm (default: the file's cohort.n).")
_OUT = typer.Option(None, "--out", "-o", help="Folder for results.csv (and comparison.csv).")
_LIST = typer.Option(False, "--list", help="List the built-in trials and exit.")


def _table(title: str, df: pd.DataFrame, pct: tuple[str, ...]) -> Table:
    t = Table(title=title)
    for col in df.columns:
        t.add_column(str(col), justify="left" if df[col].dtype == object else "right")
    for _, row in df.iterrows():
        cells = []
        for col, v in row.items():
            if isinstance(v, float):
                cells.append(f"{100 * v:.1f}%" if col in pct else f"{v:.2f}")
            else:
                cells.append(str(v))
        t.add_row(*cells)
    return t


def _write_csv(df: pd.DataFrame, target: Path) -> None:
    _csv_safe(df).to_csv(target, index=False, float_format="%.6g")  # inside the staged folder


def _list_trials(console: Console) -> None:
    from sim.trial import builtin_trials, load_trial

    for name in builtin_trials():
        console.print(f"{name}: {load_trial(name).description}")


@app.command("trial")
@user_errors
def trial(
    file: str = typer.Argument(None, help="A trial YAML file or a built-in trial name (see --list)."),
    n: int | None = _N,
    out: Path | None = _OUT,
    list_: bool = _LIST,
) -> None:
    """Run a trial file: cohorts with common random numbers across arms, fixed schedules, follow-up read-outs."""
    from scenarios import InputError
    from sim.trial import comparison, load_trial, run_trial

    console = Console()
    if not console.is_terminal:  # a pipe or a file: wide enough for every column
        console = Console(width=160)
    if list_:
        _list_trials(console)
        return
    if not file:
        raise InputError("missing FILE (a trial YAML file or a built-in name; `rehabflow trial --list`)")
    spec = load_trial(file)
    out = check_out(out) if out is not None else None  # a bad --out is one line before any work
    results = run_trial(spec, n=n)
    console.print(_table(f"{spec.name}: {spec.description}".rstrip(": "), results, ("responders_30", "responders_50")))
    comp = comparison(spec, results) if spec.published else pd.DataFrame()
    if not comp.empty:
        shown = comp[["arm", "week", "measure", "published", "model", "tolerance", "within"]].copy()
        shown["within"] = shown["within"].map({True: "yes", False: "NO"})
        console.print(_table("published vs model", shown, ()))
    if out is not None:
        with staged_output(out, stale=("comparison.csv",)) as folder:  # whole or absent (outputs.py)
            _write_csv(results, folder / "results.csv")
            if not comp.empty:
                _write_csv(comp, folder / "comparison.csv")
        console.print(f"wrote {out / 'results.csv'}" + (" and comparison.csv" if not comp.empty else ""))
