"""The roster ladder: generated weeks of 50..800 active patients, staff scaled so demand is ~90-110% of
capacity; CP-SAT (2 workers, wall-clock limits) against the greedy and the proven bound.

    python benchmarks/bench_roster.py --sizes 50 100 200 400 800 --limits 10 60 --out docs/roster_bench.csv

Per size and limit: build time, time to first solution, sessions placed / required, objective, best bound,
gap, greedy's sessions placed and objective, whether the roster passes the validator. Wall-clock limits are
used here (not deterministic time) because the question is "how good after 60 s on this machine"; a
reference (the greedy on the same week, measured in the same run) gives the ratio the machine's noise cannot.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from optimizer.greedy import greedy_assign  # noqa: E402
from optimizer.solve import outcome_to_result, run_solve  # noqa: E402
from optimizer.validate import validate_roster  # noqa: E402
from optimizer.history import attach_pins, build_history  # noqa: E402
from optimizer.week import build_week  # noqa: E402
from scenarios import load_scenario, parse_scenario, scenario_to_dict  # noqa: E402

WEEK = dt.date(2026, 11, 30)
PHASE_MIX = {"1": 0.30, "2": 0.20, "3": 0.35, "maintenance": 0.15}  # benchmark assumption
AVAILABILITY = ["", "", "", "Mon-Fri 08:00-13:00", "Mon-Fri 12:00-18:00", "Mon,Wed,Fri 08:00-18:00", "Tue,Thu 08:00-18:00"]
SHIFTS = ["Mon-Fri 08:00-16:00", "Mon-Fri 10:00-18:00"]


def _minimal_generate(n: int, seed: int, scenario):
    """A generated week (used when optimizer.instances is not available)."""
    rng = np.random.default_rng(seed)
    conds = [c.value for c in scenario.demand.condition_mix]
    probs = np.array(list(scenario.demand.condition_mix.values()), dtype=float)
    rows = []
    for i in range(n):
        phase = str(rng.choice(list(PHASE_MIX), p=list(PHASE_MIX.values())))
        ago = int(rng.integers(0, 8))
        rows.append({
            "patient_id": f"P{i:04d}", "condition": str(rng.choice(conds, p=probs / probs.sum())), "phase": phase,
            "availability": str(rng.choice(AVAILABILITY)), "preferred_staff": "", "priority": int(rng.integers(0, 3)),
            "phase_start": (WEEK - dt.timedelta(weeks=ago)).isoformat(),
            "needs_assessment": bool((phase == "1" and ago == 0) or rng.random() < 0.05),
        })
    patients = pd.DataFrame(rows)
    week = build_week(scenario, patients, pd.DataFrame(columns=["staff_id", "role", "availability"]), WEEK)
    r = scenario.rooms
    minutes = {"acupuncture": 0.0, "physiotherapy": 0.0, "assessment": 0.0}
    for req in week.requests:
        minutes[req.session] += req.duration
    per_staff = 8 * 60 * len(week.days)  # each shift in SHIFTS is 8 hours a day
    need = {
        "acupuncturist": minutes["acupuncture"] / r.acupuncture_rooms_per_acupuncturist / per_staff,
        "physiotherapist": minutes["physiotherapy"] / r.pt_patients_per_therapist / per_staff,
        "physician": minutes["assessment"] / per_staff,
    }
    staff = []
    for role, prefix in (("physician", "MD"), ("acupuncturist", "AC"), ("physiotherapist", "PT")):
        for k in range(max(1, round(need[role]))):
            staff.append({"staff_id": f"{prefix}{k + 1}", "role": role, "availability": SHIFTS[k % 2]})
    staff = pd.DataFrame(staff)
    counts = staff["role"].value_counts()
    data = scenario_to_dict(scenario)
    data["rooms"]["acupuncture_rooms"] = int(counts["acupuncturist"] * r.acupuncture_rooms_per_acupuncturist)
    data["rooms"]["gym_stations"] = int(counts["physiotherapist"] * r.pt_patients_per_therapist)
    data["rooms"]["consultation_rooms"] = int(counts["physician"])
    load = {role: need[role] / counts[role] for role in need}
    return parse_scenario(data, "bench"), patients, staff, load


def _load(scenario, patients, staff) -> dict[str, float]:
    """Demand / capacity per role in practitioner-minutes (k sessions at once for acupuncture and PT)."""
    week = build_week(scenario, patients, staff, WEEK)
    r = scenario.rooms
    k = {"acupuncture": r.acupuncture_rooms_per_acupuncturist, "physiotherapy": r.pt_patients_per_therapist, "assessment": 1}
    role = {"acupuncture": "acupuncturist", "physiotherapy": "physiotherapist", "assessment": "physician"}
    demand = {v: 0.0 for v in role.values()}
    for req in week.requests:
        demand[role[req.session]] += req.duration / k[req.session]
    cap = {v: sum(b - a for info in week.staff.values() if v in info.roles for a, b in info.windows) for v in role.values()}
    return {v: demand[v] / cap[v] if cap[v] else float("nan") for v in role.values()}


def generate(n: int, seed: int):
    """opt-io's optimizer.instances.generate_week when present, else the minimal generator above."""
    try:
        from optimizer.instances import generate_week
    except ImportError:
        return _minimal_generate(n, seed, load_scenario("baseline"))
    sc, patients, staff = generate_week(n, seed)
    return sc, patients, staff, _load(sc, patients, staff)


def run(sizes, limits, seed, workers, mode):
    rows = []
    for n in sizes:
        sc, patients, staff, load = generate(n, seed)
        t0 = time.perf_counter()
        week, pins = attach_pins(build_week(sc, patients, staff, WEEK), None)
        g = greedy_assign(week, build_history(week, None), pins)
        greedy_time = time.perf_counter() - t0
        for limit in limits:
            out = run_solve(sc, patients, staff, WEEK, wall_time_limit=limit, time_limit=10 * limit, workers=workers, seed=seed,
                            reproducible=mode == "reproducible")
            res = outcome_to_result(out)
            bad = validate_roster(sc, patients, staff, res.roster, WEEK)
            s = res.summary
            rows.append({
                "mode": mode, "patients": n, "staff": len(staff), "load_acu": round(load["acupuncturist"], 2), "load_pt": round(load["physiotherapist"], 2),
                "limit_s": limit, "build_s": round(s["build_time"], 2), "first_solution_s": None if s["first_solution_time"] is None else round(s["first_solution_time"], 2),
                "solve_s": round(s["solve_time"], 1), "required": s["required"], "placed": s["placed"], "greedy_placed": len(g),
                "objective": s["objective"], "best_bound": s["best_bound"], "gap_pct": None if s["gap"] is None else round(100 * s["gap"], 2),
                "greedy_objective": s["greedy_objective"], "greedy_s": round(greedy_time, 2), "status": s["status"], "violations": len(bad),
                "loadavg_1min": round(os.getloadavg()[0], 1),
            })
            print(pd.DataFrame(rows[-1:]).to_string(index=False, header=len(rows) == 1), flush=True)
    return pd.DataFrame(rows)


def _markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400, 800])
    ap.add_argument("--limits", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--mode", choices=["reproducible", "fast"], default="reproducible",
                    help="reproducible: interleaved workers (what solve_roster does by default); fast: free workers")
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    table = run(a.sizes, a.limits, a.seed, a.workers, a.mode)
    print(_markdown(table))
    if a.out:
        table.to_csv(a.out, index=False)


if __name__ == "__main__":
    main()
