"""Text that reads the same to every eye (SPEC v2 §7; issue 14, attack 4).

Invisible, format and bidi characters and non-NFC text are refused at append with the field
named; regions are matched on their Unicode TS #39 confusable skeleton too; an origin country
that differs from its producer's registered country is flagged, and its region is judged in
the registered country as well.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from scenarios import BRAND, FARM, KNITTER, MILL, Clock, tee_chain, write_policy

from ledger.errors import LedgerError
from ledger.model.text import refusal, skeleton
from ledger.trace.policy import names_match
from ledger.trace.walk import trace_product

XINJIANG = [{"country": "CN", "region": "Xinjiang", "severity": "serious", "reason": "UFLPA"}]

HIDDEN = {
    "zero-width-space": "Xin\u200bjiang",
    "soft-hyphen": "Xin\u00adjiang",
    "word-joiner": "Xin\u2060jiang",
    "rtl-override": "\u202egnaijniX",
    "rtl-isolate": "\u2067Xinjiang\u2069",
    "zero-width-joiner": "Xin\u200djiang",
    "byte-order-mark": "\ufeffXinjiang",
    "nul": "Xin\x00jiang",
    "bell": "Xin\x07jiang",
    "c1-control": "Xin\x85jiang",
    "line-separator": "Xin\u2028jiang",
    "combining-grapheme-joiner": "Xin\u034fjiang",
    "hangul-filler": "Xin\u3164jiang",
    "variation-selector": "Xin\ufe0fjiang",
    "tag-character": "Xinjiang\U000e0041",
    "newline-in-a-name": "Xin\njiang",
    "not-nfc": unicodedata.normalize("NFD", "Xīnjiāng"),
}


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    return tee_chain(tmp_path / "h", clock=Clock("2025-06-01"))


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_hidden_characters_are_refused_naming_the_field(chain: Any, name: str) -> None:
    size = chain.ledger.size
    with pytest.raises(LedgerError) as info:
        chain.b.origin(
            FARM, "C-X", "cotton", "1", "kg", country="CN", region=HIDDEN[name], produced_on="2025-06-01"
        )
    e = info.value
    assert (e.code, e.status, e.field) == ("invalid-field", 400, "statement.body.origin.region")
    assert ("NFC" if name == "not-nfc" else "U+") in e.message
    assert chain.ledger.size == size


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.transform(
            MILL, "spin\u200bning", "2025-06-01", [("X", "1", "kg")], [("Y", "y", "1", "kg")]
        ),
        lambda b: b.product(BRAND, "09506000134352", "Z1", "Organic\u202e tee", [("TEE-1", "1", "pcs")]),
        lambda b: b.product(
            BRAND, "09506000134352", "Z1", "Tee", [("TEE-1", "1", "pcs")], description="a\u2066b"
        ),
        lambda b: b.revoke(MILL, 3, "mis\u00adtake"),
    ],
)
def test_every_text_field_is_checked(chain: Any, call: Any) -> None:
    with pytest.raises(LedgerError) as info:
        call(chain.b)
    assert info.value.code == "invalid-field" and "U+" in info.value.message


def test_plain_text_still_passes() -> None:
    for ok in ("Xīnjiāng", "Côte d'Ivoire", "Ürümqi", "新疆", "Gujarat, near Kutch", "Шыңжаң"):
        assert refusal(ok) is None, ok
    assert refusal("line one\nline two\ttab", multiline=True) is None
    assert refusal("line one\nline two") is not None


def test_confusable_skeletons() -> None:
    assert skeleton("Xinjiаng") == skeleton("Xinjiang")  # Cyrillic а
    assert skeleton("XІnjiang") == skeleton("XInjiang")  # Cyrillic І
    for lookalike in (
        "Xinjiаng",
        "Хinjiang",
        "Xinjiang Uygur",
        "XINJIANG",
        "Xin jiang",
        "Xin-Jiang",
        "xīnjiāng",
    ):
        assert names_match(lookalike, "Xinjiang"), lookalike
    for other in ("Gujarat", "Xining", "Jiangxi", "Jiangsu"):
        assert not names_match(other, "Xinjiang"), other


def test_confusable_region_is_a_serious_finding(chain: Any) -> None:
    """Attack 4: a Cyrillic 'а' in "Xinjiаng" is accepted at append (it is a letter), and the
    trace matches it on its skeleton."""
    write_policy(chain.home, high_risk_regions=XINJIANG)
    assert trace_product(chain.ledger, chain.gtin, chain.batch).verdict == "compliant"
    b = chain.b
    for n, region in enumerate(["Xinjiаng", "Хinjiang", "Xin jiang"]):
        lot, batch = f"COT-C{n}", f"B-C{n}"
        b.origin(FARM, lot, "seed cotton", "10", "kg", country="CN", region=region, produced_on="2025-06-01")
        b.ship(FARM, lot, "10", "kg", KNITTER, "2025-06-01")
        b.transform(KNITTER, "knitting", "2025-06-01", [(lot, "10", "kg")], [(f"T{n}", "tee", "10", "pcs")])
        b.ship(KNITTER, f"T{n}", "10", "pcs", BRAND, "2025-06-01")
        b.product(BRAND, chain.gtin, batch, "Organic tee", [(f"T{n}", "10", "pcs")])
        t = trace_product(chain.ledger, chain.gtin, batch).to_json()
        assert t["verdict"] == "non-compliant", region
        (f,) = [f for f in t["findings"] if f["code"] == "high-risk-origin"]
        assert f["party"] == FARM and "UFLPA" in f["message"] and "Kutch Cotton Growers" in f["message"]


def test_origin_outside_the_producers_country(chain: Any) -> None:
    """A farm registered in CN declares its origin as KZ/Xinjiang: flagged, and Xinjiang is
    judged as in CN."""
    write_policy(chain.home, high_risk_regions=XINJIANG)
    b = chain.b
    b.party("kashgar-farm", "Kashgar Cotton", "farm", "CN")
    b.origin(
        "kashgar-farm",
        "COT-K",
        "seed cotton",
        "10",
        "kg",
        country="KZ",
        region="Xinjiang",
        produced_on="2025-06-01",
    )
    b.ship("kashgar-farm", "COT-K", "10", "kg", KNITTER, "2025-06-01")
    b.transform(KNITTER, "knitting", "2025-06-01", [("COT-K", "10", "kg")], [("TK", "tee", "10", "pcs")])
    b.ship(KNITTER, "TK", "10", "pcs", BRAND, "2025-06-01")
    b.product(BRAND, chain.gtin, "B-K", "Organic tee", [("TK", "10", "pcs")])
    t = trace_product(chain.ledger, chain.gtin, "B-K").to_json()
    got = {(f["code"], f["severity"], f["party"]) for f in t["findings"]}
    assert ("origin-country-mismatch", "attention", "kashgar-farm") in got
    assert ("high-risk-origin", "serious", "kashgar-farm") in got
    mismatch = next(f for f in t["findings"] if f["code"] == "origin-country-mismatch")
    assert "KZ" in mismatch["message"] and "registered in CN" in mismatch["message"]


def test_a_high_risk_region_under_another_country(chain: Any) -> None:
    """A farm registered in KZ declaring KZ/Xinjiang: the region is CN's in the policy."""
    write_policy(chain.home, high_risk_regions=XINJIANG)
    b = chain.b
    b.party("ili-farm", "Ili Valley Cotton", "farm", "KZ")
    b.origin(
        "ili-farm",
        "COT-I",
        "seed cotton",
        "10",
        "kg",
        country="KZ",
        region="Xinjiang",
        produced_on="2025-06-01",
    )
    b.ship("ili-farm", "COT-I", "10", "kg", KNITTER, "2025-06-01")
    b.transform(KNITTER, "knitting", "2025-06-01", [("COT-I", "10", "kg")], [("TI", "tee", "10", "pcs")])
    b.ship(KNITTER, "TI", "10", "pcs", BRAND, "2025-06-01")
    b.product(BRAND, chain.gtin, "B-I", "Organic tee", [("TI", "10", "pcs")])
    t = trace_product(chain.ledger, chain.gtin, "B-I").to_json()
    (f,) = [f for f in t["findings"] if f["code"] != "no-attestation"]  # the new farm is unaudited
    assert (f["code"], f["severity"], f["party"]) == ("high-risk-region-elsewhere", "attention", "ili-farm")
    assert "Xinjiang (CN)" in f["message"] and "UFLPA" in f["message"] and "declares it in KZ" in f["message"]
