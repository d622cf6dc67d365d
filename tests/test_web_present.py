"""The shopper's page's words from a trace report of the documented shape
(docs/trace-format.md), without a ledger: the verdict, the journey's order, audits said once
per run, and each audit's status in plain words."""

from __future__ import annotations

import copy
from typing import Any

from web.present.shopper import audit_view, journey, shopper_view, verdict_view

VALID = {
    "status": "valid",
    "seq": 5,
    "issuer": "aud",
    "standard": "SA8000",
    "audit_date": "2026-03-12",
    "valid_until": "2027-03-12",
    "outcome": "pass",
    "self_assessment": False,
    "present": [],
    "not_assessed": [],
    "findings": [],
}


def step(
    seq: int, kind: str, tier: int, party: str, inputs: list[str], outputs: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": kind,
        "tier": tier,
        "party": party,
        "role": "farm",
        "country": "IN",
        "date": f"2026-04-{seq:02d}",
        "inputs": [{"lot": lot, "amount": "10", "unit": "kg"} for lot in inputs],
        "outputs": [
            {"lot": lot, "material": f"{lot} stuff", "amount": "10", "unit": "kg"} for lot in outputs
        ],
        "audit": extra.pop("audit", copy.deepcopy(VALID)),
        "revoked": False,
        **extra,
    }


def trace(**overrides: Any) -> dict[str, Any]:
    """Two farms feeding one mill, which ships to the brand (seqs in ledger order)."""
    base: dict[str, Any] = {
        "product": {
            "gtin": "09506000134352",
            "batch": "B1",
            "name": "Tee",
            "brand": "brand",
            "seq": 20,
        },
        "verdict": "compliant",
        "findings": [],
        "steps": [
            step(
                20,
                "product",
                0,
                "brand",
                ["yarn"],
                [],
                audit={"status": "not-required", "present": [], "not_assessed": [], "findings": []},
            ),
            step(10, "origin", 2, "farm1", [], ["c1"], material="cotton", region="Gujarat"),
            step(11, "origin", 2, "farm2", [], ["c2"], material="cotton"),
            step(12, "shipment", 2, "farm1", ["c1"], ["c1"], to="mill"),
            step(13, "shipment", 2, "farm2", ["c2"], ["c2"], to="mill"),
            step(14, "transformation", 1, "mill", ["c1", "c2"], ["yarn"], process="spinning"),
            step(15, "shipment", 1, "mill", ["yarn"], ["yarn"], to="brand"),
        ],
        "origins": [
            {
                "lot": "c1",
                "material": "cotton",
                "party": "farm1",
                "country": "IN",
                "region": "Gujarat",
                "produced_on": "2026-04-10",
                "amount": "6",
                "unit": "kg",
                "share": "0.6",
                "seq": 10,
            },
            {
                "lot": "c2",
                "material": "cotton",
                "party": "farm2",
                "country": "BD",
                "produced_on": "2026-04-11",
                "amount": "4",
                "unit": "kg",
                "share": "0.4",
                "seq": 11,
            },
        ],
        "parties": {
            pid: {"name": name, "role": "farm", "country": "IN", "identifiers": {}}
            for pid, name in [
                ("farm1", "Farm One"),
                ("farm2", "Farm Two"),
                ("mill", "The Mill"),
                ("brand", "The Brand"),
                ("aud", "Good Audits"),
            ]
        },
        "corrections": [],
        "as_of": None,
    }
    base.update(overrides)
    return base


def test_journey_keeps_each_branch_together_and_says_audits_once() -> None:
    views = journey(trace())
    assert [v.seq for v in views] == [10, 12, 11, 13, 14, 15, 20]
    assert [v.audit is not None for v in views] == [True, False, True, False, True, False, False]
    assert views[0].what == "Cotton produced" and views[0].where == "Gujarat, India"
    assert views[1].what == "Shipped to The Mill" and views[1].how_much == "10 kg of c1 stuff"
    assert views[4].what == "Spinning"
    assert views[6].what == "Made into Tee"
    assert views[0].when == "10 Apr 2026"


def test_audit_words() -> None:
    t = trace()
    ok = audit_view(t, VALID)
    assert ok is not None and ok.tone == "ok"
    assert ok.headline == ("Audited by Good Audits to SA8000 on 12 Mar 2026, valid until 12 Mar 2027: passed")
    failed = audit_view(t, {**VALID, "outcome": "fail", "present": ["retention_of_identity_documents"]})
    assert failed is not None and failed.tone == "bad"
    assert failed.headline == "Audit failed: workers' identity documents were retained"
    conditional = audit_view(
        t,
        {
            **VALID,
            "outcome": "conditional",
            "present": ["debt_bondage"],
            "not_assessed": ["isolation"],
        },
    )
    assert conditional is not None and conditional.tone == "bad"
    assert conditional.headline.endswith(": passed with conditions")
    assert conditional.details == [
        "It found that workers were held in debt bondage.",
        "Not checked: isolation.",
    ]
    expired = audit_view(t, {**VALID, "status": "expired"})
    assert expired is not None
    assert expired.headline == "No valid audit: the last one by Good Audits to SA8000 expired on 12 Mar 2027"
    missing = audit_view(t, {"status": "missing", "present": [], "not_assessed": [], "findings": []})
    assert missing is not None and missing.headline.startswith("No valid audit")
    own = audit_view(t, {**VALID, "issuer": "farm1", "standard": "self-assessment", "self_assessment": True})
    assert own is not None and own.headline.startswith("Self-assessed on 12 Mar 2026 (not an independent")


def test_verdicts() -> None:
    assert verdict_view(trace()).heading == "Fair labour verified"
    t = trace(
        verdict="non-compliant",
        findings=[
            {
                "severity": "serious",
                "code": "attestation-expired",
                "party": "mill",
                "seq": 14,
                "message": "long technical text",
            }
        ],
    )
    t["steps"][5]["audit"]["status"] = "expired"
    v = verdict_view(t)
    assert v.heading == "Not verified: labour audits missing" and v.tone == "warn"
    assert [p.text for p in v.points] == [
        "The Mill: no valid labour audit (the last one expired on 12 Mar 2027)"
    ]
    t = trace(
        verdict="non-compliant",
        findings=[
            {
                "severity": "serious",
                "code": "indicator-present",
                "party": "farm2",
                "seq": 11,
                "indicator": "withholding_of_wages",
                "message": "x",
            },
            {
                "severity": "serious",
                "code": "indicator-present",
                "party": "farm2",
                "seq": 13,
                "indicator": "withholding_of_wages",
                "message": "x",
            },
            {
                "severity": "info",
                "code": "high-risk-region-unresolved",
                "party": "farm2",
                "message": "i",
            },
        ],
    )
    v = verdict_view(t)
    assert v.heading == "Workers' wages were withheld at Farm Two" and v.tone == "bad"
    t = trace(
        verdict="attention",
        findings=[
            {
                "severity": "attention",
                "code": "high-risk-origin",
                "party": "farm1",
                "seq": 10,
                "message": "Lot c1 comes from a high-risk region.",
            }
        ],
    )
    v = verdict_view(t)
    assert v.heading == "Partly verified"
    assert [p.text for p in v.points] == ["Lot c1 comes from a high-risk region."]


def test_shopper_view_origins_and_corrections() -> None:
    view = shopper_view(trace(corrections=[{"revoked": 9, "by": 16, "reason": "wrong date"}]))
    assert [(o.share, o.where) for o in view.origins] == [
        ("60%", "Gujarat, India"),
        ("40%", "Bangladesh"),
    ]
    assert view.corrections == ["Entry 9 was withdrawn by entry 16: wrong date"]
    assert view.brand.name == "The Brand"


def test_withdrawn_product() -> None:
    t = trace(
        verdict="non-compliant",
        findings=[
            {
                "severity": "serious",
                "code": "product-revoked",
                "party": "brand",
                "seq": 20,
                "message": "x",
            }
        ],
    )
    v = verdict_view(t)
    assert v.heading == "This product record was withdrawn" and v.points == []
