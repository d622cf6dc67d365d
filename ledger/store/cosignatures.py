"""The ledger's record of witnessing: cosignatures by checkpoint size, each witness's state as
the log last saw it, and alarms (SPEC §14).

Cosignatures are kept beside, not inside, the operator's checkpoint rows: the signed note
stays byte for byte what the operator signed, and the served note is that note with the
stored lines appended. Alarms are only ever added, never updated or deleted by the ledger.
"""

from __future__ import annotations

import sqlite3
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS cosignatures (
    size INTEGER NOT NULL, witness TEXT NOT NULL, line TEXT NOT NULL, timestamp INTEGER NOT NULL,
    PRIMARY KEY (size, witness)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS witness_state (
    witness TEXT PRIMARY KEY, name TEXT NOT NULL, url TEXT, size INTEGER, cosigned_size INTEGER,
    status TEXT NOT NULL, message TEXT NOT NULL, checked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS witness_alarms (
    id INTEGER PRIMARY KEY, witness TEXT NOT NULL, name TEXT NOT NULL, at TEXT NOT NULL,
    size INTEGER NOT NULL, status INTEGER NOT NULL, message TEXT NOT NULL
);
"""


def create(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def _rows(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows, or none from a ledger file made before these tables (opened read-only)."""
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return []
        raise


def lines(conn: sqlite3.Connection, size: int) -> list[str]:
    """The stored cosignature lines on the checkpoint of ``size``, in witness key order."""
    sql = "SELECT line FROM cosignatures WHERE size = ? ORDER BY witness"
    return [r[0] for r in _rows(conn, sql, (size,))]


def all_lines(conn: sqlite3.Connection) -> list[tuple[int, str, str]]:
    """Every stored cosignature: (size, witness vkey, line)."""
    return [
        (int(r[0]), r[1], r[2])
        for r in _rows(conn, "SELECT size, witness, line FROM cosignatures ORDER BY size")
    ]


def add(conn: sqlite3.Connection, size: int, witness: str, line: str, timestamp: int) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO cosignatures (size, witness, line, timestamp) VALUES (?, ?, ?, ?)",
        (size, witness, line, timestamp),
    )


def states(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Each witness's state by vkey."""
    rows = _rows(
        conn,
        "SELECT witness, name, url, size, cosigned_size, status, message, checked_at FROM witness_state",
    )
    keys = ("vkey", "name", "url", "size", "cosigned_size", "status", "message", "checked_at")
    return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}


def set_state(conn: sqlite3.Connection, state: dict[str, Any]) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO witness_state"
        " (witness, name, url, size, cosigned_size, status, message, checked_at)"
        " VALUES (:vkey, :name, :url, :size, :cosigned_size, :status, :message, :checked_at)",
        state,
    )


def add_alarm(
    conn: sqlite3.Connection, witness: str, name: str, at: str, size: int, status: int, message: str
) -> None:
    conn.execute(
        "INSERT INTO witness_alarms (witness, name, at, size, status, message) VALUES (?, ?, ?, ?, ?, ?)",
        (witness, name, at, size, status, message),
    )


def alarms(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    rows = _rows(conn, "SELECT witness, name, at, size, status, message FROM witness_alarms ORDER BY id")
    keys = ("vkey", "name", "at", "size", "status", "message")
    return [dict(zip(keys, r, strict=True)) for r in rows]
