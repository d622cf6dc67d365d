"""A demo ledger of three realistic supply chains (``provenance demo``).

- Cotton to T-shirt (India → Bangladesh → Sweden): every tier audited by third parties.
- Cobalt to phone battery (DR Congo → China → South Korea → Finland): the refinery's
  audit expired before it refined the lot.
- Cocoa to chocolate bar (Côte d'Ivoire and Ghana → Netherlands → Belgium): one
  cooperative's audit failed, finding that workers' identity documents were retained;
  the chocolate factory's audit passed with conditions.

Parties and places are invented but typical of each chain. Party keys (and each
party's next key, ``<party>.next.key``) are saved in ``<home>/party-keys/`` so a user can
sign more statements as any demo party.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.demo.schedule import DemoClock, Schedule
from ledger.errors import ConfigError
from ledger.model.fields import gs1_check_digit_ok
from ledger.trace.policy import POLICY_NAME

ORIGIN = "demo.provenance.localhost/ledger"


def gtin14(body13: str) -> str:
    """A GTIN-14 from 13 digits: '0'-padded with the GS1 check digit appended."""
    digits = ("0" + body13)[-13:]
    for check in "0123456789":
        if gs1_check_digit_ok(digits + check):
            return digits + check
    raise AssertionError("unreachable")


def build_demo(home: Path, base_url: str = "http://127.0.0.1:8000") -> list[dict[str, Any]]:
    """Replace ``home`` with a fresh demo ledger; return its products.

    ``home`` must be missing, empty, or hold a demo ledger (origin ``ORIGIN``); anything else
    is refused with ``ConfigError``, never deleted.
    """
    if home.exists():
        _check_replaceable(home)
        shutil.rmtree(home)
    clock = DemoClock()
    ledger = Ledger.init(home, ORIGIN, name="Provenance Ledger demo operator", clock=clock)
    try:
        b = Builder(ledger)
        plan = Schedule(b)  # every step recorded on its own date (docs/claims.md)
        products = [_cotton(plan), _cobalt(plan), _cocoa(plan)]  # type: ignore[arg-type]
        plan.run(clock)
        (home / POLICY_NAME).write_text(json.dumps(DEMO_POLICY, indent=2) + "\n", encoding="utf-8")
        keys = home / "party-keys"
        keys.mkdir()
        for party, key in b.keys.items():
            if party != "operator":
                key.save(keys / f"{party}.key")
                for n, next_key in enumerate(b.next_keys[party]):
                    next_key.save(keys / f"{party}.next{n or ''}.key")
    finally:
        ledger.close()
    for p in products:
        p["url"] = f"{base_url.rstrip('/')}/01/{p['gtin']}/10/{p['batch']}"
    return products


DEMO_FILES = {
    "ledger.db",
    "ledger.db-wal",
    "ledger.db-shm",
    "operator.key",
    "operator-next.key",
    "party-keys",
    "witnesses",
    "demo-witnesses",
    POLICY_NAME,
}

# The demo brands' policy: the yields their chains may claim (docs/claims.md).
DEMO_POLICY = {
    "yields": [
        {"process": "ginning", "input": "seed cotton", "output": "cotton lint", "max": "0.40"},
        {"process": "sewing", "input_unit": "kg", "output_unit": "pcs", "max": "6"},
        {"process": "cell assembly", "input_unit": "t", "output_unit": "pcs", "max": "5000"},
        {"process": "moulding", "input_unit": "kg", "output_unit": "pcs", "max": "14"},
    ]
}


def _check_replaceable(home: Path) -> None:
    if not home.is_dir():
        raise ConfigError(f"{home} is not a folder")
    names = {p.name for p in home.iterdir()}
    if not names:
        return
    origin = None
    if (home / "ledger.db").exists():
        try:
            with Ledger.open(home, readonly=True) as existing:
                origin = existing.origin
        except ConfigError:
            origin = None
    if origin != ORIGIN or not names <= DEMO_FILES:
        raise ConfigError(
            f"{home} is not empty and holds no demo ledger; refusing to replace it: pick another --home"
        )


def _auditors(b: Builder) -> None:
    if "fairwork-assurance" in b.keys:
        return
    with b.batch():
        b.party("fairwork-assurance", "Fairwork Assurance GmbH", "auditor", "DE")
        b.party("meridian-social", "Meridian Social Compliance Ltd", "auditor", "GB")
        b.party("asia-ethical-audits", "Asia Ethical Audits Pte Ltd", "auditor", "SG")


def _cotton(b: Builder) -> dict[str, Any]:
    _auditors(b)
    with b.batch():
        b.party("patel-cotton-farm", "Patel Organic Cotton Farm", "farm", "IN")
        b.party("saurashtra-ginning", "Saurashtra Ginning Co.", "processor", "IN", os_id="IN2021089RKT2WQ")
        b.party("dhaka-spinning", "Dhaka Spinning Mills Ltd", "processor", "BD", os_id="BD2019301QS4H7A")
        b.party(
            "meghna-knit",
            "Meghna Knit Composite Ltd",
            "manufacturer",
            "BD",
            os_id="BD2020142MK81ZE",
            gln=gtin14("590123412345")[1:],
        )
        b.party("nordic-threads", "Nordic Threads AB", "brand", "SE")
    with b.batch():
        for facility, auditor, std, day in [
            ("patel-cotton-farm", "asia-ethical-audits", "amfori BSCI", "2026-02-10"),
            ("saurashtra-ginning", "asia-ethical-audits", "SA8000", "2026-01-20"),
            ("dhaka-spinning", "meridian-social", "SA8000", "2026-03-04"),
            ("meghna-knit", "fairwork-assurance", "SMETA", "2026-04-15"),
        ]:
            b.audit(
                auditor,
                facility,
                standard=std,
                audit_date=day,
                valid_until=str(int(day[:4]) + 1) + day[4:],
                workers=120,
                evidence=[(f"{std} report {facility}.pdf", f"{facility}/{day}".encode())],
            )
        b.audit(
            "nordic-threads",
            "nordic-threads",
            standard="self-assessment",
            audit_date="2026-01-05",
            valid_until="2027-01-05",
            workers=45,
        )
    with b.batch():
        b.origin(
            "patel-cotton-farm",
            "IN-GJ-SEEDCOTTON-2026-014",
            "organic seed cotton",
            "12000",
            "kg",
            country="IN",
            region="Gujarat",
            lat="22.2587",
            lon="71.1924",
            produced_on="2026-03-20",
            certifications=["GOTS", "Organic (NPOP)"],
        )
        b.ship(
            "patel-cotton-farm",
            "IN-GJ-SEEDCOTTON-2026-014",
            "12000",
            "kg",
            "saurashtra-ginning",
            "2026-03-25",
        )
        b.transform(
            "saurashtra-ginning",
            "ginning",
            "2026-04-02",
            [("IN-GJ-SEEDCOTTON-2026-014", "12000", "kg")],
            [("SG-LINT-0402", "cotton lint", "4200", "kg")],
        )
        b.ship("saurashtra-ginning", "SG-LINT-0402", "4200", "kg", "dhaka-spinning", "2026-04-20")
        b.transform(
            "dhaka-spinning",
            "ring spinning",
            "2026-05-12",
            [("SG-LINT-0402", "4200", "kg")],
            [("DSM-YARN-30S-0512", "30s combed yarn", "3700", "kg")],
        )
        b.ship("dhaka-spinning", "DSM-YARN-30S-0512", "3700", "kg", "meghna-knit", "2026-05-20")
        b.transform(
            "meghna-knit",
            "knitting, dyeing, cutting and sewing",
            "2026-06-18",
            [("DSM-YARN-30S-0512", "3700", "kg")],
            [("MK-TEE-0618", "organic cotton T-shirt", "18000", "pcs")],
        )
        b.ship("meghna-knit", "MK-TEE-0618", "18000", "pcs", "nordic-threads", "2026-07-01")
        gtin = gtin14("735005385001")
        b.product(
            "nordic-threads",
            gtin,
            "TS2026-07A",
            "Organic Cotton Crew T-shirt",
            [("MK-TEE-0618", "18000", "pcs")],
            description="Unisex crew-neck T-shirt, 180 g/m² organic cotton jersey.",
        )
    return {
        "gtin": gtin,
        "batch": "TS2026-07A",
        "name": "Organic Cotton Crew T-shirt",
        "brand": "nordic-threads",
    }


def _cobalt(b: Builder) -> dict[str, Any]:
    _auditors(b)
    with b.batch():
        b.party("kolwezi-mining", "Kolwezi Mining Cooperative", "mine", "CD")
        b.party("huayou-refining", "Zhejiang Coastal Cobalt Refining Co.", "processor", "CN")
        b.party("hanbit-cathode", "Hanbit Cathode Materials Co.", "manufacturer", "KR")
        b.party("aurora-mobile", "Aurora Mobile Oy", "brand", "FI")
    with b.batch():
        b.audit(
            "meridian-social",
            "kolwezi-mining",
            standard="RBA",
            audit_date="2026-01-15",
            valid_until="2027-01-15",
            workers=800,
            findings=["Personal protective equipment issued to all registered diggers."],
        )
        # The refinery's audit ran out on 2026-03-31; it refined the lot in May.
        b.audit(
            "asia-ethical-audits",
            "huayou-refining",
            standard="RBA",
            audit_date="2025-04-01",
            valid_until="2026-03-31",
            workers=2300,
        )
        b.audit(
            "fairwork-assurance",
            "hanbit-cathode",
            standard="RBA",
            audit_date="2026-02-20",
            valid_until="2027-02-20",
            workers=640,
        )
        b.audit(
            "fairwork-assurance",
            "aurora-mobile",
            standard="SA8000",
            audit_date="2026-03-01",
            valid_until="2027-03-01",
        )
    with b.batch():
        b.origin(
            "kolwezi-mining",
            "CD-LU-CO-2026-0311",
            "cobalt hydroxide",
            "40",
            "t",
            country="CD",
            region="Lualaba",
            lat="-10.7148",
            lon="25.4667",
            produced_on="2026-03-11",
        )
        b.ship("kolwezi-mining", "CD-LU-CO-2026-0311", "40", "t", "huayou-refining", "2026-04-02")
        b.transform(
            "huayou-refining",
            "refining to cobalt sulfate",
            "2026-05-06",
            [("CD-LU-CO-2026-0311", "40", "t")],
            [("ZJ-COSO4-0506", "cobalt sulfate", "26", "t")],
        )
        b.ship("huayou-refining", "ZJ-COSO4-0506", "26", "t", "hanbit-cathode", "2026-05-20")
        b.transform(
            "hanbit-cathode",
            "NMC cathode synthesis and cell assembly",
            "2026-06-22",
            [("ZJ-COSO4-0506", "26", "t")],
            [("HB-CELL-0622", "lithium-ion phone battery cell", "90000", "pcs")],
        )
        b.ship("hanbit-cathode", "HB-CELL-0622", "90000", "pcs", "aurora-mobile", "2026-07-03")
        gtin = gtin14("641234500007")
        b.product(
            "aurora-mobile",
            gtin,
            "BAT-26W27",
            "Aurora 5000 mAh replacement battery",
            [("HB-CELL-0622", "90000", "pcs")],
        )
    return {
        "gtin": gtin,
        "batch": "BAT-26W27",
        "name": "Aurora 5000 mAh replacement battery",
        "brand": "aurora-mobile",
    }


def _cocoa(b: Builder) -> dict[str, Any]:
    _auditors(b)
    with b.batch():
        b.party("soubre-cocoa-coop", "Coopérative Agricole de Soubré", "farm", "CI")
        b.party("ashanti-cocoa-farmers", "Ashanti Cocoa Farmers Union", "farm", "GH")
        b.party("westhaven-commodities", "Westhaven Commodities B.V.", "trader", "NL")
        b.party("zaandam-cocoa", "Zaandam Cocoa Processing B.V.", "processor", "NL")
        b.party("ardennes-chocolate-works", "Ardennes Chocolate Works SA", "manufacturer", "BE")
        b.party("brugge-chocolatiers", "Brugge Chocolatiers NV", "brand", "BE")
    with b.batch():
        b.audit(
            "meridian-social",
            "soubre-cocoa-coop",
            standard="amfori BSCI",
            audit_date="2026-02-03",
            valid_until="2027-02-03",
            outcome="fail",
            workers=310,
            present=["retention_of_identity_documents", "withholding_of_wages"],
            findings=[
                "Identity cards of 14 seasonal workers were held by the cooperative's agent.",
                "Wages for January were paid six weeks late.",
            ],
        )
        b.audit(
            "asia-ethical-audits",
            "ashanti-cocoa-farmers",
            standard="SA8000",
            audit_date="2026-01-12",
            valid_until="2027-01-12",
            workers=520,
        )
        b.audit(
            "fairwork-assurance",
            "westhaven-commodities",
            standard="SMETA",
            audit_date="2026-01-30",
            valid_until="2027-01-30",
        )
        b.audit(
            "fairwork-assurance",
            "zaandam-cocoa",
            standard="SMETA",
            audit_date="2026-02-14",
            valid_until="2027-02-14",
            workers=210,
        )
        b.audit(
            "asia-ethical-audits",
            "brugge-chocolatiers",
            standard="SMETA",
            audit_date="2026-01-22",
            valid_until="2027-01-22",
        )
        b.audit(
            "meridian-social",
            "ardennes-chocolate-works",
            standard="SA8000",
            audit_date="2026-03-10",
            valid_until="2027-03-10",
            outcome="conditional",
            workers=95,
            not_assessed=["isolation"],
            findings=["Overtime records incomplete for two weeks in February; corrective plan agreed."],
        )
    with b.batch():
        b.origin(
            "soubre-cocoa-coop",
            "CI-SOUBRE-2026-0218",
            "cocoa beans",
            "30000",
            "kg",
            country="CI",
            region="Nawa",
            lat="5.7853",
            lon="-6.6083",
            produced_on="2026-02-18",
            certifications=["Rainforest Alliance"],
        )
        b.origin(
            "ashanti-cocoa-farmers",
            "GH-ASH-2026-0225",
            "cocoa beans",
            "20000",
            "kg",
            country="GH",
            region="Ashanti",
            lat="6.7470",
            lon="-1.5209",
            produced_on="2026-02-25",
            certifications=["Fairtrade"],
        )
        b.ship(
            "soubre-cocoa-coop", "CI-SOUBRE-2026-0218", "30000", "kg", "westhaven-commodities", "2026-03-05"
        )
        b.ship(
            "ashanti-cocoa-farmers", "GH-ASH-2026-0225", "20000", "kg", "westhaven-commodities", "2026-03-08"
        )
        b.ship("westhaven-commodities", "CI-SOUBRE-2026-0218", "30000", "kg", "zaandam-cocoa", "2026-04-01")
        b.ship("westhaven-commodities", "GH-ASH-2026-0225", "20000", "kg", "zaandam-cocoa", "2026-04-03")
        b.transform(
            "zaandam-cocoa",
            "roasting, winnowing and grinding",
            "2026-04-20",
            [("CI-SOUBRE-2026-0218", "30000", "kg"), ("GH-ASH-2026-0225", "20000", "kg")],
            [("ZC-LIQUOR-0420", "cocoa liquor", "40000", "kg")],
        )
        b.ship("zaandam-cocoa", "ZC-LIQUOR-0420", "40000", "kg", "ardennes-chocolate-works", "2026-05-02")
        b.transform(
            "ardennes-chocolate-works",
            "conching, tempering and moulding",
            "2026-05-15",
            [("ZC-LIQUOR-0420", "40000", "kg")],
            [("ACW-DARK70-0515", "70% dark chocolate bar", "400000", "pcs")],
        )
        b.ship(
            "ardennes-chocolate-works",
            "ACW-DARK70-0515",
            "400000",
            "pcs",
            "brugge-chocolatiers",
            "2026-05-20",
        )
        gtin = gtin14("541234567890")
        b.product(
            "brugge-chocolatiers",
            gtin,
            "D70-0515",
            "Dark Chocolate 70% Cocoa, 100 g",
            [("ACW-DARK70-0515", "400000", "pcs")],
        )
    return {
        "gtin": gtin,
        "batch": "D70-0515",
        "name": "Dark Chocolate 70% Cocoa, 100 g",
        "brand": "brugge-chocolatiers",
    }
