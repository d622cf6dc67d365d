"""The trace graph: tiers, custody routes, quantities, corrections, ``--at``, the
index-only reads, and the ``provenance trace`` command as a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scenarios import (
    AUDITOR,
    BENCH_YIELDS,
    BRAND,
    FARM,
    KNITTER,
    LABELS,
    MILL,
    TEE_YIELDS,
    Clock,
    audit,
    bench_product,
    new_builder,
    tee_chain,
    write_policy,
)

from ledger.cli.commands import main
from ledger.errors import InvalidField, NotFound
from ledger.trace.entries import EntrySet
from ledger.trace.policy import Policy
from ledger.trace.walk import custody_route, derive, trace_product

PROVENANCE = Path(sys.executable).with_name("provenance")


def trace(chain: Any, **kw: Any) -> dict[str, Any]:
    return trace_product(chain.ledger, chain.gtin, chain.batch, **kw).to_json()


def step(t: dict[str, Any], seq: int) -> dict[str, Any]:
    return next(s for s in t["steps"] if s["seq"] == seq)


def test_graph_of_the_tee(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    t = trace(c)
    s = c.seqs
    got = [(x["seq"], x["kind"], x["tier"], x["party"]) for x in t["steps"]]
    assert got == [
        (s["product"], "product", 0, BRAND),
        (s["knit"], "transformation", 1, KNITTER),
        (s["ship:knitter"], "shipment", 1, KNITTER),
        (s["spin"], "transformation", 2, MILL),
        (s["ship:mill"], "shipment", 2, MILL),
        (s["origin"], "origin", 3, FARM),
        (s["ship:farm"], "shipment", 3, FARM),
    ]
    knit = step(t, s["knit"])
    assert (knit["role"], knit["country"], knit["date"], knit["process"]) == (
        "manufacturer",
        "BD",
        "2025-05-10",
        "knitting and sewing",
    )
    assert knit["inputs"] == [{"lot": "YARN-1", "amount": "800", "unit": "kg"}]
    assert knit["outputs"] == [
        {"lot": "TEE-1", "material": "organic cotton T-shirt", "amount": "2000", "unit": "pcs"}
    ]
    ship = step(t, s["ship:mill"])
    assert ship["to"] == KNITTER and ship["inputs"] == ship["outputs"]
    origin = step(t, s["origin"])
    assert (origin["region"], origin["material"], origin["date"]) == ("Gujarat", "seed cotton", "2025-03-01")
    assert t["product"] == {
        "gtin": c.gtin,
        "batch": c.batch,
        "name": "Organic tee, white",
        "description": "100% organic cotton",
        "brand": BRAND,
        "seq": s["product"],
    }
    assert t["origins"] == [
        {
            "lot": "COT-1",
            "material": "seed cotton",
            "party": FARM,
            "country": "IN",
            "region": "Gujarat",
            "produced_on": "2025-03-01",
            "amount": "1000",
            "unit": "kg",
            "seq": s["origin"],
            "share": "1",
        }
    ]
    assert set(t["parties"]) == {AUDITOR, BRAND, FARM, KNITTER, MILL}
    assert t["parties"][MILL] == {
        "name": "Surat Spinning Mills",
        "role": "processor",
        "country": "IN",
        "identifiers": {},
    }
    lots = {x["lot"]: x for x in t["lots"]}
    assert lots["YARN-1"] == {
        "lot": "YARN-1",
        "traced": "800",
        "used_by": [s["knit"]],
        "shipments": [s["ship:mill"]],
        "material": "combed cotton yarn",
        "amount": "800",
        "unit": "kg",
        "created_by": s["spin"],
    }
    assert t["as_of"] is None and t["size"] == c.ledger.size and t["corrections"] == []


def test_steps_carry_role_and_country_at_the_time(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    c.b.profile(MILL, "Surat Spinning Mills (moved)", "VN")
    t = trace(c)
    assert step(t, c.seqs["spin"])["country"] == "IN"
    assert t["parties"][MILL]["country"] == "VN"


def test_quantities_follow_through_and_mixed_units_are_said(tmp_path: Path) -> None:
    c = tee_chain(
        tmp_path,
        second_origin=True,
        labels=True,
        product_pcs="500",
        audited=(FARM, "amreli-organic", MILL, KNITTER, LABELS),
    )
    t = trace(c)
    got = {o["lot"]: (o["amount"], o["unit"], o["share"]) for o in t["origins"]}
    # 500 of 2000 shirts: a quarter of the knitter's 800 kg yarn and 400 m of labels.
    assert got == {"COT-1": ("150", "kg", "0.6"), "COT-2": ("100", "kg", "0.4"), "LBL-1": ("100", "m", "1")}
    (info,) = [f for f in t["findings"] if f["code"] == "mixed-units"]
    assert info["severity"] == "info" and "kg, m" in info["message"]
    assert t["verdict"] == "compliant"


def test_bench_product_six_tiers_fifty_origins(tmp_path: Path) -> None:
    b = new_builder(tmp_path / "h")
    gtin, batch = bench_product(b)
    policy = Policy.from_json({"yields": BENCH_YIELDS})
    t = trace_product(b.ledger, gtin, batch, policy=policy).to_json()
    assert t["verdict"] == "compliant" and t["findings"] == []
    assert max(s["tier"] for s in t["steps"]) == 6 and len(t["origins"]) == 50
    assert sum(Decimal(o["share"]) for o in t["origins"]) == 1
    assert {o["amount"] for o in t["origins"]} == {"350"}  # lint is 35% of the ginned mass


def test_corrected_shipment_is_used_and_shown(tmp_path: Path) -> None:
    """A supplier ships the wrong amount, revokes it and ships again before the yarn is used."""
    b = new_builder(tmp_path / "h")
    for pid, name, role, country in [
        (AUDITOR, "Veritas", "auditor", "FR"),
        (MILL, "Surat Spinning Mills", "processor", "IN"),
        (KNITTER, "Dhaka Knitwear", "manufacturer", "BD"),
        (BRAND, "Acme Apparel", "brand", "DE"),
    ]:
        b.party(pid, name, role, country)
        if role != "auditor":
            audit(b, pid)
    b.origin(MILL, "PET-1", "recycled PET flakes", "900", "kg", country="IN", produced_on="2025-03-05")
    wrong = b.ship(MILL, "PET-1", "700", "kg", KNITTER, "2025-04-15")
    rev = b.revoke(MILL, wrong, "wrong amount: 900 kg were shipped")
    right = b.ship(MILL, "PET-1", "900", "kg", KNITTER, "2025-04-15")
    b.transform(
        KNITTER,
        "knitting",
        "2025-05-01",
        [("PET-1", "900", "kg")],
        [("FLEECE-1", "fleece jacket", "300", "pcs")],
    )
    b.ship(KNITTER, "FLEECE-1", "300", "pcs", BRAND, "2025-05-10")
    b.product(BRAND, "09506000134352", "F1", "Fleece", [("FLEECE-1", "300", "pcs")])
    write_policy(tmp_path / "h")  # knows the knitting of kg into pcs
    t = trace_product(b.ledger, "09506000134352", "F1").to_json()
    assert t["verdict"] == "compliant"
    shipments = {s["seq"] for s in t["steps"] if s["kind"] == "shipment"}
    assert right in shipments and wrong not in shipments
    assert [(x["revoked"], x["by"], x["type"], x["party"], x["reason"]) for x in t["corrections"]] == [
        (wrong, rev, "shipment", MILL, "wrong amount: 900 kg were shipped")
    ]


def test_revoked_product_declaration(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, product_pcs="1000")
    first = c.seqs["product"]
    rev = c.b.revoke(BRAND, first, "wrong batch size")
    t = trace(c)
    assert t["verdict"] == "non-compliant" and step(t, first)["revoked"] is True
    (f,) = t["findings"]
    assert (f["code"], f["seq"]) == ("product-revoked", first)
    again = c.b.product(BRAND, c.gtin, c.batch, "Organic tee, white", [("TEE-1", "2000", "pcs")])
    t = trace(c)
    assert t["verdict"] == "compliant" and t["product"]["seq"] == again
    assert [(x["revoked"], x["by"]) for x in t["corrections"]] == [(first, rev)]


def test_at_date_uses_only_entries_recorded_by_then(tmp_path: Path) -> None:
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path, clock=clock)
    clock.set("2025-07-01")
    c.b.revoke(AUDITOR, c.seqs[f"audit:{MILL}"], "falsified")
    assert trace(c)["verdict"] == "non-compliant"
    past = trace(c, at="2025-06-30")
    assert past["verdict"] == "compliant" and past["as_of"] == "2025-06-30"
    assert past["corrections"] == []
    with pytest.raises(NotFound, match="on or before 2025-05-31"):
        trace(c, at="2025-05-31")
    with pytest.raises(InvalidField):
        trace(c, at="2025-13-01")


def test_unknown_product_and_gtin_forms(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    with pytest.raises(NotFound, match="no product with GTIN"):
        trace_product(c.ledger, c.gtin, "NOPE")
    with pytest.raises(InvalidField, match="check digit"):
        trace_product(c.ledger, c.gtin[:-1] + "0", c.batch)
    assert trace_product(c.ledger, c.gtin.lstrip("0"), c.batch).product["gtin"] == c.gtin


def test_custody_routes() -> None:
    # made by p at 1, used by u at 10
    assert custody_route("p", 1, [], "p", 10) == set()
    assert custody_route("p", 1, [], "u", 10) is None
    moves = [(2, "p", "t"), (3, "t", "u"), (4, "p", "u"), (5, "p", "x"), (11, "p", "u")]
    assert custody_route("p", 1, moves, "u", 10) == {2, 3, 4}
    # a hand-over in the wrong order is no route: t ships on before it received
    assert custody_route("p", 1, [(3, "p", "t"), (2, "t", "u")], "u", 10) is None
    assert custody_route("p", 5, [(3, "p", "u")], "u", 10) is None


def test_trace_reads_only_through_indexes(tmp_path: Path) -> None:
    """Every query a trace makes searches an index: none scans a table."""
    b = new_builder(tmp_path / "h")
    gtin, batch = bench_product(b)
    conn = b.ledger.conn
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        trace_product(b.ledger, gtin, batch)
    finally:
        conn.set_trace_callback(None)
    selects = {q for q in seen if q.lstrip().upper().startswith("SELECT")}
    # The latest checkpoint: SQLite says SCAN, but walks the primary key backwards for one row.
    latest = "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1"
    assert latest in selects and len(selects) > 5
    for q in selects - {latest}:
        plan = " | ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + q))
        assert not re.search(r"\bSCAN\b", plan), f"{q}\n  {plan}"


# -- the command line ---------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [str(PROVENANCE), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_cli_trace_json_end_to_end(tmp_path: Path) -> None:
    """``provenance trace … --json`` as a real process: exit codes and the facility at fault."""
    home = tmp_path / "h"
    c = tee_chain(home, audited=(FARM, KNITTER))
    audit(c.b, MILL, outcome="fail", present=["withholding_of_wages"])
    other = tee_chain(tmp_path / "ok")
    c.ledger.close()
    other.ledger.close()
    bad = run_cli("trace", c.gtin, c.batch, "--json", "--home", str(home))
    assert bad.returncode == 1, bad.stderr
    t = json.loads(bad.stdout)
    assert t["verdict"] == "non-compliant"
    assert "surat-spinning" in bad.stdout and "withholding_of_wages" in bad.stdout
    ok = run_cli("trace", other.gtin, other.batch, "--json", "--home", str(tmp_path / "ok"))
    assert ok.returncode == 0 and json.loads(ok.stdout)["verdict"] == "compliant"
    missing = run_cli("trace", c.gtin, "NOPE", "--json", "--home", str(home))
    assert missing.returncode == 2
    assert "no product with GTIN" in missing.stderr
    assert json.loads(missing.stdout)["error"]["code"] == "not-found"


def test_cli_trace_text_report(tmp_path: Path) -> None:
    home = tmp_path / "h"
    c = tee_chain(home, trader="also")
    runner = CliRunner()
    r = runner.invoke(main, ["trace", c.gtin, c.batch, "--home", str(home)])
    assert r.exit_code == 1, r.output
    assert "NON-COMPLIANT" in r.output and "Gulf Textile Trading (gulf-trading)" in r.output
    assert "[NO AUDIT]" in r.output and "└─" in r.output
    assert (
        runner.invoke(main, ["trace", c.gtin, c.batch, "--home", str(home), "--at", "June 1"]).exit_code == 2
    )
    assert runner.invoke(main, ["trace", "123", c.batch, "--home", str(home)]).exit_code == 2
    r = runner.invoke(main, ["trace", c.gtin, c.batch, "--home", str(tmp_path / "none")])
    assert r.exit_code == 2 and "no ledger" in r.output


def test_a_revoked_hand_over_breaks_the_chain(tmp_path: Path) -> None:
    """Entries in which the product stands but the only shipment to the brand was revoked
    (as a bundle missing the product's revocation would hold): the break is reported."""
    c = tee_chain(tmp_path)
    s = c.seqs
    gone = c.b.revoke(BRAND, s["product"], "declared too early")
    cut = c.b.revoke(KNITTER, s["ship:knitter"], "never left the warehouse")
    entries = [c.ledger.entry(n) for n in range(c.ledger.size) if n != gone]
    t = derive(EntrySet(c.ledger.size, None, entries), c.gtin, c.batch, Policy()).to_json()
    assert t["verdict"] == "non-compliant"
    (f,) = [f for f in t["findings"] if f["severity"] == "serious"]
    assert (f["code"], f["seq"], f["party"]) == ("revoked-step", s["ship:knitter"], KNITTER)
    assert f"revoked by entry {cut}" in f["message"]
    assert step(t, s["ship:knitter"])["revoked"] is True
    assert [x["revoked"] for x in t["corrections"]] == [s["ship:knitter"]]
    entries = [e for e in entries if e.seq != s["ship:knitter"]]
    policy = Policy.from_json({"yields": TEE_YIELDS})
    t = derive(EntrySet(c.ledger.size, None, entries), c.gtin, c.batch, policy).to_json()
    assert [f["code"] for f in t["findings"]] == ["broken-custody"]


def test_corrected_transformation_is_shown(tmp_path: Path) -> None:
    """The mill records the wrong yarn output, revokes it before the yarn moves, and records
    the spinning again: the trace follows the correction and lists the revoked version."""
    b = new_builder(tmp_path / "h")
    for pid, name, role, country in [
        (AUDITOR, "Veritas", "auditor", "FR"),
        (MILL, "Surat Spinning Mills", "processor", "IN"),
        (BRAND, "Acme Apparel", "brand", "DE"),
    ]:
        b.party(pid, name, role, country)
        if role == "processor":
            audit(b, pid)
    b.origin(MILL, "PET-1", "recycled PET flakes", "900", "kg", country="IN", produced_on="2025-03-05")
    wrong = b.transform(
        MILL, "extrusion", "2025-03-05", [("PET-1", "900", "kg")], [("FIB-1", "polyester fibre", "700", "kg")]
    )
    rev = b.revoke(MILL, wrong, "output was 850 kg, not 700 kg")
    right = b.transform(
        MILL, "extrusion", "2025-03-05", [("PET-1", "900", "kg")], [("FIB-2", "polyester fibre", "850", "kg")]
    )
    b.ship(MILL, "FIB-2", "850", "kg", BRAND, "2025-03-10")
    b.product(BRAND, "09506000134352", "P1", "Fibre pack", [("FIB-2", "850", "kg")])
    t = trace_product(b.ledger, "09506000134352", "P1").to_json()
    assert t["verdict"] == "compliant"
    assert right in {s["seq"] for s in t["steps"]} and wrong not in {s["seq"] for s in t["steps"]}
    assert [(x["revoked"], x["by"], x["type"]) for x in t["corrections"]] == [(wrong, rev, "transformation")]
