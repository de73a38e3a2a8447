"""An independent lower bound on the roster's objective: the LP relaxation of a time-indexed capacity model,
solved with HiGHS (``highspy``, which releases the GIL and can be cancelled from another thread).

It shares no code with the CP-SAT model (:mod:`optimizer.model`) so that a weak CP-SAT bound and a weak roster
can be told apart. Practitioners are pooled by role (a relaxation), patients with the same needs, hours and
history are pooled into classes (the LP of a pooled class equals the LP of its members: every member's
constraints are the same, so an optimal LP solution can be averaged over them). Variables:

- ``x[c,k,u]`` >= 0: how many patients of class ``c`` have their ``k``-th session start at slot ``u`` (a
  candidate start: inside the patient's hours and some qualified practitioner's);
- ``v[c,d]``: visits of class ``c`` on day ``d``; ``top[role]``: the busiest practitioner of the role.

Rows (each is satisfied by every valid roster, so the LP optimum is a lower bound):

- each session at most once: ``sum_u x[c,k,u] <= n_c``;
- staff time per slot, for every set ``Q`` of roles: sessions of a role in ``Q`` running at slot ``q`` use at
  most ``cap x #practitioners holding a role of Q present at q`` units;
- rooms per slot: sessions of a room type running at ``q`` <= rooms of that type;
- counting with integer rounding, per kind and day: sessions starting that day <= sum over practitioner windows
  of ``lanes x floor(window / duration)``;
- spacing: at most one session of a kind in any ``min_days_between_same_type`` consecutive days;
- intake first (phase 1) and acupuncture before PT (phase 2): such a PT or acupuncture is placed at most as often
  as the session it waits for; and in time, per day ``D``: a phase-1 class's acupunctures on days before ``D``
  are at most ``sum_j`` its intakes on days before ``D - j x gap`` (``j = 0..K-1``: the ``j+1``-th acupuncture
  comes at least ``j`` spacing gaps after the intake's day), and a phase-2 class's PTs before ``D`` at most
  ``K_pt x`` its acupunctures before ``D`` (the week's first PT follows an acupuncture);
- visits ``v[c,d] >=`` each session that day and the sessions of one kind that day;
- ``|members| x top[role] >=`` the sessions of that role (and the role-split rows of ``_balance_rows``);
- per-practitioner loads ``y[s,k,d]`` (sessions of kind ``k`` practitioner ``s`` gives on day ``d``): at most
  lanes x floor(window / duration), within their staff time that day, together covering the day's sessions of
  the kind, and ``top[role] >= sum_{k,d} y[s,k,d]`` for each practitioner of the role.

Objective: the same terms as :mod:`optimizer.objective` (unscheduled penalties, fewer trips, time preference,
stability, workload balance, continuity where no preferred practitioner can give the session at that start).
Pins are left out (pins only restrict the week, so the bound stays valid). The LP optimum is rounded up to the
objective's integer grid (``1 / SCALE``), which is sound because every roster's cost lies on that grid.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations, product

import highspy
import numpy as np
from scipy.sparse import coo_matrix

from .history import History
from .objective import SCALE, scaled
from .occupancy import room_capacity, staff_units
from .week import DAY, ROLE_OF_SESSION, ROOM_OF_SESSION, Week, candidate_starts


def _silence_banner() -> None:
    """HiGHS prints its banner on the process's stdout when the first solver object is made (once per process):
    make that object now, at import, with stdout pointed at /dev/null, so that no output file or pipe gets it."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_silence_banner()


@dataclass
class LPBound:
    """The bound (objective units), how long HiGHS took, and the LP's size."""

    value: float
    seconds: float
    columns: int
    rows: int
    classes: int


@dataclass
class _Rows:
    """Sparse rows ``A x <= b`` collected as triplets."""

    r: list[np.ndarray] = field(default_factory=list)
    c: list[np.ndarray] = field(default_factory=list)
    v: list[np.ndarray] = field(default_factory=list)
    b: list[float] = field(default_factory=list)

    def add(self, cols: np.ndarray, vals: np.ndarray | float, rhs: float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        if not len(cols):
            return
        self.r.append(np.full(len(cols), len(self.b), dtype=np.int64))
        self.c.append(cols)
        self.v.append(np.broadcast_to(np.asarray(vals, dtype=float), cols.shape).astype(float))
        self.b.append(float(rhs))


@dataclass
class _Column:
    """One (class, session) of the template: its starts (slots) and column range."""

    cls: int
    kind: str
    duration: int  # slots
    starts: np.ndarray
    first: int  # index of its first column


def _classes(week: Week, history: History) -> list[tuple[list, int]]:
    """Patients with identical needs, hours, preferences and history: (template requests, count)."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for pid, reqs in week.by_patient.items():
        if not reqs:
            continue
        info = week.patients[pid]
        key = (
            info.phase,
            tuple(info.windows),
            tuple(info.preferred_windows or ()) if info.preferred_windows is not None else None,
            tuple(
                (
                    r.session,
                    r.duration,
                    scaled(r.penalty),
                    history.stability.get((pid, r.session)),
                    history.continuity.get((pid, r.session)),
                )
                for r in reqs
            ),
        )
        groups[key].append(pid)
    return [(week.by_patient[pids[0]], len(pids)) for pids in groups.values()]


def _slot(week: Week, t: int) -> int:
    per_day = (week.close_minute - week.open_minute) // week.slot
    return (t // DAY) * per_day + (t % DAY - week.open_minute) // week.slot


def _column_cost(week: Week, history: History, req, starts: list[int], cands: dict[str, list[int]]) -> np.ndarray:
    """Scaled cost of placing ``req`` at each start: minus its penalty plus the soft costs that start incurs."""
    w = week.scenario.roster.weights
    cost = np.full(len(starts), -scaled(req.penalty), dtype=float)
    info = week.patients[req.patient_id]
    if info.preferred_windows is not None:
        cost += scaled(w.time_preference) * np.array([not info.prefers(t, req.duration) for t in starts])
    prev = history.stability.get((req.patient_id, req.session))
    if prev:
        cost += scaled(w.stability) * np.array([t not in prev for t in starts])
    known = history.continuity.get((req.patient_id, req.session))
    if known:
        ok = {t for s in known if s in cands for t in cands[s]}
        cost += scaled(w.continuity) * np.array([t not in ok for t in starts])
    return cost


def _columns(week: Week, history: History, classes: list[tuple[list, int]]):
    """The x columns: per (class, template session) its candidate starts, costs and upper bounds."""
    cols: list[_Column] = []
    costs, upper = [], []
    per_class: list[list[_Column | None]] = []
    n = 0
    for c, (reqs, count) in enumerate(classes):
        mine: list[_Column | None] = []
        for req in reqs:
            cands = candidate_starts(week, req)
            starts = sorted({t for ts in cands.values() for t in ts})
            if not starts:
                mine.append(None)
                continue
            col = _Column(c, req.session, req.duration // week.slot, np.array([_slot(week, t) for t in starts]), n)
            cols.append(col)
            mine.append(col)
            costs.append(_column_cost(week, history, req, starts, cands))
            upper.append(np.full(len(starts), count, dtype=float))
            n += len(starts)
        per_class.append(mine)
    return cols, per_class, costs, upper, n


def _staff_cover(week: Week, n_slots: int) -> dict[str, np.ndarray]:
    """Per practitioner, 1 on the slots they are present for."""
    out = {}
    for s, info in week.staff.items():
        cover = np.zeros(n_slots, dtype=int)
        for a, b in info.windows:
            u0, u1 = _slot(week, a), _slot(week, a) + (b - a) // week.slot
            cover[u0:u1] = 1
        out[s] = cover
    return out


def _capacity_rows(week: Week, rows: _Rows, cols: list[_Column], n_slots: int) -> None:
    """Staff time per slot for every set of roles, rooms per slot."""
    cap, units = staff_units(week)
    cover = _staff_cover(week, n_slots)
    roles = sorted({r for info in week.staff.values() for r in info.roles})
    for size in range(1, len(roles) + 1):
        for group in combinations(roles, size):
            present = sum(
                (cover[s] for s, info in week.staff.items() if info.roles & set(group)), np.zeros(n_slots, dtype=int)
            )
            mine = [col for col in cols if ROLE_OF_SESSION[col.kind] in group]
            _per_slot_rows(rows, mine, n_slots, lambda col: units[col.kind], cap * present)
    rcap = room_capacity(week)
    for room in sorted(set(ROOM_OF_SESSION.values())):
        mine = [col for col in cols if ROOM_OF_SESSION[col.kind] == room]
        _per_slot_rows(rows, mine, n_slots, lambda col: 1, np.full(n_slots, rcap[room]))


def _per_slot_rows(rows: _Rows, cols: list[_Column], n_slots: int, weight, rhs: np.ndarray) -> None:
    """One row per slot ``q``: sum of weight x columns whose session runs at ``q`` <= rhs[q]."""
    if not cols:
        return
    slot_of, col_of, val_of = [], [], []
    for col in cols:
        idx = col.first + np.arange(len(col.starts))
        for o in range(col.duration):
            slot_of.append(col.starts + o)
            col_of.append(idx)
            val_of.append(np.full(len(idx), weight(col), dtype=float))
    q, ci, vi = np.concatenate(slot_of), np.concatenate(col_of), np.concatenate(val_of)
    order = np.argsort(q, kind="stable")
    q, ci, vi = q[order], ci[order], vi[order]
    cuts = np.flatnonzero(np.diff(q)) + 1
    for qs, cs, vs in zip(np.split(q, cuts), np.split(ci, cuts), np.split(vi, cuts), strict=True):
        rows.add(cs, vs, float(rhs[qs[0]]) if qs[0] < n_slots else 0.0)


def _day_cols(col: _Column, d: int, per_day: int) -> np.ndarray:
    mask = (col.starts // per_day) == d
    return col.first + np.flatnonzero(mask)


def _counting_rows(week: Week, rows: _Rows, cols: list[_Column], per_day: int) -> None:
    """Per kind and day: starts that day <= sum over practitioner windows of lanes x floor(minutes / duration)."""
    cap, units = staff_units(week)
    for kind in sorted({col.kind for col in cols}):
        mine = [col for col in cols if col.kind == kind]
        dur = min(col.duration for col in mine) * week.slot
        role = ROLE_OF_SESSION[kind]
        for d in week.days:
            fits = sum(
                (cap // units[kind]) * (max(0, min(b, (d + 1) * DAY) - max(a, d * DAY)) // dur)
                for info in week.staff.values()
                if role in info.roles
                for a, b in info.windows
            )
            rows.add(np.concatenate([_day_cols(col, d, per_day) for col in mine]), 1.0, fits)


#: write the day-by-day timing rows (False gives the bound without them, for the before/after comparison)
TIMING_ROWS = True


def _patient_rows(week: Week, rows: _Rows, per_class: list[list[_Column | None]], classes, n: int, per_day: int) -> int:
    """Per class: each session at most once, spacing, intake first, acupuncture before PT, visits. Returns the
    number of columns after adding the visit columns (they follow the x columns)."""
    tm = week.scenario.protocol.timing
    for _c, ((reqs, count), mine) in enumerate(zip(classes, per_class, strict=True)):
        for col in mine:
            if col is not None:
                rows.add(col.first + np.arange(len(col.starts)), 1.0, count)
        _spacing_rows(week, rows, reqs, mine, count, tm.min_days_between_same_type, per_day)
        _precedence_rows(week, rows, reqs, mine)
        if TIMING_ROWS:
            _timing_rows(week, rows, reqs, mine, per_day)
        n = _visit_rows(week, rows, reqs, mine, n, per_day)
    return n


def _all_cols(col: _Column | None) -> np.ndarray:
    return np.arange(0) if col is None else col.first + np.arange(len(col.starts))


def _spacing_rows(week: Week, rows: _Rows, reqs, mine, count: int, gap: int, per_day: int) -> None:
    """At most one session of a kind in any ``gap`` consecutive days."""
    if gap < 1:
        return
    for kind in ("acupuncture", "physiotherapy"):
        same = [col for r, col in zip(reqs, mine, strict=True) if r.session == kind and col is not None]
        if len(same) < 2:
            continue
        for d in range(min(week.days), max(week.days) + 1):
            window = [np.concatenate([_day_cols(col, e, per_day) for col in same]) for e in range(d, d + gap)]
            rows.add(np.concatenate(window), 1.0, count)


def _precedence_rows(week: Week, rows: _Rows, reqs, mine) -> None:
    """Phase 1 with an intake: each acupuncture at most as often as the intake. Phase 2: each PT at most as often
    as the acupunctures together (the week's first PT must follow one)."""
    phase = reqs[0].phase
    cols = list(zip(reqs, mine, strict=True))
    if phase == "1" and any(r.session == "assessment" for r in reqs):
        waits_for = [col for r, col in cols if r.session == "assessment"]
        _at_most(rows, [col for r, col in cols if r.session == "acupuncture"], waits_for)
    if phase == "2" and week.scenario.protocol.phase2.acupuncture_per_week > 0:
        _at_most(
            rows,
            [col for r, col in cols if r.session == "physiotherapy"],
            [col for r, col in cols if r.session == "acupuncture"],
        )


def _before_day(col: _Column, day: int, per_day: int) -> np.ndarray:
    """Columns of ``col`` whose session starts on a day before ``day``."""
    return col.first + np.flatnonzero(col.starts // per_day < day)


def _timing_rows(week: Week, rows: _Rows, reqs, mine, per_day: int) -> None:
    """The day-by-day forms of intake first (phase 1) and acupuncture before PT (phase 2) (module docstring)."""
    phase = reqs[0].phase
    cols = [(r, col) for r, col in zip(reqs, mine, strict=True) if col is not None]
    acus = [col for r, col in cols if r.session == "acupuncture"]
    if phase == "1" and acus and any(r.session == "assessment" for r in reqs):
        gap = week.scenario.protocol.timing.min_days_between_same_type
        intakes = [col for r, col in cols if r.session == "assessment"]
        waits = [(col, j) for col in intakes for j in range(len(acus))]
        _cumulative_rows(week, rows, acus, waits, lambda d, j: d - j * gap, per_day)
    pts = [col for r, col in cols if r.session == "physiotherapy"]
    if phase == "2" and pts and acus and week.scenario.protocol.phase2.acupuncture_per_week > 0:
        _cumulative_rows(week, rows, pts, [(col, 0) for col in acus for _ in pts], lambda d, j: d, per_day)


def _cumulative_rows(week: Week, rows: _Rows, later: list, waits: list, shift, per_day: int) -> None:
    """Per day ``D``: ``later`` sessions before ``D`` <= the sum over ``waits`` (column, j) of its sessions before
    day ``shift(D, j)``."""
    for d in range(min(week.days) + 1, max(week.days) + 2):
        before = np.concatenate([_before_day(col, d, per_day) for col in later])
        if not len(before):
            continue
        minus = [_before_day(col, shift(d, j), per_day) for col, j in waits]
        ix = np.concatenate([before, *minus])
        vals = np.concatenate([np.ones(len(before)), *[-np.ones(len(m)) for m in minus]])
        rows.add(ix, vals, 0.0)


def _at_most(rows: _Rows, later: list, first: list) -> None:
    """Each of ``later`` placed at most as often as ``first`` together: sum x[later] - sum x[first] <= 0."""
    before = np.concatenate([_all_cols(col) for col in first]) if first else np.arange(0)
    for col in later:
        if col is not None:
            rows.add(
                np.concatenate([_all_cols(col), before]),
                np.concatenate([np.ones(len(col.starts)), -np.ones(len(before))]),
                0.0,
            )


def _visit_rows(week: Week, rows: _Rows, reqs, mine, n: int, per_day: int) -> int:
    """``v[c,d]`` (a new column each) >= each session that day and >= the sessions of one kind that day."""
    for d in week.days:
        day = [(r, _day_cols(col, d, per_day)) for r, col in zip(reqs, mine, strict=True) if col is not None]
        day = [(r, ix) for r, ix in day if len(ix)]
        if not day:
            continue
        v = n
        n += 1
        for _, ix in day:
            rows.add(np.append(ix, v), np.append(np.ones(len(ix)), -1.0), 0.0)
        for kind in ("acupuncture", "physiotherapy"):
            same = [ix for r, ix in day if r.session == kind]
            if len(same) > 1:
                ix = np.concatenate(same)
                rows.add(np.append(ix, v), np.append(np.ones(len(ix)), -1.0), 0.0)
    return n


#: at most this many role splits per set of practitioners in the balance rows (a search-size guard, not a model
#: parameter: a practitioner with several roles can be counted as the busiest of any one of them)
MAX_ROLE_SPLITS = 32
#: at most this many of the least available practitioners are dropped, one at a time, in the balance rows
MAX_DROPPED = 3
#: the balance rows are written for sets of at most this many roles (None: every set); 1 with MAX_DROPPED = 0
#: gives the plain rows "members x top >= the role's sessions"
MAX_GROUP_ROLES: int | None = None


def _max_sessions(week: Week, s: str, kinds: dict[str, int]) -> int:
    """The most sessions practitioner ``s`` can give in the week, of the kinds in ``kinds`` (kind -> shortest
    duration, minutes) they are qualified for: per day and window, lanes x floor(minutes / duration)."""
    cap, units = staff_units(week)
    info = week.staff[s]
    mine = [(cap // units[k], dur) for k, dur in kinds.items() if ROLE_OF_SESSION[k] in info.roles]
    total = 0
    for d in week.days:
        for a, b in info.windows:
            minutes = max(0, min(b, (d + 1) * DAY) - max(a, d * DAY))
            total += max((lanes * (minutes // dur) for lanes, dur in mine), default=0)
    return total


def _role_splits(kept: list[str], week: Week, group: tuple[str, ...]) -> list[dict[str, int]]:
    """Ways to count each practitioner of ``kept`` as a member of one of their roles in ``group``: how many are
    counted in each role (a practitioner with two roles may count for either)."""
    types: dict[tuple[str, ...], int] = defaultdict(int)
    for s in kept:
        types[tuple(sorted(week.staff[s].roles & set(group)))] += 1
    splits: list[dict[str, int]] = [{}]
    for roles, count in sorted(types.items()):
        options = [c for c in product(range(count + 1), repeat=len(roles)) if sum(c) == count]
        splits = [
            {r: sp.get(r, 0) + (c[roles.index(r)] if r in roles else 0) for r in set(sp) | set(roles)}
            for sp in splits
            for c in options
        ][:MAX_ROLE_SPLITS]
    return splits


def _balance_rows(week: Week, rows: _Rows, cols: list[_Column], n: int) -> tuple[list[int], int]:
    """``top[role]`` columns (the busiest practitioner of the role) and, per role, a column ``X[role] >=`` the
    role's sessions; ``X[Q]`` is their sum over a set of roles ``Q``. Those sessions are given by the practitioners holding a role
    of ``Q``; counting each of them as the busiest of one of their roles, ``sum_s top[role(s)] >= X[Q]``; a
    practitioner who can give at most ``m`` sessions may instead be left out with ``m`` on the right-hand side
    (the least available first, up to :data:`MAX_DROPPED`). Returns the top columns and the next free column."""
    roles = sorted({r for info in week.staff.values() for r in info.roles})
    tops = {role: n + i for i, role in enumerate(roles)}
    n += len(roles)
    kinds: dict[str, int] = {}
    for col in cols:
        kinds[col.kind] = min(kinds.get(col.kind, col.duration), col.duration)
    kinds = {k: d * week.slot for k, d in kinds.items()}
    sums: dict[str, int] = {}
    for role in roles:  # X[role] >= the role's sessions (one dense row per role)
        mine = [col.first + np.arange(len(col.starts)) for col in cols if ROLE_OF_SESSION[col.kind] == role]
        if mine:
            ix = np.concatenate(mine)
            sums[role], n = n, n + 1
            rows.add(np.append(ix, sums[role]), np.append(np.ones(len(ix)), -1.0), 0.0)
    for size in range(1, min(len(roles), MAX_GROUP_ROLES or len(roles)) + 1):
        for group in combinations(roles, size):
            x_q = [sums[r] for r in group if r in sums]
            if not x_q:
                continue
            in_group = {k: d for k, d in kinds.items() if ROLE_OF_SESSION[k] in group}
            staff = sorted(
                (s for s, info in week.staff.items() if info.roles & set(group)),
                key=lambda s: (_max_sessions(week, s, in_group), s),
            )
            _group_balance_rows(week, rows, group, staff, in_group, tops, x_q)
    return list(tops.values()), n


#: write the per-practitioner load rows (False gives the bound without them, for the before/after comparison)
PRACTITIONER_ROWS = True


def _minutes_on(info, d: int) -> list[int]:
    """Minutes of each of a practitioner's windows on day ``d``."""
    return [
        max(0, min(b, (d + 1) * DAY) - max(a, d * DAY)) for a, b in info.windows if a < (d + 1) * DAY and b > d * DAY
    ]


def _load_columns(week: Week, kinds: dict[str, int], n: int) -> tuple[dict[tuple[str, str, int], int], list[float]]:
    """One column ``y[s,k,d]`` per practitioner, kind they can give and day they work, with its upper bound
    ``lanes x sum over the day's windows of floor(minutes / duration)``; returns them and their bounds."""
    cap, units = staff_units(week)
    ys: dict[tuple[str, str, int], int] = {}
    ub: list[float] = []
    for s in sorted(week.staff):
        info = week.staff[s]
        for k in sorted(k for k in kinds if ROLE_OF_SESSION[k] in info.roles):
            for d in week.days:
                fits = (cap // units[k]) * sum(m // (kinds[k] * week.slot) for m in _minutes_on(info, d))
                if fits > 0:
                    ys[s, k, d], n = n, n + 1
                    ub.append(float(fits))
    return ys, ub


def _practitioner_rows(
    week: Week, rows: _Rows, cols: list[_Column], tops: list[int], n: int, per_day: int
) -> tuple[int, np.ndarray]:
    """Per-practitioner loads (the pooled rows above let the role's work spread evenly over practitioners who
    cannot hold it): ``y[s,k,d]`` sessions of kind ``k`` that practitioner ``s`` gives on day ``d``, at most
    their lanes x floor(window / duration) (column bound) and their staff time that day; the sessions of a kind
    on a day are given by someone (``sum_s y[s,k,d] >=`` the LP's sessions of ``k`` starting that day); and
    ``top[role] >= sum_{k,d} y[s,k,d]`` for each practitioner ``s`` of the role (the objective counts all of a
    practitioner's sessions in each of their roles). Every roster satisfies them with ``y`` its own counts.
    Returns the next free column and the ``y`` columns' upper bounds."""
    cap, units = staff_units(week)
    kinds: dict[str, int] = {}
    for col in cols:
        kinds[col.kind] = min(kinds.get(col.kind, col.duration), col.duration)
    ys, ub = _load_columns(week, kinds, n)
    for k in sorted(kinds):
        mine = [col for col in cols if col.kind == k]
        for d in week.days:
            x = np.concatenate([_day_cols(col, d, per_day) for col in mine])
            y = np.array([c for (s, kk, dd), c in ys.items() if kk == k and dd == d], dtype=np.int64)
            rows.add(np.append(x, y), np.append(np.ones(len(x)), -np.ones(len(y))), 0.0)
    roles = sorted({r for info in week.staff.values() for r in info.roles})
    top_of = dict(zip(roles, tops, strict=True))
    for s, info in sorted(week.staff.items()):
        mine_y = [(c, k) for (ss, k, _), c in ys.items() if ss == s]
        for d in week.days:
            day = [(c, k) for (ss, k, dd), c in ys.items() if ss == s and dd == d]
            if len(day) > 1:  # several kinds share the practitioner's time that day
                slots = sum(m // week.slot for m in _minutes_on(info, d))
                rows.add(np.array([c for c, _ in day]), np.array([units[k] * kinds[k] for _, k in day]), cap * slots)
        for role in sorted(info.roles):
            if mine_y:
                ix = np.array([c for c, _ in mine_y] + [top_of[role]])
                rows.add(ix, np.append(np.ones(len(mine_y)), -1.0), 0.0)
    return n + len(ys), np.array(ub, dtype=float)


def _group_balance_rows(
    week: Week,
    rows: _Rows,
    group: tuple[str, ...],
    staff: list[str],
    kinds: dict[str, int],
    tops: dict[str, int],
    x_q: list[int],
) -> None:
    """``X[Q] - sum_role count x top[role] <= sessions the dropped practitioners can give at most``."""
    dropped = 0
    for k in range(min(len(staff), MAX_DROPPED + 1)):
        if k:
            dropped += _max_sessions(week, staff[k - 1], kinds)
        for split in _role_splits(staff[k:], week, group):
            used = sorted(r for r, c in split.items() if c)
            rows.add(
                np.array(x_q + [tops[r] for r in used]),
                np.array([1.0] * len(x_q) + [-float(split[r]) for r in used]),
                float(dropped),
            )


class BoundSolver:
    """Computes :func:`lp_bound`; ``cancel()`` (from another thread) stops HiGHS, and the bound is then None."""

    def __init__(self) -> None:
        self._highs: highspy.Highs | None = None
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True
        if self._highs is not None:
            self._highs.cancelSolve()

    def solve(self, week: Week, history: History, time_limit: float | None = None) -> LPBound | None:
        """The LP lower bound on the objective (None if HiGHS does not finish within ``time_limit`` seconds)."""
        t0 = time.perf_counter()
        lp = _build_lp(week, history)
        if lp is None:
            return LPBound(sum(scaled(r.penalty) for r in week.requests) / SCALE, 0.0, 0, 0, 0)
        cost, a, b, ub, constant, n_classes = lp
        value = self._run(cost, a, b, ub, time_limit)
        if value is None:
            return None
        total = value + constant
        grid = math.ceil(total - 1e-6 * max(1.0, abs(total)))
        return LPBound(grid / SCALE, time.perf_counter() - t0, a.shape[1], a.shape[0], n_classes)

    def _run(self, cost: np.ndarray, a, b: np.ndarray, ub: np.ndarray, time_limit: float | None) -> float | None:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if time_limit is not None:
            h.setOptionValue("time_limit", max(float(time_limit), 0.1))
        h.HandleUserInterrupt = True
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, np.zeros(a.shape[1]), ub
        lp.row_lower_, lp.row_upper_ = np.full(a.shape[0], -highspy.kHighsInf), b
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_, lp.a_matrix_.index_ = a.indptr.astype(np.int32), a.indices.astype(np.int32)
        lp.a_matrix_.value_ = a.data
        h.passModel(lp)
        self._highs = h
        if self._cancelled:
            return None
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return float(h.getInfo().objective_function_value)


def lp_bound(week: Week, history: History, time_limit: float | None = None) -> LPBound | None:
    """The LP lower bound on the objective (``None`` if HiGHS does not finish within ``time_limit``)."""
    return BoundSolver().solve(week, history, time_limit)


def _build_lp(week: Week, history: History):
    """Cost vector, sparse rows ``A x <= b``, upper bounds, the constant and the number of classes (None when
    no session can be placed at all)."""
    w = week.scenario.roster.weights
    classes = _classes(week, history)
    per_day = (week.close_minute - week.open_minute) // week.slot
    n_slots = (max(week.days) + 1) * per_day if week.days else 0
    cols, per_class, costs, upper, n = _columns(week, history, classes)
    constant = sum(scaled(r.penalty) for r in week.requests)
    if not n:
        return None
    rows = _Rows()
    _capacity_rows(week, rows, cols, n_slots)
    _counting_rows(week, rows, cols, per_day)
    n_x = n
    n = _patient_rows(week, rows, per_class, classes, n, per_day)
    n_visits = n - n_x
    tops, n_all = _balance_rows(week, rows, cols, n)
    n_sums = n_all - n - len(tops)  # the X[Q] columns after the tops
    y_ub = np.zeros(0)
    if PRACTITIONER_ROWS:
        n_all, y_ub = _practitioner_rows(week, rows, cols, tops, n_all, per_day)
    n = n_all
    cost = np.concatenate(
        costs
        + [
            np.full(n_visits, scaled(w.fewer_trips), dtype=float),
            np.full(len(tops), scaled(w.workload_balance), dtype=float),
            np.zeros(n_sums + len(y_ub)),
        ]
    )
    ub = np.concatenate(upper + [_visit_caps(week, per_class, classes), np.full(len(tops) + n_sums, np.inf), y_ub])
    a = coo_matrix(
        (np.concatenate(rows.v), (np.concatenate(rows.r), np.concatenate(rows.c))), shape=(len(rows.b), n)
    ).tocsr()
    return cost, a, np.array(rows.b), ub, constant, len(classes)


def _visit_caps(week: Week, per_class, classes) -> np.ndarray:
    """Upper bound of each visit column: the class size (same order as :func:`_visit_rows` creates them)."""
    caps = []
    per_day = (week.close_minute - week.open_minute) // week.slot
    for (_reqs, count), mine in zip(classes, per_class, strict=True):
        for d in week.days:
            if any(col is not None and len(_day_cols(col, d, per_day)) for col in mine):
                caps.append(count)
    return np.array(caps, dtype=float)
