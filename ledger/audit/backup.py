"""Export, import and online backup of a ledger (backup and restore).

Export is JSON Lines, streamed: each entry's exact canonical bytes on a line, and after
the entry that completes a checkpointed size, a line ``{"checkpoint": "<signed note>"}``.
Import replays those entries through the same rules as an append, stores them verbatim
(same bytes, same chain, same tree) and keeps each checkpoint only if it verifies against
the genesis key and the rebuilt root. The result has the identical root hash.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ledger.core.ledger import DB_NAME, KEY_NAME, Ledger
from ledger.crypto.canonical import parse
from ledger.crypto.keys import PrivateKey, PublicKey
from ledger.errors import ConfigError, IntegrityError, LedgerError, Malformed
from ledger.model import rules
from ledger.model.statements import ZERO_HASH, Entry
from ledger.store import sqlite as store
from ledger.tlog.merkle import Frontier, leaf_hash
from ledger.tlog.note import SignedCheckpoint, Verifier, check_origin

BATCH = 5000


def export(ledger: Ledger, out: IO[bytes]) -> int:
    """Write every entry and checkpoint as JSON Lines; return the number of entries."""
    n = 0
    for seq, line in export_lines(ledger):
        out.write(line + b"\n")
        n = seq + 1 if seq is not None else n
    return n


def export_lines(ledger: Ledger) -> Iterator[tuple[int | None, bytes]]:
    """The export's lines, in one snapshot: (seq, entry bytes) or (None, checkpoint line)."""
    with store.read_transaction(ledger.conn):
        checkpoints = ledger.conn.execute("SELECT size, note FROM checkpoints ORDER BY size")
        pending = checkpoints.fetchone()
        for seq, canonical, _ in store.iter_entries(ledger.conn):
            yield seq, canonical
            n = seq + 1
            while pending is not None and pending[0] <= n:
                if pending[0] == n:
                    yield None, json.dumps({"checkpoint": pending[1]}).encode()
                pending = checkpoints.fetchone()


def read_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for n, line in enumerate(stream, 1):
        line = line.rstrip(b"\n")
        if line.strip():
            yield n, line


def import_ledger(lines: Iterable[tuple[int, bytes]], home: Path, operator_key: Path | None = None) -> Ledger:
    """Rebuild a ledger in the new ``home`` from exported lines.

    ``operator_key``: the original operator key file, copied in (mode 0600) so the new
    home can go on appending; without it the rebuilt ledger can be read and verified only.
    Raises ``Malformed``/``IntegrityError`` naming the line of the first problem; the half
    built home is removed then.
    """
    if (home / DB_NAME).exists():
        raise ConfigError(f"{home} already holds a ledger")
    home.mkdir(parents=True, exist_ok=True)
    try:
        return _import(lines, home, operator_key)
    except BaseException:
        for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", KEY_NAME):
            (home / name).unlink(missing_ok=True)
        raise


def _import(lines: Iterable[tuple[int, bytes]], home: Path, operator_key: Path | None) -> Ledger:
    conn = store.connect(home / DB_NAME)
    try:
        verifier = load(lines, conn)
    finally:
        conn.close()
    if operator_key is not None:
        key = PrivateKey.load(operator_key)
        if key.public != verifier.public:
            raise ConfigError(f"{operator_key} is not the key that signed this ledger's genesis")
        shutil.copyfile(operator_key, home / KEY_NAME)
        (home / KEY_NAME).chmod(0o600)
    return Ledger.open(home)


def load(lines: Iterable[tuple[int, bytes]], conn: Any) -> Verifier:
    """Create the schema on the empty database ``conn`` and fill it from exported lines,
    replaying every rule and checking every checkpoint; return the genesis verifier."""
    store.create_schema(conn)
    frontier = Frontier()
    prev = ZERO_HASH
    verifier: Verifier | None = None
    nodes: list[tuple[int, int, bytes]] = []
    conn.execute("BEGIN IMMEDIATE")
    count = 0
    try:
        for lineno, raw in lines:
            where = f"line {lineno}"
            if raw.startswith(b'{"checkpoint"'):
                if verifier is None:
                    raise Malformed(f"{where}: a checkpoint before the genesis entry")
                note = parse(raw)["checkpoint"]
                try:
                    cp = SignedCheckpoint.open(note, verifier).checkpoint
                except LedgerError as e:
                    raise IntegrityError(f"{where}: checkpoint does not verify: {e}") from e
                if cp.size != frontier.size or cp.root != frontier.root():
                    raise IntegrityError(f"{where}: checkpoint for size {cp.size} does not match the entries")
                store.insert_nodes(conn, nodes)
                nodes = []
                store.insert_checkpoint(conn, cp.size, cp.root, note)
                continue
            try:
                entry = Entry.from_canonical(raw)
            except LedgerError as e:
                raise Malformed(f"{where}: not a canonical entry: {e}") from e
            if entry.seq != frontier.size or entry.prev != prev:
                raise IntegrityError(
                    f"{where}: entry {entry.seq} does not continue the chain at {frontier.size}"
                )
            st = entry.statement
            if entry.seq == 0:
                origin = check_origin(str(st.body.get("origin", "")))
                verifier = Verifier(origin, PublicKey.from_b64(st.body["key"]))
                store.set_meta(conn, "origin", origin)
                store.set_meta(conn, "format", "provenance-ledger/v1")
            try:
                rules.apply(conn, entry.seq, entry.envelope, entry.recorded_at)
            except LedgerError as e:
                raise IntegrityError(f"{where}: entry {entry.seq} breaks a rule: {e}") from e
            h = leaf_hash(raw)
            store.insert_entry(conn, entry.seq, h, raw, st.type, st.issuer, st.id, entry.recorded_at)
            nodes.extend(frontier.append(h))
            prev = h.hex()
            count += 1
            if count % BATCH == 0:
                store.insert_nodes(conn, nodes)
                nodes = []
                conn.execute("COMMIT")
                conn.execute("BEGIN IMMEDIATE")
        store.insert_nodes(conn, nodes)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    if verifier is None:
        raise Malformed("the export holds no entries")
    latest = store.latest_checkpoint(conn)
    if latest is None or latest[0] != frontier.size:
        raise IntegrityError(f"the export has no checkpoint for its final size {frontier.size}")
    return verifier


def backup(ledger: Ledger, dest: Path) -> tuple[int, str]:
    """Copy the live database to ``dest`` with SQLite's online backup API.

    Appends may go on meanwhile: WAL readers do not block the writer, and the copy is one
    consistent snapshot. Returns the (size, checkpoint note) the copy holds.
    """
    if dest.exists():
        raise ConfigError(f"{dest} exists already")
    if not isinstance(ledger.conn, sqlite3.Connection):
        raise ConfigError(
            "backup copies a SQLite ledger; on PostgreSQL use the database's own backups"
            " (pg_basebackup, pg_dump) or 'provenance copy --to FILE'"
        )
    target = sqlite3.connect(str(dest))
    try:
        ledger.conn.backup(target)
    finally:
        target.close()
    copy = store.connect(dest, readonly=True)
    try:
        latest = store.latest_checkpoint(copy)
        if latest is None:
            raise IntegrityError("the backup holds no checkpoint")
        return latest[0], latest[2]
    finally:
        copy.close()
