"""Copy a ledger to another database, either backend to either (``provenance copy``).

The copy is an export read straight into an import: every entry keeps its exact bytes,
every rule is replayed into the new derived tables, and each checkpoint is kept only if it
verifies against the genesis key and the rebuilt root. Then both sides are compared (entry
hashes, stored nodes and checkpoints, row by row) and the copy is audited in full, so the
new database holds the same log, with the same roots and signed checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger.audit.backup import export_lines, load
from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.errors import ConfigError, IntegrityError
from ledger.store import database


@dataclass(frozen=True)
class Copied:
    size: int
    root: str
    checkpoints: int


# What must be identical on both sides: the record, compared row by row in key order.
RECORD_ROWS = (
    ("entries", "SELECT seq, hash FROM entries ORDER BY seq"),  # the audit ties hash to bytes
    ("nodes", "SELECT level, idx, hash FROM nodes ORDER BY level, idx"),
    ("checkpoints", "SELECT size, root, note FROM checkpoints ORDER BY size"),
)


def copy_ledger(source: Ledger, dest: str | Path) -> Copied:
    """Fill the empty database ``dest`` (a PostgreSQL URL or a new SQLite file) with
    ``source``'s ledger and check the two are the same. Raises ``ConfigError`` if ``dest``
    already holds a ledger, ``IntegrityError`` if the copy differs or fails its audit; a
    failed copy is removed again."""
    if database.holds_ledger(dest):
        raise ConfigError(f"{database.describe(dest)} already holds a ledger")
    conn = database.connect(dest)
    try:
        lines = ((n, raw) for n, (_, raw) in enumerate(export_lines(source), 1))
        load(lines, conn)
        compare(source.conn, conn, database.describe(dest))
        report = verify_ledger(conn)
        if not report.ok:
            raise IntegrityError(f"the copy fails its audit: {report.problems[0]}")
        cp = source.latest_checkpoint().checkpoint
        copied = Copied(cp.size, cp.root.hex(), report.checkpoints)
    except BaseException:
        conn.close()
        database.discard(None, dest)
        raise
    conn.close()
    return copied


def compare(a: Any, b: Any, where: str) -> None:
    """Raise ``IntegrityError`` naming the first table and row where ``b`` differs from ``a``."""
    for table, sql in RECORD_ROWS:
        left, right = _rows(a, sql), _rows(b, sql)
        for n, (x, y) in enumerate(zip(left, right, strict=False)):
            if x != y:
                raise IntegrityError(f"{where}: {table} row {n} differs from the source ({x[0]} vs {y[0]})")
        count = f"SELECT count(*) FROM {table}"
        if list(_rows(a, count)) != list(_rows(b, count)):
            raise IntegrityError(f"{where}: {table} holds a different number of rows than the source")


def _rows(conn: Any, sql: str) -> Iterator[tuple[Any, ...]]:
    for row in conn.execute(sql):
        yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
