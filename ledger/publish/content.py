"""The bytes of our own tiles, read from the store (SPEC §13, C2SP tlog-tiles).

A hash tile is a run of stored Merkle nodes (the store keeps every complete subtree), an
entry bundle a run of stored entries; neither is computed from anything but the record.
Only what a checkpoint covers is published: a tile exists for a checkpointed tree if that
tree has all of its hashes.
"""

from __future__ import annotations

import sqlite3

from ledger.errors import IntegrityError, NotFound
from ledger.store import sqlite as store
from ledger.tlog.tiles import TILE_HEIGHT, Tile, encode_bundle, encode_hashes, level_width


def check_published(tile: Tile, size: int) -> None:
    """Raise ``NotFound`` unless a tree of ``size`` entries holds all of ``tile``."""
    have = level_width(size, tile.level or 0)
    if tile.first + tile.width > have:
        raise NotFound(f"{tile.path} is not part of the tree of the latest checkpoint (size {size})")


def check_checkpointed(conn: sqlite3.Connection, tile: Tile, size: int) -> None:
    """Raise ``NotFound`` for a partial tile whose width is the rightmost width of no
    checkpointed tree up to ``size``: such a path names a tree state nobody was shown."""
    if tile.full:
        return
    shift = TILE_HEIGHT * (tile.level or 0)
    hashes = tile.first + tile.width  # the level's width in the trees that have this tile
    lowest, highest = hashes << shift, min(size, ((hashes + 1) << shift) - 1)
    if lowest <= size and next(store.checkpoint_sizes(conn, lowest - 1, highest), None) is not None:
        return
    raise NotFound(f"{tile.path}: no checkpoint has a tree whose rightmost tile is that wide")


def tile_bytes(conn: sqlite3.Connection, tile: Tile, size: int) -> bytes:
    """The bytes of ``tile`` (hash tile or entry bundle) of the tree of ``size`` entries.

    Raises ``NotFound`` for a tile that tree lacks, ``IntegrityError`` if the store lacks rows it
    should hold (``provenance verify`` says which)."""
    check_published(tile, size)
    if tile.level is None:
        rows = [c for _, c, _ in store.iter_entries(conn, tile.first, tile.first + tile.width)]
        what = "entries"
    else:
        rows = store.node_range(conn, tile.tree_level, tile.first, tile.width)
        what = "Merkle nodes"
    if len(rows) != tile.width:
        raise IntegrityError(f"the store holds {len(rows)} of the {tile.width} {what} of {tile.path}")
    return encode_bundle(rows) if tile.level is None else encode_hashes(rows)
