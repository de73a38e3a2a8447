"""The clinic register: the clinic's state from week to week on a real database (SQLAlchemy 2 + Alembic).

It holds ids and what the protocol needs (phase, the Monday it began, appointments with attendance and VAS,
the physician's decisions), never names. It reads the protocol through :mod:`scenarios.protocol` and builds
rosters with :mod:`optimizer`; the front ends (``rehabflow clinic ...``, the dashboard's Clinic page) use it.
See docs/how-to/clinic.md.
"""
