"""``rehabflow roster``, ``rehabflow check-roster`` and ``rehabflow sample-week``: the weekly roster from the shell.

Thin: reading, solving, validating and writing live in ``optimizer``. ``--week`` must be a Monday (a roster week
runs Monday to Sunday; another date is rejected with the Monday of its week, rather than silently moved).
Bad input (scenario, CSVs, dates) is one line per problem on stderr and exit status 2.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shlex
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer

from scenarios import InputError, Scenario, load_scenario

from .app import app, fail, user_errors
from .outputs import check_out, staged_output

PINNED = "pinned appointments"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def parse_week(text: str) -> dt.date:
    """``--week``: an ISO date that is a Monday."""
    try:
        day = dt.date.fromisoformat(text.strip()) if len(text.strip()) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise InputError(f"--week: {text!r} is not a date YYYY-MM-DD")
    if day.weekday() != 0:
        monday = day - dt.timedelta(days=day.weekday())
        raise InputError(
            f"--week: {day} is a {WEEKDAY_NAMES[day.weekday()]}; a roster week starts on a Monday (use --week {monday})"
        )
    return day


def _inputs(
    scenario: str, patients: Path, staff: Path, rosters: dict[str, Path | None], week_start: dt.date
) -> tuple[Any, ...]:
    """Scenario, patients, staff and the optional roster files, every problem of every file reported together.

    Pinned appointments must name known patients and staff and fall in the week (they are real bookings).
    """
    from optimizer.io import raise_problems, read_inputs, read_roster

    problems: list[str] = []
    scen: Scenario | None = None
    try:
        scen = load_scenario(scenario)
    except InputError as e:
        raise InputError(str(e)) from None  # the CSVs cannot be checked without the scenario
    p = s = None
    try:
        p, s = read_inputs(patients, staff, scen)
    except InputError as e:
        problems.extend(str(e).splitlines())
    tables: dict[str, Any] = {}
    for label, path in rosters.items():
        if path is None:
            tables[label] = None
            continue
        try:
            strict = label == PINNED and p is not None
            tables[label] = read_roster(
                path,
                label,
                patients=p if strict else None,
                staff=s if strict else None,
                week_start=week_start if label == PINNED else None,
            )
        except InputError as e:
            problems.extend(str(e).splitlines())
    raise_problems(problems)
    return scen, p, s, tables


def _solver() -> tuple[Any, Any]:
    """``solve_roster`` and ``validate_roster``, imported late (the CLI starts fast and reads inputs first)."""
    from optimizer import solve_roster, validate_roster

    return solve_roster, validate_roster


def _fmt(value: Any, spec: str = "g") -> str:
    if value is None:
        return "n/a"
    try:
        return format(value, spec)
    except (TypeError, ValueError):
        return str(value)


@app.command("roster")
@user_errors
def roster(
    scenario: str = typer.Option(
        ..., "--scenario", help="Built-in scenario name or YAML file (calendar, rooms, protocol, weights)."
    ),
    patients: Path = typer.Option(..., "--patients", help="patients.csv: patient_id, condition, phase, ..."),
    staff: Path = typer.Option(..., "--staff", help="staff.csv: staff_id, role, availability."),
    week: str = typer.Option(..., "--week", help="The Monday the week starts (YYYY-MM-DD)."),
    out: Path = typer.Option(
        ..., "--out", help="Folder for roster.csv, unscheduled.csv, roster.xlsx, roster.ics, ics/, summary.json."
    ),
    pinned: Path | None = typer.Option(None, "--pinned", help="Appointments already booked (roster CSV); they stay."),
    previous: Path | None = typer.Option(
        None, "--previous", help="Last week's roster (roster CSV), for continuity and few changes."
    ),
    time_limit: float | None = typer.Option(
        None,
        "--time-limit",
        min=0.1,
        help="Seconds of wall-clock time for the whole solve (default: the "
        "scenario's); with --reproducible a work budget in the solver's "
        "deterministic seconds instead.",
    ),
    reproducible: bool = typer.Option(
        False,
        "--reproducible",
        help="Same inputs and seed give the same roster on any machine: --time-limit "
        "is deterministic work, not seconds (the wall time is printed).",
    ),
    fast: bool = typer.Option(False, "--fast", hidden=True, help="Former name of the default wall-clock mode."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Solver seed (default: the scenario's)."),
    timezone: str | None = typer.Option(
        None, "--timezone", help="IANA time zone for the .ics files (default: floating local time)."
    ),
) -> None:
    """Build the week's roster: every required session placed in a slot with a practitioner and a room.

    Exit 0; 1 when pinned appointments could not be kept (explained) or the validator objects; 2 for bad input.
    """
    from optimizer.exports import (
        write_roster_csv,
        write_roster_ics,
        write_roster_xlsx,
        write_staff_ics,
        write_summary,
        write_unscheduled_csv,
    )

    week_start = parse_week(week)
    if timezone:
        _check_timezone(timezone)
    scen, p, s, tables = _inputs(scenario, patients, staff, {PINNED: pinned, "previous week": previous}, week_start)
    if (warning := future_phase_starts(p, week_start)) is not None:
        typer.echo(warning, err=True)
    check_out(out)
    solve_roster, validate_roster = _solver()
    limit = float(scen.roster.time_limit_seconds if time_limit is None else time_limit)
    result = solve_live(
        solve_roster,
        scen,
        p,
        s,
        week_start,
        time_limit=limit,
        pinned=tables[PINNED],
        previous=tables["previous week"],
        seed=seed,
        reproducible=reproducible and not fast,
    )
    kept, dropped = split_pins(tables[PINNED], result)
    violations = validate_roster(scen, p, s, result.roster, week_start, pinned=kept)
    result.summary = dict(
        result.summary,
        week_start=week_start.isoformat(),
        scenario=scen.name,
        validator_violations=len(violations),
        pinned_kept=0 if kept is None else len(kept),
        pinned_dropped=dropped,
    )
    with staged_output(out) as folder:  # whole or absent: see rehabflow/cli/outputs.py
        write_roster_csv(result, folder / "roster.csv")
        write_unscheduled_csv(result, folder / "unscheduled.csv")
        write_roster_xlsx(result, folder / "roster.xlsx")
        write_roster_ics(result, folder / "roster.ics", timezone)
        staff_files = write_staff_ics(result, folder / "ics", timezone)
        write_summary(result, folder / "summary.json")
    _print_summary(result, violations, out, len(staff_files))
    if violations or dropped:
        raise typer.Exit(1)


def solve_live(solve_roster: Any, *args: Any, **kwargs: Any) -> Any:
    """``solve_roster`` in a worker thread while this (main) thread shows its progress; Ctrl-C or SIGTERM stop
    the search and the best roster found so far is returned (and then written whole like any other)."""
    from optimizer.progress import Stopper

    stopper = Stopper()
    line = ProgressLine(kwargs.get("time_limit"), bool(kwargs.get("reproducible")))
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = solve_roster(*args, progress=line.update, stopper=stopper, **kwargs)
        except BaseException as e:  # noqa: BLE001  (re-raised in the main thread)
            box["error"] = e

    thread = threading.Thread(target=work, name="rehabflow-roster", daemon=True)
    with _stop_on_signals(stopper, line), line:
        thread.start()
        while thread.is_alive():
            thread.join(0.25)
            line.tick()
    if "error" in box:
        raise box["error"]
    return box["result"]


@contextlib.contextmanager
def _stop_on_signals(stopper: Any, line: ProgressLine) -> Iterator[None]:
    """SIGINT and SIGTERM stop the search instead of killing the command (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        line.note("stopping: finishing the best roster found so far")
        stopper.stop()

    saved = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


class ProgressLine:
    """Elapsed time, sessions placed / required, objective, bound and gap while solving, on stderr: one live line
    on a terminal (rich), a plain line per improvement otherwise."""

    def __init__(self, limit: float | None, reproducible: bool) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.limit, self.reproducible = limit, reproducible
        self.last: Any = None
        self.live: Any = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> ProgressLine:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live("solving...", console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.live is not None:
            self.tick()
            self.live.__exit__(*exc)

    def text(self) -> str:
        e = self.last
        elapsed = time.perf_counter() - self._t0
        head = f"{elapsed:5.1f} s" + (f" of {self.limit:g}" if self.limit and not self.reproducible else "")
        if e is None:
            return f"{head} | reading the week"
        gap = "n/a" if e.gap is None else f"{100 * e.gap:.1f}%"
        bound = "n/a" if e.bound is None else f"{e.bound:.1f}"
        return (
            f"{head} | placed {e.placed}/{e.required} | objective {e.objective:.1f} | bound {bound} | "
            f"gap {gap} | {e.phase}"
        )

    def update(self, event: Any) -> None:
        """The solver's progress callback (called from the worker thread)."""
        self.last = event
        if self.live is None:
            self.console.print(self.text(), highlight=False, markup=False, soft_wrap=True)

    def tick(self) -> None:
        if self.live is not None:
            from rich.text import Text

            self.live.update(Text(self.text()))

    def note(self, message: str) -> None:
        self.console.print(message, highlight=False)


def split_pins(pinned: Any, result: Any) -> tuple[Any, int]:
    """The pinned appointments the roster kept and how many of the pinned rows it could not keep.

    The kept ones are those the solver was held to (``result.pinned``), not roster rows that merely equal a pin
    it left out: a pin left out for a rule can land in the same slot by chance, and is still not kept. The
    solver leaves out pins that conflict with each other or with hard rules and explains why; the command then
    exits 1 so that a script notices, after writing the roster of everything else.
    """
    if pinned is None or not len(pinned):
        return pinned, 0
    kept = result.pinned
    n_kept = 0 if kept is None else len(kept)
    return kept, len(pinned) - n_kept


def _check_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"--timezone: {name!r} is not an IANA time zone (e.g. Europe/Lisbon)") from None


def _gap_text(gap: float | None) -> str:
    """The gap to the best lower bound, or why there is none (a large week whose bounds did not finish)."""
    if gap is None:
        return "gap unknown (no lower bound finished within the time limit; a longer --time-limit gives one)"
    return f"gap {100 * gap:.2f}%"


def _print_summary(result: Any, violations: list[str], out: Path, n_staff_files: int) -> None:
    sm = result.summary
    placed, required = (
        sm.get("placed", len(result.roster)),
        sm.get("required", len(result.roster) + len(result.unscheduled)),
    )
    gap = sm.get("gap")
    wall = f"solve time {_fmt(sm.get('solve_time'), '.1f')} s"
    if sm.get("time_mode") == "deterministic":
        wall = (
            f"reproducible: work budget {_fmt(sm.get('time_limit'))} deterministic s, "
            f"wall time {_fmt(sm.get('solve_time'), '.1f')} s"
        )
    typer.echo(
        f"Week of {sm.get('week_start')}: {placed}/{required} sessions placed; status {sm.get('status', 'n/a')}, "
        f"{_gap_text(gap)}, {wall} (greedy placed {_fmt(sm.get('greedy_placed'))})"
    )
    if sm.get("stopped"):
        typer.echo("Stopped before the time limit: this is the best roster found so far (complete and checked).")
    if len(result.unscheduled):
        typer.echo(f"Unscheduled: {len(result.unscheduled)}")
        for reason, n in Counter(result.unscheduled["reason"].astype(str)).most_common():
            typer.echo(f"  {n:4d}  {reason}")
    for line in result.explanation:
        typer.echo(f"Conflict: {line}")
    if sm.get("pinned_kept") or sm.get("pinned_dropped"):
        typer.echo(
            f"Pinned appointments: {sm['pinned_kept']} kept, {sm['pinned_dropped']} could not be kept"
            + (" (see Conflict)" if sm["pinned_dropped"] else "")
        )
    if violations:
        typer.echo(f"Validator: {len(violations)} hard-rule violation(s):", err=True)
        for v in violations:
            typer.echo(f"  {v}", err=True)
    else:
        typer.echo("Validator: no hard-rule violation")
    typer.echo(
        f"Wrote {out}/roster.csv, unscheduled.csv, roster.xlsx, roster.ics, ics/ ({n_staff_files} calendars), summary.json"
    )


@app.command("check-roster")
@user_errors
def check_roster(
    roster_file: Path = typer.Argument(..., metavar="ROSTER", help="The roster CSV to check."),
    scenario: str = typer.Option(..., "--scenario", help="Built-in scenario name or YAML file."),
    patients: Path = typer.Option(..., "--patients", help="patients.csv the roster was built for."),
    staff: Path = typer.Option(..., "--staff", help="staff.csv the roster was built for."),
    week: str = typer.Option(..., "--week", help="The Monday the week starts (YYYY-MM-DD)."),
    pinned: Path | None = typer.Option(None, "--pinned", help="Appointments that had to stay (roster CSV)."),
) -> None:
    """List every hard-rule violation of a roster: exit 0 if there is none, 1 if there are some, 2 for bad input."""
    week_start = parse_week(week)
    scen, p, s, tables = _inputs(
        scenario, patients, staff, {"roster to check": roster_file, PINNED: pinned}, week_start
    )
    _, validate_roster = _solver()
    violations = validate_roster(scen, p, s, tables["roster to check"], week_start, pinned=tables[PINNED])
    n = len(tables["roster to check"])
    if violations:
        for v in violations:
            typer.echo(v)
        typer.echo(f"{roster_file}: {len(violations)} hard-rule violation(s) in {n} appointments", err=True)
        raise typer.Exit(1)
    typer.echo(f"{roster_file}: valid ({n} appointments, no hard-rule violation)")


@app.command("sample-week")
@user_errors
def sample_week_cmd(
    scenario: str = typer.Option(..., "--scenario", help="Built-in scenario name or YAML file."),
    out: Path = typer.Option(..., "--out", help="Folder for patients.csv and staff.csv."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed (same seed, same week)."),
    week: str | None = typer.Option(
        None, "--week", help="The Monday of the roster week (default: next Monday); sets phase_start dates."
    ),
    source: str = typer.Option(
        "simulation",
        "--source",
        help="simulation: the patients a simulated run of the scenario has in each phase at "
        "its end; mix: drawn from the scenario's steady-state mix of phases.",
    ),
) -> None:
    """Write a realistic patients.csv and staff.csv for a scenario (patients in their phases as a simulation has them)."""
    from optimizer.exports import write_csv
    from optimizer.sample import next_monday, sample_week

    if source not in ("simulation", "mix"):
        raise fail(f"--source: {source!r} is not 'simulation' or 'mix'")
    week_start = parse_week(week) if week else next_monday()
    scen = load_scenario(scenario)
    check_out(out)
    population = None
    if source == "simulation":
        from sim.snapshot import population_at_end

        population = population_at_end(scen, seed, week_start)
    patients, staff = sample_week(scen, seed, week_start=week_start, population=population)
    patients = patients.assign(needs_assessment=patients["needs_assessment"].map({True: "yes", False: "no"}))
    with staged_output(out) as folder:
        write_csv(patients, folder / "patients.csv")
        write_csv(staff, folder / "staff.csv")
    by_phase = patients["phase"].value_counts()
    phases = ", ".join(
        f"{'phase ' + ph if ph != 'maintenance' else ph}: {by_phase.get(ph, 0)}"
        for ph in ("1", "2", "3", "maintenance")
    )
    typer.echo(
        f"Wrote {out}/patients.csv ({len(patients)} patients; {phases}) and staff.csv ({len(staff)} staff) "
        f"for the week of Monday {week_start}"
    )
    typer.echo(next_roster_command(scenario, out, week_start))


def next_roster_command(scenario: str, out: Path, week_start: dt.date) -> str:
    """The exact ``rehabflow roster`` line for the files sample-week just wrote (the same week)."""
    args = [
        "rehabflow",
        "roster",
        "--scenario",
        scenario,
        "--patients",
        str(out / "patients.csv"),
        "--staff",
        str(out / "staff.csv"),
        "--week",
        week_start.isoformat(),
        "--out",
        str(out / "roster"),
    ]
    return "Next: " + " ".join(shlex.quote(a) for a in args)


def future_phase_starts(patients: Any, week_start: dt.date) -> str | None:
    """A warning when patients' ``phase_start`` is after the rostered week (a file made for a later week?)."""
    if patients is None or "phase_start" not in getattr(patients, "columns", ()):
        return None
    week_end = (week_start + dt.timedelta(days=6)).isoformat()
    starts = patients["phase_start"].fillna("").astype(str)
    late = patients.loc[starts > week_end, ["patient_id", "phase_start"]]
    if late.empty:
        return None
    first = late.iloc[0]
    return (
        f"Warning: {len(late)} patient(s) start their phase after the week of {week_start} (e.g. "
        f"{first['patient_id']}: phase_start {first['phase_start']}); they are rostered as if already in it. "
        f"Was the file made for another week? (sample-week --week {week_start} makes one for this week)"
    )
