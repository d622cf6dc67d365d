"""Event dates (SPEC v2 §6, §7): checked at append, and late or dated-back records judged on
both dates in the trace.

Issue 14, attack 1 replayed: a farm whose current audit failed (debt bondage present)
records a new lot today dated inside its older "pass" window; a shipment dated 1999 of a lot
produced in 2030.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scenarios import AUDITOR, BRAND, FARM, KNITTER, MILL, Clock, audit, tee_chain, write_policy

from ledger.errors import LedgerError
from ledger.trace.walk import trace_product


def refusal(fn: Any, *args: Any, **kw: Any) -> LedgerError:
    with pytest.raises(LedgerError) as info:
        fn(*args, **kw)
    return info.value


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    return tee_chain(tmp_path / "h", clock=Clock("2025-06-01"))


def findings(c: Any, code: str | None = None) -> list[dict[str, Any]]:
    t = trace_product(c.ledger, c.gtin, c.batch).to_json()
    return [f for f in t["findings"] if code is None or f["code"] == code]


def test_no_event_date_after_the_day_recorded(chain: Any) -> None:
    b = chain.b
    b.origin(FARM, "C1", "cotton", "10", "kg", country="IN", produced_on="2025-06-01")
    size = chain.ledger.size
    cases = [
        (
            b.origin,
            (FARM, "C2", "cotton", "1", "kg"),
            {"country": "IN", "produced_on": "2025-06-02"},
            "produced_on",
        ),
        (b.ship, (FARM, "C1", "1", "kg", MILL, "2025-06-02"), {}, "shipped_on"),
        (
            b.transform,
            (FARM, "ginning", "2030-01-01", [("C1", "1", "kg")], [("L1", "lint", "0.3", "kg")]),
            {},
            "date",
        ),
    ]
    for fn, args, kw, field in cases:
        e = refusal(fn, *args, **kw)
        assert (e.code, e.status, e.field) == ("event-date", 422, f"statement.body.{field}")
        assert "after the day this entry is recorded (2025-06-01)" in e.message
    e = refusal(audit, b, MILL, audit_date="2025-06-02", valid_until="2026-06-01")
    assert (e.code, e.field) == ("event-date", "statement.body.audit_date")
    assert chain.ledger.size == size


def test_no_event_date_before_what_it_uses(tmp_path: Path) -> None:
    """A shipment dated 1999 of a lot produced in 2030, and its kin."""
    clock = Clock("2031-01-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    b = c.b
    b.origin(FARM, "C30", "seed cotton", "10", "kg", country="IN", produced_on="2030-06-01")
    e = refusal(b.ship, FARM, "C30", "1", "kg", MILL, "1999-01-01")
    assert (e.code, e.field) == ("event-date", "statement.body.shipped_on")
    assert "before kutch-cotton had it (since 2030-06-01)" in e.message
    sent = b.ship(FARM, "C30", "10", "kg", MILL, "2030-06-05", received_on="2030-06-09")
    e = refusal(
        b.transform, MILL, "spinning", "2030-06-08", [("C30", "10", "kg")], [("Y30", "yarn", "8", "kg")]
    )
    assert (e.code, e.field) == ("event-date", "statement.body.inputs[0].lot")
    b.transform(MILL, "spinning", "2030-06-09", [("C30", "10", "kg")], [("Y30", "yarn", "8", "kg")])
    e = refusal(b.ship, MILL, "Y30", "8", "kg", KNITTER, "2030-06-08")
    assert e.code == "event-date"
    assert sent > 0


def test_backdating_past_a_failed_audit_is_judged_on_the_day_recorded(chain: Any) -> None:
    """Attack 1: the farm failed its audit on 2025-05-01 (debt bondage, in force now); on
    2025-06-01 it records a lot dated 2025-04-20, inside its older pass. The trace judges the
    lot on the day recorded too, finds the failure, and names the record as dated back."""
    c, b = chain, chain.b
    assert findings(c) == []
    c.clock.set("2025-05-02")
    audit(b, FARM, audit_date="2025-05-01", outcome="fail", present=["debt_bondage"])
    c.clock.set("2025-06-01")
    b.origin(
        FARM, "COT-B", "seed cotton", "500", "kg", country="IN", region="Gujarat", produced_on="2025-04-20"
    )
    b.ship(FARM, "COT-B", "500", "kg", MILL, "2025-04-25", received_on="2025-06-01")
    b.transform(MILL, "spinning", "2025-06-01", [("COT-B", "500", "kg")], [("YARN-B", "yarn", "400", "kg")])
    b.ship(MILL, "YARN-B", "400", "kg", KNITTER, "2025-06-01")
    b.transform(
        KNITTER, "knitting", "2025-06-01", [("YARN-B", "400", "kg")], [("TEE-B", "tee", "1000", "pcs")]
    )
    b.ship(KNITTER, "TEE-B", "1000", "pcs", BRAND, "2025-06-01")
    b.product(BRAND, c.gtin, "B-BACK", "Organic tee", [("TEE-B", "1000", "pcs")])
    t = trace_product(c.ledger, c.gtin, "B-BACK").to_json()
    assert t["verdict"] == "non-compliant"
    codes = {(f["code"], f["party"]) for f in t["findings"]}
    assert {("dated-back", FARM), ("audit-failed", FARM), ("indicator-present", FARM)} <= codes
    back = next(f for f in t["findings"] if f["code"] == "dated-back")
    assert "dated 2025-04-20" in back["message"] and "recorded on 2025-06-01" in back["message"]
    assert "Kutch Cotton Growers (kutch-cotton)" in back["message"]
    origin = next(s for s in t["steps"] if s["kind"] == "origin")
    assert origin["audit"]["judged_on"] == "2025-06-01" and origin["audit"]["outcome"] == "fail"


def test_a_late_record_is_judged_on_both_dates_and_named(tmp_path: Path) -> None:
    """Recorded 150 days after its date, when the farm's audit had expired: the worse day
    counts, and the finding names both dates."""
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    b = c.b
    clock.set("2026-02-01")  # the farm's audit expired on 2026-01-14
    b.origin(FARM, "COT-L", "seed cotton", "100", "kg", country="IN", produced_on="2025-09-04")
    b.ship(FARM, "COT-L", "100", "kg", KNITTER, "2025-09-05", received_on="2026-02-01")
    b.transform(KNITTER, "knitting", "2026-02-01", [("COT-L", "100", "kg")], [("TEE-L", "tee", "100", "pcs")])
    b.ship(KNITTER, "TEE-L", "100", "pcs", BRAND, "2026-02-01")
    b.product(BRAND, c.gtin, "B-LATE", "Organic tee", [("TEE-L", "100", "pcs")])
    t = trace_product(c.ledger, c.gtin, "B-LATE").to_json()
    late = [f for f in t["findings"] if f["code"] == "late-record"]
    assert [f["party"] for f in late] == [FARM, FARM]  # the origin and its shipment
    assert "dated 2025-09-04 but was recorded on 2026-02-01, 150 days later" in late[0]["message"]
    assert "the policy allows 90" in late[0]["message"]
    assert t["verdict"] == "non-compliant"
    assert ("attestation-expired", FARM) in {(f["code"], f["party"]) for f in t["findings"]}


def test_late_record_days_comes_from_the_policy(tmp_path: Path) -> None:
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    write_policy(c.home, late_record_days=30)
    late = findings(c, "late-record")
    # the brand's product is recorded 2025-06-01; the origin of 2025-03-01 was recorded on its day
    assert late == []
    clock.set("2025-06-20")
    b = c.b
    b.origin(FARM, "COT-M", "seed cotton", "100", "kg", country="IN", produced_on="2025-05-01")
    b.ship(FARM, "COT-M", "100", "kg", KNITTER, "2025-06-20")
    b.transform(KNITTER, "knitting", "2025-06-20", [("COT-M", "100", "kg")], [("TEE-M", "tee", "100", "pcs")])
    b.ship(KNITTER, "TEE-M", "100", "pcs", BRAND, "2025-06-20")
    b.product(BRAND, c.gtin, "B-M", "Organic tee", [("TEE-M", "100", "pcs")])
    t = trace_product(c.ledger, c.gtin, "B-M").to_json()
    (f,) = [f for f in t["findings"] if f["code"] == "late-record"]
    assert f["party"] == FARM and "50 days later (the policy allows 30)" in f["message"]
    assert t["verdict"] == "attention"


def test_an_honest_chain_has_no_date_findings(chain: Any) -> None:
    t = trace_product(chain.ledger, chain.gtin, chain.batch).to_json()
    assert t["verdict"] == "compliant" and t["findings"] == []
    assert AUDITOR in t["parties"]


def test_the_demo_records_each_step_on_its_date(tmp_path: Path) -> None:
    """The demo's chains overlap in time; replayed in date order, no step is a late record,
    the cotton chain is compliant and the other two keep the failures of their story."""
    from ledger.core.ledger import Ledger
    from ledger.demo.chains import build_demo

    products = build_demo(tmp_path / "demo")
    with Ledger.open(tmp_path / "demo", readonly=True) as led:
        verdicts = []
        for p in products:
            t = trace_product(led, p["gtin"], p["batch"]).to_json()
            assert not [f for f in t["findings"] if f["code"] in ("late-record", "dated-back")]
            for s in t["steps"]:
                recorded = led.entry(s["seq"]).recorded_at[:10]
                assert s["date"] <= recorded, s
            verdicts.append(t["verdict"])
    assert verdicts == ["compliant", "non-compliant", "non-compliant"]
