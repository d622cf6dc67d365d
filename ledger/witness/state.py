"""A witness's home: its key, its name and, per log, the latest checkpoint it cosigned.

The state is one SQLite file (WAL, ``synchronous=FULL``: a commit is on disk before the
witness answers). ``advance`` runs a whole check-and-update in one ``BEGIN IMMEDIATE``
transaction, so two requests for a log can never both pass against the same old size (the
rollback race of tlog-witness).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ledger.crypto.keys import PrivateKey
from ledger.errors import ConfigError
from ledger.store.sqlite import connect, write_transaction
from ledger.tlog.cosignature import Cosigner, check_name
from ledger.tlog.note import Verifier, check_origin

KEY_NAME = "witness.key"
DB_NAME = "witness.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
    origin TEXT PRIMARY KEY, size INTEGER NOT NULL DEFAULT 0, root BLOB, note TEXT,
    updated_at INTEGER
);
CREATE TABLE IF NOT EXISTS log_keys (
    origin TEXT NOT NULL, vkey TEXT NOT NULL, PRIMARY KEY (origin, vkey)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refusals (
    id INTEGER PRIMARY KEY, origin TEXT NOT NULL, at INTEGER NOT NULL, status INTEGER NOT NULL,
    reason TEXT NOT NULL, request TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LogState:
    """What the witness holds for one log: its keys and the latest checkpoint it cosigned."""

    origin: str
    verifiers: tuple[Verifier, ...]
    size: int
    root: bytes | None
    note: str | None


class WitnessHome:
    def __init__(self, home: Path, conn: sqlite3.Connection, cosigner: Cosigner) -> None:
        self.home = home
        self.conn = conn
        self.cosigner = cosigner

    @classmethod
    def init(cls, home: Path, name: str) -> WitnessHome:
        """A new witness: an Ed25519 key (mode 0600) and an empty state. Raises ``ConfigError``."""
        check_name(name)
        if (home / KEY_NAME).exists() or (home / DB_NAME).exists():
            raise ConfigError(f"{home} already holds a witness")
        home.mkdir(parents=True, exist_ok=True)
        key = PrivateKey.generate()
        key.save(home / KEY_NAME)
        conn = connect(home / DB_NAME)
        conn.executescript(SCHEMA)
        with write_transaction(conn):
            conn.execute("INSERT INTO meta (key, value) VALUES ('name', ?)", (name,))
        return cls(home, conn, Cosigner(name, key))

    @classmethod
    def open(cls, home: Path) -> WitnessHome:
        if not (home / DB_NAME).exists():
            raise ConfigError(f"no witness at {home}: run 'provenance witness init --home {home}' first")
        conn = connect(home / DB_NAME)
        conn.executescript(SCHEMA)
        row = conn.execute("SELECT value FROM meta WHERE key = 'name'").fetchone()
        if row is None:
            raise ConfigError(f"{home / DB_NAME} is not a witness state file")
        key = PrivateKey.load(home / KEY_NAME, strict_mode=True)
        return cls(home, conn, Cosigner(str(row[0]), key))

    def close(self) -> None:
        self.conn.close()

    def reopen(self) -> WitnessHome:
        """The same witness on a new connection (one per thread: SQLite's write lock, not a
        shared connection, is what serialises requests)."""
        return WitnessHome(self.home, connect(self.home / DB_NAME), self.cosigner)

    def add_log(self, vkey: str, origin: str | None = None) -> str:
        """Trust ``vkey`` (a log's note key, type 0x01) for checkpoints of ``origin`` (default:
        the key's name). Returns the origin."""
        verifier = Verifier.from_text(vkey)
        origin = check_origin(origin or verifier.name)
        with write_transaction(self.conn):
            self.conn.execute("INSERT OR IGNORE INTO logs (origin) VALUES (?)", (origin,))
            self.conn.execute(
                "INSERT OR IGNORE INTO log_keys (origin, vkey) VALUES (?, ?)", (origin, verifier.to_text())
            )
        return origin

    def log(self, origin: str) -> LogState | None:
        row = self.conn.execute("SELECT size, root, note FROM logs WHERE origin = ?", (origin,)).fetchone()
        if row is None:
            return None
        keys = [r[0] for r in self.conn.execute("SELECT vkey FROM log_keys WHERE origin = ?", (origin,))]
        verifiers = tuple(Verifier.from_text(k) for k in keys)
        return LogState(origin, verifiers, int(row[0]), bytes(row[1]) if row[1] else None, row[2])

    def logs(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for (origin,) in self.conn.execute("SELECT origin FROM logs ORDER BY origin").fetchall():
            state = self.log(origin)
            assert state is not None
            out.append(
                {"origin": origin, "size": state.size, "vkeys": [v.to_text() for v in state.verifiers]}
            )
        return out

    @contextmanager
    def locked(self, origin: str) -> Iterator[LogState | None]:
        """The log's state inside the write transaction that may ``save`` it."""
        with write_transaction(self.conn):
            yield self.log(origin)

    def save(self, origin: str, size: int, root: bytes, note: str) -> None:
        """Record the newest cosigned checkpoint; call inside ``locked``."""
        self.conn.execute(
            "UPDATE logs SET size = ?, root = ?, note = ?, updated_at = ? WHERE origin = ?",
            (size, root, note, int(time.time()), origin),
        )

    def record_refusal(self, origin: str, status: int, reason: str, request: str) -> None:
        """Keep a refused but validly signed request: it may prove the log misbehaved."""
        with write_transaction(self.conn):
            self.conn.execute(
                "INSERT INTO refusals (origin, at, status, reason, request) VALUES (?, ?, ?, ?, ?)",
                (origin, int(time.time()), status, reason, request),
            )

    def refusals(self) -> list[dict[str, object]]:
        rows = self.conn.execute("SELECT origin, at, status, reason FROM refusals ORDER BY id").fetchall()
        return [{"origin": o, "at": a, "status": s, "reason": r} for o, a, s, r in rows]

    def describe(self) -> str:
        return json.dumps({"name": self.cosigner.name, "vkey": self.cosigner.vkey.to_text()})
