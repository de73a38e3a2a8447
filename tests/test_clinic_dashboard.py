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
