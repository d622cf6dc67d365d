"""Statements, envelopes and entries: their shapes and strict validation (SPEC §4-§6).

Validation here depends only on the statement itself. What depends on the ledger's
state (who may sign, custody, balances, replay) lives in ``rules``.
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from ledger.crypto.canonical import MAX_SAFE_INTEGER, jcs, parse
from ledger.crypto.ed25519 import key_problem
from ledger.crypto.keys import PublicKey, b64, statement_message, unb64
from ledger.errors import InvalidField, Malformed, MissingField, TooLarge, UnknownField, UnknownType
from ledger.model import fields as f
from ledger.tlog.merkle import leaf_hash
from ledger.tlog.tiles import MAX_ENTRY_BYTES  # one record of a C2SP entry bundle

MAX_STATEMENT_BYTES = 64 * 1024
# A sender may escape every character (\u0041 is 6 bytes for 1 canonical byte), so an
# envelope holding a statement of 64 KiB canonical may be 6 times larger on the wire.
MAX_ENVELOPE_BYTES = 6 * MAX_STATEMENT_BYTES + 4096
ZERO_HASH = "0" * 64

# Canonical standard base64 of 32 bytes: the last character carries 2 bits and 4 zeros.
_public_key = f.pattern(
    re.compile(r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]="), "a base64 Ed25519 public key (32 bytes)"
)


def _key(value: Any, path: str) -> str:
    text: str = _public_key(value, path)
    PublicKey.from_b64(text, path)
    return text


f.described(
    _key, {**f.schema_of(_public_key), "description": "an Ed25519 public key: standard base64 of 32 bytes"}
)


def _new_key(value: Any, path: str) -> str:
    """A key being introduced (SPEC §3): also a canonical point, not of small order."""
    text = _key(value, path)
    problem = key_problem(unb64(text, field=path, size=32))
    if problem:
        raise InvalidField(problem, field=path)
    return text


f.described(_new_key, f.schema_of(_key))

ROTATION_REASONS = ("scheduled", "lost", "compromised")
_domain = f.pattern(
    re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"),
    "a DNS domain name in lowercase (example.com)",
)
_issuer_id = f.pattern(re.compile(r"operator|[a-z0-9][a-z0-9-]{1,62}"), "a party id")


_quantity_line = f.obj({"lot": (True, f.lot_id), "amount": (True, f.amount), "unit": (True, f.unit)})
_output_line = f.obj(
    {
        "lot": (True, f.lot_id),
        "material": (True, f.text(f.MAX_NAME)),
        "amount": (True, f.amount),
        "unit": (True, f.unit),
    }
)
_indicators = f.obj({name: (True, f.one_of(f.INDICATOR_VALUES)) for name in f.ILO_INDICATORS})

_digests = f.array(
    f.described(
        f.sha256_hex,
        {
            **f.schema_of(f.sha256_hex),
            "description": "a key digest: SHA-256 of the raw public key, lowercase hex",
        },
    ),
    min_items=1,
    max_items=4,
    unique="",
)
_new_keys = f.array(_new_key, min_items=1, max_items=4, unique="")
_identifiers = f.obj({"os_id": (False, f.os_id), "gln": (False, f.gln), "domain": (False, _domain)})
_party_id = (True, f.slug)

BODIES: dict[str, f.Validator] = {
    "genesis": f.obj(
        {
            "origin": (True, f.text(200)),
            "name": (True, f.text(f.MAX_NAME)),
            "key": (True, _new_key),
            "next": (True, _digests),
        }
    ),
    "inception": f.obj(
        {
            "party": _party_id,
            "name": (True, f.text(f.MAX_NAME)),
            "role": (True, f.role),
            "country": (True, f.country),
            "identifiers": (True, _identifiers),
            "keys": (True, _new_keys),
            "next": (True, _digests),
        }
    ),
    "admission": f.obj(
        {"party": _party_id, "inception": (True, f.integer(0, 2**53 - 1)), "role": (True, f.role)}
    ),
    "rotation": f.obj(
        {
            "party": (True, _issuer_id),
            "keys": (True, _new_keys),
            "next": (True, _digests),
            "reason": (True, f.one_of(ROTATION_REASONS)),
            "compromised_since": (False, f.integer(0, 2**53 - 1)),
        }
    ),
    "profile": f.obj(
        {
            "party": _party_id,
            "name": (True, f.text(f.MAX_NAME)),
            "country": (True, f.country),
            "identifiers": (True, _identifiers),
        }
    ),
    "suspension": f.obj({"party": _party_id, "reason": (True, f.text(f.MAX_TEXT))}),
    "reinstatement": f.obj({"party": _party_id, "reason": (True, f.text(f.MAX_TEXT))}),
    "labor-attestation": f.obj(
        {
            "facility": (True, f.slug),
            "standard": (True, f.text(f.MAX_NAME)),
            "audit_date": (True, f.date),
            "valid_until": (True, f.date),
            "outcome": (True, f.one_of(f.OUTCOMES)),
            "indicators": (True, _indicators),
            "workers": (False, f.integer(0, 10_000_000)),
            "findings": (True, f.array(f.text(2000))),
            "evidence": (
                True,
                f.array(f.obj({"name": (True, f.text(f.MAX_NAME)), "sha256": (True, f.sha256_hex)})),
            ),
        }
    ),
    "material-origin": f.obj(
        {
            "lot": (True, f.lot_id),
            "material": (True, f.text(f.MAX_NAME)),
            "quantity": (True, f.obj({"amount": (True, f.amount), "unit": (True, f.unit)})),
            "origin": (
                True,
                f.obj(
                    {
                        "country": (True, f.country),
                        "region": (False, f.text(f.MAX_NAME)),
                        "lat": (False, f.coordinate(90)),
                        "lon": (False, f.coordinate(180)),
                    }
                ),
            ),
            "produced_on": (True, f.date),
            "certifications": (True, f.array(f.text(f.MAX_NAME), max_items=20)),
        }
    ),
    "transformation": f.obj(
        {
            "process": (True, f.text(f.MAX_NAME)),
            "date": (True, f.date),
            "inputs": (True, f.array(_quantity_line, min_items=1, unique="lot")),
            "outputs": (True, f.array(_output_line, min_items=1, unique="lot")),
        }
    ),
    "shipment": f.obj(
        {
            "lot": (True, f.lot_id),
            "amount": (True, f.amount),
            "unit": (True, f.unit),
            "to": (True, f.slug),
            "shipped_on": (True, f.date),
        }
    ),
    "receipt": f.obj(
        {
            "shipment": (True, f.integer(0, 2**53 - 1)),
            "received_on": (True, f.date),
            "accepted": (True, f.boolean),
            "note": (False, f.text(f.MAX_TEXT)),
        }
    ),
    "product": f.obj(
        {
            "gtin": (True, f.gtin14),
            "batch": (True, f.batch),
            "name": (True, f.text(f.MAX_NAME)),
            "lots": (True, f.array(_quantity_line, min_items=1, unique="lot")),
            "description": (False, f.text(4000)),
        }
    ),
    "revocation": f.obj(
        {"entry": (True, f.integer(0, MAX_SAFE_INTEGER)), "reason": (True, f.text(f.MAX_TEXT))}
    ),
}
# SPEC §6: a statement of the last seven types may name the revoked entry it replaces.
CORRECTABLE = (
    "labor-attestation",
    "material-origin",
    "transformation",
    "shipment",
    "receipt",
    "product",
    "revocation",
)
_corrects = f.described(
    f.integer(0, 2**53 - 1),
    {
        "type": "integer",
        "minimum": 0,
        "description": "the seq of the revoked entry of the same issuer this statement replaces",
    },
)


def _with_corrects(body: f.Validator) -> f.Validator:
    """``body`` that may also carry ``corrects``."""

    def check(value: Any, path: str) -> Any:
        if isinstance(value, dict) and "corrects" in value:
            _corrects(value["corrects"], f"{path}.corrects")
            return body({k: v for k, v in value.items() if k != "corrects"}, path)
        return body(value, path)

    schema = copy.deepcopy(f.schema_of(body))
    schema.setdefault("properties", {})["corrects"] = f.schema_of(_corrects)
    return f.described(check, schema)


for _kind in CORRECTABLE:
    if _kind in BODIES:
        BODIES[_kind] = _with_corrects(BODIES[_kind])
TYPES = tuple(BODIES)


def statement_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of a statement of each type, from the same validators that check it."""
    base = f.schema_of(_statement_shape)
    return {
        kind: {
            **base,
            "properties": {**base["properties"], "type": {"const": kind}, "body": f.schema_of(body)},
        }
        for kind, body in BODIES.items()
    }


def signature_schema() -> dict[str, Any]:
    return f.schema_of(_signature_shape)


_statement_shape = f.obj(
    {
        "type": (True, f.text(64)),
        "id": (True, f.statement_id),
        "issuer": (True, _issuer_id),
        "issued_at": (True, f.timestamp),
        "body": (True, f.described(lambda v, p: v, {"type": "object"})),
    }
)
_signature_shape = f.obj(
    {
        "key_id": (True, f.pattern(re.compile(r"[0-9a-f]{16}"), "a key id (16 lowercase hex)")),
        "sig": (
            True,
            f.pattern(re.compile(r"[A-Za-z0-9+/]{85}[AQgw]=="), "a base64 Ed25519 signature (64 bytes)"),
        ),
    }
)


def validate_statement(obj: Any, path: str = "statement") -> dict[str, Any]:
    """Check a statement's shape and body against SPEC §4 and §6; return it unchanged."""
    _statement_shape(obj, path)
    kind = obj["type"]
    if kind not in BODIES:
        raise UnknownType(f"unknown type {kind!r}; known: {', '.join(TYPES)}", field=f"{path}.type")
    BODIES[kind](obj["body"], f"{path}.body")
    body = obj["body"]
    if kind == "labor-attestation" and body["valid_until"] < body["audit_date"]:
        raise InvalidField("is before audit_date", field=f"{path}.body.valid_until")
    if kind in ("inception", "admission") and body["role"] == "operator":
        raise InvalidField("only one party is the operator", field=f"{path}.body.role")
    if kind == "rotation" and "compromised_since" in body and body["reason"] != "compromised":
        raise InvalidField(
            "only a rotation for reason 'compromised' names one", field=f"{path}.body.compromised_since"
        )
    if kind == "transformation":
        outputs = {o["lot"] for o in body["outputs"]}
        for i, line in enumerate(body["inputs"]):
            if line["lot"] in outputs:
                raise InvalidField(
                    "a lot cannot be both input and output", field=f"{path}.body.inputs[{i}].lot"
                )
    checked: dict[str, Any] = obj
    return checked


@dataclass(frozen=True)
class Statement:
    """A validated statement and its canonical bytes."""

    data: dict[str, Any]
    canonical: bytes

    @property
    def type(self) -> str:
        return str(self.data["type"])

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def issuer(self) -> str:
        return str(self.data["issuer"])

    @property
    def issued_at(self) -> str:
        return str(self.data["issued_at"])

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = self.data["body"]
        return body

    @classmethod
    def from_json(cls, obj: Any, path: str = "statement") -> Statement:
        validate_statement(obj, path)
        canonical = jcs(obj)
        if len(canonical) > MAX_STATEMENT_BYTES:
            raise TooLarge(
                f"statement is {len(canonical)} bytes canonical, over the limit of {MAX_STATEMENT_BYTES}",
                field=path,
            )
        return cls(obj, canonical)

    @property
    def message(self) -> bytes:
        """The bytes the issuer signs (SPEC §4)."""
        return statement_message(self.canonical)


@dataclass(frozen=True)
class Envelope:
    """A statement with its signature, as a party submits it (SPEC §4)."""

    statement: Statement
    key_id: str
    sig: bytes

    @classmethod
    def from_json(cls, obj: Any) -> Envelope:
        if not isinstance(obj, dict):
            raise Malformed("an envelope must be a JSON object")
        for key in obj:
            if key not in ("statement", "signature"):
                raise UnknownField(f"unknown field {key!r}; allowed: statement, signature", field=key)
        for key in ("statement", "signature"):
            if key not in obj:
                raise MissingField("is required", field=key)
        _signature_shape(obj["signature"], "signature")
        statement = Statement.from_json(obj["statement"])
        sig = unb64(obj["signature"]["sig"], field="signature.sig", size=64)
        return cls(statement, obj["signature"]["key_id"], sig)

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Envelope:
        return cls.from_json(parse(data, limit=MAX_ENVELOPE_BYTES))

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement.data, "signature": self.signature_json()}

    def signature_json(self) -> dict[str, str]:
        return {"key_id": self.key_id, "sig": b64(self.sig)}

    def verify(self, key: PublicKey) -> None:
        """Raise ``BadSignature`` unless ``key`` signed this statement."""
        key.verify(self.sig, self.statement.message)


def sign(statement: dict[str, Any], key: Any) -> Envelope:
    """Validate ``statement`` and sign it with ``key`` (a ``keys.PrivateKey``)."""
    st = Statement.from_json(statement)
    return Envelope(st, key.public.key_id, key.sign(st.message))


@dataclass(frozen=True)
class Entry:
    """What the ledger stores at ``seq`` (SPEC §5), with its exact canonical bytes."""

    seq: int
    prev: str
    recorded_at: str
    envelope: Envelope
    canonical: bytes

    @functools.cached_property
    def hash(self) -> bytes:
        """The entry hash: RFC 9162 leaf hash of the canonical bytes."""
        return leaf_hash(self.canonical)

    @property
    def statement(self) -> Statement:
        return self.envelope.statement

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "prev": self.prev,
            "recorded_at": self.recorded_at,
            "statement": self.envelope.statement.data,
            "signature": self.envelope.signature_json(),
        }

    @classmethod
    def build(cls, seq: int, prev: str, recorded_at: str, envelope: Envelope) -> Entry:
        """The entry and its JCS bytes, spliced around the statement's own JCS bytes.

        JCS orders the keys prev < recorded_at < seq < signature < statement, and every
        value but the statement is ASCII that JCS writes as is (hex, an RFC 3339 time, an
        integer, base64), so this is exactly ``jcs(entry.to_json())`` without encoding the
        statement twice (tests/test_ledger.py holds the two equal).
        """
        sig = envelope.signature_json()
        canonical = (
            (
                f'{{"prev":"{prev}","recorded_at":"{recorded_at}","seq":{seq},'
                f'"signature":{{"key_id":"{sig["key_id"]}","sig":"{sig["sig"]}"}},"statement":'
            ).encode("ascii")
            + envelope.statement.canonical
            + b"}"
        )
        if len(canonical) > MAX_ENTRY_BYTES:
            raise TooLarge(
                f"the entry would be {len(canonical)} bytes canonical, over the limit of"
                f" {MAX_ENTRY_BYTES} (one record of a tile's entry bundle)",
                field="statement",
            )
        return cls(seq, prev, recorded_at, envelope, canonical)

    @classmethod
    def unchecked(cls, data: bytes) -> Entry:
        """Read stored bytes without validating them: for the audit, which validates the
        same bytes in full on other cores (``workers``) while it replays them here. The
        statement's bytes are the ones inside the entry's, which JCS puts last.
        Raises ``ValueError``/``KeyError``/``TypeError`` on bytes that are not an entry."""
        obj = json.loads(data)
        at = data.index(b',"statement":')
        st = Statement(obj["statement"], data[at + len(b',"statement":') : -1])
        signature = obj["signature"]
        envelope = Envelope(st, signature["key_id"], base64.b64decode(signature["sig"]))
        if not (
            isinstance(obj["seq"], int)
            and isinstance(obj["prev"], str)
            and isinstance(obj["recorded_at"], str)
            and isinstance(st.data, dict)
            and isinstance(st.data.get("body"), dict)
        ):
            raise TypeError("not an entry")
        return cls(obj["seq"], obj["prev"], obj["recorded_at"], envelope, data)

    @classmethod
    def from_canonical(cls, data: bytes) -> Entry:
        """Parse stored bytes; raise ``Malformed``/``InvalidField`` if they are not a valid entry
        in canonical form."""
        obj = parse(data, walk=False)  # validated field by field, then re-encoded below
        if not isinstance(obj, dict) or set(obj) != {"seq", "prev", "recorded_at", "statement", "signature"}:
            raise Malformed("entry must have exactly seq, prev, recorded_at, statement, signature")
        f.integer(0, MAX_SAFE_INTEGER)(obj["seq"], "seq")
        f.pattern(re.compile(r"[0-9a-f]{64}"), "a hash")(obj["prev"], "prev")
        f.timestamp(obj["recorded_at"], "recorded_at")
        envelope = Envelope.from_json({"statement": obj["statement"], "signature": obj["signature"]})
        entry = cls.build(obj["seq"], obj["prev"], obj["recorded_at"], envelope)  # JCS(entry)
        if entry.canonical != data:
            raise Malformed("stored bytes are not in RFC 8785 canonical form")
        return entry
