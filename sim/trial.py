"""Trial mode: the pain and outcome model alone (no capacity, no booking) on cohorts configured like a published
trial (docs/reference/formats.md, "Trial files").

A trial file names a scenario (its ``conditions`` and ``pain_model`` are used unchanged: the trials validate the
model that clinics run), a cohort, arms with fixed schedules and read-out weeks. Patient i has the same attributes
and the same natural history in every arm (common random numbers: its streams come from the trial seed and i).
Sessions of a kind are spread evenly over the week at 09:00 (2/week: Monday and Thursday); ``schedule:
[[2, 3], [1, 4]]`` means 2/week for 3 weeks, then 1/week for 4. ``hours_after_acupuncture`` places each PT session
that many hours after the most recent real (or sham) needling session before its nominal time. A read-out at week
w is the VAS reading (test-retest noise included) and the function at 09:00 on day 7w, before any session of that
day. Every session is attended (intention to treat, no dropout).

Built-in trial files live in ``scenarios/trials/`` (package data); an optional ``published`` list in a file holds
the published figures the validation table (``python -m sim.trial_report``) and the tests compare with.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios import InputError, Scenario, load_scenario
from scenarios.loading import validation_problems
from scenarios.schema import (
    BaselinePain,
    Condition,
    ConditionSpec,
    FunctionScale,
    PainDuration,
)

from .pain import DAY, PainState, PatientDraws

TRIALS_PACKAGE, TRIALS_DIR = "scenarios", "trials"
READ_MINUTE = 9 * 60  # read-outs and sessions at 09:00 (DESIGN.md, "Trial files")
RESULT_COLUMNS = [
    "arm",
    "week",
    "n",
    "mean_vas",
    "mean_change",
    "sd_change",
    "responders_30",
    "responders_50",
    "mean_function",
    "mean_function_change",
]
MEASURES = Literal[
    "mean_vas",
    "mean_change",
    "sd_change",
    "responders_30",
    "responders_50",
    "mean_function",
    "mean_function_change",
    "scale_change",
]


class TrialError(InputError):
    """A trial file that cannot be used (one ``FILE: field: reason`` line per problem)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Course(_Strict):
    """Sessions of one kind: ``count`` at ``per_week``, or ``schedule`` [[per_week, weeks], ...]."""

    count: int | None = Field(None, ge=0, le=200)
    per_week: int | None = Field(None, ge=1, le=7)
    schedule: list[tuple[Annotated[int, Field(ge=1, le=7)], Annotated[int, Field(ge=1, le=104)]]] | None = None
    start_week: int = Field(0, ge=0, le=104)

    @model_validator(mode="after")
    def _one_form(self) -> Course:
        if self.schedule is not None and (self.count is not None or self.per_week is not None):
            raise ValueError("give either schedule or count and per_week, not both")
        if self.schedule is None and (self.count is None or self.per_week is None):
            raise ValueError("needs count and per_week (or a schedule)")
        return self

    def days(self) -> list[int]:
        """Session days (day 0 = the first session day's Monday of week 0)."""
        blocks = self.schedule or [(self.per_week or 1, math.ceil((self.count or 0) / (self.per_week or 1)))]
        out: list = []
        week = self.start_week
        for per_week, weeks in blocks:
            offsets = [(i * 7) // per_week for i in range(per_week)]
            for w in range(week, week + weeks):
                out.extend(7 * w + o for o in offsets)
            week += weeks
        return out if self.count is None else out[: self.count]


class PtCourse(Course):
    hours_after_acupuncture: float | None = Field(None, ge=0.0, le=24.0 * 14)


class Arm(_Strict):
    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.\-]+$")
    acupuncture: Course | None = None
    sham_acupuncture: Course | None = None
    physiotherapy: PtCourse | None = None


class Cohort(_Strict):
    condition: Condition
    n: int = Field(ge=1, le=200_000)
    baseline_vas: BaselinePain | None = None
    pain_duration_weeks: float | PainDuration | None = None


class Published(_Strict):
    """A published figure to compare with: ``value`` a number or a [low, high] range; pass if the model is within
    ``tolerance`` of it (of the range). ``scale_change`` is the mean function change on the condition's scale."""

    arm: str
    week: int = Field(ge=0)
    measure: MEASURES
    value: float | tuple[float, float]
    tolerance: float = Field(ge=0.0)
    source: str = ""


class TrialSpec(_Strict):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    scenario: str = "baseline"
    seed: int = Field(1, ge=0)
    cohort: Cohort
    arms: list[Arm] = Field(min_length=1)
    followup_weeks: list[Annotated[int, Field(ge=0, le=520)]] = Field(min_length=1)
    published: list[Published] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> TrialSpec:
        names = [a.name for a in self.arms]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"arm names must be unique ({', '.join(dup)} repeated)")
        for p in self.published:
            if p.arm not in names:
                raise ValueError(f"published figure for unknown arm {p.arm!r}")
            if p.week not in self.followup_weeks:
                raise ValueError(f"published figure at week {p.week}, which is not a follow-up week")
        return self


# ------------------------------------------------------------------------------------------------ loading
def builtin_trials() -> list[str]:
    folder = resources.files(TRIALS_PACKAGE).joinpath(TRIALS_DIR)
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def parse_trial(data: Any, source: str) -> TrialSpec:
    if not isinstance(data, dict):
        raise TrialError(f"{source}: (top level): expected a mapping, got {type(data).__name__}")
    try:
        return TrialSpec.model_validate(data)
    except ValidationError as e:
        raise TrialError("\n".join(validation_problems(e, source))) from None


def load_trial(name_or_path: str | Path) -> TrialSpec:
    """A built-in trial name (``gerac``) or a path to a trial YAML file."""
    text_or_path = str(name_or_path)
    path = Path(text_or_path)
    if path.suffix.lower() in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise TrialError(f"{text_or_path}: no such file")
        try:
            text, source = path.read_text(encoding="utf-8"), text_or_path
        except (OSError, UnicodeDecodeError) as e:
            raise TrialError(f"{text_or_path}: cannot read: {e}") from None
    elif text_or_path in builtin_trials():
        text = resources.files(TRIALS_PACKAGE).joinpath(TRIALS_DIR, f"{text_or_path}.yaml").read_text("utf-8")
        source = f"{text_or_path}.yaml"
    else:
        raise TrialError(
            f"{text_or_path}: no such trial file or built-in trial (built-in: {', '.join(builtin_trials())})"
        )
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(yaml)"
        raise TrialError(f"{source}: {where}: invalid YAML: {getattr(e, 'problem', None) or e}") from None
    return parse_trial(data, source)


def cohort_condition(trial: TrialSpec, scenario: Scenario) -> ConditionSpec:
    """The scenario's condition with the cohort's entry pain and pain duration, if the file gives them."""
    cond = scenario.conditions.get(trial.cohort.condition)
    if cond is None:
        raise TrialError(
            f"{trial.name}: cohort.condition: {trial.cohort.condition.value} has no parameters in "
            f"scenario {scenario.name!r}"
        )
    update: dict[str, Any] = {}
    if trial.cohort.baseline_vas is not None:
        update["baseline_vas"] = trial.cohort.baseline_vas
    d = trial.cohort.pain_duration_weeks
    if d is not None:
        update["pain_duration_weeks"] = d if isinstance(d, PainDuration) else PainDuration(min=d, max=d)
    return cond.model_copy(update=update)


# ------------------------------------------------------------------------------------------------ running
@dataclass(frozen=True)
class ArmEvents:
    """One arm's timeline: sorted (minute, order, kind) with kind in read, acupuncture, sham, pt."""

    events: list[tuple[float, int, str]]


ORDER = {"read": 0, "acupuncture": 1, "sham": 2, "pt": 3}


def arm_events(arm: Arm, followup_weeks: list[int]) -> ArmEvents:
    """The arm's sessions and read-outs in time order (read-outs first at equal times)."""
    ev: list[tuple[float, int, str]] = [
        (float(7 * w * DAY + READ_MINUTE), 0, "read") for w in sorted(set(followup_weeks) | {0})
    ]
    needles: list[float] = []
    for kind, course in (("acupuncture", arm.acupuncture), ("sham", arm.sham_acupuncture)):
        if course is not None:
            times = [float(d * DAY + READ_MINUTE) for d in course.days()]
            needles.extend(times)
            ev.extend((t, ORDER[kind], kind) for t in times)
    if arm.physiotherapy is not None:
        needles.sort()
        for d in arm.physiotherapy.days():
            t = float(d * DAY + READ_MINUTE)
            h = arm.physiotherapy.hours_after_acupuncture
            before = [x for x in needles if x <= t]
            if h is not None and before:
                t = before[-1] + 60.0 * h
            ev.append((t, ORDER["pt"], "pt"))
    ev.sort()
    return ArmEvents(ev)


def patient_seeds(seed: int, n: int) -> np.ndarray:
    return np.random.default_rng(np.random.SeedSequence(seed)).integers(0, 2**63 - 1, size=n)


def run_patient(
    cond: ConditionSpec, scenario: Scenario, seed: int, events: ArmEvents, pt_minutes: int
) -> list[tuple[float, float]]:
    """(VAS reading, function) at each read-out of one patient's timeline."""
    attr = random.Random(seed)
    draws = PatientDraws.from_random(attr)
    st = PainState(cond, scenario.pain_model, draws, float(READ_MINUTE), random.Random(attr.getrandbits(64)))
    out = []
    for t, _, kind in events.events:
        if kind == "read":
            out.append((st.vas(t), st.function(t)))
        elif kind == "pt":
            st.physiotherapy(t, t + pt_minutes)
        else:
            st.acupuncture(t, sham=kind == "sham")
    return out


def run_trial(trial: TrialSpec, n: int | None = None, scenario: Scenario | None = None) -> pd.DataFrame:
    """``results.csv`` of the trial (one row per arm and read-out, columns :data:`RESULT_COLUMNS`); ``n``
    overrides the cohort size, ``scenario`` the file's scenario."""
    sc = scenario or load_scenario(trial.scenario)
    cond = cohort_condition(trial, sc)
    n = n or trial.cohort.n
    seeds = patient_seeds(trial.seed, n).tolist()
    pt_minutes = sc.protocol.durations_minutes.physiotherapy
    weeks = sorted(set(trial.followup_weeks) | {0})
    rows = []
    for arm in trial.arms:
        ev = arm_events(arm, trial.followup_weeks)
        reads = np.array([run_patient(cond, sc, s, ev, pt_minutes) for s in seeds])  # n x weeks x 2
        vas0, fn0 = reads[:, 0, 0], reads[:, 0, 1]
        for j, w in enumerate(weeks):
            if w not in trial.followup_weeks:
                continue
            rows.append(summarise(arm.name, w, reads[:, j, 0], vas0, reads[:, j, 1], fn0))
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def summarise(arm: str, week: int, vas: np.ndarray, vas0: np.ndarray, fn: np.ndarray, fn0: np.ndarray) -> dict:
    """One results row: responders_X = share with a reduction of at least X% from a positive entry VAS."""
    change = vas - vas0
    pos = vas0 > 0
    reduction = np.where(pos, -change / np.where(pos, vas0, 1.0), 0.0)
    return {
        "arm": arm,
        "week": week,
        "n": int(vas.size),
        "mean_vas": float(vas.mean()),
        "mean_change": float(change.mean()),
        "sd_change": float(change.std(ddof=1)) if vas.size > 1 else 0.0,
        "responders_30": float(np.mean(pos & (reduction >= 0.30 - 1e-12))),
        "responders_50": float(np.mean(pos & (reduction >= 0.50 - 1e-12))),
        "mean_function": float(fn.mean()),
        "mean_function_change": float((fn - fn0).mean()),
    }


def scale_change(function_change: float, scale: FunctionScale) -> float:
    """A change of function (0-100) on the condition's published scale (e.g. Roland-Morris 0-23, lower better)."""
    per_point = scale.max / 100.0
    return function_change * per_point if scale.higher_is_better else -function_change * per_point


# ------------------------------------------------------------------------------------------ comparison
def comparison(trial: TrialSpec, results: pd.DataFrame, scenario: Scenario | None = None) -> pd.DataFrame:
    """The trial's published figures beside the model's: trial, arm, week, measure, published, model, tolerance,
    within (bool), source."""
    sc = scenario or load_scenario(trial.scenario)
    scale = cohort_condition(trial, sc).function.scale
    rows = []
    for p in trial.published:
        row = results[(results["arm"] == p.arm) & (results["week"] == p.week)].iloc[0]
        if p.measure == "scale_change":
            model = scale_change(float(row["mean_function_change"]), scale)
        else:
            model = float(row[p.measure])
        lo, hi = (p.value, p.value) if isinstance(p.value, float | int) else (min(p.value), max(p.value))
        within = lo - p.tolerance - 1e-12 <= model <= hi + p.tolerance + 1e-12
        published = f"{lo:g}" if lo == hi else f"{lo:g} to {hi:g}"
        rows.append(
            {
                "trial": trial.name,
                "arm": p.arm,
                "week": p.week,
                "measure": f"{scale.name} change" if p.measure == "scale_change" else p.measure,
                "published": published,
                "model": model,
                "tolerance": p.tolerance,
                "within": bool(within),
                "source": p.source,
            }
        )
    return pd.DataFrame(rows)


__all__ = [
    "RESULT_COLUMNS",
    "TrialError",
    "TrialSpec",
    "arm_events",
    "builtin_trials",
    "comparison",
    "load_trial",
    "parse_trial",
    "run_trial",
    "scale_change",
]
