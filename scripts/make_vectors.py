#!/usr/bin/env python3
"""Generate the shared vectors of our own formats into tests/vectors/provenance/ (SPEC §15).

Every case names what it checks and carries the expected answer (``valid``); Python
(tests/test_vectors.py), Go (tests/go/vectors) and the browser module
(tests/test_vectors_browser.py) must each give that answer for every case. Keys come from
fixed seeds and every timestamp is fixed, so running this again writes the same bytes
(a test checks that the files in the repository are what this script writes).

    .venv/bin/python scripts/make_vectors.py [OUT_DIR]
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.crypto.canonical import jcs  # noqa: E402
from ledger.crypto.keys import STATEMENT_PREFIX, PrivateKey, b64  # noqa: E402
from ledger.tlog import merkle  # noqa: E402
from ledger.tlog.note import Checkpoint, Signer  # noqa: E402

OUT = ROOT / "tests" / "vectors" / "provenance"
ORIGIN = "vectors.example/provenance"
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
IDENTITY = (1).to_bytes(32, "little")
ORDER_8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")


def key(name: str) -> PrivateKey:
    return PrivateKey.from_seed(hashlib.sha256(f"provenance vectors/{name}".encode()).digest())


def statement(issuer: str, n: int, type_: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": type_,
        "id": f"vector-{issuer}-{n:04d}",
        "issuer": issuer,
        "issued_at": "2026-03-01T10:00:00Z",
        "body": body,
    }


ORIGIN_BODY = {
    "lot": "lot-0001",
    "material": "cotton",
    "quantity": {"amount": "1250.5", "unit": "kg"},
    "origin": {"country": "IN", "region": "Tamil Nadu"},
    "produced_on": "2026-02-20",
    "certifications": ["GOTS"],
}


def signature_cases() -> list[dict[str, Any]]:
    farm = key("farm")
    good = statement("farm-a", 1, "material-origin", ORIGIN_BODY)
    unicode_st = statement(
        "farm-a",
        2,
        "material-origin",
        {**ORIGIN_BODY, "lot": "lot-0002", "origin": {"country": "CI", "region": "Soubré, Nawa €😀"}},
    )

    def signed(st: dict[str, Any], k: PrivateKey = farm, message: bytes | None = None) -> dict[str, Any]:
        sig = k.sign(STATEMENT_PREFIX + jcs(st) if message is None else message)
        return {"statement": st, "public_key": k.public.b64, "key_id": k.public.key_id, "sig": b64(sig)}

    def with_sig(case: dict[str, Any], sig: bytes, public: bytes | None = None) -> dict[str, Any]:
        out = {**case, "sig": b64(sig)}
        if public is not None:
            out["public_key"] = b64(public)
        return out

    base = signed(good)
    raw = base64.b64decode(base["sig"])
    s = int.from_bytes(raw[32:], "little")
    r_y = int.from_bytes(raw[:32], "little") & (2**255 - 1)
    cases = [
        ("good", base, True, "the farm's signature over the prefix and JCS of its statement"),
        ("good-unicode", signed(unicode_st), True, "non-ASCII text: the JCS bytes are UTF-8, keys sorted"),
        (
            "statement-altered",
            {**base, "statement": {**good, "body": {**ORIGIN_BODY, "lot": "lot-0009"}}},
            False,
            "the body was changed after signing",
        ),
        (
            "no-domain-prefix",
            signed(good, message=jcs(good)),
            False,
            "signed JCS without 'provenance-ledger/v1 statement\\n'",
        ),
        (
            "not-canonical-json",
            signed(good, message=STATEMENT_PREFIX + json.dumps(good).encode()),
            False,
            "signed over json.dumps, not JCS",
        ),
        (
            "other-key",
            {**base, "public_key": key("other").public.b64},
            False,
            "checked with another party's key",
        ),
        (
            "s-plus-l",
            with_sig(base, raw[:32] + (s + L).to_bytes(32, "little")),
            False,
            "S + L: the same signature with a non-canonical scalar (S >= L); lax verifiers accept it",
        ),
        (
            "s-all-ones",
            with_sig(base, raw[:32] + b"\xff" * 31 + b"\x0f"),
            False,
            "S far above L",
        ),
        (
            "r-not-canonical",
            with_sig(base, (P + 1).to_bytes(32, "little") + raw[32:]),
            False,
            "R encoded with y >= p",
        ),
        (
            "r-sign-of-zero",
            with_sig(base, (1 | 1 << 255).to_bytes(32, "little") + raw[32:]),
            False,
            "R encodes x = 0 with the sign bit set",
        ),
        (
            "key-small-order-identity",
            with_sig(base, IDENTITY + bytes(32), IDENTITY),
            False,
            "the identity as public key, R = identity, S = 0: valid for every message to a lax verifier",
        ),
        (
            "key-small-order-8",
            with_sig(base, ORDER_8 + bytes(32), ORDER_8),
            False,
            "a key of order 8 with R of order 8 and S = 0",
        ),
        (
            "key-not-canonical",
            with_sig(base, raw, (P + 1).to_bytes(32, "little")),
            False,
            "a public key encoded with y >= p",
        ),
        ("truncated", with_sig(base, raw[:63]), False, "63 bytes"),
    ]
    assert r_y < P
    # what every verifier signs over: the prefix and JCS of the statement (Go takes these bytes)
    return [
        {"name": n, **c, "message": b64(STATEMENT_PREFIX + jcs(c["statement"])), "valid": v, "why": w}
        for n, c, v, w in cases
    ]


def entry(seq: int, prev: str, st: dict[str, Any], k: PrivateKey) -> dict[str, Any]:
    return {
        "seq": seq,
        "prev": prev,
        "recorded_at": f"2026-03-01T10:00:{seq:02d}.000Z",
        "statement": st,
        "signature": {"key_id": k.public.key_id, "sig": b64(k.sign(STATEMENT_PREFIX + jcs(st)))},
    }


def log_entries(n: int) -> list[bytes]:
    """``n`` chained entries: material-origins and shipments of one farm."""
    farm = key("farm")
    prev, out = "0" * 64, []
    for seq in range(n):
        if seq % 2 == 0:
            st = statement("farm-a", seq, "material-origin", {**ORIGIN_BODY, "lot": f"lot-{seq:04d}"})
        else:
            body = {
                "lot": f"lot-{seq - 1:04d}",
                "amount": "100",
                "unit": "kg",
                "to": "mill-a",
                "shipped_on": "2026-02-28",
            }
            st = statement("farm-a", seq, "shipment", body)
        data = jcs(entry(seq, prev, st, farm))
        out.append(data)
        prev = merkle.leaf_hash(data).hex()
    return out


def entry_cases() -> list[dict[str, Any]]:
    good = log_entries(2)[1]
    obj = json.loads(good)
    text = good.decode()

    def case(name: str, data: bytes, valid: bool, why: str, hash_of: bytes | None = None) -> dict[str, Any]:
        return {
            "name": name,
            "canonical": b64(data),
            "entry_hash": merkle.leaf_hash(data if hash_of is None else hash_of).hex(),
            "valid": valid,
            "why": why,
        }

    flipped = bytearray(good)
    flipped[40] ^= 0x01
    escaped = text.replace('"mill-a"', '"mill\\u002da"')
    assert escaped != text
    return [
        case("good", good, True, "a shipment entry in JCS; entry_hash = SHA-256(0x00 ‖ bytes)"),
        case("unicode", log_entries(1)[0], True, "a material-origin entry"),
        case(
            "hash-of-other-bytes",
            good,
            False,
            "entry_hash is of the bytes with one bit flipped",
            bytes(flipped),
        ),
        case("bit-flipped", bytes(flipped), False, "one bit flipped after hashing", good),
        case("whitespace", json.dumps(obj).encode(), False, "valid JSON with spaces: not canonical"),
        case("keys-unsorted", _unsorted(obj), False, "members out of JCS order"),
        case("escaped-character", escaped.encode(), False, "a character escaped that JCS writes as is"),
        case("float", text.replace('"seq":1,', '"seq":1.0,').encode(), False, "a number with a fraction"),
        case("duplicate-key", text.replace('{"prev"', '{"seq":1,"prev"').encode(), False, "seq twice"),
        case(
            "big-integer",
            text.replace('"seq":1,', '"seq":9007199254740993,').encode(),
            False,
            "seq beyond 2^53",
        ),
        case(
            "not-utf8",
            text.replace("mill-a", "mill\udcff").encode("utf-8", "surrogateescape"),
            False,
            "a byte that is not UTF-8",
        ),
        case(
            "lone-surrogate", text.replace("mill-a", "mill\\ud800").encode(), False, "a lone surrogate escape"
        ),
    ]


def _unsorted(obj: dict[str, Any]) -> bytes:
    body = jcs(obj).decode()
    seq_member = '"seq":1,'
    assert seq_member in body
    return ("{" + seq_member + body[1:].replace(seq_member, "")).encode()


def proof_cases() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    log = log_entries(13)
    leaves = [merkle.leaf_hash(d) for d in log]
    roots = {n: merkle.mth(leaves[:n]) for n in range(1, 14)}
    inclusion = []
    for index, size in ((0, 1), (0, 13), (5, 13), (12, 13), (7, 8), (6, 7)):
        hashes = merkle.resolve_from_leaves(merkle.inclusion_ranges(index, size), leaves)
        good = {
            "leaf_index": index,
            "tree_size": size,
            "leaf_hash": leaves[index].hex(),
            "hashes": [h.hex() for h in hashes],
            "root": roots[size].hex(),
        }
        inclusion.append({"name": f"leaf-{index}-of-{size}", **good, "valid": True, "why": "RFC 9162 §2.1.3"})
        if not hashes:
            continue
        flipped = [*good["hashes"]]
        flipped[0] = ("1" if flipped[0][0] == "0" else "0") + flipped[0][1:]
        for name, change, why in (
            ("other-root", {"root": roots[size - 1 if size > 1 else 2].hex()}, "the root of another tree"),
            ("wrong-index", {"leaf_index": (index + 1) % size}, "the proof of another leaf"),
            ("flipped-hash", {"hashes": flipped}, "one proof hash altered"),
            ("truncated", {"hashes": good["hashes"][:-1]}, "the last hash dropped"),
            ("extended", {"hashes": [*good["hashes"], good["root"]]}, "a hash appended"),
            (
                "leaf-as-node",
                {"leaf_hash": merkle.node_hash(leaves[index], leaves[index]).hex()},
                "another leaf hash",
            ),
        ):
            inclusion.append(
                {"name": f"leaf-{index}-of-{size}-{name}", **good, **change, "valid": False, "why": why}
            )
    consistency = []
    for old, new in ((1, 13), (4, 13), (7, 13), (8, 13), (12, 13), (3, 7), (13, 13)):
        hashes = merkle.resolve_from_leaves(merkle.consistency_ranges(old, new), leaves)
        good = {
            "old_size": old,
            "new_size": new,
            "old_root": roots[old].hex(),
            "new_root": roots[new].hex(),
            "hashes": [h.hex() for h in hashes],
        }
        consistency.append({"name": f"{old}-to-{new}", **good, "valid": True, "why": "RFC 9162 §2.1.4"})
        if not hashes:
            continue
        flipped = [*good["hashes"]]
        flipped[-1] = ("1" if flipped[-1][0] == "0" else "0") + flipped[-1][1:]
        for name, change, why in (
            ("other-old-root", {"old_root": roots[old + 1].hex()}, "a fork: the old root of another tree"),
            ("other-new-root", {"new_root": roots[new - 1].hex()}, "the new root of another tree"),
            ("flipped-hash", {"hashes": flipped}, "one proof hash altered"),
            ("truncated", {"hashes": good["hashes"][:-1]}, "the last hash dropped"),
            ("wrong-old-size", {"old_size": old + 1}, "claims another old size"),
        ):
            consistency.append(
                {"name": f"{old}-to-{new}-{name}", **good, **change, "valid": False, "why": why}
            )
    return inclusion, consistency


def operator_signer() -> Signer:
    return Signer(ORIGIN, key("operator"))


def checkpoint_note(size: int = 13) -> str:
    leaves = [merkle.leaf_hash(d) for d in log_entries(size)]
    return operator_signer().sign_note(Checkpoint(ORIGIN, size, merkle.mth(leaves)).to_text())


def checkpoint_cases() -> list[dict[str, Any]]:
    signer = operator_signer()
    vkey = signer.verifier.to_text()
    note = checkpoint_note()
    lines = note.split("\n")
    other = Signer(ORIGIN, key("impostor")).sign_note(note[: note.index("\n\n") + 1])
    named_other = Signer("elsewhere.example/log", key("operator")).sign_note(
        "elsewhere.example/log\n" + "\n".join(lines[1:3]) + "\n"
    )
    text = note[: note.index("\n\n") + 1]
    resized = note.replace(f"\n{lines[1]}\n", f"\n{int(lines[1]) + 1}\n", 1)
    cases = [
        ("good", note, True, "signed by the operator's key"),
        ("other-key", other, False, "signed by another key under the log's name"),
        ("other-origin", named_other, False, "the operator's key, another origin"),
        ("size-altered", resized, False, "the tree size changed after signing"),
        (
            "signature-flipped",
            note[:-4] + ("A" if note[-4] != "A" else "B") + note[-3:],
            False,
            "one base64 digit of the signature changed",
        ),
        ("no-signature", text + "\n", False, "no signature line"),
        (
            "extension-line",
            signer.sign_note(text + "extension: ours carry none, readers accept them\n"),
            True,
            "C2SP allows extension lines after the root; SPEC §8 says ours carry none",
        ),
        (
            "extra-unknown-signature",
            note + other.split("\n\n")[1],
            True,
            "an unknown key's line beside the operator's is ignored",
        ),
    ]
    return [{"name": n, "vkey": vkey, "note": t, "valid": v, "why": w} for n, t, v, w in cases]


def witness(i: int) -> tuple[str, PrivateKey]:
    return f"witness-{i}.vectors.example", key(f"witness {i}")


def witness_vkey(name: str, k: PrivateKey) -> str:
    h = hashlib.sha256(name.encode() + b"\n\x04" + k.public.raw).digest()[:4]
    return f"{name}+{h.hex()}+{b64(bytes([4]) + k.public.raw)}"


def cosign(note: str, name: str, k: PrivateKey, timestamp: int = 1_780_000_000) -> str:
    text = note[: note.index("\n\n") + 1]
    h = hashlib.sha256(name.encode() + b"\n\x04" + k.public.raw).digest()[:4]
    sig = k.sign(f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode())
    return f"{note}\u2014 {name} {b64(h + struct.pack('>Q', timestamp) + sig)}\n"


def policy(k: int | str = 2) -> str:
    lines = [f"witness w{i} {witness_vkey(*witness(i))}" for i in range(3)]
    return "\n".join([*lines, f"group main {k} w0 w1 w2", "quorum main", ""])


def cosignature_cases() -> list[dict[str, Any]]:
    note = checkpoint_note()
    vkey = operator_signer().verifier.to_text()
    w = [witness(i) for i in range(3)]
    two = cosign(cosign(note, *w[0]), *w[2])
    impostor = cosign(cosign(note, *w[0]), w[1][0], key("not witness 1"))
    last = two.split("\n")[-2]
    name, sig = last[2:].rsplit(" ", 1)
    raw = bytearray(base64.b64decode(sig))
    raw[11] ^= 1  # the timestamp's last byte
    altered_time = two.replace(last, f"\u2014 {name} {b64(bytes(raw))}")
    cases = [
        ("two-of-three", two, policy(2), True, "w0 and w2 cosigned; the policy needs 2 of 3"),
        ("short-by-one", cosign(note, *w[0]), policy(2), False, "only w0 cosigned; 2 of 3 needed"),
        ("all-needed", two, policy("all"), False, "2 cosigned; all 3 needed"),
        ("any", cosign(note, *w[1]), policy("any"), True, "w1 cosigned; any 1 needed"),
        ("impostor-not-counted", impostor, policy(2), False, "the second line has w1's name but another key"),
        (
            "timestamp-altered",
            altered_time,
            policy(2),
            False,
            "w2's cosigned time changed: its signature fails",
        ),
        ("quorum-none", note, "quorum none\n", True, "no witness required"),
        ("no-cosignature", note, policy(1), False, "no witness cosigned; 1 needed"),
    ]
    return [
        {"name": n, "vkey": vkey, "note": t, "policy": p, "valid": v, "why": y} for n, t, p, v, y in cases
    ]


GTIN, BATCH = "09506000134352", "VEC-1"


class FixedClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 2, 9, 0, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def build_chain(home: Path) -> tuple[Any, dict[str, Any], list[bytes], int]:
    """A small real ledger: a farm, a garment maker audited twice (the second time after its
    auditor rotated its key), a brand's product. Returns (ledger, bundle, every entry's bytes,
    the seq of the attestation signed after the rotation)."""
    from ledger.core.ledger import Ledger
    from ledger.demo.builder import Builder
    from ledger.trace.bundle import build_bundle

    ledger = Ledger.init(home, ORIGIN, name="Vector Operator", clock=FixedClock())
    b = Builder(ledger, seed="provenance vectors", issued_at="2026-03-01T09:00:00Z")
    b.party("farm-a", "Green Valley Cotton", "farm", "IN")
    b.party("make-a", "Dhaka Garments", "manufacturer", "BD")
    b.party("brand-a", "Nordic Wear", "brand", "SE")
    b.party("audit-a", "Alpine Audits", "auditor", "CH")
    b.audit("audit-a", "farm-a", standard="SA8000", audit_date="2026-01-10", valid_until="2027-01-10")
    b.audit("audit-a", "make-a", standard="SMETA", audit_date="2026-01-12", valid_until="2027-01-12")
    b.origin(
        "farm-a", "cot-1", "cotton", "500", "kg", country="IN", produced_on="2026-02-01", region="Tamil Nadu"
    )
    b.ship("farm-a", "cot-1", "500", "kg", "make-a", "2026-02-03")
    b.transform(
        "make-a",
        "knitting and sewing",
        "2026-02-10",
        [("cot-1", "500", "kg")],
        [("tee-1", "t-shirt", "1000", "pcs")],
    )
    b.ship("make-a", "tee-1", "1000", "pcs", "brand-a", "2026-02-12")
    if hasattr(b, "rotate"):
        b.rotate("audit-a")
    else:  # a v1 ledger re-registers the party with its new key
        b.party("audit-a", "Alpine Audits", "auditor", "CH", keys=[key("audit-a next")])
    late = b.audit("audit-a", "make-a", standard="SA8000", audit_date="2026-02-20", valid_until="2027-02-20")
    b.product("brand-a", GTIN, BATCH, "Organic Tee", [("tee-1", "1000", "pcs")])
    # the brand's policy knows how many shirts a kilogram makes, so the trace is compliant
    sewing = {"process": "sewing", "input_unit": "kg", "output_unit": "pcs", "max": "4"}
    (home / "policy.json").write_text(json.dumps({"yields": [sewing]}), encoding="utf-8")
    bundle = build_bundle(ledger, GTIN, BATCH)
    log = [ledger.entry(s).canonical for s in range(ledger.size)]
    return ledger, bundle, log, late


def rekey_operator(log: list[bytes], operator: PrivateKey) -> list[bytes]:
    """The log with the operator's random key replaced by ``operator`` (genesis and every
    operator statement signed again), so the vectors are the same bytes on every run."""
    out = []
    for data in log:
        e = json.loads(data)
        st = e["statement"]
        if st["issuer"] == "operator":
            if st["type"] == "genesis":
                st["id"] = "vector-genesis"
                st["body"]["key"] = operator.public.b64
                if "next" in st["body"]:
                    st["body"]["next"] = [hashlib.sha256(key("operator next").public.raw).hexdigest()]
            sig = operator.sign(STATEMENT_PREFIX + jcs(st))
            e["signature"] = {"key_id": operator.public.key_id, "sig": b64(sig)}
        out.append(jcs(e))
    return out


def bundle_cases(out: Path) -> list[dict[str, Any]]:
    """Bundles (SPEC §12) of a real ledger, cosigned, with tampered variants in bundles/."""
    sys.path.insert(0, str(ROOT / "tests"))
    from verifier_kit import Witness, flip_bit, resign, rewrite_log

    operator = key("operator")
    vkey = Signer(ORIGIN, operator).verifier.to_text()
    witnesses = [Witness(*witness(i)) for i in range(3)]
    with tempfile.TemporaryDirectory() as tmp:
        ledger, original, log, late = build_chain(Path(tmp) / "home")
        ledger.close()
    log = rekey_operator(log, operator)
    base = {**original, "vkey": vkey}

    def forge(entries: list[bytes], cosigners: tuple[Witness, ...]) -> dict[str, Any]:
        return rewrite_log(base, entries, operator, ORIGIN, cosigners=cosigners)

    good = forge(log, (witnesses[0], witnesses[2]))
    good_bytes = json.dumps(good, indent=1, ensure_ascii=False).encode()
    impostor = Signer(ORIGIN, key("impostor"))
    lines = good["checkpoint"].split("\n")
    foreign = impostor.sign_note("\n".join(lines[:3]) + "\n")
    swapped = json.loads(good_bytes)
    swapped["entries"][1]["inclusion_proof"]["hashes"] = swapped["entries"][2]["inclusion_proof"]["hashes"]
    rotated = [*log]
    forged_entry = json.loads(rotated[late])
    auditor_old = key("audit-a")  # the Builder's seeded first key of audit-a
    forged_entry["signature"] = {
        "key_id": auditor_old.public.key_id,
        "sig": b64(auditor_old.sign(STATEMENT_PREFIX + jcs(forged_entry["statement"]))),
    }
    rotated[late] = jcs(forged_entry)
    claim = json.loads(good_bytes)
    claim["verdict"] = "non-compliant" if claim["verdict"] != "non-compliant" else "compliant"
    flips = {
        f"bit-{p}": flip_bit(good_bytes, p)
        for p in (0, len(good_bytes) // 3, len(good_bytes) // 2, len(good_bytes) - 2)
    }
    two_of_three = policy(2)
    cases: list[tuple[str, bytes, str, str, bool, str]] = [
        ("good", good_bytes, vkey, two_of_three, True, "a real ledger's bundle, cosigned by w0 and w2"),
        (
            "good-no-witness-policy",
            good_bytes,
            vkey,
            "quorum none\n",
            True,
            "the same without a witness quorum",
        ),
        (
            "other-pinned-key",
            good_bytes,
            Signer(ORIGIN, key("impostor")).verifier.to_text(),
            two_of_three,
            False,
            "the verifier pins another operator key",
        ),
        (
            "quorum-short-by-one",
            _dump(forge(log, (witnesses[0],))),
            vkey,
            two_of_three,
            False,
            "only w0 cosigned; 2 of 3 needed",
        ),
        (
            "foreign-checkpoint",
            _dump(resign({**good, "checkpoint": foreign}, operator)),
            vkey,
            "quorum none\n",
            False,
            "the checkpoint is signed by another key under the log's name",
        ),
        (
            "proof-to-another-root",
            _dump(resign(swapped, operator)),
            vkey,
            two_of_three,
            False,
            "entry 1 carries entry 2's proof",
        ),
        (
            "signer-rotated-away",
            _dump(forge(rotated, (witnesses[0], witnesses[2]))),
            vkey,
            two_of_three,
            False,
            f"entry {late} is signed with the auditor's retired key, in a log rewritten and re-signed",
        ),
        (
            "claim-altered",
            _dump(claim),
            vkey,
            two_of_three,
            False,
            "the verdict changed without the operator's signature",
        ),
        ("malformed-json", good_bytes[:-40], vkey, two_of_three, False, "the file cut short"),
        *[
            (name, data, vkey, two_of_three, False, "one bit flipped in the file")
            for name, data in flips.items()
        ],
    ]
    (out / "bundles").mkdir(exist_ok=True)
    for stale in (out / "bundles").glob("*.json"):
        stale.unlink()
    index = []
    for name, data, pinned, pol, valid, why in cases:
        (out / "bundles" / f"{name}.json").write_bytes(data)
        index.append(
            {
                "name": name,
                "file": f"bundles/{name}.json",
                "vkey": pinned,
                "policy": pol,
                "valid": valid,
                "why": why,
            }
        )
    return index


def published_tiles(entries: list[bytes], signer: Signer) -> dict[str, bytes]:
    """``entries`` as C2SP tlog-tiles (SPEC §13): the checkpoint, hash tiles, entry bundles."""
    from ledger.publish.content import tile_bytes
    from ledger.store import sqlite as store
    from ledger.tlog.tiles import encode_bundle, levels, tiles_for_size

    conn = store.connect(":memory:")
    store.create_schema(conn)
    frontier = merkle.Frontier()
    for data in entries:
        store.insert_nodes(conn, frontier.append(merkle.leaf_hash(data)))
    size = len(entries)
    files = {"checkpoint": signer.sign_note(Checkpoint(ORIGIN, size, frontier.root()).to_text()).encode()}
    for level in levels(size):
        for tile in tiles_for_size(size, level):
            files[tile.path] = tile_bytes(conn, tile, size)
    for bundle in tiles_for_size(size, None):
        files[bundle.path] = encode_bundle(entries[bundle.first : bundle.first + bundle.width])
    return files


def _recorded_at_digit(bundle: bytes, index: int) -> int:
    """The offset in ``bundle`` of a digit of record ``index``'s recorded_at."""
    at = 0
    for _ in range(index):
        at += 2 + int.from_bytes(bundle[at : at + 2], "big")
    record = bundle[at + 2 : at + 2 + int.from_bytes(bundle[at : at + 2], "big")]
    return at + 2 + record.index(b'"recorded_at":"') + len(b'"recorded_at":"') + 3


def _flipped(data: bytes, offset: int) -> bytes:
    return data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1 :]


def tile_vectors() -> dict[str, Any]:
    """A log of 300 entries as tiles (a full and a partial tile at level 0, a partial one at
    level 1) in ``files``, and cases that alter them: ``flip`` (xor 0x01 into the byte at
    ``offset``), ``cut`` (keep the first ``length`` bytes), ``append`` and ``replace`` (base64).
    A reader checks the checkpoint's signature with ``vkey``, rebuilds its root from the
    tiles and hashes every entry of the bundles to its leaf."""
    entries = log_entries(300)
    signer = operator_signer()
    good = published_tiles(entries, signer)
    changed = [*entries[:5], entries[5].replace(b'"recorded_at":"2026', b'"recorded_at":"2027'), *entries[6:]]
    rebuilt = published_tiles(changed, signer)
    full, partial = "tile/entries/000", "tile/entries/001.p/44"
    assert _flipped(good[full], _recorded_at_digit(good[full], 5)) == rebuilt[full]
    intruder = Signer(ORIGIN, key("intruder")).sign_note(good["checkpoint"].decode().split("\n\n")[0] + "\n")

    def flip(path: str, offset: int) -> dict[str, Any]:
        return {"flip": [{"path": path, "offset": offset}]}

    cases = [
        ("happy-path", {}, True, "the checkpoint, every tile and every entry agree"),
        (
            "entry-changed-in-full-bundle",
            flip(full, _recorded_at_digit(good[full], 100)),
            False,
            "entry 100 does not hash to its leaf",
        ),
        (
            "entry-changed-in-partial-bundle",
            flip(partial, _recorded_at_digit(good[partial], 14)),
            False,
            "entry 270 does not hash to its leaf",
        ),
        (
            "flipped-bit-in-full-hash-tile",
            flip("tile/0/000", 32 * 9 + 4),
            False,
            "tile/0/000 does not hash to its entry in tile/1/000.p/1",
        ),
        (
            "flipped-bit-in-partial-hash-tile",
            flip("tile/0/001.p/44", 40),
            False,
            "the tiles give another root than the checkpoint",
        ),
        (
            "flipped-bit-in-level-1-tile",
            flip("tile/1/000.p/1", 0),
            False,
            "the tiles give another root than the checkpoint",
        ),
        (
            "tiles-rebuilt-for-a-changed-entry",
            {
                **flip(full, _recorded_at_digit(good[full], 5)),  # "2026" becomes "2027"
                "replace": {
                    p: b64(d)
                    for p, d in sorted(rebuilt.items())
                    if p != "checkpoint" and d != good[p] and not p.startswith("tile/entries/")
                },
            },
            False,
            "entry 5 changed and every tile recomputed: only the signed root stops it",
        ),
        (
            "truncated-partial-hash-tile",
            {"cut": {"tile/0/001.p/44": 44 * 32 - 1}},
            False,
            "a tile of width 44 is 1,408 bytes",
        ),
        (
            "trailing-bytes-in-bundle",
            {"append": {partial: b64(b"\x00")}},
            False,
            "a bundle of width 44 holds exactly 44 records",
        ),
        (
            "checkpoint-signed-by-another-key",
            {"replace": {"checkpoint": b64(intruder.encode())}},
            False,
            "the checkpoint is not signed by the operator's key",
        ),
    ]
    return {
        "vkey": signer.verifier.to_text(),
        "size": 300,
        "files": {path: b64(data) for path, data in sorted(good.items())},
        "cases": [{"name": n, "valid": v, "why": w, **edits} for n, edits, v, w in cases],
    }


def _dump(bundle: dict[str, Any]) -> bytes:
    return json.dumps(bundle, indent=1, ensure_ascii=False).encode()


def write(out: Path, name: str, data: Any) -> None:
    (out / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(out: Path = OUT) -> None:
    out.mkdir(parents=True, exist_ok=True)
    inclusion, consistency = proof_cases()
    write(out, "signatures.json", {"prefix": STATEMENT_PREFIX.decode(), "cases": signature_cases()})
    write(out, "entries.json", {"cases": entry_cases()})
    write(out, "inclusion.json", {"cases": inclusion})
    write(out, "consistency.json", {"cases": consistency})
    write(out, "checkpoints.json", {"cases": checkpoint_cases()})
    write(out, "cosignatures.json", {"cases": cosignature_cases()})
    write(out, "bundles.json", {"cases": bundle_cases(out)})
    write(out, "tiles.json", tile_vectors())


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
