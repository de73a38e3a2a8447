"""The dashboard's Clinic page on a real register: plan the week, enter attendance and VAS, accept proposals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from clinic import db
from clinic.models import ATTENDED, Appointment
from clinic_support import WEEK, new_register

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture()
def page(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    engine = new_register(url, tmp_path / "in", n=6, seed=4)
    monkeypatch.setenv("REHABFLOW_DB", url)
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/clinic.py").run()
    at.date_input(key="clinic_week").set_value(WEEK).run()
    return at, engine


def test_the_clinic_page_plans_the_week_and_records_attendance_and_vas(page):
    at, engine = page
    assert not at.exception
    at.button(key="clinic_plan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("validator accepts it" in s.value for s in at.success)
    with db.transaction(engine) as s:
        appts = s.scalars(select(Appointment).where(Appointment.week == WEEK)).all()
    assert appts
    at.session_state["clinic_attendance"] = {
        "edited_rows": {0: {"status": "attended", "vas_before": 6.5, "vas_after": 4.0}},
        "added_rows": [],
        "deleted_rows": [],
    }
    at.run()
    at.button(key="clinic_record").click().run()
    assert not at.error, [e.value for e in at.error]
    with db.transaction(engine) as s:
        done = s.scalars(select(Appointment).where(Appointment.status == ATTENDED)).all()
    assert [(a.vas_before, a.vas_after) for a in done] == [(6.5, 4.0)]


def test_the_clinic_page_offers_to_create_a_missing_register(tmp_path, monkeypatch):
    monkeypatch.setenv("REHABFLOW_DB", f"sqlite:///{tmp_path / 'new.db'}")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/clinic.py").run()
    assert any("clinic init" in w.value for w in at.warning)
    at.button(key="clinic_init").click().run()
    assert not at.exception and not at.warning
    assert db.current_revision(db.make_engine(f"sqlite:///{tmp_path / 'new.db'}")) == db.head_revision()


@pytest.fixture()
def due(tmp_path, monkeypatch):
    """A register whose phase-2 patient has been in the phase longer than ``max_weeks`` (progression due) and a
    phase-1 patient with nothing to decide, opened on the Clinic page."""
    import datetime as dt

    from clinic_support import register_with

    started = (WEEK - dt.timedelta(weeks=5)).isoformat()
    engine = register_with(
        tmp_path,
        [
            {"patient_id": "P2", "condition": "chronic_low_back_pain", "phase": "2", "phase_start": started},
            {"patient_id": "P1", "condition": "chronic_neck_pain", "phase": "1"},
        ],
    )
    monkeypatch.setenv("REHABFLOW_DB", f"sqlite:///{tmp_path / 'clinic.db'}")
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("app_pages/clinic.py").run()
    at.text_input(key="clinic_who").set_value("dr_lee").run()
    at.date_input(key="clinic_week").set_value(WEEK).run()
    return at, engine


def test_accept_all_on_the_clinic_page_applies_and_keeps_every_proposal(due):
    import datetime as dt

    from clinic.models import Decision, Patient

    at, engine = due
    assert not at.exception
    accept = at.button(key="clinic_accept")
    assert accept.label == "Accept all 1 proposals (as dr_lee)"
    accept.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    nxt = WEEK + dt.timedelta(weeks=1)
    assert any(f"Accepted 1 proposal(s); they take effect in the week of {nxt}" in s.value for s in at.success)
    with db.transaction(engine) as s:
        decisions = s.scalars(select(Decision)).all()
        p2, p1 = s.get(Patient, "P2"), s.get(Patient, "P1")
        assert (p2.phase, p2.phase_start, p1.phase) == ("3", nxt, "1")
    assert [(d.patient_id, d.kind, d.from_phase, d.to_phase, d.decided_by) for d in decisions] == [
        ("P2", "progression", "2", "3", "dr_lee")
    ]


def test_the_clinic_page_forecasts_from_the_register_beside_the_steady_state(due):
    at, _ = due
    at.number_input(key="clinic_forecast_weeks").set_value(2).run()
    at.number_input(key="clinic_forecast_reps").set_value(2).run()
    at.button(key="clinic_forecast").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    table = next(d.value for d in at.dataframe if "from the register today (weeks 1-2)" in d.value.columns)
    assert any(c.startswith("steady state") for c in table.columns)
    assert "Waiting list, patients not yet treated (mean)" in set(table["KPI"])
    assert any("2 active patients" in m.value for m in at.markdown)
