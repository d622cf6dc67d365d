"""``serve --read-db``: the pages and API reads come from a real streaming replica
(``pg_basebackup``), appends go to the primary, and every proof a reader gets is against
a checkpoint the replica itself holds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import TEST_CAST, TEST_ORIGIN, origin_envelope
from pgcluster import Cluster, bin_dir
from test_serve import environment, free_port

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bin_dir() is None, reason="PostgreSQL is not installed (scripts/setup --system)"),
]
PROVENANCE = Path(sys.executable).with_name("provenance")


@pytest.fixture
def primary() -> Iterator[Cluster]:
    c = Cluster().init().start()
    yield c
    c.remove()


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post(url: str, body: bytes) -> tuple[int, Any]:
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def replayed(replica_url: str, size: int) -> None:
    """Wait until the replica holds ``size`` entries (it streams, so it gets there)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(replica_url, autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM entries").fetchone()[0] < size:  # type: ignore[index]
            assert time.monotonic() < deadline, "the replica never caught up"
            time.sleep(0.05)


def test_reads_come_from_the_replica_with_proofs_it_can_back(
    primary: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROVENANCE_KEY_PASSPHRASE", raising=False)
    home = tmp_path / "home"
    with Ledger.init(home, TEST_ORIGIN, db=primary.create_database("prov")) as led:
        b = Builder(led, seed="pg-replica")
        with b.batch():
            for pid, name, role, country in TEST_CAST:
                b.party(pid, name, role, country)
        envelopes = [json.dumps(origin_envelope(b, f"r-{i}")).encode() for i in range(3)]
        size = led.size
    replica = primary.standby()
    try:
        replica_url = replica.url("prov")
        replayed(replica_url, size)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [str(PROVENANCE), "serve", "--home", str(home), "--port", str(port), "--read-db", replica_url],
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if get(base + "/api/v1/ledger")[0] == 200:
                        break
                except OSError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)

            status, made = post(base + "/api/v1/entries", envelopes[0])
            assert status == 201, made
            replayed(replica_url, made["seq"] + 1)
            status, view = get(f"{base}/api/v1/entries/{made['seq']}")
            assert status == 200 and view["entry_hash"] == made["entry_hash"]
            check_view(led_verifier(home), view)

            # Pause the replica: appends still land on the primary, reads show the replica's
            # state, with proofs against the replica's own latest checkpoint.
            with psycopg.connect(replica_url, autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_pause()")
            status, second = post(base + "/api/v1/entries", envelopes[1])
            assert status == 201, second
            status, info = get(base + "/api/v1/ledger")
            assert status == 200 and info["size"] == made["seq"] + 1, "the ledger info came from the primary"
            status, missing = get(f"{base}/api/v1/entries/{second['seq']}")
            assert status == 404, missing
            status, old = get(f"{base}/api/v1/entries/{made['seq']}")
            assert status == 200 and SignedCheckpoint.open(
                old["checkpoint"], led_verifier(home)
            ).checkpoint.size == (made["seq"] + 1)
            check_view(led_verifier(home), old)
            with psycopg.connect(replica_url, autocommit=True) as conn:
                conn.execute("SELECT pg_wal_replay_resume()")
            replayed(replica_url, second["seq"] + 1)
            status, view = get(f"{base}/api/v1/entries/{second['seq']}")
            assert status == 200 and view["entry_hash"] == second["entry_hash"]
            check_view(led_verifier(home), view)
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(15)
    finally:
        replica.remove()


def led_verifier(home: Path) -> Any:
    with Ledger.open(home, readonly=True) as led:
        return led.verifier


def check_view(verifier: Any, view: dict[str, Any]) -> None:
    cp = SignedCheckpoint.open(view["checkpoint"], verifier).checkpoint
    proof = view["inclusion_proof"]
    assert proof["tree_size"] == cp.size
    merkle.verify_inclusion(
        view["seq"],
        cp.size,
        bytes.fromhex(view["entry_hash"]),
        [bytes.fromhex(h) for h in proof["hashes"]],
        cp.root,
    )
