"""Live progress of one roster solve, and a way to stop it early with the best roster found so far.

``SolveProgress`` is what a front end shows while solving (elapsed wall seconds, sessions placed / required,
objective, best bound, gap); ``Stopper`` is set by Ctrl-C, SIGTERM or a Stop button and stops every CP-SAT
solve in flight (``CpSolver.stop_search`` is safe to call from another thread), after which ``solve_roster``
returns the best roster it had, whole. ``Reporter`` keeps the best objective and bound of the run and calls
the front end's callback when either improves. No solver logic here.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SolveProgress:
    """One progress report: ``phase`` is "greedy", "full model", "neighbourhoods", "lane compaction" or "done"."""

    elapsed: float
    placed: int
    required: int
    objective: float
    bound: float | None
    phase: str

    @property
    def gap(self) -> float | None:
        """(objective - bound) / objective, or None before any bound is known."""
        if self.bound is None:
            return None
        return max(0.0, (self.objective - self.bound) / self.objective) if self.objective > 0 else 0.0


ProgressCallback = Callable[[SolveProgress], None]


class Stopper:
    """Stop the solve from another thread (a signal handler, a Stop button): ``stop()`` is idempotent."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._solvers: set[Any] = set()

    @property
    def stopped(self) -> bool:
        return self._event.is_set()

    def stop(self) -> None:
        self._event.set()
        with self._lock:
            solvers = list(self._solvers)
        for solver in solvers:
            solver.stop_search()

    @contextmanager
    def watching(self, solver: Any) -> Iterator[None]:
        """Register ``solver`` while it runs so that ``stop()`` interrupts it (at once if already stopped)."""
        with self._lock:
            self._solvers.add(solver)
        if self.stopped:
            solver.stop_search()
        try:
            yield
        finally:
            with self._lock:
                self._solvers.discard(solver)


@dataclass
class Reporter:
    """The run's best objective and bound; calls ``callback`` when one of them improves (or the phase changes)."""

    required: int
    callback: ProgressCallback | None = None
    t0: float = field(default_factory=time.perf_counter)
    best: float | None = None
    placed: int = 0
    bound: float | None = None
    phase: str = "greedy"
    trace: list[tuple[float, float, float | None]] = field(default_factory=list)  # (wall s, objective, bound)
    first_solution: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def solution(self, objective: float, placed: int, phase: str | None = None) -> None:
        """A roster costing ``objective`` with ``placed`` sessions (reported only when it is the best yet)."""
        with self._lock:
            now = self.elapsed()
            changed = phase is not None and phase != self.phase
            self.phase = phase or self.phase
            if self.first_solution is None:
                self.first_solution = now
            if self.best is None or objective < self.best - 1e-9:
                self.best, self.placed, changed = objective, placed, True
                self.trace.append((now, objective, self.bound))
        if changed:
            self._emit()

    def new_bound(self, bound: float) -> None:
        """A lower bound on the objective (kept only when it is the highest yet)."""
        with self._lock:
            better = self.bound is None or bound > self.bound + 1e-9
            if better:
                self.bound = bound
        if better:
            self._emit()

    def enter(self, phase: str) -> None:
        self.phase = phase
        self._emit()

    def snapshot(self) -> SolveProgress:
        return SolveProgress(
            self.elapsed(),
            self.placed,
            self.required,
            self.best if self.best is not None else 0.0,
            self.bound,
            self.phase,
        )

    def _emit(self) -> None:
        if self.callback is not None and self.best is not None:
            self.callback(self.snapshot())
