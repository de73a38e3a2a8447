"""``rehabflow sweep`` (a grid of scenarios x replications) and ``rehabflow recommend`` (the cheapest staffing
that meets KPI targets). Thin: parsing and computing are in ``sim.targets``, ``sim.sweep``, ``sim.recommend``;
this module reads options, shows progress and evidence, and writes files atomically."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from scenarios import load_scenario

from .app import app, atomic_path, fail, user_errors, write_text_atomic
from .outputs import check_out, default_out, staged_output
from .progress import DASK_HELP, EXTRA_ARGS, executor_spec, progress_bar

if TYPE_CHECKING:
    from scenarios.schema import Scenario

_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

WORKERS_HELP = "Local worker processes (1 = serial). Default: the CPU count, at most 8."
_executor = executor_spec


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula get a leading apostrophe (numbers untouched)."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_CSV_FORMULA_START) else v)
    return out


def write_table(df: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """``name``.parquet and ``name``.csv, each via a temporary file renamed into place."""
    paths = []
    target = out / f"{name}.parquet"
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False)
    paths.append(target)
    target = out / f"{name}.csv"
    with atomic_path(target) as tmp:
        _csv_safe(df).to_csv(tmp, index=False)
    paths.append(target)
    return paths


def _mean_ci(mean: float, low: float, high: float) -> str:
    """``m [low, high]``; just ``m`` without an interval (n < 2); ``-`` when undefined (e.g. nobody got there)."""
    if math.isnan(mean):
        return "-"
    return _fmt(mean) if math.isnan(low) else f"{_fmt(mean)} [{_fmt(low)}, {_fmt(high)}]"


def _fmt(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


# --------------------------------------------------------------------------------------------------- sweep
@app.command("sweep", context_settings=EXTRA_ARGS)
@user_errors
def sweep(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="A built-in scenario name or a YAML file."),
    vary: list[str] = typer.Option(
        [],
        "--vary",
        help="PATH=LO..HI or PATH=V1,V2,... (repeat for a grid), "
        "e.g. staff.physiotherapists=2..5 demand.referrals_per_week=10,15,20",
    ),
    replications: int | None = typer.Option(
        None, "--replications", "-n", min=1, help="Replications per grid point (default: the scenario's)."
    ),
    weeks: int | None = typer.Option(None, min=1, help="Simulated weeks (default: the scenario's horizon)."),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: the scenario's)."),
    workers: int | None = typer.Option(None, min=1, help=WORKERS_HELP),
    dask: bool = typer.Option(False, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(None, help="Output folder (default out/sweep-<scenario>)."),
    plot_kpi: list[str] = typer.Option([], "--plot-kpi", help="KPI to plot (repeat); default: the key waits."),
) -> None:
    """Run every combination of the --vary values x replications; write one tidy table, a summary and plots."""
    from sim.sweep import SUMMARY_KPIS, plot_kpis, run_sweep
    from sim.targets import parse_varies

    varies = parse_varies(vary)
    spec, scenario = _executor(workers, dask, scenario, ctx.args)
    base = load_scenario(scenario)
    reps = replications or base.run.replications
    root_seed = base.run.seed if seed is None else seed
    from sim.sweep import grid_points, point_scenarios

    n_points = len(point_scenarios(base, grid_points(varies)))  # every bad grid point reported before any run
    _check_plot_kpis(plot_kpi)
    out = check_out(out or default_out(base.name, "sweep-"))
    label = f"{n_points} grid point{'s' * (n_points != 1)} x {reps} replication{'s' * (reps != 1)}"
    with progress_bar(f"{label}: replications") as progress:
        result = run_sweep(
            base, varies, replications=reps, root_seed=root_seed, weeks=weeks, spec=spec, progress=progress
        )
    kpis = plot_kpis(result, plot_kpi)
    with staged_output(out, stale=("plot_*.html", "plotly.min.js")) as folder:  # whole or absent (outputs.py)
        written = _write_sweep(result, kpis, folder)
    _print_sweep_summary(result, kpis[:SUMMARY_KPIS])
    typer.echo(f"Wrote {len(written)} files to {out} ({result.manifest['wall_time_seconds']:.1f} s).")


def _write_sweep(result: Any, kpis: list[str], folder: Path) -> list[Path]:
    """Tables, plots (plotly.js once beside them, so they open offline without 4 MB each) and the manifest."""
    from sim.sweep import kpi_figure

    written = write_table(result.table, folder, "results") + write_table(result.summary, folder, "summary")
    if kpis:
        from plotly.offline import get_plotlyjs

        write_text_atomic(folder / "plotly.min.js", get_plotlyjs())
        written.append(folder / "plotly.min.js")
    for kpi in kpis:
        target = folder / f"plot_{kpi.replace('.', '_')}.html"
        with atomic_path(target) as tmp:
            kpi_figure(result, kpi).write_html(tmp, include_plotlyjs="plotly.min.js", full_html=True)
        written.append(target)
    write_text_atomic(folder / "manifest.json", json.dumps(result.manifest, indent=2, default=str) + "\n")
    written.append(folder / "manifest.json")
    return written


def _check_plot_kpis(names: list[str]) -> None:
    """--plot-kpi names against the model's KPI catalogue, before anything runs."""
    from scenarios import InputError
    from sim.kpis import KPI_META

    for name in names:
        if name not in KPI_META:
            close = sorted(k for k in KPI_META if k.split(".")[0] == name.split(".")[0]) or sorted(KPI_META)[:6]
            raise InputError(f"--plot-kpi {name!r}: the model has no such KPI (e.g. {', '.join(close)})")


def _print_sweep_summary(result: Any, kpis: list[str]) -> None:
    paths = [v.path for v in result.varies]
    table = Table(
        title=f"Sweep of {result.manifest['scenario']}: mean [95% CI] per grid point "
        f"({result.manifest['replications']} replications each)"
    )
    for p in paths:
        table.add_column(p, overflow="fold")
    for k in kpis:
        table.add_column(k, justify="right", overflow="fold")
    s = result.summary.set_index(["point", "kpi"])
    for i, point in enumerate(result.points):
        cells = [str(point[p]) for p in paths]
        for k in kpis:
            r = s.loc[(i, k)]
            cells.append(_mean_ci(r["mean"], r["ci_low"], r["ci_high"]))
        table.add_row(*cells)
    Console(width=max(120, 22 * (len(paths) + len(kpis)))).print(table)


# ----------------------------------------------------------------------------------------------- recommend
@app.command("recommend", context_settings=EXTRA_ARGS)
@user_errors
def recommend(
    ctx: typer.Context,
    scenario: str = typer.Argument(..., help="A built-in scenario name or a YAML file."),
    target: list[str] = typer.Option(
        [], "--target", help="'KPI.stat <= VALUE' (repeat), e.g. 'wait_to_first_acupuncture_days.p90 <= 7'"
    ),
    lever: list[str] = typer.Option([], "--lever", help="Head-count to choose (repeat), e.g. staff.physiotherapists"),
    min_per_lever: int = typer.Option(1, min=0, help="Fewest practitioners per lever to consider."),
    max_per_lever: int = typer.Option(6, min=1, help="Most practitioners per lever to consider."),
    confidence: float = typer.Option(0.95, min=0.5, max=0.999, help="One-sided confidence for each target."),
    replications: int = typer.Option(10, min=2, help="First batch of replications per candidate."),
    batch: int = typer.Option(10, min=1, help="Replications added while a target's CI straddles its threshold."),
    max_replications: int = typer.Option(40, min=2, help="Cap on replications per candidate."),
    lookahead: int = typer.Option(
        1,
        min=1,
        help="Candidates whose first batch runs at once (for big clusters; same answer, possibly wasted runs past it).",
    ),
    weeks: int | None = typer.Option(None, min=1, help="Simulated weeks (default: the scenario's horizon)."),
    seed: int | None = typer.Option(None, min=0, help="Root seed (default: the scenario's)."),
    workers: int | None = typer.Option(None, min=1, help=WORKERS_HELP),
    dask: bool = typer.Option(False, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(
        None, help="Also write the evidence (evidence.csv/.parquet, recommendation.json) here."
    ),
    utilisation_limit: float = typer.Option(
        0.85,
        "--utilisation-limit",
        min=0.1,
        max=1.0,
        help="Flag the chosen staffing's utilisation above this share (0.85 = 85%).",
    ),
) -> None:
    """The cheapest staffing (by scenario costs, else the fewest practitioners) meeting every target with
    the stated confidence; prints the evidence for each candidate tried. Exit 1 if none within the limits does."""
    from sim.recommend import recommend as run_recommend
    from sim.targets import parse_levers, parse_targets

    targets = parse_targets(target)
    levers = parse_levers(lever)
    spec, scenario = _executor(workers, dask, scenario, ctx.args)
    base = load_scenario(scenario)
    if out is not None:
        check_out(out)
    console = Console(width=140)
    rows: list[list[str]] = []
    with progress_bar("replications") as progress:
        rec = run_recommend(
            base,
            targets,
            levers,
            min_per_lever=min_per_lever,
            max_per_lever=max_per_lever,
            confidence=confidence,
            replications=replications,
            batch=batch,
            max_replications=max_replications,
            root_seed=base.run.seed if seed is None else seed,
            weeks=weeks,
            spec=spec,
            report=_candidate_reporter(console, rows),
            progress=progress,
            lookahead=lookahead,
            utilisation_limit=utilisation_limit,
        )
    console.print(_candidates_table(base.name, [str(t) for t in targets], confidence, rows))
    if rec.skipped:
        console.print(
            f"{len(rec.skipped)} staffing(s) skipped as invalid scenarios, e.g. {rec.skipped[0]}", highlight=False
        )
    if out is not None:
        _write_evidence(out, rec, base.name, [str(t) for t in targets], levers, confidence)
    _print_recommendation(rec, base, levers, min_per_lever, max_per_lever)


def _candidate_reporter(console: Console, rows: list[list[str]]) -> Callable[[Any], None]:
    """A callback that keeps each candidate's evidence as a table row and prints its verdict as it comes."""

    def report(ev: Any) -> None:
        cost = "-" if ev.candidate.cost is None else f"{ev.candidate.cost:,.0f}"
        cells = [ev.candidate.label(), cost, str(ev.replications)]
        for te in ev.targets:
            cells.append(f"{_mean_ci(te.mean, te.bound_low, te.bound_high)} {te.verdict}")
        verdict = {"unclear": "unclear at cap"}.get(ev.verdict, ev.verdict)
        cells.append(verdict)
        rows.append(cells)
        console.print(f"  {cells[0]}: {verdict} (n={ev.replications})", highlight=False)

    return report


def _candidates_table(name: str, targets: list[str], confidence: float, rows: list[list[str]]) -> Table:
    """The candidates tried: staffing, cost, replications, each target's bound and verdict, the candidate's verdict."""
    table = Table(title=f"Candidates tried for {name} (one-sided {confidence:.0%} bounds, common random numbers)")
    table.add_column("staffing")
    table.add_column("cost/week", justify="right")
    table.add_column("n", justify="right")
    for t in targets:
        table.add_column(t, justify="right")
    table.add_column("verdict")
    for cells in rows:
        table.add_row(*cells)
    return table


def _write_evidence(out: Path, rec: Any, name: str, targets: list[str], levers: list[str], confidence: float) -> None:
    """``evidence.csv/.parquet`` and ``recommendation.json`` in ``out``, whole or not at all."""
    from sim.recommend import evidence_rows

    summary = {
        "scenario": name,
        "targets": targets,
        "levers": levers,
        "confidence": confidence,
        "ordered_by": rec.ordered_by,
        "recommendation": rec.best.overrides if rec.best else None,
        "cost_per_week": rec.best.cost if rec.best else None,
        "target_responses": [_response_json(r) for r in rec.responses],
        "side_effects": [dataclasses.asdict(s) for s in rec.side_effects],
    }
    with staged_output(out) as folder:
        write_table(pd.DataFrame(evidence_rows(rec)), folder, "evidence")
        write_text_atomic(folder / "recommendation.json", json.dumps(summary, indent=2, default=_json_number) + "\n")


def _print_recommendation(rec: Any, base: Scenario, levers: list[str], min_per_lever: int, max_per_lever: int) -> None:
    """The recommended staffing with its cost and what responds; exit 1 when no candidate meets every target."""
    order = "cheapest by scenario costs" if rec.ordered_by == "cost" else "fewest practitioners"
    if rec.best is None:
        raise fail(
            f"No staffing with {min_per_lever}..{max_per_lever} per lever meets every target "
            f"({len(rec.tried)} of {rec.total_candidates} candidates tried): raise --max-per-lever, "
            f"relax a target or add another lever.",
            code=1,
        )
    cost = "" if rec.best.cost is None else f", {rec.best.cost:,.0f} {base.costs.currency}/week"
    typer.echo(f"Recommended ({order}): {rec.best.label()}{cost}; {rec.best.headcount} practitioners in total.")
    for line in responsiveness_lines(rec, levers, min_per_lever) + side_effect_lines(rec, base, levers):
        typer.echo(line)


def _response_json(r: Any) -> dict[str, Any]:
    return {
        "target": str(r.target),
        "low": r.low_label,
        "high": r.high_label,
        "at_low": r.at_low,
        "at_high": r.at_high,
        "difference": r.difference,
        "ci_low": r.ci_low,
        "ci_high": r.ci_high,
        "replications": r.n,
        "responds": r.responds,
    }


def _json_number(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else str(value)


def responsiveness_lines(rec: Any, levers: list[str], min_per_lever: int) -> list[str]:
    """One line per target that the levers do not move over their range, and a warning when none of them does."""
    lines = []
    for r in rec.responses:
        if not r.responds:
            lines.append(
                f"Does not respond: {r.target.kpi} is {_fmt(r.at_low)} with {r.low_label} and "
                f"{_fmt(r.at_high)} with {r.high_label} (target {r.target.op} {r.target.value:g}; difference {_mean_ci(r.difference, r.ci_low, r.ci_high)}, "
                f"{r.n} paired replications): {', '.join(levers)} does not change it."
            )
    if rec.responses and not any(r.responds for r in rec.responses) and rec.best is not None:
        lines.append(
            f"Warning: no target responds to {', '.join(levers)}, so the recommendation is simply the "
            f"lowest value tried (--min-per-lever {min_per_lever}); look at the side effects below, or pick "
            f"a lever that drives the target."
        )
    return lines


def side_effect_lines(rec: Any, base: Any, levers: list[str]) -> list[str]:
    """The chosen staffing's side effects against the scenario as given (same replications)."""
    if not rec.side_effects:
        return []
    counts = base.role_counts()
    given = ", ".join(f"{lv.split('.', 1)[1]}={counts[lv.split('.', 1)[1].removesuffix('s')]}" for lv in levers)
    lines = [
        f"Side effects of {rec.best.label()} against the scenario as given ({given}), "
        f"utilisation flagged above {rec.utilisation_limit:.0%}:"
    ]
    for s in rec.side_effects:
        flag = f"  <- {s.flag}" if s.flag else ""
        lines.append(f"  {s.label}: {_side_value(s.chosen, s.unit)} vs {_side_value(s.reference, s.unit)}{flag}")
    return lines


def _side_value(x: float, unit: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{100 * x:.0f}%" if unit == "share" else f"{x:.3g} {unit}"
