"""``rehabflow simulate SCENARIO --from-clinic``: the forecast from the register beside the steady state.

Thin: :func:`clinic.forecast.forecast_from_register` does the work; this prints the two columns and the
week-by-week headcount and writes ``forecast.csv``, ``headcount.csv`` and ``manifest.json`` to ``--out``
(whole or absent). Every problem with the register (missing, unknown URL, no active patient, another
scenario) is one line and exit status 2, before anything is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from .app import write_text_atomic
from .outputs import check_out, default_out, staged_output
from .progress import progress_bar


def kpi_table(fc: Any, title: str) -> Table:  # fc: clinic.forecast.Forecast
    from clinic.forecast import display_table

    shown = display_table(fc)
    table = Table(title=title, caption="mean (95% confidence interval over replications)")
    for i, col in enumerate(shown.columns):
        table.add_column(col, justify="left" if i in (0, 3) else "right", no_wrap=i > 0, ratio=2 if i == 0 else None)
    for row in shown.itertuples(index=False):
        table.add_row(*(str(v) for v in row))
    return table


def headcount_table(headcount: pd.DataFrame) -> Table:
    from clinic.forecast import HEADCOUNT_LABELS

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
        "staff_differences": o.staff_differences,
        "staff_used": o.staff_used,
        "forecast": fc.forecast.manifest,
        "steady_state": fc.steady.manifest,
    }


def simulate_from_clinic(
    scenario: str,
    *,
    db: str | None,
    weeks: int | None,
    replications: int | None,
    seed: int | None,
    workers: int,
    out: Path | None,
    staff: str = "register",
) -> None:
    """The ``--from-clinic`` branch of ``simulate`` (options already checked)."""
    from clinic.db import open_register
    from clinic.forecast import FORECAST_WEEKS, forecast_from_register, origin_line, staff_line
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
            staff=staff,
        )
    with staged_output(out) as folder:
        fc.table.to_csv(folder / "forecast.csv", index=False)
        fc.headcount.to_csv(folder / "headcount.csv", index=False)
        write_text_atomic(folder / "manifest.json", json.dumps(_manifest(fc, url), indent=2, default=str) + "\n")
    m = fc.forecast.manifest
    console = Console(width=160)
    console.print(origin_line(fc.origin), highlight=False)
    if (note := staff_line(fc.origin)) is not None:
        console.print(note, highlight=False)
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
