"""How many replications: the sequential "replications algorithm" of Hoad, Robinson & Davies (2010).

For each key KPI, after n replications with mean xbar_n and standard deviation s_n, the relative precision is

    d_n = t_{1-alpha/2, n-1} * s_n / sqrt(n) / |xbar_n|        (0 when s_n = 0; infinite when xbar_n = 0 < s_n)

Starting from ``initial`` replications, N_sol is the first n with d_n <= precision; it is accepted once d stays
within precision for the next f(k) replications (look-ahead f(k) = k if N_sol <= 100, else floor(k N_sol / 100));
if d leaves the target meanwhile, N_sol is dropped and the search goes on. Several KPIs: each gets its own
N_sol, and the run stops when all are accepted or at ``max_reps`` (the cap; those not accepted are reported).

Why not ``sim_tools.output_analysis.ReplicationsAlgorithm`` (the same method): it asks for one replication at a
time (no parallel workers), divides by the signed mean (a KPI with a negative mean always "passes"; a
zero-mean KPI never does), and may run past its budget by the look-ahead. The few lines below avoid all three;
they agree with sim-tools on positive-mean data (the validation suite checks it).

Replication i always uses stream i of the root seed, and the decision is taken replication by replication on
the growing sequence, so the result (and the replications returned) are the same whatever the number of
workers or the batch sizes: auto mode gives exactly the first n replications of a fixed run of n.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from scenarios import InputError, Scenario

from .executors import ExecutorSpec, run_tasks
from .results import ExperimentResult, ReplicationResult
from .runner import assemble_experiment, choose_warmup, finalise, run_replication

Progress = Callable[[int, int], None]
Replicate = Callable[..., ReplicationResult]
"""``replicate(scenario, rep, root_seed, weeks, **options) -> ReplicationResult`` (default ``sim.run_replication``)."""

# Hoad, Robinson & Davies (2010): 95% CIs, 5% relative precision, 3 initial replications, kLimit = 5.
DEFAULT_PRECISION = 0.05
DEFAULT_ALPHA = 0.05
DEFAULT_INITIAL = 3
DEFAULT_LOOK_AHEAD = 5
DEFAULT_MAX_REPS = 200


@dataclass(frozen=True)
class PrecisionSpec:
    """Settings of the replications algorithm (defaults: Hoad, Robinson & Davies 2010)."""

    precision: float = DEFAULT_PRECISION
    alpha: float = DEFAULT_ALPHA
    initial: int = DEFAULT_INITIAL
    look_ahead: int = DEFAULT_LOOK_AHEAD
    max_reps: int = DEFAULT_MAX_REPS

    def __post_init__(self) -> None:
        if not self.precision > 0:
            raise ValueError(f"precision must be above 0 (got {self.precision})")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1 (got {self.alpha})")
        if self.initial < 2:
            raise ValueError(f"initial must be 2 or more replications for a confidence interval (got {self.initial})")
        if self.look_ahead < 0:
            raise ValueError(f"look_ahead must be 0 or more (got {self.look_ahead})")
        if self.max_reps < self.initial:
            raise ValueError(f"max_reps ({self.max_reps}) must be at least initial ({self.initial})")

    def look_ahead_for(self, n_sol: int) -> int:
        """f(kLimit): the look-ahead grows in proportion once N_sol passes 100."""
        return self.look_ahead if n_sol <= 100 else math.floor(self.look_ahead * n_sol / 100)


def relative_half_width(values: Sequence[float] | np.ndarray, alpha: float = DEFAULT_ALPHA) -> float:
    """d_n = t_{1-alpha/2,n-1} s_n / sqrt(n) / |xbar_n| (see the module docstring)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return math.inf
    hw = half_width(x, alpha)
    if hw == 0.0:
        return 0.0
    mean = abs(float(x.mean()))
    return math.inf if mean == 0.0 else hw / mean


def half_width(values: Sequence[float] | np.ndarray, alpha: float = DEFAULT_ALPHA) -> float:
    """t-based CI half-width of the mean: t_{1-alpha/2,n-1} s / sqrt(n)."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    if n < 2:
        return math.inf
    sd = float(x.std(ddof=1))
    return float(stats.t.ppf(1 - alpha / 2, n - 1)) * sd / math.sqrt(n)


def running_relative_half_widths(values: Sequence[float] | np.ndarray, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """d_n for every prefix n = 1..len(values) at once (same definition as :func:`relative_half_width`).

    A KPI undefined in a replication (NaN) is left out of the prefixes, as in the summary's t interval."""
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    k = np.cumsum(ok)  # finite values in each prefix
    xs = np.where(ok, x, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.cumsum(xs) / k
        # sums of squares of values centred on the overall mean first (no catastrophic cancellation at our sizes)
        c = xs - np.where(ok, np.nanmean(x) if ok.any() else 0.0, 0.0)
        ss = np.cumsum(c * c) - np.cumsum(c) ** 2 / k
        sd = np.sqrt(np.maximum(ss, 0.0) / (k - 1))
        hw = stats.t.ppf(1 - alpha / 2, np.maximum(k - 1, 1)) * sd / np.sqrt(k)
        hw = np.where(np.isclose(ss, 0.0, atol=1e-12 * np.maximum(1.0, np.cumsum(c * c))), 0.0, hw)
        d = np.where(hw == 0.0, 0.0, np.where(mean == 0.0, np.inf, hw / np.abs(mean)))
    return np.where(k < 2, np.inf, d)


@dataclass(frozen=True)
class KpiDecision:
    """Where the algorithm stands for one KPI on a sequence of replication values."""

    n_solution: int | None  # N_sol: first n of the current run of d_n <= precision (None: not within it now)
    accepted_at: int | None  # n at which the look-ahead completed (None: not yet)
    deviations: tuple[float, ...]  # d_n for n = 1..len(values) (inf below 2)

    @property
    def accepted(self) -> bool:
        return self.accepted_at is not None


def decide(values: Sequence[float], spec: PrecisionSpec) -> KpiDecision:
    """Run the sequential rule over ``values`` (in replication order) and say where it stops, if it does."""
    x = np.asarray(values, dtype=float)
    devs = tuple(running_relative_half_widths(x, spec.alpha).tolist())
    n_sol: int | None = None
    for n in range(spec.initial, len(x) + 1):
        if devs[n - 1] <= spec.precision:
            if n_sol is None:
                n_sol = n
            if n >= n_sol + spec.look_ahead_for(n_sol):
                return KpiDecision(n_sol, n, devs)
        else:
            n_sol = None
    return KpiDecision(n_sol, None, devs)


def min_more_needed(decision: KpiDecision, n_done: int, spec: PrecisionSpec) -> int:
    """A lower bound on the replications still needed before this KPI can be accepted (0 if it is)."""
    if decision.accepted:
        return 0
    if n_done < spec.initial:
        return spec.initial - n_done + spec.look_ahead_for(spec.initial)
    if decision.n_solution is not None:
        return decision.n_solution + spec.look_ahead_for(decision.n_solution) - n_done
    return 1 + spec.look_ahead_for(n_done + 1)


@dataclass
class SequentialOutcome:
    """``results[i]`` is replication i's output; ``n_run`` replications were kept (the stopping point or the cap)."""

    results: list[Any]
    n_run: int
    decisions: dict[str, KpiDecision]
    spec: PrecisionSpec
    values: dict[str, list[float]] = field(default_factory=dict)
    undefined: list[str] = field(default_factory=list)  # KPIs with no finite value in the pilot: not judged

    @property
    def converged(self) -> bool:
        return all(d.accepted for d in self.decisions.values())

    @property
    def n_solution(self) -> int | None:
        """The replications the precision needs: max over KPIs of N_sol (None if some KPI never got there)."""
        sols = [d.n_solution if d.accepted else None for d in self.decisions.values()]
        return None if any(s is None for s in sols) else max(sols)  # type: ignore[type-var]

    def by_kpi(self) -> pd.DataFrame:
        """One row per KPI: mean, half-width and relative half-width over the kept replications, N_sol, accepted."""
        rows = []
        for kpi, dec in self.decisions.items():
            x = np.asarray(self.values[kpi][: self.n_run], dtype=float)
            x = x[np.isfinite(x)]
            rows.append(
                {
                    "kpi": kpi,
                    "mean": float(x.mean()),
                    "half_width": half_width(x, self.spec.alpha),
                    "relative_half_width": relative_half_width(x, self.spec.alpha),
                    "n_solution": dec.n_solution if dec.accepted else None,
                    "accepted": dec.accepted,
                }
            )
        return pd.DataFrame(rows)

    def trace(self) -> pd.DataFrame:
        """Tidy (n, kpi, relative_half_width) for plotting the convergence."""
        return pd.DataFrame(
            [
                {"n": n, "kpi": kpi, "relative_half_width": d}
                for kpi, dec in self.decisions.items()
                for n, d in enumerate(dec.deviations[: self.n_run], start=1)
            ]
        )


def _read_values(
    results: Sequence[Any],
    kpi_values: Callable[[Any], Mapping[str, float]],
    kpis: Sequence[str],
    values: dict[str, list[float]],
) -> None:
    """Append each result's value of every KPI in ``kpis`` to ``values`` (a KPI the result lacks is a KeyError)."""
    for r in results:
        got = kpi_values(r)
        for k in kpis:
            if k not in got:
                raise KeyError(f"KPI {k!r} is not among the replication's KPIs ({', '.join(sorted(got))})")
            values[k].append(float(got[k]))


def _undefined_in_pilot(values: dict[str, list[float]], kpis: Sequence[str], spec: PrecisionSpec) -> list[str]:
    """KPIs with no finite value in the pilot (e.g. acupuncture waits in pt_only): they are not judged."""
    undefined = [k for k in kpis if not np.isfinite(values[k][: pilot_size(spec)]).any()]
    if len(undefined) == len(kpis):
        raise ValueError(f"no KPI to judge the precision on: {', '.join(undefined)} undefined in every replication")
    return undefined


def _next_batch(decisions: dict[str, KpiDecision], n_done: int, spec: PrecisionSpec, batch: int) -> int:
    """How many replications to run next: 0 when every KPI is accepted or the cap is reached."""
    need = max(min_more_needed(d, n_done, spec) for d in decisions.values())
    return 0 if need == 0 else max(0, min(max(need, batch), spec.max_reps - n_done))


def run_sequential(
    replicate: Callable[[Sequence[int]], list[Any]],
    kpi_values: Callable[[Any], Mapping[str, float]],
    kpis: Sequence[str],
    spec: PrecisionSpec = PrecisionSpec(),
    batch: int = 1,
    progress: Progress | None = None,
) -> SequentialOutcome:
    """Add replications (``replicate(indices) -> results``, in index order) until every KPI is accepted or the cap.

    ``kpi_values(result)`` reads a result's KPIs. Batches are at least ``batch`` (e.g. the number of workers)
    and at least the lower bound of what is still needed; results past the stopping point are dropped, so the
    outcome does not depend on ``batch``.
    """
    if not kpis:
        raise ValueError("name at least one KPI to reach the precision on")
    if batch < 1:
        raise ValueError("batch must be 1 or more")
    results: list[Any] = []
    kpis = list(kpis)
    values: dict[str, list[float]] = {k: [] for k in kpis}
    decisions = {k: decide([], spec) for k in kpis}
    undefined: list[str] = []
    while size := _next_batch(decisions, len(results), spec, batch):
        new = replicate(list(range(len(results), len(results) + size)))
        _read_values(new, kpi_values, kpis, values)
        if not results:  # after the pilot: a KPI with no finite value is dropped
            undefined = _undefined_in_pilot(values, kpis, spec)
            kpis = [k for k in kpis if k not in undefined]
        results.extend(new)
        decisions = {k: decide(values[k], spec) for k in kpis}
        if progress:
            progress(len(results), spec.max_reps)
    stop = max((d.accepted_at or len(results)) for d in decisions.values()) if decisions else len(results)
    n_run = min(stop, len(results))
    # re-decide on the kept prefix so every field describes exactly the replications returned
    kept = {k: v[:n_run] for k, v in values.items() if k in kpis}
    decisions = {k: decide(kept[k], spec) for k in kpis}
    return SequentialOutcome(results[:n_run], n_run, decisions, spec, kept, undefined)


# ----------------------------------------------------------------------------------------- the simulation
# key KPIs of the study: access (waits), pain response, throughput of the programme
DEFAULT_KPIS = (
    "wait_to_intake_days.mean",
    "wait_to_first_acupuncture_days.mean",
    "sessions_to_goal.mean",
    "programme_length_weeks.mean",
)


@dataclass
class PreciseRun:
    """An automatic run: the replications, how their number was chosen (``outcome``), and the experiment
    assembled exactly as ``sim.run_experiment(replications=n)`` would (``experiment``)."""

    replications: list[ReplicationResult]
    outcome: SequentialOutcome
    seed: int
    weeks: int
    decision_warmup_weeks: int | None
    experiment: ExperimentResult

    @property
    def n(self) -> int:
        return self.outcome.n_run

    def manifest(self) -> dict[str, Any]:
        """What to put in the run manifest so the choice can be reproduced and judged."""
        s = self.outcome.spec
        return {
            "method": "Hoad, Robinson & Davies (2010) sequential, relative 95% CI half-width, look-ahead",
            "precision": s.precision,
            "alpha": s.alpha,
            "initial_replications": s.initial,
            "look_ahead": s.look_ahead,
            "max_replications": s.max_reps,
            "replications_run": self.outcome.n_run,
            "replications_needed": self.outcome.n_solution,
            "precision_reached": self.outcome.converged,
            "kpis_undefined": list(self.outcome.undefined),
            "decision_warmup_weeks": self.decision_warmup_weeks,
            "kpis": self.outcome.by_kpi().to_dict(orient="records"),
        }


def pilot_size(spec: PrecisionSpec) -> int:
    """The replications every automatic run makes first (initial + look-ahead); the warm-up is chosen on them."""
    return min(spec.max_reps, spec.initial + spec.look_ahead_for(spec.initial))


@dataclass
class WarmedBatches:
    """``replicate(indices)`` for :func:`run_sequential`: replications ``indices`` of the scenario on the executor,
    each finalised with one warm-up, chosen (as ``run_experiment`` chooses it) on the pilot, the first batch."""

    scenario: Scenario
    replication: Replicate
    root_seed: int
    weeks: int
    executor: ExecutorSpec
    pilot: int
    event_log: bool = False
    warmup: int | None = None

    def __call__(self, indices: Sequence[int]) -> list[ReplicationResult]:
        extra = {"event_log": True} if self.event_log else {}
        tasks = [(self.replication, self.scenario, i, self.root_seed, self.weeks, extra) for i in indices]
        results: list[ReplicationResult] = run_tasks(_one_replication, tasks, self.executor)
        if self.warmup is None:  # the first batch always starts at 0 and holds the whole pilot
            self.warmup = choose_warmup(self.scenario, results[: self.pilot], self.weeks)[0]
        return [finalise(r, self.warmup) for r in results]


def _local_executor(workers: int) -> ExecutorSpec:
    return ExecutorSpec("serial" if workers <= 1 else "processes", max(1, workers))


def run_until_precise(
    scenario: Scenario,
    kpis: Sequence[str] = DEFAULT_KPIS,
    precision: float = DEFAULT_PRECISION,
    max_reps: int = DEFAULT_MAX_REPS,
    *,
    alpha: float = DEFAULT_ALPHA,
    initial: int = DEFAULT_INITIAL,
    look_ahead: int = DEFAULT_LOOK_AHEAD,
    weeks: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    executor: ExecutorSpec | None = None,
    progress: Progress | None = None,
    event_log: bool = False,
    replication: Replicate = run_replication,
) -> PreciseRun:
    """Replications of ``scenario`` (``replication(scenario, i, seed, weeks)``, i = 0, 1, ...) until every KPI in
    ``kpis`` has a CI half-width within ``precision`` of its mean, held over the look-ahead, or ``max_reps``.

    The warm-up for the decision is chosen (as ``run_experiment`` does) on the first :func:`pilot_size`
    replications and kept; the returned ``experiment`` is then assembled from the n replications exactly as a
    fixed run of n (its own warm-up choice), so ``--replications n`` reproduces it. Batches run on ``executor``
    (default: ``workers`` local processes); the result is the same for any.
    """
    t0 = time.perf_counter()
    spec = PrecisionSpec(precision=precision, alpha=alpha, initial=initial, look_ahead=look_ahead, max_reps=max_reps)
    root = int(scenario.run.seed if seed is None else seed)
    wk = int(weeks if weeks is not None else scenario.run.horizon_weeks)
    ex = executor or _local_executor(workers)
    batches = WarmedBatches(scenario, replication, root, wk, ex, pilot_size(spec), event_log)
    outcome = run_sequential(batches, _kpis_of, list(kpis), spec, batch=max(1, ex.workers), progress=progress)
    warm, method = choose_warmup(scenario, outcome.results, wk)
    experiment = assemble_experiment(
        scenario, outcome.results, warm, method, root, wk, ex.workers, time.perf_counter() - t0
    )
    run = PreciseRun(outcome.results, outcome, root, wk, batches.warmup, experiment)
    experiment.manifest["replications_auto"] = run.manifest()
    return run


def _kpis_of(result: ReplicationResult) -> dict[str, float]:
    return result.kpis


def _one_replication(
    replication: Replicate, scenario: Scenario, rep: int, root: int, weeks: int, extra: dict[str, Any]
) -> ReplicationResult:
    """Top level (picklable) so that local processes and Dask workers can run it."""
    return replication(scenario, rep, root, weeks, **extra)


def run_auto_experiment(
    scenario: Scenario,
    *,
    precision: float = DEFAULT_PRECISION,
    max_reps: int | None = None,
    kpis: Sequence[str] = DEFAULT_KPIS,
    weeks: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    event_log: bool = False,
) -> ExperimentResult:
    """``run_experiment`` with the number of replications chosen by :func:`run_until_precise` (CLI
    ``--auto-replications``); bad settings are :class:`scenarios.InputError` (one line, exit 2)."""
    cap = DEFAULT_MAX_REPS if max_reps is None else int(max_reps)
    if cap < DEFAULT_INITIAL:
        raise InputError(
            f"--replications: with --auto-replications it is the cap and must be {DEFAULT_INITIAL} or more (got {cap})"
        )
    if not 0 < precision < 1:
        raise InputError(f"--precision: must be between 0 and 1, e.g. 0.05 for 5% (got {precision})")
    try:
        run = run_until_precise(
            scenario,
            kpis,
            precision,
            cap,
            weeks=weeks,
            seed=seed,
            workers=workers,
            progress=progress,
            event_log=event_log,
        )
    except ValueError as e:
        raise InputError(f"--auto-replications: {e}") from None
    return run.experiment


def describe_auto(info: dict[str, Any]) -> str:
    """One line for people: how many replications, why, and whether the precision was reached."""
    pct = f"{100 * info['precision']:g}%"
    if info["precision_reached"]:
        head = (
            f"Replications chosen automatically: {info['replications_run']} run, {info['replications_needed']} "
            f"needed for 95% CI half-widths within {pct} of the mean"
        )
    else:
        missed = [k["kpi"] for k in info["kpis"] if not k["accepted"]]
        head = (
            f"Precision of {pct} NOT reached within the cap of {info['max_replications']} replications for "
            f"{', '.join(missed)}: read their CIs with care or raise --replications"
        )
    skipped = info.get("kpis_undefined") or []
    tail = f" (not judged, undefined here: {', '.join(skipped)})" if skipped else ""
    return f"{head} (Hoad, Robinson & Davies 2010; look-ahead {info['look_ahead']}){tail}."
