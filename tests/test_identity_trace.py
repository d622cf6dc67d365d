"""Disputed statements in the trace (SPEC §6): a statement signed with a key its issuer later
reported compromised, from ``compromised_since`` on, counts as revoked, with a finding that
names it; the offline bundle re-derives the same."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from scenarios import AUDITOR, MILL, tee_chain

from ledger.trace.bundle import build_bundle, verify_bundle
from ledger.trace.walk import trace_product


def test_an_audit_under_a_compromised_key_is_disputed(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    before = trace_product(c.ledger, c.gtin, c.batch).to_json()
    audit = c.seqs[f"audit:{MILL}"]
    assert not any(f["code"] == "disputed-statement" for f in before["findings"])
    # the auditor's key was stolen from the mill's audit on: it rotates with its next key
    rot = c.b.rotate(AUDITOR, reason="compromised", compromised_since=audit)
    t = trace_product(c.ledger, c.gtin, c.batch).to_json()
    disputed = [f for f in t["findings"] if f["code"] == "disputed-statement"]
    assert {f["seq"] for f in disputed} >= {audit}
    assert all(f["party"] == AUDITOR and f"entry {rot}" in f["message"] for f in disputed)
    assert {x["revoked"]: x["by"] for x in t["corrections"]}[audit] == rot
    # the mill's audit no longer counts for the mill
    assert t["findings"] != before["findings"]
    bundle = build_bundle(c.ledger, c.gtin, c.batch)
    report = verify_bundle(copy.deepcopy(bundle))
    assert report.to_json() == t


def test_earlier_statements_under_the_old_key_stand(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    last = c.ledger.size
    c.b.rotate(AUDITOR, reason="compromised", compromised_since=last)
    t: dict[str, Any] = trace_product(c.ledger, c.gtin, c.batch).to_json()
    assert not any(f["code"] == "disputed-statement" for f in t["findings"])


def test_pages_show_key_history_suspension_and_disputes(tmp_path: Path) -> None:
    from web import create_app

    c = tee_chain(tmp_path)
    audit = c.seqs[f"audit:{MILL}"]
    rot = c.b.rotate(AUDITOR, reason="compromised", compromised_since=audit)
    c.b.suspend(MILL, "forced labour allegation under investigation")
    app = create_app({"TESTING": True, "PROVENANCE_HOME": str(c.ledger.home)})
    client = app.test_client()
    page = client.get(f"/parties/{AUDITOR}").get_data(as_text=True)
    assert "Key history" in page and "rotated its keys" in page and "admitted by the operator" in page
    assert "Disputed statements" in page and f"entry {audit}" in page
    mill = client.get(f"/parties/{MILL}").get_data(as_text=True)
    assert "Suspended" in mill and "suspended by the operator" in mill
    data = client.get(f"/api/v1/parties/{AUDITOR}").get_json()
    assert audit in data["disputed"] and data["history"][-1] == {"seq": rot, "type": "rotation"}
    shopper = client.get(f"/01/{c.gtin}/10/{c.batch}").get_data(as_text=True)
    assert (
        "is suspended by the ledger&#39;s operator" in shopper
        or "is suspended by the ledger's operator" in shopper
    )
    assert "disputed" in shopper
