"""``clinic backup``: a consistent copy of a live register.

SQLite: :meth:`sqlite3.Connection.backup` (the online backup API) copies the database page by page while others
may keep using it. PostgreSQL: the documented way is ``pg_dump``; the command is printed (with the password, if
any, left out: give it through ``PGPASSWORD`` or ``~/.pgpass``), not run, because the client tools and their
version belong to the server's administrator.
"""

from __future__ import annotations

import shlex
import sqlite3
from pathlib import Path

from sqlalchemy import Engine

from scenarios import InputError


def pg_dump_command(engine: Engine, out: Path) -> str:
    url = engine.url
    parts = ["pg_dump", "--format=custom", f"--file={out}"]
    host = url.host or url.query.get("host")
    port = url.port or url.query.get("port")
    for flag, value in (("--host", host), ("--port", port), ("--username", url.username)):
        if value:
            parts.append(f"{flag}={value if isinstance(value, str | int) else value[0]}")
    parts.append(str(url.database or "postgres"))
    return " ".join(shlex.quote(p) for p in parts)


def backup(engine: Engine, out: Path) -> str:
    """Copy a SQLite register to ``out`` (returns a sentence); for PostgreSQL return the pg_dump command."""
    if engine.dialect.name == "postgresql":
        return "PostgreSQL register: back it up with\n  " + pg_dump_command(engine, out)
    if engine.dialect.name != "sqlite":
        raise InputError(f"backup: no backup method for {engine.dialect.name} registers")
    if out.exists() and out.is_dir():
        raise InputError(f"--out: {out} is a folder; give the backup file's name")
    source_path = engine.url.database
    if not source_path:
        raise InputError("backup: an in-memory register cannot be backed up")
    tmp = out.with_name(out.name + ".part")
    src = sqlite3.connect(source_path)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    tmp.replace(out)
    return f"Backed up the register to {out}"
