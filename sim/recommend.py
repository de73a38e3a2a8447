"""The cheapest (or smallest) staffing that meets every KPI target with stated confidence.

Candidates are every combination of the head-count levers within ``[min_per_lever, max_per_lever]`` that gives a
valid scenario, ordered by weekly staff cost when ``scenario.costs.per_week`` prices every lever's role, else by
total head-count; ties by the lever values in order (deterministic). They are tried in that order and the
search stops at the first that meets all targets.

Evidence per candidate and target, over n replications (common random numbers: replication r uses the same
seed for every candidate), with sample mean m, standard deviation s and t = t_{c, n-1} (one-sided, c the
confidence):

- target ``KPI <= v`` is **met** when the upper bound m + t s / sqrt(n) <= v, and **fails** when the lower
  bound m - t s / sqrt(n) > v (mirror for ``>=``);
- otherwise the CI straddles v: the decision is close, so ``batch`` more replications are run, up to
  ``max_replications``; still straddling there -> **unclear at cap**, which does not count as meeting.

A candidate meets the targets when every target is met; it is dropped as soon as one target fails. A KPI
undefined in a replication (NaN: e.g. a wait when nobody got that far) is left out of m and s; fewer than two
defined values is **no data**, which counts as failing. Each candidate's warm-up is chosen as
``run_experiment`` would on its replications so far. Each target is judged at confidence c on its own (with k
targets, all k bounds hold together with probability at least 1 - k (1 - c)).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from scenarios import ROLE_LEVERS, InputError, Scenario, apply_overrides

from .executors import ExecutorSpec, Progress, TaskRunner
from .kpis import KPI_META
from .runner import run_replication
from .stats import t_interval
from .sweep import Replicate, ReplicationKpis, choose_warmup, replication_kpis
from .targets import Target, check_kpis_known

MET, FAILS, UNCLEAR, NO_DATA = "meets", "fails", "unclear", "no data"


@dataclass(frozen=True)
class Candidate:
    """One staffing: ``counts`` per lever (in lever order), ``headcount`` = all practitioners in the scenario
    (a dual-role practitioner counts once), its weekly ``cost`` (None without prices)."""

    levers: tuple[str, ...]
    counts: tuple[int, ...]
    headcount: int
    cost: float | None

    @property
    def overrides(self) -> dict[str, int]:
        return dict(zip(self.levers, self.counts, strict=True))

    def label(self) -> str:
        return ", ".join(f"{ROLE_LEVERS[k].value}s={c}" for k, c in zip(self.levers, self.counts, strict=True))


@dataclass
class TargetEvidence:
    target: Target
    n: int
    mean: float
    bound_low: float
    bound_high: float
    verdict: str  # meets / fails / unclear


@dataclass
class CandidateEvidence:
    candidate: Candidate
    replications: int
    targets: list[TargetEvidence]
    warmup_weeks: int | None = None  # chosen as run_experiment would, on this candidate's replications

    @property
    def verdict(self) -> str:
        verdicts = {t.verdict for t in self.targets}
        if FAILS in verdicts or NO_DATA in verdicts:
            return FAILS
        if UNCLEAR in verdicts:
            return UNCLEAR
        return MET


@dataclass
class Recommendation:
    """``best`` is None when no candidate within the limits meets every target; ``tried`` is the evidence."""

    best: Candidate | None
    tried: list[CandidateEvidence]
    ordered_by: str  # "cost" or "head-count"
    skipped: list[str] = field(default_factory=list)  # candidates that are not valid scenarios, with the reason
    total_candidates: int = 0
    responses: list[TargetResponse] = field(default_factory=list)  # each target across the levers' range
    side_effects: list[SideEffect] = field(default_factory=list)  # of ``best``, against the scenario as given
    utilisation_limit: float = 0.85


def staffing_cost(scenario: Scenario) -> float | None:
    """Weekly staff cost: each practitioner costs the dearest of their priced roles; None if a role has no price."""
    prices = {r.value: p for r, p in scenario.costs.per_week.items()}
    total = 0.0
    for member in scenario.staff:
        roles = [r.value for r in member.roles]
        if not all(r in prices for r in roles):
            return None
        total += max(prices[r] for r in roles)
    return total


def candidates(
    base: Scenario, levers: Sequence[str], min_per_lever: int, max_per_lever: int
) -> tuple[list[tuple[Candidate, Scenario]], list[str], str]:
    """Valid candidates in search order, the skipped ones (one line each) and the order used."""
    if min_per_lever < 0 or max_per_lever < min_per_lever:
        raise InputError(
            f"--min-per-lever/--max-per-lever: need 0 <= min <= max (got {min_per_lever}..{max_per_lever})"
        )
    priced = {r.value for r in base.costs.per_week}
    by_cost = all(ROLE_LEVERS[lv].value in priced for lv in levers) and staffing_cost(base) is not None
    valid: list[tuple[Candidate, Scenario]] = []
    skipped: list[str] = []
    for counts in itertools.product(range(min_per_lever, max_per_lever + 1), repeat=len(levers)):
        overrides = dict(zip(levers, counts, strict=True))
        try:
            scenario = apply_overrides(base, overrides)
        except InputError as e:
            first = str(e).splitlines()[0]
            skipped.append(f"{', '.join(f'{k}={v}' for k, v in overrides.items())}: {first}")
            continue
        cost = staffing_cost(scenario) if by_cost else None
        valid.append((Candidate(tuple(levers), tuple(counts), len(scenario.staff), cost), scenario))
    if by_cost:
        valid.sort(key=lambda cs: (cs[0].cost, cs[0].headcount, cs[0].counts))
    else:
        valid.sort(key=lambda cs: (cs[0].headcount, cs[0].counts))
    return valid, skipped, "cost" if by_cost else "head-count"


def judge(target: Target, values: np.ndarray, confidence: float) -> TargetEvidence:
    """Verdict from the one-sided t bounds (see the module docstring) over the replications where the KPI is
    defined (a wait is undefined when nobody reached that step); fewer than 2 such values -> ``no data``,
    which counts as not meeting the target."""
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    n = len(x)
    if n < 2:
        mean = float(x.mean()) if n else math.nan
        return TargetEvidence(target, n, mean, math.nan, math.nan, NO_DATA)
    mean = float(x.mean())
    half = float(stats.t.ppf(confidence, n - 1) * x.std(ddof=1) / math.sqrt(n))
    low, high = mean - half, mean + half
    if target.upper:
        verdict = MET if target.holds(high) else FAILS if not target.holds(low) else UNCLEAR
    else:
        verdict = MET if target.holds(low) else FAILS if not target.holds(high) else UNCLEAR
    return TargetEvidence(target, n, mean, low, high, verdict)


def recommend(
    base: Scenario,
    targets: Sequence[Target],
    levers: Sequence[str],
    *,
    min_per_lever: int = 1,
    max_per_lever: int = 6,
    confidence: float = 0.95,
    replications: int = 10,
    batch: int = 10,
    max_replications: int = 40,
    root_seed: int = 0,
    weeks: int | None = None,
    spec: ExecutorSpec | None = None,
    replicate: Replicate | None = None,
    report: Callable[[CandidateEvidence], None] | None = None,
    progress: Progress | None = None,
    lookahead: int = 1,
    utilisation_limit: float = 0.85,
) -> Recommendation:
    """Try candidates in order; add replications while a target's CI straddles its threshold; stop at the first
    candidate that meets every target. ``report`` is called with each candidate's final evidence.
    ``lookahead`` candidates get their first batch together (more parallel work; same answer and evidence).

    Then, on the same random numbers: how each target moves between the levers' lowest and highest values
    (:func:`target_responses`: a target that does not respond makes the answer the range's minimum, whatever it
    costs elsewhere), and the chosen staffing's side effects against the scenario as given (:func:`side_effects`).
    """
    if not 0.5 < confidence < 1:
        raise InputError(f"--confidence: must be between 0.5 and 1 (got {confidence})")
    if replications < 2:
        raise InputError(f"--replications: needs 2 or more for a confidence interval (got {replications})")
    if max_replications < replications:
        raise InputError(
            f"--max-replications: must be at least --replications ({replications}), got {max_replications}"
        )
    if batch < 1:
        raise InputError(f"--batch: must be 1 or more (got {batch})")
    check_kpis_known(list(targets), set(KPI_META))  # against the model's catalogue, before any run
    if lookahead < 1:
        raise InputError(f"--lookahead: must be 1 or more (got {lookahead})")
    valid, skipped, order = candidates(base, levers, min_per_lever, max_per_lever)
    replicate = replicate or run_replication
    with TaskRunner(spec) as runner:
        rec = _search(
            valid,
            skipped,
            order,
            targets,
            confidence,
            replications,
            batch,
            max_replications,
            root_seed,
            weeks,
            runner,
            replicate,
            report,
            progress,
            lookahead,
        )
        low_high = _range_ends(base, levers, min_per_lever, max_per_lever)
        if low_high is not None:
            rec.responses = target_responses(
                targets, *low_high, confidence, replications, root_seed, weeks, runner, replicate, progress
            )
        if rec.best is not None:
            chosen = dict(valid)[rec.best]
            rec.utilisation_limit = utilisation_limit
            rec.side_effects = side_effects(
                base,
                chosen,
                levers,
                utilisation_limit,
                confidence,
                max(replications, _tried_n(rec)),
                root_seed,
                weeks,
                runner,
                replicate,
                progress,
            )
    return rec


def _tried_n(rec: Recommendation) -> int:
    return next((ev.replications for ev in rec.tried if ev.candidate == rec.best), 0)


def _search(
    valid: list[tuple[Candidate, Scenario]],
    skipped: list[str],
    order: str,
    targets: Sequence[Target],
    confidence: float,
    replications: int,
    batch: int,
    max_replications: int,
    root_seed: int,
    weeks: int | None,
    runner: TaskRunner,
    replicate: Replicate,
    report: Callable[[CandidateEvidence], None] | None,
    progress: Progress | None,
    lookahead: int,
) -> Recommendation:
    """The candidates in order, each judged on its replications; the first meeting every target wins."""
    tried: list[CandidateEvidence] = []

    def first_batch(scenario: Scenario) -> list[tuple]:
        return [(replicate, scenario, r, root_seed, weeks) for r in range(replications)]

    for at in range(0, len(valid), lookahead):
        window = valid[at : at + lookahead]
        # the first batches of the next `lookahead` candidates in one submission (fills a big cluster);
        # the candidates are then judged in order, so the answer and evidence do not depend on `lookahead`
        flat = runner.run(replication_kpis, [t for _, s in window for t in first_batch(s)], progress)
        for i, (candidate, scenario) in enumerate(window):
            results = flat[i * replications : (i + 1) * replications]
            evidence = _evidence(candidate, scenario, results, targets, confidence, weeks)
            while evidence.verdict == UNCLEAR and len(results) < max_replications:
                stop = min(len(results) + batch, max_replications)
                tasks = [(replicate, scenario, r, root_seed, weeks) for r in range(len(results), stop)]
                results = results + runner.run(replication_kpis, tasks, progress)
                evidence = _evidence(candidate, scenario, results, targets, confidence, weeks)
            tried.append(evidence)
            if report:
                report(evidence)
            if evidence.verdict == MET:
                return Recommendation(candidate, tried, order, skipped, len(valid))
    return Recommendation(None, tried, order, skipped, len(valid))


def _evidence(
    candidate: Candidate,
    scenario: Scenario,
    results: list[ReplicationKpis],
    targets: Sequence[Target],
    confidence: float,
    weeks: int | None,
) -> CandidateEvidence:
    """Judge every target on these replications, with the warm-up run_experiment would choose for them."""
    warmup, _ = choose_warmup(scenario, results, weeks)
    kpis = [r.kpis(warmup) for r in results]
    check_kpis_known(list(targets), set(kpis[0]))
    return CandidateEvidence(
        candidate,
        len(results),
        [judge(t, np.array([k.get(t.kpi, math.nan) for k in kpis]), confidence) for t in targets],
        warmup,
    )


def evidence_rows(rec: Recommendation) -> list[dict[str, Any]]:
    """The evidence as tidy rows (candidate, target, n, mean, one-sided bounds, verdict) for CSV or a table."""
    rows = []
    for ev in rec.tried:
        for t in ev.targets:
            rows.append(
                {
                    **ev.candidate.overrides,
                    "cost_per_week": ev.candidate.cost,
                    "headcount": ev.candidate.headcount,
                    "target": str(t.target),
                    "replications": t.n,
                    "mean": t.mean,
                    "bound_low": t.bound_low,
                    "bound_high": t.bound_high,
                    "target_verdict": t.verdict,
                    "candidate_verdict": ev.verdict,
                }
            )
    return rows


# ------------------------------------------------------------------------------ responsiveness and side effects
@dataclass
class TargetResponse:
    """A target's KPI with every lever at its lowest and at its highest value (same random numbers): the paired
    difference and its two-sided CI. ``responds`` is False when the CI contains 0: over this range the lever
    does not move the KPI, so meeting the target says nothing about how many practitioners are needed."""

    target: Target
    low_label: str
    high_label: str
    at_low: float
    at_high: float
    difference: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def responds(self) -> bool:
        return bool(np.isfinite(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0))


@dataclass
class SideEffect:
    """A KPI the targets do not name, for the chosen staffing and for the scenario as given (paired)."""

    kpi: str
    label: str
    unit: str
    chosen: float
    reference: float
    difference: float
    ci_low: float
    ci_high: float
    flag: str | None


#: KPIs whose change a manager should see beside any recommendation (besides the levers' utilisation).
SIDE_EFFECT_KPIS = ("programme_length_weeks.mean", "completions.per_week", "wait_to_first_pt_days.p90")
_WORSE_WHEN_HIGHER = {"programme_length_weeks.mean": "longer", "wait_to_first_pt_days.p90": "longer"}
_WORSE_WHEN_LOWER = {"completions.per_week": "fewer"}


def _range_ends(
    base: Scenario, levers: Sequence[str], low: int, high: int
) -> tuple[tuple[str, Scenario], tuple[str, Scenario]] | None:
    """The scenario with every lever at ``low`` and at ``high`` (labelled), or None if they coincide or one is
    not a valid scenario."""
    if low == high or not levers:
        return None
    ends = []
    for count in (low, high):
        try:
            scenario = apply_overrides(base, {lever: count for lever in levers})
        except InputError:
            return None
        ends.append((", ".join(f"{ROLE_LEVERS[lv].value}s={count}" for lv in levers), scenario))
    return ends[0], ends[1]


def _kpi_rows(
    scenario: Scenario,
    n: int,
    root_seed: int,
    weeks: int | None,
    runner: TaskRunner,
    replicate: Replicate,
    progress: Progress | None,
) -> list[dict[str, float]]:
    """Replications 0..n-1 of ``scenario`` (the seeds every candidate uses), KPIs at its own warm-up."""
    results = runner.run(replication_kpis, [(replicate, scenario, r, root_seed, weeks) for r in range(n)], progress)
    warmup, _ = choose_warmup(scenario, results, weeks)
    return [r.kpis(warmup) for r in results]


def _paired(
    kpi: str, a: list[dict[str, float]], b: list[dict[str, float]], confidence: float
) -> tuple[float, float, float, float, float, int]:
    """Means of ``kpi`` in a and b, and the paired difference b - a with its two-sided CI."""
    xa = np.array([k.get(kpi, math.nan) for k in a], dtype=float)
    xb = np.array([k.get(kpi, math.nan) for k in b], dtype=float)
    diff, lo, hi, _, n = t_interval(xb - xa, confidence)
    mean_a = float(np.nanmean(xa)) if np.isfinite(xa).any() else math.nan
    mean_b = float(np.nanmean(xb)) if np.isfinite(xb).any() else math.nan
    return mean_a, mean_b, diff, lo, hi, n


def target_responses(
    targets: Sequence[Target],
    low: tuple[str, Scenario],
    high: tuple[str, Scenario],
    confidence: float,
    n: int,
    root_seed: int,
    weeks: int | None,
    runner: TaskRunner,
    replicate: Replicate,
    progress: Progress | None,
) -> list[TargetResponse]:
    """How each target's KPI moves from the levers' lowest to their highest values (see :class:`TargetResponse`)."""
    rows_low = _kpi_rows(low[1], n, root_seed, weeks, runner, replicate, progress)
    rows_high = _kpi_rows(high[1], n, root_seed, weeks, runner, replicate, progress)
    out = []
    for t in targets:
        at_low, at_high, diff, lo, hi, used = _paired(t.kpi, rows_low, rows_high, confidence)
        out.append(TargetResponse(t, low[0], high[0], at_low, at_high, diff, lo, hi, used))
    return out


def _flag(kpi: str, chosen: float, lo: float, hi: float, limit: float) -> str | None:
    if kpi.startswith("utilisation_") and np.isfinite(chosen) and chosen > limit:
        return f"above {limit:.0%}"
    if kpi in _WORSE_WHEN_HIGHER and np.isfinite(lo) and lo > 0:
        return f"{_WORSE_WHEN_HIGHER[kpi]} than with the scenario's staffing"
    if kpi in _WORSE_WHEN_LOWER and np.isfinite(hi) and hi < 0:
        return f"{_WORSE_WHEN_LOWER[kpi]} than with the scenario's staffing"
    return None


def side_effects(
    base: Scenario,
    chosen: Scenario,
    levers: Sequence[str],
    limit: float,
    confidence: float,
    n: int,
    root_seed: int,
    weeks: int | None,
    runner: TaskRunner,
    replicate: Replicate,
    progress: Progress | None,
) -> list[SideEffect]:
    """The chosen staffing against the scenario as given, on the same replications: each lever's utilisation
    (flagged above ``limit``), programme length, discharges and the wait to physiotherapy (flagged when clearly
    worse). KPIs the model does not report are left out."""
    from .kpis import kpi_label

    rows_base = _kpi_rows(base, n, root_seed, weeks, runner, replicate, progress)
    rows_chosen = _kpi_rows(chosen, n, root_seed, weeks, runner, replicate, progress)
    kpis = [f"utilisation_{ROLE_LEVERS[lv].value}.share" for lv in levers] + list(SIDE_EFFECT_KPIS)
    out = []
    for kpi in dict.fromkeys(kpis):
        if kpi not in rows_chosen[0]:
            continue
        ref, value, diff, lo, hi, _ = _paired(kpi, rows_base, rows_chosen, confidence)
        label, unit = kpi_label(kpi)
        out.append(SideEffect(kpi, label, unit, value, ref, diff, lo, hi, _flag(kpi, value, lo, hi, limit)))
    return out
