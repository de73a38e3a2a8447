"""``rehabflow simulate SCENARIO`` and ``rehabflow compare A B ...``: run the patient-flow simulation.

``simulate`` prints the KPI table (mean and 95% CI over replications) and writes summary, per-replication,
timeseries and utilisation tables plus a JSON manifest to ``--out`` (each file written atomically).
``compare`` prints paired differences of each scenario against the first (common random numbers).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from scenarios import InputError, load_scenario

from .app import app, atomic_path, user_errors, write_text_atomic
from .outputs import check_out, default_out, staged_output
from .progress import DASK_HELP, EXTRA_ARGS, executor_spec, progress_bar

if TYPE_CHECKING:
    import sim
    from scenarios.schema import Scenario

_REPS = typer.Option(None, "--replications", "-n", help="Replications (default: the scenario's run.replications).")
_WEEKS = typer.Option(None, "--weeks", "-w", help="Simulated weeks (default: run.horizon_weeks).")
_SEED = typer.Option(None, "--seed", help="Root seed (default: run.seed). Same seed, same numbers.")
_WORKERS = typer.Option(1, "--workers", "-j", help="Local worker processes (results do not depend on it).")
_DASK = typer.Option(False, "--dask", help=DASK_HELP)


def check_options(replications: int | None, weeks: int | None, seed: int | None, workers: int) -> None:
    """One clear line per bad option (checked here, not by Typer, whose error box spans several lines)."""
    for flag, value, lo, hi in (
        ("--replications", replications, 1, 10000),
        ("--weeks", weeks, 1, 520),
        ("--seed", seed, 0, None),
        ("--workers", workers, 1, 64),
    ):
        if value is not None and (value < lo or (hi is not None and value > hi)):
            limit = f"between {lo} and {hi}" if hi is not None else f"{lo} or more"
            raise InputError(f"{flag}: must be {limit} (got {value})")


def fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def fmt_diff(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if unit == "share":
        return f"{100 * value:+.1f} pp"
    return f"{value:+,.2f}"


def _write_table(df: pd.DataFrame, out: Path, name: str, parquet: bool = True) -> None:
    with atomic_path(out / f"{name}.csv") as tmp:
        df.to_csv(tmp, index=False)
    if parquet:
        with atomic_path(out / f"{name}.parquet") as tmp:
            df.to_parquet(tmp, index=False)


@app.command("simulate", context_settings=EXTRA_ARGS)
@user_errors
def simulate(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="A built-in scenario name or a scenario YAML file."),
    replications: int | None = _REPS,
    weeks: int | None = _WEEKS,
    seed: int | None = _SEED,
    workers: int = _WORKERS,
    out: Path | None = typer.Option(None, "--out", "-o", help="Output folder (default: out/<scenario name>)."),
    event_log: bool = typer.Option(False, "--event-log", help="Also write each replication's event log."),
    dask: bool = _DASK,
    auto_replications: bool = typer.Option(
        False,
        "--auto-replications",
        help="Add replications until the key KPIs' 95% CI half-widths are within "
        "--precision of their means (Hoad, Robinson & Davies 2010); --replications is then the cap (default 200).",
    ),
    precision: float = typer.Option(
        0.05, "--precision", help="Relative CI half-width for --auto-replications (0.05 = 5%)."
    ),
    from_clinic: bool = typer.Option(
        False,
        "--from-clinic",
        help="Forecast from the clinic register's current patients (--weeks: the forecast's weeks, default 12), "
        "beside the steady state (docs/how-to/clinic.md).",
    ),
    db: str | None = typer.Option(None, "--db", help="With --from-clinic: the register URL (default: $REHABFLOW_DB)."),
    staff: str = typer.Option(
        "register",
        "--staff",
        help="With --from-clinic: whose staff both columns run on: 'register' (the clinic today) or 'scenario'.",
    ),
) -> None:
    """Simulate a scenario: KPIs with 95% confidence intervals, and tables for further analysis."""

    check_options(replications, weeks, seed, workers)
    if from_clinic or db is not None or staff != "register":
        _check_from_clinic(from_clinic, dask, auto_replications, event_log, db is not None)
        from .forecast_cmd import simulate_from_clinic

        simulate_from_clinic(
            scenario, db=db, weeks=weeks, replications=replications, seed=seed, workers=workers, out=out, staff=staff
        )
        return
    executor, scenario = executor_spec(workers, dask, scenario, ctx.args)
    if dask and auto_replications:
        raise InputError("--dask: not available with --auto-replications (use --workers)")
    sc = load_scenario(scenario)
    out = check_out(out or default_out(sc.name))
    with progress_bar(f"Simulating {sc.name}: replications") as update:
        res = _run(sc, executor, update, replications, weeks, seed, workers, event_log, auto_replications, precision)
    _write_outputs(res, out, event_log)
    _print_results(sc, res, out, auto_replications)


def _run(
    sc: Scenario,
    executor: Any,
    update: Any,
    replications: int | None,
    weeks: int | None,
    seed: int | None,
    workers: int,
    event_log: bool,
    auto_replications: bool,
    precision: float,
) -> sim.ExperimentResult:
    """The experiment: a fixed number of replications, or added until the key KPIs are precise enough."""
    import sim

    if auto_replications:
        from sim.precision import run_auto_experiment

        return run_auto_experiment(
            sc,
            precision=precision,
            max_reps=replications,
            weeks=weeks,
            seed=seed,
            workers=workers,
            progress=update,
            event_log=event_log,
        )
    return sim.run_experiment(
        sc,
        replications=replications,
        weeks=weeks,
        seed=seed,
        workers=workers,
        progress=update,
        event_log=event_log,
        executor=executor,
    )


def _write_outputs(res: sim.ExperimentResult, out: Path, event_log: bool) -> None:
    """Summary, per-replication, time-series and utilisation tables, event logs, manifest: whole or absent."""
    with staged_output(out, stale=("event_log.*",)) as folder:  # whole or absent: see rehabflow/cli/outputs.py
        _write_table(res.summary, folder, "summary")
        _write_table(res.per_replication, folder, "per_replication")
        _write_table(res.timeseries, folder, "timeseries")
        _write_table(res.utilisation, folder, "utilisation", parquet=False)
        if event_log:
            logs = pd.concat(
                # event logs exist when --event-log ran
                [r.event_log.assign(replication=r.replication) for r in res.replications],  # type: ignore[union-attr]
                ignore_index=True,
            )
            _write_table(logs, folder, "event_log")
        write_text_atomic(folder / "manifest.json", json.dumps(res.manifest, indent=2) + "\n")


def _kpi_table(sc: Scenario, res: sim.ExperimentResult) -> Table:
    """Each KPI's mean and 95% CI with its unit, titled with the run's replications, weeks, warm-up and seed."""
    m = res.manifest
    table = Table(
        title=f"{sc.name}: {m['replications']} replications x {m['weeks']} weeks "
        f"(warm-up {m['warmup_weeks']} weeks, {m['warmup_method']}), seed {m['root_seed']}"
    )
    for col, just in (("KPI", "left"), ("mean", "right"), ("95% CI", "right"), ("unit", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for row in res.summary.itertuples():
        ci = "-" if math.isnan(row.half_width) else f"{fmt(row.ci_low, row.unit)} to {fmt(row.ci_high, row.unit)}"
        table.add_row(row.label, fmt(row.mean, row.unit), ci, "%" if row.unit == "share" else row.unit)
    return table


def _print_results(sc: Scenario, res: sim.ExperimentResult, out: Path, auto_replications: bool) -> None:
    """The KPI table, the notes on KPIs and on the run, the next step, and where the tables are."""
    from sim.kpis import kpi_notes, run_notes

    console = Console(width=140)
    console.print(_kpi_table(sc, res))
    labels = res.summary.set_index("kpi")["label"]
    for kpi, note in kpi_notes(sc, res.summary).items():
        console.print(f"{labels.get(kpi, kpi)}: {note}.", highlight=False)
    for note in run_notes(sc, res.manifest):
        console.print(note, highlight=False)
    console.print(_hint(res.summary))
    if auto_replications:
        from sim.precision import describe_auto

        console.print(describe_auto(res.manifest["replications_auto"]))
    console.print(f"Tables and manifest written to {out}/ ({res.manifest['wall_time_seconds']:.1f} s)")


def _check_from_clinic(from_clinic: bool, dask: bool, auto_replications: bool, event_log: bool, db: bool) -> None:
    if not from_clinic:
        raise InputError(f"{'--db' if db else '--staff'}: only with --from-clinic")
    for flag, given in (("--dask", dask), ("--auto-replications", auto_replications), ("--event-log", event_log)):
        if given:
            raise InputError(f"{flag}: not available with --from-clinic")


def _hint(summary: pd.DataFrame) -> str:
    """One line on what to look at first: the busiest resource and the wait to first acupuncture."""
    s = summary.set_index("kpi")["mean"]
    util = s[[k for k in s.index if k.startswith("utilisation_")]].dropna()
    parts = []
    if len(util):
        top = util.idxmax()
        parts.append(
            f"busiest: {summary.set_index('kpi').loc[top, 'label'].removeprefix('Utilisation of ')} "
            f"at {100 * util.max():.0f}%"
        )
    if "waitlist.mean" in s and not math.isnan(s["waitlist.mean"]):
        parts.append(f"{s['waitlist.mean']:.1f} patients waiting on average")
    return "Look first at: " + "; ".join(parts) + " (a resource above ~85% is where waits come from)."


@app.command("compare")
@user_errors
def compare(
    scenarios: list[str] = typer.Argument(
        ..., help="Two or more built-in names or YAML files; the first is the reference."
    ),
    replications: int | None = _REPS,
    weeks: int | None = _WEEKS,
    seed: int | None = _SEED,
    workers: int = _WORKERS,
    out: Path | None = typer.Option(None, "--out", "-o", help="Also write differences.csv and manifest.json here."),
    dask: bool = _DASK,
) -> None:
    """Paired differences of each scenario against the first, with 95% CIs (same random numbers)."""
    import sim

    check_options(replications, weeks, seed, workers)
    addresses = [s for s in scenarios if "://" in s]  # `--dask tcp://HOST:8786` arrives among the scenarios
    scenarios = [s for s in scenarios if "://" not in s]
    executor, _ = executor_spec(workers, dask, scenarios[0] if scenarios else "", addresses)
    if len(scenarios) < 2:
        raise InputError("compare: give at least two scenarios (the first is the reference)")
    scs = [load_scenario(s) for s in scenarios]
    if out is not None:
        check_out(out)
    console = Console(width=150)
    with progress_bar("Comparing: paired replications") as update:
        res = sim.compare_scenarios(
            scs, replications=replications, weeks=weeks, seed=seed, workers=workers, progress=update, executor=executor
        )
    ref = scs[0].name
    table = Table(
        title=f"Differences vs {ref} ({res.manifest['replications']} paired replications x "
        f"{res.manifest['weeks']} weeks, seed {res.manifest['root_seed']})"
    )
    for col in ("KPI", "scenario", f"{ref}", "difference", "95% CI", "clear?"):
        table.add_column(col, justify="left" if col in ("KPI", "scenario") else "right")
    base = res.summaries[ref].set_index("kpi")
    for row in res.differences.itertuples():
        clear = "yes" if (row.ci_low > 0 or row.ci_high < 0) else "no"
        ci = (
            "-"
            if math.isnan(row.half_width)
            else f"{fmt_diff(row.ci_low, row.unit)} to {fmt_diff(row.ci_high, row.unit)}"
        )
        table.add_row(
            row.label,
            row.scenario,
            fmt(base.loc[row.kpi, "mean"], row.unit),
            fmt_diff(row.mean_diff, row.unit),
            ci,
            clear,
        )
    console.print(table)
    console.print("A difference is clear when its 95% CI excludes 0 (pp = percentage points).")
    if out is not None:
        with staged_output(out) as folder:
            _write_table(res.differences, folder, "differences", parquet=False)
            write_text_atomic(folder / "manifest.json", json.dumps(res.manifest, indent=2) + "\n")
