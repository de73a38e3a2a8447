"""Connecting to the register, creating and upgrading its schema (Alembic), and the one-transaction rule.

The URL comes from ``--db``, else ``REHABFLOW_DB``, else the SQLite file ``clinic.db`` in the working folder.
Every command runs in :func:`transaction`: all of its writes commit together or none do. A write that lost a
race with someone else's (the row's ``version`` changed since it was read) raises :class:`ConflictError`, and
nothing of that command is saved.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scenarios import InputError

ENV_VAR = "REHABFLOW_DB"
DEFAULT_FILE = "clinic.db"


class ConflictError(InputError):
    """Someone else changed what this command was changing; nothing was saved."""


def resolve_url(url: str | None = None) -> str:
    """``--db`` if given, else ``$REHABFLOW_DB``, else ``sqlite:///clinic.db``; a bare path means a SQLite file."""
    url = url or os.environ.get(ENV_VAR) or f"sqlite:///{DEFAULT_FILE}"
    return url if "://" in url else f"sqlite:///{url}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001  (DB-API objects)
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str | None = None) -> Engine:
    """An engine for the register (SQLite gets foreign keys on and a busy timeout for concurrent writers)."""
    resolved = resolve_url(url)
    try:
        engine = create_engine(resolved)
    except (ArgumentError, ImportError, ValueError) as e:
        raise InputError(f"--db: {resolved!r} is not a usable database URL ({e})") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("clinic").joinpath("migrations")))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to ``revision`` with the Alembic migrations (idempotent)."""
    cfg = _alembic_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except OperationalError as e:
        raise InputError(f"database: cannot create or upgrade the register ({_short(e)})") from None


def _short(error: Exception) -> str:
    return str(getattr(error, "orig", error)).strip().splitlines()[0]


def open_register(url: str | None = None) -> Engine:
    """The engine of an existing register at the current schema; a clear error if it is missing or old."""
    resolved = resolve_url(url)
    if resolved.startswith("sqlite:///") and not Path(resolved.removeprefix("sqlite:///")).exists():
        raise InputError(f"database: no register at {resolved} (create it with `rehabflow clinic init`)")
    engine = make_engine(resolved)
    try:
        rev = current_revision(engine)
    except OperationalError as e:
        raise InputError(
            f"database: cannot open {engine.url.render_as_string(hide_password=True)} ({_short(e)})"
        ) from None
    if rev is None:
        raise InputError("database: the register has no schema (create it with `rehabflow clinic init`)")
    if rev != head_revision():
        raise InputError(
            f"database: the register's schema is at {rev}, this version needs {head_revision()} "
            "(upgrade it with `rehabflow clinic init`)"
        )
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One session, one transaction: commit at the end, roll everything back on any error."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise ConflictError(
            "someone else changed the same records while this command ran; nothing was saved "
            "(run it again to work on the current state)"
        ) from None
    except IntegrityError as e:
        session.rollback()
        raise ConflictError(
            f"the change clashes with the register's current state; nothing was saved ({_short(e)})"
        ) from None
    except OperationalError as e:
        session.rollback()
        raise InputError(f"database: {_short(e)}; nothing was saved") from None
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
