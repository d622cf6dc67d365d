"""SPEC §6-§7: the refusals that depend on the ledger's state, and what revocation and key
rotation do to that state.

Each refusal checks the error's code, HTTP status, that its message names the field at fault,
and that the ledger did not change (size, root, latest checkpoint, every table).
The ``stocked`` ledger (see conftest): entries 1-8 register one party per role; then
farm-a grows 1000 kg of cot-1 (390 kg left with it), proc-a holds 100 kg of cot-1, make-a holds
100 kg of yarn-1 and 200 pcs of tee-1, brand-a 800 pcs of tee-1, trade-a 10 kg of cot-1.
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import format_time
from ledger.crypto.keys import PrivateKey
from ledger.demo.builder import Builder
from ledger.model.fields import ILO_INDICATORS, ROLES
from ledger.model.identity import digest

GTIN = "09506000134352"
OTHER_GTIN = "05901234123457"
FRESH_KEY = PrivateKey.from_seed(b"\x09" * 32)

PARTY_OF = {
    "operator": "operator",
    "farm": "farm-a",
    "mine": "mine-a",
    "processor": "proc-a",
    "manufacturer": "make-a",
    "trader": "trade-a",
    "brand": "brand-a",
    "auditor": "audit-a",
}
assert set(PARTY_OF) == set(ROLES)


def envelope(b: Builder, kind: str, issuer: str, body: dict[str, Any], **kw: Any):
    """A signed envelope (validated: its shape is right) that is not appended yet."""
    return b.envelope(kind, issuer, body, **kw)


def origin_body(lot: str, amount: str = "100", unit: str = "kg") -> dict[str, Any]:
    return {
        "lot": lot,
        "material": "cotton",
        "quantity": {"amount": amount, "unit": unit},
        "origin": {"country": "IN"},
        "produced_on": "2025-05-20",
        "certifications": [],
    }


def ship_body(lot: str, amount: str, unit: str, to: str) -> dict[str, Any]:
    return {"lot": lot, "amount": amount, "unit": unit, "to": to, "shipped_on": "2025-05-21"}


def product_body(gtin: str, batch: str, lots: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "gtin": gtin,
        "batch": batch,
        "name": "Organic tee",
        "lots": [{"lot": lot, "amount": a, "unit": u} for lot, a, u in lots],
    }


def transform_body(inputs: list[tuple[str, str, str]], outputs: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "process": "spinning",
        "date": "2025-05-22",
        "inputs": [{"lot": lot, "amount": a, "unit": u} for lot, a, u in inputs],
        "outputs": [{"lot": lot, "material": "yarn", "amount": a, "unit": u} for lot, a, u in outputs],
    }


def attestation_body(facility: str) -> dict[str, Any]:
    return {
        "facility": facility,
        "standard": "amfori BSCI",
        "audit_date": "2025-05-01",
        "valid_until": "2026-05-01",
        "outcome": "pass",
        "indicators": dict.fromkeys(ILO_INDICATORS, "absent"),
        "findings": [],
        "evidence": [],
    }


def inception_body(pid: str, key: PrivateKey, role: str = "farm") -> dict[str, Any]:
    return {
        "party": pid,
        "name": pid.title(),
        "role": role,
        "country": "IN",
        "identifiers": {},
        "keys": [key.public.b64],
        "next": [digest(PrivateKey.from_seed(b"\x08" * 32).public.raw)],
    }


# -- who signs: issuer, key, signature ------------------------------------------------------


def test_issuer_not_registered_is_refused(cast, stocked, sign_raw, expect_refusal):
    st = cast.statement("material-origin", "farm-z", origin_body("cot-9"))
    expect_refusal(cast.ledger, sign_raw(st, FRESH_KEY), "unknown-issuer", 403, "statement.issuer")


KEYS_NOT_THE_ISSUERS = {
    "another-partys-key": lambda b: b.key_for("brand-a"),
    "the-operators-key": lambda b: b.key_for("operator"),
    "an-unregistered-key": lambda b: FRESH_KEY,
}


@pytest.mark.parametrize("key", KEYS_NOT_THE_ISSUERS.values(), ids=KEYS_NOT_THE_ISSUERS.keys())
def test_key_not_the_issuers_is_refused(cast, stocked, expect_refusal, key):
    env = envelope(cast, "material-origin", "farm-a", origin_body("cot-9"), key=key(cast))
    expect_refusal(cast.ledger, env, "unknown-key", 403, "signature.key_id")


def test_retired_key_is_refused_after_rotation(cast, stocked, expect_refusal):
    old = cast.key_for("farm-a")
    rotation = cast.rotate("farm-a")
    env = envelope(cast, "material-origin", "farm-a", origin_body("cot-9"), key=old)
    err = expect_refusal(cast.ledger, env, "key-not-active", 403, "signature.key_id")
    assert f"entry {rotation}" in err.message


def _bad_signatures(b: Builder, sign_raw) -> dict[str, dict[str, Any]]:
    key = b.key_for("farm-a")
    st = b.statement("material-origin", "farm-a", origin_body("cot-9"))
    other = b.statement("material-origin", "farm-a", origin_body("cot-8"))
    good = sign_raw(st, key)
    changed = sign_raw(st, key)
    changed["statement"] = dict(st, body=origin_body("cot-9", amount="1000"))
    flipped = sign_raw(st, key)
    sig = bytearray(base64.b64decode(flipped["signature"]["sig"]))
    sig[10] ^= 1
    flipped["signature"]["sig"] = base64.b64encode(bytes(sig)).decode()
    return {
        # the signature of another statement by the same key
        "another-statement": good | {"statement": other},
        # the statement was changed after it was signed
        "changed-after-signing": changed,
        "one-bit-flipped": flipped,
        # domain separation (SPEC §4): the bare JCS bytes signed, without the prefix
        "no-domain-prefix": sign_raw(st, key, prefix=b""),
        "other-domain-prefix": sign_raw(st, key, prefix=b"provenance-ledger/v1 checkpoint\n"),
        # signed by brand-a's key but naming farm-a's key id
        "someone-elses-signature": sign_raw(st, b.key_for("brand-a"), key_id=key.public.key_id),
    }


BAD_SIGNATURE_CASES = (
    "another-statement",
    "changed-after-signing",
    "one-bit-flipped",
    "no-domain-prefix",
    "other-domain-prefix",
    "someone-elses-signature",
)


@pytest.mark.parametrize("case", BAD_SIGNATURE_CASES)
def test_bad_signature_is_refused(cast, stocked, sign_raw, expect_refusal, case):
    env = _bad_signatures(cast, sign_raw)[case]
    expect_refusal(cast.ledger, env, "bad-signature", 403, "signature.sig")


# -- replay and the clock -------------------------------------------------------------------


def test_replayed_envelope_is_refused_with_the_existing_seq(cast, stocked, submit, expect_refusal):
    env = envelope(cast, "material-origin", "farm-a", origin_body("cot-9"))
    seq = submit(cast.ledger, env).entry.seq
    err = expect_refusal(cast.ledger, env.to_json(), "replay", 409, "statement.id")
    assert err.to_json()["error"]["seq"] == seq
    assert err.extra["seq"] == seq


def test_same_id_with_other_content_is_a_replay(cast, stocked, sign_raw, submit, expect_refusal):
    first = cast.statement("material-origin", "farm-a", origin_body("cot-9"))
    seq = submit(cast.ledger, sign_raw(first, cast.key_for("farm-a"))).entry.seq
    second = dict(first, body=origin_body("cot-10"))
    err = expect_refusal(cast.ledger, sign_raw(second, cast.key_for("farm-a")), "replay", 409, "statement.id")
    assert err.to_json()["error"]["seq"] == seq


def test_same_id_from_another_issuer_is_not_a_replay(cast, stocked, sign_raw, submit):
    first = cast.statement("material-origin", "farm-a", origin_body("cot-9"))
    submit(cast.ledger, sign_raw(first, cast.key_for("farm-a")))
    second = dict(first, issuer="mine-a", body=origin_body("ore-9"))
    submit(cast.ledger, sign_raw(second, cast.key_for("mine-a")))


def test_replay_inside_one_batch_names_the_first(cast, stocked):
    env = envelope(cast, "material-origin", "farm-a", origin_body("cot-9"))
    first, second = cast.ledger.append([env, env])
    assert second.code == "replay" and second.status == 409
    assert second.to_json()["error"]["seq"] == first.entry.seq


def _at(clock, **delta: float) -> str:
    return format_time(clock.now + dt.timedelta(**delta))


FUTURE_TIMES = {
    "one-second-over": {"minutes": 5, "seconds": 1},
    "one-millisecond-over": {"minutes": 5, "milliseconds": 1},
    "one-day-ahead": {"days": 1},
}


@pytest.mark.parametrize("delta", FUTURE_TIMES.values(), ids=FUTURE_TIMES.keys())
def test_issued_more_than_five_minutes_ahead_is_refused(
    cast, stocked, clock, sign_raw, expect_refusal, delta
):
    st = cast.statement("material-origin", "farm-a", origin_body("cot-9"))
    st["issued_at"] = _at(clock, **delta)
    err = expect_refusal(
        cast.ledger, sign_raw(st, cast.key_for("farm-a")), "issued-in-future", 422, "statement.issued_at"
    )
    assert st["issued_at"] in err.message


PAST_OR_NEAR_TIMES = {"exactly-five-minutes": {"minutes": 5}, "now": {}, "a-year-ago": {"days": -365}}


@pytest.mark.parametrize("delta", PAST_OR_NEAR_TIMES.values(), ids=PAST_OR_NEAR_TIMES.keys())
def test_issued_at_up_to_five_minutes_ahead_is_accepted(cast, stocked, clock, sign_raw, submit, delta):
    st = cast.statement("material-origin", "farm-a", origin_body("cot-9"))
    st["issued_at"] = _at(clock, **delta)
    submit(cast.ledger, sign_raw(st, cast.key_for("farm-a")))


def test_the_future_is_judged_by_the_ledgers_clock(cast, stocked, clock, sign_raw, submit, expect_refusal):
    st = cast.statement("material-origin", "farm-a", origin_body("cot-9"))
    st["issued_at"] = _at(clock, hours=1)
    env = sign_raw(st, cast.key_for("farm-a"))
    expect_refusal(cast.ledger, env, "issued-in-future", 422, "statement.issued_at")
    clock.advance(minutes=55)
    submit(cast.ledger, env)


# -- roles ----------------------------------------------------------------------------------

# SPEC §6, written out independently of rules.SIGNERS.
ALLOWED = {
    "genesis": set(),  # entry 0 only
    "admission": {"operator"},
    "suspension": {"operator"},
    "reinstatement": {"operator"},
    "labor-attestation": {"auditor"},  # or the facility itself: see the self-assessment test
    "material-origin": {"farm", "mine", "processor"},
    "transformation": {"farm", "mine", "processor", "manufacturer"},
    "shipment": {"farm", "mine", "processor", "manufacturer", "trader", "brand"},
    "product": {"brand"},
}


def role_body(b: Builder, kind: str, issuer: str) -> dict[str, Any]:
    return {
        "genesis": lambda: {
            "origin": b.ledger.origin,
            "name": "again",
            "key": b.key_for(issuer).public.b64,
            "next": [digest(FRESH_KEY.public.raw)],
        },
        "admission": lambda: {"party": "farm-a", "inception": 1, "role": "farm"},
        "suspension": lambda: {"party": "brand-b", "reason": "test"},
        "reinstatement": lambda: {"party": "brand-b", "reason": "test"},
        "labor-attestation": lambda: attestation_body("proc-a" if issuer == "farm-a" else "farm-a"),
        "material-origin": lambda: origin_body("new-lot"),
        "transformation": lambda: transform_body([("cot-1", "1", "kg")], [("new-out", "1", "kg")]),
        "shipment": lambda: ship_body("cot-1", "1", "kg", "proc-a"),
        "product": lambda: product_body(GTIN, "B1", [("tee-1", "1", "pcs")]),
    }[kind]()


ROLE_REFUSALS = [(kind, role) for kind, allowed in ALLOWED.items() for role in ROLES if role not in allowed]


@pytest.mark.parametrize(("kind", "role"), ROLE_REFUSALS, ids=[f"{k}-by-{r}" for k, r in ROLE_REFUSALS])
def test_role_not_allowed_to_sign_is_refused(cast, stocked, expect_refusal, kind, role):
    issuer = PARTY_OF[role]
    env = envelope(cast, kind, issuer, role_body(cast, kind, issuer))
    field = "statement.type" if kind == "genesis" else "statement.issuer"
    expect_refusal(cast.ledger, env, "role-not-allowed", 403, field)


ROLE_ACCEPTED = [
    ("material-origin", "mine", lambda b: origin_body("ore-1", "2.5", "t")),
    ("material-origin", "processor", lambda b: origin_body("recycled-1")),
    ("transformation", "farm", lambda b: transform_body([("cot-1", "100", "kg")], [("lint-1", "35", "kg")])),
    ("shipment", "trader", lambda b: ship_body("cot-1", "10", "kg", "proc-a")),
    ("shipment", "brand", lambda b: ship_body("tee-1", "100", "pcs", "trade-a")),
    ("labor-attestation", "auditor", lambda b: attestation_body("make-a")),
    ("labor-attestation", "manufacturer", lambda b: attestation_body("make-a")),  # self-assessment
    ("admission", "operator", lambda b: {"party": "farm-a", "inception": 1, "role": "farm"}),
    ("suspension", "operator", lambda b: {"party": "brand-b", "reason": "test"}),
]


@pytest.mark.parametrize(
    ("kind", "role", "body"), ROLE_ACCEPTED, ids=[f"{k}-by-{r}" for k, r, _ in ROLE_ACCEPTED]
)
def test_role_allowed_to_sign_is_accepted(cast, stocked, submit, kind, role, body):
    submit(cast.ledger, envelope(cast, kind, PARTY_OF[role], body(cast)))


# -- parties --------------------------------------------------------------------------------

# (the other identity refusals are in test_identity.py)
INCEPTION_REFUSALS = [
    ("incept-operator", "operator", lambda b: FRESH_KEY, "party-exists", 422, "statement.body.party"),
    ("second-operator", "op-two", lambda b: FRESH_KEY, "invalid-field", 400, "statement.body.role"),
    (
        "key-of-another-party",
        "farm-new",
        lambda b: b.key_for("farm-a"),
        "key-taken",
        422,
        "statement.body.keys[0]",
    ),
    ("operator-key", "farm-new", lambda b: b.key_for("operator"), "key-taken", 422, "statement.body.keys[0]"),
]


@pytest.mark.parametrize(
    ("pid", "key", "code", "status", "field"),
    [c[1:] for c in INCEPTION_REFUSALS],
    ids=[c[0] for c in INCEPTION_REFUSALS],
)
def test_inception_is_refused(cast, stocked, expect_refusal, sign_raw, pid, key, code, status, field):
    k = key(cast)
    body = inception_body(pid, k, role="operator" if pid == "op-two" else "farm")
    expect_refusal(cast.ledger, sign_raw(cast.statement("inception", pid, body), k), code, status, field)


# -- lots, custody, mass balance, units -----------------------------------------------------

LOT_REFUSALS = [
    # (id, issuer, type, body, code, field)
    (
        "origin-of-existing-lot",
        "farm-a",
        "material-origin",
        origin_body("cot-1"),
        "lot-exists",
        "statement.body.lot",
    ),
    (
        "origin-of-anothers-lot",
        "mine-a",
        "material-origin",
        origin_body("yarn-1"),
        "lot-exists",
        "statement.body.lot",
    ),
    (
        "output-is-existing-lot",
        "proc-a",
        "transformation",
        transform_body([("cot-1", "1", "kg")], [("tee-1", "1", "kg")]),
        "lot-exists",
        "statement.body.outputs[0].lot",
    ),
    (
        "second-output-is-existing-lot",
        "proc-a",
        "transformation",
        transform_body([("cot-1", "1", "kg")], [("new-1", "1", "kg"), ("yarn-1", "1", "kg")]),
        "lot-exists",
        "statement.body.outputs[1].lot",
    ),
    (
        "ship-lot-never-held",
        "farm-a",
        "shipment",
        ship_body("yarn-1", "1", "kg", "proc-a"),
        "no-custody",
        "statement.body.lot",
    ),
    (
        "ship-lot-of-a-stranger",
        "mine-a",
        "shipment",
        ship_body("cot-1", "1", "kg", "proc-a"),
        "no-custody",
        "statement.body.lot",
    ),
    (
        "transform-lot-not-held",
        "proc-a",
        "transformation",
        transform_body([("tee-1", "1", "pcs")], [("new-1", "1", "kg")]),
        "no-custody",
        "statement.body.inputs[0].lot",
    ),
    (
        "product-of-lot-not-held",
        "brand-b",
        "product",
        product_body(GTIN, "B1", [("tee-1", "1", "pcs")]),
        "no-custody",
        "statement.body.lots[0].lot",
    ),
    (
        "ship-unknown-lot",
        "farm-a",
        "shipment",
        ship_body("cot-404", "1", "kg", "proc-a"),
        "unknown-lot",
        "statement.body.lot",
    ),
    (
        "ship-more-than-held",
        "farm-a",
        "shipment",
        ship_body("cot-1", "390.000001", "kg", "proc-a"),
        "insufficient-balance",
        "statement.body.amount",
    ),
    (
        "receiver-ships-more-than-received",
        "trade-a",
        "shipment",
        ship_body("cot-1", "11", "kg", "proc-a"),
        "insufficient-balance",
        "statement.body.amount",
    ),
    (
        "transform-more-than-held",
        "proc-a",
        "transformation",
        transform_body([("cot-1", "100.5", "kg")], [("new-1", "1", "kg")]),
        "insufficient-balance",
        "statement.body.inputs[0].amount",
    ),
    (
        "product-more-than-held",
        "brand-a",
        "product",
        product_body(GTIN, "B1", [("tee-1", "801", "pcs")]),
        "insufficient-balance",
        "statement.body.lots[0].amount",
    ),
    (
        "ship-in-other-unit",
        "farm-a",
        "shipment",
        ship_body("cot-1", "0.1", "t", "proc-a"),
        "unit-mismatch",
        "statement.body.unit",
    ),
    (
        "ship-unit-case",
        "farm-a",
        "shipment",
        ship_body("cot-1", "1", "KG", "proc-a"),
        "unit-mismatch",
        "statement.body.unit",
    ),
    (
        "transform-in-other-unit",
        "proc-a",
        "transformation",
        transform_body([("cot-1", "1", "g")], [("new-1", "1", "kg")]),
        "unit-mismatch",
        "statement.body.inputs[0].unit",
    ),
    (
        "product-in-other-unit",
        "brand-a",
        "product",
        product_body(GTIN, "B1", [("tee-1", "1", "kg")]),
        "unit-mismatch",
        "statement.body.lots[0].unit",
    ),
    (
        "ship-to-unknown-party",
        "farm-a",
        "shipment",
        ship_body("cot-1", "1", "kg", "nobody-x"),
        "unknown-party",
        "statement.body.to",
    ),
    (
        "attest-unknown-facility",
        "audit-a",
        "labor-attestation",
        attestation_body("nobody-x"),
        "unknown-party",
        "statement.body.facility",
    ),
]


@pytest.mark.parametrize(
    ("issuer", "kind", "body", "code", "field"),
    [c[1:] for c in LOT_REFUSALS],
    ids=[c[0] for c in LOT_REFUSALS],
)
def test_lot_rule_is_enforced(cast, stocked, expect_refusal, issuer, kind, body, code, field):
    env = envelope(cast, kind, issuer, body)
    expect_refusal(cast.ledger, env, code, 422, field)


SHIP_TO_REFUSALS = {"to-self": "farm-a", "to-the-operator": "operator", "to-an-auditor": "audit-a"}


@pytest.mark.parametrize("to", SHIP_TO_REFUSALS.values(), ids=SHIP_TO_REFUSALS.keys())
def test_shipment_to_a_party_that_holds_no_goods_is_refused(cast, stocked, expect_refusal, to):
    env = envelope(cast, "shipment", "farm-a", ship_body("cot-1", "1", "kg", to))
    expect_refusal(cast.ledger, env, "invalid-field", 400, "statement.body.to")


def test_attestation_of_the_operator_is_refused(cast, stocked, expect_refusal):
    env = envelope(cast, "labor-attestation", "audit-a", attestation_body("operator"))
    expect_refusal(cast.ledger, env, "invalid-field", 400, "statement.body.facility")


def test_mass_balance_is_exact_decimal(cast, stocked, submit, expect_refusal):
    """0.1 + 0.2 is 0.3 exactly: no binary floating point anywhere."""
    b, led = cast, cast.ledger
    b.origin("farm-a", "dec-1", "cotton", "0.6", "kg", country="IN", produced_on="2025-05-20")
    b.ship("farm-a", "dec-1", "0.1", "kg", "trade-a", "2025-05-21")
    b.ship("farm-a", "dec-1", "0.2", "kg", "trade-a", "2025-05-21")
    # trade-a received 0.1 + 0.2: exactly 0.3, so 0.300001 is too much and 0.3 is all of it
    over = envelope(b, "shipment", "trade-a", ship_body("dec-1", "0.300001", "kg", "proc-a"))
    expect_refusal(led, over, "insufficient-balance", 422, "statement.body.amount")
    sent = submit(led, envelope(b, "shipment", "trade-a", ship_body("dec-1", "0.3", "kg", "proc-a")))
    b.receive("proc-a", sent.entry.seq, "2025-05-21")
    # farm-a kept 0.6 - 0.1 - 0.2: exactly 0.3
    over = envelope(b, "shipment", "farm-a", ship_body("dec-1", "0.300001", "kg", "proc-a"))
    expect_refusal(led, over, "insufficient-balance", 422, "statement.body.amount")
    sent = submit(led, envelope(b, "shipment", "farm-a", ship_body("dec-1", "0.3", "kg", "proc-a")))
    b.receive("proc-a", sent.entry.seq, "2025-05-21")
    # both are now empty
    for holder in ("farm-a", "trade-a"):
        crumb = envelope(b, "shipment", holder, ship_body("dec-1", "0.000001", "kg", "proc-a"))
        expect_refusal(led, crumb, "insufficient-balance", 422, "statement.body.amount")
    # and proc-a holds 0.6, to the last millionth
    submit(led, envelope(b, "shipment", "proc-a", ship_body("dec-1", "0.600000", "kg", "make-a")))
    assert verify_ledger(led.conn).ok


def test_large_amounts_stay_exact(cast, stocked, submit, expect_refusal):
    b, led = cast, cast.ledger
    b.origin(
        "mine-a", "ore-big", "ore", "999999999999999.999999", "t", country="CD", produced_on="2025-05-20"
    )
    b.ship("mine-a", "ore-big", "999999999999999.999998", "t", "proc-a", "2025-05-21")
    over = envelope(b, "shipment", "mine-a", ship_body("ore-big", "0.000002", "t", "proc-a"))
    expect_refusal(led, over, "insufficient-balance", 422, "statement.body.amount")
    submit(led, envelope(b, "shipment", "mine-a", ship_body("ore-big", "0.000001", "t", "proc-a")))


# -- products -------------------------------------------------------------------------------


def test_gtin_of_another_brand_is_refused(cast, stocked, expect_refusal):
    b = cast
    b.product("brand-a", GTIN, "B1", "Organic tee", [("tee-1", "100", "pcs")])
    b.ship("brand-a", "tee-1", "100", "pcs", "brand-b", "2025-05-21")
    env = envelope(b, "product", "brand-b", product_body(GTIN, "B2", [("tee-1", "10", "pcs")]))
    err = expect_refusal(b.ledger, env, "gtin-owned", 422, "statement.body.gtin")
    assert "brand-a" in err.message
    # brand-b may declare a GTIN of its own with the same lot
    b.product("brand-b", OTHER_GTIN, "B2", "Relabelled tee", [("tee-1", "10", "pcs")])


def test_gtin_batch_declared_before_is_refused(cast, stocked, submit, expect_refusal):
    b = cast
    first = b.product("brand-a", GTIN, "B1", "Organic tee", [("tee-1", "100", "pcs")])
    env = envelope(b, "product", "brand-a", product_body(GTIN, "B1", [("tee-1", "10", "pcs")]))
    err = expect_refusal(b.ledger, env, "batch-exists", 422, "statement.body.batch")
    assert f"entry {first}" in err.message
    # another batch of the same GTIN is fine, and so is the same batch name on another GTIN
    submit(b.ledger, envelope(b, "product", "brand-a", product_body(GTIN, "B2", [("tee-1", "1", "pcs")])))
    submit(
        b.ledger, envelope(b, "product", "brand-a", product_body(OTHER_GTIN, "B1", [("tee-1", "1", "pcs")]))
    )


# -- revocation -----------------------------------------------------------------------------

REVOCATION_REFUSALS = [
    # (id, issuer, target (a stocked step name, or a seq), code, status)
    # who may revoke is a question of who signs (403, like a role); the rest are rules (422)
    ("someone-elses-entry", "farm-a", "ship_yarn", "revocation-not-allowed", 403),
    ("auditor-revokes-a-shipment", "audit-a", "ship_trader", "revocation-not-allowed", 403),
    ("receiver-revokes-shipment", "trade-a", "ship_trader", "revocation-not-allowed", 403),
    ("genesis-by-operator", "operator", 0, "revocation-refused", 422),
    ("inception-by-operator", "operator", 1, "revocation-refused", 422),
    ("inception-by-the-party", "farm-a", 1, "revocation-refused", 422),
    ("admission-by-the-party", "farm-a", 2, "revocation-not-allowed", 403),
    ("entry-that-does-not-exist", "farm-a", 10_000, "unknown-entry", 422),
]


@pytest.mark.parametrize(
    ("issuer", "target", "code", "status"),
    [c[1:] for c in REVOCATION_REFUSALS],
    ids=[c[0] for c in REVOCATION_REFUSALS],
)
def test_revoking_what_one_may_not_is_refused(cast, stocked, expect_refusal, issuer, target, code, status):
    seq = stocked[target] if isinstance(target, str) else target
    env = envelope(cast, "revocation", issuer, {"entry": seq, "reason": "test"})
    expect_refusal(cast.ledger, env, code, status, "statement.body.entry")


def test_revoking_itself_or_a_later_entry_is_refused(cast, stocked, expect_refusal):
    size = cast.ledger.size
    for target in (size, size + 1):
        env = envelope(cast, "revocation", "farm-a", {"entry": target, "reason": "test"})
        expect_refusal(cast.ledger, env, "unknown-entry", 422, "statement.body.entry")


def test_revoking_twice_is_refused(cast, stocked, expect_refusal):
    first = cast.revoke("farm-a", stocked["ship_trader"], "wrong buyer")
    env = envelope(cast, "revocation", "farm-a", {"entry": stocked["ship_trader"], "reason": "again"})
    err = expect_refusal(cast.ledger, env, "already-revoked", 422, "statement.body.entry")
    assert f"entry {first}" in err.message
    # the operator cannot revoke it a second time either
    env = envelope(cast, "revocation", "operator", {"entry": stocked["ship_trader"], "reason": "x"})
    expect_refusal(cast.ledger, env, "already-revoked", 422, "statement.body.entry")


def test_revoking_a_revocation_is_refused(cast, stocked, expect_refusal):
    revocation = cast.revoke("audit-a", stocked["audit"], "report withdrawn")
    for issuer in ("audit-a", "operator"):
        env = envelope(cast, "revocation", issuer, {"entry": revocation, "reason": "undo"})
        expect_refusal(cast.ledger, env, "revocation-refused", 422, "statement.body.entry")


GOODS_MOVED_ON = {
    "shipment-partly-spun": "ship_cotton",
    "shipment-partly-sewn": "ship_yarn",
    "transformation-output-shipped": "spin",
    "origin-shipped-on": "origin",
}


@pytest.mark.parametrize("target", GOODS_MOVED_ON.values(), ids=GOODS_MOVED_ON.keys())
def test_revocation_is_refused_when_goods_moved_on(cast, stocked, expect_refusal, target):
    issuer = cast.ledger.entry(stocked[target]).statement.issuer
    for who in (issuer, "operator"):
        env = envelope(cast, "revocation", who, {"entry": stocked[target], "reason": "test"})
        err = expect_refusal(cast.ledger, env, "revocation-refused", 422, "statement.body.entry")
        assert "revoke the later entries first" in err.message


@pytest.mark.parametrize("revoker", ["farm-a", "operator"])
def test_revoking_a_shipment_returns_the_goods_to_the_sender(cast, stocked, submit, expect_refusal, revoker):
    b, led = cast, cast.ledger
    b.revoke(revoker, stocked["ship_trader"], "wrong buyer")
    # trade-a has nothing left of cot-1 ...
    env = envelope(b, "shipment", "trade-a", ship_body("cot-1", "0.000001", "kg", "proc-a"))
    expect_refusal(led, env, "insufficient-balance", 422, "statement.body.amount")
    # ... and farm-a has its 390 + 10 kg back, to the last millionth
    env = envelope(b, "shipment", "farm-a", ship_body("cot-1", "400.000001", "kg", "proc-a"))
    expect_refusal(led, env, "insufficient-balance", 422, "statement.body.amount")
    submit(led, envelope(b, "shipment", "farm-a", ship_body("cot-1", "400", "kg", "proc-a")))
    assert verify_ledger(led.conn).ok


def test_revoking_a_product_frees_its_gtin_batch_and_returns_its_lots(cast, stocked, submit, expect_refusal):
    b, led = cast, cast.ledger
    wrong = b.product("brand-a", GTIN, "B1", "Organic tee", [("tee-1", "700", "pcs")])
    again = envelope(b, "product", "brand-a", product_body(GTIN, "B1", [("tee-1", "10", "pcs")]))
    expect_refusal(led, again, "batch-exists", 422, "statement.body.batch")
    b.revoke("brand-a", wrong, "wrong quantity")
    # the corrected product may take the same (gtin, batch), and the 700 pcs came back
    corrected = submit(
        led, envelope(b, "product", "brand-a", product_body(GTIN, "B1", [("tee-1", "750", "pcs")]))
    )
    assert corrected.entry.statement.body["batch"] == "B1"
    env = envelope(b, "shipment", "brand-a", ship_body("tee-1", "50.000001", "pcs", "trade-a"))
    expect_refusal(led, env, "insufficient-balance", 422, "statement.body.amount")
    # the GTIN still belongs to brand-a: the first brand to declare it
    b.ship("brand-a", "tee-1", "50", "pcs", "brand-b", "2025-05-21")
    env = envelope(b, "product", "brand-b", product_body(GTIN, "B9", [("tee-1", "1", "pcs")]))
    expect_refusal(led, env, "gtin-owned", 422, "statement.body.gtin")
    # and the corrected batch cannot be declared a third time
    expect_refusal(led, again, "batch-exists", 422, "statement.body.batch")
    assert verify_ledger(led.conn).ok


def test_revoking_a_transformation_restores_inputs_and_retires_outputs(cast, stocked, submit, expect_refusal):
    b, led = cast, cast.ledger
    spin = b.transform(
        "proc-a", "spinning", "2025-05-20", [("cot-1", "60", "kg")], [("yarn-2", "cotton yarn", "50", "kg")]
    )
    b.revoke("proc-a", spin, "wrong machine")
    # the output lot is gone (its id is free for a correction)
    env = envelope(b, "shipment", "proc-a", ship_body("yarn-2", "1", "kg", "make-a"))
    expect_refusal(led, env, "unknown-lot", 422, "statement.body.lot")
    env = envelope(b, "shipment", "proc-a", ship_body("cot-1", "100.000001", "kg", "make-a"))
    expect_refusal(led, env, "insufficient-balance", 422, "statement.body.amount")
    submit(led, envelope(b, "shipment", "proc-a", ship_body("cot-1", "100", "kg", "make-a")))
    assert verify_ledger(led.conn).ok


def test_revoking_an_untouched_origin_retires_its_lot(cast, stocked, submit, expect_refusal):
    b, led = cast, cast.ledger
    wrong = b.origin("farm-a", "cot-2", "cotton", "500", "kg", country="IN", produced_on="2025-05-20")
    b.revoke("farm-a", wrong, "wrong field")
    env = envelope(b, "shipment", "farm-a", ship_body("cot-2", "1", "kg", "proc-a"))
    expect_refusal(led, env, "unknown-lot", 422, "statement.body.lot")
    # a corrected origin under a new lot id is accepted
    b.origin("farm-a", "cot-2b", "cotton", "450", "kg", country="IN", produced_on="2025-05-20")
    b.ship("farm-a", "cot-2b", "450", "kg", "proc-a", "2025-05-21")
    assert verify_ledger(led.conn).ok


def holdings(led, lot):
    """Who holds what of ``lot``, as the derived state says."""
    rows = led.conn.execute("SELECT party, balance FROM holdings WHERE lot = ?", (lot,)).fetchall()
    return {party: Decimal(balance) for party, balance in rows if Decimal(balance)}


def lot_exists(led, lot):
    return led.conn.execute("SELECT 1 FROM lots WHERE lot = ?", (lot,)).fetchone() is not None


def test_origin_can_be_revoked_once_its_shipments_are_revoked(cast, stocked):
    b, led = cast, cast.ledger
    wrong = b.origin("farm-a", "cot-3", "cotton", "100", "kg", country="IN", produced_on="2025-05-20")
    shipped = b.ship("farm-a", "cot-3", "60", "kg", "proc-a", "2025-05-21")
    assert holdings(led, "cot-3") == {"farm-a": 40, "proc-a": 60}
    b.revoke("farm-a", shipped, "wrong buyer")
    assert holdings(led, "cot-3") == {"farm-a": 100}  # all 100 kg are back with farm-a
    b.revoke("farm-a", wrong, "wrong field")
    assert holdings(led, "cot-3") == {} and not lot_exists(led, "cot-3")
    # the lot id is free again: the correction may carry it
    b.origin("farm-a", "cot-3", "cotton", "90", "kg", country="IN", produced_on="2025-05-20")
    assert holdings(led, "cot-3") == {"farm-a": 90}
    assert verify_ledger(led.conn).ok


def test_transformation_can_be_revoked_once_its_output_shipments_are_revoked(cast, stocked):
    b, led = cast, cast.ledger
    before = holdings(led, "cot-1")
    spin = b.transform(
        "proc-a", "spinning", "2025-05-20", [("cot-1", "60", "kg")], [("yarn-3", "cotton yarn", "50", "kg")]
    )
    shipped = b.ship("proc-a", "yarn-3", "50", "kg", "make-a", "2025-05-21")
    assert holdings(led, "yarn-3") == {"make-a": 50}
    assert holdings(led, "cot-1") == before | {"proc-a": before["proc-a"] - 60}
    b.revoke("proc-a", shipped, "wrong buyer")
    assert holdings(led, "yarn-3") == {"proc-a": 50}
    b.revoke("proc-a", spin, "wrong machine")
    assert not lot_exists(led, "yarn-3") and holdings(led, "yarn-3") == {}
    assert holdings(led, "cot-1") == before  # the inputs are back, to the last gram
    assert verify_ledger(led.conn).ok


def test_revoked_attestation_cannot_be_revoked_again(cast, stocked, expect_refusal):
    cast.revoke("operator", stocked["audit"], "auditor's licence withdrawn")
    env = envelope(cast, "revocation", "audit-a", {"entry": stocked["audit"], "reason": "x"})
    expect_refusal(cast.ledger, env, "already-revoked", 422, "statement.body.entry")


# -- key rotation ---------------------------------------------------------------------------


def test_key_rotation(cast, stocked, submit, expect_refusal):
    """Old statements stay valid; after rotation the old key is refused and the new one works."""
    b, led = cast, cast.ledger
    old = b.key_for("farm-a")
    before = b.origin("farm-a", "cot-r1", "cotton", "10", "kg", country="IN", produced_on="2025-05-20")
    rotation = b.rotate("farm-a")
    new = b.keys["farm-a"]
    stale = envelope(b, "material-origin", "farm-a", origin_body("cot-r2"), key=old)
    expect_refusal(led, stale, "key-not-active", 403, "signature.key_id")
    after = submit(led, envelope(b, "material-origin", "farm-a", origin_body("cot-r2"), key=new))
    assert after.entry.envelope.key_id == new.public.key_id
    assert led.entry(before).envelope.key_id == old.public.key_id
    # the old statements still verify, each against the key active at its seq
    report = verify_ledger(led.conn)
    assert report.ok, report.problems
    assert rotation < after.entry.seq


def test_rotation_to_two_keys_keeps_both_active(cast, stocked, submit):
    b, led = cast, cast.ledger
    one, two = PrivateKey.from_seed(b"\x0c" * 32), PrivateKey.from_seed(b"\x1c" * 32)
    b.rotate("farm-a", next_keys=[one, two])
    b.rotate("farm-a")  # reveals both committed keys
    active = led.conn.execute("SELECT count(*) FROM keys WHERE party = 'farm-a' AND until_seq IS NULL")
    assert active.fetchone()[0] == 2
    submit(led, envelope(b, "material-origin", "farm-a", origin_body("cot-k1"), key=one))
    submit(led, envelope(b, "material-origin", "farm-a", origin_body("cot-k2"), key=two))
    assert verify_ledger(led.conn).ok


def test_retired_key_never_comes_back(cast, stocked, expect_refusal):
    """v2: a rotation commits only digests never used before, so a retired key cannot be
    reinstated (v1 let the operator re-register it; the contract changed)."""
    b, led = cast, cast.ledger
    old = b.key_for("farm-a")
    b.rotate("farm-a")
    env, _, _ = b.rotation_envelope("farm-a", next_keys=[old])
    expect_refusal(led, env, "digest-reused", 422, "statement.body.next[0]")
    stale = envelope(b, "material-origin", "farm-a", origin_body("cot-k1"), key=old)
    expect_refusal(led, stale, "key-not-active", 403, "signature.key_id")
    assert verify_ledger(led.conn).ok


def test_rotation_inside_a_batch_applies_from_its_seq(cast, stocked):
    """In one batch: statement with the old key, rotation, old key again, new key."""
    b, led = cast, cast.ledger
    old = b.key_for("farm-a")
    first = envelope(b, "material-origin", "farm-a", origin_body("cot-b1"), key=old)
    rotation, new, _ = b.rotation_envelope("farm-a")
    stale = envelope(b, "material-origin", "farm-a", origin_body("cot-b2"), key=old)
    fresh = envelope(b, "material-origin", "farm-a", origin_body("cot-b3"), key=new)
    results = led.append([first, rotation, stale, fresh])
    assert [getattr(r, "code", "ok") for r in results] == ["ok", "ok", "key-not-active", "ok"]
    assert verify_ledger(led.conn).ok


def test_party_can_change_role(cast, stocked, submit, expect_refusal):
    b, led = cast, cast.ledger
    b.admit("trade-a", "brand", 9)
    submit(led, envelope(b, "product", "trade-a", product_body(OTHER_GTIN, "T1", [("cot-1", "1", "kg")])))
    env = envelope(b, "shipment", "trade-a", ship_body("cot-1", "1", "kg", "proc-a"))
    submit(led, env)  # a brand may still ship
    assert verify_ledger(led.conn).ok


def test_retrying_a_landed_envelope_after_its_key_was_rotated_answers_replay(
    cast, stocked, submit, expect_refusal
):
    """Idempotency outlives rotation: the retry learns where its statement landed (409 + seq)."""
    b, led = cast, cast.ledger
    landed = envelope(b, "material-origin", "farm-a", origin_body("cot-retry"))
    seq = submit(led, landed).entry.seq
    b.rotate("farm-a")
    err = expect_refusal(led, landed, "replay", 409, "statement.id")
    assert err.to_json()["error"]["seq"] == seq


def test_a_revoked_origins_lot_id_can_be_taken_by_its_correction(cast, stocked, submit):
    """The correction carries the same lot id, so a trace finds the two side by side."""
    b, led = cast, cast.ledger
    wrong = b.origin("farm-a", "cot-3", "cotton", "500", "kg", country="PK", produced_on="2025-05-20")
    b.revoke("farm-a", wrong, "wrong country")
    fixed = b.origin("farm-a", "cot-3", "cotton", "500", "kg", country="IN", produced_on="2025-05-20")
    b.ship("farm-a", "cot-3", "500", "kg", "proc-a", "2025-05-21")
    assert led.conn.execute("SELECT seq FROM lots WHERE lot = 'cot-3'").fetchone()[0] == fixed
    assert verify_ledger(led.conn).ok
