"""C2SP tlog-tiles (SPEC §13): paths, tile bytes from the store, and the verifying tile reader,
against a naive tree, the published Sunlight tiles and Go's sumdb/tlog."""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from go_verifier import go_binary
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import LedgerError, Malformed, NotFound, RootMismatch
from ledger.publish.content import tile_bytes
from ledger.store import sqlite as store
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Verifier
from ledger.tlog.tile_reader import TileMismatch, TileReader
from ledger.tlog.tiles import (
    Tile,
    decode_bundle,
    encode_bundle,
    index_path,
    levels,
    parse_index,
    tiles_between,
    tiles_for_size,
)

SUNLIGHT = Path(__file__).parent / "vectors" / "tiles" / "sunlight"

# -- paths ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n,path",
    [
        (0, "000"),
        (7, "007"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (10**9, "x001/x000/x000/000"),
    ],
)
def test_index_path_is_c2sp_3_digit_groups(n: int, path: str) -> None:
    assert index_path(n) == path
    assert parse_index(path.split("/")) == n


@given(st.integers(min_value=0, max_value=2**62))
def test_index_path_round_trips(n: int) -> None:
    assert parse_index(index_path(n).split("/")) == n


@pytest.mark.parametrize(
    "path,want",
    [
        ("tile/0/000", Tile(0, 0)),
        ("tile/3/x001/x234/067", Tile(3, 1234067)),
        ("tile/0/001.p/44", Tile(0, 1, 44)),
        ("tile/entries/x001/000.p/255", Tile(None, 1000, 255)),
        ("tile/entries/000", Tile(None, 0)),
    ],
)
def test_tile_paths_parse_and_print(path: str, want: Tile) -> None:
    assert Tile.from_path(path) == want
    assert want.path == path


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/00",  # not 3 digits
        "tile/0/0000",
        "tile/00/000",  # level with a zero in front
        "tile/64/000",  # level above 63
        "tile/0/x000/001",  # a zero group in front
        "tile/0/001/002",  # an inner group without x
        "tile/0/x001",  # the last group with x
        "tile/0/000.p/0",  # width 0
        "tile/0/000.p/256",  # a partial tile is narrower than 256
        "tile/0/000.p/01",
        "tile/data/000",
        "tile/0",
    ],
)
def test_malformed_tile_paths_are_refused(path: str) -> None:
    with pytest.raises(Malformed):
        Tile.from_path(path)


def test_tiles_of_a_tree_as_c2sp_counts_them() -> None:
    # C2SP: a tree of 70,000 has 273 full level-0 tiles and one of width 112, one full
    # level-1 tile and one of width 17, and one level-2 tile of width 1.
    got = {level: list(tiles_for_size(70_000, level)) for level in levels(70_000)}
    assert list(got) == [0, 1, 2]
    assert [t.width for t in got[0]] == [256] * 273 + [112]
    assert [t.width for t in got[1]] == [256, 17]
    assert [(t.index, t.width) for t in got[2]] == [(0, 1)]
    # ... and a tree of 256, a full level-0 tile and a level-1 tile of width 1.
    assert [t.path for lv in levels(256) for t in tiles_for_size(256, lv)] == ["tile/0/000", "tile/1/000.p/1"]


def test_tiles_between_two_sizes_are_only_the_new_ones() -> None:
    assert [t.path for t in tiles_between(300, 800, 0)] == ["tile/0/001", "tile/0/002", "tile/0/003.p/32"]
    assert [t.path for t in tiles_between(512, 512, 0)] == []


# -- entry bundles --------------------------------------------------------------------------


def test_entry_bundle_is_uint16_length_prefixed() -> None:
    entries = [b"{}", b'{"a":1}', b"x" * 300]
    data = encode_bundle(entries)
    assert data[:4] == b"\x00\x02{}" and data[4:6] == b"\x00\x07" and data[13:15] == b"\x01\x2c"
    assert decode_bundle(data, Tile(None, 0, 3)) == entries
    assert decode_bundle(gzip.compress(data), Tile(None, 0, 3)) == entries  # a host that stores gzip


@pytest.mark.parametrize(
    "data,width,why",
    [
        (b"\x00\x05ab", 1, "cut off"),
        (b"\x00\x01a\x00", 2, "cut off"),
        (b"\x00\x01a", 2, "holds 1 entries, want 2"),
        (b"\x00\x01a\x00\x01b", 1, "holds 2 entries, want 1"),
    ],
)
def test_bad_entry_bundles_are_refused(data: bytes, width: int, why: str) -> None:
    with pytest.raises(Malformed, match=why):
        decode_bundle(data, Tile(None, 0, width))


def test_an_entry_over_65535_bytes_does_not_fit_a_bundle() -> None:
    from ledger.errors import TooLarge

    with pytest.raises(TooLarge):
        encode_bundle([b"x" * 65536])


# -- hash tiles from the store, read back by the verifying reader -----------------------------


def _tree(n: int, salt: bytes = b"") -> tuple[sqlite3.Connection, list[bytes]]:
    """A store holding only the Merkle nodes of ``n`` leaves (all a hash tile needs)."""
    conn = store.connect(":memory:")
    store.create_schema(conn)
    leaves = [merkle.leaf_hash(salt + i.to_bytes(8, "big")) for i in range(n)]
    frontier = merkle.Frontier()
    nodes = []
    for leaf in leaves:
        nodes.extend(frontier.append(leaf))
    store.insert_nodes(conn, nodes)
    return conn, leaves


def _files(conn: sqlite3.Connection, size: int) -> dict[str, bytes]:
    return {t.path: tile_bytes(conn, t, size) for lv in levels(size) for t in tiles_for_size(size, lv)}


def _fetcher(files: dict[str, bytes]):  # type: ignore[no-untyped-def]
    def fetch(path: str) -> bytes:
        if path not in files:
            raise NotFound(path)
        return files[path]

    return fetch


@pytest.mark.parametrize("n", [1, 2, 255, 256, 257, 511, 512, 700, 65536, 65537 + 300])
def test_reader_rebuilds_roots_and_proofs_from_our_tiles(n: int) -> None:
    conn, leaves = _tree(n)
    files = _files(conn, n)
    root = (
        merkle.mth(leaves) if n <= 1024 else merkle.resolve([(0, n)], lambda w: store.get_nodes(conn, w))[0]
    )
    reader = TileReader(_fetcher(files), n, root)
    for index in sorted({0, n // 3, n // 2, n - 1}):
        proof = reader.inclusion_proof(index)
        merkle.verify_inclusion(index, n, leaves[index], proof.hashes, root)
        want = merkle.resolve(merkle.inclusion_ranges(index, n), lambda w: store.get_nodes(conn, w))
        assert list(proof.hashes) == want
    for old in sorted({1, n // 2, n - 1} - {0}):
        old_root = reader.root_at(old)
        assert old_root == merkle.resolve([(0, old)], lambda w: store.get_nodes(conn, w))[0]
        merkle.verify_consistency(old, n, old_root, root, reader.consistency_proof(old).hashes)


def test_full_tiles_are_exactly_8192_bytes_and_partials_32_per_hash() -> None:
    conn, _ = _tree(300)
    files = _files(conn, 300)
    assert {p: len(b) for p, b in files.items()} == {
        "tile/0/000": 8192,
        "tile/0/001.p/44": 44 * 32,
        "tile/1/000.p/1": 32,
    }


def test_a_tile_beyond_the_checkpoint_is_not_served() -> None:
    conn, _ = _tree(300)
    with pytest.raises(NotFound):
        tile_bytes(conn, Tile(0, 1), 300)  # full tile 1 needs 512 entries
    with pytest.raises(NotFound):
        tile_bytes(conn, Tile(0, 1, 45), 300)
    assert len(tile_bytes(conn, Tile(0, 1, 43), 300)) == 43 * 32  # an older checkpoint's partial


# -- attacks on the reader ------------------------------------------------------------------


def _flip(data: bytes, at: int = 5) -> bytes:
    return data[:at] + bytes([data[at] ^ 1]) + data[at + 1 :]


def test_a_forged_full_tile_is_caught_against_the_tile_above() -> None:
    conn, leaves = _tree(700)
    files = _files(conn, 700)
    files["tile/0/001"] = _flip(files["tile/0/001"], 32 * 7)
    reader = TileReader(_fetcher(files), 700, merkle.mth(leaves))  # the right edge is fine
    with pytest.raises(TileMismatch) as info:
        reader.inclusion_proof(300)
    assert info.value.extra["seq"] == 256 and "tile/0/001" in str(info.value)


def test_a_forged_partial_tile_gives_another_root() -> None:
    conn, leaves = _tree(700)
    files = _files(conn, 700)
    files["tile/0/002.p/188"] = _flip(files["tile/0/002.p/188"])
    with pytest.raises(RootMismatch):
        TileReader(_fetcher(files), 700, merkle.mth(leaves))


def test_tiles_of_another_tree_do_not_match_the_checkpoint() -> None:
    _, leaves = _tree(300)
    other, _ = _tree(300, salt=b"other")
    with pytest.raises(RootMismatch):
        TileReader(_fetcher(_files(other, 300)), 300, merkle.mth(leaves))


def test_a_truncated_tile_is_refused() -> None:
    conn, leaves = _tree(300)
    files = _files(conn, 300)
    files["tile/0/001.p/44"] = files["tile/0/001.p/44"][:-1]
    with pytest.raises(Malformed, match="1407 bytes, want 1408"):
        TileReader(_fetcher(files), 300, merkle.mth(leaves))


def test_a_missing_partial_tile_falls_back_to_the_full_one() -> None:
    # C2SP: a log may delete a partial tile once the full tile exists.
    conn, leaves = _tree(512)
    files = {**_files(conn, 512), "tile/1/000.p/1": tile_bytes(conn, Tile(1, 0, 1), 512)}
    assert "tile/0/001.p/44" not in files and "tile/0/001" in files
    reader = TileReader(_fetcher(files), 300, merkle.mth(leaves[:300]))
    merkle.verify_inclusion(
        299, 300, leaves[299], reader.inclusion_proof(299).hashes, merkle.mth(leaves[:300])
    )


def test_a_bundle_entry_that_does_not_hash_to_its_leaf_is_named_by_seq() -> None:
    entries = [f'{{"n":{i}}}'.encode() for i in range(300)]
    leaves = [merkle.leaf_hash(e) for e in entries]
    conn = store.connect(":memory:")
    store.create_schema(conn)
    frontier = merkle.Frontier()
    store.insert_nodes(conn, [n for leaf in leaves for n in frontier.append(leaf)])
    files = _files(conn, 300)
    files["tile/entries/000"] = encode_bundle(entries[:256])
    files["tile/entries/001.p/44"] = encode_bundle([*entries[256:270], b'{"n":999}', *entries[271:]])
    reader = TileReader(_fetcher(files), 300, merkle.mth(leaves))
    assert reader.entries(0) == entries[:256]
    with pytest.raises(TileMismatch) as info:
        reader.entries(1)
    assert info.value.extra["seq"] == 270 and "entry 270" in str(info.value)


# -- published tiles: Sunlight ---------------------------------------------------------------


def _sunlight() -> tuple[Checkpoint, dict[str, bytes]]:
    text = (SUNLIGHT / "checkpoint").read_text()
    cp = Checkpoint.from_text(text[: text.index("\n\n") + 1])
    files = {
        str(p.relative_to(SUNLIGHT)): p.read_bytes() for p in (SUNLIGHT / "tile").rglob("*") if p.is_file()
    }
    return cp, files


def test_our_reader_reads_sunlights_published_tiles() -> None:
    cp, files = _sunlight()
    assert (cp.origin, cp.size) == ("rome2026h1.example.org", 300)
    reader = TileReader(_fetcher(files), cp.size, cp.root)  # rebuilds the signed root
    assert len(reader.hash_tile(0, 0)) == 256
    for index in (0, 17, 255, 256, 299):
        leaf = reader.node(0, index)
        merkle.verify_inclusion(index, 300, leaf, reader.inclusion_proof(index).hashes, cp.root)
    for old in (1, 256, 299):
        merkle.verify_consistency(
            old, 300, reader.root_at(old), cp.root, reader.consistency_proof(old).hashes
        )
    # Its placeholder entry bundles are gzip-compressed: we see through the gzip to the bytes.
    with pytest.raises(Malformed, match="cut off"):
        decode_bundle(files["tile/entries/000"], Tile(None, 0))


def test_a_flipped_bit_in_sunlights_tiles_is_caught() -> None:
    cp, files = _sunlight()
    files["tile/0/000"] = _flip(files["tile/0/000"], 100)
    reader = TileReader(_fetcher(files), cp.size, cp.root)
    with pytest.raises(TileMismatch):
        reader.hash_tile(0, 0)
    cp2, files2 = _sunlight()
    files2["tile/1/000.p/1"] = _flip(files2["tile/1/000.p/1"])
    with pytest.raises(RootMismatch):
        TileReader(_fetcher(files2), cp2.size, cp2.root)


def test_sunlight_vectors_say_where_they_come_from() -> None:
    source = (SUNLIGHT / "SOURCE").read_text()
    assert "sunlight@ed0bc38779aeb73c99cee6ab0c294a6ce9a2d9ba" in source and "ISC" in source
    assert "Sunlight Authors" in (SUNLIGHT / "LICENSE").read_text()


# -- shared vectors: tests/vectors/provenance/tiles.json (scripts/make_vectors.py) ---------------

TILE_VECTORS = json.loads((Path(__file__).parent / "vectors" / "provenance" / "tiles.json").read_text())
GO_TILES = Path(__file__).parent / "go" / "tiles" / "main.go"


def _case_files(case: dict[str, Any]) -> dict[str, bytes]:
    """The published files with the case's alterations applied."""
    files = {p: base64.b64decode(d) for p, d in TILE_VECTORS["files"].items()}
    for flip in case.get("flip", []):
        files[flip["path"]] = _flip(files[flip["path"]], flip["offset"])
    for path, length in case.get("cut", {}).items():
        files[path] = files[path][:length]
    for path, data in case.get("append", {}).items():
        files[path] += base64.b64decode(data)
    for path, data in case.get("replace", {}).items():
        files[path] = base64.b64decode(data)
    return files


def _python_reads(files: dict[str, bytes]) -> None:
    """What a mirror checks of the tile layer: signature, root, every entry to its leaf."""
    verifier = Verifier.from_text(TILE_VECTORS["vkey"])
    cp = SignedCheckpoint.open(files["checkpoint"].decode(), verifier).checkpoint
    reader = TileReader(_fetcher(files), cp.size, cp.root)
    for bundle in tiles_for_size(cp.size, None):
        reader.entries(bundle.index)


@pytest.mark.parametrize("case", TILE_VECTORS["cases"], ids=[c["name"] for c in TILE_VECTORS["cases"]])
def test_python_gives_the_expected_answer_on_the_tile_vectors(case: dict[str, Any]) -> None:
    files = _case_files(case)
    if case["valid"]:
        _python_reads(files)
    else:
        with pytest.raises(LedgerError):
            _python_reads(files)


@pytest.mark.parametrize("case", TILE_VECTORS["cases"], ids=[c["name"] for c in TILE_VECTORS["cases"]])
def test_go_gives_the_expected_answer_on_the_tile_vectors(case: dict[str, Any], tmp_path: Path) -> None:
    binary = go_binary(GO_TILES)
    for path, data in _case_files(case).items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(data)
    payload = {"dir": str(tmp_path), "vkey": TILE_VECTORS["vkey"], "records": [0, 299], "olds": [1, 256]}
    done = subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == (0 if case["valid"] else 1), done.stderr


def test_tile_vectors_have_good_and_tampered_cases() -> None:
    assert {c["valid"] for c in TILE_VECTORS["cases"]} == {True, False}
    assert TILE_VECTORS["size"] == 300 and "tile/0/001.p/44" in TILE_VECTORS["files"]
