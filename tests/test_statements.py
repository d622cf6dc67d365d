"""SPEC §4-§7: statement and envelope shapes, and the refusals that depend only on the bytes.

Every refusal goes the way a submission goes (raw bytes -> envelope -> ledger) and checks
the error's code, its HTTP status, that its message names the field at fault, and that the
ledger did not change at all (size, root, latest checkpoint, every table).
Refusals that depend on the ledger's state are in test_rules.py.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from ledger.crypto.canonical import jcs
from ledger.crypto.keys import PrivateKey, b64
from ledger.demo.builder import Builder
from ledger.model.fields import ILO_INDICATORS
from ledger.model.identity import digest
from ledger.model.statements import MAX_ENVELOPE_BYTES, MAX_STATEMENT_BYTES, Envelope, Statement
from ledger.tlog.tiles import MAX_ENTRY_BYTES

DELETE = object()
GTIN = "09506000134352"  # GS1's example GTIN, valid check digit
FRESH_KEY = PrivateKey.from_seed(b"\x07" * 32)
NEXT_KEY = PrivateKey.from_seed(b"\x17" * 32)


def base_statement(b: Builder, seq: dict[str, int], kind: str) -> tuple[dict[str, Any], PrivateKey]:
    """A statement of ``kind`` that the ``stocked`` ledger accepts, and its signer's key."""
    bodies: dict[str, tuple[str, dict[str, Any]]] = {
        "inception": (
            "farm-new",
            {
                "party": "farm-new",
                "name": "New Farm",
                "role": "farm",
                "country": "IN",
                "identifiers": {"gln": "0614141000005"},
                "keys": [FRESH_KEY.public.b64],
                "next": [digest(NEXT_KEY.public.raw)],
            },
        ),
        "labor-attestation": (
            "audit-a",
            {
                "facility": "make-a",
                "standard": "SA8000",
                "audit_date": "2025-05-01",
                "valid_until": "2026-05-01",
                "outcome": "conditional",
                "indicators": dict.fromkeys(ILO_INDICATORS, "absent") | {"excessive_overtime": "present"},
                "workers": 300,
                "findings": ["overtime above 60 h/week"],
                "evidence": [{"name": "report.pdf", "sha256": "ab" * 32}],
            },
        ),
        "material-origin": (
            "farm-a",
            {
                "lot": "cot-9",
                "material": "cotton",
                "quantity": {"amount": "250.5", "unit": "kg"},
                "origin": {"country": "IN", "region": "Gujarat", "lat": "22.3", "lon": "-70.8"},
                "produced_on": "2025-05-10",
                "certifications": ["organic"],
            },
        ),
        "transformation": (
            "proc-a",
            {
                "process": "spinning",
                "date": "2025-05-11",
                "inputs": [{"lot": "cot-1", "amount": "50", "unit": "kg"}],
                "outputs": [{"lot": "yarn-9", "material": "cotton yarn", "amount": "40", "unit": "kg"}],
            },
        ),
        "shipment": (
            "farm-a",
            {
                "lot": "cot-1",
                "amount": "20",
                "unit": "kg",
                "to": "proc-a",
                "shipped_on": "2025-05-12",
            },
        ),
        "product": (
            "brand-a",
            {
                "gtin": GTIN,
                "batch": "B-2025/05",
                "name": "Organic tee",
                "lots": [{"lot": "tee-1", "amount": "100", "unit": "pcs"}],
                "description": "A tee.",
            },
        ),
        "revocation": ("farm-a", {"entry": seq["ship_trader"], "reason": "wrong buyer"}),
    }
    issuer, body = bodies[kind]
    return b.statement(kind, issuer, body), FRESH_KEY if kind == "inception" else b.key_for(issuer)


def mutated(statement: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``statement`` with ``path`` (dots, list indexes as numbers) set to
    ``value``, or removed if ``value`` is DELETE."""
    out = copy.deepcopy(statement)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def field_of(path: str) -> str:
    """The error's field for a statement path: statement.body.inputs[0].lot."""
    parts = ["statement"]
    for part in path.split("."):
        if part.isdigit():
            parts[-1] += f"[{part}]"
        else:
            parts.append(part)
    return ".".join(parts)


TYPES = (
    "inception",
    "labor-attestation",
    "material-origin",
    "transformation",
    "shipment",
    "product",
    "revocation",
)


@pytest.mark.parametrize("kind", TYPES)
def test_base_statements_are_accepted(cast, stocked, submit, sign_raw, kind):
    """Control: each base statement passes, so each refusal below is due to its one change."""
    statement, key = base_statement(cast, stocked, kind)
    appended = submit(cast.ledger, sign_raw(statement, key))
    assert appended.entry.statement.data == statement


# -- malformed bytes and envelopes ----------------------------------------------------------

MALFORMED_JSON = {
    # bytes that are not one strict JSON document: no field to name
    "not-json": b"provenance please",
    "empty": b"",
    "truncated": b'{"statement": {"type": "shipment"',
    "trailing-comma": b'{"statement": {}, "signature": {},}',
    "single-quotes": b"{'statement': {}}",
    "nan": b'{"statement": NaN, "signature": {}}',
    "infinity": b'{"statement": Infinity, "signature": {}}',
    "not-utf8": b'{"statement": "\xff\xfe", "signature": {}}',
    "trailing-garbage": b'{"statement": {}, "signature": {}} x',
}


@pytest.mark.parametrize("data", MALFORMED_JSON.values(), ids=MALFORMED_JSON.keys())
def test_malformed_json_is_refused(ledger, expect_refusal, data):
    expect_refusal(ledger, data, "malformed", 400, None)


MALFORMED_VALUES = {
    # JSON that JCS cannot carry faithfully: the error names where it is
    "big-integer": (b'{"statement": 9007199254740993, "signature": {}}', "statement"),
    "lone-surrogate": (b'{"statement": {"id": "\\ud800"}, "signature": {}}', "statement.id"),
    "too-deep": (b'{"statement": ' + b"[" * 40 + b"]" * 40 + b', "signature": {}}', "statement" + "[0]" * 32),
}


@pytest.mark.parametrize(("data", "field"), MALFORMED_VALUES.values(), ids=MALFORMED_VALUES.keys())
def test_json_outside_what_jcs_carries_is_refused(ledger, expect_refusal, data, field):
    expect_refusal(ledger, data, "malformed", 400, field)


def test_duplicate_key_is_refused_naming_the_key(ledger, expect_refusal):
    data = b'{"statement": {}, "statement": {}, "signature": {}}'
    expect_refusal(ledger, data, "malformed", 400, "statement")


def test_duplicate_key_in_body_names_its_path(cast, stocked, sign_raw, expect_refusal):
    statement, key = base_statement(cast, stocked, "shipment")
    text = json.dumps(sign_raw(statement, key))
    text = text.replace('"amount": "20"', '"amount": "20", "amount": "2000"')
    expect_refusal(cast.ledger, text, "malformed", 400, "statement.body.amount")


def _envelope(cast, stocked, sign_raw) -> dict[str, Any]:
    statement, key = base_statement(cast, stocked, "shipment")
    return sign_raw(statement, key)


MALFORMED_ENVELOPES = [
    # (id, change to a good envelope, code, field)
    ("array", lambda e: [e], "malformed", None),
    ("string", lambda e: "envelope", "malformed", None),
    ("null", lambda e: None, "malformed", None),
    ("no-signature", lambda e: {"statement": e["statement"]}, "missing-field", "signature"),
    ("no-statement", lambda e: {"signature": e["signature"]}, "missing-field", "statement"),
    ("extra-member", lambda e: e | {"note": "hi"}, "unknown-field", "note"),
    ("statement-not-object", lambda e: e | {"statement": "x"}, "invalid-field", "statement"),
    ("signature-not-object", lambda e: e | {"signature": "x"}, "invalid-field", "signature"),
    (
        "signature-without-sig",
        lambda e: e | {"signature": {"key_id": e["signature"]["key_id"]}},
        "missing-field",
        "signature.sig",
    ),
    (
        "signature-extra-member",
        lambda e: e | {"signature": e["signature"] | {"alg": "ed25519"}},
        "unknown-field",
        "signature.alg",
    ),
    (
        "key-id-uppercase",
        lambda e: e | {"signature": e["signature"] | {"key_id": e["signature"]["key_id"].upper()}},
        "invalid-field",
        "signature.key_id",
    ),
    (
        "key-id-short",
        lambda e: e | {"signature": e["signature"] | {"key_id": "abc123"}},
        "invalid-field",
        "signature.key_id",
    ),
    (
        "sig-not-base64",
        lambda e: e | {"signature": e["signature"] | {"sig": "!" * 86 + "=="}},
        "invalid-field",
        "signature.sig",
    ),
    (
        "sig-63-bytes",
        lambda e: e | {"signature": e["signature"] | {"sig": b64(b"\x01" * 63)}},
        "invalid-field",
        "signature.sig",
    ),
    (
        "sig-non-canonical-base64",
        lambda e: e | {"signature": e["signature"] | {"sig": e["signature"]["sig"][:85] + "B=="}},
        "invalid-field",
        "signature.sig",
    ),
    (
        "sig-number",
        lambda e: e | {"signature": e["signature"] | {"sig": 12}},
        "invalid-field",
        "signature.sig",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "field"), [c[1:] for c in MALFORMED_ENVELOPES], ids=[c[0] for c in MALFORMED_ENVELOPES]
)
def test_malformed_envelope_is_refused(cast, stocked, sign_raw, expect_refusal, change, code, field):
    good = _envelope(cast, stocked, sign_raw)
    expect_refusal(cast.ledger, change(good), code, 400, field)


# -- the statement's own fields -------------------------------------------------------------

STATEMENT_FIELDS = [
    # (id, type, path, value, code)
    ("unknown-type", "shipment", "type", "certificate", "unknown-type"),
    ("type-wrong-case", "shipment", "type", "Shipment", "unknown-type"),
    ("type-empty", "shipment", "type", "", "invalid-field"),
    ("type-number", "shipment", "type", 7, "invalid-field"),
    ("unknown-top-field", "shipment", "extra", "x", "unknown-field"),
    ("unknown-top-field-signature", "shipment", "signature", "x", "unknown-field"),
    ("missing-type", "shipment", "type", DELETE, "missing-field"),
    ("missing-id", "shipment", "id", DELETE, "missing-field"),
    ("missing-issuer", "shipment", "issuer", DELETE, "missing-field"),
    ("missing-issued-at", "shipment", "issued_at", DELETE, "missing-field"),
    ("missing-body", "shipment", "body", DELETE, "missing-field"),
    ("body-not-object", "shipment", "body", ["lot"], "invalid-field"),
    ("id-too-short", "shipment", "id", "abc1234", "invalid-field"),
    ("id-too-long", "shipment", "id", "a" * 65, "invalid-field"),
    ("id-with-space", "shipment", "id", "stmt id 12345", "invalid-field"),
    ("issuer-bad-slug", "shipment", "issuer", "Farm_A", "invalid-field"),
    ("issued-at-offset", "shipment", "issued_at", "2025-06-01T12:00:00+00:00", "invalid-field"),
    ("issued-at-no-seconds", "shipment", "issued_at", "2025-06-01T12:00Z", "invalid-field"),
    ("issued-at-space", "shipment", "issued_at", "2025-06-01 12:00:00Z", "invalid-field"),
    ("issued-at-bad-day", "shipment", "issued_at", "2025-02-30T12:00:00Z", "invalid-field"),
    ("issued-at-hour-24", "shipment", "issued_at", "2025-06-01T24:00:00Z", "invalid-field"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value", "code"), [c[1:] for c in STATEMENT_FIELDS], ids=[c[0] for c in STATEMENT_FIELDS]
)
def test_statement_field_is_refused(cast, stocked, sign_raw, expect_refusal, kind, path, value, code):
    statement, key = base_statement(cast, stocked, kind)
    envelope = sign_raw(mutated(statement, path, value), key)
    expect_refusal(cast.ledger, envelope, code, 400, field_of(path))


UNKNOWN_BODY_FIELDS = [
    # (type, path of the new field)
    ("inception", "body.website"),
    ("inception", "body.identifiers.duns"),
    ("labor-attestation", "body.score"),
    ("labor-attestation", "body.indicators.child_labour"),
    ("labor-attestation", "body.evidence.0.url"),
    ("material-origin", "body.price"),
    ("material-origin", "body.quantity.grade"),
    ("material-origin", "body.origin.altitude"),
    ("transformation", "body.yield"),
    ("transformation", "body.inputs.0.material"),
    ("transformation", "body.outputs.0.grade"),
    ("shipment", "body.carrier"),
    ("product", "body.price"),
    ("product", "body.lots.0.material"),
    ("revocation", "body.replaced_by"),
]


@pytest.mark.parametrize(
    ("kind", "path"), UNKNOWN_BODY_FIELDS, ids=[f"{k}-{p}" for k, p in UNKNOWN_BODY_FIELDS]
)
def test_unknown_field_in_body_is_refused(cast, stocked, sign_raw, expect_refusal, kind, path):
    statement, key = base_statement(cast, stocked, kind)
    envelope = sign_raw(mutated(statement, path, "x"), key)
    expect_refusal(cast.ledger, envelope, "unknown-field", 400, field_of(path))


MISSING_BODY_FIELDS = [
    ("inception", "body.keys"),
    ("inception", "body.identifiers"),
    ("labor-attestation", "body.indicators"),
    ("labor-attestation", "body.indicators.debt_bondage"),
    ("material-origin", "body.quantity.unit"),
    ("material-origin", "body.origin.country"),
    ("transformation", "body.outputs.0.material"),
    ("shipment", "body.to"),
    ("product", "body.batch"),
    ("revocation", "body.reason"),
]


@pytest.mark.parametrize(
    ("kind", "path"), MISSING_BODY_FIELDS, ids=[f"{k}-{p}" for k, p in MISSING_BODY_FIELDS]
)
def test_missing_body_field_is_refused(cast, stocked, sign_raw, expect_refusal, kind, path):
    statement, key = base_statement(cast, stocked, kind)
    envelope = sign_raw(mutated(statement, path, DELETE), key)
    expect_refusal(cast.ledger, envelope, "missing-field", 400, field_of(path))


BAD_VALUES = [
    # (id, type, path, value)
    # slugs: [a-z0-9][a-z0-9-]{1,62}
    ("slug-uppercase", "inception", "body.party", "Farm-new"),
    ("slug-underscore", "inception", "body.party", "farm_new"),
    ("slug-leading-dash", "inception", "body.party", "-farm"),
    ("slug-one-char", "inception", "body.party", "f"),
    ("slug-64-chars", "inception", "body.party", "f" * 64),
    ("slug-dot", "shipment", "body.to", "proc.a"),
    ("slug-facility", "labor-attestation", "body.facility", "Make A"),
    # countries: ISO 3166-1 alpha-2 as assigned
    ("country-lowercase", "inception", "body.country", "in"),
    ("country-alpha-3", "inception", "body.country", "IND"),
    ("country-uk-is-gb", "inception", "body.country", "UK"),
    ("country-unassigned", "material-origin", "body.origin.country", "XX"),
    ("country-number", "material-origin", "body.origin.country", 356),
    # dates
    ("date-feb-30", "material-origin", "body.produced_on", "2025-02-30"),
    ("date-month-13", "shipment", "body.shipped_on", "2025-13-01"),
    ("date-short-year", "transformation", "body.date", "25-05-11"),
    ("date-unpadded", "shipment", "body.shipped_on", "2025-5-1"),
    ("date-slashes", "labor-attestation", "body.audit_date", "2025/05/01"),
    ("date-with-time", "labor-attestation", "body.valid_until", "2026-05-01T00:00:00Z"),
    ("valid-until-before-audit", "labor-attestation", "body.valid_until", "2025-04-30"),
    # amounts: positive decimal strings, at most 6 decimals, no exponent
    ("amount-negative", "shipment", "body.amount", "-5"),
    ("amount-zero", "shipment", "body.amount", "0"),
    ("amount-zero-decimals", "material-origin", "body.quantity.amount", "0.000000"),
    ("amount-exponent", "shipment", "body.amount", "1e3"),
    ("amount-exponent-upper", "transformation", "body.inputs.0.amount", "2E1"),
    ("amount-seven-decimals", "shipment", "body.amount", "0.0000001"),
    ("amount-leading-zero", "shipment", "body.amount", "05"),
    ("amount-trailing-dot", "product", "body.lots.0.amount", "5."),
    ("amount-leading-dot", "transformation", "body.outputs.0.amount", ".5"),
    ("amount-plus", "shipment", "body.amount", "+5"),
    ("amount-comma", "shipment", "body.amount", "5,5"),
    ("amount-space", "shipment", "body.amount", " 5"),
    ("amount-json-integer", "shipment", "body.amount", 5),
    ("amount-nan", "shipment", "body.amount", "NaN"),
    # GTIN-14 with a GS1 check digit; batch of the AI (10) alphabet
    ("gtin-check-digit", "product", "body.gtin", "09506000134353"),
    ("gtin-13-digits", "product", "body.gtin", "9506000134352"),
    ("gtin-letters", "product", "body.gtin", "0950600013435A"),
    ("batch-too-long", "product", "body.batch", "B" * 21),
    ("batch-empty", "product", "body.batch", ""),
    ("batch-space", "product", "body.batch", "B 1"),
    # others
    ("role-unknown", "inception", "body.role", "farmer"),
    ("key-not-base64", "inception", "body.keys.0", "not a key"),
    ("gln-check-digit", "inception", "body.identifiers.gln", "0614141000006"),
    ("os-id", "inception", "body.identifiers.os_id", "cn2019303bq3fzp"),
    ("outcome", "labor-attestation", "body.outcome", "passed"),
    ("indicator-value", "labor-attestation", "body.indicators.isolation", "none"),
    ("sha256-uppercase", "labor-attestation", "body.evidence.0.sha256", "AB" * 32),
    ("workers-negative", "labor-attestation", "body.workers", -1),
    ("workers-string", "labor-attestation", "body.workers", "300"),
    ("latitude-out-of-range", "material-origin", "body.origin.lat", "90.5"),
    ("longitude-number", "material-origin", "body.origin.lon", "-70,8"),
    ("unit-with-space", "shipment", "body.unit", "metric ton"),
    ("lot-with-space", "shipment", "body.lot", "cot 1"),
    ("revoked-entry-negative", "revocation", "body.entry", -1),
    ("revoked-entry-string", "revocation", "body.entry", "9"),
    ("name-with-control-char", "product", "body.name", "tee\x00"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value"), [c[1:] for c in BAD_VALUES], ids=[c[0] for c in BAD_VALUES]
)
def test_bad_value_is_refused(cast, stocked, sign_raw, expect_refusal, kind, path, value):
    statement, key = base_statement(cast, stocked, kind)
    envelope = sign_raw(mutated(statement, path, value), key)
    expect_refusal(cast.ledger, envelope, "invalid-field", 400, field_of(path))


@pytest.mark.parametrize("value", [2**53, -(2**53), 2**63])
def test_integer_outside_i_json_is_refused_naming_the_field(cast, stocked, sign_raw, expect_refusal, value):
    # SPEC v2 §2: integers within ±(2^53 − 1), what every JSON reader (a browser too) holds exactly.
    statement, key = base_statement(cast, stocked, "revocation")
    envelope = sign_raw(mutated(statement, "body.entry", value), key)
    err = expect_refusal(cast.ledger, envelope, "malformed", 400, "statement.body.entry")
    assert str(value) in err.message and "2^53 − 1" in err.message


def test_largest_safe_integer_reaches_the_field_check(cast, stocked, sign_raw, expect_refusal):
    statement, key = base_statement(cast, stocked, "revocation")
    envelope = sign_raw(mutated(statement, "body.entry", 2**53 - 1), key)
    expect_refusal(cast.ledger, envelope, "unknown-entry", 422, "statement.body.entry")


def test_input_lot_that_is_also_an_output_is_refused(cast, stocked, sign_raw, expect_refusal):
    statement, key = base_statement(cast, stocked, "transformation")
    statement = mutated(statement, "body.outputs.0.lot", "cot-1")
    expect_refusal(
        cast.ledger, sign_raw(statement, key), "invalid-field", 400, "statement.body.inputs[0].lot"
    )


def test_lot_listed_twice_is_refused(cast, stocked, sign_raw, expect_refusal):
    statement, key = base_statement(cast, stocked, "product")
    statement["body"]["lots"].append({"lot": "tee-1", "amount": "1", "unit": "pcs"})
    expect_refusal(cast.ledger, sign_raw(statement, key), "invalid-field", 400, "statement.body.lots[1]")


FLOAT_AMOUNTS = {"float": "20.5", "exponent": "2e1", "negative-float": "-20.0"}


@pytest.mark.parametrize("number", FLOAT_AMOUNTS.values(), ids=FLOAT_AMOUNTS.keys())
def test_amount_as_json_float_is_refused_naming_the_field(cast, stocked, sign_raw, expect_refusal, number):
    statement, key = base_statement(cast, stocked, "shipment")
    text = json.dumps(sign_raw(statement, key)).replace('"amount": "20"', f'"amount": {number}')
    assert number in text
    expect_refusal(cast.ledger, text, "malformed", 400, "statement.body.amount")


@pytest.mark.parametrize("number", FLOAT_AMOUNTS.values(), ids=FLOAT_AMOUNTS.keys())
def test_amount_as_json_float_is_refused(cast, stocked, sign_raw, ledger_state, submit, number):
    """The refusal itself: a Malformed error that says amounts are decimal strings."""
    from ledger.errors import Malformed

    statement, key = base_statement(cast, stocked, "shipment")
    text = json.dumps(sign_raw(statement, key)).replace('"amount": "20"', f'"amount": {number}')
    before = ledger_state(cast.ledger)
    with pytest.raises(Malformed, match="decimal strings"):
        submit(cast.ledger, text)
    assert ledger_state(cast.ledger) == before


GOOD_VALUES = [
    ("amount-six-decimals", "shipment", "body.amount", "0.000001"),
    ("amount-trailing-zeros", "shipment", "body.amount", "20.000"),
    ("amount-all-lot", "shipment", "body.amount", "390"),
    ("slug-two-chars", "shipment", "body.to", "proc-a"),
    ("issued-at-nanoseconds", "shipment", "issued_at", "2025-06-01T11:59:59.123456789Z"),
    ("batch-gs1-punctuation", "product", "body.batch", "A1!%&'()*+,-./:;<=>?_z"[:20]),
    ("gtin-leading-zeros", "product", "body.gtin", "00012345678905"),
    ("indicator-not-assessed", "labor-attestation", "body.indicators.isolation", "not-assessed"),
    ("coordinates-negative", "material-origin", "body.origin.lat", "-89.12345678"),
    ("unicode-name", "inception", "body.name", "Coopérative Agrícola 合作社 🌱"),
]


@pytest.mark.parametrize(
    ("kind", "path", "value"), [c[1:] for c in GOOD_VALUES], ids=[c[0] for c in GOOD_VALUES]
)
def test_good_value_is_accepted_verbatim(cast, stocked, sign_raw, submit, kind, path, value):
    statement, key = base_statement(cast, stocked, kind)
    statement = mutated(statement, path, value)
    appended = submit(cast.ledger, sign_raw(statement, key))
    # Nothing is normalised: the ledger keeps the statement exactly as signed.
    assert appended.entry.statement.data == statement
    assert json.loads(appended.entry.canonical)["statement"] == statement


# -- size -----------------------------------------------------------------------------------


def _attestation_of_size(cast, stocked, size: int) -> tuple[dict[str, Any], PrivateKey]:
    """A labor attestation whose canonical statement is exactly ``size`` bytes."""
    statement, key = base_statement(cast, stocked, "labor-attestation")
    findings = statement["body"]["findings"]
    while len(jcs(statement)) < size:
        need = size - len(jcs(statement))
        if len(findings[-1]) >= 2000:
            findings.append("f")
            continue
        findings[-1] += "x" * min(need, 2000 - len(findings[-1]))
    assert len(jcs(statement)) == size
    return statement, key


def _entry_overhead(seq: int) -> int:
    """Bytes an entry adds around its statement's (SPEC §5: prev, recorded_at, seq, signature)."""
    recorded_at = "2026-01-01T00:00:00.000Z"
    return len(
        f'{{"prev":"{"0" * 64}","recorded_at":"{recorded_at}","seq":{seq},'
        f'"signature":{{"key_id":"{"0" * 16}","sig":"{"A" * 86}=="}},"statement":}}'
    )


def test_entry_of_exactly_65535_bytes_is_accepted(cast, stocked, sign_raw, submit):
    # SPEC v2 §2: an entry's canonical bytes are at most 65,535 (one entry-bundle record);
    # v1's 64 KiB statement no longer fits once it is wrapped in its entry.
    size = MAX_ENTRY_BYTES - _entry_overhead(cast.ledger.size)
    statement, key = _attestation_of_size(cast, stocked, size)
    appended = submit(cast.ledger, sign_raw(statement, key))
    assert len(appended.entry.canonical) == MAX_ENTRY_BYTES


def test_entry_of_65536_bytes_is_refused_with_413(cast, stocked, sign_raw, expect_refusal):
    size_before = cast.ledger.size
    statement, key = _attestation_of_size(cast, stocked, MAX_ENTRY_BYTES + 1 - _entry_overhead(size_before))
    err = expect_refusal(cast.ledger, sign_raw(statement, key), "too-large", 413, "statement")
    assert str(MAX_ENTRY_BYTES) in err.message and "65536" in err.message
    assert cast.ledger.size == size_before


def test_statement_of_64_kib_is_refused_as_its_entry_is_too_long(cast, stocked, sign_raw, expect_refusal):
    statement, key = _attestation_of_size(cast, stocked, MAX_STATEMENT_BYTES)
    err = expect_refusal(cast.ledger, sign_raw(statement, key), "too-large", 413, "statement")
    assert str(MAX_ENTRY_BYTES) in err.message


def test_statement_over_64_kib_is_refused(cast, stocked, sign_raw, expect_refusal):
    statement, key = _attestation_of_size(cast, stocked, MAX_STATEMENT_BYTES + 1)
    err = expect_refusal(cast.ledger, sign_raw(statement, key), "too-large", 413, "statement")
    assert str(MAX_STATEMENT_BYTES) in err.message


def test_envelope_bytes_over_the_limit_are_refused_before_parsing(ledger, expect_refusal):
    data = b'{"statement": "' + b"x" * MAX_ENVELOPE_BYTES + b'"}'
    expect_refusal(ledger, data, "too-large", 413, None)


# -- the signed message ---------------------------------------------------------------------


def test_signed_message_is_prefix_and_canonical_statement(cast, stocked):
    statement, key = base_statement(cast, stocked, "shipment")
    st = Statement.from_json(statement)
    assert st.canonical == jcs(statement)
    assert st.message == b"provenance-ledger/v1 statement\n" + jcs(statement)
    envelope = Envelope.from_json(
        {"statement": statement, "signature": {"key_id": key.public.key_id, "sig": b64(key.sign(st.message))}}
    )
    envelope.verify(key.public)
    assert envelope.to_json()["statement"] is statement


def test_statement_is_signed_over_canonical_bytes_not_as_written(cast, stocked, sign_raw, submit):
    """Members in any order and any whitespace: the signature is over JCS, so it verifies."""
    statement, key = base_statement(cast, stocked, "shipment")
    envelope = sign_raw(statement, key)
    reordered = {"signature": envelope["signature"], "statement": dict(reversed(list(statement.items())))}
    text = json.dumps(reordered, indent=3, sort_keys=False)
    appended = submit(cast.ledger, text)
    assert appended.entry.statement.canonical == jcs(statement)
