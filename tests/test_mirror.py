"""Tiles of a real ledger (SPEC §13): served over HTTP, written for a static host, read by Go,
and mirrored (fully verified) from a plain HTTP server; tampered and forked sources."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from go_verifier import go_binary

from ledger.audit.backup import backup
from ledger.core.ledger import KEY_NAME, Ledger
from ledger.demo.builder import Builder
from ledger.errors import ConfigError, IntegrityError, RootMismatch
from ledger.publish import export
from ledger.publish.mirror import SourceForked, mirror
from ledger.publish.source import Source
from ledger.tlog import merkle
from ledger.tlog.tiles import Tile, decode_bundle, encode_bundle

PROVENANCE = Path(sys.executable).with_name("provenance")
GO_TILES = Path(__file__).parent / "go" / "tiles" / "main.go"


def grow(b: Builder, n: int, prefix: str) -> None:
    """``n`` more entries in one batch (one checkpoint): material origins of farm-a."""
    with b.batch():
        for i in range(n):
            b.origin("farm-a", f"{prefix}-{i}", "cotton", "10", "kg", country="IN", produced_on="2025-05-01")


@pytest.fixture
def big(product: dict[str, Any], ledger: Ledger) -> Ledger:
    """``product``'s ledger grown past two tiles, over several checkpoints."""
    b = product["builder"]
    for n, prefix in ((100, "a"), (200, "b"), (250, "c")):
        grow(b, n, prefix)
    assert ledger.size > 512
    return ledger


@pytest.fixture
def published(big: Ledger, tmp_path: Path) -> Path:
    """``big``'s tiles, written by ``provenance tiles`` into ``tmp_path/tiles``."""
    out = tmp_path / "tiles"
    export.export_tiles(big, out)
    return out


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROVENANCE), *map(str, args)], capture_output=True, text=True, timeout=300)


def files_of(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def http_server() -> Iterator[Any]:
    """``serve(dir)``: a plain ``python -m http.server`` on loopback; returns its base URL."""
    procs: list[subprocess.Popen[str]] = []

    def serve(directory: Path) -> str:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
                str(directory),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
        port = int(line.split(" port ")[1].split()[0])
        return f"http://127.0.0.1:{port}"

    yield serve
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


# -- HTTP ----------------------------------------------------------------------------------


def test_tiles_over_http_match_the_static_files(big: Ledger, app: Any, tmp_path: Path) -> None:
    export.export_tiles(big, tmp_path / "static")
    static = files_of(tmp_path / "static")
    client = app.test_client()
    served = 0
    for path, data in static.items():
        if path == "checkpoint":
            r = client.get("/checkpoint")
            assert r.get_data() == data and r.headers["Content-Type"] == "text/plain; charset=utf-8"
            assert r.headers["Cache-Control"] == "public, max-age=5"  # mutable: seconds, not a week
            continue
        r = client.get("/" + path, headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, path
        assert r.get_data() == data, path
        assert r.headers["Content-Type"] == "application/octet-stream"
        assert r.headers["Cache-Control"] == "public, max-age=604800, immutable"
        assert r.headers["Access-Control-Allow-Origin"] == "*"
        assert "Content-Encoding" not in r.headers
        served += 1
    assert served >= 6


def test_entry_bundles_are_gzip_encoded_for_clients_that_accept_it(big: Ledger, app: Any) -> None:
    client = app.test_client()
    plain = client.get("/tile/entries/000", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/tile/entries/000", headers={"Accept-Encoding": "gzip, identity"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.get_data()) == plain.get_data()
    entries = decode_bundle(plain.get_data(), Tile(None, 0))
    assert entries[0] == big.canonical(0) and entries[255] == big.canonical(255)
    # hash tiles are random bytes: never compressed
    assert "Content-Encoding" not in client.get("/tile/0/000", headers={"Accept-Encoding": "gzip"}).headers


def test_partial_tiles_are_served_for_each_checkpointed_size(big: Ledger, app: Any) -> None:
    client = app.test_client()
    sizes = [s for (s,) in big.conn.execute("SELECT size FROM checkpoints")]
    for size in sizes:
        if size % 256:
            assert client.get(f"/tile/0/{size // 256:03d}.p/{size % 256}").status_code == 200
            assert client.get(f"/tile/entries/{size // 256:03d}.p/{size % 256}").status_code == 200


@pytest.mark.parametrize(
    "path,status",
    [
        ("/tile/0/009", 404),  # beyond the tree
        ("/tile/0/002.p/255", 404),  # wider than the tree
        ("/tile/5/000.p/1", 404),  # a level the tree does not reach
        ("/tile/0/2", 404),  # not a tile path
        ("/tile/entries/x000/000", 404),
        ("/tile/0/000.p/256", 404),
    ],
)
def test_tiles_the_tree_lacks_are_404_with_the_error_body(
    big: Ledger, app: Any, path: str, status: int
) -> None:
    r = app.test_client().get(path)
    assert r.status_code == status
    assert set(r.get_json()["error"]) >= {"code", "message"}
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_tile_routes_are_in_the_openapi_document(app: Any) -> None:
    paths = app.test_client().get("/api/openapi.json").get_json()["paths"]
    assert {"/tile/{level}/{index}", "/tile/{level}/{index}.p/{width}", "/tile/entries/{index}"} <= set(paths)


# -- provenance tiles DIR --------------------------------------------------------------------


def test_tiles_command_writes_every_tile_then_only_what_is_new(
    big: Ledger, product: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "tiles"
    size = big.size
    done = run("tiles", out, "--home", big.home)
    assert done.returncode == 0, done.stderr
    first = files_of(out)
    assert first["checkpoint"].decode() == big.latest_checkpoint().note
    assert (
        "tile/0/000" in first
        and "tile/0/001" in first
        and f"tile/0/{size // 256:03d}.p/{size % 256}" in first
    )
    again = run("tiles", out, "--home", big.home)
    assert "0 files written" in again.stdout
    assert files_of(out) == first
    grow(product["builder"], 300, "d")
    inodes = {p: (out / p).stat().st_ino for p in first if p != "checkpoint"}
    third = run("tiles", out, "--home", big.home)
    assert third.returncode == 0, third.stderr
    now = files_of(out)
    assert {p: (out / p).stat().st_ino for p in inodes} == inodes  # nothing old rewritten
    new = set(now) - set(first)
    assert "tile/0/002" in new and f"tile/entries/{big.size // 256:03d}.p/{big.size % 256}" in new
    assert f"{len(new)} files written" in third.stdout
    assert now["checkpoint"].decode() == big.latest_checkpoint().note


def test_a_run_killed_half_way_leaves_the_old_checkpoint_complete(
    big: Ledger, published: Path, product: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = published
    before = files_of(out)
    grow(product["builder"], 300, "d")
    written: list[Path] = []
    real = export.write_atomic

    def dying(path: Path, data: bytes, *, durable: bool = False) -> None:
        if len(written) == 3:
            raise KeyboardInterrupt  # the process dies here
        real(path, data, durable=durable)
        written.append(path)

    monkeypatch.setattr(export, "write_atomic", dying)
    with pytest.raises(KeyboardInterrupt):
        export.export_tiles(big, out)
    monkeypatch.undo()
    after = files_of(out)
    assert after["checkpoint"] == before["checkpoint"]  # a reader still sees the old tree ...
    assert {p: after[p] for p in before} == before  # ... complete, every file unchanged
    # and the old checkpoint's tree reads back in full from what is there
    _mirror_ok(out, tmp_path / "m1", big, size=_size(before["checkpoint"]))
    done = export.export_tiles(big, out)
    assert done.previous == _size(before["checkpoint"]) and done.skipped == 3
    _mirror_ok(out, tmp_path / "m2", big)


def test_tiles_refuses_a_directory_of_another_ledger(big: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "tiles"
    out.mkdir()
    (out / "checkpoint").write_text("other.example/log\n5\n" + "A" * 43 + "=\n\n— other.example/log AAAA\n")
    done = run("tiles", out, "--home", big.home)
    assert done.returncode == 1 and "other.example/log" in done.stderr and "Traceback" not in done.stderr


# -- Go's sumdb/tlog reads our tiles -------------------------------------------------------------


def test_go_tlog_reads_our_tiles_and_reproduces_roots_and_proofs(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    binary = go_binary(GO_TILES)
    out = published
    size = big.size
    records = sorted({0, 1, 255, 256, 300, size // 2, size - 1})
    olds = sorted({1, 2, 256, 257, 300, size - 1, size})
    payload = {"dir": str(out), "vkey": big.verifier.to_text(), "records": records, "olds": olds}
    done = subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["size"] == size and got["root"] == big.root(size).hex()
    assert got["inclusion"] == [big.inclusion_proof(s, size).to_json() for s in records]
    assert got["consistency"] == [big.consistency_proof(o, size).to_json() for o in olds]


def test_go_tlog_refuses_a_tampered_entry_bundle(big: Ledger, published: Path, tmp_path: Path) -> None:
    binary = go_binary(GO_TILES)
    out = published
    _tamper_entry(out, 300)
    payload = {"dir": str(out), "vkey": big.verifier.to_text(), "records": [], "olds": []}
    done = subprocess.run(
        [str(binary)], input=json.dumps(payload), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1 and "entry 300 does not hash to its leaf" in done.stderr


# -- provenance mirror ------------------------------------------------------------------------


def _size(note: bytes) -> int:
    return int(note.decode().split("\n")[1])


def _mirror_ok(source: Path | str, home: Path, original: Ledger, size: int | None = None) -> None:
    done = mirror(Source(str(source)), home)
    size = size or original.size
    assert done.size == size
    with Ledger.open(home) as copy:
        assert copy.size == size and copy.root(size) == original.root(size)
        for seq in range(size):
            assert copy.canonical(seq) == original.canonical(seq)


def test_mirror_from_a_plain_http_server_is_the_same_ledger_entry_by_entry(
    big: Ledger, published: Path, product: dict[str, Any], tmp_path: Path, http_server: Any
) -> None:
    out = published
    url = http_server(out)
    home = tmp_path / "mirror"
    done = run("mirror", url, "--home", home, "--vkey", big.verifier.to_text())
    assert done.returncode == 0, done.stderr
    assert f"mirrored {big.size} entries (had 0)" in done.stdout and big.verifier.to_text() in done.stdout
    with Ledger.open(home) as copy:
        assert [copy.canonical(s) for s in range(copy.size)] == [big.canonical(s) for s in range(big.size)]
        assert copy.latest_checkpoint().note == big.latest_checkpoint().note
    audit = run("verify", "--home", home)
    assert audit.returncode == 0 and f"ok: {big.size} entries" in audit.stderr, audit.stdout + audit.stderr
    # the compliance policy is the operator's own file, not part of the log: the mirror's
    # operator keeps one too (here the same, so the verdicts can be compared)
    shutil.copy(big.home / "policy.json", home / "policy.json")
    trace = run("trace", product["gtin"], product["batch"], "--home", home, "--json")
    original = run("trace", product["gtin"], product["batch"], "--home", big.home, "--json")
    assert trace.returncode == 0 and json.loads(trace.stdout) == json.loads(original.stdout)
    # ... and serves the same pages and API answers
    from urllib.parse import quote

    from web import create_app

    batch = quote(product["batch"], safe="")
    page = f"/01/{product['gtin']}/10/{batch}"
    mirrored, source = (create_app({"PROVENANCE_HOME": str(h)}).test_client() for h in (home, big.home))
    assert mirrored.get(page).status_code == 200
    for path in ("/api/v1/entries/300", "/tile/entries/001", "/checkpoint", "/api/v1/proofs/inclusion?seq=5"):
        assert mirrored.get(path).get_data() == source.get(path).get_data(), path
    # It holds no operator key: it cannot append or sign a bundle, and says so.
    from conftest import origin_envelope

    posted = mirrored.post("/api/v1/entries", json=origin_envelope(product["builder"], "mirror-lot"))
    assert posted.status_code == 403 and posted.get_json()["error"]["code"] == "read-only-mirror"
    r = mirrored.get(f"/api/v1/trace/{product['gtin']}/{batch}")
    assert r.status_code == 403 and "read-only mirror of" in r.get_json()["error"]["message"]


def test_mirror_resumes_from_what_it_holds(
    big: Ledger, published: Path, product: dict[str, Any], tmp_path: Path, http_server: Any
) -> None:
    out = published
    url = http_server(out)
    home = tmp_path / "mirror"
    first = mirror(Source(url), home)
    grow(product["builder"], 300, "d")
    export.export_tiles(big, out)
    second = mirror(Source(url), home)
    assert (second.previous, second.size) == (first.size, big.size)
    with Ledger.open(home) as copy:
        assert copy.root(copy.size) == big.root(big.size)
        assert [s for (s,) in copy.conn.execute("SELECT size FROM checkpoints ORDER BY size")] == [
            first.size,
            big.size,
        ]


def test_mirror_of_a_copy_with_a_tampered_entry_fails_at_its_seq(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    out = published
    _tamper_entry(out, 300)
    done = run("mirror", out, "--home", tmp_path / "mirror")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "entry 300 in tile/entries/001 hashes to" in done.stderr


def test_mirror_of_a_copy_with_rebuilt_tiles_fails_against_the_signed_root(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    # The forger changes entry 300 and recomputes every tile: only the signature stops him.
    out = published
    _tamper_entry(out, 300)
    _rebuild_hash_tiles(out, big.size)
    with pytest.raises(RootMismatch, match=f"for size {big.size}"):
        mirror(Source(str(out)), tmp_path / "mirror")


def test_mirror_refuses_a_checkpoint_not_signed_by_the_operator(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    out = published
    note = (out / "checkpoint").read_text()
    at = len(note) - 10  # a character of the signature, after its key hash
    (out / "checkpoint").write_text(note[:at] + ("B" if note[at] != "B" else "C") + note[at + 1 :])
    with pytest.raises(IntegrityError, match="checkpoint does not verify"):
        mirror(Source(str(out)), tmp_path / "mirror")
    assert not (tmp_path / "mirror" / "ledger.db").exists()  # no empty ledger left behind


def test_mirror_with_the_wrong_vkey_stops_before_replaying(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    out = published
    other = Ledger.init(tmp_path / "other", big.origin)
    done = run("mirror", out, "--home", tmp_path / "mirror", "--vkey", other.verifier.to_text())
    assert done.returncode == 1 and "not signed by the operator" in done.stderr
    mirror(Source(str(out)), tmp_path / "mirror")
    with pytest.raises(IntegrityError, match="not signed by the operator"):  # a later run, the wrong key
        mirror(Source(str(out)), tmp_path / "mirror", vkey=other.verifier.to_text())


def test_mirror_of_a_forked_source_stops_with_the_seq_and_the_proof(
    big: Ledger, product: dict[str, Any], tmp_path: Path
) -> None:
    fork_at = big.size
    fork_home = tmp_path / "fork"
    fork_home.mkdir()
    backup(big, fork_home / "ledger.db")
    shutil.copy(big.home / KEY_NAME, fork_home / KEY_NAME)
    grow(product["builder"], 40, "honest")
    out = tmp_path / "tiles"
    export.export_tiles(big, out)
    home = tmp_path / "mirror"
    mirror(Source(str(out)), home)
    # The operator signs a second history from fork_at on, and publishes it in place of the first.
    with Ledger.open(fork_home) as forked:
        b = Builder(forked, seed="fork")  # statement ids of its own, the parties' keys
        b.keys.update(product["builder"].keys)
        grow(b, 60, "x")
        forked_out = tmp_path / "forked"
        export.export_tiles(forked, forked_out)
        grow_to = forked.size
    done = run("mirror", forked_out, "--home", home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"source was rewritten or forked at seq {fork_at}" in done.stderr
    evidence = json.loads(done.stdout)
    assert evidence["seq"] == fork_at
    proof = merkle.ConsistencyProof.from_json(evidence["proof"])
    assert proof.old_size == big.size and proof.new_size == grow_to
    with pytest.raises(RootMismatch):  # the proof does not lead from what the mirror holds
        merkle.verify_consistency(
            proof.old_size,
            proof.new_size,
            big.root(big.size),
            bytes.fromhex(evidence["source_root"]),
            proof.hashes,
        )
    with Ledger.open(home) as copy:
        assert copy.size == big.size  # nothing of the fork was taken


def test_mirror_of_a_rolled_back_source_stops(big: Ledger, product: dict[str, Any], tmp_path: Path) -> None:
    old = tmp_path / "old"
    export.export_tiles(big, old)
    grow(product["builder"], 10, "more")
    new = tmp_path / "new"
    export.export_tiles(big, new)
    home = tmp_path / "mirror"
    mirror(Source(str(new)), home)
    with pytest.raises(SourceForked, match="rolled back"):
        mirror(Source(str(old)), home)


def test_mirror_needs_a_url_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Source(str(tmp_path / "nothing-here"))
    done = run("mirror", "http://127.0.0.1:9/", "--home", tmp_path / "m")
    assert done.returncode == 1 and "Traceback" not in done.stderr


# -- helpers that forge ------------------------------------------------------------------------


def _tamper_entry(out: Path, seq: int) -> None:
    """Change one byte of entry ``seq`` in its bundle (a digit of its recorded_at)."""
    candidates = sorted((out / "tile" / "entries").rglob("*"), key=lambda p: str(p))
    for path in candidates:
        if not path.is_file():
            continue
        tile = Tile.from_path(str(path.relative_to(out)))
        if tile.first <= seq < tile.first + tile.width:
            entries = decode_bundle(path.read_bytes(), tile)
            raw = entries[seq - tile.first]
            at = raw.index(b'"recorded_at":"') + len(b'"recorded_at":"') + 3
            entries[seq - tile.first] = (
                raw[:at] + (b"8" if raw[at : at + 1] != b"8" else b"7") + raw[at + 1 :]
            )
            path.write_bytes(encode_bundle(entries))


def _rebuild_hash_tiles(out: Path, size: int) -> None:
    """Recompute every hash tile from the (tampered) entry bundles, as a forger would."""
    from ledger.publish.content import tile_bytes
    from ledger.store import sqlite as store
    from ledger.tlog.tiles import levels, tiles_for_size

    conn = store.connect(":memory:")
    store.create_schema(conn)
    frontier = merkle.Frontier()
    for bundle in tiles_for_size(size, None):
        for entry in decode_bundle((out / bundle.path).read_bytes(), bundle):
            store.insert_nodes(conn, frontier.append(merkle.leaf_hash(entry)))
    for level in levels(size):
        for tile in tiles_for_size(size, level):
            (out / tile.path).write_bytes(tile_bytes(conn, tile, size))


def test_serve_starts_on_a_mirror_but_not_on_a_ledger_that_lost_its_key(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    from web.server import check_home

    out = published
    mirror(Source(str(out)), tmp_path / "mirror")
    check_home(tmp_path / "mirror")  # a mirror serves reads without the operator key
    keyless = tmp_path / "keyless"
    keyless.mkdir()
    backup(big, keyless / "ledger.db")
    with pytest.raises(ConfigError, match="does not exist"):
        check_home(keyless)


# -- review findings ---------------------------------------------------------------------------


def test_a_partial_tile_no_checkpoint_ends_with_is_404(big: Ledger, app: Any) -> None:
    """Only widths a checkpoint's tree ends with are published (as in a static export)."""
    client = app.test_client()
    sizes = {s for (s,) in big.conn.execute("SELECT size FROM checkpoints")}
    unsigned = next(s for s in range(big.size - 1, 0, -1) if s not in sizes and s % 256)
    for kind in ("0", "entries"):
        r = client.get(f"/tile/{kind}/{unsigned // 256:03d}.p/{unsigned % 256}")
        assert r.status_code == 404 and "no checkpoint" in r.get_json()["error"]["message"]
    size = big.latest_checkpoint().checkpoint.size
    assert client.get(f"/tile/1/000.p/{size >> 8}").status_code == 200  # a checkpoint's level-1 width


def test_tiles_refuses_another_trees_tiles_in_a_folder_without_checkpoint(
    big: Ledger, published: Path, tmp_path: Path
) -> None:
    """Files already there are ours only if they hold our bytes: another tree's tiles, its
    checkpoint removed, are an error naming the file, and no checkpoint is written."""
    out = tmp_path / "foreign"
    shutil.copytree(published, out)
    (out / "checkpoint").unlink()
    tile = out / "tile" / "0" / "001"
    tile.write_bytes(bytes([tile.read_bytes()[0] ^ 1]) + tile.read_bytes()[1:])
    done = run("tiles", out, "--home", big.home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "tile/0/001" in done.stderr and "another tree" in done.stderr
    assert not (out / "checkpoint").exists()
    (out / "tile" / "0" / "001").unlink()
    again = run("tiles", out, "--home", big.home)  # the ledger's own files pass, once it is gone
    assert again.returncode == 0 and files_of(out) == files_of(published), again.stderr


def test_a_partial_tile_of_a_level_far_above_the_tree_is_404(big: Ledger, app: Any) -> None:
    r = app.test_client().get("/tile/8/145.p/120")  # sizes past 2**64: no SQLite integer holds them
    assert r.status_code == 404 and r.get_json()["error"]["code"] != "internal"
