"""Exact numbers and GS1 names (ledger.formats.numbers, ids): properties and published forms."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidField
from ledger.formats.ids import Names, Resolver, lgtin, parse_gln, parse_lgtin
from ledger.formats.numbers import Number, amount_text, dumps, parse
from ledger.model.fields import AMOUNT

AMOUNTS = st.from_regex(AMOUNT, fullmatch=True)


@given(AMOUNTS)
def test_an_amount_goes_out_as_a_number_and_comes_back_the_same(amount: str) -> None:
    text = dumps({"quantity": Number(amount)}, indent=None)
    assert text == '{"quantity":' + amount + "}"
    back = parse(text)["quantity"]
    assert Decimal(back) == Decimal(amount)
    whole, _, fraction = amount.partition(".")
    fraction = fraction.rstrip("0")
    assert amount_text(back, "q") == (f"{whole}.{fraction}" if fraction else whole)
    assert json.loads(text)  # any JSON reader takes it


@pytest.mark.parametrize(
    "text, want",
    [("10", "10"), ("10.50", "10.5"), ("1E+3", "1000"), ("0.000001", "0.000001"), ("-0", "0"), ("2.0", "2")],
)
def test_numbers_read_back_in_the_ledgers_form(text: str, want: str) -> None:
    assert amount_text(parse(text), "q") == want


@pytest.mark.parametrize("text", ["0.0000001", "-1", "1e16", "1234567890123456", "true", '"5"'])
def test_numbers_the_ledger_cannot_hold_exactly_are_refused(text: str) -> None:
    with pytest.raises(InvalidField) as e:
        amount_text(parse(text), "quantityList[0]")
    assert e.value.field == "quantityList[0]"


def test_floats_are_never_written() -> None:
    with pytest.raises(TypeError):
        dumps({"x": 0.1})
    with pytest.raises(InvalidField):
        Number("1e5")


def test_gs1_keys_in_both_spellings_name_the_same_thing() -> None:
    # EPC URNs (TDS) and GS1 Digital Link URIs for the same GLN and LGTIN.
    assert parse_gln("urn:epc:id:sgln:0614141.07346.1234") == "0614141073467"
    assert parse_gln("urn:epc:id:pgln:0614141.07346") == "0614141073467"
    assert parse_gln("https://id.gs1.org/414/0614141073467") == "0614141073467"
    assert parse_gln("https://example.com/417/0614141073467") == "0614141073467"
    assert parse_gln("https://id.gs1.org/414/0614141073468") is None  # check digit
    assert parse_lgtin("urn:epc:class:lgtin:4012345.012345.998877") == ("04012345123456", "998877")
    assert parse_lgtin("https://id.gs1.org/01/04012345123456/10/998877") == ("04012345123456", "998877")
    assert parse_lgtin(lgtin("04012345123456", 'A/B"%')) == ("04012345123456", 'A/B"%')
    resolve = Resolver({"0614141073467": "buyer"})
    assert resolve.party("https://id.gs1.org/417/0614141073467") == "buyer"
    assert resolve.party("https://other.example/ledger/parties/mill-a") == "mill-a"
    assert resolve.party("urn:epc:id:pgln:4012345.00001") is None
    assert resolve.lot("https://id.gs1.org/01/04012345123456/10/L-7") == "01/04012345123456/10/L-7"
    assert resolve.lot("https://x.example/lots/COT%2F1") == "COT/1"
    with pytest.raises(ValueError, match="pattern"):
        resolve.lot("urn:epc:idpat:sgtin:4012345.066666.*")


def test_an_unknown_company_prefix_falls_back_to_digital_link() -> None:
    gln = "2000000000008"  # prefix 20: restricted circulation, no company prefix
    names = Names("https://l.example", {"p": {"gln": gln}})
    assert (names.party("p"), names.location("p")) == (
        f"https://id.gs1.org/417/{gln}",
        f"https://id.gs1.org/414/{gln}",
    )
    assert parse_gln(names.party("p")) == parse_gln(names.location("p")) == gln
    assert lgtin("02000000000007", "L1") == "https://id.gs1.org/01/02000000000007/10/L1"
