"""Adaptive large-neighbourhood search over CP-SAT sub-models (fix-and-optimise), two at a time.

The full model of a large week is slow to search on 2 cores (each of CP-SAT's own neighbourhoods reloads
thousands of optional intervals), so we search it ourselves: free the sessions of a few patients, keep every
other placement as fixed occupancy (``build_model(free=..., fixed=...)``), solve that small model with one
CP-SAT worker, and keep the result when the whole roster costs less and places no fewer sessions. As the
CP-SAT primer's LNS chapter describes (d-krupke/cpsat-primer, "Large Neighborhood Search"):

- **neighbourhoods** of six kinds: a *day* (patients seen that day, with patients left unscheduled who could
  come), a *practitioner* (their patients, with unscheduled ones needing their role), a *time window* (patients
  in a 3-hour window of one day, with unscheduled ones available then), a *patient group* (unscheduled
  patients with random others) and a *lane* (lane-day compaction: a practitioner's sessions between two spare
  runs of one day, with unscheduled patients who fit there; shifting those sessions merges the spare runs into
  room for one more session, which no neighbourhood of a few patients can do on a saturated day) and an
  *upgrade* (an unplaced session drawn by its penalty, one practitioner-day it could use, and patients whose
  sessions on the next days cost less to leave out);
- every :data:`COMPACT_ROUNDS` rounds the best roster goes through lane compaction (:mod:`optimizer.justify`);
- **size adapted** per kind: a sub-model solved to optimality within its limit grows (+15%), one cut short
  shrinks (-10%), between :data:`MIN_SIZE` and :data:`MAX_SIZE` patients;
- **the kind chosen by a bandit** (UCB1 on the improvement per deterministic second, decayed), so the kinds
  that pay on this week are drawn more often, each kind at least :data:`MIN_SHARE` of the time;
- **two sub-models at once** on disjoint patients (CP-SAT releases the GIL, so two solves use both cores).
  In the reproducible mode they go in rounds: both awaited, merged in a fixed order, the second kept only if
  the rooms and practitioners it uses are still free after the first (a per-slot capacity check: the patients
  differ, so only capacity can clash). In wall-clock mode they are **pipelined** (``_Search.run``): each result
  is merged as it arrives (with the same check when the roster changed since it was drawn) and the next
  neighbourhood is drawn and built at once, so building one (Python, holding the interpreter) overlaps the
  other's solve instead of both waiting for the slower of a pair.

Reproducible: the neighbourhoods come from a seeded generator, each sub-model stops on CP-SAT's deterministic
time with one worker, the pair is awaited and merged in order and the bandit is paid in deterministic time, so
with ``wall_limit=None`` the same inputs give the same roster. With a wall-clock limit the sub-models get wall
seconds too (faster, not reproducible).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import numpy as np
from ortools.sat.python import cp_model

from .history import History, Pin
from .justify import compact
from .model import build_model
from .objective import objective_value
from .occupancy import room_capacity, staff_units
from .progress import Reporter, Stopper
from .week import DAY, ROLE_OF_SESSION, ROOM_OF_SESSION, Request, Week, candidate_starts

Assignment = dict[int, tuple[int, str]]

#: search settings (not model parameters). Sizes in patients: 10 was the best fixed size of 6/10/25/40 on the
#: 400-patient week (docs/background/roster.md); the adaptive size moves from there. SUB_TIME deterministic seconds per
#: sub-model in the reproducible mode (0.1: 1953 against 0.2: 2059 at 400 patients, 1 + 9 dtime), SUB_WALL wall
#: seconds otherwise (base3, 10 s, seeds 0-2, load ~2: 0.5 s 2486 mean, 0.25 s 2416, 0.12 s 2347, 0.06 s 2476;
#: at 60 s 0.12 and 0.5 tie on base3 (2140 / 2149) and at 1,000 sessions (4961 / 4970)).
KINDS = ("day", "practitioner", "window", "patients", "lane", "upgrade")
START_SIZE = 10
MIN_SIZE = 4
MAX_SIZE = 80
GROW, SHRINK = 1.15, 0.9
SUB_TIME = 0.1
SUB_WALL = 0.12
WINDOW_MINUTES = 180
#: CP-SAT's presolve on each sub-model. Without it (bench_lns variant nopresolve, 2026-12-01, load 1.8-2.3):
#: base3 10 s x0.989 (seeds 0-5, 4 of 6 better), 1,000 sessions 60 s x0.991, 3,000 sessions 60 s x1.028 (one
#: seed each): no clear gain, so it stays on. Search setting.
SUB_PRESOLVE = True
#: lane-day compaction (``_by_lane``) on the 1,000-session week, lane kind alone, 30 s from the best-insertion
#: start: sub-models of 0.12 / 0.3 / 0.6 / 1.2 wall s placed 943 / 955 / 954 / 945 (the segment must shift a
#: whole run of sessions at once, which a short limit cuts off), so that kind gets SUB_SCALE x the limit.
SUB_SCALE = {"lane": 2.5, "upgrade": 5.0}
#: each kind is drawn at least this share of the time (a kind whose first tries failed by bad luck would
#: otherwise never be tried again under UCB once another kind pays)
MIN_SHARE = 0.05
#: every this many rounds the best roster goes through lane compaction (optimizer.justify: left / right
#: justification of each practitioner's day, then insertion of the unscheduled); accepted sub-models leave new
#: fragments that it merges (0: never)
COMPACT_ROUNDS = 25
LANE_MIN_WAITING = 2  # a lane neighbourhood always brings at least this many waiting patients
#: the lane and upgrade kinds are used on weeks of at least LARGE_WEEK sessions only (so were the 5% floor and
#: the compaction inside the search until 2026-12-01): on the 444-session baseline week at 10 s all four cost
#: 4% (seeds 0-9, load 3.6-5.7:
#: mean 2436-2456 against 2358-2366; at 60 s a tie, 2084 against 2093), on the 999-session week they pay
#: (docs/background/roster.md, "Lane-day compaction"); likewise at short limits (999 sessions, 10 s, seeds
#: 0-2, load 2-3: 1.044 / 1.005 / 1.008 of the search without them), so the search must also have
#: LARGE_SECONDS (wall seconds, or deterministic ones when reproducible). Search settings.
#: The floor and the compaction alone (not the two kinds) pay on weeks below LARGE_WEEK, now that the search
#: is pipelined: base3 at 10 s, seeds 0-5, mean 2126 against 2147 (x0.990, 5 of 6 better; 2026-12-01 19:20 UTC,
#: load 1.4-2.1; bench_lns variant plain is the search without them), so they are left out only on large weeks
#: searched briefly (at 60 s a tie: 2062 / 2077 against 2063 / 2063, seeds 0-1).
LARGE_ONLY = ("lane", "upgrade")
LARGE_WEEK = 700
LARGE_SECONDS = 15.0
UPGRADE_MIN_CHEAPER = 4  # an upgrade neighbourhood frees at least this many patients with cheaper sessions
MIN_DTIME = 0.005  # each sub-model is charged at least this (a trivial one reports ~0 and the loop must end)
UCB_C = 0.5  # exploration weight of the bandit (rewards are scaled to [0, 1])
DECAY = 0.3  # weight of the newest reward in each kind's running mean


@dataclass
class _Arm:
    """One kind of neighbourhood: its current size and its bandit statistics."""

    size: float = START_SIZE
    tries: int = 0
    reward: float = 0.0


@dataclass
class _Sub:
    """One sub-model's outcome: the patients it freed, their new placements, whether it was solved to
    optimality, and the deterministic time it used."""

    kind: str
    patients: list[str]
    free: set[int]
    placed: Assignment | None
    optimal: bool
    dtime: float


@dataclass
class _State:
    """The search's best roster and the facts the neighbourhoods are drawn from."""

    week: Week
    history: History
    movable: list[str]
    best: Assignment
    best_obj: float
    kinds: tuple[str, ...] = KINDS
    large: bool = False
    compacting: bool = False  # the 5% floor and the compaction inside the search (see LARGE_WEEK)
    arms: dict[str, _Arm] = field(default_factory=dict)
    iterations: int = 0
    rounds: int = 0
    accepted: int = 0
    compactions: int = 0
    dtime: float = 0.0

    starts: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    movable_set: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.movable_set = set(self.movable)
        self.arms = {k: _Arm() for k in self.kinds}

    def unplaced(self) -> list[str]:
        return [p for p in self.movable if any(r.rid not in self.best for r in self.week.by_patient[p])]

    def candidates(self, req: Request) -> dict[str, list[int]]:
        """``candidate_starts`` of ``req``, computed once per search."""
        if req.rid not in self.starts:
            self.starts[req.rid] = candidate_starts(self.week, req)
        return self.starts[req.rid]


# ------------------------------------------------------------------------------------------ neighbourhoods
def _sample(rng: np.random.Generator, pool: list[str], k: int, taken: set[str]) -> list[str]:
    pool = [p for p in pool if p not in taken]
    if not pool or k <= 0:
        return []
    return [str(x) for x in rng.choice(pool, size=min(k, len(pool)), replace=False)]


def _fill(
    rng: np.random.Generator, st: _State, near: list[str], waiting: list[str], size: int, exclude: set[str]
) -> list[str]:
    """Half the neighbourhood from patients left partly unscheduled who could use it, the rest from those
    placed in it, topped up at random."""
    take = _sample(rng, waiting, size // 2, exclude)
    take += _sample(rng, near, size - len(take), exclude | set(take))
    take += _sample(rng, st.movable, size - len(take), exclude | set(take))
    return take


def _available_on(week: Week, pid: str, lo: int, hi: int) -> bool:
    return any(a < hi and b > lo for a, b in week.patients[pid].windows)


def _by_day(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    d = int(rng.choice(st.week.days))
    near = sorted({st.week.requests[rid].patient_id for rid, (t, _) in st.best.items() if t // DAY == d})
    waiting = [p for p in st.unplaced() if _available_on(st.week, p, d * DAY, (d + 1) * DAY)]
    return _fill(rng, st, near, waiting, size, exclude)


def _by_practitioner(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    s = str(rng.choice(sorted(st.week.staff)))
    roles = st.week.staff[s].roles
    near = sorted({st.week.requests[rid].patient_id for rid, (_, x) in st.best.items() if x == s})
    waiting = [
        p
        for p in st.unplaced()
        if any(r.rid not in st.best and ROLE_OF_SESSION[r.session] in roles for r in st.week.by_patient[p])
    ]
    return _fill(rng, st, near, waiting, size, exclude)


def _by_window(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    w = st.week
    d = int(rng.choice(w.days))
    start = int(rng.integers(w.open_minute, max(w.open_minute + 1, w.close_minute - WINDOW_MINUTES + 1)))
    lo, hi = d * DAY + start, d * DAY + start + WINDOW_MINUTES
    near = sorted(
        {w.requests[rid].patient_id for rid, (t, _) in st.best.items() if t < hi and t + w.requests[rid].duration > lo}
    )
    waiting = [p for p in st.unplaced() if _available_on(w, p, lo, hi)]
    return _fill(rng, st, near, waiting, size, exclude)


def _by_patients(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    return _fill(rng, st, [], st.unplaced(), size, exclude)


# ------------------------------------------------------------------------------------------ lane-day compaction
@dataclass(frozen=True)
class _Gap:
    """A maximal run of slots ``[lo, hi)`` (minutes of the week) where a practitioner has spare capacity;
    ``idle``: the spare share-slots in it (capacity minus load, summed over its slots)."""

    lo: int
    hi: int
    idle: int


def _loads(st: _State) -> dict[tuple[str, int], dict[int, int]]:
    """Each practitioner's load (capacity shares) per slot of each day in the best roster, in one pass."""
    w, (_, units) = st.week, staff_units(st.week)
    load: dict[tuple[str, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for rid, (t, x) in st.best.items():
        req = w.requests[rid]
        mine = load[x, t // DAY]
        for k in range(t, t + req.duration, w.slot):
            mine[k] += units[req.session]
    return load


def _idle_gaps(week: Week, s: str, d: int, load: dict[int, int]) -> list[_Gap]:
    """The practitioner's spare runs on day ``d``, in time order, inside their hours."""
    cap, _ = staff_units(week)
    gaps: list[_Gap] = []
    for a, b in week.staff[s].windows:
        if a // DAY != d:
            continue
        run: list[int] = []
        for k in range(a, b, week.slot):
            if load.get(k, 0) < cap:
                run.append(cap - load.get(k, 0))
                continue
            if run:
                gaps.append(_Gap(k - week.slot * len(run), k, sum(run)))
            run = []
        if run:
            gaps.append(_Gap(b - week.slot * len(run), b, sum(run)))
    return gaps


def _fits(st: _State, req: Request, s: str, lo: int, hi: int) -> bool:
    """Whether ``req`` has a candidate start with ``s`` inside ``[lo, hi)``."""
    return any(lo <= t and t + req.duration <= hi for t in st.candidates(req).get(s, ()))


def _waiting_for(st: _State, s: str, lo: int, hi: int, exclude: set[str]) -> list[str]:
    """Patients with an unplaced session that ``s`` could give inside ``[lo, hi)``."""
    roles, w = st.week.staff[s].roles, st.week
    out = []
    for p in st.unplaced():
        if p in exclude:
            continue
        reqs = [r for r in w.by_patient[p] if r.rid not in st.best and ROLE_OF_SESSION[r.session] in roles]
        if any(_fits(st, r, s, lo, hi) for r in reqs):
            out.append(p)
    return out


def _segments(gaps: list[_Gap], need: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` spans from one spare run to the next whose spare share-slots together hold a session of
    ``need`` share-slots: shifting the sessions between them merges the two runs into room for one more."""
    return [(g.lo, h.hi) for g, h in zip(gaps, gaps[1:], strict=False) if g.idle + h.idle >= need]


def _lane_targets(st: _State) -> list[tuple[str, int, int, int]]:
    """(practitioner, day, lo, hi) of every segment some unplaced session of the practitioner's roles could use."""
    w, (_, units) = st.week, staff_units(st.week)
    waiting = [r for p in st.unplaced() for r in w.by_patient[p] if r.rid not in st.best]
    loads = _loads(st)
    out = []
    for s in sorted(w.staff):
        mine = [r for r in waiting if st.candidates(r).get(s)]
        if not mine:
            continue
        need = min(units[r.session] * r.duration // w.slot for r in mine)
        for d in w.days:
            for lo, hi in _segments(_idle_gaps(w, s, d, loads.get((s, d), {})), need):
                if any(_fits(st, r, s, lo, hi) for r in mine):
                    out.append((s, d, lo, hi))
    return out


def _by_lane(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    """Lane-day compaction: a practitioner's sessions between two spare runs of one day (all of them: shifting
    them is what merges the runs) with patients left unscheduled who could take the room it makes; a
    practitioner-day of their own patients when no segment qualifies."""
    targets = _lane_targets(st)
    if not targets:
        return _by_practitioner(rng, st, size, exclude)
    s, d, lo, hi = targets[int(rng.integers(len(targets)))]
    w = st.week
    near = sorted(
        {
            w.requests[rid].patient_id
            for rid, (t, x) in st.best.items()
            if x == s and t // DAY == d and t < hi and t + w.requests[rid].duration > lo
        }
        - exclude
    )
    waiting = _waiting_for(st, s, lo, hi, exclude | set(near))
    return near + _sample(rng, waiting, max(LANE_MIN_WAITING, size - len(near)), set())


# ------------------------------------------------------------------------------------------ upgrade
def _draw_waiting(rng, st: _State, exclude: set[str]) -> Request | None:
    """An unplaced session with some candidate start, drawn with probability proportional to its penalty."""
    w = st.week
    waiting = [
        r
        for p in st.unplaced()
        if p not in exclude
        for r in w.by_patient[p]
        if r.rid not in st.best and st.candidates(r)
    ]
    if not waiting:
        return None
    weights = np.array([r.penalty for r in waiting], dtype=float) + 1e-9
    return waiting[int(rng.choice(len(waiting), p=weights / weights.sum()))]


def _blocking_day(rng, st: _State, pid: str) -> tuple[str, int] | None:
    """A practitioner and a day one of ``pid``'s sessions could have (role, then practitioner, then day drawn)."""
    w = st.week
    reqs = w.by_patient[pid]
    roles = sorted({ROLE_OF_SESSION[r.session] for r in reqs})
    role = roles[int(rng.integers(len(roles)))]
    options = sorted(
        {(s, t // DAY) for r in reqs for s, ts in st.candidates(r).items() if role in w.staff[s].roles for t in ts}
    )
    return options[int(rng.integers(len(options)))] if options else None


def _by_upgrade(rng, st: _State, size: int, exclude: set[str]) -> list[str]:
    """Upgrade: an unplaced session drawn by its penalty, every patient one practitioner who could serve its
    patient sees on one day (to make room in a saturated day), and patients whose placed sessions on that day or
    the next few cost less to leave out, on the roles that patient needs (to give up their place): on a
    saturated week a high-penalty session waits behind low-penalty ones (a phase-1 acupuncture whose intake
    could only be had on Thursday)."""
    req = _draw_waiting(rng, st, exclude)
    if req is None:
        return _by_patients(rng, st, size, exclude)
    w, pid = st.week, req.patient_id
    where = _blocking_day(rng, st, pid)
    if where is None:
        return _by_patients(rng, st, size, exclude)
    s, d = where
    near = sorted({w.requests[rid].patient_id for rid, (t, x) in st.best.items() if x == s and t // DAY == d})
    near = [p for p in near if p not in exclude and p != pid]
    roles = {ROLE_OF_SESSION[r.session] for r in w.by_patient[pid]}
    spread = w.timing.min_days_between_same_type  # the patient's sessions that day and the next ones
    cheaper = sorted(
        {
            w.requests[rid].patient_id
            for rid, (t, x) in st.best.items()
            if w.requests[rid].penalty < req.penalty and roles & w.staff[x].roles and 0 <= t // DAY - d <= spread
        }
    )
    taken = exclude | set(near) | {pid}
    return [pid] + near + _sample(rng, cheaper, max(UPGRADE_MIN_CHEAPER, size - len(near) - 1), taken)


PICK = {
    "day": _by_day,
    "practitioner": _by_practitioner,
    "window": _by_window,
    "patients": _by_patients,
    "lane": _by_lane,
    "upgrade": _by_upgrade,
}


# ------------------------------------------------------------------------------------------ bandit
def _is_large(week: Week, seconds: float) -> bool:
    """Whether the :data:`LARGE_ONLY` kinds are used: a week of at least :data:`LARGE_WEEK` sessions searched
    for at least :data:`LARGE_SECONDS` (wall, or deterministic). The floor and the inner compaction are used
    then and on every week below :data:`LARGE_WEEK`."""
    return len(week.requests) >= LARGE_WEEK and seconds >= LARGE_SECONDS


def _kinds(large: bool) -> tuple[str, ...]:
    """The kinds searched: :data:`LARGE_ONLY` ones only when ``large`` (all of :data:`KINDS` if nothing else
    is left)."""
    mine = tuple(k for k in KINDS if large or k not in LARGE_ONLY)
    return mine or KINDS


def _choose_kind(st: _State) -> str:
    """UCB1: the best mean reward (scaled by the best of all kinds) plus an exploration bonus; untried first."""
    for kind in st.kinds:
        if st.arms[kind].tries == 0:
            return kind
    total = sum(a.tries for a in st.arms.values())
    for kind in st.kinds:
        if st.arms[kind].tries < (MIN_SHARE if st.compacting else 0) * total:
            return kind
    top = max(a.reward for a in st.arms.values()) or 1.0
    return max(st.kinds, key=lambda k: st.arms[k].reward / top + UCB_C * math.sqrt(math.log(total) / st.arms[k].tries))


def _pay(st: _State, sub: _Sub, gain: float) -> None:
    """Reward the kind with the gain per deterministic second; adapt its size to how the sub-model went."""
    arm = st.arms[sub.kind]
    arm.tries += 1
    arm.reward = (1 - DECAY) * arm.reward + DECAY * gain / max(sub.dtime, 1e-3)
    arm.size = min(arm.size * GROW, MAX_SIZE) if sub.optimal else max(arm.size * SHRINK, MIN_SIZE)


# ------------------------------------------------------------------------------------------ sub-models
@dataclass(frozen=True)
class _Limits:
    """Per sub-model: deterministic seconds (reproducible) or wall seconds; the seed."""

    seed: int
    sub_time: float | None
    sub_wall: float | None


def _solve_sub(
    st: _State,
    pins: list[Pin],
    kind: str,
    pids: list[str],
    lim: _Limits,
    it: int,
    stopper: Stopper,
    base: Assignment | None = None,
) -> _Sub:
    """Free ``pids``' sessions, fix the rest of ``base`` (the best roster when drawn; by default the best now),
    solve with one worker."""
    week = st.week
    base = st.best if base is None else base
    free = {r.rid for p in pids for r in week.by_patient[p]}
    fixed = {rid: v for rid, v in base.items() if rid not in free}
    rm = build_model(week, st.history, pins, free=free, fixed=fixed)
    rm.hint(base)
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = 1
    prm.random_seed = lim.seed + it
    if lim.sub_time is not None:
        prm.max_deterministic_time = lim.sub_time
    if lim.sub_wall is not None:
        prm.max_time_in_seconds = lim.sub_wall
    prm.cp_model_probing_level = 0
    prm.symmetry_level = 0
    prm.cp_model_presolve = SUB_PRESOLVE
    prm.catch_sigint_signal = False
    with stopper.watching(solver):
        status = solver.solve(rm.model)
    placed = rm.assignment(solver) if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    return _Sub(kind, pids, free, placed, status == cp_model.OPTIMAL, solver.deterministic_time)


def capacity_ok(week: Week, assignment: Assignment) -> bool:
    """Every practitioner and room type within capacity at every slot (the only rules two neighbourhoods on
    different patients can break together)."""
    cap, units = staff_units(week)
    rcap = room_capacity(week)
    staff: dict[tuple[str, int], int] = defaultdict(int)
    rooms: dict[tuple[str, int], int] = defaultdict(int)
    for rid, (t, s) in assignment.items():
        req = week.requests[rid]
        room = ROOM_OF_SESSION[req.session]
        for k in range(t // week.slot, (t + req.duration) // week.slot):
            staff[s, k] += units[req.session]
            rooms[room, k] += 1
            if staff[s, k] > cap or rooms[room, k] > rcap[room]:
                return False
    return True


def _merge(st: _State, sub: _Sub, check: bool) -> float:
    """Apply ``sub`` to the best roster if it costs less and places no fewer sessions; returns the gain."""
    if sub.placed is None:
        return 0.0
    cand = {rid: v for rid, v in st.best.items() if rid not in sub.free}
    cand.update(sub.placed)
    if len(cand) < len(st.best) or (check and not capacity_ok(st.week, cand)):
        return 0.0
    obj = objective_value(st.week, st.history, cand)
    if obj >= st.best_obj - 1e-9:
        return 0.0
    gain = st.best_obj - obj
    st.best, st.best_obj, st.accepted = cand, obj, st.accepted + 1
    return gain


def _pair(rng: np.random.Generator, st: _State, parallel: int) -> list[tuple[str, list[str]]]:
    """``parallel`` neighbourhoods on disjoint patients, each of a kind the bandit picks."""
    out: list[tuple[str, list[str]]] = []
    taken: set[str] = set()
    for _ in range(parallel):
        kind = _choose_kind(st)
        pids = PICK[kind](rng, st, int(round(st.arms[kind].size)), taken)
        pids = [p for p in pids if p in st.movable_set]  # a pinned patient's sessions stay where they are
        if pids:
            out.append((kind, pids))
            taken.update(pids)
    return out


def improve(
    week: Week,
    history: History,
    pins: list[Pin],
    assignment: Assignment,
    *,
    seed: int,
    budget: float,
    wall_limit: float | None = None,
    guard: float | None = None,
    parallel: int = 2,
    reporter: Reporter | None = None,
    stopper: Stopper | None = None,
) -> tuple[Assignment, dict]:
    """Improve ``assignment`` for ``budget`` deterministic seconds of sub-models, or ``wall_limit`` wall seconds
    (then each sub-model gets wall seconds, :data:`SUB_WALL`, not deterministic ones). ``guard``: wall seconds
    after which even a deterministic search stops (a very slow machine). Each better roster goes to
    ``reporter``; ``stopper`` ends the search (the best roster so far is kept)."""
    stopper = stopper or Stopper()
    rng = np.random.default_rng(seed)
    pinned = {week.requests[p.rid].patient_id for p in pins}
    movable = [p for p in sorted(week.by_patient) if p not in pinned and week.by_patient[p]]
    large = _is_large(week, budget if wall_limit is None else wall_limit)
    st = _State(week, history, movable, dict(assignment), objective_value(week, history, assignment), _kinds(large))
    st.large = large
    st.compacting = large or len(week.requests) < LARGE_WEEK
    lim = _Limits(seed, SUB_TIME if wall_limit is None else None, None if wall_limit is None else SUB_WALL)
    t0 = time.perf_counter()

    def running() -> bool:
        now = time.perf_counter() - t0
        in_time = (wall_limit is None or now < wall_limit - 0.05) and (guard is None or now < guard)
        return bool(movable) and st.dtime < budget and in_time and not stopper.stopped

    deadline = None if wall_limit is None else t0 + wall_limit - 0.05
    with ThreadPoolExecutor(max_workers=max(1, parallel), thread_name_prefix="rehabflow-lns") as pool:
        end = None if wall_limit is None else t0 + wall_limit
        search = _Search(pool, rng, st, pins, lim, parallel, stopper, end, reporter)
        if wall_limit is not None and PIPELINED:
            search.run(running, deadline)
        while running():
            search.round()
            if st.compacting and COMPACT_ROUNDS and st.rounds % COMPACT_ROUNDS == 0 and running():
                _compact(st, pins, deadline, reporter, lambda: stopper.stopped)
    return st.best, {
        "iterations": st.iterations,
        "accepted": st.accepted,
        "compactions": st.compactions,
        "dtime": st.dtime,
        "wall": time.perf_counter() - t0,
        "sizes": {k: a.size for k, a in st.arms.items()},
        "tries": {k: a.tries for k, a in st.arms.items()},
    }


def _kind_limits(lim: _Limits, kind: str, left: float | None) -> _Limits:
    """``lim`` scaled for ``kind`` (:data:`SUB_SCALE`); with ``left`` wall seconds, ending by the wall limit."""
    scale = SUB_SCALE.get(kind, 1.0)
    sub_time = None if lim.sub_time is None else scale * lim.sub_time
    if lim.sub_wall is None or left is None:
        return _Limits(lim.seed, sub_time, lim.sub_wall)
    return _Limits(lim.seed, sub_time, max(min(scale * lim.sub_wall, left - 0.05), 0.05))


def _compact(
    st: _State,
    pins: list[Pin],
    deadline: float | None,
    reporter: Reporter | None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Lane compaction (:func:`optimizer.justify.compact`) of the best roster, kept when it costs less and
    places no fewer sessions (``compact`` returns its input otherwise); ``stop()`` (the Stop button) ends it."""
    out = compact(st.week, st.history, st.best, pins, deadline=deadline, stop=stop)
    if out is st.best:
        return
    st.best, st.best_obj = out, objective_value(st.week, st.history, out)
    st.compactions += 1
    if reporter is not None:
        reporter.solution(st.best_obj, len(st.best), "neighbourhoods")


#: wall-clock mode: sub-models are pipelined (a new one is drawn and built as soon as one finishes, against the
#: best roster then, so that building one, which holds the interpreter, overlaps the other's solve) instead of
#: solved in rounds of two awaited together; the reproducible mode keeps the rounds (their order is fixed).
#: Search setting.
PIPELINED = True


class _Search:
    """The neighbourhood search's loop over ``parallel`` sub-models on disjoint patients, in one of two forms:
    :meth:`round` (reproducible mode: draw them, await them all, merge in order) or :meth:`run` (wall-clock
    mode, pipelined: each result is merged when it arrives, with the capacity check when the roster changed
    since it was drawn, and replaced at once; every ``parallel`` results count as a round, for
    :data:`COMPACT_ROUNDS`). ``end``: the wall-clock time the sub-models must end by (None: reproducible)."""

    def __init__(
        self,
        pool: ThreadPoolExecutor,
        rng: np.random.Generator,
        st: _State,
        pins: list[Pin],
        lim: _Limits,
        parallel: int,
        stopper: Stopper,
        end: float | None,
        reporter: Reporter | None,
    ) -> None:
        self.pool, self.rng, self.st, self.pins, self.lim = pool, rng, st, pins, lim
        self.parallel, self.stopper, self.end, self.reporter = max(1, parallel), stopper, end, reporter
        self.inflight: dict[Future[_Sub], tuple[set[str], int]] = {}
        self.done = 0
        self.compact_due = False

    def _left(self) -> float | None:
        return None if self.end is None else self.end - time.perf_counter()

    def _take(self, sub: _Sub, check: bool) -> None:
        """Merge one solved sub-model into the best roster (``check``: capacity too), pay its kind, report."""
        st = self.st
        st.iterations += 1
        st.dtime += max(sub.dtime, MIN_DTIME)
        gain = _merge(st, sub, check=check)
        _pay(st, sub, gain)
        if gain and self.reporter is not None:
            self.reporter.solution(st.best_obj, len(st.best), "neighbourhoods")

    def round(self) -> None:
        """One round: draw the neighbourhoods, solve them at once, merge them in order, pay the bandit."""
        st, left = self.st, self._left()
        futures = [
            self.pool.submit(
                _solve_sub,
                st,
                self.pins,
                kind,
                pids,
                _kind_limits(self.lim, kind, left),
                st.iterations + i,
                self.stopper,
                st.best,
            )
            for i, (kind, pids) in enumerate(_pair(self.rng, st, self.parallel))
        ]
        subs = [f.result() for f in futures]
        st.rounds += 1
        for i, sub in enumerate(subs):
            self._take(sub, check=i > 0)

    def _version(self) -> int:
        """Changes whenever the best roster does (a merge or a compaction)."""
        return self.st.accepted + self.st.compactions

    def _submit(self) -> bool:
        """Draw one neighbourhood apart from those in flight and start it; False when none could be drawn."""
        st = self.st
        taken = set().union(*(p for p, _ in self.inflight.values()))
        kind = _choose_kind(st)
        pids = [p for p in PICK[kind](self.rng, st, int(round(st.arms[kind].size)), taken) if p in st.movable_set]
        if not pids:
            return False
        lim = _kind_limits(self.lim, kind, self._left())
        it = st.iterations + len(self.inflight)
        fut = self.pool.submit(_solve_sub, st, self.pins, kind, pids, lim, it, self.stopper, st.best)
        self.inflight[fut] = (set(pids), self._version())
        return True

    def _collect(self, fut: Future[_Sub]) -> None:
        """Merge one finished sub-model of the pipeline (capacity-checked if the roster changed since its draw)."""
        st = self.st
        _, version = self.inflight.pop(fut)
        self._take(fut.result(), check=version != self._version())
        self.done += 1
        if self.done % self.parallel == 0:
            st.rounds += 1
            self.compact_due = bool(COMPACT_ROUNDS) and st.rounds % COMPACT_ROUNDS == 0

    def run(self, running: Callable[[], bool], deadline: float | None) -> None:
        """Pipelined, until ``running()`` is false; then the sub-models in flight are awaited and merged."""
        st = self.st
        while running():
            while len(self.inflight) < self.parallel and self._submit():
                pass
            if not self.inflight:
                return
            finished, _ = wait(list(self.inflight), return_when=FIRST_COMPLETED)
            for fut in finished:
                self._collect(fut)
            if st.compacting and self.compact_due and running():
                _compact(st, self.pins, deadline, self.reporter, lambda: self.stopper.stopped)
            self.compact_due = False
        for fut in list(self.inflight):
            fut.result()
            self._collect(fut)
