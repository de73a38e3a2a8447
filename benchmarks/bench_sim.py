"""Benchmark of the patient-flow model: wall time of an experiment and the model's event rate against bare loops.

    python benchmarks/bench_sim.py                      # baseline, 52 weeks, 100 replications
    python benchmarks/bench_sim.py --replications 20 --weeks 26 --no-dask

Everything is measured in the same run and reported as ratios (the machine is shared and noisy):
- the experiment's wall time serially, with 2 local processes, and on a Dask LocalCluster (2 processes), each
  the fastest of ``--repeats`` interleaved runs, with the CPU seconds of all processes (wall well above
  CPU / cores means other work on the machine took the cores: see the load average printed with it);
- events/s of the model (SimPy events processed per second of one replication, serially), of a bare SimPy
  loop (processes that only wait on timeouts) and of a bare heapq loop (the event list alone, no SimPy);
  ratios model / bare SimPy and bare SimPy / heapq say where the time goes.
The model's events are counted without touching its code: ``simpy.Environment.__init__`` is wrapped to keep
each environment, and after the run ``next(env._eid)`` (SimPy's event-id counter) minus the events still
queued is the number processed.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import logging
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy


@dataclass
class Rate:
    name: str
    events: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("nan")


def best_of(repeats: int, fn: Callable[[], int]) -> tuple[int, float]:
    """(events, the fastest wall time) over ``repeats`` calls: the minimum is the least disturbed by noise."""
    best, events = float("inf"), 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        events = fn()
        best = min(best, time.perf_counter() - t0)
    return events, best


def bare_simpy(n_events: int, n_processes: int = 200, seed: int = 0) -> int:
    """``n_processes`` patients that only wait: each step is one timeout event. Returns events processed."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    per_process = n_events // n_processes
    delays = rng.exponential(1.0, size=(n_processes, per_process)).tolist()

    def patient(env: simpy.Environment, waits: list[float]):
        for w in waits:
            yield env.timeout(w)

    for i in range(n_processes):
        env.process(patient(env, delays[i]))
    env.run()
    return next(env._eid) - len(env._queue)


def bare_heapq(n_events: int, n_processes: int = 200, seed: int = 0) -> int:
    """The event list alone: pop the earliest (time, id, owner), call its callback, push its next time."""
    rng = np.random.default_rng(seed)
    per_process = n_events // n_processes
    delays = rng.exponential(1.0, size=(n_processes, per_process)).tolist()
    queue: list[tuple[float, int, int]] = []
    eid = itertools.count()
    pos = [0] * n_processes
    done = 0

    def callback(owner: int, now: float) -> None:
        k = pos[owner]
        if k < per_process:
            pos[owner] = k + 1
            heapq.heappush(queue, (now + delays[owner][k], next(eid), owner))

    for i in range(n_processes):
        heapq.heappush(queue, (0.0, next(eid), i))
    while queue:
        now, _, owner = heapq.heappop(queue)
        callback(owner, now)
        done += 1
    return done


class EnvironmentSpy:
    """Keeps every SimPy Environment created while active, to count its events afterwards."""

    def __enter__(self) -> EnvironmentSpy:
        self.envs: list[simpy.Environment] = []
        self._orig = simpy.Environment.__init__
        spy = self

        def init(env_self, *a, **k):
            spy._orig(env_self, *a, **k)
            spy.envs.append(env_self)

        simpy.Environment.__init__ = init  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc) -> None:
        simpy.Environment.__init__ = self._orig  # type: ignore[method-assign]

    def processed(self) -> int:
        return sum(next(e._eid) - len(e._queue) for e in self.envs)


def model_rate(scenario, weeks: int, reps: int, seed: int, repeats: int = 3) -> Rate:
    """Events/s of the model, serial, over ``reps`` replications (each counted by its own environment); the
    fastest of ``repeats`` passes."""
    from sim import run_replication

    best: Rate | None = None
    for _ in range(repeats):
        with EnvironmentSpy() as spy:
            t0 = time.perf_counter()
            for r in range(reps):
                run_replication(scenario, r, seed, weeks=weeks)
            secs = time.perf_counter() - t0
        rate = Rate("model (one replication at a time)", spy.processed(), secs)
        best = rate if best is None or rate.seconds < best.seconds else best
    assert best is not None
    return best


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (local worker processes)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def experiment_time(scenario, reps: int, weeks: int, seed: int, executor) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of ``run_experiment`` on ``executor``."""
    from sim import run_experiment

    c0, t0 = cpu_seconds(), time.perf_counter()
    run_experiment(scenario, replications=reps, weeks=weeks, seed=seed, executor=executor)
    return time.perf_counter() - t0, cpu_seconds() - c0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--replications", type=int, default=100)
    ap.add_argument("--weeks", type=int, default=52)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--rate-replications", type=int, default=5, help="replications for the events/s measurement")
    ap.add_argument("--bare-events", type=int, default=400_000)
    ap.add_argument("--repeats", type=int, default=2, help="timings per configuration, interleaved; the fastest counts")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--bare-only", action="store_true", help="only the bare loops (no model)")
    a = ap.parse_args(argv)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # heartbeat noise when a LocalCluster closes

    load0 = os.getloadavg()[0]
    print(
        f"# Python {platform.python_version()}, SimPy {simpy.__version__}, numpy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} cores"
    )
    ev, s = best_of(3, lambda: bare_simpy(a.bare_events))
    simpy_rate = Rate("bare SimPy loop (timeouts only)", ev, s)
    ev, s = best_of(3, lambda: bare_heapq(a.bare_events))
    heap_rate = Rate("bare heapq loop (event list only)", ev, s)
    rates = [simpy_rate, heap_rate]

    walls: list[tuple[str, float, float]] = []
    if not a.bare_only:
        from scenarios import load_scenario
        from sim.executors import ExecutorSpec

        sc = load_scenario(a.scenario)
        rates.insert(0, model_rate(sc, a.weeks, a.rate_replications, a.seed))
        configs = [("serial", ExecutorSpec("serial", 1)), ("2 local processes", ExecutorSpec("processes", 2))]
        if not a.no_dask:
            configs.append(("Dask LocalCluster, 2 processes (incl. start-up)", ExecutorSpec("dask", 2)))
        best: dict[str, tuple[float, float]] = {}
        for _ in range(a.repeats):  # interleaved, so a burst of load on the machine hits every configuration
            for name, ex in configs:
                wall, cpu = experiment_time(sc, a.replications, a.weeks, a.seed, ex)
                if name not in best or wall < best[name][0]:
                    best[name] = (wall, cpu)
        walls = [(name, *best[name]) for name, _ in configs]
    print("\n| event loop | events | seconds | events/s | ratio to bare SimPy |")
    print("|---|---:|---:|---:|---:|")
    for r in rates:
        print(
            f"| {r.name} | {r.events:,} | {r.seconds:.3f} | {r.per_second:,.0f} | {r.per_second / simpy_rate.per_second:.2f} |"
        )
    if walls:
        print(
            f"\n{a.scenario}, {a.weeks} weeks, {a.replications} replications (fastest of {a.repeats}; load average "
            f"{load0:.1f} at start, {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} cores)"
        )
        print("\n| execution | wall s | per replication s | speed-up vs serial | CPU s (all processes) |")
        print("|---|---:|---:|---:|---:|")
        for name, w, cpu in walls:
            print(f"| {name} | {w:.2f} | {w / a.replications:.3f} | {walls[0][1] / w:.2f} | {cpu:.1f} |")
        share = rates[0].events / simpy_rate.per_second / rates[0].seconds
        print(
            f"\nSimPy's own event handling is ~{100 * share:.0f}% of the model's serial time "
            f"({rates[0].events / a.rate_replications:,.0f} events per replication); the rest is the model's work."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
