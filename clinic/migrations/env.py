"""Alembic environment of the clinic register: runs on the connection :mod:`clinic.db` hands over."""

from __future__ import annotations

from alembic import context

from clinic.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
