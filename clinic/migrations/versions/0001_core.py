"""The core register: settings, staff, patients, appointments, staff absences.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "staff",
        sa.Column("staff_id", sa.String(40), primary_key=True),
        sa.Column("role", sa.String(80), nullable=False),
        sa.Column("availability", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "patients",
        sa.Column("patient_id", sa.String(64), primary_key=True),
        sa.Column("condition", sa.String(64), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("phase_start", sa.Date(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("availability", sa.Text(), nullable=False),
        sa.Column("preferred_staff", sa.String(200), nullable=False),
        sa.Column("preferred_times", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("needs_assessment", sa.Boolean(), nullable=False),
        sa.Column("extra_sessions", sa.Integer(), nullable=False),
        sa.Column("discharge_week", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("patient_id", sa.String(64), sa.ForeignKey("patients.patient_id"), nullable=False),
        sa.Column("session", sa.String(16), nullable=False),
        sa.Column("staff_id", sa.String(40), sa.ForeignKey("staff.staff_id"), nullable=False),
        sa.Column("room", sa.String(16), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("vas_before", sa.Float(), nullable=True),
        sa.Column("vas_after", sa.Float(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("patient_id", "session", "date", "start", name="uq_appointment_slot"),
    )
    op.create_index("ix_appointments_week", "appointments", ["week"])
    op.create_index("ix_appointments_patient_id", "appointments", ["patient_id"])
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("staff_id", sa.String(40), sa.ForeignKey("staff.staff_id"), nullable=False),
        sa.Column("date_from", sa.Date(), nullable=False),
        sa.Column("date_to", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_absences_staff_id", "absences", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_absences_staff_id", table_name="absences")
    op.drop_table("absences")
    op.drop_index("ix_appointments_patient_id", table_name="appointments")
    op.drop_index("ix_appointments_week", table_name="appointments")
    op.drop_table("appointments")
    op.drop_table("patients")
    op.drop_table("staff")
    op.drop_table("settings")
