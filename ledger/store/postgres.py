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
* connections come from one pool per process and database (psycopg_pool), borrowed until
  ``release_idle`` (after each web request) or ``close``, so a server's many threads share
  a bounded number of connections (``$PROVENANCE_DB_POOL``, 10);
* a connection the server dropped (a restart, a fail-over) fails the statement it was
  running and leaves the pool; the next statement gets a fresh one. Inside a transaction
  the transaction is lost, never half applied.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ledger.store import dialect

LOCK_TIMEOUT = "60s"  # as SQLite's busy timeout
CONNECT_TIMEOUT = 10
POOL_SIZE_ENV = "PROVENANCE_DB_POOL"  # connections per process and database (default 10)
POOL_WAIT = 10  # seconds to wait for a free (or new) connection before answering "busy"


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
    """One ledger's handle on a PostgreSQL database, with connections from the process's
    pool for that database. It keeps the connection it borrowed until ``release_idle`` (the
    web app calls it after each request) or ``close``, so a run of statements pays for one
    borrow; a transaction always runs on one connection."""

    dialect = "postgresql"

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.readonly = readonly
        self._keys: dict[str, tuple[str, ...]] = {}
        self._conn: psycopg.Connection[Any] | None = None
        self._in_txn = False
        self._pool: ConnectionPool | None = None
        self._pool = _pools.acquire(url, readonly)

    # -- the sqlite3.Connection subset ------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._in_txn

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        st = dialect.statement(sql)
        if st.kind == "noop":
            return _NoRows()
        if st.kind in ("begin-write", "begin-read"):
            self._begin(st.kind == "begin-write")
            return _NoRows()
        word = st.text.split(None, 1)[0].upper() if st.text else ""
        if word in ("COMMIT", "ROLLBACK", "END") and " TO " not in st.text.upper():
            self._finish(st.text)
            return _NoRows()
        text = st.text
        if st.upsert:
            text = text.replace("{conflict}", dialect.upsert_clause(st.columns, self._primary_key(st.table)))
        cur = self._run(text, params)
        if st.must_insert and cur.rowcount == 0:
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: {st.table} ({', '.join(st.columns)})")
        return cur

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        st = dialect.statement(sql, many=True)
        return self._run(st.text, list(rows), many=True)

    def executescript(self, script: str) -> None:
        """Run a SQLite schema script (``CREATE … IF NOT EXISTS``), translated."""
        self._run(dialect.schema(script), None)

    def release_idle(self) -> None:
        """Give the borrowed connection back to the pool, unless a transaction is open."""
        if not self._in_txn:
            self._give_back()

    def close(self) -> None:
        self._in_txn = False
        self._give_back()  # the pool rolls back a transaction left open
        if self._pool is not None:
            _pools.release(self.url, self.readonly)
            self._pool = None

    def __del__(self) -> None:
        """Give the connection and the pool back on garbage collection, as ``sqlite3``
        closes (handles cached per thread are never closed explicitly)."""
        if getattr(self, "_pool", None) is not None:
            try:  # noqa: SIM105 (contextlib itself may be gone at interpreter exit)
                self.close()
            except Exception:  # at interpreter exit the modules close() needs may be gone
                pass

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        """As ``sqlite3``: commit an open transaction, or roll it back on an exception."""
        if self.in_transaction:
            self.execute("ROLLBACK" if kind is not None else "COMMIT")

    # -- transactions -----------------------------------------------------------------

    def _begin(self, write: bool) -> None:
        if self._in_txn:
            raise sqlite3.OperationalError("cannot start a transaction within a transaction")
        self._run(
            "BEGIN ISOLATION LEVEL READ COMMITTED" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ", ()
        )
        self._in_txn = True
        if write:
            # Take the append lock, then read: READ COMMITTED sees every commit made
            # before the lock was granted, so the head this writer reads is the latest.
            try:
                self._run("SELECT pg_advisory_xact_lock(%s)", (dialect.APPEND_LOCK_KEY,))
            except BaseException:  # as SQLite's BEGIN IMMEDIATE: no lock, no transaction
                self._finish("ROLLBACK")
                raise

    def _finish(self, text: str) -> None:
        if not self._in_txn:
            return
        self._in_txn = False
        conn = self._conn
        if conn is None or conn.broken or conn.closed:
            self._give_back()
            if text.upper().startswith("ROLLBACK"):
                return  # the server dropped the transaction with the connection
            raise sqlite3.OperationalError(
                f"database unreachable: the connection to {redact(self.url)} was lost before"
                " the commit; the transaction did not commit"
            )
        self._run(text, ())

    def _connection(self) -> psycopg.Connection[Any]:
        """The connection to run on: the one held, or (outside a transaction) a good one
        from the pool in place of one the server dropped."""
        conn = self._conn
        if conn is not None and not (conn.broken or conn.closed):
            return conn
        if self._in_txn:
            raise sqlite3.OperationalError(
                f"database unreachable: the connection to {redact(self.url)} was lost mid-transaction;"
                " nothing of it was committed"
            )
        self._give_back()
        assert self._pool is not None, "the connection is closed"
        try:
            self._conn = self._pool.getconn()
        except PoolTimeout as e:
            raise sqlite3.OperationalError(
                f"database unreachable: no connection to {redact(self.url)} within {POOL_WAIT} s"
            ) from e
        return self._conn

    def _give_back(self) -> None:
        """Return the borrowed connection (the pool drops a broken one)."""
        conn, self._conn = self._conn, None
        if conn is not None and self._pool is not None:
            self._pool.putconn(conn)

    def _run(
        self, text: str, params: Sequence[Any] | dict[str, Any] | None, many: bool = False
    ) -> psycopg.Cursor[Any]:
        conn = self._connection()
        try:
            cur = conn.cursor()
            if many:
                cur.executemany(text.encode(), params)  # type: ignore[arg-type]  # rows, a list
            else:
                cur.execute(text.encode(), params)
            return cur  # a client-side cursor: its rows are already here
        except psycopg.Error as e:
            raise translate(e) from e

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


def _configure(conn: psycopg.Connection[Any], readonly: bool) -> None:
    """Every connection's settings: durable commits, the lock wait, read-only if asked."""
    conn.execute("SET synchronous_commit = on")
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    if readonly:
        conn.execute("SET default_transaction_read_only = on")


class _Pools:
    """One connection pool per process, database and mode, shared by every ``Connection``
    on it and closed with the last one. Keyed by process id: a pool inherited across a fork
    (gunicorn's workers) is never used."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[int, str, bool], list[Any]] = {}

    def acquire(self, url: str, readonly: bool) -> ConnectionPool:
        key = (os.getpid(), url, readonly)
        with self._lock:
            entry = self._pools.get(key)
            if entry is None:
                # Fail now, with the server's own words, on a URL that cannot connect.
                try:
                    with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as probe:
                        _configure(probe, readonly)
                except psycopg.Error as e:
                    raise translate(e, f"cannot connect to {redact(url)}") from e
                pool = ConnectionPool(
                    url,
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
                    min_size=0,
                    max_size=int(os.environ.get(POOL_SIZE_ENV) or 10),
                    configure=lambda conn: _configure(conn, readonly),
                    timeout=POOL_WAIT,
                    num_workers=1,
                    open=True,
                    name=f"provenance-{redact(url)}",
                )
                entry = self._pools[key] = [pool, 0]
            entry[1] += 1
            return entry[0]  # type: ignore[no-any-return]

    def release(self, url: str, readonly: bool) -> None:
        key = (os.getpid(), url, readonly)
        with self._lock:
            entry = self._pools.get(key)
            if entry is None:
                return
            entry[1] -= 1
            if entry[1] > 0:
                return
            del self._pools[key]
        entry[0].close()


_pools = _Pools()
