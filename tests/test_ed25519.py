"""Strict Ed25519: OpenSSL and libsodium give one answer on every vector once the strict
checks of SPEC §3 have run, and a key of small order is refused where it is introduced.

Vectors: tests/vectors/ed25519/rfc8032-7.1.json and speccheck.json (see tests/vectors/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.bindings
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from ledger.crypto import ed25519
from ledger.crypto.keys import PrivateKey, PublicKey, b64, openssl_ok, sodium_ok
from ledger.errors import InvalidField

VECTORS = Path(__file__).parent / "vectors" / "ed25519"
SPECCHECK = json.loads((VECTORS / "speccheck.json").read_text())
RFC8032 = json.loads((VECTORS / "rfc8032-7.1.json").read_text())["cases"]
BACKENDS = [openssl_ok, sodium_ok]


def encode(point: ed25519.Point) -> bytes:
    x, y = point
    return (y | (x & 1) << 255).to_bytes(32, "little")


def test_small_order_set_is_the_torsion_subgroup():
    generator = ed25519.decode_point(
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
    )
    assert generator is not None and ed25519.has_small_order(generator)
    points, q = [], (0, 1)
    for _ in range(8):
        points.append(q)
        q = ed25519.add(q, generator)
    assert q == (0, 1) and len(set(points)) == 8  # order exactly 8
    assert {encode(p) for p in points} == ed25519.SMALL_ORDER


@pytest.mark.parametrize("case", SPECCHECK, ids=[c["why"] for c in SPECCHECK])
@pytest.mark.parametrize("backend", BACKENDS)
def test_speccheck_cases_get_the_strict_answer(case, backend):
    pk, sig, msg = (bytes.fromhex(case[k]) for k in ("pub_key", "signature", "message"))
    assert backend(pk, sig, msg) is case["strict"]


def test_without_the_strict_checks_the_libraries_disagree():
    """Why the checks exist: OpenSSL alone accepts the small-order cases libsodium refuses."""
    disagree = []
    for i, case in enumerate(SPECCHECK):
        pk, sig, msg = (bytes.fromhex(case[k]) for k in ("pub_key", "signature", "message"))
        try:
            Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)
            by_openssl = True
        except Exception:
            by_openssl = False
        try:
            nacl.bindings.crypto_sign_open(sig + msg, pk)
            by_sodium = True
        except Exception:
            by_sodium = False
        if by_openssl != by_sodium:
            disagree.append(i)
    assert disagree == [0, 1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("vector", RFC8032, ids=[v["name"] for v in RFC8032])
def test_rfc8032_vectors_verify(backend, vector):
    pk, sig, msg = (bytes.fromhex(vector[k]) for k in ("public_key", "signature", "message"))
    assert backend(pk, sig, msg)
    assert not backend(pk, sig, msg + b"x")


@pytest.mark.parametrize("backend", BACKENDS)
def test_s_plus_l_is_refused(backend):
    key = PrivateKey.from_seed(bytes(32))
    sig = key.sign(b"m")
    s = int.from_bytes(sig[32:], "little") + ed25519.L
    assert backend(key.public.raw, sig, b"m")
    assert not backend(key.public.raw, sig[:32] + s.to_bytes(32, "little"), b"m")


@given(seed=st.binary(min_size=32, max_size=32), msg=st.binary(max_size=64), flip=st.integers(0, 8 * 128 - 1))
def test_any_flipped_bit_gets_one_answer_from_both(seed, msg, flip):
    key = PrivateKey.from_seed(seed)
    blob = bytearray(key.public.raw + key.sign(msg) + msg)
    if flip >= 8 * len(blob):
        flip %= 8 * len(blob)
    blob[flip // 8] ^= 1 << (flip % 8)
    pk, sig, m = bytes(blob[:32]), bytes(blob[32:96]), bytes(blob[96:])
    answers = {backend(pk, sig, m) for backend in BACKENDS}
    assert answers == {False}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"), "small order"),
        (bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"), "small order"),
        (
            bytes.fromhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
            "not a canonical",
        ),
        (
            bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000080"),
            "not a canonical",
        ),
        (bytes.fromhex("0200000000000000000000000000000000000000000000000000000000000000"), "not a point"),
    ],
)
def test_a_bad_key_is_refused_where_it_is_introduced(raw, problem):
    assert problem in (ed25519.key_problem(raw) or "")
    with pytest.raises(InvalidField) as e:
        PublicKey.from_b64(b64(raw), "statement.body.keys[0]")
    assert e.value.field == "statement.body.keys[0]" and problem in str(e.value)


def test_real_keys_pass():
    for i in range(20):
        raw = PrivateKey.from_seed(bytes([i]) * 32).public.raw
        assert ed25519.key_problem(raw) is None
        assert ed25519.decode_point(raw) is not None
