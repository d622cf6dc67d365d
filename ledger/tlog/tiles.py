"""C2SP tlog-tiles: tile coordinates, their paths, and the bytes of hash tiles and entry bundles.

A hash tile at level ``L`` and index ``N`` holds the Merkle Tree Hashes of the complete
subtrees at tree level ``8·L`` with indices ``N·256 … N·256 + W − 1``: 256 of them when the
tile is full, ``W`` (1…255) when it is the rightmost, partial tile of a tree. An entry bundle
``N`` holds the entries whose leaf hashes make up level-0 tile ``N``, each as a big-endian
uint16 length followed by its canonical bytes. Everything here is pure arithmetic and byte
formats; where the hashes come from (the store, files, HTTP) is the caller's business.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ledger.errors import Malformed, TooLarge
from ledger.tlog.merkle import node_hash

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT  # 256 hashes or entries
HASH_SIZE = 32
MAX_LEVEL = 63
MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle record's uint16 length (SPEC §2)
ENTRIES = "entries"

_GZIP_MAGIC = b"\x1f\x8b\x08"
_INDEX_PART = re.compile(r"x[0-9]{3}")
_LAST_PART = re.compile(r"[0-9]{3}")
_WIDTH = re.compile(r"[1-9][0-9]{0,2}")
_LEVEL = re.compile(r"0|[1-9][0-9]?")


@dataclass(frozen=True)
class Tile:
    """One tile: ``level`` (``None`` for an entry bundle), ``index`` and ``width`` (1…256)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise Malformed(f"tile level {self.level} is outside 0…{MAX_LEVEL}", field="level")
        if self.index < 0:
            raise Malformed(f"tile index {self.index} is negative", field="index")
        if not 1 <= self.width <= TILE_WIDTH:
            raise Malformed(f"tile width {self.width} is outside 1…{TILE_WIDTH}", field="width")

    @property
    def full(self) -> bool:
        return self.width == TILE_WIDTH

    @property
    def tree_level(self) -> int:
        """The tree level of the hashes in this tile (entry bundles: the leaves, 0)."""
        return TILE_HEIGHT * (self.level or 0)

    @property
    def first(self) -> int:
        """Index, at ``tree_level``, of the tile's first hash (or the bundle's first entry's seq)."""
        return self.index * TILE_WIDTH

    @property
    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``, relative to the log's prefix."""
        level = ENTRIES if self.level is None else str(self.level)
        tail = "" if self.full else f".p/{self.width}"
        return f"tile/{level}/{index_path(self.index)}{tail}"

    @classmethod
    def from_path(cls, path: str) -> Tile:
        """Parse a tile path (with or without the leading ``tile/``). Raises ``Malformed``."""
        parts = path.removeprefix("tile/").split("/")
        if len(parts) < 2:
            raise Malformed(f"{path!r} is not a tile path", field="path")
        level_text, *rest = parts
        if level_text == ENTRIES:
            level = None
        elif _LEVEL.fullmatch(level_text):
            level = int(level_text)
        else:
            raise Malformed(f"tile level {level_text!r} is not a decimal number without zeros in front")
        width = TILE_WIDTH
        if len(rest) >= 2 and rest[-2].endswith(".p"):
            if not _WIDTH.fullmatch(rest[-1]) or int(rest[-1]) >= TILE_WIDTH:
                raise Malformed(f"partial tile width {rest[-1]!r} is not a number 1…255", field="width")
            width = int(rest[-1])
            rest = [*rest[:-2], rest[-2][: -len(".p")]]
        return cls(level, parse_index(rest), width)


def index_path(n: int) -> str:
    """C2SP: ``n`` in zero-padded 3-digit path elements, all but the last ``x``-prefixed
    (``1234067`` → ``x001/x234/067``)."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def parse_index(parts: Sequence[str]) -> int:
    """The index that ``index_path`` wrote as ``parts``. Raises ``Malformed``."""
    if (
        not parts
        or not _LAST_PART.fullmatch(parts[-1])
        or not all(_INDEX_PART.fullmatch(p) for p in parts[:-1])
    ):
        raise Malformed(f"tile index {'/'.join(parts)!r} is not in 3-digit path elements", field="index")
    if len(parts) > 1 and parts[0] == "x000":
        raise Malformed(f"tile index {'/'.join(parts)!r} has a zero element in front", field="index")
    n = 0
    for part in parts:
        n = n * 1000 + int(part.lstrip("x"))
    return n


def level_width(size: int, level: int) -> int:
    """How many hashes of tile level ``level`` a tree of ``size`` entries has."""
    return size >> (TILE_HEIGHT * level)


def tiles_for_size(size: int, level: int | None) -> Iterator[Tile]:
    """Every tile (full ones, then the partial one if any) of ``level`` in a tree of ``size``."""
    yield from tiles_between(0, size, level)


def tiles_between(old: int, new: int, level: int | None) -> Iterator[Tile]:
    """The tiles of ``level`` a tree of ``new`` entries has and one of ``old`` lacks: the full
    tiles completed since ``old``, and ``new``'s partial tile if it has one."""
    have, want = level_width(old, level or 0), level_width(new, level or 0)
    for index in range(have // TILE_WIDTH, want // TILE_WIDTH):
        yield Tile(level, index)
    if want % TILE_WIDTH:
        yield Tile(level, want // TILE_WIDTH, want % TILE_WIDTH)


def levels(size: int) -> range:
    """The hash tile levels a tree of ``size`` has (level ``L`` exists while ``size ≥ 256^L``)."""
    top = 0
    while level_width(size, top + 1):
        top += 1
    return range(top + 1 if size else 0)


def tile_for(level: int | None, index: int, size: int) -> Tile:
    """The tile of a tree of ``size`` that holds hash ``index`` of tile level ``level``."""
    n = index // TILE_WIDTH
    width = min(TILE_WIDTH, level_width(size, level or 0) - n * TILE_WIDTH)
    if width <= 0:
        raise Malformed(f"a tree of {size} entries has no hash {index} at tile level {level}")
    return Tile(level, n, width)


def encode_hashes(hashes: Sequence[bytes]) -> bytes:
    return b"".join(hashes)


def decode_hashes(data: bytes, tile: Tile) -> list[bytes]:
    """The hashes of a hash tile's bytes. Raises ``Malformed`` if the length is not the width's."""
    if len(data) != tile.width * HASH_SIZE:
        raise Malformed(f"{tile.path} is {len(data)} bytes, want {tile.width * HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """An entry bundle: each entry as a big-endian uint16 length and its bytes."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_BYTES:
            raise TooLarge(f"an entry of {len(entry)} bytes does not fit an entry bundle record")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes, tile: Tile) -> list[bytes]:
    """The entries of a bundle's bytes, gunzipped first if a host stored them compressed (our
    entries start with ``{``, so a bundle never starts with the gzip magic by chance).
    Raises ``Malformed`` for a truncated record, trailing bytes or the wrong number of entries."""
    if data.startswith(_GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise Malformed(f"{tile.path} is not valid gzip: {e}") from e
    entries: list[bytes] = []
    at = 0
    while at < len(data):
        if at + 2 > len(data):
            raise Malformed(f"{tile.path}: a record length is cut off at byte {at}")
        n = int.from_bytes(data[at : at + 2], "big")
        if at + 2 + n > len(data):
            raise Malformed(f"{tile.path}: record {len(entries)} is cut off (needs {n} bytes)")
        entries.append(data[at + 2 : at + 2 + n])
        at += 2 + n
    if len(entries) != tile.width:
        raise Malformed(f"{tile.path} holds {len(entries)} entries, want {tile.width}")
    return entries


def subtree_hash(hashes: Sequence[bytes]) -> bytes:
    """MTH of ``2^k`` consecutive complete subtrees of equal height (a power-of-two run)."""
    level = list(hashes)
    if not level or len(level) & (len(level) - 1):
        raise ValueError(f"{len(level)} hashes are not a power of two")
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]
