"""Yields and red flags in the trace (issue 14, attack 3 and the due-diligence red flags).

Mass from nothing: 1 kg of audited organic cotton spun into 1,000,000 kg of yarn is a serious
finding naming the mill, and the 1 kg farm is no longer the 100% origin: its share is true to
mass. Policy bounds on yields, unbounded unit conversions, output beyond a facility's
workforce, and a new auditor after a failure are findings with their reasons.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from scenarios import AUDITOR, BRAND, FARM, KNITTER, MILL, TEE_YIELDS, Clock, audit, tee_chain, write_policy

from ledger.errors import ConfigError
from ledger.trace.policy import Policy
from ledger.trace.walk import trace_product

DAY = "2025-06-01"


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    return tee_chain(tmp_path / "h", clock=Clock(DAY))


def spin_and_sell(c: Any, seed: str, yarn: str, tees: str, batch: str, *, tag: str = "M") -> dict[str, Any]:
    """The farm grows ``seed`` kg, the mill spins it into ``yarn`` kg, the knitter makes
    ``tees`` pcs of it all, the brand declares them: the trace of that batch."""
    b = c.b
    b.origin(FARM, f"C-{tag}", "seed cotton", seed, "kg", country="IN", region="Gujarat", produced_on=DAY)
    b.ship(FARM, f"C-{tag}", seed, "kg", MILL, DAY)
    b.transform(MILL, "spinning", DAY, [(f"C-{tag}", seed, "kg")], [(f"Y-{tag}", "organic yarn", yarn, "kg")])
    b.ship(MILL, f"Y-{tag}", yarn, "kg", KNITTER, DAY)
    b.transform(KNITTER, "knitting", DAY, [(f"Y-{tag}", yarn, "kg")], [(f"T-{tag}", "tee", tees, "pcs")])
    b.ship(KNITTER, f"T-{tag}", tees, "pcs", BRAND, DAY)
    b.product(BRAND, c.gtin, batch, "Organic tee", [(f"T-{tag}", tees, "pcs")])
    return trace_product(c.ledger, c.gtin, batch).to_json()


def test_mass_from_nothing(chain: Any) -> None:
    t = spin_and_sell(chain, "1", "1000000", "1000000", "B-MASS")
    assert t["verdict"] == "non-compliant"
    (f,) = [f for f in t["findings"] if f["code"] == "mass-gained"]
    assert f["party"] == MILL and f["severity"] == "serious"
    assert "Surat Spinning Mills (surat-spinning)" in f["message"] and "1000000 kg" in f["message"]
    (origin,) = t["origins"]
    assert Decimal(origin["share"]) == Decimal("0.000001")  # 1 kg of 1,000,000
    # the knitting of 1,000,000 kg into as many shirts is within the policy's 5 pcs per kg
    assert not [f for f in t["findings"] if f["code"] in ("unbounded-conversion", "yield-out-of-bounds")]


def test_mass_from_nothing_in_other_units_of_mass(chain: Any) -> None:
    """1 kg spun into 1,000,000 g (1,000 kg): masses compare across kg, g and t."""
    b = chain.b
    b.origin(FARM, "C-g", "seed cotton", "1", "kg", country="IN", produced_on=DAY)
    b.ship(FARM, "C-g", "1", "kg", MILL, DAY)
    b.transform(MILL, "spinning", DAY, [("C-g", "1", "kg")], [("Y-g", "yarn", "1000000", "g")])
    b.ship(MILL, "Y-g", "1000000", "g", BRAND, DAY)
    b.product(BRAND, chain.gtin, "B-g", "Yarn", [("Y-g", "1000000", "g")])
    t = trace_product(chain.ledger, chain.gtin, "B-g").to_json()
    (f,) = t["findings"]
    assert (f["code"], f["party"]) == ("mass-gained", MILL) and "1000 kg of outputs from 1 kg" in f["message"]
    assert [o["share"] for o in t["origins"]] == ["0.001"]


def test_small_gain_is_serious_too(chain: Any) -> None:
    t = spin_and_sell(chain, "100", "100.5", "200", "B-GAIN")
    assert [f["party"] for f in t["findings"] if f["code"] == "mass-gained"] == [MILL]


def test_honest_losses_and_known_conversions_add_nothing(chain: Any) -> None:
    t = spin_and_sell(chain, "100", "85", "170", "B-OK")
    assert t["verdict"] == "compliant" and t["findings"] == []
    assert [o["share"] for o in t["origins"]] == ["1"]


def test_unbounded_conversion_needs_attention(chain: Any) -> None:
    write_policy(chain.home)  # knows knitting, not "cutting"
    b = chain.b
    b.origin(FARM, "C-U", "seed cotton", "1", "kg", country="IN", produced_on=DAY)
    b.ship(FARM, "C-U", "1", "kg", KNITTER, DAY)
    b.transform(KNITTER, "cutting", DAY, [("C-U", "1", "kg")], [("T-U", "tee", "1000000", "pcs")])
    b.ship(KNITTER, "T-U", "1000000", "pcs", BRAND, DAY)
    b.product(BRAND, chain.gtin, "B-U", "Organic tee", [("T-U", "1000000", "pcs")])
    t = trace_product(chain.ledger, chain.gtin, "B-U").to_json()
    (f,) = t["findings"]
    assert (f["code"], f["severity"], f["party"]) == ("unbounded-conversion", "attention", KNITTER)
    assert "1000000 pcs from 1 kg" in f["message"]
    assert t["verdict"] == "attention"
    # once the policy bounds it, the same claim is out of bounds
    cutting = {"process": "cutting", "input_unit": "kg", "output_unit": "pcs", "max": "8"}
    write_policy(chain.home, yields=[cutting])
    t = trace_product(chain.ledger, chain.gtin, "B-U").to_json()
    (f,) = t["findings"]
    assert (f["code"], f["severity"], f["party"]) == ("yield-out-of-bounds", "serious", KNITTER)
    assert "1000000 pcs of output per kg of input" in f["message"] and "maximum of 8" in f["message"]


def test_a_policy_bounds_a_material_pair(chain: Any) -> None:
    """Ginning: lint at most 0.40 of seed cotton by mass."""
    ginning = {"process": "ginning", "input": "seed cotton", "output": "cotton lint", "max": "0.40"}
    write_policy(chain.home, yields=[*TEE_YIELDS, ginning])
    b = chain.b
    b.origin(FARM, "C-G", "seed cotton", "1000", "kg", country="IN", produced_on=DAY)
    b.transform(
        FARM,
        "ginning",
        DAY,
        [("C-G", "1000", "kg")],
        [("L-G", "cotton lint", "500", "kg"), ("S-G", "seed", "400", "kg")],
    )
    b.ship(FARM, "L-G", "500", "kg", KNITTER, DAY)
    b.transform(KNITTER, "knitting", DAY, [("L-G", "500", "kg")], [("T-G", "tee", "1000", "pcs")])
    b.ship(KNITTER, "T-G", "1000", "pcs", BRAND, DAY)
    b.product(BRAND, chain.gtin, "B-G", "Organic tee", [("T-G", "1000", "pcs")])
    t = trace_product(chain.ledger, chain.gtin, "B-G").to_json()
    (f,) = t["findings"]
    assert (f["code"], f["severity"], f["party"]) == ("yield-out-of-bounds", "serious", FARM)
    assert "0.5 cotton lint per unit of seed cotton" in f["message"] and "maximum of 0.4" in f["message"]


def test_output_beyond_the_workforce(chain: Any) -> None:
    """The mill's audit counts 10 workers; at 40 kg per worker per day it cannot spin 800 kg
    in the one day of its step."""
    write_policy(
        chain.home, workforce_rates=[{"process": "spinning", "unit": "kg", "per_worker_per_day": "40"}]
    )
    chain.clock.set(DAY)
    audit(chain.b, MILL, audit_date=DAY, valid_until="2026-05-31", workers=10)
    t = spin_and_sell(chain, "1000", "800", "1600", "B-W")
    (f,) = t["findings"]
    assert (f["code"], f["severity"], f["party"]) == ("beyond-workforce", "serious", MILL)
    assert "800 kg" in f["message"] and "10 workers" in f["message"] and "at most 400 kg" in f["message"]


def test_a_new_auditor_after_a_failure(chain: Any) -> None:
    b = chain.b
    b.party("quick-audits", "Quick Audits", "auditor", "AE")
    audit(
        b, MILL, audit_date="2025-05-01", valid_until="2026-04-30", outcome="fail", present=["debt_bondage"]
    )
    audit(b, MILL, issuer="quick-audits", audit_date="2025-05-20", valid_until="2026-05-19")
    t = spin_and_sell(chain, "100", "80", "160", "B-A")
    (f,) = t["findings"]
    assert (f["code"], f["severity"], f["party"]) == ("new-auditor-after-failure", "attention", MILL)
    assert (
        "Veritas Social Audits (veritas-audits)" in f["message"]
        and "Quick Audits (quick-audits)" in f["message"]
    )
    assert AUDITOR in t["parties"]


def test_the_same_auditor_passing_again_is_no_red_flag(chain: Any) -> None:
    audit(chain.b, MILL, audit_date="2025-05-01", valid_until="2026-04-30", outcome="fail")
    audit(chain.b, MILL, audit_date="2025-05-20", valid_until="2026-05-19")
    assert spin_and_sell(chain, "100", "80", "160", "B-S")["findings"] == []


@pytest.mark.parametrize(
    "raw, words",
    [
        ({"yields": [{"process": "ginning"}]}, "needs a max, a min or both"),
        ({"yields": [{"max": 0.4}]}, "decimal string"),
        ({"yields": [{"max": "-1"}]}, "greater than zero"),
        ({"yields": [{"max": "1", "input_unit": "kg"}]}, "input_unit and output_unit together"),
        ({"yields": [{"max": "1", "colour": "red"}]}, "unknown key 'colour'"),
        ({"workforce_rates": [{"unit": "kg"}]}, "needs a unit and a per_worker_per_day"),
        ({"workforce_rates": [{"unit": "kg", "per_worker_per_day": "1", "days": 0}]}, "days"),
        ({"late_record_days": "90"}, "late_record_days"),
        ({"yields": {}}, "yields must be a list"),
    ],
)
def test_policy_mistakes_are_named(raw: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        Policy.from_json(raw)


def test_policy_round_trips() -> None:
    raw = {
        "high_risk_regions": [],
        "late_record_days": 30,
        "yields": [
            {"process": "ginning", "input": "seed cotton", "max": "0.40", "min": "0.30", "reason": "typical"}
        ],
        "workforce_rates": [
            {"material": "seed cotton", "unit": "kg", "per_worker_per_day": "25", "days": 365}
        ],
    }
    policy = Policy.from_json(raw)
    assert Policy.from_json(policy.to_json()) == policy
    assert Policy().to_json() == {"high_risk_regions": []}  # the defaults stay out of bundles
