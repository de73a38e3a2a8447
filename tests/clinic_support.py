"""Helpers for the clinic register tests: a database per test on SQLite, and on PostgreSQL when
``REHABFLOW_TEST_PG_URL`` is set (CI sets it; see docs/how-to/clinic.md to start a local server)."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_ENV = "REHABFLOW_TEST_PG_URL"
WEEK = dt.date(2026, 11, 30)
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get(PG_ENV) else [])


def _pg_database(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards."""
    name = f"clinic_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(base_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from sqlalchemy.pool import NullPool  # noqa: F401  (connections of the test are closed by then)

        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'clinic.db'}"
        return
    yield from _pg_database(os.environ[PG_ENV])


def small_clinic(n: int = 8, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small sample week (the demo's: equal numbers per phase) and the baseline staff."""
    from clinic.demo import sample_clinic
    from scenarios import load_scenario

    return sample_clinic(load_scenario("baseline"), seed, WEEK, n)


def write_inputs(folder: Path, patients: pd.DataFrame, staff: pd.DataFrame) -> tuple[Path, Path]:
    from optimizer.exports import write_csv

    folder.mkdir(parents=True, exist_ok=True)
    p = patients.assign(needs_assessment=patients["needs_assessment"].map({True: "yes", False: "no"}))
    write_csv(p, folder / "patients.csv")
    write_csv(staff, folder / "staff.csv")
    return folder / "patients.csv", folder / "staff.csv"


def new_register(url: str, folder: Path, n: int = 8, seed: int = 3):  # noqa: ANN201  (Engine)
    """An initialised register with a small clinic imported for the week of :data:`WEEK`."""
    from clinic.register import import_files, init_register

    engine, _ = init_register(url, "baseline")
    patients, staff = small_clinic(n, seed)
    p, s = write_inputs(folder, patients, staff)
    import_files(engine, p, s, WEEK)
    return engine


def register_with(tmp_path, rows: list[dict], url: str | None = None):  # noqa: ANN201  (Engine)
    """A register (baseline, its staff) holding exactly ``rows`` (patient_id, condition, phase, phase_start,
    needs_assessment); at ``url`` (default: a SQLite file in ``tmp_path``)."""
    from clinic import db
    from clinic.register import import_tables, init_register, scenario_of
    from optimizer.sample import staff_table
    from optimizer.tables import PATIENT_COLUMNS

    engine, _ = init_register(url or f"sqlite:///{tmp_path / 'clinic.db'}", "baseline")
    patients = pd.DataFrame(
        [
            {
                "availability": "",
                "preferred_staff": "",
                "priority": 0,
                "preferred_times": "",
                "needs_assessment": False,
                "phase_start": WEEK.isoformat(),
                **r,
            }
            for r in rows
        ],
        columns=PATIENT_COLUMNS,
    )
    with db.transaction(engine) as s:
        import_tables(s, patients, staff_table(scenario_of(s)), WEEK)
    return engine


def ci_without_server() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") and not os.environ.get(PG_ENV)


__all__ = [
    "BACKENDS",
    "WEEK",
    "ci_without_server",
    "database_url",
    "new_register",
    "register_with",
    "pytest",
    "small_clinic",
    "write_inputs",
]


def add_appointments(
    engine,  # noqa: ANN001
    pid: str,
    session: str,
    days: list[dt.date],
    readings: list[tuple[float, float]] | None = None,
    **fields: object,
) -> None:
    """Appointments of one patient straight into the register, one per day; ``readings`` the VAS before and
    after of each, ``fields`` the rest (staff_id, room, start, end, phase, status)."""
    from clinic import db
    from clinic.models import Appointment

    with db.transaction(engine) as s:
        for k, day in enumerate(days):
            vas = {} if readings is None else {"vas_before": readings[k][0], "vas_after": readings[k][1]}
            s.add(
                Appointment(
                    week=day - dt.timedelta(days=day.weekday()),
                    patient_id=pid,
                    session=session,
                    date=day,
                    **vas,
                    **fields,
                )
            )
