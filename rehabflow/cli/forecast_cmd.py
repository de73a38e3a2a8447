"""``rehabflow simulate SCENARIO --from-clinic``: the forecast from the register beside the steady state.

Thin: :func:`clinic.forecast.forecast_from_register` does the work; this prints the two columns and the
week-by-week headcount and writes ``forecast.csv``, ``headcount.csv`` and ``manifest.json`` to ``--out``
(whole or absent). Every problem with the register (missing, unknown URL, no active patient, another
scenario) is one line and exit status 2, before anything is written.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from .app import write_text_atomic
from .outputs import check_out, default_out, staged_output
from .progress import progress_bar

#: KPIs printed (all are written to forecast.csv): the waits, the queue, the flows, the load on staff/rooms
SHOWN_PREFIXES = (
    "waitlist.",
    "wait_to_intake_days.",
    "wait_to_first_acupuncture_days.mean",
    "wait_to_first_pt_days.mean",
    "phase2_delay_days.mean",
    "intakes_all.",
    "acupuncture_all.",
    "pt_all.",
    "maintenance_all.",
    "discharges_all.",
    "dropouts_all.",
    "utilisation_",
)
HEADCOUNT_LABELS = {
    "week": "week",
    "waitlist": "waiting",
    "phase1": "phase 1",
    "phase2": "phase 2",
    "phase3": "phase 3",
    "maintenance": "maintenance",
}


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    return f"{value:,.1f}"


def _cell(mean: float, low: float, high: float, unit: str) -> str:
    """``mean (low to high)``; the mean alone when there is no interval."""
    if isinstance(low, float) and math.isnan(low):
        return _fmt(mean, unit)
    return f"{_fmt(mean, unit)} ({_fmt(low, unit)} to {_fmt(high, unit)})"


def _rank(kpi: str) -> int:
    return next((i for i, prefix in enumerate(SHOWN_PREFIXES) if kpi.startswith(prefix)), -1)


def shown(table: pd.DataFrame) -> pd.DataFrame:
    """The printed rows, in the order of :data:`SHOWN_PREFIXES` (the table's own order within each)."""
    rank = table["kpi"].map(lambda k: _rank(str(k)))
    return table.assign(_rank=rank)[rank >= 0].sort_values("_rank", kind="stable").drop(columns="_rank")


def kpi_table(fc: Any, title: str) -> Table:  # fc: clinic.forecast.Forecast
    left = f"from the register today (weeks 1-{fc.weeks})"
    steady_weeks = fc.steady.manifest["weeks"] - fc.steady.manifest["warmup_weeks"]
    right = f"steady state ({steady_weeks} weeks after warm-up)"
    table = Table(title=title, caption="mean (95% confidence interval over replications)")
    table.add_column("KPI", justify="left", ratio=2)
    table.add_column(left, justify="right", no_wrap=True)
    table.add_column(right, justify="right", no_wrap=True)
    table.add_column("unit", justify="left", no_wrap=True)
    for r in shown(fc.table).itertuples():
        table.add_row(
            str(r.label),
            _cell(r.forecast_mean, r.forecast_ci_low, r.forecast_ci_high, r.unit),
            _cell(r.steady_mean, r.steady_ci_low, r.steady_ci_high, r.unit),
            "%" if r.unit == "share" else str(r.unit),
        )
    return table


def headcount_table(headcount: pd.DataFrame) -> Table:
    table = Table(title="Patients in each phase at the end of each week (mean over replications)")
    for col in headcount.columns:
        table.add_column(HEADCOUNT_LABELS.get(col, col), justify="right")
    for row in headcount.itertuples(index=False):
        table.add_row(str(row[0]), *(f"{v:.1f}" for v in row[1:]))
    return table


def _manifest(fc: Any, url: str) -> dict[str, Any]:
    o = fc.origin
    return {
        "register": url,
        "start_week": o.start.isoformat(),
        "starting_patients": len(o.patients),
        "starting_by_state": o.by_state,
        "patients_with_assumed_weeks": o.assumed_weeks,
        "patients_with_vas_reading": o.readings,
        "forecast": fc.forecast.manifest,
        "steady_state": fc.steady.manifest,
    }


def _origin_line(fc: Any) -> str:
    o = fc.origin
    states = ", ".join(f"{k} {v}" for k, v in sorted(o.by_state.items()))
    return (
        f"Starting from the register on {o.start}: {len(o.patients)} active patients ({states}); "
        f"{o.readings} with a VAS reading (their expected VAS at the start equals it), "
        f"{o.assumed_weeks} with weeks of their phase before the register's records (the protocol's pace assumed)."
    )


def simulate_from_clinic(
    scenario: str,
    *,
    db: str | None,
    weeks: int | None,
    replications: int | None,
    seed: int | None,
    workers: int,
    out: Path | None,
) -> None:
    """The ``--from-clinic`` branch of ``simulate`` (options already checked)."""
    from clinic.db import open_register
    from clinic.forecast import FORECAST_WEEKS, forecast_from_register
    from scenarios import load_scenario

    sc = load_scenario(scenario)
    out = check_out(out or default_out(sc.name, prefix="from-clinic-"))
    engine = open_register(db)
    url = engine.url.render_as_string(hide_password=True)
    with progress_bar(f"Forecasting {sc.name} from the register: replications") as update:
        fc = forecast_from_register(
            engine,
            sc,
            weeks=weeks or FORECAST_WEEKS,
            replications=replications,
            seed=seed,
            workers=workers,
            progress=update,
        )
    with staged_output(out) as folder:
        fc.table.to_csv(folder / "forecast.csv", index=False)
        fc.headcount.to_csv(folder / "headcount.csv", index=False)
        write_text_atomic(folder / "manifest.json", json.dumps(_manifest(fc, url), indent=2, default=str) + "\n")
    m = fc.forecast.manifest
    console = Console(width=160)
    console.print(_origin_line(fc), highlight=False)
    title = f"{sc.name}: {m['replications']} replications, seed {m['root_seed']}"
    console.print(kpi_table(fc, title))
    console.print(headcount_table(fc.headcount))
    console.print(
        "Waits are of the patients referred in each period (today's patients are already past them); flows and "
        "utilisation count everyone.",
        highlight=False,
    )
    wall = m["wall_time_seconds"] + fc.steady.manifest["wall_time_seconds"]
    console.print(f"Tables and manifest written to {out}/ ({wall:.1f} s)", highlight=False)
