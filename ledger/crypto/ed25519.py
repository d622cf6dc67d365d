"""Ed25519 verification with the strict checks every verifier of ours applies alike (SPEC §3).

RFC 8032 leaves room: libraries differ on a signature scalar ``S`` at or above the group
order ``L``, on non-canonical encodings of the public key ``A`` and of ``R``, and on points
of small order. A log checked by three implementations (Python, Go, the browser) must give
one answer per signature, so before any library sees a signature we refuse:

- ``S >= L`` (RFC 8032 §5.1.7 says so; not every library checks);
- ``A`` or ``R`` not in canonical form (``y >= p``, or ``x = 0`` with the sign bit set);
- ``A`` or ``R`` of small order (the eight points of the torsion subgroup): an honest
  signer never makes one, and libsodium refuses them where OpenSSL and Go would not.

After these checks OpenSSL (``cryptography``) and libsodium (PyNaCl) agree on every vector
we have (``tests/test_ed25519.py``); the faster one does the bulk work (``Backend``).
Keys are checked in full (on the curve, not of small order) where they are introduced.
"""

from __future__ import annotations

import functools

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
_Y_MASK = (1 << 255) - 1

# The canonical encodings of the eight points of small order (RFC 8032 §5.1.3 form);
# tests/test_ed25519.py derives them again from the curve.
SMALL_ORDER = frozenset(
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",  # identity
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",  # order 2
        "0000000000000000000000000000000000000000000000000000000000000000",  # order 4
        "0000000000000000000000000000000000000000000000000000000000000080",  # order 4
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",  # order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",  # order 8
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",  # order 8
    )
)

Point = tuple[int, int]


def canonical_encoding(enc: bytes) -> bool:
    """Whether ``enc`` is the one encoding RFC 8032 gives its point: ``y < p``, and no
    sign bit on ``x = 0`` (which ``y = ±1`` forces). Says nothing of being on the curve."""
    if len(enc) != 32:
        return False
    n = int.from_bytes(enc, "little")
    y, sign = n & _Y_MASK, n >> 255
    return y < P and not (sign and y in (1, P - 1))


def decode_point(enc: bytes) -> Point | None:
    """RFC 8032 §5.1.3, strictly: the point of a canonical encoding, or None."""
    if not canonical_encoding(enc):
        return None
    n = int.from_bytes(enc, "little")
    y, sign = n & _Y_MASK, n >> 255
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if v * x * x % P == (-u) % P:
        x = x * SQRT_M1 % P
    if v * x * x % P != u:
        return None
    if x & 1 != sign:
        x = P - x
    return x, y


def add(a: Point, b: Point) -> Point:
    """Point addition on -x² + y² = 1 + d·x²·y² (affine; for checks, not for secrets)."""
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return x3, y3


def has_small_order(point: Point) -> bool:
    q = point
    for _ in range(3):
        q = add(q, q)
    return q == (0, 1)


@functools.lru_cache(maxsize=4096)  # stored keys are decoded again and again
def key_problem(raw: bytes) -> str | None:
    """Why ``raw`` cannot be a party's public key, or None: where a key is introduced."""
    if len(raw) != 32:
        return f"is {len(raw)} bytes, want 32"
    if not canonical_encoding(raw):
        return "is not a canonical Ed25519 point encoding"
    point = decode_point(raw)
    if point is None:
        return "is not a point on Ed25519"
    if has_small_order(point):
        return "is an Ed25519 point of small order"
    return None


def strict_form(public: bytes, signature: bytes) -> bool:
    """The cheap checks above, made before a library verifies: lengths, ``S < L``,
    canonical ``A`` and ``R``, neither of small order."""
    if len(public) != 32 or len(signature) != 64:
        return False
    r = signature[:32]
    return (
        int.from_bytes(signature[32:], "little") < L
        and canonical_encoding(public)
        and canonical_encoding(r)
        and public not in SMALL_ORDER
        and r not in SMALL_ORDER
    )
