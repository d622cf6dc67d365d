"""Where a ledger's database is, and opening it: a SQLite file or a PostgreSQL URL.

A ledger home always holds the operator key. Its database is either ``ledger.db`` in the
home (the default, needing no set-up) or a PostgreSQL database named by a URL: given as
``--db``, as ``$PROVENANCE_DB``, or recorded in the home's ``database.url`` by
``provenance init --db``, so later commands with only ``--home`` find it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ledger.errors import ConfigError
from ledger.store import sqlite as store

DB_ENV = "PROVENANCE_DB"
READ_DB_ENV = "PROVENANCE_READ_DB"  # a server's read replica (``serve --read-db``)
URL_FILE = "database.url"
SQLITE_FILE = "ledger.db"
URL_SCHEMES = ("postgresql://", "postgres://")


def is_url(target: str | Path | None) -> bool:
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def target(home: Path, db: str | None = None) -> str | Path:
    """The database of the ledger in ``home``: ``db``, else ``$PROVENANCE_DB``, else the URL
    recorded in the home, else its SQLite file. A ``db`` that is not a URL is a file path."""
    db = db or os.environ.get(DB_ENV) or None
    if db is None:
        recorded = home / URL_FILE
        if recorded.exists():
            db = recorded.read_text().strip()
    if db is None:
        return home / SQLITE_FILE
    if is_url(db):
        return db
    if "://" in db:
        raise ConfigError(f"database {db!r}: only postgresql:// URLs and SQLite file paths are supported")
    return Path(db)


def describe(where: str | Path) -> str:
    if is_url(where):
        from ledger.store.postgres import redact

        return redact(str(where))
    return str(where)


def connect(where: str | Path, *, readonly: bool = False) -> Any:
    """A connection to ``where``; the same calls work on either backend."""
    if is_url(where):
        import sqlite3

        from ledger.store.postgres import Connection  # psycopg only when PostgreSQL is used

        try:
            return Connection(str(where), readonly=readonly)
        except sqlite3.Error as e:
            raise ConfigError(str(e)) from e
    return store.connect(where, readonly=readonly)


def holds_ledger(where: str | Path) -> bool:
    """Whether ``where`` already holds a ledger (a SQLite file, or a PostgreSQL ``meta`` row)."""
    if not is_url(where):
        return Path(where).exists()
    conn = connect(where)
    try:
        rows = conn.execute(
            "SELECT 1 FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_name = 'meta'"
        ).fetchall()
        return bool(rows) and bool(conn.execute("SELECT 1 FROM meta WHERE key = 'origin'").fetchall())
    finally:
        conn.close()


def existing(home: Path, db: str | None = None) -> str | Path:
    """The database of the ledger in ``home`` (see ``target``); ``ConfigError`` if it holds none."""
    where = target(home, db)
    if not holds_ledger(where):
        if is_url(where):
            raise ConfigError(f"no ledger in {describe(where)}: run 'provenance init --db URL' first")
        raise ConfigError(f"no ledger at {home}: run 'provenance init --home {home}' first")
    return where


def open_existing(home: Path, db: str | None = None, *, readonly: bool = False) -> tuple[Any, str | Path]:
    """Connect to the database of the ledger in ``home``; ``ConfigError`` if there is none."""
    where = existing(home, db)
    return connect(where, readonly=readonly), where


def record(home: Path, where: str | Path) -> None:
    """Remember a PostgreSQL URL in ``home`` (mode 0600: it may hold a password)."""
    if is_url(where):
        path = home / URL_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(str(where) + "\n")


def discard(home: Path | None, where: str | Path) -> None:
    """Undo a failed ``init`` or copy: the SQLite files, or the tables created in PostgreSQL."""
    if not is_url(where):
        for suffix in ("", "-wal", "-shm"):
            Path(str(where) + suffix).unlink(missing_ok=True)
        return
    if home is not None:
        (home / URL_FILE).unlink(missing_ok=True)
    tables = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", store.RECORD_SCHEMA + store.DERIVED_SCHEMA)
    conn = connect(where)
    try:
        conn.execute(f"DROP TABLE IF EXISTS {', '.join(tables)}")
    finally:
        conn.close()
