"""``rehabflow clinic ...``: the clinic register week after week (thin: everything lives in ``clinic``).

The weekly routine: ``plan --week W`` -> the clinic works -> ``record attendance.csv`` -> ``review`` ->
``decide`` -> ``plan`` the next week; ``absence`` and ``rebook`` when the week changes under it. Bad input is
one line per problem on stderr and exit status 2; a conflict with someone else's edit too (nothing saved).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from scenarios import InputError

from .app import app, user_errors
from .outputs import check_out, staged_output
from .roster_cmd import parse_week

clinic_app = typer.Typer(
    help="The clinic register: plan, record, review and decide, week after week.", no_args_is_help=True
)
app.add_typer(clinic_app, name="clinic")

DB_HELP = "Register URL (default: $REHABFLOW_DB, else the SQLite file clinic.db); a path means a SQLite file."
WHO_HELP = "Who is doing this (kept with decisions and changes; default: your login name)."


def _who(who: str | None) -> str:
    from clinic.register import who_am_i

    return who or who_am_i()


def _date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date YYYY-MM-DD") from None


def _engine(db: str | None):  # noqa: ANN202  (sqlalchemy Engine, imported late)
    from clinic.db import open_register

    return open_register(db)


@clinic_app.command("init")
@user_errors
def init(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    scenario: str | None = typer.Option(
        None, "--scenario", help="Scenario the register follows (default: baseline; kept if already set)."
    ),
) -> None:
    """Create the register (or upgrade its schema) with the Alembic migrations."""
    from clinic.db import current_revision
    from clinic.register import init_register

    engine, stored = init_register(db, scenario)
    typer.echo(
        f"Register at {engine.url.render_as_string(hide_password=True)}: schema {current_revision(engine)}"
        + ("; scenario stored" if stored else "; scenario kept")
    )


@clinic_app.command("import")
@user_errors
def import_cmd(
    patients: Path = typer.Option(..., "--patients", help="patients.csv (docs/reference/formats.md)."),
    staff: Path = typer.Option(..., "--staff", help="staff.csv (docs/reference/formats.md)."),
    scenario: str | None = typer.Option(None, "--scenario", help="Replace the register's scenario first."),
    week: str | None = typer.Option(None, "--week", help="Monday a blank phase_start means (default: next Monday)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Load patients and staff (new ones added, known ones updated; a known patient keeps the register's phase)."""
    from clinic.register import import_files
    from optimizer.sample import next_monday

    monday = parse_week(week) if week else next_monday()
    counts = import_files(_engine(db), patients, staff, monday, scenario)
    typer.echo(
        f"Imported {counts['patients_added']} new and {counts['patients_updated']} known patients, "
        f"{counts['staff_added']} new and {counts['staff_updated']} known staff"
    )


def _print_outcome(out) -> None:  # noqa: ANN001  (clinic.planning.PlanOutcome)
    typer.echo(
        f"Week of {out.week}: {out.placed}/{out.required} sessions placed ({out.kept} kept), status {out.status}"
    )
    for m in out.moves:
        if out.kind == "rebook" or m.action != "added" or m.reason != "planned":
            typer.echo(f"  {m.line()}")
    for u in out.unscheduled:
        typer.echo(f"  unscheduled {u['session']} of {u['patient_id']}: {u['reason']}")
    for line in out.explanation:
        typer.echo(f"  conflict: {line}")


def _check_out(out: Path | None) -> None:
    if out is not None:
        check_out(out)


def _export(db: str | None, week: dt.date, out: Path | None, timezone: str | None = None) -> None:
    """The week's files, whole or absent (written in a folder beside ``out``, moved in at the end)."""
    if out is None:
        return
    from clinic.register import export_week

    with staged_output(out) as folder:
        names = export_week(_engine(db), week, folder, timezone)
    typer.echo(f"Wrote {out}/{', '.join(names)}")


@clinic_app.command("plan")
@user_errors
def plan(
    week: str = typer.Option(..., "--week", help="The Monday of the week to plan."),
    out: Path | None = typer.Option(None, "--out", help="Also write the week's files here (as `clinic export`)."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=0.1, help="Solver budget, deterministic seconds (default: the scenario's)."
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Solver seed (default: the scenario's)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    who: str | None = typer.Option(None, "--who", help=WHO_HELP),
) -> None:
    """Plan the week: required sessions from the register and the protocol; booked appointments kept."""
    from clinic.planning import plan_week

    monday = parse_week(week)
    _check_out(out)
    outcome = plan_week(_engine(db), monday, who=_who(who), time_limit=time_limit, seed=seed)
    _print_outcome(outcome)
    typer.echo("Validator: no hard-rule violation")
    _export(db, monday, out)


@clinic_app.command("rebook")
@user_errors
def rebook(
    week: str = typer.Option(..., "--week", help="The Monday of the week to repair."),
    from_date: str | None = typer.Option(
        None, "--from", help="First day to re-plan (default: today, or the week's Monday)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Also write the week's files here."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=0.1, help="Solver budget, deterministic seconds."
    ),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Solver seed."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    who: str | None = typer.Option(None, "--who", help=WHO_HELP),
) -> None:
    """Re-plan the rest of the week after a no-show, cancellation or absence, with as few changes as possible."""
    from clinic.planning import rebook_week

    monday = parse_week(week)
    _check_out(out)
    today = dt.date.today()
    first = (
        _date(from_date, "--from")
        if from_date
        else (today if monday <= today < monday + dt.timedelta(days=7) else monday)
    )
    outcome = rebook_week(_engine(db), monday, first, who=_who(who), time_limit=time_limit, seed=seed)
    _print_outcome(outcome)
    if not outcome.moves:
        typer.echo("  nothing had to move")
    typer.echo("Validator: no hard-rule violation")
    _export(db, monday, out)


@clinic_app.command("record")
@user_errors
def record(
    attendance: Path = typer.Argument(
        ..., help="attendance.csv: patient_id, date, start, session, status, vas_before, vas_after."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Record attendance and VAS; any bad row -> one line per problem and nothing changed."""
    from clinic.attendance import record_file

    done = record_file(_engine(db), attendance)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(done.by_status.items()))
    typer.echo(f"Recorded {done.rows} appointments ({counts}) and {done.readings} VAS readings")


@clinic_app.command("absence")
@user_errors
def absence(
    staff_id: str = typer.Argument(..., metavar="STAFF"),
    date_from: str = typer.Option(..., "--from", help="First day away (YYYY-MM-DD)."),
    date_to: str = typer.Option(..., "--to", help="Last day away (YYYY-MM-DD)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    who: str | None = typer.Option(None, "--who", help=WHO_HELP),
) -> None:
    """Record a practitioner's absence (plan and rebook take it out of their hours)."""
    from clinic.register import add_absence

    a, b = _date(date_from, "--from"), _date(date_to, "--to")
    n = add_absence(_engine(db), staff_id, a, b, _who(who))
    typer.echo(
        f"{staff_id} away {a} to {b}; {n} planned appointment(s) in those days: run `clinic rebook` to move them"
    )


@clinic_app.command("review")
@user_errors
def review_cmd(
    week: str | None = typer.Option(
        None, "--week", help="Week the decisions take effect (default: after the latest planned week)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """What the protocol proposes for the physician to confirm, each with its reason."""
    from clinic.review import review

    w, props = review(_engine(db), parse_week(week) if week else None)
    typer.echo(f"Proposals for the week of {w}: {len(props)}")
    for x in props:
        typer.echo(f"  {x.line()}")


@clinic_app.command("decide")
@user_errors
def decide_cmd(
    patient: str | None = typer.Argument(None, metavar="PATIENT"),
    to: str | None = typer.Option(None, "--to", help="1, 2, 3, maintenance, discharged, completed or exited."),
    note: str = typer.Option("", "--note", help="Why (required when it is not what the protocol proposes)."),
    accept_all: bool = typer.Option(False, "--accept-all", help="Accept every current proposal as proposed."),
    diagnosis: str = typer.Option("", "--diagnosis", help="Referral: functional diagnosis (overrides the proposal's)."),
    target_muscles: str = typer.Option("", "--target-muscles", help="Referral: target muscles."),
    restrictions: str = typer.Option("", "--restrictions", help="Referral: restrictions."),
    week: str | None = typer.Option(
        None, "--week", help="Week the decision takes effect (default: after the latest planned week)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    who: str | None = typer.Option(None, "--who", help=WHO_HELP),
) -> None:
    """Confirm a phase decision (kept with who, when and why), or all proposals at once."""
    from clinic.review import accept_all as accept
    from clinic.review import decide

    monday = parse_week(week) if week else None
    if accept_all:
        if patient or to:
            raise InputError("--accept-all takes no PATIENT or --to")
        props = accept(_engine(db), who=_who(who), week=monday, note=note)
        typer.echo(f"Accepted {len(props)} proposal(s)")
        for x in props:
            typer.echo(f"  {x.patient_id}: {x.from_phase} -> {x.to} ({x.kind.replace('_', ' ')})")
        return
    if not patient or not to:
        raise InputError("give PATIENT and --to PHASE, or --accept-all")
    referral = {"functional_diagnosis": diagnosis, "target_muscles": target_muscles, "restrictions": restrictions}
    d = decide(_engine(db), patient, to, who=_who(who), note=note, week=monday, referral=referral)
    typer.echo(f"{d.patient_id}: {d.from_phase} -> {d.to_phase} from the week of {d.week} ({d.kind}: {d.reason})")


@clinic_app.command("export")
@user_errors
def export(
    week: str = typer.Option(..., "--week", help="The Monday of the week."),
    out: Path = typer.Option(..., "--out", help="Folder for the files."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA time zone for the .ics files."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Write patients.csv, staff.csv, roster.csv, unscheduled.csv, roster.xlsx, .ics and an attendance template."""
    _check_out(out)
    _export(db, parse_week(week), out, timezone)


@clinic_app.command("backup")
@user_errors
def backup_cmd(
    out: Path = typer.Option(..., "--out", help="Backup file (SQLite) or dump file (PostgreSQL)."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Back up the register: SQLite's online backup; for PostgreSQL, the pg_dump command to run."""
    from clinic.backup import backup

    typer.echo(backup(_engine(db), out))


@clinic_app.command("demo")
@user_errors
def demo(
    weeks: int = typer.Option(6, "--weeks", min=1, max=52, help="Weeks to run."),
    out: Path = typer.Option(Path("clinic-demo"), "--out", help="Folder for the register and each week's files."),
    seed: int = typer.Option(1, "--seed", min=0, help="Root seed (the sample week and the patients' pain)."),
    scenario: str = typer.Option("baseline", "--scenario", help="Scenario (built-in name or YAML file)."),
    patients: int = typer.Option(16, "--patients", min=1, max=400, help="Patients in the sample clinic."),
    time_limit: float = typer.Option(1.0, "--time-limit", min=0.1, help="Solver budget per week (deterministic s)."),
    db: str | None = typer.Option(None, "--db", help="Register URL (default: a new SQLite file in --out)."),
) -> None:
    """Run the clinic for some weeks: plan -> attendance and VAS from the pain model -> record -> review -> accept."""
    from clinic.demo import run_demo

    run_demo(
        out=out,
        weeks=weeks,
        seed=seed,
        scenario=scenario,
        n_patients=patients,
        time_limit=time_limit,
        url=db,
        echo=typer.echo,
    )
