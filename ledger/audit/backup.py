"""Export, import and online backup of a ledger (backup and restore).

Export is JSON Lines, streamed: each entry's exact canonical bytes on a line, and after
the entry that completes a checkpointed size, a line ``{"checkpoint": "<signed note>"}``.
Import replays those entries through the same rules as an append, stores them verbatim
(same bytes, same chain, same tree) and keeps each checkpoint only if it verifies against
the genesis key and the rebuilt root. The result has the identical root hash.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from ledger.audit.replay import Replayer
from ledger.core.ledger import DB_NAME, KEY_NAME, Ledger
from ledger.crypto.canonical import parse
from ledger.crypto.keys import PrivateKey, write_private_file
from ledger.errors import ConfigError, IntegrityError, Malformed
from ledger.store import sqlite as store
from ledger.tlog.note import Verifier

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

    ``operator_key``: the original operator key file, copied in (mode 0600 from its creation,
    never through a symlink) so the new home can go on appending; without it the rebuilt
    ledger can be read and verified only. The key may already be ``home``'s own key (the
    restore after losing the database): then nothing is copied. Raises ``ConfigError`` before
    touching anything when the home holds a ledger, a planted link or another key, and
    ``Malformed``/``IntegrityError`` naming the line of the first problem; a failed import
    removes exactly what it created (files, and the folder if it made it), nothing else.
    """
    key = _check_destination(home, operator_key)
    created: list[Path] = []
    missing = [p for p in _parents(home) if not os.path.lexists(p)]
    try:
        home.mkdir(parents=True, exist_ok=True)
        created.extend(reversed(missing))  # deepest first, to remove in order
        db_files = [home / name for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm")]
        created[:0] = db_files
        ledger = _import(lines, home)
        if key is not None:
            current = ledger.verifier.public  # the operator's key events, as replayed
            ledger.close()
            if key.public != current:
                raise ConfigError(
                    f"{operator_key} is not the key that signs this ledger's checkpoints now (the"
                    f" operator's current key {current.key_id}, by its key events from genesis)"
                )
            if operator_key is not None and not _same_file(operator_key, home / KEY_NAME):
                created.insert(0, home / KEY_NAME)
                write_private_file(home / KEY_NAME, operator_key.read_bytes())
            ledger = Ledger.open(home)
        return ledger
    except BaseException:
        for path in created:
            _remove_own(path)
        raise


def _parents(home: Path) -> list[Path]:
    """``home`` and its ancestors, outermost first."""
    return [*reversed(home.absolute().parents), home.absolute()]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _check_destination(home: Path, operator_key: Path | None) -> PrivateKey | None:
    """Refuse, before anything is written, a home that holds a ledger, a link where a file
    of ours will go, or another operator key; return the loaded operator key."""
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", KEY_NAME):
        path = home / name
        if path.is_symlink():
            raise ConfigError(f"{path} is a symbolic link; refusing to write through it")
    for name in (DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm"):
        if os.path.lexists(home / name):
            raise ConfigError(f"{home} already holds a ledger ({name})")
    if operator_key is None:
        return None
    key = PrivateKey.load(operator_key)
    dest = home / KEY_NAME
    if os.path.lexists(dest) and not _same_file(operator_key, dest):
        raise ConfigError(f"{dest} exists already and is not {operator_key}; refusing to replace a key")
    return key


def _remove_own(path: Path) -> None:
    """Remove a file or (empty) folder this import created; leave anything else."""
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _import(lines: Iterable[tuple[int, bytes]], home: Path) -> Ledger:
    conn = store.connect(home / DB_NAME)
    try:
        load(lines, conn)
    finally:
        conn.close()
    return Ledger.open(home)


def load(lines: Iterable[tuple[int, bytes]], conn: Any) -> Verifier:
    """Create the schema on the empty database ``conn`` (either backend) and fill it from
    exported lines, replaying every rule and checking every checkpoint; return the genesis
    verifier. Raises ``Malformed``/``IntegrityError`` naming the line of the first problem."""
    store.create_schema(conn)
    replay = Replayer(conn)
    replay.begin()
    try:
        for lineno, raw in lines:
            where = f"line {lineno}"
            if raw.startswith(b'{"checkpoint"'):
                replay.checkpoint(parse(raw)["checkpoint"], where)
                continue
            replay.entry(raw, where)
            if replay.size % BATCH == 0:
                replay.commit()
                replay.begin()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    replay.commit()
    verifier = replay.verifier
    if verifier is None:
        raise Malformed("the export holds no entries")
    latest = store.latest_checkpoint(conn)
    if latest is None or latest[0] != replay.size:
        raise IntegrityError(f"the export has no checkpoint for its final size {replay.size}")
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
