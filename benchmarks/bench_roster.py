"""The roster ladder: weeks of ~100, 450 (the baseline clinic's own sampled week), ~1,000 and ~3,000 sessions, each
solved in the same run by CP-SAT alone (the full model, 2 workers, the whole limit), by our search (what
``solve_roster`` does: the full model for a share of the limit, then the adaptive neighbourhoods two at a
time) and by the greedy; wall-clock limits; the gap of every method to the best bound any of them proved
(CP-SAT's or the HiGHS LP bound of optimizer.bound).

    python benchmarks/bench_roster.py                       # the ladder at 10 s and 60 s (~20 min)
    python benchmarks/bench_roster.py --weeks gen100 base3 --limits 10

Columns: sessions required / placed, objective (lower is better), each bound, the gap to the best bound of the
week, the wall time (kept within 10% of the limit?), whether the independent validator accepts the roster, the
process's peak memory so far and the 1-minute load average (the machine is shared: compare methods within one
week and one limit, measured minutes apart, not across runs).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.instances import generate_week  # noqa: E402
from optimizer.solve import greedy_roster, outcome_to_result, run_solve  # noqa: E402
from optimizer.validate import validate_roster  # noqa: E402
from optimizer.week import build_week  # noqa: E402
from scenarios import load_scenario  # noqa: E402

WEEK = dt.date(2026, 11, 30)
#: the ladder's weeks: generated weeks (optimizer.instances, demand ~ capacity) sized to ~100, ~1,000 and ~3,000
#: sessions, and the baseline clinic's own sampled week (`rehabflow sample-week --scenario baseline --seed 3`)
WEEKS = {"gen100": 90, "base3": None, "gen1000": 800, "gen3000": 2300}


def load_week(name: str):
    """Scenario, patients and staff of one ladder week."""
    if WEEKS[name] is not None:
        return generate_week(WEEKS[name], 1)
    from optimizer.sample import sample_week
    from sim.snapshot import population_at_end

    scenario = load_scenario("baseline")
    patients, staff = sample_week(scenario, 3, week_start=WEEK, population=population_at_end(scenario, 3, WEEK))
    return scenario, patients, staff


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _greedy_row(sc, patients, staff) -> dict:
    t0 = time.perf_counter()
    res = greedy_roster(sc, patients, staff, WEEK)
    wall = time.perf_counter() - t0
    bad = validate_roster(sc, patients, staff, res.roster, WEEK)
    return {
        "method": "greedy",
        "placed": res.summary["placed"],
        "objective": res.summary["objective"],
        "wall_s": round(wall, 2),
        "status": "GREEDY",
        "cpsat_bound": None,
        "lp_bound": None,
        "violations": len(bad),
    }


def _solve_row(sc, patients, staff, limit: float, method: str, workers: int, seed: int) -> dict:
    out = run_solve(
        sc, patients, staff, WEEK, time_limit=limit, workers=workers, seed=seed, full_model_only=method == "cpsat"
    )
    res = outcome_to_result(out)
    s = res.summary
    bad = validate_roster(sc, patients, staff, res.roster, WEEK)
    return {
        "method": method,
        "placed": s["placed"],
        "objective": s["objective"],
        "wall_s": round(s["solve_time"], 2),
        "status": s["status"],
        "cpsat_bound": s["cpsat_bound"],
        "lp_bound": s["lp_bound"],
        "violations": len(bad),
    }


def run(weeks: list[str], limits: list[float], workers: int, seed: int) -> pd.DataFrame:
    rows = []
    for name in weeks:
        sc, patients, staff = load_week(name)
        required = len(build_week(sc, patients, staff, WEEK).requests)
        for limit in limits:
            batch = [_greedy_row(sc, patients, staff)]
            batch += [_solve_row(sc, patients, staff, limit, m, workers, seed) for m in ("cpsat", "ours")]
            bounds = [b for r in batch for b in (r["cpsat_bound"], r["lp_bound"]) if b is not None]
            best = max(bounds) if bounds else None
            for r in batch:
                gap = None if best is None else round(100 * max(0.0, r["objective"] - best) / r["objective"], 2)
                rows.append(
                    {
                        "week": name,
                        "sessions": required,
                        "staff": len(staff),
                        "limit_s": limit,
                        **r,
                        "best_bound": best,
                        "gap_pct": gap,
                        "peak_mb": round(_peak_mb()),
                        "loadavg_1min": round(os.getloadavg()[0], 1),
                    }
                )
                print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += [
        "| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(index=False)
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weeks", nargs="+", choices=list(WEEKS), default=list(WEEKS))
    ap.add_argument("--limits", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    a = ap.parse_args()
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    table = run(a.weeks, a.limits, a.workers, a.seed)
    print(markdown(table))
    print(
        f"\nTotal {time.perf_counter() - t0:.0f} s; 1-minute load average {load0:.1f} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end (2 cores)."
    )
    if a.out:
        table.to_csv(a.out, index=False)


if __name__ == "__main__":
    main()
