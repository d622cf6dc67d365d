"""UNTP 0.6 credentials (ledger.formats.untp, jws; docs/formats.md).

The credentials are validated against the UNTP 0.6.1 JSON Schemas where they lie beside the
repository (``<repo>/../shared/standards/untp-0.6.1``; GPL-3.0, so never copied here), and
skipped with the reason when absent. Their JWS is verified with the operator's public key
by PyJWT, code independent of ours; the evidence (entry hash, inclusion proof, checkpoint)
is checked here with hashlib and cryptography alone.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from scenarios import FARM, KNITTER, MILL, audit, tee_chain

from ledger.formats.snapshot import take
from ledger.formats.untp import Credential, issue
from ledger.model.fields import ILO_INDICATORS

REPO = Path(__file__).resolve().parents[1]
UNTP_DIR = "shared/standards/untp-0.6.1"
SCHEMA_FILES = {
    "DigitalProductPassport": "dpp/DigitalProductPassport-schema.json",
    "DigitalTraceabilityEvent": "dte/DigitalTraceabilityEvent-schema.json",
    "DigitalConformityCredential": "dcc/DigitalConformityCredential-schema.json",
}


def untp_schemas() -> Path | None:
    """``<repo>/../shared/standards/untp-0.6.1``, for this checkout or (in a git worktree)
    for the main checkout it belongs to."""
    candidates = [REPO.parent / UNTP_DIR]
    try:
        common = subprocess.run(
            ["git", "rev-parse", "--path-format=absolute", "--git-common-dir"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        candidates.append(Path(common).parent.parent / UNTP_DIR)
    except (OSError, subprocess.CalledProcessError):
        pass
    return next((c for c in candidates if (c / SCHEMA_FILES["DigitalProductPassport"]).exists()), None)


def payload(c: Credential) -> Any:
    body = c.jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def operator_public_key(vkey: str) -> Ed25519PublicKey:
    """The operator's key from its published note verifier key ``name+hash+base64(0x01‖key)``."""
    raw = base64.b64decode(vkey.strip().split("+", 2)[2])  # a note key name holds no '+'
    assert raw[0] == 0x01 and len(raw) == 33
    return Ed25519PublicKey.from_public_bytes(raw[1:])


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_path(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2, written out again here."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        assert sn > 0
        if fn & 1 or fn == sn:
            r = node(p, r)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node(r, p)
        fn, sn = fn >> 1, sn >> 1
    assert sn == 0
    return r


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    c = tee_chain(tmp_path / "a", second_origin=True, trader="also", labels=True)
    audit(
        c.b,
        KNITTER,
        audit_date="2025-02-01",
        standard="amfori BSCI",
        outcome="conditional",
        present=["excessive_overtime"],
        not_assessed=["debt_bondage"],
        findings=["overtime over 60 h"],
    )
    return c


@pytest.fixture
def credentials(chain: Any) -> list[Credential]:
    return issue(take(chain.ledger, chain.gtin, chain.batch))


def test_credentials_are_valid_untp_0_6_1(credentials: list[Credential]) -> None:
    where = untp_schemas()
    if where is None:
        pytest.skip(f"the UNTP 0.6.1 schemas are not at <repo>/../{UNTP_DIR}")
    seen = set()
    for c in credentials:
        schema = json.loads((where / SCHEMA_FILES[c.type]).read_text())
        cls = jsonschema.validators.validator_for(schema)
        errors = list(cls(schema, format_checker=cls.FORMAT_CHECKER).iter_errors(payload(c)))
        assert not errors, (c.name, [(e.message[:200], list(e.path)) for e in errors[:3]])
        seen.add(c.type)
    assert seen == set(SCHEMA_FILES)


def test_one_credential_per_step_and_attestation(chain: Any, credentials: list[Credential]) -> None:
    snap = take(chain.ledger, chain.gtin, chain.batch)
    steps = [s["seq"] for s in snap.report.steps if s["kind"] in ("origin", "transformation", "shipment")]
    steps += [s["receipt"] for s in snap.report.steps if isinstance(s.get("receipt"), int)]
    atts = sorted(s for s, e in snap.entries.items() if e.statement.type == "labor-attestation")
    assert [c.name for c in credentials] == (
        ["dpp"] + [f"dte-{s}" for s in sorted(steps)] + [f"dcc-{s}" for s in atts]
    )
    assert len(atts) == 4  # the three audits of tee_chain and the knitter's second


def test_jws_verifies_with_the_operator_key_by_independent_code(
    chain: Any, credentials: list[Credential]
) -> None:
    key = operator_public_key(chain.ledger.verifier.to_text())
    for c in credentials:
        header = jwt.get_unverified_header(c.jwt)
        assert header["alg"] == "EdDSA" and header["typ"] == "vc+jwt" and header["cty"] == "vc"
        assert header["kid"].startswith("did:web:trace.example:ledger#")
        claims = jwt.decode(c.jwt, key, algorithms=["EdDSA"])
        assert claims["id"] == c.id and claims["issuer"]["id"] == "did:web:trace.example:ledger"


def test_a_tampered_or_foreign_jws_is_refused(credentials: list[Credential]) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    c = credentials[1]
    key = operator_public_key(take_vkey(c))
    head, body, sig = c.jwt.split(".")
    claims = payload(c)
    claims["credentialSubject"][0]["quantityList"][0]["quantity"] = 1
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{forged}.{sig}", key, algorithms=["EdDSA"])
    stranger = Ed25519PrivateKey.generate().public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(c.jwt, stranger, algorithms=["EdDSA"])


def take_vkey(c: Credential) -> str:
    return str(c.credential["evidence"][0]["verifierKey"])


def test_evidence_proves_the_entry_is_in_the_checkpointed_log(
    chain: Any, credentials: list[Credential]
) -> None:
    key = operator_public_key(chain.ledger.verifier.to_text())
    for c in credentials:
        (ev,) = payload(c)["evidence"]
        canonical = base64.b64decode(ev["entryCanonical"])
        leaf = hashlib.sha256(b"\x00" + canonical).digest()
        assert leaf.hex() == ev["entryHash"] == chain.ledger.entry(ev["entrySeq"]).hash.hex()
        assert json.loads(canonical)["seq"] == ev["entrySeq"]
        note = ev["checkpoint"]
        text, _, signatures = note.partition("\n\n")
        origin, size, root = text.split("\n")
        sig = base64.b64decode(signatures.splitlines()[0].split(" ")[-1])
        key.verify(sig[4:], (text + "\n").encode())
        proof = ev["inclusionProof"]
        assert (proof["leaf_index"], proof["tree_size"]) == (ev["entrySeq"], int(size))
        path = [bytes.fromhex(h) for h in proof["hashes"]]
        assert root_from_path(ev["entrySeq"], int(size), leaf, path) == base64.b64decode(root)


def test_quantities_are_the_statements_digit_for_digit(chain: Any, credentials: list[Credential]) -> None:
    for c in credentials:
        if c.type != "DigitalTraceabilityEvent":
            continue
        raw = base64.urlsafe_b64decode(c.jwt.split(".")[1] + "==").decode()
        (event,) = c.credential["credentialSubject"]
        b = chain.ledger.entry(int(c.name.split("-")[1])).statement.body
        if "shipment" in b:  # a receipt: the quantity shipped, on the day received
            shipped = chain.ledger.entry(b["shipment"]).statement.body
            assert f'"quantity":{shipped["amount"]},' in raw
            assert event["eventTime"][:10] == b["received_on"]
        elif "lot" in b and "to" in b:  # a shipment
            assert f'"quantity":{b["amount"]},' in raw
            assert event["eventTime"][:10] == b["shipped_on"]
        elif "produced_on" in b:
            assert f'"quantity":{b["quantity"]["amount"]},' in raw
            assert event["eventTime"][:10] == b["produced_on"]
        else:
            for line in b["inputs"] + b["outputs"]:
                assert f'"quantity":{line["amount"]},' in raw
            assert event["eventTime"][:10] == b["date"]


def test_conformity_credentials_assess_each_ilo_indicator(chain: Any, credentials: list[Credential]) -> None:
    dccs = {c.name: payload(c) for c in credentials if c.type == "DigitalConformityCredential"}
    for name, cred in dccs.items():
        body = chain.ledger.entry(int(name.split("-")[1])).statement.body
        subject = cred["credentialSubject"]
        assert [a["indicator"] for a in subject["assessment"]] == list(ILO_INDICATORS)
        for a in subject["assessment"]:
            assert a["conformance"] is (body["indicators"][a["indicator"]] == "absent")
            assert a["conformityTopic"] == "social.labour" and a["assessmentDate"] == body["audit_date"]
        assert cred["validFrom"] == body["audit_date"] + "T00:00:00Z"
        assert cred["validUntil"] == body["valid_until"] + "T23:59:59Z"
        assert subject["assessorLevel"] == "3rdParty"
    knitter = [c for c in dccs.values() if "amfori" in c["credentialSubject"]["name"]]
    (k,) = knitter
    values = {a["indicator"]: a["conformance"] for a in k["credentialSubject"]["assessment"]}
    assert values["excessive_overtime"] is False and values["debt_bondage"] is False
    assert values["deception"] is True
    assert k["credentialSubject"]["scope"]["issuingParty"]["name"] == "amfori"


def test_passport_links_every_credential_by_hash(chain: Any, credentials: list[Credential]) -> None:
    dpp = payload(credentials[0])
    by_id = {c.id: c for c in credentials[1:]}
    subject = dpp["credentialSubject"]
    links = [link for t in subject["traceabilityInformation"] for link in t["traceabilityEvent"]]
    links += [claim["conformityEvidence"] for claim in subject["conformityClaim"]]
    assert sorted(link["linkURL"] for link in links) == sorted(by_id)
    for link in links:
        assert link["hashDigest"] == hashlib.sha256(by_id[link["linkURL"]].jwt.encode()).hexdigest()
    product = subject["product"]
    assert product["registeredId"] == chain.gtin and product["batchNumber"] == chain.batch
    conformance = {c["id"].rsplit("-", 1)[1]: c["conformance"] for c in subject["conformityClaim"]}
    assert list(conformance.values()).count(False) == 1  # the knitter's conditional audit
    origins = {m["name"]: m for m in subject["materialsProvenance"]}
    assert origins["seed cotton"]["originCountry"] == "IN" and "mass" in origins["seed cotton"]
    assert "mass" not in origins["recycled polyester label tape"]  # metres are no mass


def test_untp_export_is_deterministic(chain: Any) -> None:
    first = [c.jwt for c in issue(take(chain.ledger, chain.gtin, chain.batch))]
    again = [c.jwt for c in issue(take(chain.ledger, chain.gtin, chain.batch))]
    assert first == again


def test_a_revoked_attestation_gets_no_credential(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a")
    c.b.revoke("veritas-audits", c.seqs[f"audit:{MILL}"], "auditor withdrew the report")
    names = [x.name for x in issue(take(c.ledger, c.gtin, c.batch))]
    assert f"dcc-{c.seqs[f'audit:{MILL}']}" not in names
    assert f"dcc-{c.seqs[f'audit:{FARM}']}" in names


def test_a_self_assessment_is_a_declaration_by_the_facility(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a", audited=(FARM, MILL))
    own = audit(c.b, KNITTER, issuer=KNITTER, standard="self-assessment", audit_date="2025-02-01")
    (dcc,) = [x for x in issue(take(c.ledger, c.gtin, c.batch)) if x.name == f"dcc-{own}"]
    subject = payload(dcc)["credentialSubject"]
    assert (subject["assessorLevel"], subject["attestationType"]) == ("Self", "declaration")
    assert subject["scope"]["issuingParty"]["id"].endswith(f"/parties/{KNITTER}")
    assert all(a["assessedFacility"][0]["IDverifiedByCAB"] is False for a in subject["assessment"])
