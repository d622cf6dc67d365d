"""HTTP figures for scripts/bench.py: a real `provenance serve` on loopback.

- the shopper page and an inclusion proof: median latency at each ledger size;
- acknowledged appends per second from 16 client threads, with group commit and without;
- slow clients (issue 9): a probe's median latency idle and while 64 connections dribble
  their headers or bodies a byte every half second (aim: within 2x of idle).

Run alone (a fresh small ledger): .venv/bin/python scripts/bench_http.py --slow
"""

from __future__ import annotations

import contextlib
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


def origin_bodies(b: Any, farm: str, prefix: str, n: int) -> list[str]:
    """``n`` signed material-origin envelopes of ``farm`` (lots ``<prefix>-<i>``), as JSON text."""
    return [
        json.dumps(
            b.envelope(
                "material-origin",
                farm,
                {
                    "lot": f"{prefix}-{i}",
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
        bodies = origin_bodies(b, f"http-farm-{int(group)}", f"http-{int(group)}", n)
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


SLOW_CLIENTS = 64


def slow_clients(provenance: str, home: Path, path: str = "/api/v1/ledger", n: int = 60) -> dict[str, Any]:
    """The probe's median latency on ``path`` idle, then while SLOW_CLIENTS connections send
    their request a byte every half second (half stuck in headers, half in a POST body)."""
    server = Server(provenance, home)
    sockets: list[socket.socket] = []
    stop = threading.Event()
    try:
        idle = median_ms(lambda: server.get(path), n)
        for i in range(SLOW_CLIENTS):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            head = b"GET / HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"POST /api/v1/entries HTTP/1.1\r\n"
            s.sendall(head + (b"" if i % 2 else b"Host: x\r\nContent-Length: 100000\r\n\r\n{"))
            sockets.append(s)

        def dribble() -> None:
            while not stop.wait(0.5):
                for s in sockets:
                    with contextlib.suppress(OSError):
                        s.sendall(b"X")

        t = threading.Thread(target=dribble)
        t.start()
        try:
            slow = median_ms(lambda: server.get(path), n)
        finally:
            stop.set()
            t.join()
        return {"idle_ms": idle, "with_64_slow_ms": slow, "ratio": round(slow / idle, 2) if idle else None}
    finally:
        for s in sockets:
            s.close()
        server.stop()


def run(ledgers: dict[int, Ledger], products: dict[Path, tuple[str, str]], provenance: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    small = ledgers[min(ledgers)]
    gtin, batch = products[small.home]
    out["slow_clients"] = {
        "ledger": slow_clients(provenance, small.home),
        "shopper_page": slow_clients(provenance, small.home, f"/01/{gtin}/10/{batch}", 30),
    }
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


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:] != ["--slow"]:
        sys.exit("usage: bench_http.py --slow   (the other figures run from scripts/bench.py)")
    with tempfile.TemporaryDirectory() as tmp:
        Ledger.init(Path(tmp) / "home", "bench.localhost/ledger").close()
        exe = str(Path(sys.executable).with_name("provenance"))
        print(json.dumps({"slow_clients": slow_clients(exe, Path(tmp) / "home")}, indent=2))
