"""Trace amplification and deep chains (issue 9, items 3 and 5): a trace loads only what can
be on the route, a request's work is bounded with a clear 413, bundles are cached per
checkpoint, and a chain far deeper than Python's recursion limit traces on the CLI and the
shopper's page."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BATCH, WEB_GTIN

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.trace.bundle import verify_bundle
from ledger.trace.walk import collect
from web import tracing

API = f"/api/v1/trace/{WEB_GTIN}/{quote(WEB_BATCH, safe='')}"
PAGE = f"/01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"
PROVENANCE = str(Path(sys.executable).with_name("provenance"))
DEPTH = 3_000  # three times Python's default recursion limit


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    tracing._cache.clear()


def test_dust_shipments_after_the_use_do_not_grow_the_bundle(
    client: Any, product: dict[str, Any], cast: Builder
) -> None:
    before = client.get(API).get_json()
    with cast.batch():  # holders of part of each lot on the route ship dust, after the product
        for _ in range(500):
            cast.ship("farm-a", "cot-1", "0.000001", "kg", "trade-a", "2025-05-08")
            cast.ship("make-a", "tee-1", "0.000001", "pcs", "trade-a", "2025-05-08")
    after = client.get(API).get_json()
    assert [e["seq"] for e in after["entries"]] == [e["seq"] for e in before["entries"]]
    assert after["verdict"] == before["verdict"] and after["steps"] == before["steps"]
    assert verify_bundle(after).verdict == after["verdict"]


def limited_client(ledger: Ledger, limit: int) -> Any:
    from web import create_app

    app = create_app({"PROVENANCE_HOME": str(ledger.home), "PROVENANCE_TRACE_LIMIT": limit})
    return app.test_client()


def test_a_trace_over_the_limit_is_a_clean_413(
    ledger: Ledger, product: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    client = limited_client(ledger, 5)
    r = client.get(API)
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "trace-too-large"
    assert "more than 5 entries" in r.get_json()["error"]["message"]
    page = client.get(PAGE)
    assert page.status_code == 413 and page.mimetype == "text/html" and "more than 5 entries" in page.text
    assert client.get(PAGE, headers={"Accept": "application/json"}).status_code == 413
    assert not [rec for rec in caplog.records if rec.exc_info]
    assert limited_client(ledger, 1000).get(API).status_code == 200


def test_a_trace_over_the_byte_budget_is_a_clean_413(ledger: Ledger, product: dict[str, Any]) -> None:
    """A few huge entries weigh as much as thousands of small ones: the bound counts bytes
    too, on every route that runs the trace."""
    from web import create_app

    _, source, _ = collect(ledger, WEB_GTIN, WEB_BATCH)
    budget = source.loaded - 1
    assert budget == sum(len(e.canonical) for e in source.entries.values()) - 1
    client = create_app({"PROVENANCE_HOME": str(ledger.home), "PROVENANCE_TRACE_BYTES": budget}).test_client()
    untp = f"/api/v1/untp/{WEB_GTIN}/{quote(WEB_BATCH, safe='')}"
    for r in (client.get(API), client.get(PAGE), client.get(untp)):
        assert r.status_code == 413, r.status_code
    body = client.get(API).get_json()["error"]
    assert body["code"] == "trace-too-large" and f"more than {budget} bytes" in body["message"]
    assert client.get(PAGE, headers={"Accept": "application/ld+json"}).status_code == 413


def test_bundles_are_cached_per_checkpoint(
    client: Any, product: dict[str, Any], cast: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = tracing.build_bundle

    def counting(*args: Any, **kw: Any) -> Any:
        built.append(args[1])
        return real(*args, **kw)

    monkeypatch.setattr(tracing, "build_bundle", counting)
    first = client.get(API).get_json()
    assert client.get(API).get_json() == first and len(built) == 1
    cast.party("farm-z", "Farm Z", "farm", "IN")  # a new checkpoint: the bundle is built again
    again = client.get(API).get_json()
    assert len(built) == 2 and again["checkpoint"] != first["checkpoint"]
    assert client.get(API + "?at=2025-06-01").status_code == 200 and len(built) == 3


@pytest.fixture(scope="module")
def deep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A processor re-packing its own lot DEPTH times, then a brand's product of the last."""
    home = tmp_path_factory.mktemp("deep") / "home"
    with Ledger.init(home, "deep.test/ledger") as ledger:
        b = Builder(ledger, seed="deep")
        with b.batch():
            b.party("proc-a", "Repackers", "processor", "IN")
            b.party("brand-a", "Brand", "brand", "SE")
        with b.batch():
            b.origin("proc-a", "L0", "cotton", "100", "kg", country="IN", produced_on="2025-01-01")
            for i in range(DEPTH):
                b.transform(
                    "proc-a",
                    "repack",
                    "2025-01-02",
                    [(f"L{i}", "100", "kg")],
                    [(f"L{i + 1}", "cotton", "100", "kg")],
                )
        with b.batch():
            b.ship("proc-a", f"L{DEPTH}", "100", "kg", "brand-a", "2025-01-03")
            b.product("brand-a", WEB_GTIN, "DEEP", "Tee", [(f"L{DEPTH}", "100", "kg")])
    return home


def test_a_deep_chain_traces_on_the_command_line(deep: Path) -> None:
    r = subprocess.run(
        [PROVENANCE, "trace", WEB_GTIN, "DEEP", "--home", str(deep)], capture_output=True, text=True
    )
    assert r.returncode == 1, r.stderr  # non-compliant: nobody audited the repackers
    assert "Traceback" not in r.stderr and r.stderr == ""
    assert r.stdout.count("repack") >= DEPTH and "L0  cotton  100 kg  100.0%" in r.stdout
    assert max(len(line) for line in r.stdout.splitlines()) < 400  # the tree stops indenting


def test_a_deep_chain_on_the_shoppers_page(deep: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    from web import create_app

    client = create_app({"PROVENANCE_HOME": str(deep)}).test_client()
    r = client.get(f"/01/{WEB_GTIN}/10/DEEP")
    assert r.status_code == 200 and r.text.count("Repackers") >= DEPTH
    small = create_app({"PROVENANCE_HOME": str(deep), "PROVENANCE_TRACE_LIMIT": 1000}).test_client()
    assert small.get(f"/01/{WEB_GTIN}/10/DEEP").status_code == 413
    assert not [rec for rec in caplog.records if rec.exc_info]


def test_heavy_bundles_are_not_cached(
    client: Any, product: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "CACHE_BYTES", 100)
    assert client.get(API).status_code == 200 and not tracing._cache
    monkeypatch.setattr(tracing, "CACHE_BYTES", 10**9)
    assert client.get(API).status_code == 200 and len(tracing._cache) == 1
