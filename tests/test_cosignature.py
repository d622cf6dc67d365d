"""tlog-cosignature v1 (SPEC §8): published cosignatures verify with our code, ours verify with
an independent Go verifier written from the C2SP text (tests/go/cosignature/main.go)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from go_verifier import go_binary, go_verify

from ledger.crypto.keys import PrivateKey
from ledger.errors import BadSignature, InvalidField, Malformed
from ledger.tlog import cosignature, note
from ledger.tlog.cosignature import Cosigner, VerifierKey, verify_cosignatures

SUNLIGHT = Path(__file__).parent / "vectors" / "witness" / "sunlight"
GO_SOURCE = Path(__file__).parent / "go" / "cosignature" / "main.go"
ROME = "000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706"  # SHA-256 of the origins
MILAN = "88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482"
CASES = {
    "witness": ("witness/witness.v0.json", f"witness/{ROME}"),
    "witness2": ("witness2/witness.v0.json", f"witness2/{MILAN}"),
    "mirror": ("witness/mirror/mirror.v0.json", f"witness/mirror/{ROME}"),
}
ORIGIN = "example.com/provenance-ledger/cosign"


def sunlight(case: str) -> tuple[list[VerifierKey], str]:
    meta, folder = CASES[case]
    keys = json.loads((SUNLIGHT / meta).read_text())["verifier_keys"]
    return [VerifierKey.from_text(k) for k in keys], (SUNLIGHT / folder / "checkpoint").read_text()


def log_note(size: int = 5, seed: bytes = b"\x07" * 32) -> str:
    signer = note.Signer(ORIGIN, PrivateKey.from_seed(seed))
    return note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, size, bytes(range(32))), signer).note


def witness(i: int) -> Cosigner:
    return Cosigner(f"witness{i}.example", PrivateKey.from_seed(bytes([i + 40]) * 32))


def cosigned(n: int, size: int = 5) -> str:
    text = log_note(size)
    body = text[: text.rfind("\n\n") + 1]
    return note.add_signatures(text, [witness(i).cosign(body, 1_767_139_200 + i) for i in range(n)])


@pytest.mark.parametrize("case", sorted(CASES))
def test_published_cosignatures_verify(case: str) -> None:
    vkeys, checkpoint = sunlight(case)
    found = verify_cosignatures(checkpoint, vkeys)
    assert list(found) == [vkeys[0].name]
    assert found[vkeys[0].name].timestamp == 1_767_139_200  # 2025-12-31T00:00:00Z, as in the file


@pytest.mark.parametrize("case", sorted(CASES))
def test_published_cosignature_tampered_is_refused(case: str) -> None:
    vkeys, checkpoint = sunlight(case)
    lines = checkpoint.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the tree size
    with pytest.raises(BadSignature, match="does not verify"):
        verify_cosignatures("\n".join(lines), vkeys)


def test_published_vkeys_round_trip() -> None:
    for case in CASES:
        meta, _ = CASES[case]
        for text in json.loads((SUNLIGHT / meta).read_text())["verifier_keys"]:
            assert VerifierKey.from_text(text).to_text() == text


def test_key_id_is_over_name_newline_type_and_key() -> None:
    w = witness(1)
    import hashlib

    want = hashlib.sha256(w.name.encode() + b"\n\x04" + w.key.public.raw).digest()[:4]
    assert w.vkey.key_id == want
    assert w.vkey.to_text().startswith(f"{w.name}+{want.hex()}+")


def test_cosignature_line_layout() -> None:
    w = witness(2)
    line = w.cosign("o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n", 1_700_000_000)
    assert line.startswith(f"\u2014 {w.name} ") and line.endswith("\n")
    raw = base64.b64decode(line.split(" ")[-1])
    assert raw[:4] == w.vkey.key_id
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    assert len(raw) == 4 + 8 + 64


def test_our_cosignatures_verify_and_keep_the_log_signature() -> None:
    signed = cosigned(3)
    assert len(note.split_note(signed)[1]) == 4
    found = verify_cosignatures(signed, [witness(i).vkey for i in range(3)])
    assert sorted(found) == sorted(witness(i).name for i in range(3))
    log = note.Signer(ORIGIN, PrivateKey.from_seed(b"\x07" * 32))
    opened = note.SignedCheckpoint.open(signed, log.verifier)
    assert opened.checkpoint.size == 5


def test_unknown_cosigner_is_ignored_and_impostor_with_same_name_too() -> None:
    signed = cosigned(1)
    impostor = Cosigner(witness(0).name, PrivateKey.from_seed(b"\x99" * 32))
    assert verify_cosignatures(signed, [witness(5).vkey]) == {}
    assert verify_cosignatures(signed, [impostor.vkey]) == {}  # same name, other key ID


def test_cosignature_over_another_checkpoint_is_refused() -> None:
    signed = cosigned(1, size=5)
    line = signed.rstrip("\n").split("\n")[-1] + "\n"
    other = note.add_signatures(log_note(6), [line])
    with pytest.raises(BadSignature, match="witness0.example"):
        verify_cosignatures(other, [witness(0).vkey])


def test_cosignature_with_log_signature_type_is_not_a_cosigner_key() -> None:
    log_vkey = note.Signer(ORIGIN, PrivateKey.from_seed(b"\x07" * 32)).verifier.to_text()
    assert VerifierKey.from_text(log_vkey).alg == 0x01
    with pytest.raises(InvalidField, match="not a cosignature key"):
        cosignature.cosigner_vkey(log_vkey)


@pytest.mark.parametrize(
    ("vkey", "why"),
    [
        ("nobody", "not a verifier key"),
        ("a b+00000000+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not a key name"),
        ("w+zzzzzzzz+BAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "not well-formed"),
        ("w+00000000+BQAA", "not an Ed25519"),
    ],
)
def test_bad_vkeys_are_refused_with_the_reason(vkey: str, why: str) -> None:
    with pytest.raises(InvalidField, match=why):
        VerifierKey.from_text(vkey)


def test_mismatched_key_hash_is_refused() -> None:
    text = witness(1).vkey.to_text()
    name, h, key = text.split("+", 2)
    with pytest.raises(InvalidField, match="does not match"):
        VerifierKey.from_text(f"{name}+{'0' * 8 if h != '0' * 8 else '1' * 8}+{key}")


def test_reply_parsing() -> None:
    line = witness(1).cosign("o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n", 5)
    assert cosignature.cosignature_lines(line + line)[0].name == witness(1).name
    with pytest.raises(Malformed):
        cosignature.cosignature_lines("no dash\n")
    with pytest.raises(Malformed):
        cosignature.cosignature_lines(line.rstrip("\n"))


# -- an independent verifier ------------------------------------------------------------


def test_go_verifier_accepts_our_cosignatures() -> None:
    go_binary(GO_SOURCE)
    signed = cosigned(3)
    proc = go_verify({"note": signed, "vkeys": [witness(i).vkey.to_text() for i in range(3)]}, GO_SOURCE)
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.splitlines() == [f"ok witness{i}.example {1_767_139_200 + i}" for i in range(3)]


def test_go_verifier_accepts_the_published_cosignatures() -> None:
    go_binary(GO_SOURCE)
    for case in CASES:
        vkeys, checkpoint = sunlight(case)
        proc = go_verify({"note": checkpoint, "vkeys": [vkeys[0].to_text()]}, GO_SOURCE)
        assert proc.returncode == 0, proc.stdout


def test_go_verifier_refuses_a_tampered_cosignature() -> None:
    go_binary(GO_SOURCE)
    signed = cosigned(2)
    tampered = signed.replace("\n5\n", "\n6\n", 1)
    proc = go_verify({"note": tampered, "vkeys": [witness(0).vkey.to_text()]}, GO_SOURCE)
    assert proc.returncode == 1 and "does not verify" in proc.stdout
    other_time = cosigned(1)
    line = other_time.rstrip("\n").split("\n")[-1]
    raw = bytearray(base64.b64decode(line.split(" ")[-1]))
    raw[11] ^= 1  # the timestamp's last byte: the signed message changes
    forged = other_time.replace(line.split(" ")[-1], base64.b64encode(bytes(raw)).decode())
    proc = go_verify({"note": forged, "vkeys": [witness(0).vkey.to_text()]}, GO_SOURCE)
    assert proc.returncode == 1 and "does not verify" in proc.stdout
    with pytest.raises(BadSignature):
        verify_cosignatures(forged, [witness(0).vkey])


def test_go_sumdb_note_still_opens_a_cosigned_checkpoint_with_the_operator_key() -> None:
    """Cosignature lines are other keys' lines to golang.org/x/mod/sumdb/note: ignored."""
    go_binary()
    log = note.Signer(ORIGIN, PrivateKey.from_seed(b"\x07" * 32))
    signed = cosigned(3)
    proc = go_verify(
        {"vkey": log.verifier.to_text(), "checkpoint": signed, "inclusion": [], "consistency": []}
    )
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stdout + proc.stderr
