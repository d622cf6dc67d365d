"""HTTP figures for scripts/bench.py: a real `provenance serve` on loopback.

- the shopper page and an inclusion proof: median latency at each ledger size;
- acknowledged appends per second from 16 client threads, with group commit and without.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.core.ledger import Ledger  # noqa: E402
from ledger.demo.builder import Builder  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, provenance: str, home: Path, **env: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [provenance, "serve", "--home", str(home), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.get("/api/v1/ledger")
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def get(self, path: str) -> bytes:
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status}")
        return body

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def median_ms(fn: Any, n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return round(statistics.median(times), 2)


def appends_per_second(provenance: str, home: Path, group: bool, n: int = 1600, clients: int = 16) -> float:
    with Ledger.open(home) as ledger:
        b = Builder(ledger, seed=f"http-{group}")
        b.party(f"http-farm-{int(group)}", "HTTP Farm", "farm", "IN")
        bodies = [
            json.dumps(
                b.envelope(
                    "material-origin",
                    f"http-farm-{int(group)}",
                    {
                        "lot": f"http-{int(group)}-{i}",
                        "material": "cotton",
                        "quantity": {"amount": "1", "unit": "kg"},
                        "origin": {"country": "IN"},
                        "produced_on": "2026-01-01",
                        "certifications": [],
                    },
                ).to_json()
            )
            for i in range(n)
        ]
    server = Server(provenance, home, PROVENANCE_GROUP_COMMIT="1" if group else "0")
    try:
        chunks = [bodies[i::clients] for i in range(clients)]
        failures: list[int] = []

        def client(chunk: list[str]) -> None:
            c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            for body in chunk:
                c.request("POST", "/api/v1/entries", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                if r.status != 201:
                    failures.append(r.status)
            c.close()

        threads = [threading.Thread(target=client, args=(ch,)) for ch in chunks]
        t = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - t
        if failures:
            raise RuntimeError(f"{len(failures)} appends failed: {failures[:5]}")
        return round(n / elapsed, 1)
    finally:
        server.stop()


def run(ledgers: dict[int, Ledger], products: dict[Path, tuple[str, str]], provenance: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, ledger in ledgers.items():
        gtin, batch = products[ledger.home]
        server = Server(provenance, ledger.home)
        try:
            seq = ledger.size // 2
            out[str(n)] = {
                "shopper_page_ms": median_ms(lambda: server.get(f"/01/{gtin}/10/{batch}"), 30),
                "inclusion_proof_ms": median_ms(
                    lambda: server.get(f"/api/v1/proofs/inclusion?seq={seq}"), 100
                ),
            }
        finally:
            server.stop()
    big = ledgers[max(ledgers)]
    out["appends_per_s"] = {
        "group_commit": appends_per_second(provenance, big.home, True),
        "one_commit_per_request": appends_per_second(provenance, big.home, False),
    }
    return out
