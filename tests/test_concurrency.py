"""Concurrency: server workers and `provenance submit` processes append to one ledger at once.

No lost, duplicated or forked entries: afterwards every envelope is in the ledger exactly
once, the chain and tree verify, and there is exactly one checkpoint per committed size,
each signed once (a size's checkpoint is its primary key, written in the appending
transaction under BEGIN IMMEDIATE after checking the head matches the latest one).
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
from pathlib import Path

import pytest
from conftest import origin_envelope
from test_serve import PROVENANCE, Server, environment

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

pytestmark = pytest.mark.slow


def test_server_workers_and_submit_processes_at_once(ledger: Ledger, cast: Builder, tmp_path: Path) -> None:
    before = ledger.size
    http_bodies = [json.dumps(origin_envelope(cast, f"http-{i}")).encode() for i in range(160)]
    files = []
    for f in range(3):
        path = tmp_path / f"batch-{f}.jsonl"
        path.write_text("".join(json.dumps(origin_envelope(cast, f"cli-{f}-{i}")) + "\n" for i in range(150)))
        files.append(path)
    server = Server(ledger.home, workers=3)
    statuses: list[int] = []
    lock = threading.Lock()

    def client(chunk: list[bytes]) -> None:
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            for body in chunk:
                c.request("POST", "/api/v1/entries", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                with lock:
                    statuses.append(r.status)
        finally:
            c.close()

    try:
        threads = [threading.Thread(target=client, args=(http_bodies[i::8],)) for i in range(8)]
        procs = [
            subprocess.Popen(
                [PROVENANCE, "submit", str(p), "--home", str(ledger.home)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=environment(),
            )
            for p in files
        ]
        for t in threads:
            t.start()
        outputs = [p.communicate(timeout=120) for p in procs]
        for t in threads:
            t.join()
    finally:
        server.stop()

    assert statuses == [201] * len(http_bodies)
    cli_seqs = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        cli_seqs += [json.loads(line)["seq"] for line in out.decode().splitlines()]
    assert len(cli_seqs) == 450 and len(set(cli_seqs)) == 450

    with Ledger.open(ledger.home) as after:
        assert after.size == before + len(http_bodies) + 450
        report = verify_ledger(after.conn)
        assert report.ok, [str(p) for p in report.problems]
        sizes = [r[0] for r in after.conn.execute("SELECT size FROM checkpoints ORDER BY size")]
        assert len(sizes) == len(set(sizes)) and sizes[-1] == after.size
        lots = [
            r[0]
            for r in after.conn.execute("SELECT lot FROM lots WHERE lot LIKE 'http-%' OR lot LIKE 'cli-%'")
        ]
        assert len(lots) == len(set(lots)) == len(http_bodies) + 450
