"""A PostgreSQL connection that speaks the part of ``sqlite3`` the store uses.

The ledger's code talks to its database through ``execute(sql, params)``,
``executemany``, ``executescript``, ``in_transaction`` and ``close``, with SQL in SQLite's
dialect, and catches ``sqlite3``'s DB-API errors. ``Connection`` offers exactly that over
psycopg 3, so one text of SQL runs on both backends (``dialect`` rewrites it):

* rows come back as tuples, ``BYTEA`` as ``bytes``, ``BIGINT`` as ``int``;
* psycopg's errors become the ``sqlite3`` classes the code already handles
  (``IntegrityError`` for a refused key, ``OperationalError`` for a lock wait past the
  timeout or a lost server, ``DatabaseError`` for anything else);
* a single-row ``INSERT`` that a unique key refuses raises ``IntegrityError`` *without*
  aborting the transaction (PostgreSQL would abort it, SQLite does not);
* ``BEGIN IMMEDIATE`` takes the database-wide append lock (``pg_advisory_xact_lock``), so
  appenders in any number of processes and machines take turns, each reading the head
  only once it holds the lock: the log cannot fork;
* every commit is durable before it returns (``synchronous_commit = on``);
* a connection the server dropped (a restart, a fail-over) is opened again at the next
  statement outside a transaction; inside one, the statement fails and the transaction is
  lost, never half applied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import pq

from ledger.store import dialect

LOCK_TIMEOUT = "60s"  # as SQLite's busy timeout
CONNECT_TIMEOUT = 10


class _NoRows:
    """The cursor of a statement with nothing to return (a ``PRAGMA``, ``BEGIN``)."""

    rowcount = -1

    def fetchone(self) -> None:
        return None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return iter(())


class Connection:
    dialect = "postgresql"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        self._keys: dict[str, tuple[str, ...]] = {}
        self._in_txn = False
        self._conn = self._connect()

    def _connect(self) -> psycopg.Connection[Any]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
            conn.execute("SET synchronous_commit = on")
            conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            if self.readonly:
                conn.execute("SET default_transaction_read_only = on")
        except psycopg.Error as e:
            raise translate(e, f"cannot connect to {redact(self.url)}") from e
        return conn

    # -- the sqlite3.Connection subset ------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        st = dialect.statement(sql)
        if st.kind == "noop":
            return _NoRows()
        if st.kind in ("begin-write", "begin-read"):
            self._begin(st.kind == "begin-write")
            return _NoRows()
        word = st.text.split(None, 1)[0].upper() if st.text else ""
        if word in ("COMMIT", "ROLLBACK", "END") and " TO " not in st.text.upper():
            return self._finish(st.text)
        self._ready()
        text = st.text
        if st.upsert:
            text = text.replace("{conflict}", dialect.upsert_clause(st.columns, self._primary_key(st.table)))
        cur = self._run(text, params)
        if st.must_insert and cur.rowcount == 0:
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {st.table} ({', '.join(st.columns)})")
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        st = dialect.statement(sql, many=True)
        self._ready()
        cur = self._conn.cursor()
        try:
            cur.executemany(st.text, list(rows))
        except psycopg.Error as e:
            raise translate(e) from e
        return cur

    def executescript(self, script: str) -> None:
        """Run a SQLite schema script (``CREATE … IF NOT EXISTS``), translated."""
        self._ready()
        try:
            self._conn.execute(dialect.schema(script).encode())
        except psycopg.Error as e:
            raise translate(e) from e

    def close(self) -> None:
        self._conn.close()

    def __del__(self) -> None:
        """Close on garbage collection, as ``sqlite3`` does (handles cached per thread)."""
        conn = getattr(self, "_conn", None)
        if conn is not None and not conn.closed:
            conn.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        """As ``sqlite3``: commit an open transaction, or roll it back on an exception."""
        if self.in_transaction:
            self.execute("ROLLBACK" if kind is not None else "COMMIT")

    # -- transactions -----------------------------------------------------------------

    def _begin(self, write: bool) -> None:
        self._ready()
        if write:
            self._run("BEGIN ISOLATION LEVEL READ COMMITTED", ())
            self._in_txn = True
            # Take the append lock, then read: READ COMMITTED sees every commit made
            # before the lock was granted, so the head this writer reads is the latest.
            try:
                self._run("SELECT pg_advisory_xact_lock(%s)", (dialect.APPEND_LOCK_KEY,))
            except sqlite3.Error:  # as SQLite's BEGIN IMMEDIATE: no lock, no transaction
                self._finish("ROLLBACK")
                raise
        else:
            self._run("BEGIN ISOLATION LEVEL REPEATABLE READ", ())
            self._in_txn = True

    def _finish(self, text: str) -> Any:
        was, self._in_txn = self._in_txn, False
        if self._conn.broken or self._conn.closed:
            if text.upper().startswith("ROLLBACK"):
                return _NoRows()  # the server already dropped the transaction with the connection
            raise sqlite3.OperationalError(
                f"database unreachable: the connection to {redact(self.url)} was lost before"
                " the commit; the transaction did not commit"
            )
        if not was and not self.in_transaction:
            return _NoRows()
        return self._run(text, ())

    def _ready(self) -> None:
        """Open the connection again if the server dropped it, unless a transaction was
        open on it (that transaction is gone: the caller must learn it failed)."""
        if not (self._conn.broken or self._conn.closed):
            return
        if self._in_txn:
            raise sqlite3.OperationalError(
                f"database unreachable: the connection to {redact(self.url)} was lost mid-transaction;"
                " nothing of it was committed"
            )
        self._conn = self._connect()

    def _run(self, text: str, params: Sequence[Any] | dict[str, Any]) -> psycopg.Cursor[Any]:
        cur = self._conn.cursor()
        try:
            cur.execute(text.encode(), params)
        except psycopg.Error as e:
            raise translate(e) from e
        return cur

    def _primary_key(self, table: str) -> tuple[str, ...]:
        key = self._keys.get(table)
        if key is None:
            rows = self._run(
                "SELECT a.attname FROM pg_index i"
                " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary"
                " ORDER BY array_position(i.indkey::int2[], a.attnum)",
                (table,),
            ).fetchall()
            if not rows:
                raise sqlite3.OperationalError(
                    f"INSERT OR REPLACE into {table}: the table has no primary key"
                )
            key = self._keys[table] = tuple(r[0] for r in rows)
        return key


def translate(e: psycopg.Error, context: str = "") -> sqlite3.Error:
    """psycopg's error as the ``sqlite3`` class the ledger's code handles."""
    detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    message = f"{context}: {detail}" if context else detail
    if isinstance(e, psycopg.errors.IntegrityError):
        return sqlite3.IntegrityError(message)
    if isinstance(e, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled):
        return sqlite3.OperationalError(f"database is locked: {message}")
    if isinstance(e, psycopg.OperationalError):
        return sqlite3.OperationalError(f"database unreachable: {message}")
    if isinstance(e, psycopg.ProgrammingError):  # no such table or column, as SQLite says it
        return sqlite3.OperationalError(message)
    return sqlite3.DatabaseError(message)


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the database"
    if "password" not in info:
        return url
    head, sep, rest = url.partition("://")
    if sep and "@" in rest:
        creds, _, host = rest.rpartition("@")
        return f"{head}://{creds.split(':', 1)[0]}:***@{host}"
    return url
