"""The typed scenario: one object drives the simulation, the roster and the dashboard.

Every model parameter lives here, with its default in the built-in YAML files (each citing a row of
``docs/reference/clinical-parameters.md`` or marked "assumption"). Models are strict: unknown keys, wrong types and
impossible values are errors with a field path. Cross-field rules are in :class:`Scenario`'s validator.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .availability import (
    WEEKDAYS,
    AvailabilityError,
    Window,
    format_time,
    parse_availability,
    parse_time,
    parse_weekday,
)
from .limits import MAX_STAFF

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
VAS = Annotated[float, Field(ge=0.0, le=10.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
#: A penalty or weight of the roster objective (scaled to integers for CP-SAT: bounded so sums fit 64 bits).
Weight = Annotated[float, Field(ge=0.0, le=1e6)]
#: The simulation's root seed: what numpy's SeedSequence takes (any 64-bit number).
MAX_RUN_SEED = 2**63 - 1
#: The roster's seed: OR-Tools takes 32-bit seeds, and the roster adds round numbers to it.
MAX_ROSTER_SEED = 1_000_000_000


class Strict(BaseModel):
    """Every section: unknown keys are errors, and no number is NaN or infinite (``.inf`` in YAML)."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False, allow_inf_nan=False)


class Role(str, Enum):
    physician = "physician"
    acupuncturist = "acupuncturist"
    physiotherapist = "physiotherapist"


class Condition(str, Enum):
    chronic_low_back_pain = "chronic_low_back_pain"
    patellofemoral_syndrome = "patellofemoral_syndrome"
    shoulder_impingement = "shoulder_impingement"
    chronic_neck_pain = "chronic_neck_pain"
    fibromyalgia = "fibromyalgia"
    post_surgical_orthopaedic = "post_surgical_orthopaedic"


class ResponderClass(str, Enum):
    responder = "responder"
    partial = "partial"
    non_responder = "non_responder"


# ----------------------------------------------------------------------------------------------- calendar
class CalendarSpec(Strict):
    """When the clinic is open; every appointment starts on a slot boundary."""

    open_weekdays: list[str] = Field(default_factory=lambda: ["Mon", "Tue", "Wed", "Thu", "Fri"], min_length=1)
    opening_time: str = "08:00"
    closing_time: str = "18:00"
    slot_minutes: int = Field(15, ge=5, le=120)

    @field_validator("open_weekdays")
    @classmethod
    def _weekdays(cls, v: list[str]) -> list[str]:
        try:
            idx = [parse_weekday(d) for d in v]
        except AvailabilityError as e:
            raise ValueError(str(e)) from None
        if len(set(idx)) != len(idx):
            raise ValueError("a weekday is listed twice")
        return [WEEKDAYS[i] for i in sorted(idx)]

    @field_validator("opening_time", "closing_time")
    @classmethod
    def _time(cls, v: str) -> str:
        try:
            return format_time(parse_time(v))
        except AvailabilityError as e:
            raise ValueError(str(e)) from None

    @model_validator(mode="after")
    def _order(self) -> CalendarSpec:
        if self.open_minute >= self.close_minute:
            raise ValueError("opening_time must be before closing_time")
        if (self.close_minute - self.open_minute) % self.slot_minutes:
            raise ValueError("opening hours must be a whole number of slots")
        return self

    @property
    def open_minute(self) -> int:
        return parse_time(self.opening_time)

    @property
    def close_minute(self) -> int:
        return parse_time(self.closing_time)

    @property
    def weekday_indices(self) -> list[int]:
        return [parse_weekday(d) for d in self.open_weekdays]

    def windows(self) -> list[Window]:
        return [Window(d, self.open_minute, self.close_minute) for d in self.weekday_indices]


# ------------------------------------------------------------------------------------------------- staff
class StaffMember(Strict):
    """A practitioner: ``availability`` like ``"Mon-Fri 08:00-16:00"``; blank means the clinic's hours."""

    id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
    roles: list[Role] = Field(min_length=1)
    availability: str = Field("", max_length=1000)

    @field_validator("roles")
    @classmethod
    def _unique_roles(cls, v: list[Role]) -> list[Role]:
        if len(set(v)) != len(v):
            raise ValueError("a role is listed twice")
        return v

    @field_validator("availability")
    @classmethod
    def _availability(cls, v: str) -> str:
        try:
            parse_availability(v)
        except AvailabilityError as e:
            raise ValueError(str(e)) from None
        return v

    def windows(self, calendar: CalendarSpec) -> list[Window]:
        from .availability import intersect

        own = parse_availability(self.availability)
        return calendar.windows() if own is None else intersect(own, calendar.windows())


# ------------------------------------------------------------------------------------------------- rooms
class RoomsSpec(Strict):
    """Physical capacity and how many patients one practitioner looks after at once."""

    acupuncture_rooms: int = Field(ge=0, le=1000)
    gym_stations: int = Field(ge=0, le=1000)
    consultation_rooms: int = Field(1, ge=0, le=1000)
    pt_patients_per_therapist: int = Field(ge=1, le=10)
    acupuncture_rooms_per_acupuncturist: int = Field(ge=1, le=6)


# ------------------------------------------------------------------------------------------------ demand
class DemandSpec(Strict):
    """Referrals arrive as a Poisson process; ``monthly_multipliers`` (12 values) scale the weekly rate."""

    referrals_per_week: Annotated[float, Field(ge=0.0, le=200.0)]  # a clinic, not a region: bounded run time
    condition_mix: dict[Condition, Probability]
    monthly_multipliers: list[Annotated[float, Field(ge=0.0, le=10.0)]] | None = None

    @field_validator("condition_mix")
    @classmethod
    def _sums_to_one(cls, v: dict[Condition, float]) -> dict[Condition, float]:
        total = sum(v.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"shares must sum to 1 (they sum to {total:.4g})")
        return v

    @field_validator("monthly_multipliers")
    @classmethod
    def _twelve(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and len(v) != 12:
            raise ValueError(f"needs 12 values, one per month (got {len(v)})")
        return v


# -------------------------------------------------------------------------------------------- conditions
class BaselinePain(Strict):
    """Entry VAS ~ Normal(mean, sd) truncated to [min, 10]."""

    mean: VAS
    sd: Annotated[float, Field(ge=0.0, le=5.0)]
    min: VAS = 0.0

    @model_validator(mode="after")
    def _min_below_mean(self) -> BaselinePain:
        if self.min > self.mean:
            raise ValueError("min must not exceed mean")
        return self


class PerClass(Strict):
    """One value per responder class."""

    responder: float
    partial: float
    non_responder: float

    def __getitem__(self, cls: ResponderClass | str) -> float:
        return getattr(self, ResponderClass(cls).value)


class ClassProbabilities(PerClass):
    responder: Probability
    partial: Probability
    non_responder: Probability

    @model_validator(mode="after")
    def _sums_to_one(self) -> ClassProbabilities:
        total = self.responder + self.partial + self.non_responder
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"class probabilities must sum to 1 (they sum to {total:.4g})")
        return self


class ClassEffects(PerClass):
    """Specific (needling) relief per responder class: the fraction of pain a full course removes at most."""

    responder: Annotated[float, Field(ge=0.0, le=0.95)]
    partial: Annotated[float, Field(ge=0.0, le=0.95)]
    non_responder: Annotated[float, Field(ge=0.0, le=0.95)]


class AnalgesicWindow(Strict):
    """Post-session extra relief ``relief * exp(-t / tau)``; tau ~ LogNormal(ln median_hours, sigma) per patient."""

    relief_vas: Annotated[float, Field(ge=0.0, le=10.0)]
    median_hours: Annotated[float, Field(ge=0.1, le=720.0)]  # 6 minutes to 30 days
    sigma: Annotated[float, Field(ge=0.0, le=3.0)]


class DropoutSpec(Strict):
    """Weekly dropout hazard h = base + per_vas_point * pain + per_exercise_vas_point * pain during the last PT
    session + per_week_waiting * weeks waited (capped at 1)."""

    base_weekly: Probability
    per_vas_point: Probability
    per_week_waiting: Probability
    per_exercise_vas_point: Probability = 0.0


class NaturalHistory(Strict):
    """Untreated pain N = F + X + E (docs/background/model.md): a transient excess E (the flare that brought the patient in:
    regression to the mean) fading like a flare-up; the persistent part P0 = U0 - E0 splits into a floor
    F = floor_fraction * P0 and a resolvable part X that recovers at a rate falling with how long the pain has
    lasted, ``scale / (D + offset + t)**2`` per week: ``X(t) = X0 exp(-scale (1/(D + offset) - 1/(D + offset + t)))``
    (t, D in weeks)."""

    entry_excess_fraction: Annotated[float, Field(ge=0.0, le=0.45)]  # mean share of U0; per patient U(0, 2 mean)
    floor_fraction: Annotated[float, Field(ge=0.0, le=1.0)]
    recovery_scale_weeks: Annotated[float, Field(ge=0.0, le=5000.0)]
    recovery_offset_weeks: Annotated[float, Field(ge=0.0, le=520.0)]


class PainDuration(Strict):
    """How long the pain has lasted at entry (weeks): log-uniform between min and max."""

    min: Annotated[float, Field(ge=0.0, le=5200.0)]
    max: Annotated[float, Field(ge=0.0, le=5200.0)]

    @model_validator(mode="after")
    def _ordered(self) -> PainDuration:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


class FunctionScale(Strict):
    """The published scale that function 0-100 (100 = full function) maps to, linearly: a score s on 0..max is
    function ``100 * s / max`` if higher is better, else ``100 * (1 - s / max)``."""

    name: str = Field(min_length=1, max_length=40)
    max: Annotated[float, Field(gt=0.0, le=1000.0)]
    higher_is_better: bool


class FunctionSpec(Strict):
    """Function F (0-100): ``F = F0 + per_vas_point * (U0 - U) + G``, G the gain from PT loading (docs/background/model.md);
    F0 ~ Normal(baseline_mean - per_vas_point * (U0 - mean entry pain), baseline_sd) clipped to [0, 100]."""

    baseline_mean: Annotated[float, Field(ge=0.0, le=100.0)]
    baseline_sd: Annotated[float, Field(ge=0.0, le=50.0)]
    per_vas_point: Annotated[float, Field(ge=0.0, le=30.0)]
    scale: FunctionScale


class ConditionSpec(Strict):
    """Pain-response and adherence parameters of one condition (see docs/background/model.md for the equations)."""

    chronic: bool
    baseline_vas: BaselinePain
    pain_duration_weeks: PainDuration
    responder_probabilities: ClassProbabilities
    acupuncture_effect: ClassEffects  # fraction of pain a full course of real needling removes, by class
    analgesic_window: AnalgesicWindow
    natural_history: NaturalHistory
    flare_ups_per_week: Annotated[float, Field(ge=0.0, le=7.0)]  # at most one a day on average
    flare_up_vas: Annotated[float, Field(ge=0.0, le=10.0)]
    flare_duration_weeks: Annotated[float, Field(gt=0.0, le=52.0)]  # mean duration (exponential fading)
    function: FunctionSpec
    no_show_probability: Probability
    dropout: DropoutSpec
    recurrence_12_months: Probability
    # An episode recurs within this many weeks of discharge or not at all (the hazard is calibrated on the
    # 12-month share); without a window every treated patient would come back sooner or later.
    recurrence_window_weeks: int = Field(52, ge=1, le=520)


# --------------------------------------------------------------------------------------------- pain model
class PtLoad(Strict):
    """Load a PT session delivers (0-1) from the pain at the session: 1 at or below ``full_load_max_vas``,
    falling linearly to ``min_load`` at ``min_load_vas`` and above."""

    full_load_max_vas: VAS
    min_load_vas: VAS
    min_load: Probability

    @model_validator(mode="after")
    def _ordered(self) -> PtLoad:
        if self.min_load_vas <= self.full_load_max_vas:
            raise ValueError("min_load_vas must be above full_load_max_vas")
        return self

    def load(self, vas: float) -> float:
        """The load delivered at pain ``vas`` (``sim.pain.pt_load`` is the same rule on plain floats, for speed)."""
        if vas <= self.full_load_max_vas:
            return 1.0
        if vas >= self.min_load_vas:
            return self.min_load
        return 1.0 - (1.0 - self.min_load) * (vas - self.full_load_max_vas) / (
            self.min_load_vas - self.full_load_max_vas
        )


class PainModelSpec(Strict):
    """Parameters shared by all conditions (see docs/background/model.md)."""

    diminishing_returns: Annotated[float, Field(gt=0.0, le=1.0)]
    patient_effect_sd: Annotated[float, Field(ge=0.0, le=2.0)]
    effect_persistence_weekly: Annotated[float, Field(ge=0.0, le=1.0)]
    contextual_effect: Annotated[float, Field(ge=0.0, le=0.95)]  # fraction of pain a full course of needling
    #                                                              (real or sham) removes, non-specifically
    fatigue_penalty: Probability
    fatigue_hours: Annotated[float, Field(ge=0.0, le=48.0)]  # how long after PT needling is weakened (physiology;
    #                                                          the booking rule M is protocol.timing)
    vas_noise_sd: Annotated[float, Field(ge=0.0, le=3.0)]
    pt_load: PtLoad
    pt_pain_relief: Annotated[
        float, Field(ge=0.0, le=0.95)
    ]  # fraction of pain a full course of fully loaded PT removes
    pt_function_gain: Probability  # share of the remaining function deficit one fully loaded PT session recovers
    pt_effective_min_load: Probability  # a PT session counts as "effective" (KPI) at or above this load


# ------------------------------------------------------------------------------------------------ protocol
class Phase1Spec(Strict):
    acupuncture_per_week: int = Field(ge=0, le=7)
    typical_weeks: int = Field(ge=1, le=20)
    min_sessions: int = Field(ge=0, le=40)
    session_cap: int = Field(ge=1, le=40)
    non_responder_policy: Literal["extend", "reduced_load", "exit"]
    extension_sessions: int = Field(ge=0, le=20)


class Phase2Spec(Strict):
    acupuncture_per_week: int = Field(ge=0, le=7)
    pt_per_week: int = Field(ge=0, le=7)
    typical_weeks: int = Field(ge=1, le=20)
    progress_target: Annotated[float, Field(ge=0.0, le=100.0)]  # effective loading sessions to progress to phase 3
    max_weeks: int = Field(ge=1, le=30)


class Phase3Spec(Strict):
    acupuncture_every_weeks: int = Field(ge=0, le=8)  # 0 = no acupuncture in phase 3
    pt_per_week: int = Field(ge=0, le=7)
    typical_weeks: int = Field(ge=1, le=20)
    progress_target: Annotated[float, Field(ge=0.0, le=100.0)]
    max_weeks: int = Field(ge=1, le=30)


class MaintenanceSpec(Strict):
    chronic_only: bool
    acupuncture_every_weeks: int = Field(ge=0, le=26)  # 0 = no maintenance
    duration_weeks: int = Field(ge=0, le=104)
    recurrence_relative_risk: Annotated[float, Field(gt=0.0, le=2.0)]


class TimingRules(Strict):
    """The protocol's timing rules, in hours and days."""

    acupuncture_day_before_pt: bool
    pair_acupuncture_with_pt: bool = True  # phases 2-3: each acupuncture paired with a PT session after it
    same_day_acupuncture_min_hours_before_pt: Annotated[float, Field(ge=0.0, le=12.0)]  # N
    no_pt_within_hours_before_acupuncture: Annotated[float, Field(ge=0.0, le=24.0)]  # M
    min_days_between_same_type: int = Field(ge=1, le=7)


class SessionDurations(Strict):
    """Minutes; each must be a whole number of calendar slots."""

    intake_assessment: int = Field(ge=5, le=240)
    reevaluation: int = Field(ge=5, le=240)
    acupuncture: int = Field(ge=5, le=240)
    physiotherapy: int = Field(ge=5, le=240)


class ProtocolSpec(Strict):
    goal_vas: VAS
    phase1: Phase1Spec
    phase2: Phase2Spec
    phase3: Phase3Spec
    maintenance: MaintenanceSpec
    timing: TimingRules
    durations_minutes: SessionDurations
    booking_horizon_weeks: int = Field(ge=1, le=12)
    # no-shows in a row (since the last follow-up) after which the clinic register's review proposes a follow-up
    # call; 0 = never. A clinic rule the register applies (the simulation has no follow-up calls)
    no_show_follow_up: int = Field(2, ge=0, le=20)


# -------------------------------------------------------------------------------------------------- roster
class RosterWeights(Strict):
    """Penalty per unscheduled session by kind, and weights of the soft goals (all assumptions to tune)."""

    unscheduled_phase1: Weight
    unscheduled_phase2: Weight
    unscheduled_phase3: Weight
    unscheduled_maintenance: Weight
    unscheduled_assessment: Weight
    continuity: Weight
    fewer_trips: Weight
    time_preference: Weight
    workload_balance: Weight
    stability: Weight


class RosterSpec(Strict):
    weights: RosterWeights
    time_limit_seconds: float = Field(10.0, ge=0.1, le=3600.0)
    workers: int = Field(2, ge=1, le=64)
    seed: int = Field(0, ge=0, le=MAX_ROSTER_SEED)


# -------------------------------------------------------------------------------------------------- costs
class CostSpec(Strict):
    """Optional weekly cost per practitioner by role (for cheapest-staffing recommendations)."""

    currency: str = Field("EUR", max_length=10)
    per_week: dict[Role, Annotated[float, Field(ge=0.0, le=1e9)]] = Field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------- run
class WarmupSpec(Strict):
    method: Literal["fixed", "mser5"]
    weeks: int = Field(ge=0, le=520)  # used by "fixed"; the upper limit for "mser5"


class RunSpec(Strict):
    horizon_weeks: int = Field(ge=1, le=520)
    warmup: WarmupSpec
    replications: int = Field(ge=1, le=10000)
    seed: int = Field(ge=0, le=MAX_RUN_SEED)
    # read-outs: VAS, goal and function this many weeks after the intake (KPIs vas_week<w>.mean, ...)
    readout_weeks: list[Annotated[int, Field(ge=1, le=520)]] = Field(
        default_factory=lambda: [6], min_length=1, max_length=8
    )

    @field_validator("readout_weeks")
    @classmethod
    def _distinct(cls, v: list[int]) -> list[int]:
        if len(set(v)) != len(v):
            raise ValueError("a read-out week is listed twice")
        return sorted(v)

    @model_validator(mode="after")
    def _warmup_shorter(self) -> RunSpec:
        if self.warmup.method == "fixed" and self.warmup.weeks >= self.horizon_weeks:
            raise ValueError("warmup.weeks must be shorter than horizon_weeks")
        return self


# ----------------------------------------------------------------------------------------------- scenario
class Scenario(Strict):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = Field("", max_length=10_000)
    calendar: CalendarSpec
    staff: list[StaffMember] = Field(max_length=MAX_STAFF)
    rooms: RoomsSpec
    demand: DemandSpec
    conditions: dict[Condition, ConditionSpec]
    pain_model: PainModelSpec
    protocol: ProtocolSpec
    roster: RosterSpec
    costs: CostSpec = Field(default_factory=CostSpec)  # type: ignore[arg-type]  # pydantic builds the default from the model's own defaults
    run: RunSpec

    @field_validator("name")
    @classmethod
    def _not_dots(cls, v: str) -> str:
        if not v.strip("."):  # the name is the default output folder: '.' or '..' would leave out/
            raise ValueError(f"{v!r} is not a name (a name needs a letter, digit, '_' or '-')")
        return v

    @model_validator(mode="after")
    def _cross_field(self) -> Scenario:
        """Rules that span sections, one function each (``_CROSS_FIELD_CHECKS``); each error names its field."""
        errors = [problem for check in _CROSS_FIELD_CHECKS for problem in check(self)]
        if errors:
            raise CrossFieldErrors(errors)
        return self

    # Convenience views used by sim/, optimizer/ and dashboard/ -----------------------------------------
    def staff_with_role(self, role: Role | str) -> list[StaffMember]:
        role = Role(role)
        return [s for s in self.staff if role in s.roles]

    def role_counts(self) -> dict[str, int]:
        return {r.value: len(self.staff_with_role(r)) for r in Role}


# ------------------------------------------------------------------------------------ cross-field checks
#: One cross-field problem: (field path, reason).
Problem = tuple[str, str]


def _duplicate_staff_ids(sc: Scenario) -> list[Problem]:
    """Each staff id appears once (the later copies are named)."""
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for i, member in enumerate(sc.staff):  # linear: a dict of ids, not a scan of the ones before
        if first.setdefault(member.id, i) != i:
            problems.append((f"staff.{i}.id", f"duplicate staff id {member.id!r}"))
    return problems


def _staff_without_hours(sc: Scenario) -> list[Problem]:
    """Each staff member has some hours inside the clinic's open days and opening hours."""
    return [
        (f"staff.{i}.availability", "no hours inside the clinic's open days and opening hours")
        for i, member in enumerate(sc.staff)
        if not member.windows(sc.calendar)
    ]


def _weekly_counts_fit_week(sc: Scenario) -> list[Problem]:
    """Each weekly session count fits the open days, with the protocol's gap between sessions of one kind."""
    open_days = sorted(set(sc.calendar.weekday_indices))
    n_days = len(open_days)
    p = sc.protocol
    gap = p.timing.min_days_between_same_type
    max_spaced = _max_spaced_sessions(open_days, gap)
    problems: list[Problem] = []
    for path, n in (
        ("protocol.phase1.acupuncture_per_week", p.phase1.acupuncture_per_week),
        ("protocol.phase2.acupuncture_per_week", p.phase2.acupuncture_per_week),
        ("protocol.phase2.pt_per_week", p.phase2.pt_per_week),
        ("protocol.phase3.pt_per_week", p.phase3.pt_per_week),
    ):
        if n > n_days:
            problems.append((path, f"{n} sessions a week but the clinic is open {n_days} days"))
        elif n > max_spaced:
            problems.append((path, f"{n} sessions a week cannot be {gap} or more days apart on the open weekdays"))
    return problems


def _mix_conditions_have_parameters(sc: Scenario) -> list[Problem]:
    """Each condition of the referral mix has its parameters in ``conditions``."""
    return [
        (f"demand.condition_mix.{cond.value}", "condition has no parameters in 'conditions'")
        for cond in sc.demand.condition_mix
        if cond not in sc.conditions
    ]


def _needs_acupuncture(p: ProtocolSpec) -> bool:
    """The protocol has acupuncture sessions in some phase."""
    return (
        p.phase1.acupuncture_per_week > 0 or p.phase2.acupuncture_per_week > 0 or p.phase3.acupuncture_every_weeks > 0
    )


def _needs_physiotherapy(p: ProtocolSpec) -> bool:
    """The protocol has physiotherapy sessions in some phase."""
    return p.phase2.pt_per_week > 0 or p.phase3.pt_per_week > 0


def _roles_for_protocol(sc: Scenario) -> list[Problem]:
    """Some staff member has each role the protocol's sessions need (a physician always)."""
    roles = {r for s in sc.staff for r in s.roles}
    return [
        ("staff", f"no staff member has the role {role.value!r}, but {why}")
        for role, needed, why in (
            (Role.physician, True, "intake assessments need a physician"),
            (Role.acupuncturist, _needs_acupuncture(sc.protocol), "the protocol has acupuncture sessions"),
            (Role.physiotherapist, _needs_physiotherapy(sc.protocol), "the protocol has physiotherapy sessions"),
        )
        if needed and role not in roles
    ]


def _rooms_for_protocol(sc: Scenario) -> list[Problem]:
    """Each room type the protocol's sessions need has at least one room (a consultation room always)."""
    return [
        (path, reason)
        for path, missing, reason in (
            (
                "rooms.acupuncture_rooms",
                _needs_acupuncture(sc.protocol) and sc.rooms.acupuncture_rooms == 0,
                "is 0, but the protocol has acupuncture sessions",
            ),
            (
                "rooms.gym_stations",
                _needs_physiotherapy(sc.protocol) and sc.rooms.gym_stations == 0,
                "is 0, but the protocol has physiotherapy sessions",
            ),
            (
                "rooms.consultation_rooms",
                sc.rooms.consultation_rooms == 0,
                "is 0, but intake assessments need a room",
            ),
        )
        if missing
    ]


def _durations_fit_slots_and_hours(sc: Scenario) -> list[Problem]:
    """Each session lasts a whole number of slots and fits in the clinic's opening hours."""
    slot = sc.calendar.slot_minutes
    opening_hours = sc.calendar.close_minute - sc.calendar.open_minute
    problems: list[Problem] = []
    for field, minutes in sc.protocol.durations_minutes.model_dump().items():
        if minutes % slot:
            problems.append(
                (f"protocol.durations_minutes.{field}", f"{minutes} min is not a whole number of {slot}-minute slots")
            )
        if minutes > opening_hours:
            problems.append((f"protocol.durations_minutes.{field}", "longer than the clinic's opening hours"))
    return problems


def _phase_bounds_ordered(sc: Scenario) -> list[Problem]:
    """Each phase's lower bound does not exceed its upper bound (sessions in phase 1, weeks in phases 2-3)."""
    p = sc.protocol
    return [
        (path, reason)
        for path, wrong, reason in (
            (
                "protocol.phase1.min_sessions",
                p.phase1.min_sessions > p.phase1.session_cap,
                "must not exceed session_cap",
            ),
            (
                "protocol.phase2.max_weeks",
                p.phase2.max_weeks < p.phase2.typical_weeks,
                "must be at least typical_weeks",
            ),
            (
                "protocol.phase3.max_weeks",
                p.phase3.max_weeks < p.phase3.typical_weeks,
                "must be at least typical_weeks",
            ),
        )
        if wrong
    ]


#: The cross-field checks, in the order their problems are reported.
_CROSS_FIELD_CHECKS: tuple[Callable[[Scenario], list[Problem]], ...] = (
    _duplicate_staff_ids,
    _staff_without_hours,
    _weekly_counts_fit_week,
    _mix_conditions_have_parameters,
    _roles_for_protocol,
    _rooms_for_protocol,
    _durations_fit_slots_and_hours,
    _phase_bounds_ordered,
)


def _max_spaced_sessions(days: list[int], gap: int) -> int:
    """Most sessions placeable on ``days`` (0..6) of one week with at least ``gap`` days between them."""
    best = 0
    for start in days:
        count, last = 0, None
        for d in days:
            if d >= start and (last is None or d - last >= gap):
                count, last = count + 1, d
        best = max(best, count)
    return best


class CrossFieldErrors(ValueError):
    """Several cross-field problems at once; ``errors`` is a list of (field path, reason)."""

    def __init__(self, errors: list[tuple[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{p}: {r}" for p, r in errors))
