"""Faults on PostgreSQL: two ``provenance serve`` processes on one database, 16 clients
appending through both, one server SIGKILLed mid-load, then the database server itself
restarted under load.

Every acknowledged (201) seq must keep its entry hash, the ledger must verify, and
resubmitting everything must land each envelope exactly once (201 or a 409 replay).
The cluster is this test's own, so restarting it disturbs no other test.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import TEST_CAST, TEST_ORIGIN, origin_envelope
from pgcluster import Cluster, bin_dir
from test_serve import Server

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bin_dir() is None, reason="PostgreSQL is not installed (scripts/setup --system)"),
]

CLIENTS, PER_CLIENT = 16, 60


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    c = Cluster().init().start()
    yield c
    c.remove()


def post(port: int, body: bytes, conn: list[http.client.HTTPConnection]) -> tuple[int, dict[str, Any]]:
    if not conn:
        conn.append(http.client.HTTPConnection("127.0.0.1", port, timeout=60))
    c = conn[0]
    try:
        c.request("POST", "/api/v1/entries", body, {"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read())
    except BaseException:
        c.close()
        conn.clear()
        raise


def test_two_servers_one_killed_and_the_database_restarted(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PROVENANCE_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("PROVENANCE_DB", raising=False)
    home = tmp_path / "home"
    with Ledger.init(home, TEST_ORIGIN, db=cluster.create_database("faults")) as led:
        b = Builder(led, seed="pg-faults")
        with b.batch():
            for pid, name, role, country in TEST_CAST:
                b.party(pid, name, role, country)
        envelopes = [json.dumps(origin_envelope(b, f"f-{i}")).encode() for i in range(CLIENTS * PER_CLIENT)]
        before = led.size

    servers = [Server(home, workers=2), Server(home, workers=2)]
    victim, survivor = servers
    acked: dict[int, str] = {}
    refusals: list[tuple[int, Any]] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(server: Server, chunk: list[bytes]) -> None:
        """Post each envelope; on a 503 (the database restarting) or a dropped connection to
        the survivor, wait and post it again, as a real client would."""
        conn: list[http.client.HTTPConnection] = []
        for body in chunk:
            retried = False
            while True:
                try:
                    status, data = post(server.port, body, conn)
                except (OSError, http.client.HTTPException, ValueError):
                    if server is victim:
                        return  # the server is gone: a reply cut short acknowledged nothing
                    status, data = 0, None
                with lock:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 201:
                        if data["seq"] in acked:
                            refusals.append((status, f"seq {data['seq']} acknowledged twice"))
                        acked[data["seq"]] = data["entry_hash"]
                    elif not (status in (0, 503) or (status == 409 and retried)):
                        refusals.append((status, data))
                if status not in (0, 503):
                    break
                retried = True
                time.sleep(0.2)
        for c in conn:
            c.close()

    threads = [
        threading.Thread(target=client, args=(servers[i % 2], envelopes[i::CLIENTS])) for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()

    def wait_for(n: int) -> None:
        deadline = time.monotonic() + 120  # mid-flight, however fast this machine is
        while len(acked) < n and time.monotonic() < deadline:
            time.sleep(0.002)

    wait_for(100)
    os.killpg(victim.proc.pid, signal.SIGKILL)
    killed_at = len(acked)
    wait_for(killed_at + 100)
    cluster.stop("fast")  # the database goes away under the surviving server's load...
    time.sleep(0.5)
    cluster.start()  # ...and comes back
    restarted_at = len(acked)
    for t in threads:
        t.join()
    victim.stop()
    survivor.stop()
    assert not refusals, refusals[:3]
    assert killed_at > 0 and restarted_at > killed_at, "the kill or the restart came after the load"
    assert len(acked) > restarted_at, "the surviving server did not recover from the restart"
    print(
        f"acked {killed_at} before the kill, {restarted_at} before the restart,"
        f" {len(acked)} in all; statuses {statuses}"
    )

    with Ledger.open(home) as after:
        for seq, entry_hash in acked.items():
            assert after.entry(seq).hash.hex() == entry_hash, f"acknowledged seq {seq} changed"
        report = verify_ledger(after.conn)
        assert report.ok, [str(p) for p in report.problems]
        assert after.latest_checkpoint().checkpoint.size == after.size

    # Everything again, through a fresh server: each envelope lands exactly once.
    again = Server(home, workers=2)
    try:
        conn: list[http.client.HTTPConnection] = []
        statuses = [post(again.port, body, conn)[0] for body in envelopes]
        for c in conn:
            c.close()
    finally:
        again.stop()
    assert set(statuses) <= {201, 409}
    with Ledger.open(home) as final:
        assert final.size == before + len(envelopes)
        assert verify_ledger(final.conn).ok
        hashes = {seq: final.entry(seq).hash.hex() for seq in acked}
        assert hashes == acked
