"""CPU seconds of one baseline replication: the working tree's ``sim`` against a git revision's, in one run.

    python benchmarks/bench_replication_cpu.py --against 0fac890          # 5 replications x best of 3, 3 rounds
    python benchmarks/bench_replication_cpu.py --against HEAD~1 --rounds 5

The revision's ``sim/`` is exported (``git archive``) to a temporary directory and put first on the path of a
child process; the rest (scenarios, SimPy, numpy) is shared. Rounds alternate A (the revision) and B (the
working tree) so that both see the same machine load; each figure is ``time.process_time()`` over
``--reps`` replications (seeds 0..reps-1 of ``--seed``), the fastest of ``--repeats``. The ratio B / A of the
fastest figures is printed with the load average (the machine is shared: compare ratios, not seconds).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import sys, time
from scenarios import load_scenario
import sim
from sim.runner import run_replication
sc = load_scenario(sys.argv[1])
weeks, reps, repeats, seed = (int(x) for x in sys.argv[2:6])
run_replication(sc, 0, seed, weeks=weeks)  # imports and first-call costs out of the timing
best = float("inf")
for _ in range(repeats):
    t = time.process_time()
    for r in range(reps):
        run_replication(sc, r, seed, weeks=weeks)
    best = min(best, (time.process_time() - t) / reps)
print(best, sim.__file__)
"""


def export_sim(rev: str, dest: Path) -> None:
    """``git archive REV sim`` unpacked into ``dest``."""
    tar = dest / "sim.tar"
    with open(tar, "wb") as f:
        subprocess.run(["git", "-C", str(ROOT), "archive", rev, "sim"], stdout=f, check=True)
    with tarfile.open(tar) as t:
        t.extractall(dest, filter="data")


def measure(path: Path, args: argparse.Namespace) -> float:
    """CPU seconds per replication with ``path`` first on the child's module path."""
    env = dict(os.environ, PYTHONPATH=str(path))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            CHILD,
            args.scenario,
            str(args.weeks),
            str(args.reps),
            str(args.repeats),
            str(args.seed),
        ],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert Path(out[1]).resolve().is_relative_to(path.resolve()), f"imported {out[1]}, not from {path}"
    return float(out[0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--against", required=True, help="git revision to compare the working tree with")
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20261123)
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        export_sim(args.against, Path(tmp))
        a, b = [], []
        for i in range(args.rounds):
            a.append(measure(Path(tmp), args))
            b.append(measure(ROOT, args))
            print(f"round {i + 1}: A ({args.against}) {a[-1]:.4f} s/rep, B (working tree) {b[-1]:.4f} s/rep")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    print(f"fastest: A {min(a):.4f} CPU s/rep, B {min(b):.4f} CPU s/rep, ratio B/A {min(b) / min(a):.3f}")


if __name__ == "__main__":
    main()
