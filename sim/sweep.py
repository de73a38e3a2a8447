"""Scenario sweeps: every combination of the ``--vary`` values x N replications, as one tidy table.

Grid point g is the base scenario with its overrides applied (``scenarios.apply_overrides``, so each point is
re-validated: a bad point is reported before anything runs). Replication r of every grid point uses the same
``(root_seed, r)`` streams: common random numbers, so differences between points are the levers' effect,
not noise. Tasks are (point, replication) pairs flattened into one list for the executor, so a sweep keeps
every worker busy whatever the grid's shape, and results come back in task order on any backend: the table is
identical serially, in local processes and on Dask.

Summary per grid point and KPI: mean and a two-sided t interval, mean +- t_{1-a/2, n-1} * s / sqrt(n)
(as ``sim.stats.t_interval`` and ``rehabflow simulate`` report it).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scenarios import ROLE_LEVERS, InputError, Scenario, ScenarioError, apply_overrides, scenario_hash

from .executors import ExecutorSpec, Progress, TaskRunner
from .results import ReplicationResult
from .runner import finalise, fixed_warmup, run_replication, warmup_for_series
from .targets import Vary

Replicate = Callable[[Scenario, int, int, int | None], ReplicationResult]
"""``replicate(scenario, rep, root_seed, weeks) -> ReplicationResult`` (default: ``sim.runner.run_replication``)."""

#: KPIs plotted (and the first ``SUMMARY_KPIS`` tabled) by default when the model reports them: the questions
#: managers ask first, access to both therapies (a physiotherapy lever moves the waits to PT, not to acupuncture)
#: and what the staffing does to the programme.
PREFERRED_PLOT_KPIS = (
    "wait_to_first_acupuncture_days.p90",
    "wait_to_first_pt_days.p90",
    "phase2_delay_days.p90",
    "programme_length_weeks.mean",
    "completions.per_week",
    "utilisation_physiotherapist.share",
    "utilisation_acupuncturist.share",
    "waitlist.mean",
    "goal_by_week3.share",
    "wait_to_intake_days.mean",
)
SUMMARY_KPIS = 5


@dataclass
class SweepResult:
    """``table``: tidy (one column per varied path, point, replication, kpi, value); ``summary``: per point
    and KPI (mean, sd, n, ci_low, ci_high, half_width); ``manifest``: what reproduces it."""

    varies: list[Vary]
    points: list[dict[str, Any]]
    table: pd.DataFrame
    summary: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)


def grid_points(varies: Sequence[Vary]) -> list[dict[str, Any]]:
    """The cartesian product of the values, first ``--vary`` slowest: ``[{path: value, ...}, ...]``."""
    if not varies:
        return [{}]
    paths = [v.path for v in varies]
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*[v.values for v in varies])]


def point_label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items()) or "(base scenario)"


def _strip_source(line: str, point: dict[str, Any]) -> str:
    """Drop the ``override ...:`` / ``staff.x=N:`` source prefix that scenario validation puts on each line."""
    prefixes = [f"override {', '.join(f'{k}={v}' for k, v in point.items() if k not in ROLE_LEVERS)}: "]
    prefixes += [f"{k}={v}: " for k, v in point.items()]
    for p in prefixes:
        if line.startswith(p):
            return line[len(p) :]
    return line


def point_scenarios(base: Scenario, points: Sequence[dict[str, Any]]) -> list[Scenario]:
    """Each grid point as a validated scenario; every invalid point is one line naming it and the field."""
    out: list[Scenario] = []
    problems: list[str] = []
    for point in points:
        try:
            out.append(apply_overrides(base, point))
        except ScenarioError as e:
            reasons = "; ".join(_strip_source(p, point) for p in e.problems)
            problems.append(f"grid point {point_label(point)}: {reasons}")
        except InputError as e:
            reasons = "; ".join(_strip_source(p, point) for p in str(e).splitlines())
            problems.append(f"grid point {point_label(point)}: {reasons}")
    if problems:
        raise InputError("\n".join(problems))
    return out


@dataclass
class ReplicationKpis:
    """What a sweep task sends back: ``values[i, j]`` is KPI ``names[j]`` for warm-up ``warmups[i]`` weeks (every
    warm-up the experiment could choose), and the weekly time series (waiting list, patients per phase) that the
    choice is made on. A float array, not dicts: a sweep of 10,000 tasks keeps tens of MB, not hundreds."""

    names: tuple[str, ...]
    warmups: tuple[int, ...]
    values: np.ndarray
    timeseries: pd.DataFrame

    @classmethod
    def from_dicts(cls, by_warmup: dict[int, dict[str, float]], timeseries: pd.DataFrame) -> ReplicationKpis:
        names = tuple(sorted(next(iter(by_warmup.values()))))
        values = np.array([[float(k.get(n, np.nan)) for n in names] for k in by_warmup.values()], dtype=float)
        return cls(names, tuple(by_warmup), values, timeseries)

    def kpis(self, warmup: int) -> dict[str, float]:
        """The KPIs for ``warmup`` weeks (one of ``warmups``: another is a ``ValueError``)."""
        return dict(zip(self.names, self.values[self.warmups.index(warmup)].tolist(), strict=True))


def warmup_candidates(scenario: Scenario, weeks: int) -> list[int]:
    """Every warm-up ``sim.run_experiment`` could pick: the fixed weeks, or 0..the MSER-5 search limit."""
    spec = scenario.run.warmup
    if spec.method == "fixed":
        return [fixed_warmup(scenario, weeks)]
    return list(range(0, min(spec.weeks, weeks // 2) + 1))


def replication_kpis(
    replicate: Replicate, scenario: Scenario, rep: int, root_seed: int, weeks: int | None
) -> ReplicationKpis:
    """One task: run replication ``rep``; keep only its KPIs for each candidate warm-up (recomputing them is
    ~1 ms each, a few % of the run) and the weekly time series: small to send back from a worker."""
    result = replicate(scenario, rep, root_seed, weeks)
    by_warmup = {w: dict(finalise(result, w).kpis) for w in warmup_candidates(scenario, result.weeks)}
    return ReplicationKpis.from_dicts(by_warmup, result.timeseries)


def choose_warmup(scenario: Scenario, results: Sequence[ReplicationKpis], weeks: int | None) -> tuple[int, str]:
    """The warm-up ``sim.run_experiment`` would choose for these replications (its own rule, called on their
    time series: fixed weeks, or MSER-5 on the mean weekly census)."""
    wk = int(weeks or scenario.run.horizon_weeks)
    return warmup_for_series(scenario, [r.timeseries for r in results], wk)


def summarise(table: pd.DataFrame, paths: Sequence[str], confidence: float = 0.95) -> pd.DataFrame:
    """Per grid point and KPI: mean, sd, n, ci_low, ci_high, half_width: the two-sided t interval of
    ``sim.stats.t_interval`` (as ``rehabflow simulate`` reports it), vectorised over groups for big sweeps.
    Non-finite values (a KPI undefined in a replication) are left out and ``n`` counts the rest."""
    values = table["value"].where(np.isfinite(table["value"].to_numpy(float)))
    grouped = values.groupby([table["point"], table["kpi"]], sort=True)
    out = pd.DataFrame({"mean": grouped.mean(), "sd": grouped.std(ddof=1), "n": grouped.count()}).reset_index()
    n = out["n"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(n >= 2, stats.t.ppf(0.5 + confidence / 2.0, np.maximum(n - 1, 1)), np.nan)
        half = t * out["sd"].to_numpy() / np.sqrt(n)
    out["sd"] = np.where(n >= 2, out["sd"], np.nan)
    out["ci_low"], out["ci_high"], out["half_width"] = out["mean"] - half, out["mean"] + half, half
    grid = table.drop_duplicates("point")[["point", *paths]]
    out = out.merge(grid, on="point", how="left")
    return out[[*paths, "point", "kpi", "mean", "sd", "n", "ci_low", "ci_high", "half_width"]]


def run_sweep(
    base: Scenario,
    varies: Sequence[Vary],
    *,
    replications: int,
    root_seed: int,
    weeks: int | None = None,
    spec: ExecutorSpec | None = None,
    progress: Progress | None = None,
    replicate: Replicate | None = None,
    confidence: float = 0.95,
    runner: TaskRunner | None = None,
) -> SweepResult:
    """Run the grid x replications on ``spec`` (or an open ``runner``) and tabulate the KPIs."""
    if replications < 1:
        raise InputError(f"--replications: must be 1 or more (got {replications})")
    varies = list(varies)
    points = grid_points(varies)
    scenarios = point_scenarios(base, points)  # raises before any run
    replicate = replicate or run_replication
    tasks = [(replicate, s, r, root_seed, weeks) for s in scenarios for r in range(replications)]
    started = time.perf_counter()
    if runner is None:
        with TaskRunner(spec) as own:
            results = own.run(replication_kpis, tasks, progress)
    else:
        results = runner.run(replication_kpis, tasks, progress)
    wall = time.perf_counter() - started
    # One warm-up for the whole sweep, so that points stay comparable under common random numbers: the longest
    # of the warm-ups run_experiment would choose at each point (as compare_scenarios does).
    choices = [
        choose_warmup(s, results[i * replications : (i + 1) * replications], weeks) for i, s in enumerate(scenarios)
    ]
    warmup = max(c[0] for c in choices)
    table = tidy_table(varies, points, replications, [r.kpis(warmup) for r in results])
    paths = [v.path for v in varies]
    used = runner.spec if runner is not None else (spec or ExecutorSpec("serial", 1))
    manifest = _sweep_manifest(base, varies, replications, root_seed, weeks, choices, used, wall)
    return SweepResult(varies, points, table, summarise(table, paths, confidence), manifest)


def _sweep_manifest(
    base: Scenario,
    varies: Sequence[Vary],
    replications: int,
    root_seed: int,
    weeks: int | None,
    choices: Sequence[tuple[int, str]],
    used: ExecutorSpec,
    wall: float,
) -> dict[str, Any]:
    """What reproduces a sweep: the scenario and its hash, the grid, seeds, warm-ups, executor, version."""
    return {
        "scenario": base.name,
        "scenario_hash": scenario_hash(base),
        "vary": {v.path: list(v.values) for v in varies},
        "grid_points": len(choices),
        "replications": replications,
        "root_seed": root_seed,
        "weeks": weeks or base.run.horizon_weeks,
        "warmup_weeks": max(c[0] for c in choices),
        "warmup_method": f"{choices[0][1]}: the longest of the points' choices, applied to all",
        "warmup_weeks_by_point": [c[0] for c in choices],
        "common_random_numbers": "replication r uses the same seed at every grid point",
        "executor": {"kind": used.kind, "workers": used.workers, "address": used.address},
        "wall_time_seconds": round(wall, 3),
        "version": _version(),
    }


def tidy_table(
    varies: Sequence[Vary], points: Sequence[dict[str, Any]], replications: int, kpis: Sequence[dict[str, float]]
) -> pd.DataFrame:
    """Rows in task order (point, replication), KPIs sorted by name within each replication."""
    paths = [v.path for v in varies]
    rows = []
    for i, result in enumerate(kpis):
        p, r = divmod(i, replications)
        for kpi in sorted(result):
            rows.append((*[points[p][path] for path in paths], p, r, kpi, result[kpi]))
    return pd.DataFrame(rows, columns=[*paths, "point", "replication", "kpi", "value"])


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rehabflow")
    except PackageNotFoundError:
        return "unknown"


# ------------------------------------------------------------------------------------------------ plots
def plot_kpis(result: SweepResult, wanted: Sequence[str] | None = None, limit: int = 6) -> list[str]:
    """The KPIs to plot: ``wanted`` if given (unknown names are an input error), else the preferred ones present."""
    known = list(dict.fromkeys(result.summary["kpi"]))
    if wanted:
        missing = [k for k in wanted if k not in known]
        if missing:
            raise InputError(f"--plot-kpi: the model has no KPI {missing[0]!r} (e.g. {', '.join(known[:6])})")
        return list(wanted)
    chosen = [k for k in PREFERRED_PLOT_KPIS if k in known]
    return chosen or known[:limit]


def kpi_figure(result: SweepResult, kpi: str) -> Any:
    """Mean with its CI against the first varied field; one line per combination of the other fields."""
    import plotly.graph_objects as go

    s = result.summary[result.summary["kpi"] == kpi]
    paths = [v.path for v in result.varies]
    fig = go.Figure()
    if not paths:
        x_name, groups = "scenario", [("", s.assign(scenario=result.manifest.get("scenario", "base")))]
    else:
        x_name = paths[0]
        others = paths[1:]
        groups = (
            [
                (
                    ", ".join(
                        f"{p}={v}" for p, v in zip(others, key if isinstance(key, tuple) else (key,), strict=True)
                    ),
                    g,
                )
                for key, g in s.groupby(others, sort=False)
            ]
            if others
            else [("", s)]
        )
    for name, g in groups:
        fig.add_trace(
            go.Scatter(
                x=g[x_name],
                y=g["mean"],
                name=name or kpi,
                mode="lines+markers",
                error_y=dict(
                    type="data", symmetric=False, array=g["ci_high"] - g["mean"], arrayminus=g["mean"] - g["ci_low"]
                ),
            )
        )
    fig.update_layout(
        title=f"{kpi}: mean and 95% CI over {result.manifest.get('replications')} replications",
        xaxis_title=x_name,
        yaxis_title=kpi,
        legend_title=", ".join(paths[1:]),
    )
    return fig
