"""Durability over HTTP: SIGKILL the whole server (arbiter and workers) while clients append.

Every acknowledged (201) entry must be there after a restart with the same entry hash;
the ledger must verify; resubmitting everything must give each envelope exactly once
(201 or 409 replay), so nothing is lost and nothing is duplicated.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import origin_envelope
from test_serve import Server

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

pytestmark = pytest.mark.slow

CLIENTS, PER_CLIENT = 8, 150


def post(port: int, body: bytes, conn: list[http.client.HTTPConnection]) -> tuple[int, dict[str, Any]]:
    if not conn:
        conn.append(http.client.HTTPConnection("127.0.0.1", port, timeout=30))
    c = conn[0]
    c.request("POST", "/api/v1/entries", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, json.loads(r.read())


def close(conn: list[http.client.HTTPConnection]) -> None:
    for c in conn:
        c.close()


@pytest.mark.parametrize("kill_after", [50, 500])  # acknowledged appends before the kill
def test_sigkill_while_appending_loses_no_acknowledged_entry(
    ledger: Ledger, cast: Builder, kill_after: int
) -> None:
    envelopes = [
        json.dumps(origin_envelope(cast, f"k{kill_after}-{i}")).encode() for i in range(CLIENTS * PER_CLIENT)
    ]
    before = ledger.size
    server = Server(ledger.home, workers=2)
    acked: dict[int, str] = {}
    lock = threading.Lock()

    def client(chunk: list[bytes]) -> None:
        conn: list[http.client.HTTPConnection] = []
        try:
            for body in chunk:
                try:
                    status, data = post(server.port, body, conn)
                except (OSError, http.client.HTTPException, ValueError):
                    return  # the server is gone: a reply cut short acknowledged nothing
                if status == 201:
                    with lock:
                        assert data["seq"] not in acked
                        acked[data["seq"]] = data["entry_hash"]
        finally:
            close(conn)

    threads = [threading.Thread(target=client, args=(envelopes[i::CLIENTS],)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60  # kill mid-flight, however fast this machine is
    while len(acked) < kill_after and time.monotonic() < deadline:
        time.sleep(0.002)
    os.killpg(server.proc.pid, signal.SIGKILL)
    for t in threads:
        t.join()
    server.stop()
    assert acked, "no append was acknowledged before the kill: nothing was tested"
    print(f"acknowledged {len(acked)} of {len(envelopes)} before the kill")

    with Ledger.open(ledger.home) as after:
        for seq, entry_hash in acked.items():
            assert after.entry(seq).hash.hex() == entry_hash, f"acknowledged seq {seq} changed"
        report = verify_ledger(after.conn)
        assert report.ok, [str(p) for p in report.problems]
        assert after.latest_checkpoint().checkpoint.size == after.size

    # Everything again: each envelope lands exactly once.
    again = Server(ledger.home, workers=2)
    try:
        conn: list[http.client.HTTPConnection] = []
        statuses = [post(again.port, body, conn)[0] for body in envelopes]
    finally:
        close(conn)
        again.stop()
    assert set(statuses) <= {201, 409}
    with Ledger.open(ledger.home) as final:
        assert final.size == before + len(envelopes)
        assert verify_ledger(final.conn).ok


def test_server_killed_with_nothing_in_flight_restarts_clean(
    ledger: Ledger, cast: Builder, tmp_path: Path
) -> None:
    server = Server(ledger.home, workers=1)
    conn: list[http.client.HTTPConnection] = []
    status, data = post(server.port, json.dumps(origin_envelope(cast, "quiet-1")).encode(), conn)
    close(conn)
    assert status == 201
    os.killpg(server.proc.pid, signal.SIGKILL)
    server.stop()
    with Ledger.open(ledger.home) as after:
        assert after.entry(data["seq"]).hash.hex() == data["entry_hash"]
        assert verify_ledger(after.conn).ok
