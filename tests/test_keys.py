"""Ed25519 keys (SPEC §3) against RFC 8032 §7.1, key ids, PEM files and strict base64.

Vectors: tests/vectors/ed25519/rfc8032-7.1.json (TEST 1, 2, 3, 1024 and SHA(abc)).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ledger.crypto import keys
from ledger.errors import BadSignature, ConfigError, InvalidField

VECTORS = json.loads((Path(__file__).parent / "vectors" / "ed25519" / "rfc8032-7.1.json").read_text())[
    "cases"
]
IDS = [c["name"] for c in VECTORS]


@pytest.fixture(autouse=True)
def _no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(keys.PASSPHRASE_ENV, raising=False)


def _case(case: dict) -> tuple[bytes, bytes, bytes, bytes]:
    return (
        bytes.fromhex(case["secret_key"]),
        bytes.fromhex(case["public_key"]),
        bytes.fromhex(case["message"]),
        bytes.fromhex(case["signature"]),
    )


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_rfc8032_public_key(case: dict) -> None:
    seed, public, _, _ = _case(case)
    key = keys.PrivateKey.from_seed(seed)
    assert key.public.raw == public
    assert key.public.b64 == base64.b64encode(public).decode()
    assert keys.PublicKey.from_b64(key.public.b64) == key.public


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_rfc8032_signature(case: dict) -> None:
    seed, public, message, signature = _case(case)
    assert keys.PrivateKey.from_seed(seed).sign(message) == signature
    keys.verify_raw(public, signature, message)
    keys.PublicKey(public).verify(signature, message)


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_rfc8032_tampering_is_refused(case: dict) -> None:
    _, public, message, signature = _case(case)
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    with pytest.raises(BadSignature):
        keys.verify_raw(public, flipped, message)
    with pytest.raises(BadSignature):
        keys.verify_raw(public, signature, message + b"\x00")
    other = next(c for c in VECTORS if c is not case)
    with pytest.raises(BadSignature):
        keys.verify_raw(bytes.fromhex(other["public_key"]), signature, message)
    with pytest.raises(BadSignature):
        keys.verify_raw(public, signature[:63], message)
    with pytest.raises(BadSignature):
        keys.verify_raw(public[:31], signature, message)


def test_rfc8032_sha_abc_message_is_sha512_of_abc() -> None:
    assert bytes.fromhex(VECTORS[4]["message"]) == hashlib.sha512(b"abc").digest()
    assert len(bytes.fromhex(VECTORS[3]["message"])) == 1023


@pytest.mark.parametrize("case", VECTORS, ids=IDS)
def test_key_id(case: dict) -> None:
    """SPEC §3: key_id = first 16 lowercase hex characters of SHA-256(raw public key)."""
    public = bytes.fromhex(case["public_key"])
    want = hashlib.sha256(public).hexdigest()[:16]
    assert keys.key_id(public) == want
    assert keys.PublicKey(public).key_id == want
    assert len(want) == 16 and want == want.lower()


def test_statement_message_is_domain_separated() -> None:
    assert keys.statement_message(b'{"a":1}') == b'provenance-ledger/v1 statement\n{"a":1}'


# --- PEM files ---------------------------------------------------------------------------

SEED = bytes.fromhex(VECTORS[0]["secret_key"])


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pem_round_trip_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "operator.key"
    key = keys.PrivateKey.from_seed(SEED)
    key.save(path)
    assert _mode(path) == 0o600
    text = path.read_bytes()
    assert text.startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8, unencrypted
    loaded = keys.PrivateKey.load(path, strict_mode=True)
    assert loaded.public == key.public
    assert loaded.sign(b"m") == key.sign(b"m")


def test_pem_mode_0600_under_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "k.pem"
        keys.PrivateKey.generate().save(path)
    finally:
        os.umask(old)
    assert _mode(path) == 0o600


def test_save_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    keys.PrivateKey.from_seed(SEED).save(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        keys.PrivateKey.generate().save(path)
    assert path.read_bytes() == before


def test_pem_with_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    key = keys.PrivateKey.from_seed(SEED)
    key.save(path, passphrase=b"correct horse")
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert _mode(path) == 0o600
    assert keys.PrivateKey.load(path, passphrase=b"correct horse").public == key.public
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(path, passphrase=b"wrong horse")
    with pytest.raises(ConfigError):  # encrypted, and no passphrase anywhere
        keys.PrivateKey.load(path)


def test_pem_passphrase_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "from the environment")
    path = tmp_path / "k.pem"
    key = keys.PrivateKey.from_seed(SEED)
    key.save(path)
    assert path.read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert keys.PrivateKey.load(path).public == key.public
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "something else")
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(path)


def test_passphrase_given_for_unencrypted_key(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    keys.PrivateKey.from_seed(SEED).save(path)
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(path, passphrase=b"unexpected")


def test_strict_mode_refuses_group_or_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    keys.PrivateKey.from_seed(SEED).save(path)
    for mode in (0o644, 0o640, 0o604, 0o660, 0o601):
        path.chmod(mode)
        with pytest.raises(ConfigError, match="chmod 600"):
            keys.PrivateKey.load(path, strict_mode=True)
        # Party keys (not strict) still load.
        assert keys.PrivateKey.load(path).public.raw == bytes.fromhex(VECTORS[0]["public_key"])
    path.chmod(0o400)
    keys.PrivateKey.load(path, strict_mode=True)


def test_missing_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(tmp_path / "absent.pem")


def test_not_an_ed25519_key(tmp_path: Path) -> None:
    path = tmp_path / "ec.pem"
    path.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(path)


def test_garbage_key_file(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ConfigError):
        keys.PrivateKey.load(path)


# --- strict base64 -------------------------------------------------------------------------

PUB_B64 = base64.b64encode(bytes.fromhex(VECTORS[0]["public_key"])).decode()


@pytest.mark.parametrize(
    "text,raw",
    [
        ("", b""),
        ("AA==", b"\x00"),
        ("AAA=", b"\x00\x00"),
        ("AAAA", b"\x00\x00\x00"),
        ("+/8=", b"\xfb\xff"),
    ],
)
def test_unb64_accepts_canonical_standard_base64(text: str, raw: bytes) -> None:
    assert keys.unb64(text, field="f") == raw


@pytest.mark.parametrize(
    "text",
    [
        "AA",  # missing padding
        "AA=",  # short padding
        "AA===",  # extra padding
        "AB==",  # non-zero padding bits: not canonical
        "AAB=",  # non-zero padding bits: not canonical
        "AA==\n",  # trailing newline
        " AA==",  # leading space
        "AA AA",  # inner space
        "-_8=",  # URL-safe alphabet
        "AA==AA==",  # padding in the middle
        "ÄA==",  # not ASCII
        "A",
    ],
)
def test_unb64_refuses(text: str) -> None:
    with pytest.raises(InvalidField) as info:
        keys.unb64(text, field="key")
    assert info.value.field == "key"


def test_unb64_size() -> None:
    assert len(keys.unb64(PUB_B64, field="key", size=32)) == 32
    with pytest.raises(InvalidField):
        keys.unb64(PUB_B64, field="key", size=33)
    with pytest.raises(InvalidField):
        keys.PublicKey.from_b64(base64.b64encode(bytes(31)).decode())
    with pytest.raises(InvalidField):
        keys.PublicKey.from_b64(PUB_B64.rstrip("="))
