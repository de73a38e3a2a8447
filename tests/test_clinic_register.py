"""The clinic register's schema (Alembic migrations), import and export, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from clinic import db
from clinic.models import Base, Patient, Staff
from clinic.register import import_files, init_register
from clinic_support import (
    BACKENDS,
    PG_ENV,
    WEEK,
    ci_without_server,
    database_url,
    new_register,
    small_clinic,
    write_inputs,
)
from optimizer.io import read_patients, read_staff
from scenarios import InputError, load_scenario


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path):
    yield from database_url(request.param, tmp_path)


def test_ci_runs_the_register_tests_on_postgresql_too():
    assert not ci_without_server(), f"CI is set but {PG_ENV} is not: .ci/run must start PostgreSQL"


def test_migrations_from_empty_create_the_schema_the_models_describe(url):
    engine = db.make_engine(url)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert {"patients", "staff", "appointments", "absences", "decisions", "changes", "plan_runs", "settings"} <= set(
        inspect(engine).get_table_names()
    )


def test_upgrade_from_the_previous_revision_keeps_the_data(url):
    engine = db.make_engine(url)
    db.upgrade(engine, "0001_core")
    assert "decisions" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO patients (patient_id, condition, phase, phase_start, status, availability, "
                "preferred_staff, preferred_times, priority, needs_assessment, extra_sessions, version) "
                "VALUES ('P1', 'fibromyalgia', '2', '2026-11-23', 'active', '', '', '', 0, false, 0, 1)"
            )
        )
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    assert "decisions" in inspect(engine).get_table_names()
    with db.transaction(engine) as s:
        p = s.get(Patient, "P1")
        assert (p.phase, p.phase_start) == ("2", dt.date(2026, 11, 23))


def test_the_register_holds_ids_and_no_names(url):
    engine, _ = init_register(url, "baseline")
    columns = {c["name"] for t in inspect(engine).get_table_names() for c in inspect(engine).get_columns(t)}
    assert not {c for c in columns if "name" in c and c != "scenario_name"}


def test_import_then_export_gives_back_the_same_patients_and_staff(url, tmp_path):
    from clinic.register import export_week

    engine = new_register(url, tmp_path / "in")
    scen = load_scenario("baseline")
    files = export_week(engine, WEEK, tmp_path / "out")
    assert "attendance.csv" in files
    got_p = read_patients(tmp_path / "out" / "patients.csv", scen)
    want_p = read_patients(tmp_path / "in" / "patients.csv", scen)
    cols = [
        "patient_id",
        "condition",
        "phase",
        "availability",
        "preferred_staff",
        "priority",
        "phase_start",
        "needs_assessment",
        "preferred_times",
    ]
    pd.testing.assert_frame_equal(
        got_p.sort_values("patient_id")[cols].reset_index(drop=True),
        want_p.sort_values("patient_id")[cols].reset_index(drop=True),
    )
    got_s = read_staff(tmp_path / "out" / "staff.csv", scen)
    want_s = read_staff(tmp_path / "in" / "staff.csv", scen)
    pd.testing.assert_frame_equal(
        got_s.sort_values("staff_id").reset_index(drop=True), want_s.sort_values("staff_id").reset_index(drop=True)
    )


def test_a_bad_import_file_reports_every_problem_and_changes_nothing(url, tmp_path):
    engine = new_register(url, tmp_path / "in")
    patients, staff = small_clinic(4, seed=9)
    patients = patients.assign(patient_id=[f"Q{i}" for i in range(len(patients))])
    patients.loc[1, "condition"] = "migraine"
    patients.loc[2, "phase"] = "7"
    p, s = write_inputs(tmp_path / "bad", patients, staff)
    with pytest.raises(InputError) as e:
        import_files(engine, p, s, WEEK)
    lines = str(e.value).splitlines()
    assert any("row 3, column 'condition'" in line for line in lines)
    assert any("row 4, column 'phase'" in line for line in lines)
    with db.transaction(engine) as session:
        assert not session.scalars(select(Patient).where(Patient.patient_id.like("Q%"))).all()


def test_reimport_keeps_the_registers_phase_and_updates_availability(url, tmp_path):
    engine = new_register(url, tmp_path / "in")
    patients, staff = small_clinic()
    first = patients.iloc[0]
    changed = patients.copy()
    changed.loc[0, "phase"] = "3" if first["phase"] != "3" else "2"
    changed.loc[0, "availability"] = "Mon 08:00-12:00"
    p, s = write_inputs(tmp_path / "again", changed, staff)
    counts = import_files(engine, p, s, WEEK)
    assert counts["patients_updated"] == len(patients) and counts["patients_added"] == 0
    with db.transaction(engine) as session:
        row = session.get(Patient, first["patient_id"])
        assert row.phase == first["phase"] and row.availability == "Mon 08:00-12:00"
        assert len(session.scalars(select(Staff)).all()) == len(staff)


def test_opening_a_missing_register_says_how_to_create_it(tmp_path):
    with pytest.raises(InputError, match="clinic init"):
        db.open_register(f"sqlite:///{tmp_path / 'none.db'}")
