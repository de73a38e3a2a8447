"""Where a roster's gap comes from: the objective's terms of the greedy, of one solve and of the HiGHS bound's LP
solution, side by side, with the capacity arithmetic of the week (docs/background/roster.md, "Where the gap
comes from").

    python benchmarks/diag_roster.py --week base3 --limit 300      # one 5-minute solve: where ours plateaus
    python benchmarks/diag_roster.py --week gen1000 --limit 0      # greedy and LP only
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_roster import WEEK, WEEKS, load_week  # noqa: E402

from optimizer import bound as lpb  # noqa: E402
from optimizer.greedy import greedy_assign  # noqa: E402
from optimizer.history import build_history  # noqa: E402
from optimizer.objective import SCALE, objective_terms, scaled  # noqa: E402
from optimizer.occupancy import staff_units  # noqa: E402
from optimizer.solve import run_solve  # noqa: E402
from optimizer.week import ROLE_OF_SESSION, build_week  # noqa: E402


def capacity(week) -> None:
    """Unit-minutes of demand per kind against those of the practitioners holding its role."""
    cap, units = staff_units(week)
    demand: Counter = Counter()
    for r in week.requests:
        demand[r.session] += r.duration * units[r.session]
    for kind, need in sorted(demand.items()):
        role = ROLE_OF_SESSION[kind]
        supply = sum(cap * sum(b - a for a, b in i.windows) for i in week.staff.values() if role in i.roles)
        print(f"capacity {kind}: demand {need} unit-min, {role}s' supply {supply} (shared by their roles)")


def lp_terms(week, history) -> dict[str, float]:
    """The LP optimum split into the objective's terms."""
    cost, a, b, ub, constant, _ = lpb._build_lp(week, history)
    solver = lpb.BoundSolver()
    h_value = solver._run(cost, a, b, ub, None)
    x = np.array(solver._highs.getSolution().col_value)
    cols, per_class, costs, _, n = lpb._columns(week, history, lpb._classes(week, history))
    unsched, soft = float(constant), 0.0
    for (reqs, _), mine in zip(lpb._classes(week, history), per_class, strict=True):
        for r, col in zip(reqs, mine, strict=True):
            if col is not None:
                seg = slice(col.first, col.first + len(col.starts))
                unsched -= scaled(r.penalty) * x[seg].sum()
                soft += (cost[seg] + scaled(r.penalty)) @ x[seg]
    w = week.scenario.roster.weights
    rest = x[n:] * cost[n:]
    return {
        "placed": round(float(x[:n].sum()), 1),
        "unscheduled": round(unsched / SCALE, 2),
        "per-session soft terms": round(float(soft) / SCALE, 2),
        "visits": round(float(rest[cost[n:] == scaled(w.fewer_trips)].sum()) / SCALE, 2),
        "balance": round(float(rest[cost[n:] == scaled(w.workload_balance)].sum()) / SCALE, 2),
        "total": round(((h_value or 0.0) + constant) / SCALE, 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--week", choices=list(WEEKS), default="base3")
    ap.add_argument("--limit", type=float, default=0.0, help="wall seconds of one solve (0: none)")
    a = ap.parse_args()
    sc, patients, staff = load_week(a.week)
    week = build_week(sc, patients, staff, WEEK)
    history = build_history(week, None)
    print(f"{a.week}: {len(week.requests)} sessions, load average {os.getloadavg()[0]:.1f}")
    capacity(week)
    g = greedy_assign(week, history)
    print("greedy", len(g), {k: v / SCALE for k, v in objective_terms(week, history, g).items()})
    print("LP", lp_terms(week, history))
    if a.limit > 0:
        out = run_solve(sc, patients, staff, WEEK, time_limit=a.limit, workers=2, seed=0)
        terms = {k: v / SCALE for k, v in objective_terms(week, history, out.assignment).items()}
        print(f"ours {a.limit:g} s", len(out.assignment), terms, "total", sum(terms.values()))
        step = max(1, len(out.trace) // 20)
        print(
            "trace (wall s, objective, bound):", [tuple(round(v, 1) if v else v for v in t) for t in out.trace[::step]]
        )


if __name__ == "__main__":
    main()
