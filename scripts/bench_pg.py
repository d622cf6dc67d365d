"""PostgreSQL figures for scripts/bench.py (``--only postgresql``), on a throwaway cluster.

- appends/s over HTTP from 16 client threads: SQLite with one server, PostgreSQL with one
  server and with two servers on the same database (clients split between them);
- verify: ``provenance verify`` of the same ledger on each backend, as entries/s;
- the shopper page and an inclusion proof over HTTP at each ledger size, on PostgreSQL.
"""

from __future__ import annotations

import http.client
import threading
import time
from pathlib import Path
from typing import Any

from bench_http import Server, median_ms, origin_bodies

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder


def _bodies(home: Path, tag: str, n: int) -> list[str]:
    with Ledger.open(home) as ledger:
        b = Builder(ledger, seed=f"pg-{tag}")
        b.party(f"pg-farm-{tag}", "Bench Farm", "farm", "IN")
        return origin_bodies(b, f"pg-farm-{tag}", f"pg-{tag}", n)


def appends_per_second(provenance: str, home: Path, servers: int, tag: str, n: int = 1600) -> float:
    """Acknowledged appends/s from 16 clients spread over ``servers`` servers on ``home``."""
    bodies = _bodies(home, tag, n)
    running = [Server(provenance, home) for _ in range(servers)]
    try:
        failures: list[int] = []

        def client(port: int, chunk: list[str]) -> None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            for body in chunk:
                c.request("POST", "/api/v1/entries", body, {"Content-Type": "application/json"})
                r = c.getresponse()
                r.read()
                if r.status != 201:
                    failures.append(r.status)
            c.close()

        threads = [
            threading.Thread(target=client, args=(running[i % servers].port, bodies[i::16]))
            for i in range(16)
        ]
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
        for s in running:
            s.stop()


def run(
    sqlite_big: Ledger,
    pg_ledgers: dict[int, Ledger],
    products: dict[Path, tuple[str, str]],
    provenance: str,
    peak_rss_mib: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    big = pg_ledgers[max(pg_ledgers)]
    for name, ledger in (("sqlite", sqlite_big), ("postgresql", big)):
        seconds, rss = peak_rss_mib([provenance, "verify", "--home", str(ledger.home)])
        out[f"verify_{name}"] = {
            "entries": ledger.size,
            "entries_per_s": round(ledger.size / seconds),
            "peak_rss_mib": round(rss, 1),
        }
    for n, ledger in pg_ledgers.items():
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
    out["appends_per_s"] = {
        "sqlite_one_server": appends_per_second(provenance, sqlite_big.home, 1, "s1"),
        "postgresql_one_server": appends_per_second(provenance, big.home, 1, "p1"),
        "postgresql_two_servers": appends_per_second(provenance, big.home, 2, "p2"),
    }
    return out
