"""All of rehabflow's benchmarks from one command, as Markdown tables measured in the same run.

    python benchmarks/bench_all.py            # full: 52 weeks x 100 replications, roster ladder 50..800 at 10 s and 60 s
    python benchmarks/bench_all.py --quick    # minutes, not tens of minutes: 26 weeks x 20 replications, ladder 50..200 at 10 s

1. Event loop: the model's SimPy events per second (one replication at a time) against a bare SimPy loop and a
   bare heapq loop (``benchmarks/bench_sim.py``), as ratios to bare SimPy.
2. Replications per second of ``sim.run_experiment``: serial, 2 local processes, a Dask LocalCluster of 2
   processes (start-up included), as speed-ups against serial.
3. The CP-SAT roster ladder (``benchmarks/bench_roster.py``): sessions placed, gap to the proven bound and
   greedy's sessions placed per instance size.

Each script runs as a subprocess with its own command line (its stable interface), one after the other. The
machine is shared and has 2 cores: read the ratios, not the absolute figures. The output is the body of
docs/dev/benchmarks.md; exit status 1 if a script failed (its last error line is in the output and on stderr).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent


def _run_script(args: list[str]) -> tuple[list[str], str | None]:
    """Run a sibling benchmark script with its own command line (its stable interface); (stdout lines, error)."""
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return [], f"`python benchmarks/{' '.join(args)}` failed (status {done.returncode}): {last}"
    return done.stdout.splitlines(), None


def section_sim(
    scenario: str, weeks: int, reps: int, rate_reps: int, bare_events: int, repeats: int, seed: int, dask: bool
) -> tuple[list[str], str | None]:
    """benchmarks/bench_sim.py: event rates (model, bare SimPy, bare heapq) and experiment wall times serially,
    with 2 local processes and on a Dask LocalCluster; its Markdown as it prints it."""
    args = [
        str(HERE / "bench_sim.py"),
        "--scenario",
        scenario,
        "--weeks",
        str(weeks),
        "--replications",
        str(reps),
        "--rate-replications",
        str(rate_reps),
        "--bare-events",
        str(bare_events),
        "--repeats",
        str(repeats),
        "--seed",
        str(seed),
    ] + ([] if dask else ["--no-dask"])
    lines, error = _run_script(args)
    body = [line for line in lines if not line.startswith("# ")]
    while body and not body[0].strip():
        body.pop(0)
    return body, error


ROSTER_COLUMNS = [
    "week",
    "sessions",
    "staff",
    "limit_s",
    "method",
    "placed",
    "objective",
    "cpsat_bound",
    "lp_bound",
    "best_bound",
    "gap_pct",
    "wall_s",
    "status",
    "violations",
    "peak_mb",
]


def markdown_table(lines: list[str]) -> pd.DataFrame:
    """The last Markdown table in ``lines`` as a DataFrame of strings."""
    block: list[str] = []
    for line in lines:
        if line.startswith("|"):
            block.append(line)
        elif block and not line.startswith("|"):
            block = [] if line.strip() else block
    if len(block) < 2:
        return pd.DataFrame()
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in block]
    return pd.DataFrame(cells[2:], columns=cells[0])


def section_roster(sizes: list[str], limits: list[float]) -> tuple[list[str], str | None]:
    """benchmarks/bench_roster.py's ladder (its Markdown table, key columns) plus CP-SAT's sessions placed over the
    greedy's on the same week (both measured in the same run)."""
    if not (HERE / "bench_roster.py").exists():
        return [], "benchmarks/bench_roster.py is not in this checkout"
    lines, error = _run_script(
        [str(HERE / "bench_roster.py"), "--weeks", *map(str, sizes), "--limits", *(f"{t:g}" for t in limits)]
    )
    if error:
        return [], error
    table = markdown_table(lines)
    if table.empty:
        return [], "bench_roster.py printed no Markdown table"
    cols = [c for c in ROSTER_COLUMNS if c in table.columns]
    if {"placed", "greedy_placed"} <= set(table.columns):
        placed = pd.to_numeric(table["placed"], errors="coerce")
        greedy = pd.to_numeric(table["greedy_placed"], errors="coerce")
        table["placed_vs_greedy"] = (placed / greedy).round(3).astype(str)
        cols.append("placed_vs_greedy")
    out = ["| " + " | ".join(cols) + " |", "|" + "---:|" * len(cols)]
    out += ["| " + " | ".join(str(v) for v in row) + " |" for row in table[cols].itertuples(index=False)]
    return out, None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="26 weeks x 20 replications; ladder 50, 100, 200 at 10 s only")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--no-roster", action="store_true")
    a = ap.parse_args(argv)

    weeks, reps, rate_reps, bare_events, repeats = (26, 20, 3, 200_000, 1) if a.quick else (52, 100, 5, 400_000, 2)
    sizes, limits = (
        (["gen100", "base3"], [10.0]) if a.quick else (["gen100", "base3", "gen1000", "gen3000"], [10.0, 60.0])
    )
    roster_note = (
        f"weeks {', '.join(map(str, sizes))}; CP-SAT alone, our search and the greedy, wall-clock limits "
        f"{', '.join(f'{t:g}' for t in limits)} s"
    )
    started = time.perf_counter()
    load_start = os.getloadavg()[0]
    import numpy  # noqa: E401
    import simpy

    errors: list[str] = []
    sim_lines, error = section_sim(a.scenario, weeks, reps, rate_reps, bare_events, repeats, a.seed, not a.no_dask)
    errors += [error] if error else []
    lines = [
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/bench_all.py{' --quick' if a.quick else ''}`: Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, numpy {numpy.__version__}, {platform.machine()}, {os.cpu_count()} cores "
        "(shared with other work: compare the ratios, not the absolute figures).",
        "",
        "### Event loop and replications (benchmarks/bench_sim.py)",
        "",
        *(sim_lines or [f"({error})"]),
    ]
    if not a.no_roster:
        roster_lines, error = section_roster(sizes, limits)
        errors += [error] if error else []
        lines += [
            "",
            "### Roster ladder, CP-SAT (benchmarks/bench_roster.py)",
            "",
            roster_note + ".",
            "",
            *(roster_lines or [f"({error})"]),
        ]
    load_end = os.getloadavg()[0]
    lines += [
        "",
        f"Total benchmark wall time {time.perf_counter() - started:.0f} s; 1-minute load average "
        f"{load_start:.1f} at the start, {load_end:.1f} at the end (above 2 = other work competed for the "
        "2 cores, which hits the parallel rows hardest).",
    ]
    print("\n".join(lines))
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
