"""Hostile input to the statement validator and the append path.

Random and mutated envelopes must end in exactly one of two ways: appended (and then the
ledger still verifies), or refused with a ``LedgerError`` whose body has the SPEC §10 shape.
Never another exception, never a change to the ledger on refusal.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.audit.verify import verify_ledger
from ledger.crypto import canonical
from ledger.errors import LedgerError
from ledger.model.fields import ILO_INDICATORS
from ledger.model.statements import MAX_ENVELOPE_BYTES, Envelope

STATUSES = {400, 403, 404, 409, 413, 422}

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(["", "\ud800", "0", "-1", "1e3", "12.5", "NaN", "<script>", "a" * 300]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def assert_refusal_shape(err: LedgerError) -> None:
    body = err.to_json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["code"], str) and body["error"]["code"]
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert err.status in STATUSES
    json.dumps(body)  # serialisable


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths(v, (*prefix, i))
    return out


def replace_at(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    value = copy.deepcopy(value)
    target = value
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = new
    return value


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_random_json_is_refused_cleanly(value: Any) -> None:
    try:
        data = json.dumps(value).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        return
    try:
        Envelope.from_bytes(data)
    except LedgerError as err:
        assert_refusal_shape(err)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_envelopes_are_appended_or_refused_cleanly(stocked_ledger, data) -> None:
    led, envelopes = stocked_ledger
    original = data.draw(st.sampled_from(envelopes))
    path = data.draw(st.sampled_from(paths(original)))
    mutated = replace_at(original, path, data.draw(json_values))
    try:
        raw = json.dumps(mutated, ensure_ascii=False).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        return
    size = led.size
    try:
        led.append_one(Envelope.from_bytes(raw))
    except LedgerError as err:
        assert_refusal_shape(err)
        assert led.size == size
    else:
        assert led.size == size + 1


def test_the_fuzzed_ledger_still_verifies(stocked_ledger) -> None:
    led, _ = stocked_ledger
    assert verify_ledger(led.conn).ok


@pytest.fixture
def stocked_ledger(cast, stocked):
    """The ledger of ``stocked`` plus fresh envelopes (not yet appended) of every type."""
    b = cast
    envelopes = [
        b.envelope(
            "material-origin",
            "farm-a",
            {
                "lot": "fuzz-1",
                "material": "cotton",
                "quantity": {"amount": "5", "unit": "kg"},
                "origin": {"country": "IN", "region": "Gujarat", "lat": "22.1", "lon": "71.2"},
                "produced_on": "2025-05-01",
                "certifications": ["GOTS"],
            },
        ).to_json(),
        b.envelope(
            "shipment",
            "farm-a",
            {"lot": "cot-1", "amount": "1", "unit": "kg", "to": "proc-a", "shipped_on": "2025-05-09"},
        ).to_json(),
        b.envelope(
            "transformation",
            "proc-a",
            {
                "process": "spinning",
                "date": "2025-05-09",
                "inputs": [{"lot": "cot-1", "amount": "1", "unit": "kg"}],
                "outputs": [{"lot": "fuzz-yarn", "material": "yarn", "amount": "1", "unit": "kg"}],
            },
        ).to_json(),
        b.envelope(
            "product",
            "brand-a",
            {
                "gtin": "09506000134352",
                "batch": "F1",
                "name": "Tee",
                "lots": [{"lot": "tee-1", "amount": "1", "unit": "pcs"}],
            },
        ).to_json(),
        b.envelope("revocation", "farm-a", {"entry": stocked["ship_trader"], "reason": "typo"}).to_json(),
    ]
    return b.ledger, envelopes


# -- explicit limits --------------------------------------------------------------------------


def test_envelope_over_the_byte_limit_is_too_large() -> None:
    with pytest.raises(LedgerError) as info:
        Envelope.from_bytes(b" " * (MAX_ENVELOPE_BYTES + 1))
    assert (info.value.status, info.value.code) == (413, "too-large")


def test_statement_over_64_kib_is_too_large(cast) -> None:
    env = cast.envelope(
        "labor-attestation",
        "audit-a",
        {
            "facility": "proc-a",
            "standard": "SA8000",
            "audit_date": "2025-01-01",
            "valid_until": "2026-01-01",
            "outcome": "pass",
            "indicators": {k: "absent" for k in ILO_INDICATORS},
            "findings": [],
            "evidence": [],
        },
    ).to_json()
    env["statement"]["body"]["findings"] = ["x" * 1999] * 34  # about 68 KB, each string in bounds
    with pytest.raises(LedgerError) as info:
        Envelope.from_json(env)
    assert (info.value.status, info.value.code) == (413, "too-large")


@pytest.mark.parametrize("depth, ok", [(30, True), (40, False), (5000, False)])
def test_nesting_depth_limit(depth: int, ok: bool) -> None:
    text = "[" * depth + "]" * depth
    if ok:
        canonical.parse(text)
    else:
        with pytest.raises(LedgerError) as info:
            canonical.parse(text)
        assert info.value.code == "malformed"


@pytest.mark.parametrize(
    "field, value",
    [
        ("name", "x" * 201),  # names: 200 characters
        ("lots", [{"lot": f"l{i}", "amount": "1", "unit": "pcs"} for i in range(101)]),  # 100 items
        ("batch", "B" * 21),  # GS1 AI (10): 20 characters
        ("description", "d" * 4001),
    ],
)
def test_string_and_list_limits(cast, field: str, value: Any) -> None:
    env = cast.envelope(
        "product",
        "brand-a",
        {
            "gtin": "09506000134352",
            "batch": "F1",
            "name": "Tee",
            "lots": [{"lot": "tee-1", "amount": "1", "unit": "pcs"}],
        },
    ).to_json()
    env["statement"]["body"][field] = value
    with pytest.raises(LedgerError) as info:
        Envelope.from_json(env)
    assert info.value.status == 400
    assert info.value.field == f"statement.body.{field}"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_statements_signed_by_their_issuer_reach_the_rules(
    stocked_ledger, cast, sign_raw, data
) -> None:
    """Re-signed after mutation, so the validator and the rules (not the signature) decide."""
    led, envelopes = stocked_ledger
    original = data.draw(st.sampled_from(envelopes))["statement"]
    path = data.draw(st.sampled_from([p for p in paths(original) if p and p[0] != "issuer"]))
    mutated = replace_at(original, path, data.draw(json_values))
    mutated["id"] = f"fuzz-{data.draw(st.integers(0, 10**12))}"
    try:
        envelope = sign_raw(mutated, cast.keys[original["issuer"]])
        raw = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
    except (ValueError, TypeError, LedgerError, UnicodeEncodeError):
        return  # not even encodable: nothing a client could send
    size = led.size
    try:
        led.append_one(Envelope.from_bytes(raw))
    except LedgerError as err:
        assert_refusal_shape(err)
        assert err.code != "bad-signature", err.to_json()
        assert led.size == size
    else:
        assert led.size == size + 1
