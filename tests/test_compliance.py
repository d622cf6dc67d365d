"""Compliance scenarios on realistic chains: who had a valid labour audit when.

Each scenario builds the T-shirt chain of ``tests/scenarios.py`` with ``Builder`` and checks
the verdict and that the findings name the facility (and the indicator) at fault.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import scenarios
from scenarios import AUDITOR, FARM, FARM2, KNITTER, MILL, TRADER, audit, tee_chain

from ledger.errors import ConfigError
from ledger.model.fields import ILO_INDICATORS
from ledger.trace.compliance import Attestation, in_force
from ledger.trace.policy import Policy, RiskRegion, words
from ledger.trace.walk import trace_product


def trace(chain: Any, **kw: Any) -> dict[str, Any]:
    return trace_product(chain.ledger, chain.gtin, chain.batch, **kw).to_json()


def codes(t: dict[str, Any], party: str | None = None) -> list[str]:
    return [f["code"] for f in t["findings"] if party is None or f["party"] == party]


def step(t: dict[str, Any], seq: int) -> dict[str, Any]:
    return next(s for s in t["steps"] if s["seq"] == seq)


def test_all_audited_is_compliant(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    t = trace(c)
    assert t["verdict"] == "compliant" and t["findings"] == []
    judged = [s for s in t["steps"] if s["kind"] != "product"]
    assert {s["party"] for s in judged} == {FARM, MILL, KNITTER}
    assert all(s["audit"]["status"] == "valid" and s["audit"]["issuer"] == AUDITOR for s in judged)
    assert step(t, c.seqs["product"])["audit"]["status"] == "not-required"


def test_failed_audit_with_indicator_present(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    bad = audit(
        c.b, MILL, outcome="fail", present=["debt_bondage"], findings=["recruitment fees deducted from wages"]
    )
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    mill = [f for f in t["findings"] if f["party"] == MILL]
    assert {f["code"] for f in mill} == {"audit-failed", "indicator-present"}
    ind = [f for f in mill if f["code"] == "indicator-present"]
    assert {f["seq"] for f in ind} == {c.seqs["spin"], c.seqs["ship:mill"]}
    assert all(f["indicator"] == "debt_bondage" and f["attestation"] == bad for f in ind)
    assert all(
        "Surat Spinning Mills (surat-spinning)" in f["message"] and "debt_bondage" in f["message"]
        for f in mill
    )
    audit_view = step(t, c.seqs["spin"])["audit"]
    assert audit_view["outcome"] == "fail" and audit_view["present"] == ["debt_bondage"]
    assert audit_view["findings"] == ["recruitment fees deducted from wages"]


def test_audit_expired_before_production(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    old = audit(c.b, MILL, audit_date="2024-03-01", valid_until="2025-02-28")
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    (spin,) = [f for f in t["findings"] if f["seq"] == c.seqs["spin"]]
    assert spin["code"] == "attestation-expired" and spin["attestation"] == old
    assert "Surat Spinning Mills (surat-spinning)" in spin["message"]
    assert "expired on 2025-02-28" in spin["message"]
    assert step(t, c.seqs["spin"])["audit"]["status"] == "expired"


def test_revoked_audit_is_named(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    target = c.seqs[f"audit:{MILL}"]
    rev = c.b.revoke(AUDITOR, target, "the audit report was found to be falsified")
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    revoked = [f for f in t["findings"] if f["code"] == "attestation-revoked"]
    assert {f["party"] for f in revoked} == {MILL}
    assert all(
        f["attestation"] == target
        and f"entry {target}" in f["message"]
        and f"revoked by entry {rev}" in f["message"]
        and "falsified" in f["message"]
        for f in revoked
    )
    assert (
        step(t, c.seqs["spin"])["audit"] | {"status": "revoked", "seq": target}
        == step(t, c.seqs["spin"])["audit"]
    )
    assert {"revoked": target, "by": rev}.items() <= t["corrections"][0].items()


def test_revoked_audit_replaced_by_a_correction(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    target = c.seqs[f"audit:{MILL}"]
    rev = c.b.revoke(AUDITOR, target, "wrong valid_until")
    fixed = audit(c.b, MILL, valid_until="2026-01-15")
    t = trace(c)
    assert t["verdict"] == "compliant"
    assert step(t, c.seqs["spin"])["audit"]["seq"] == fixed
    assert [(x["revoked"], x["by"], x["type"]) for x in t["corrections"]] == [
        (target, rev, "labor-attestation")
    ]


def test_facility_without_attestation(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, MILL))
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    assert codes(t, KNITTER) == ["no-attestation", "no-attestation"]
    assert all("Dhaka Knitwear (dhaka-knit)" in f["message"] for f in t["findings"])
    assert step(t, c.seqs["knit"])["audit"]["status"] == "missing"


def test_audit_dated_after_the_step_is_missing_not_valid(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    c.clock.set("2025-09-01")  # an audit is recorded on or after its date (SPEC §6)
    later = audit(c.b, MILL, audit_date="2025-09-01", valid_until="2026-08-31")
    t = trace(c)
    (f, _) = [f for f in t["findings"] if f["party"] == MILL]
    assert f["code"] == "no-attestation" and f"entry {later}" in f["message"]
    assert "2025-09-01, after this step" in f["message"]


@pytest.mark.parametrize(
    "issuer,standard", [(MILL, "self-assessment"), (MILL, "SA8000"), (AUDITOR, "Self Assessment")]
)
def test_self_assessment_only_needs_attention(tmp_path: Path, issuer: str, standard: str) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    audit(c.b, MILL, issuer=issuer, standard=standard)
    t = trace(c)
    assert t["verdict"] == "attention"
    assert set(codes(t)) == {"self-assessment"}
    assert all(f["party"] == MILL and "no third-party audit" in f["message"] for f in t["findings"])
    assert step(t, c.seqs["spin"])["audit"]["self_assessment"] is True


def test_later_failing_audit_does_not_affect_an_earlier_step(tmp_path: Path) -> None:
    c = tee_chain(tmp_path)
    audit(
        c.b,
        MILL,
        audit_date="2025-06-01",
        valid_until="2026-05-31",
        outcome="fail",
        present=["excessive_overtime"],
    )
    t = trace(c)
    assert t["verdict"] == "compliant"
    assert step(t, c.seqs["spin"])["audit"]["seq"] == c.seqs[f"audit:{MILL}"]


def test_same_day_failure_cannot_be_hidden_by_a_later_pass(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    fail = audit(c.b, MILL, audit_date="2025-03-15", outcome="fail")
    audit(c.b, MILL, audit_date="2025-03-15", outcome="pass")  # recorded after the failure
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    assert step(t, c.seqs["spin"])["audit"]["seq"] == fail
    assert "audit-failed" in codes(t, MILL)


def test_conditional_and_not_assessed_need_attention(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    audit(c.b, MILL, outcome="conditional", not_assessed=["isolation", "deception"])
    t = trace(c)
    assert t["verdict"] == "attention"
    assert set(codes(t, MILL)) == {"audit-conditional", "indicators-not-assessed"}
    (msg,) = {
        f["message"]
        for f in t["findings"]
        if f["code"] == "indicators-not-assessed" and f["seq"] == c.seqs["spin"]
    }
    assert "deception, isolation" in msg
    assert step(t, c.seqs["spin"])["audit"]["not_assessed"] == ["deception", "isolation"]


def test_every_route_is_judged_including_an_unaudited_trader(tmp_path: Path) -> None:
    """The yarn reaches the knitter straight from the mill and also through a trader."""
    c = tee_chain(tmp_path, trader="also")
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    shipments = {s["seq"] for s in t["steps"] if s["kind"] == "shipment"}
    assert {c.seqs["ship:mill"], c.seqs["ship:mill-trader"], c.seqs["ship:trader"]} <= shipments
    (f,) = t["findings"]
    assert f["party"] == TRADER and f["seq"] == c.seqs["ship:trader"]
    assert "Gulf Textile Trading (gulf-trading)" in f["message"]
    assert step(t, c.seqs["ship:trader"])["role"] == "trader"


def test_an_audited_trader_passes(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, trader="only", audited=(FARM, MILL, KNITTER, TRADER))
    t = trace(c)
    assert t["verdict"] == "compliant"
    assert step(t, c.seqs["ship:trader"])["audit"]["status"] == "valid"


def write_policy(home: Path, regions: list[dict[str, Any]]) -> None:
    scenarios.write_policy(home, high_risk_regions=regions)


def test_high_risk_origin_is_flagged(tmp_path: Path) -> None:
    home = tmp_path / "h"
    c = tee_chain(home, country="CN", region="Xīnjiāng Uyghur Autonomous Region")
    assert trace(c)["verdict"] == "compliant"  # the default policy is empty
    write_policy(home, [{"country": "CN", "region": "Xinjiang", "reason": "UFLPA"}])
    t = trace(c)
    (f,) = t["findings"]
    assert (f["code"], f["party"], f["seq"], f["severity"]) == (
        "high-risk-origin",
        FARM,
        c.seqs["origin"],
        "attention",
    )
    assert "Kutch Cotton Growers (kutch-cotton)" in f["message"] and "UFLPA" in f["message"]
    assert t["verdict"] == "attention"
    write_policy(home, [{"country": "cn", "region": "xinjiang", "severity": "serious"}])
    assert trace(c)["verdict"] == "non-compliant"


def test_origin_without_region_in_a_high_risk_country_is_noted(tmp_path: Path) -> None:
    home = tmp_path / "h"
    c = tee_chain(home, country="CN", region=" ")
    write_policy(home, [{"country": "CN", "region": "Xinjiang"}])
    t = trace(c)
    assert t["verdict"] == "compliant"
    assert codes(t) == ["high-risk-region-unresolved"]


def test_multi_input_product_shares(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, second_origin=True, audited=(FARM, FARM2, MILL, KNITTER), product_pcs="1500")
    t = trace(c)
    assert t["verdict"] == "compliant"
    got = {o["lot"]: (o["amount"], o["unit"], o["share"], o["party"]) for o in t["origins"]}
    assert got == {"COT-1": ("450", "kg", "0.6", FARM), "COT-2": ("300", "kg", "0.4", FARM2)}


# -- the rules, one by one -----------------------------------------------------------------


def att(
    seq: int,
    audit_date: str,
    valid_until: str,
    outcome: str = "pass",
    *,
    present: int = 0,
    revoked: bool = False,
    issuer: str = "aud",
) -> Attestation:
    indicators = tuple((k, "present" if i < present else "absent") for i, k in enumerate(ILO_INDICATORS))
    return Attestation(
        seq,
        "mill",
        issuer,
        "SA8000",
        audit_date,
        valid_until,
        outcome,
        indicators,
        (),
        99 if revoked else None,
    )


def test_in_force_picks_latest_audit_date_then_worst_outcome() -> None:
    a = att(1, "2025-01-01", "2025-12-31", "fail")
    b = att(2, "2025-02-01", "2025-12-31", "pass")
    assert in_force([a, b], "2025-03-01") is b
    assert in_force([a, b], "2025-01-15") is a
    assert in_force([a, b], "2026-01-01") is None
    tie = [att(3, "2025-02-01", "2025-12-31", "conditional"), att(4, "2025-02-01", "2025-12-31", "pass")]
    assert in_force(tie, "2025-03-01").seq == 3  # type: ignore[union-attr]
    both_fail = [
        att(5, "2025-02-01", "2025-12-31", "fail", present=2),
        att(6, "2025-02-01", "2025-12-31", "fail"),
    ]
    assert in_force(both_fail, "2025-03-01").seq == 5  # type: ignore[union-attr]
    assert in_force([att(7, "2025-02-01", "2025-12-31", revoked=True)], "2025-03-01") is None
    assert in_force([a], "2025-12-31") is a and in_force([a], "2025-01-01") is a


def test_self_assessment_by_standard_or_signer() -> None:
    assert att(1, "2025-01-01", "2025-12-31", issuer="mill").self_assessment
    assert not att(1, "2025-01-01", "2025-12-31").self_assessment
    for standard in ("self-assessment", "Self Assessment", "SELF_ASSESSED"):
        assert replace(att(1, "2025-01-01", "2025-12-31"), standard=standard).self_assessment


def test_region_matching_ignores_case_accents_and_punctuation() -> None:
    r = RiskRegion("CN", "Xinjiang", aliases=("XUAR",))
    assert r.matches("CN", "Xīnjiāng")
    assert r.matches("cn", "XINJIANG UYGHUR AUTONOMOUS REGION")
    assert r.matches("CN", "Kashgar, xuar")
    assert not r.matches("CN", "Guangdong") and not r.matches("KZ", "Xinjiang")
    assert not r.matches("CN", "Xinjiangxi")  # whole words only
    assert RiskRegion("KP").matches("KP", None)
    assert RiskRegion(region="Ṣanlıurfa").matches("TR", "sanliurfa province")
    assert words("Côte-d'Ivoire") == ("cote", "d", "ivoire")


def test_policy_file_round_trips_and_refuses_mistakes(tmp_path: Path) -> None:
    assert Policy.load(tmp_path) == Policy()
    raw = {
        "high_risk_regions": [
            {
                "country": "cn",
                "region": "Xinjiang",
                "aliases": ["XUAR"],
                "severity": "serious",
                "reason": "UFLPA",
            },
            {"country": "KP"},
        ]
    }
    (tmp_path / "policy.json").write_text(json.dumps(raw))
    policy = Policy.load(tmp_path)
    assert policy.high_risk_regions[0].country == "CN"
    assert Policy.from_json(policy.to_json()) == policy
    for bad, word in [
        ({"high_risk_regions": [{"country": "XX"}]}, "ISO 3166"),
        ({"high_risk_regions": [{"region": "Tibet", "severity": "x"}]}, "severity"),
        ({"high_risk_regions": [{"contry": "CN"}]}, "unknown key 'contry'"),
        ({"high_risk_regions": [{}]}, "needs a country"),
        ({"regions": []}, "unknown key 'regions'"),
    ]:
        with pytest.raises(ConfigError, match=word):
            Policy.from_json(bad)
    (tmp_path / "policy.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not JSON"):
        Policy.load(tmp_path)


def test_a_later_self_assessment_cannot_hide_a_failed_third_party_audit(tmp_path: Path) -> None:
    """The facility's own "pass" the day after an auditor's failure does not replace it."""
    c = tee_chain(tmp_path, audited=(FARM, KNITTER))
    fail = audit(c.b, MILL, audit_date="2025-03-14", outcome="fail", present=["debt_bondage"])
    audit(c.b, MILL, audit_date="2025-03-15", issuer=MILL, standard="self-assessment")
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    assert step(t, c.seqs["spin"])["audit"]["seq"] == fail
    assert "audit-failed" in codes(t, MILL)
    assert any(f.get("indicator") == "debt_bondage" for f in t["findings"])


def test_a_self_assessment_cannot_clear_a_worse_third_party_audit() -> None:
    third = att(1, "2025-01-01", "2025-12-31", "conditional")
    own = att(2, "2025-06-01", "2026-06-01", issuer="mill")
    assert in_force([third, own], "2025-07-01") is third  # own pass vs auditor's conditional
    assert in_force([third, own], "2026-02-01") is own  # the audit has expired
    passed = att(3, "2025-01-01", "2025-12-31")
    assert in_force([passed, own], "2025-07-01") is own  # the latest, as the rule says


def test_a_facilitys_own_later_failure_counts() -> None:
    passed = att(1, "2025-01-01", "2026-12-31")
    own_fail = att(2, "2025-04-15", "2025-12-31", "fail", present=1, issuer="mill")
    assert in_force([passed, own_fail], "2025-05-01") is own_fail
    same_day = att(3, "2025-04-15", "2025-12-31")
    assert in_force([same_day, own_fail], "2025-05-01") is own_fail  # worst first on one day


def test_a_self_reported_failure_makes_the_product_non_compliant(tmp_path: Path) -> None:
    c = tee_chain(tmp_path, audited=(FARM, MILL, KNITTER))
    own = audit(
        c.b,
        MILL,
        audit_date="2025-03-20",
        issuer=MILL,
        standard="self-assessment",
        outcome="fail",
        present=["debt_bondage"],
    )
    t = trace(c)
    assert t["verdict"] == "non-compliant"
    assert step(t, c.seqs["spin"])["audit"]["seq"] == own
    assert any(f.get("indicator") == "debt_bondage" and f["party"] == MILL for f in t["findings"])


def test_co_products_in_different_units_share_their_inputs(tmp_path: Path) -> None:
    """100 kg of cotton woven into 50 m of fabric and 20 kg of padding, both used whole with
    100 kg of another farm's cotton: each origin is 100 kg, half the product, never more."""
    from ledger.core.ledger import Ledger
    from ledger.demo.builder import Builder
    from ledger.trace.walk import trace_product

    ledger = Ledger.init(tmp_path / "h", "coproducts.test/ledger")
    b = Builder(ledger, seed="coproducts")
    for pid, role in (
        ("farm-c", "farm"),
        ("farm-d", "farm"),
        ("weaver", "manufacturer"),
        ("brand", "brand"),
        ("aud", "auditor"),
    ):
        b.party(pid, pid, role, "IN")
    for pid in ("farm-c", "farm-d", "weaver", "brand"):
        b.audit("aud", pid, standard="SA8000", audit_date="2025-01-01", valid_until="2026-01-01")
    for farm, lot in (("farm-c", "c"), ("farm-d", "d")):
        b.origin(farm, lot, "cotton", "100", "kg", country="IN", produced_on="2025-02-01")
        b.ship(farm, lot, "100", "kg", "weaver", "2025-02-02")
    b.transform(
        "weaver",
        "weaving",
        "2025-02-03",
        [("c", "100", "kg")],
        [("fabric", "fabric", "50", "m"), ("padding", "padding", "20", "kg")],
    )
    b.transform(
        "weaver",
        "sewing",
        "2025-02-04",
        [("fabric", "50", "m"), ("padding", "20", "kg"), ("d", "100", "kg")],
        [("jackets", "jacket", "10", "pcs")],
    )
    b.ship("weaver", "jackets", "10", "pcs", "brand", "2025-02-05")
    b.product("brand", "09506000134352", "J1", "Jacket", [("jackets", "10", "pcs")])
    t = trace_product(ledger, "09506000134352", "J1").to_json()
    origins = {o["lot"]: (o["amount"], o["share"]) for o in t["origins"]}
    assert origins == {"c": ("100", "0.5"), "d": ("100", "0.5")}, origins
    assert next(x for x in t["lots"] if x["lot"] == "c")["traced"] == "100"


def test_a_corrected_origin_is_used_and_shown_as_a_correction(tmp_path: Path) -> None:
    """The farm declared the wrong region, revoked the origin and declared it again under the
    same lot id: the trace follows the correction and lists the revoked one."""
    from ledger.core.ledger import Ledger
    from ledger.demo.builder import Builder
    from ledger.trace.walk import trace_product

    # Recorded within days of the steps' dates: not late records (SPEC §6).
    ledger = Ledger.init(tmp_path / "h", "corrections.test/ledger", clock=scenarios.Clock("2025-02-05"))
    b = Builder(ledger, seed="corrections")
    for pid, role in (("farm", "farm"), ("mill", "manufacturer"), ("brand", "brand"), ("aud", "auditor")):
        b.party(pid, pid, role, "IN")
    for pid in ("farm", "mill", "brand"):
        b.audit("aud", pid, standard="SA8000", audit_date="2025-01-01", valid_until="2026-01-01")
    wrong = b.origin(
        "farm", "c1", "cotton", "100", "kg", country="IN", region="Punjab", produced_on="2025-02-01"
    )
    revocation = b.revoke("farm", wrong, "wrong region")
    fixed = b.origin(
        "farm", "c1", "cotton", "100", "kg", country="IN", region="Gujarat", produced_on="2025-02-01"
    )
    b.ship("farm", "c1", "100", "kg", "mill", "2025-02-02")
    b.transform("mill", "sewing", "2025-02-03", [("c1", "100", "kg")], [("tees", "t-shirt", "300", "pcs")])
    b.ship("mill", "tees", "300", "pcs", "brand", "2025-02-04")
    b.product("brand", "09506000134352", "T1", "Tee", [("tees", "300", "pcs")])
    sewing = {"process": "sewing", "input_unit": "kg", "output_unit": "pcs", "max": "4"}
    t = trace_product(ledger, "09506000134352", "T1", policy=Policy.from_json({"yields": [sewing]})).to_json()
    assert t["verdict"] == "compliant", t["findings"]
    assert [(o["seq"], o.get("region")) for o in t["origins"]] == [(fixed, "Gujarat")]
    assert [(c["revoked"], c["by"]) for c in t["corrections"]] == [(wrong, revocation)]
