"""A reader of C2SP tlog-tiles that trusts nothing but a checkpoint's size and root.

``TileReader(fetch, size, root)`` fetches the rightmost (partial) tile of each level, rebuilds
the root from them and compares it with the checkpoint's root: from then on those tiles are
authentic. Every full tile it reads later is checked against its hash in the tile above
(the Merkle Tree Hash of a full tile is one hash of the next level), which is checked the
same way up to an authentic tile. So every hash, root, proof and entry it returns follows
from the checkpoint, whoever served the files. It keeps a bounded number of tiles: memory
stays flat however long the log.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from ledger.errors import IntegrityError, NotFound, RootMismatch
from ledger.tlog import merkle
from ledger.tlog.merkle import Node, leaf_hash
from ledger.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    Tile,
    decode_bundle,
    decode_hashes,
    level_width,
    levels,
    subtree_hash,
    tile_for,
)

Fetch = Callable[[str], bytes]  # a tile path → its bytes; raises NotFound when there is none
CACHED_TILES = 64


class TileMismatch(IntegrityError):
    """A tile (or an entry in a bundle) that does not hash to what the tree above says."""

    code = "tile-mismatch"


class TileReader:
    """The tree of one checkpoint (``size``, ``root``), read from tiles through ``fetch``.

    Raises ``RootMismatch`` at construction if the tiles do not give ``root``; later reads raise
    ``TileMismatch`` for a tile or entry that does not hash to what the tree says, ``NotFound``
    for a tile the source lacks, ``Malformed`` for bytes that are not a tile.
    """

    def __init__(self, fetch: Fetch, size: int, root: bytes) -> None:
        self.fetch = fetch
        self.size = size
        self.root = root
        self._edge: dict[int, list[bytes]] = {}  # level → its rightmost partial tile
        self._cache: OrderedDict[tuple[int, int], list[bytes]] = OrderedDict()
        for level in levels(size):
            width = level_width(size, level)
            if width % TILE_WIDTH:
                tile = Tile(level, width // TILE_WIDTH, width % TILE_WIDTH)
                self._edge[level] = self._read(tile)
        calculated = self.root_at(size)
        if calculated != root:
            raise RootMismatch(
                root,
                calculated,
                f"the tiles give root {calculated.hex()} for size {size}, the checkpoint says {root.hex()}",
            )

    def _read(self, tile: Tile) -> list[bytes]:
        """A tile's hashes or a bundle's entries. A partial tile may be gone once its full tile
        exists (C2SP), so fall back to the full tile's first ``width`` items."""
        decode = decode_bundle if tile.level is None else decode_hashes
        try:
            return decode(self.fetch(tile.path), tile)
        except NotFound:
            if tile.full:
                raise
        full = Tile(tile.level, tile.index)
        return decode(self.fetch(full.path), full)[: tile.width]

    def hash_tile(self, level: int, index: int) -> list[bytes]:
        """The authentic hashes of tile ``level``/``index`` of this tree."""
        tile = tile_for(level, index * TILE_WIDTH, self.size)
        if not tile.full:
            return self._edge[level]
        key = (level, index)
        hashes = self._cache.get(key)
        if hashes is not None:
            self._cache.move_to_end(key)
            return hashes
        hashes = self._read(tile)
        above = self.hash_tile(level + 1, index // TILE_WIDTH)[index % TILE_WIDTH]
        if subtree_hash(hashes) != above:
            raise TileMismatch(
                f"{tile.path} does not hash to its entry in the tile above:"
                f" the source's tiles disagree with its checkpoint at entries"
                f" {index * TILE_WIDTH << TILE_HEIGHT * level}…",
                seq=index * TILE_WIDTH << TILE_HEIGHT * level,
            )
        self._cache[key] = hashes
        if len(self._cache) > CACHED_TILES:
            self._cache.popitem(last=False)
        return hashes

    def node(self, level: int, index: int) -> bytes:
        """The hash of the complete subtree ``(level, index)``, which must lie within the tree."""
        if (index + 1) << level > self.size:
            raise NotFound(f"subtree ({level}, {index}) is not complete in a tree of {self.size}")
        tile_level, height = divmod(level, TILE_HEIGHT)
        lo, hi = index << height, (index + 1) << height
        tile_index = lo // TILE_WIDTH
        hashes = self.hash_tile(tile_level, tile_index)
        base = tile_index * TILE_WIDTH
        return subtree_hash(hashes[lo - base : hi - base])

    def nodes(self, wanted: list[Node]) -> dict[Node, bytes]:
        """The resolver that ``merkle.resolve`` takes."""
        return {n: self.node(*n) for n in wanted}

    def root_at(self, size: int) -> bytes:
        """The root of the tree's first ``size`` entries (``size`` ≤ this tree's)."""
        if size > self.size:
            raise NotFound(f"size {size} is beyond the checkpoint's {self.size}", field="size")
        return merkle.fold([self.node(*n) for n in merkle.subtree_nodes(0, size)])

    def inclusion_proof(self, index: int) -> merkle.InclusionProof:
        hashes = merkle.resolve(merkle.inclusion_ranges(index, self.size), self.nodes)
        return merkle.InclusionProof(index, self.size, tuple(hashes))

    def consistency_proof(self, old: int) -> merkle.ConsistencyProof:
        hashes = merkle.resolve(merkle.consistency_ranges(old, self.size), self.nodes)
        return merkle.ConsistencyProof(old, self.size, tuple(hashes))

    def entries(self, index: int) -> list[bytes]:
        """The authentic entries of bundle ``index``: each hashes to its level-0 tile hash."""
        bundle = tile_for(None, index * TILE_WIDTH, self.size)
        entries = self._read(bundle)
        hashes = self.hash_tile(0, index)
        for i, (entry, want) in enumerate(zip(entries, hashes, strict=False)):
            if leaf_hash(entry) != want:
                seq = bundle.first + i
                raise TileMismatch(
                    f"entry {seq} in {bundle.path} hashes to {leaf_hash(entry).hex()},"
                    f" the tree holds {want.hex()} there",
                    seq=seq,
                )
        return entries
