"""The register's tables (SQLAlchemy 2 declarative). Ids and what the protocol needs, never names.

Every table a person edits carries a ``version`` column used by SQLAlchemy's optimistic locking
(``version_id_col``): an UPDATE names the version it read, so when two people edit the same row the second
write matches no row and fails (:class:`sqlalchemy.orm.exc.StaleDataError`) instead of silently overwriting.
The schema itself is created and upgraded only by the Alembic migrations in ``clinic/migrations``; the
migrations and these classes are checked to describe the same schema.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: patient status values: in the programme (a phase or maintenance), or one of the ends.
ACTIVE = "active"
DISCHARGED = "discharged"  # phase 3 completed, no maintenance (non-chronic)
COMPLETED = "completed"  # maintenance over
EXITED = "exited"  # non-responder exit
PATIENT_STATUSES = (ACTIVE, DISCHARGED, COMPLETED, EXITED)

#: appointment status values: ``planned`` by the register; the others come from attendance files.
PLANNED = "planned"
ATTENDED = "attended"
NO_SHOW = "no_show"
CANCELLED = "cancelled"
RECORDED_STATUSES = (ATTENDED, NO_SHOW, CANCELLED)
#: an appointment the clinic took back (rebook could not keep it): kept, never deleted.
WITHDRAWN = "withdrawn"


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Register-wide settings: the scenario (its YAML text), thresholds the register itself uses."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Staff(Base):
    __tablename__ = "staff"
    staff_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    role: Mapped[str] = mapped_column(String(80))
    availability: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Patient(Base):
    """A patient's place in the protocol: phase and the Monday it began, and what the roster needs."""

    __tablename__ = "patients"
    patient_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    condition: Mapped[str] = mapped_column(String(64))
    phase: Mapped[str] = mapped_column(String(16))  # scenarios.protocol.Phase code
    phase_start: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    availability: Mapped[str] = mapped_column(Text, default="")
    preferred_staff: Mapped[str] = mapped_column(String(200), default="")
    preferred_times: Mapped[str] = mapped_column(Text, default="")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    needs_assessment: Mapped[bool] = mapped_column(Boolean, default=False)
    extra_sessions: Mapped[int] = mapped_column(Integer, default=0)  # phase-1 extension granted (non-responder)
    discharge_week: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Appointment(Base):
    """One planned appointment and, once recorded, what happened (status, VAS before and after)."""

    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("patient_id", "session", "date", "start", name="uq_appointment_slot"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[dt.date] = mapped_column(Date, index=True)  # the Monday of its roster week
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.patient_id"), index=True)
    session: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    room: Mapped[str] = mapped_column(String(16))
    date: Mapped[dt.date] = mapped_column(Date)
    start: Mapped[str] = mapped_column(String(5))
    end: Mapped[str] = mapped_column(String(5))
    phase: Mapped[str] = mapped_column(String(16))  # the patient's phase when it was booked
    status: Mapped[str] = mapped_column(String(16), default=PLANNED)
    vas_before: Mapped[float | None] = mapped_column(Float, nullable=True)
    vas_after: Mapped[float | None] = mapped_column(Float, nullable=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    __mapper_args__ = {"version_id_col": version}


class Absence(Base):
    __tablename__ = "absences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    date_from: Mapped[dt.date] = mapped_column(Date)
    date_to: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Decision(Base):
    """A physician's decision: who, when, why, from which phase to which, and the referral note if any."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    patient_id: Mapped[str] = mapped_column(ForeignKey("patients.patient_id"), index=True)
    week: Mapped[dt.date] = mapped_column(Date)  # the week it takes effect
    kind: Mapped[str] = mapped_column(String(32))  # the proposal it answers (or "manual")
    from_phase: Mapped[str] = mapped_column(String(16))
    to_phase: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="")
    referral: Mapped[str] = mapped_column(Text, default="")  # JSON: functional_diagnosis, target_muscles, restrictions
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Change(Base):
    """What a plan or a rebook did to an appointment (moved, added, withdrawn), with the reason."""

    __tablename__ = "changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[dt.date] = mapped_column(Date, index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), nullable=True)
    patient_id: Mapped[str] = mapped_column(String(64))
    session: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # moved | added | withdrawn | unplaced
    before: Mapped[str] = mapped_column(String(80), default="")  # "2026-12-01 09:00 AC1 ACU-1"
    after: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PlanRun(Base):
    """One ``plan`` or ``rebook`` of a week: when, by whom, the solver's status and counts."""

    __tablename__ = "plan_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    week: Mapped[dt.date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # plan | rebook
    status: Mapped[str] = mapped_column(String(32))
    placed: Mapped[int] = mapped_column(Integer)
    required: Mapped[int] = mapped_column(Integer)
    unscheduled: Mapped[str] = mapped_column(Text, default="")  # JSON list of {patient_id, session, reason}
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(DateTime)
