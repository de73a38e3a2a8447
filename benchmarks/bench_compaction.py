"""Lane compaction (optimizer/justify.py) on the ladder's weeks: the greedy and the best-insertion start before
and after it, sessions placed, objective and seconds, with the load average (docs/background/roster.md,
"Lane compaction").

    python benchmarks/bench_compaction.py --weeks base3 gen1000 gen3000
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_roster import WEEK, WEEKS, load_week  # noqa: E402

from optimizer.greedy import greedy_assign  # noqa: E402
from optimizer.history import build_history  # noqa: E402
from optimizer.insertion import insertion_assign  # noqa: E402
from optimizer.justify import compact  # noqa: E402
from optimizer.objective import objective_value  # noqa: E402
from optimizer.week import build_week  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weeks", nargs="+", choices=list(WEEKS), default=["base3", "gen1000"])
    a = ap.parse_args()
    print(
        "| week | sessions | start | placed | objective | after: placed | objective | ratio | start s | compaction s | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in a.weeks:
        sc, patients, staff = load_week(name)
        week = build_week(sc, patients, staff, WEEK)
        history = build_history(week, None)
        for label, make in (("greedy", greedy_assign), ("best insertion", insertion_assign)):
            t0 = time.perf_counter()
            start = make(week, history)
            t1 = time.perf_counter()
            after = compact(week, history, start)
            t2 = time.perf_counter()
            before_obj, after_obj = objective_value(week, history, start), objective_value(week, history, after)
            print(
                f"| {name} | {len(week.requests)} | {label} | {len(start)} | {before_obj:.0f} | {len(after)} | "
                f"{after_obj:.0f} | {after_obj / before_obj:.3f} | {t1 - t0:.2f} | {t2 - t1:.2f} | "
                f"{os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
