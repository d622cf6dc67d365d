"""The SQLite file: entries, stored Merkle nodes, checkpoints and derived tables.

The store reads and writes rows; it makes no decisions. ``entries``, ``nodes`` and
``checkpoints`` are the record. Every other table is derived state that ``rules`` keeps
in the same transaction as the entry and that ``verify`` rebuilds by replay.

Durability: WAL with ``synchronous=FULL``, so a committed transaction survives a crash of
the process or the machine. Appends take the write lock with ``BEGIN IMMEDIATE``, so
writers from many processes are serialised and never fork the log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ledger.store import cosignatures
from ledger.tlog.merkle import Node

BUSY_TIMEOUT_MS = 60_000

RECORD_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL,
    canonical BLOB NOT NULL,
    type TEXT NOT NULL,
    issuer TEXT NOT NULL,
    stmt_id TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_type ON entries (type, seq);
CREATE TABLE IF NOT EXISTS nodes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL
);
"""

# Derived tables: rebuilt by replaying entries (``verify`` compares them row by row).
DERIVED_SCHEMA = """
CREATE TABLE IF NOT EXISTS statement_ids (
    issuer TEXT NOT NULL, stmt_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (issuer, stmt_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parties (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, country TEXT NOT NULL,
    identifiers TEXT NOT NULL, first_seq INTEGER NOT NULL, seq INTEGER NOT NULL,
    admitted INTEGER, suspended INTEGER
);
CREATE TABLE IF NOT EXISTS keys (
    party TEXT NOT NULL, key_id TEXT NOT NULL, public TEXT NOT NULL,
    from_seq INTEGER NOT NULL, until_seq INTEGER,
    PRIMARY KEY (party, key_id, from_seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS keys_key_id ON keys (key_id);
CREATE TABLE IF NOT EXISTS next_digests (
    party TEXT NOT NULL, digest TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (party, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS used_digests (
    party TEXT NOT NULL, digest TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (party, digest)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admissions (
    seq INTEGER PRIMARY KEY, party TEXT NOT NULL, role TEXT NOT NULL, inception INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS suspensions (
    seq INTEGER PRIMARY KEY, party TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS disputed (
    seq INTEGER PRIMARY KEY, party TEXT NOT NULL, key_id TEXT NOT NULL, rotation INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lots (
    lot TEXT PRIMARY KEY, material TEXT NOT NULL, amount TEXT NOT NULL, unit TEXT NOT NULL,
    producer TEXT NOT NULL, seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS holdings (
    lot TEXT NOT NULL, party TEXT NOT NULL, balance TEXT NOT NULL,
    PRIMARY KEY (lot, party)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS links (
    kind TEXT NOT NULL, value TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (kind, value, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS products (
    seq INTEGER PRIMARY KEY, gtin TEXT NOT NULL, batch TEXT NOT NULL, brand TEXT NOT NULL,
    revoked_by INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS products_live ON products (gtin, batch) WHERE revoked_by IS NULL;
CREATE TABLE IF NOT EXISTS gtins (gtin TEXT PRIMARY KEY, brand TEXT NOT NULL, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS attestations (
    seq INTEGER PRIMARY KEY, facility TEXT NOT NULL, issuer TEXT NOT NULL,
    audit_date TEXT NOT NULL, valid_until TEXT NOT NULL, outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS attestations_facility ON attestations (facility, audit_date);
CREATE INDEX IF NOT EXISTS attestations_issuer ON attestations (issuer, seq);
CREATE TABLE IF NOT EXISTS revocations (target INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS shipments (
    seq INTEGER PRIMARY KEY, lot TEXT NOT NULL, sender TEXT NOT NULL, receiver TEXT NOT NULL,
    amount TEXT NOT NULL, unit TEXT NOT NULL, shipped_on TEXT NOT NULL,
    receipt INTEGER, accepted INTEGER, received_on TEXT, revoked_by INTEGER
);
CREATE INDEX IF NOT EXISTS shipments_receiver ON shipments (receiver, receipt);
CREATE INDEX IF NOT EXISTS shipments_sender ON shipments (sender, receipt);
CREATE TABLE IF NOT EXISTS held_since (
    lot TEXT NOT NULL, party TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (lot, party)
) WITHOUT ROWID;
"""

# Derived tables and the columns that identify a row, for comparison after a replay.
DERIVED_TABLES: dict[str, str] = {
    "statement_ids": "issuer, stmt_id",
    "parties": "id",
    "keys": "party, key_id, from_seq",
    "next_digests": "party, digest",
    "used_digests": "party, digest",
    "admissions": "seq",
    "suspensions": "seq",
    "disputed": "seq",
    "lots": "lot",
    "holdings": "lot, party",
    "links": "kind, value, seq",
    "products": "seq",
    "gtins": "gtin",
    "attestations": "seq",
    "revocations": "target",
    "shipments": "seq",
    "held_since": "lot, party",
}


def connect(path: Path | str, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the ledger file with the settings its promises rest on."""
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def create_schema(conn: sqlite3.Connection) -> None:
    """Create the tables (on PostgreSQL the connection translates the script)."""
    conn.executescript(RECORD_SCHEMA + DERIVED_SCHEMA + cosignatures.SCHEMA)


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``: the one writer at a time across processes."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A consistent snapshot for several reads (WAL readers never block the writer)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")


@contextmanager
def savepoint(conn: sqlite3.Connection, name: str = "entry") -> Iterator[None]:
    """All or nothing for one entry inside a batch transaction."""
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        conn.execute(f"ROLLBACK TO {name}")
        conn.execute(f"RELEASE {name}")
        raise
    else:
        conn.execute(f"RELEASE {name}")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def size(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT max(seq) FROM entries").fetchone()
    return 0 if row[0] is None else int(row[0]) + 1


def head(conn: sqlite3.Connection) -> tuple[int, bytes | None, str | None]:
    """(size, hash of the last entry, its recorded_at)."""
    row = conn.execute("SELECT seq, hash, recorded_at FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    if row is None:
        return 0, None, None
    return int(row[0]) + 1, bytes(row[1]), str(row[2])


def insert_entry(
    conn: sqlite3.Connection,
    seq: int,
    hash_: bytes,
    canonical: bytes,
    type_: str,
    issuer: str,
    stmt_id: str,
    recorded_at: str,
) -> None:
    conn.execute(
        "INSERT INTO entries (seq, hash, canonical, type, issuer, stmt_id, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, hash_, canonical, type_, issuer, stmt_id, recorded_at),
    )


def insert_nodes(conn: sqlite3.Connection, nodes: Sequence[tuple[int, int, bytes]]) -> None:
    conn.executemany("INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)


def get_nodes(conn: sqlite3.Connection, wanted: Sequence[Node]) -> dict[Node, bytes]:
    """Fetch stored complete-subtree hashes, one query for up to a few hundred nodes."""
    found: dict[Node, bytes] = {}
    for i in range(0, len(wanted), 400):
        chunk = wanted[i : i + 400]
        where = " OR ".join(["(level = ? AND idx = ?)"] * len(chunk))
        params = [x for node in chunk for x in node]
        for level, idx, h in conn.execute(f"SELECT level, idx, hash FROM nodes WHERE {where}", params):
            found[(level, idx)] = as_bytes(h)
    missing = [n for n in wanted if n not in found]
    if missing:
        from ledger.errors import IntegrityError

        raise IntegrityError(f"Merkle nodes missing from the store: {missing[:5]}")
    return found


def node_range(conn: sqlite3.Connection, level: int, first: int, count: int) -> list[bytes]:
    """The stored hashes of nodes ``first … first + count − 1`` at ``level``, in order (a tile)."""
    rows = conn.execute(
        "SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
        (level, first, first + count),
    ).fetchall()
    return [as_bytes(h) for (h,) in rows]


def checkpoint_sizes(conn: sqlite3.Connection, above: int, upto: int) -> Iterator[int]:
    """The checkpointed tree sizes in ``(above, upto]``, ascending, streamed."""
    cur = conn.execute(
        "SELECT size FROM checkpoints WHERE size > ? AND size <= ? ORDER BY size", (above, upto)
    )
    for (s,) in cur:
        yield int(s)


def insert_checkpoint(conn: sqlite3.Connection, size_: int, root: bytes, note: str) -> None:
    """Store the checkpoint for ``size_``; the primary key refuses a second one for a size."""
    conn.execute("INSERT INTO checkpoints (size, root, note) VALUES (?, ?, ?)", (size_, root, note))


def latest_checkpoint(conn: sqlite3.Connection) -> tuple[int, bytes, str] | None:
    row = conn.execute("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    return (int(row[0]), bytes(row[1]), str(row[2])) if row else None


def checkpoint_at(conn: sqlite3.Connection, size_: int) -> tuple[int, bytes, str] | None:
    row = conn.execute("SELECT size, root, note FROM checkpoints WHERE size = ?", (size_,)).fetchone()
    return (int(row[0]), bytes(row[1]), str(row[2])) if row else None


def entry_row(conn: sqlite3.Connection, seq: int) -> tuple[bytes, bytes] | None:
    """(canonical bytes, stored hash) of entry ``seq``."""
    row = conn.execute("SELECT canonical, hash FROM entries WHERE seq = ?", (seq,)).fetchone()
    return (as_bytes(row[0]), as_bytes(row[1])) if row else None


def iter_entries(
    conn: sqlite3.Connection, start: int = 0, end: int | None = None, chunk: int = 2000
) -> Iterator[tuple[int, bytes, bytes]]:
    """Stream (seq, canonical, hash) in seq order, ``chunk`` rows per query: flat memory."""
    seq = start
    stop = 2**62 if end is None else end
    while True:
        rows = conn.execute(
            "SELECT seq, canonical, hash FROM entries WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT ?",
            (seq, stop, chunk),
        ).fetchall()
        for s, c, h in rows:
            yield int(s), as_bytes(c), as_bytes(h)
        if len(rows) < chunk:
            return
        seq = int(rows[-1][0]) + 1


def iter_entry_rows(
    conn: sqlite3.Connection, chunk: int = 2000
) -> Iterator[tuple[int, bytes, bytes, tuple[Any, ...]]]:
    """Stream (seq, canonical, hash, (type, issuer, stmt_id, recorded_at)) in seq order."""
    seq = 0
    while True:
        rows = conn.execute(
            "SELECT seq, canonical, hash, type, issuer, stmt_id, recorded_at FROM entries"
            " WHERE seq >= ? ORDER BY seq LIMIT ?",
            (seq, chunk),
        ).fetchall()
        for s, c, h, *index in rows:
            yield int(s), as_bytes(c), as_bytes(h), tuple(index)
        if len(rows) < chunk:
            return
        seq = int(rows[-1][0]) + 1


def as_bytes(value: Any) -> bytes:
    """A BLOB column's value as bytes, even if someone stored it as TEXT behind our back."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if value is None:
        return b""
    if isinstance(value, int):
        return str(value).encode()
    return bytes(value)


def query(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    return conn.execute(sql, params).fetchall()
