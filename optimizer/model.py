"""The CP-SAT model of one week (variables, hard rules, objective; written out in docs/background/roster.md).

Per required session r (pruned to the starts where the patient and at least one qualified practitioner are
both available): presence ``p[r]``, start ``t[r]`` (minutes of the week), day literals ``z[r,d]`` (exactly one
when present), staff literals ``a[r,s]`` (exactly one when present) each carrying an optional interval for the
practitioner's cumulative, and one optional interval for the room type's cumulative and the patient's
no-overlap. Rooms are concrete only after solving (:mod:`optimizer.rooms`). Pins are enforced through one
assumption literal each so that a conflict can be explained.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from .history import History, Pin
from .objective import scaled
from .occupancy import acu_precedes_pt, room_capacity, staff_units
from .week import DAY, ROOM_OF_SESSION, Week, candidate_starts


@dataclass
class RosterModel:
    model: cp_model.CpModel
    present: dict[int, cp_model.IntVar] = field(default_factory=dict)
    start: dict[int, cp_model.IntVar] = field(default_factory=dict)
    day: dict[tuple[int, int], cp_model.IntVar] = field(default_factory=dict)
    days_of: dict[int, list[int]] = field(default_factory=dict)
    staff_of: dict[int, list[str]] = field(default_factory=dict)
    union_of: dict[int, frozenset[int]] = field(default_factory=dict)
    staff: dict[tuple[int, str], cp_model.IntVar] = field(default_factory=dict)
    pin_literals: dict[int, cp_model.IntVar] = field(default_factory=dict)  # pin index -> literal
    objective_offset: int = 0
    week: Week | None = None
    aux: list = field(default_factory=list)  # (variable, function of a placement giving its value) for hints

    per_day: int = 0

    def __post_init__(self) -> None:
        if self.week is not None:
            self.per_day = (self.week.close_minute - self.week.open_minute) // self.week.slot

    # the model counts time in slots: u = day * slots_per_day + (minute_of_day - opening) / slot
    def enc(self, t: int) -> int:
        w = self.week
        assert w is not None
        return (t // DAY) * self.per_day + (t % DAY - w.open_minute) // w.slot

    def dec(self, u: int) -> int:
        w = self.week
        assert w is not None
        return (u // self.per_day) * DAY + w.open_minute + (u % self.per_day) * w.slot

    def hint(self, assignment: dict[int, tuple[int, str]]) -> None:
        """Hint a full placement (e.g. the greedy's) for every request variable."""
        m = self.model
        for rid, p in self.present.items():
            placed = assignment.get(rid)
            m.add_hint(p, placed is not None)
            if placed:
                m.add_hint(self.start[rid], self.enc(placed[0]))
        for (rid, d), z in self.day.items():
            placed = assignment.get(rid)
            m.add_hint(z, placed is not None and placed[0] // DAY == d)
        for (rid, s), a in self.staff.items():
            placed = assignment.get(rid)
            m.add_hint(a, placed is not None and placed[1] == s)
        for var, fn in self.aux:
            m.add_hint(var, int(fn(assignment)))

    def assignment(self, solver: cp_model.CpSolver) -> dict[int, tuple[int, str]]:
        out = {}
        for rid, p in self.present.items():
            if solver.boolean_value(p):
                staff = next(s for s in self.staff_of[rid] if solver.boolean_value(self.staff[rid, s]))
                out[rid] = (self.dec(solver.value(self.start[rid])), staff)
        return out


def _domain(values: list[int]) -> cp_model.Domain:
    return cp_model.Domain.from_values(sorted(set(values)))


@dataclass
class _Build:
    """What the rule helpers share while one model is built: the week, the model, the capacity units and the
    pieces collected for the global constraints (intervals per practitioner, room type and patient; objective
    terms; the fixed occupancy of a neighbourhood's model)."""

    week: Week
    history: History
    rm: RosterModel
    cap: int
    units: dict[str, int]
    rcap: dict[str, int]
    staff_iv: dict[str, list[tuple[cp_model.IntervalVar, int]]] = field(default_factory=lambda: defaultdict(list))
    room_iv: dict[str, list[cp_model.IntervalVar]] = field(default_factory=lambda: defaultdict(list))
    patient_iv: dict[str, list[cp_model.IntervalVar]] = field(default_factory=lambda: defaultdict(list))
    objective: list = field(default_factory=list)
    offset: int = 0
    fixed_items: list[tuple[int, int, str]] = field(default_factory=list)
    fixed_load: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    staff_profile: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    room_profile: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))

    @property
    def m(self) -> cp_model.CpModel:
        return self.rm.model

    @property
    def weights(self):
        return self.week.scenario.roster.weights


def build_model(
    week: Week,
    history: History,
    pins: Sequence[Pin] = (),
    *,
    free: set[int] | None = None,
    fixed: dict[int, tuple[int, str]] | None = None,
) -> RosterModel:
    """The model of the week; with ``free``, only those requests are variables and ``fixed`` placements of the
    others are constant occupancy (the neighbourhoods of :mod:`optimizer.lns`; ``free`` must hold whole patients).

    The rules, in the order they are added (docs/background/roster.md lists each with its constraint)."""
    cap, units = staff_units(week)
    b = _Build(week, history, RosterModel(cp_model.CpModel(), week=week), cap, units, room_capacity(week))
    for req in week.requests:
        if free is not None and req.rid not in free:
            _add_fixed_session(b, req, fixed)
        else:
            _add_session(b, req)
    _add_practitioner_capacity(b)
    _add_room_capacity(b)
    _add_patient_no_overlap(b)
    _energy(b.m, b.rm, week, cap, units, b.rcap, b.fixed_items)
    _add_patient_rules(b, {p.rid for p in pins})
    _add_workload_balance(b)
    _add_pins(b, pins, free)
    b.m.minimize(sum(b.objective) + b.offset)
    b.rm.objective_offset = b.offset
    return b.rm


def _add_fixed_session(b: _Build, req, fixed: dict[int, tuple[int, str]] | None) -> None:
    """A session outside a neighbourhood: its placement becomes constant load on its practitioner and room type
    (or, unplaced, a constant penalty in the objective's offset). Adds no variable."""
    rid = req.rid
    if not (fixed and rid in fixed):
        b.offset += scaled(req.penalty)
        return
    t0, s0 = fixed[rid]
    u0 = b.rm.enc(t0)
    for u in range(u0, u0 + req.duration // b.week.slot):
        b.staff_profile[s0][u] += b.units[req.session]
        b.room_profile[ROOM_OF_SESSION[req.session]][u] += 1
    b.fixed_items.append((rid, t0, s0))
    b.fixed_load[s0] += 1


def _add_session(b: _Build, req) -> None:
    """One required session: presence ``p``, start ``t`` over its candidate starts (in slots), the unscheduled
    penalty (as offset minus ``penalty * p``), day and practitioner literals, its room/patient interval and its
    soft goals. A session with no candidate start adds only its penalty."""
    b.offset += scaled(req.penalty)
    cands = candidate_starts(b.week, req)
    if not cands:
        return
    w, S = b.week, b.rm.per_day
    cands = {s: [(x // DAY) * S + (x % DAY - w.open_minute) // w.slot for x in ts] for s, ts in cands.items()}
    union = sorted({t for ts in cands.values() for t in ts})
    rid, m = req.rid, b.m
    p = m.new_bool_var(f"p{rid}")
    t = m.new_int_var_from_domain(_domain(union), f"t{rid}")
    b.rm.present[rid], b.rm.start[rid] = p, t
    b.objective.append(-scaled(req.penalty) * p)
    union_by_day = _add_day_literals(b, rid, p, t, union)
    _add_staff_literals(b, req, p, t, cands, union, union_by_day)
    iv = m.new_optional_fixed_size_interval_var(t, req.duration // w.slot, p, f"i{rid}")
    b.room_iv[ROOM_OF_SESSION[req.session]].append(iv)
    b.patient_iv[req.patient_id].append(iv)
    _add_time_preference(b, req, p, t, union)
    _add_stability(b, req, p, t, union)


def _add_day_literals(b: _Build, rid: int, p, t, union: list[int]) -> dict[int, int]:
    """``z[r,d]`` for each day the session can start on: exactly one when present, and ``t`` inside that day.
    Returns the number of candidate starts per day."""
    m, S = b.m, b.rm.per_day
    days = sorted({x // S for x in union})
    zs = []
    for d in days:
        z = m.new_bool_var(f"z{rid}_{d}")
        b.rm.day[rid, d] = z
        zs.append(z)
        m.add(t >= d * S).only_enforce_if(z)
        m.add(t < (d + 1) * S).only_enforce_if(z)
    m.add(sum(zs) == p)
    b.rm.days_of[rid] = days
    union_by_day: dict[int, int] = defaultdict(int)
    for u in union:
        union_by_day[u // S] += 1
    b.rm.union_of[rid] = frozenset(union)
    return union_by_day


def _add_staff_literals(
    b: _Build, req, p, t, cands: dict[str, list[int]], union: list[int], union_by_day: dict[int, int]
) -> None:
    """``a[r,s]`` for each qualified practitioner free at some candidate start: exactly one when present, the
    start inside that practitioner's hours, an optional interval for their capacity, and the continuity cost
    when the patient has a preferred / last week's practitioner who is not ``s``."""
    m, rid = b.m, req.rid
    known = b.history.continuity.get((req.patient_id, req.session))
    as_ = []
    for s, ts in cands.items():
        a = m.new_bool_var(f"a{rid}_{s}")
        b.rm.staff[rid, s] = a
        as_.append(a)
        if len(ts) < len(union):
            _staff_starts(m, b.rm, rid, a, t, ts, union_by_day, b.rm.per_day)
        iv = m.new_optional_fixed_size_interval_var(t, req.duration // b.week.slot, a, f"i{rid}_{s}")
        b.staff_iv[s].append((iv, b.units[req.session]))
        if known and s not in known:
            b.objective.append(scaled(b.weights.continuity) * a)
    m.add(sum(as_) == p)
    b.rm.staff_of[rid] = list(cands)


def _add_time_preference(b: _Build, req, p, t, union: list[int]) -> None:
    """Preferred times: a placed session costs ``time_preference`` unless ``liked[r]`` (start inside the
    patient's preferred times) is true."""
    info = b.week.patients[req.patient_id]
    weight = scaled(b.weights.time_preference)
    if info.preferred_windows is None or not weight:
        return
    inside = [u for u in union if info.prefers(b.rm.dec(u), req.duration)]
    b.objective.append(weight * p)  # a placed session costs, unless inside
    if inside:
        liked = b.m.new_bool_var(f"liked{req.rid}")
        b.m.add_implication(liked, p)
        b.m.add_linear_expression_in_domain(t, _domain(inside)).only_enforce_if(liked)
        b.rm.aux.append(
            (
                liked,
                lambda asg, rid=req.rid, d=req.duration, info=info: rid in asg and bool(info.prefers(asg[rid][0], d)),
            )
        )
        b.objective.append(-weight * liked)


def _add_stability(b: _Build, req, p, t, union: list[int]) -> None:
    """Few changes: a placed session costs ``stability`` unless ``keep[r]`` (last week's weekday and time)."""
    prev = b.history.stability.get((req.patient_id, req.session))
    weight = scaled(b.weights.stability)
    if not (prev and weight):
        return
    w = b.week
    prev_u = {b.rm.enc(x) for x in prev if w.open_minute <= x % DAY < w.close_minute}
    same = [x for x in union if x in prev_u]
    b.objective.append(weight * p)
    if same:
        keep = b.m.new_bool_var(f"keep{req.rid}")
        b.m.add_implication(keep, p)
        b.m.add_linear_expression_in_domain(t, _domain(same)).only_enforce_if(keep)
        b.rm.aux.append((keep, lambda asg, rid=req.rid, prev=prev: rid in asg and asg[rid][0] in prev))
        b.objective.append(-weight * keep)


def _add_practitioner_capacity(b: _Build) -> None:
    """Per practitioner, ``cumulative`` of their sessions (share of ``cap`` each; no-overlap when every session
    takes all of it), with a neighbourhood's fixed load as runs of constant demand."""
    for s in list(b.staff_iv):
        b.staff_iv[s].extend(_runs(b.m, b.staff_profile.get(s, {}), f"fs_{s}"))
    for items in b.staff_iv.values():
        if all(u == b.cap for _, u in items):
            b.m.add_no_overlap([iv for iv, _ in items])
        else:
            b.m.add_cumulative([iv for iv, _ in items], [u for _, u in items], b.cap)


def _add_room_capacity(b: _Build) -> None:
    """Per room type, ``cumulative`` of the sessions that need one (capacity = rooms of that type)."""
    for room, ivs in b.room_iv.items():
        runs = _runs(b.m, b.room_profile.get(room, {}), f"fr_{room}")
        demands = [1] * len(ivs) + [d for _, d in runs]
        ivs = ivs + [iv for iv, _ in runs]
        if b.rcap[room] == 1 and all(d == 1 for d in demands):
            b.m.add_no_overlap(ivs)
        else:
            b.m.add_cumulative(ivs, demands, b.rcap[room])


def _add_patient_no_overlap(b: _Build) -> None:
    """A patient is in one place at a time: no-overlap of their sessions."""
    for ivs in b.patient_iv.values():
        if len(ivs) > 1:
            b.m.add_no_overlap(ivs)


def _add_patient_rules(b: _Build, pinned: set[int]) -> None:
    """Per patient: spacing of same-kind sessions, no PT just before acupuncture, intake first (phase 1),
    acupuncture before the first PT (phase 2), and the visit literals of fewer trips."""
    w, sc = b.week, b.week.scenario
    tm = sc.protocol.timing
    for pid, reqs in w.by_patient.items():
        reqs = [r for r in reqs if r.rid in b.rm.present]
        if not reqs:  # a patient outside the neighbourhood (or with nothing to place): no variable to constrain
            continue
        _spacing(b.m, b.rm, reqs, pinned, tm.min_days_between_same_type)
        _pt_not_before_acu(b.m, b.rm, w, reqs, tm.no_pt_within_hours_before_acupuncture)
        if w.patients[pid].phase == "1":
            _intake_first(b.m, b.rm, w, pid, reqs)
        if w.patients[pid].phase == "2" and sc.protocol.phase2.acupuncture_per_week > 0:
            _acu_opens_pt(b.m, b.rm, w, reqs, tm)
        if scaled(b.weights.fewer_trips):
            _add_trips(b, pid, reqs)


def _add_trips(b: _Build, pid: str, reqs: list) -> None:
    """Fewer trips: a visit literal ``v[p,d]`` per day the patient may come, implied by each session that day
    (and >= the number of same-kind sessions, at most one a day), each costing ``fewer_trips``."""
    m = b.m
    for d in b.week.days:
        zs = {r.rid: b.rm.day[r.rid, d] for r in reqs if (r.rid, d) in b.rm.day}
        if not zs:
            continue
        v = m.new_bool_var(f"v{pid}_{d}")
        for z in zs.values():
            m.add_implication(z, v)
        # at most one session of a kind a day (spacing >= 1 day): a visit covers all of them
        for kind in ("acupuncture", "physiotherapy"):
            same = [zs[r.rid] for r in reqs if r.session == kind and r.rid in zs]
            if len(same) > 1:
                m.add(v >= sum(same))
        b.objective.append(scaled(b.weights.fewer_trips) * v)
        b.rm.aux.append((v, lambda asg, rids=tuple(zs), d=d: any(r in asg and asg[r][0] // DAY == d for r in rids)))


def _add_workload_balance(b: _Build) -> None:
    """Workload balance: per role, ``max_role >=`` each member's number of sessions (fixed ones included),
    costing ``workload_balance``."""
    if not scaled(b.weights.workload_balance):
        return
    w, m = b.week, b.m
    n = len(w.requests)
    per_staff: dict[str, list] = defaultdict(list)
    for (_rid, s), a in b.rm.staff.items():
        per_staff[s].append(a)
    for role in sorted({r for info in w.staff.values() for r in info.roles}):
        members = [s for s, info in w.staff.items() if role in info.roles]
        top = m.new_int_var(0, n, f"max_{role}")
        for s in members:
            lits = per_staff.get(s, [])
            if lits or b.fixed_load[s]:
                m.add(top >= b.fixed_load[s] + sum(lits))
        b.objective.append(scaled(b.weights.workload_balance) * top)
        b.rm.aux.append(
            (
                top,
                lambda asg, ms=frozenset(members): max(
                    (c for x, c in Counter(s for _, s in asg.values()).items() if x in ms), default=0
                ),
            )
        )


def _add_pins(b: _Build, pins: Sequence[Pin], free: set[int] | None) -> None:
    """Each pin behind its own literal (an assumption, so that a conflict can be explained): placed, at the
    pinned start, with the pinned practitioner. A pin the model cannot express gets a literal forced false."""
    m, rm = b.m, b.rm
    for i, pin in enumerate(pins):
        if free is not None and pin.rid not in free:
            continue
        lit = m.new_bool_var(f"pin{i}")
        rm.pin_literals[i] = lit
        rid = pin.rid
        if rid not in rm.present or (rid, pin.staff_id) not in rm.staff:
            m.add_bool_or([lit.Not()])
            continue
        m.add(rm.present[rid] == 1).only_enforce_if(lit)
        m.add(rm.start[rid] == rm.enc(pin.t)).only_enforce_if(lit)
        m.add(rm.staff[rid, pin.staff_id] == 1).only_enforce_if(lit)


def _runs(m, profile: dict[int, int], name: str) -> list:
    """Fixed intervals, one per maximal run of slots with the same non-zero load, with that load as demand."""
    out, run = [], None
    for u in sorted(profile) + [None]:
        load = profile.get(u, 0) if u is not None else 0
        if run and u == run[1] and load == run[2]:
            run[1] += 1
            continue
        if run and run[2]:
            out.append((m.new_fixed_size_interval_var(run[0], run[1] - run[0], f"{name}_{run[0]}"), run[2]))
        run = [u, u + 1, load] if u is not None else None
    return out


def _staff_starts(m, rm, rid, a, t, allowed, union, per_day) -> None:
    """``a[r,s]`` => start among the practitioner's allowed starts, stated day by day (on a day, allowed starts
    are usually one contiguous range: two enforced inequalities instead of a domain with many holes, which
    CP-SAT's presolve and LNS handle far more slowly)."""
    by_day: dict[int, list[int]] = defaultdict(list)
    for u in allowed:
        by_day[u // per_day].append(u)
    for d in rm.days_of[rid]:
        z = rm.day[rid, d]
        mine = by_day.get(d, [])
        if not mine:
            m.add_bool_or([a.Not(), z.Not()])
        elif len(mine) == union[d]:
            continue
        elif mine[-1] - mine[0] + 1 == len(mine):
            m.add(t >= mine[0]).only_enforce_if([a, z])
            m.add(t <= mine[-1]).only_enforce_if([a, z])
        else:
            m.add_linear_expression_in_domain(t, _domain(mine)).only_enforce_if([a, z])


def _dayexpr(rm: RosterModel, rid: int):
    return sum(d * rm.day[rid, d] for d in rm.days_of[rid])


def _spacing(m, rm, reqs, pinned, gap) -> None:
    """Same-kind sessions of a patient at least ``gap`` calendar days apart (ordered when not pinned)."""
    for kind in ("acupuncture", "physiotherapy"):
        same = [r for r in reqs if r.session == kind]
        free = [r for r in same if r.rid not in pinned]
        for a, b in zip(free, free[1:], strict=False):
            m.add_implication(rm.present[b.rid], rm.present[a.rid])
            m.add(_dayexpr(rm, b.rid) >= _dayexpr(rm, a.rid) + gap).only_enforce_if(rm.present[b.rid])
        for i, a in enumerate(same):
            for b in same[i + 1 :]:
                if a.rid not in pinned and b.rid not in pinned:
                    continue
                for d in rm.days_of[a.rid]:
                    za = rm.day[a.rid, d]
                    close = [rm.day[b.rid, e] for e in range(d - gap + 1, d + gap) if (b.rid, e) in rm.day]
                    if close:
                        m.add(za + sum(close) <= 1)


def _pt_not_before_acu(m, rm, week, reqs, hours) -> None:
    """No physiotherapy ending less than M hours before an acupuncture starts on the same day."""
    slot = week.slot
    d_pt = week.scenario.protocol.durations_minutes.physiotherapy // slot
    d_acu = week.scenario.protocol.durations_minutes.acupuncture // slot
    gap = -(-round(hours * 60) // slot)  # whole slots: starts lie on the grid
    acus = [r for r in reqs if r.session == "acupuncture"]
    pts = [r for r in reqs if r.session == "physiotherapy"]
    for q in pts:
        for a in acus:
            shared = [d for d in rm.days_of[q.rid] if (a.rid, d) in rm.day]
            if not shared:
                continue
            acu_first = m.new_bool_var(f"o{q.rid}_{a.rid}")
            rm.aux.append((acu_first, lambda asg, q=q.rid, a=a.rid: q in asg and a in asg and asg[a][0] < asg[q][0]))
            m.add(rm.start[q.rid] >= rm.start[a.rid] + d_acu).only_enforce_if(acu_first)
            for d in shared:
                m.add(rm.start[a.rid] >= rm.start[q.rid] + d_pt + gap).only_enforce_if(
                    [acu_first.Not(), rm.day[q.rid, d], rm.day[a.rid, d]]
                )


def _intake_first(m, rm, week, pid, reqs) -> None:
    """Phase 1: when the patient needs an intake this week, each acupuncture needs it placed and ended before
    (``occupancy.intake_precedes``): acupuncture present => intake present, start(acu) >= start(intake) + length."""
    needed = [r for r in week.by_patient[pid] if r.session == "assessment"]
    if not needed:
        return
    intake = needed[0]
    for a in (r for r in reqs if r.session == "acupuncture"):
        if intake.rid not in rm.present:  # the intake has no possible slot: no acupuncture either
            m.add(rm.present[a.rid] == 0)
            continue
        m.add_implication(rm.present[a.rid], rm.present[intake.rid])
        m.add(rm.start[a.rid] >= rm.start[intake.rid] + intake.duration // week.slot).only_enforce_if(
            [rm.present[a.rid], rm.present[intake.rid]]
        )


def _first_pt(asg, pts) -> int | None:
    placed = sorted((asg[r][0], r) for r in pts if r in asg)
    return placed[0][1] if placed else None


def _acu_opens_pt(m, rm, week, reqs, tm) -> None:
    """Phase 2: the week's first physiotherapy follows an acupuncture the day before (if allowed) or the same
    day at least N hours earlier (start to start). Later PT sessions need not."""
    acus = [r for r in reqs if r.session == "acupuncture"]
    pts = [r for r in reqs if r.session == "physiotherapy"]
    if not pts:
        return
    n_slots = -(-round(tm.same_day_acupuncture_min_hours_before_pt * 60) // week.slot)
    pt_ids = tuple(q.rid for q in pts)
    firsts = []
    for q in pts:
        f = m.new_bool_var(f"first{q.rid}")
        firsts.append(f)
        rm.aux.append((f, lambda asg, q=q.rid: _first_pt(asg, pt_ids) == q))
        m.add_implication(f, rm.present[q.rid])
        for q2 in pts:
            if q2 is not q:
                m.add(rm.start[q.rid] <= rm.start[q2.rid]).only_enforce_if([f, rm.present[q2.rid]])
        oks = []
        for a in acus:
            ok = m.new_bool_var(f"ok{q.rid}_{a.rid}")
            oks.append(ok)
            rm.aux.append(
                (
                    ok,
                    lambda asg, q=q.rid, a=a.rid: (
                        _first_pt(asg, pt_ids) == q and a in asg and acu_precedes_pt(week, asg[a][0], asg[q][0])
                    ),
                )
            )
            m.add_implication(ok, rm.present[a.rid])
            for d in rm.days_of[q.rid]:
                zq = rm.day[q.rid, d]
                allowed = [
                    rm.day[a.rid, e]
                    for e in ([d - 1] if tm.acupuncture_day_before_pt else []) + [d]
                    if (a.rid, e) in rm.day
                ]
                if allowed:
                    m.add_bool_or(allowed).only_enforce_if([ok, zq])
                else:
                    m.add_bool_or([ok.Not(), zq.Not()])
                if (a.rid, d) in rm.day:
                    m.add(rm.start[q.rid] >= rm.start[a.rid] + n_slots).only_enforce_if([ok, zq, rm.day[a.rid, d]])
        if oks:
            m.add(sum(oks) >= f)
        else:
            m.add(f == 0)
    # exactly one "first" when any PT is placed
    anyp = m.new_bool_var(f"anypt{pts[0].rid}")
    m.add_max_equality(anyp, [rm.present[q.rid] for q in pts])
    rm.aux.append((anyp, lambda asg: any(r in asg for r in pt_ids)))
    m.add(sum(firsts) == anyp)


ROLE_OF_KIND = {"acupuncture": "acupuncturist", "physiotherapy": "physiotherapist", "assessment": "physician"}


def _energy(m, rm, week, cap, units, rcap, fixed_items=()) -> None:
    """Redundant linear capacity cuts (they tighten the bound; cumulatives alone relax poorly):
    per practitioner over the week, per role and per room type on each day, minutes x share <= capacity,
    then the counting and window cuts of each day."""
    _staff_week_cuts(m, rm, week, cap, units, fixed_items)
    fixed_on: dict[int, list] = defaultdict(list)  # the fixed sessions of each day (the cuts below are per day)
    for item in fixed_items:
        fixed_on[item[1] // DAY].append(item)
    shortest: dict[str, int] = {}
    for r in week.requests:
        shortest[r.session] = min(shortest.get(r.session, r.duration), r.duration)
    for d in week.days:
        by_role, by_room = _day_terms(rm, week, d, units, fixed_on[d])
        _role_day_cuts(m, week, d, by_role, cap)
        _window_counts(m, rm, week, d, d * DAY, (d + 1) * DAY, None, cap, units, rcap, fixed_on[d], shortest)
        _room_day_cuts(m, week, by_room, rcap)
        _window_energy(m, rm, week, d, cap, units, rcap, fixed_on[d], shortest)


def _only_constants(terms: list) -> bool:
    return all(isinstance(x, int) for x in terms)


def _staff_week_cuts(m, rm, week, cap, units, fixed_items) -> None:
    """Per practitioner: sum of slots x share of their sessions <= cap x their slots of the week."""
    minutes = {s: sum(b - a for a, b in info.windows) for s, info in week.staff.items()}
    per_staff: dict[str, list] = defaultdict(list)
    for (rid, s), a in rm.staff.items():
        req = week.requests[rid]
        per_staff[s].append(units[req.session] * (req.duration // week.slot) * a)
    for rid, _t0, s0 in fixed_items:
        req = week.requests[rid]
        per_staff[s0].append(units[req.session] * (req.duration // week.slot))
    for s, terms in per_staff.items():
        if not _only_constants(terms):
            m.add(sum(terms) <= cap * (minutes[s] // week.slot))


def _day_terms(rm, week, d, units, fixed_items) -> tuple[dict[str, list], dict[str, list]]:
    """Slot x share terms of day ``d`` per session kind (staff time) and per room type (room time)."""
    by_role: dict[str, list] = defaultdict(list)
    by_room: dict[str, list] = defaultdict(list)
    for rid in rm.present:
        if (rid, d) not in rm.day:
            continue
        req = week.requests[rid]
        z = rm.day[rid, d]
        by_role[req.session].append(units[req.session] * (req.duration // week.slot) * z)
        by_room[ROOM_OF_SESSION[req.session]].append((req.duration // week.slot) * z)
    for rid, t0, _s0 in fixed_items:
        if t0 // DAY == d:
            req = week.requests[rid]
            by_role[req.session].append(units[req.session] * (req.duration // week.slot))
            by_room[ROOM_OF_SESSION[req.session]].append(req.duration // week.slot)
    return by_role, by_room


def _role_day_cuts(m, week, d, by_role, cap) -> None:
    """Per role on day ``d``: staff time used <= cap x the role's available slots that day."""
    for kind, terms in by_role.items():
        if _only_constants(terms):
            continue
        role = ROLE_OF_KIND[kind]
        avail = sum(
            min(b, (d + 1) * DAY) - max(a, d * DAY)
            for info in week.staff.values()
            if role in info.roles
            for a, b in info.windows
            if a < (d + 1) * DAY and b > d * DAY
        )
        m.add(sum(terms) <= cap * (avail // week.slot))


def _room_day_cuts(m, week, by_room, rcap) -> None:
    """Per room type on a day: room time used <= rooms x open slots."""
    open_minutes = week.close_minute - week.open_minute
    for room, terms in by_room.items():
        if not _only_constants(terms):
            m.add(sum(terms) <= rcap[room] * (open_minutes // week.slot))


def _breakpoints(week, d) -> list[int]:
    """Day ``d``'s opening, closing and every patient or staff availability edge inside them."""
    return week.edges.get(d, [])


def _spans(rm, week, d) -> dict[int, tuple[int, int]]:
    """Per session that may lie on day ``d``: earliest start and latest end there (minutes of the week)."""
    span: dict[int, tuple[int, int]] = {}
    S = rm.per_day
    for rid in rm.present:
        if (rid, d) not in rm.day:
            continue
        starts = [rm.dec(u) for u in range(d * S, (d + 1) * S) if u in rm.union_of[rid]]
        span[rid] = (min(starts), max(starts) + week.requests[rid].duration)
    return span


def _window_energy(m, rm, week, d, cap, units, rcap, fixed_items, shortest) -> None:
    """Energy cuts on part of a day: for each window [x, y) between availability breakpoints, the sessions
    that can only lie inside it that day need at most the staff (and room) time the window holds."""
    points = _breakpoints(week, d)
    whole = (d * DAY + week.open_minute, d * DAY + week.close_minute)
    span = _spans(rm, week, d)
    for i, x in enumerate(points):
        for y in points[i + 1 :]:
            if (x, y) == whole:
                continue
            inside = [rid for rid, (a, b) in span.items() if x <= a and b <= y]
            if inside:
                _window_counts(m, rm, week, d, x, y, inside, cap, units, rcap, fixed_items, shortest)
                _window_cuts(m, rm, week, d, x, y, inside, cap, units, rcap, fixed_items)


def _window_cuts(m, rm, week, d, x, y, inside, cap, units, rcap, fixed_items) -> None:
    """In [x, y) of day ``d``, per kind: staff time of the sessions inside (and fixed ones) <= the role's time
    there; room time <= rooms x window slots."""
    for kind, role in ROLE_OF_KIND.items():
        terms = [
            units[kind] * (week.requests[r].duration // week.slot) * rm.day[r, d]
            for r in inside
            if week.requests[r].session == kind
        ]
        if not terms:
            continue
        terms += [
            units[kind] * (week.requests[r].duration // week.slot)
            for r, t0, _ in fixed_items
            if week.requests[r].session == kind and x <= t0 and t0 + week.requests[r].duration <= y
        ]
        avail = sum(
            max(0, min(b, y) - max(a, x)) for info in week.staff.values() if role in info.roles for a, b in info.windows
        )
        m.add(sum(terms) <= cap * (avail // week.slot))
        room = ROOM_OF_SESSION[kind]
        m.add(
            sum(
                (week.requests[r].duration // week.slot) * rm.day[r, d]
                for r in inside
                if week.requests[r].session == kind
            )
            <= rcap[room] * ((y - x) // week.slot)
        )


def _window_counts(m, rm, week, d, x, y, inside, cap, units, rcap, fixed_items, shortest) -> None:
    """Counting cuts with integer rounding: in [x, y) a practitioner window [a, b) holds at most
    floor(overlap / duration) sessions of a kind per parallel lane, and a room floor((y - x) / duration)
    (``shortest``: each kind's shortest duration in the week, fixed sessions too: assessments vary)."""
    roles = ROLE_OF_KIND
    pool = inside if inside is not None else [rid for rid in rm.present if (rid, d) in rm.day]
    for kind, role in roles.items():
        mine = [r for r in pool if week.requests[r].session == kind and (r, d) in rm.day]
        if not mine:
            continue
        dur = shortest[kind]
        fixed = sum(
            1
            for r, t0, _ in fixed_items
            if week.requests[r].session == kind and x <= t0 and t0 + week.requests[r].duration <= y
        )
        lanes = cap // units[kind]
        slots = sum(
            lanes * (max(0, min(b, y) - max(a, x)) // dur)
            for info in week.staff.values()
            if role in info.roles
            for a, b in info.windows
        )
        m.add(sum(rm.day[r, d] for r in mine) + fixed <= slots)
        m.add(sum(rm.day[r, d] for r in mine) + fixed <= rcap[ROOM_OF_SESSION[kind]] * ((y - x) // dur))
