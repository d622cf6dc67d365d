"""``provenance tiles DIR``: the log as C2SP tlog-tiles files for any static host (SPEC §13).

Incremental: the ``checkpoint`` already in ``DIR`` says what was published; a run writes the
full tiles completed since then and the partial tiles of every checkpointed size that are
still the rightmost of their level, and skips a file that is already there only if it holds
exactly the bytes it would write (tile files never change: a different width is a different
path; other bytes mean another tree's tiles, an error naming the file). Atomic: each file
is written to a temporary name and renamed, all of them are flushed to disk, and only then
is ``checkpoint`` replaced the same way. A run killed half-way leaves the old checkpoint,
which every file it names still matches; the new files are there early but no checkpoint
points a reader to them yet.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ledger.core.ledger import Ledger
from ledger.errors import ConfigError, LedgerError
from ledger.publish.content import tile_bytes
from ledger.store import sqlite as store
from ledger.tlog.note import Checkpoint
from ledger.tlog.tiles import TILE_WIDTH, Tile, level_width, levels, tiles_between

CHECKPOINT = "checkpoint"


@dataclass
class Exported:
    size: int
    previous: int
    written: int
    skipped: int


def export_tiles(ledger: Ledger, out: Path) -> Exported:
    """Write the tiles of ``ledger``'s latest checkpoint into ``out``, then the checkpoint.

    Raises ``ConfigError`` if ``out`` holds tiles of another log or of a tree this ledger
    does not extend."""
    out.mkdir(parents=True, exist_ok=True)
    conn = ledger.conn
    written = skipped = 0
    with store.read_transaction(conn):
        latest = ledger.latest_checkpoint()
        new = latest.checkpoint.size
        old = published_size(ledger, out)
        for tile in tiles_to_write(conn, old, new):
            path = out / tile.path
            data = tile_bytes(conn, tile, new)
            if path.exists():
                check_same(path, data)
                skipped += 1
                continue
            write_atomic(path, data)
            written += 1
    os.sync()  # every tile on disk before the checkpoint that names them
    write_atomic(out / CHECKPOINT, latest.note.encode(), durable=True)
    return Exported(new, old, written, skipped)


def published_size(ledger: Ledger, out: Path) -> int:
    """The size of the checkpoint already in ``out`` (0 if none), checked to be of this tree."""
    path = out / CHECKPOINT
    if not path.exists():
        return 0
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        cp = Checkpoint.from_text(text[: text.find("\n\n") + 1])
    except LedgerError as e:
        raise ConfigError(f"{path} is not a checkpoint: {e}") from e
    if cp.origin != ledger.origin:
        raise ConfigError(f"{out} holds the tiles of {cp.origin!r}, not of {ledger.origin!r}")
    if cp.size > ledger.size:
        raise ConfigError(f"{out} holds a tree of {cp.size} entries, this ledger has only {ledger.size}")
    if ledger.root(cp.size) != cp.root:
        raise ConfigError(f"{out} holds a tree of {cp.size} entries whose root is not this ledger's")
    return cp.size


def check_same(path: Path, data: bytes) -> None:
    """A file the run would write is already there: it must hold exactly our bytes (a folder
    with another tree's tiles but no ``checkpoint`` must not pass as ours)."""
    try:
        there = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path} is already there and cannot be read: {e.strerror}") from e
    if there != data:
        raise ConfigError(
            f"{path} is already there with other bytes than this ledger's tile: it belongs to"
            " another tree; publish into an empty folder or remove it"
        )


def tiles_to_write(conn: sqlite3.Connection, old: int, new: int) -> Iterator[Tile]:
    """The full tiles completed between ``old`` and ``new``, then the partial tiles of each
    checkpointed size in ``(old, new]`` that are still the rightmost of their level at ``new``."""
    kinds: list[int | None] = [*levels(new), None]
    for level in kinds:
        yield from (t for t in tiles_between(old, new, level) if t.full)
    partial: set[Tile] = set()
    for size in store.checkpoint_sizes(conn, old, new):
        for level in kinds:
            width = level_width(size, level or 0)
            if width % TILE_WIDTH and width // TILE_WIDTH == level_width(new, level or 0) // TILE_WIDTH:
                partial.add(Tile(level, width // TILE_WIDTH, width % TILE_WIDTH))
    yield from sorted(partial, key=lambda t: (t.level is None, t.level or 0, t.index, t.width))


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
        if durable:
            f.flush()
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
