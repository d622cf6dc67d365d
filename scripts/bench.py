#!/usr/bin/env python3
"""Measure speed and memory as ratios against the bare cost of the work.

Run: .venv/bin/python scripts/bench.py [--quick] [--only NAME ...] [--submit N] [--sizes A,B]

Figures (printed as a table and written to artifacts/bench.json):
- submit: 20,000 signed statements in one `provenance submit` (JSON Lines), as
  bare / actual, where bare is verifying their 20,000 Ed25519 signatures on one core with
  libsodium (the faster library; OpenSSL is measured too)
  (aim >= 0.8);
- verify: `provenance verify` of that ledger against the same bare cost (aim >= 1.6);
- proofs: inclusion and consistency proof time at 1,000 and 100,000 entries (aim: the
  larger within 1.5x of the smaller);
- trace: a product with 6 tiers and 50 input lots on ledgers of 1,000 and 100,000
  entries (aim within 1.5x);
- http: shopper page and inclusion proof latency over HTTP at both sizes; appends/s;
- memory: peak RSS of `verify` at both sizes (flat: the ledger is streamed);
- tiles: `provenance tiles` (first and incremental run) and `provenance mirror` at both sizes,
  as ratios against `verify` of the same ledger (aim >= 1), with peak RSS (flat);
- postgresql (only with --only postgresql): appends/s with one and two servers on
  PostgreSQL against SQLite, verify rate on both, page and proof latency at both sizes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.bindings  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey  # noqa: E402

from ledger.core.ledger import Ledger  # noqa: E402
from ledger.demo.builder import Builder  # noqa: E402
from ledger.model.fields import ILO_INDICATORS  # noqa: E402
from ledger.model.statements import Envelope  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
from scenarios import bench_product  # noqa: E402

PROVENANCE = str(ROOT / ".venv" / "bin" / "provenance")
BENCH_PRODUCTS: dict[Path, tuple[str, str]] = {}
RESULTS: dict[str, object] = {}


def timed(fn, repeat: int = 1) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def median_ms(fn, n: int = 50) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def bare_verify_seconds(envelopes: list[Envelope], keys: dict[str, bytes]) -> float:
    """The bare cost: verify every signature once, on one core, nothing else, with the
    faster of the two Ed25519 libraries (libsodium; OpenSSL's figure is in ``bare_openssl_s``)."""
    work = [(keys[e.statement.issuer], e.sig, e.statement.message) for e in envelopes]
    crypto_sign_open = nacl.bindings.crypto_sign_open

    def run() -> None:
        for key, sig, msg in work:
            crypto_sign_open(sig + msg, key)

    return timed(run, repeat=3)


def bare_openssl_seconds(envelopes: list[Envelope], keys: dict[str, bytes]) -> float:
    work = [
        (Ed25519PublicKey.from_public_bytes(keys[e.statement.issuer]), e.sig, e.statement.message)
        for e in envelopes
    ]

    def run() -> None:
        for key, sig, msg in work:
            key.verify(sig, msg)

    return timed(run, repeat=3)


def make_workload(b: Builder, n: int, prefix: str = "w") -> list[Envelope]:
    """``n`` realistic statements: origins, shipments, transformations and audits by 50 parties."""
    farms = [f"{prefix}-farm-{i}" for i in range(40)]
    mills = [f"{prefix}-mill-{i}" for i in range(10)]
    with b.batch():
        for f in farms:
            b.party(f, f"Farm {f}", "farm", "IN")
        for m in mills:
            b.party(m, f"Mill {m}", "processor", "BD")
        b.party(f"{prefix}-auditor", "Auditor", "auditor", "DE")
    out: list[Envelope] = []
    i = 0
    while len(out) < n:
        f, m = farms[i % len(farms)], mills[i % len(mills)]
        lot = f"{prefix}-L{i}"
        out.append(
            b.envelope(
                "material-origin",
                f,
                {
                    "lot": lot,
                    "material": "seed cotton",
                    "quantity": {"amount": "1000", "unit": "kg"},
                    "origin": {"country": "IN", "region": "Gujarat"},
                    "produced_on": "2026-03-01",
                    "certifications": [],
                },
            )
        )
        out.append(
            b.envelope(
                "shipment",
                f,
                {"lot": lot, "amount": "1000", "unit": "kg", "to": m, "shipped_on": "2026-03-05"},
            )
        )
        out.append(
            b.envelope(
                "transformation",
                m,
                {
                    "process": "ginning",
                    "date": "2026-03-10",
                    "inputs": [{"lot": lot, "amount": "1000", "unit": "kg"}],
                    "outputs": [{"lot": f"{lot}-lint", "material": "lint", "amount": "350", "unit": "kg"}],
                },
            )
        )
        if i % 10 == 0:
            out.append(
                b.envelope(
                    "labor-attestation",
                    f"{prefix}-auditor",
                    {
                        "facility": m,
                        "standard": "SA8000",
                        "audit_date": "2026-01-01",
                        "valid_until": "2027-01-01",
                        "outcome": "pass",
                        "indicators": {k: "absent" for k in ILO_INDICATORS},
                        "findings": [],
                        "evidence": [],
                    },
                )
            )
        i += 1
    return out[:n]


def _hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_rss_mib(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one child process after exec, polled from /proc.

    Not rusage: a child forked from this (large) benchmark process starts with our high-water
    mark, and Linux folds it into the child's ru_maxrss at exec.
    """
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm_kib(proc.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - t
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return elapsed, peak / 1024


def bench_submit_verify(tmp: Path, n: int) -> None:
    home = tmp / "submit"
    ledger = Ledger.init(home, "bench.localhost/submit")
    b = Builder(ledger, seed="bench")
    envelopes = make_workload(b, n)
    ledger.close()
    keys = {p: k.public.raw for p, k in b.keys.items()}
    path = tmp / "batch.jsonl"
    with path.open("w") as f:
        for e in envelopes:
            f.write(json.dumps(e.to_json(), separators=(",", ":")) + "\n")
    bare = bare_verify_seconds(envelopes, keys)
    bare_openssl = bare_openssl_seconds(envelopes[:20000], keys) * len(envelopes) / min(len(envelopes), 20000)
    t_submit, submit_rss = peak_rss_mib([PROVENANCE, "submit", str(path), "--home", str(home)])
    t_verify, rss = peak_rss_mib([PROVENANCE, "verify", "--home", str(home)])
    RESULTS["submit"] = {
        "n": n,
        "bare_s": round(bare, 3),
        "bare_openssl_s": round(bare_openssl, 3),
        "submit_s": round(t_submit, 3),
        "ratio": round(bare / t_submit, 2),
        "aim": 0.8,
        "peak_rss_mib": round(submit_rss, 1),
    }
    canonical = ledger_bytes = 0
    with Ledger.open(home) as led:
        for _seq, data, _h in led.iter_entries():
            canonical += len(data)
    for f in home.iterdir():
        if f.name.startswith("ledger.db"):
            ledger_bytes += f.stat().st_size
    RESULTS["storage"] = {
        "n": n,
        "bytes_per_entry": round(ledger_bytes / n),
        "canonical_bytes_per_entry": round(canonical / n),
        "ratio": round(ledger_bytes / canonical, 2),
        "aim": "<= 1.5",
    }
    RESULTS["verify"] = {
        "n": n,
        "verify_s": round(t_verify, 3),
        "ratio": round(bare / t_verify, 2),
        "aim": 1.6,
        "peak_rss_mib": round(rss, 1),
    }


def grow(home: Path, origin: str, n: int, db: str | None = None) -> Ledger:
    """A ledger of ``n`` entries: the trace's bench product first, then filler (``db``: a
    PostgreSQL URL instead of the home's SQLite file)."""
    ledger = Ledger.init(home, origin, db=db)
    b = Builder(ledger, seed=origin)
    BENCH_PRODUCTS[ledger.home] = bench_product(b, "bench")
    envelopes = make_workload(b, n - ledger.size)
    for i in range(0, len(envelopes), 5000):
        ledger.append(envelopes[i : i + 5000])
    return ledger


def bench_proofs(ledgers: dict[int, Ledger]) -> None:
    out = {}
    for n, ledger in ledgers.items():
        size = ledger.size
        seqs = [(i * 7919) % size for i in range(200)]
        inc = median_ms(lambda: [ledger.inclusion_proof(s, size) for s in seqs], 5) / len(seqs)
        con = median_ms(lambda: [ledger.consistency_proof(s or 1, size) for s in seqs], 5) / len(seqs)
        out[n] = {"inclusion_ms": round(inc, 4), "consistency_ms": round(con, 4)}
    small, large = min(out), max(out)
    RESULTS["proofs"] = {
        **{str(k): v for k, v in out.items()},
        "inclusion_ratio": round(out[large]["inclusion_ms"] / out[small]["inclusion_ms"], 2),
        "consistency_ratio": round(out[large]["consistency_ms"] / out[small]["consistency_ms"], 2),
        "aim": "<= 1.5",
    }


def bench_trace(ledgers: dict[int, Ledger]) -> None:
    from ledger.trace.bundle import build_bundle
    from ledger.trace.walk import trace_product

    out = {}
    for n, ledger in ledgers.items():
        gtin, batch = BENCH_PRODUCTS[ledger.home]
        out[n] = {
            "trace_ms": round(median_ms(lambda: trace_product(ledger, gtin, batch), 20), 2),
            "bundle_ms": round(median_ms(lambda: build_bundle(ledger, gtin, batch), 10), 2),
        }
    small, large = min(out), max(out)
    RESULTS["trace"] = {
        **{str(k): v for k, v in out.items()},
        "ratio": round(out[large]["trace_ms"] / out[small]["trace_ms"], 2),
        "aim": "<= 1.5 (6 tiers, 50 origin lots)",
    }


def bench_memory(tmp: Path, ledgers: dict[int, Ledger]) -> None:
    out = {}
    for n, ledger in ledgers.items():
        t, rss = peak_rss_mib([PROVENANCE, "verify", "--home", str(ledger.home)])
        out[str(n)] = {"verify_s": round(t, 2), "peak_rss_mib": round(rss, 1)}
    RESULTS["memory"] = out


def bench_http(ledgers: dict[int, Ledger]) -> None:
    """Shopper page and inclusion proof over HTTP from `provenance serve` (see web/)."""
    try:
        from bench_http import run  # type: ignore[import-not-found]
    except ImportError:
        return
    RESULTS["http"] = run(ledgers, BENCH_PRODUCTS, PROVENANCE)


def bench_tiles(tmp: Path, ledgers: dict[int, Ledger]) -> None:
    from bench_tiles import run

    RESULTS["tiles"] = run(tmp, {n: led.home for n, led in ledgers.items()}, PROVENANCE, peak_rss_mib)


def bench_postgresql(tmp: Path, sizes: tuple[int, ...], ledgers: dict[int, Ledger] | None) -> None:
    """The same ledgers on a throwaway PostgreSQL cluster (see scripts/bench_pg.py)."""
    from bench_pg import run
    from pgcluster import Cluster

    cluster = Cluster().init().start()
    try:
        big = max(sizes)
        sqlite_big = (ledgers or {}).get(big) or grow(tmp / f"s{big}", f"bench.localhost/s{big}", big)
        pg = {
            n: grow(tmp / f"p{n}", f"bench.localhost/p{n}", n, db=cluster.create_database(f"p{n}"))
            for n in sizes
        }
        RESULTS["postgresql"] = run(sqlite_big, pg, BENCH_PRODUCTS, PROVENANCE, peak_rss_mib)
        for led in pg.values():
            led.close()
    finally:
        cluster.remove()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--submit", type=int, help="statements in the submit/verify run (default 20,000)")
    ap.add_argument("--sizes", help="the two ledger sizes compared, e.g. 1000,1000000 (default 1000,100000)")
    args = ap.parse_args()
    n_submit = args.submit or (2000 if args.quick else 20000)
    sizes = (1000, 10000) if args.quick else (1000, 100000)
    if args.sizes:
        sizes = tuple(int(x) for x in args.sizes.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="provenance-bench-"))
    try:
        want = set(args.only or ["submit", "proofs", "memory", "trace", "http", "tiles"])
        if "submit" in want:
            bench_submit_verify(tmp, n_submit)
            print(json.dumps({k: RESULTS[k] for k in ("submit", "verify", "storage")}), flush=True)
        ledgers = None
        if want & {"proofs", "memory", "trace", "http", "tiles"}:
            ledgers = {n: grow(tmp / f"l{n}", f"bench.localhost/l{n}", n) for n in sizes}
            if "proofs" in want:
                bench_proofs(ledgers)
            if "memory" in want:
                bench_memory(tmp, ledgers)
            if "trace" in want:
                bench_trace(ledgers)
            if "http" in want:
                bench_http(ledgers)
            if "tiles" in want:
                bench_tiles(tmp, ledgers)
        if "postgresql" in want:  # only when asked: it starts a PostgreSQL cluster
            bench_postgresql(tmp, sizes, ledgers)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = ROOT / "artifacts"
    out.mkdir(exist_ok=True)
    (out / "bench.json").write_text(json.dumps(RESULTS, indent=2))
    print(json.dumps(RESULTS, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
