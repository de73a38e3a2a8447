"""Before / after for our neighbourhood search (optimizer/lns.py, issue 14): the same week, limit and seed solved
by each variant of the search one after the other in one process, with the load average, so that a change is
measured as a ratio on the same machine minutes apart.

    python benchmarks/bench_lns.py --weeks base3 gen1000 --limits 10 60
    python benchmarks/bench_lns.py --weeks gen1000 --limits 60 --variants old lane

Variants: ``old`` is the search before issue 14's work on it (four kinds, plain UCB, no compaction inside
the search); ``lane`` is the current search; the others switch off one part of it, or give the full model a share of
the limit on weeks above SMALL_WEEK (``full30``: 30%, the default before 2026-12-01; see VARIANTS). Every roster is checked by the independent validator.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_roster import WEEK, WEEKS, load_week  # noqa: E402

from optimizer import lns, solve  # noqa: E402
from optimizer.solve import outcome_to_result, run_solve  # noqa: E402
from optimizer.validate import validate_roster  # noqa: E402


@contextmanager
def _patched(module: object, **values: object) -> Iterator[None]:
    """Set module constants for one solve and put them back after."""
    saved = {k: getattr(module, k) for k in values}
    for k, v in values.items():
        setattr(module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(module, k, v)


#: each variant: the module constants it sets for its solve
VARIANTS: dict[str, Callable[[], AbstractContextManager[None]]] = {
    "old": lambda: _patched(
        lns, KINDS=tuple(k for k in lns.KINDS if k not in ("lane", "upgrade")), MIN_SHARE=0.0, COMPACT_ROUNDS=0
    ),
    "no_upgrade": lambda: _patched(lns, KINDS=tuple(k for k in lns.KINDS if k != "upgrade")),
    "lane": lambda: _patched(lns),
    "lane_ucb": lambda: _patched(lns, MIN_SHARE=0.0),
    "lane_nocompact": lambda: _patched(lns, COMPACT_ROUNDS=0),
    "full30": lambda: _patched(solve, FULL_MODEL_SHARE={True: 0.6, False: 0.3}),  # the full model's share before
    "full10": lambda: _patched(solve, FULL_MODEL_SHARE={True: 0.6, False: 0.1}),
    "large_all": lambda: _patched(lns, LARGE_WEEK=0, LARGE_SECONDS=0.0),  # the large-week parts on every week
    "rounds": lambda: _patched(lns, PIPELINED=False),  # wall-clock sub-models in awaited rounds of two (before)
    "nopresolve": lambda: _patched(lns, SUB_PRESOLVE=False),  # sub-models solved without CP-SAT's presolve
    # no inner compaction and no floor (the search on weeks below LARGE_WEEK before 2026-12-01 19:20 UTC)
    "plain": lambda: _patched(lns, COMPACT_ROUNDS=0, MIN_SHARE=0.0),
    "sub08": lambda: _patched(lns, SUB_WALL=0.08),  # wall seconds per sub-model (default lns.SUB_WALL)
    "sub20": lambda: _patched(lns, SUB_WALL=0.2),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weeks", nargs="+", choices=list(WEEKS), default=["base3", "gen1000"])
    ap.add_argument("--limits", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    a = ap.parse_args()
    print("week,limit_s,seed,variant,placed,required,objective,ratio_to_first,wall_s,violations,loadavg_1min")
    for name in a.weeks:
        sc, patients, staff = load_week(name)
        for limit in a.limits:
            for seed in a.seeds:
                first = None
                for v in a.variants:
                    with VARIANTS[v]():
                        out = run_solve(sc, patients, staff, WEEK, time_limit=limit, seed=seed)
                    res = outcome_to_result(out)
                    s = res.summary
                    bad = validate_roster(sc, patients, staff, res.roster, WEEK)
                    first = s["objective"] if first is None else first
                    print(
                        f"{name},{limit:g},{seed},{v},{s['placed']},{s['required']},{s['objective']:.0f},"
                        f"{s['objective'] / first:.3f},{s['solve_time']:.1f},{len(bad)},{os.getloadavg()[0]:.1f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
