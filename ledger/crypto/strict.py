"""The strict Ed25519 checks every verifier of the project applies alike (SPEC §3).

RFC 8032 §5.1.7 leaves room: libraries differ on a scalar ``S >= L``, on non-canonical
encodings of the points ``A`` and ``R`` (a y coordinate not below p, or x = 0 with the sign
bit set) and on public keys of small order, which make a signature valid for many messages.
These checks run on the bytes before any library sees them, in Python here, in Go in the
tests, and in the browser module (``web/static/verify/ed25519.js``), so the same vectors pass
or fail the same way in each.
"""

from __future__ import annotations

from ledger.errors import BadSignature

# L = 2^252 + 27742317777372353535851937790883648493, the order of the base point.
L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19

# The canonical encodings of the eight points of small order (orders 1, 2, 4 and 8).
SMALL_ORDER = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    )
)


def non_canonical_point(encoded: bytes) -> str:
    """Why a 32-byte point encoding is not canonical, or "" if it is (RFC 8032 §5.1.3)."""
    value = int.from_bytes(encoded, "little")
    y, sign = value & (2**255 - 1), value >> 255
    if y >= P:
        return "its y coordinate is not below the field prime"
    if sign and y in (1, P - 1):
        return "it sets the sign of x = 0"
    return ""


def check_public_key(public: bytes) -> None:
    """Raise ``BadSignature`` for a key that is not 32 canonical bytes of a large-order point."""
    if len(public) != 32:
        raise BadSignature(f"public key is {len(public)} bytes, want 32")
    why = non_canonical_point(public)
    if why:
        raise BadSignature(f"public key is not a canonical Ed25519 point: {why}")
    if public in SMALL_ORDER:
        raise BadSignature("public key is of small order")


def check_signature_bytes(public: bytes, signature: bytes) -> None:
    """The checks of SPEC §3 on the key and signature bytes; raises ``BadSignature``."""
    check_public_key(public)
    if len(signature) != 64:
        raise BadSignature(f"signature is {len(signature)} bytes, want 64")
    if int.from_bytes(signature[32:], "little") >= L:
        raise BadSignature("signature is not canonical: S is not below the group order")
    why = non_canonical_point(signature[:32])
    if why:
        raise BadSignature(f"signature is not canonical: R {why}")
