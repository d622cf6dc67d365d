"""Is 32 bytes a usable Ed25519 public key? (SPEC §3: refused where a key is introduced.)

RFC 8032 §5.1.3 decodes a point; a key must decode canonically (``y < p``, no "negative
zero" ``x``) and must not be of small order (``[8]A`` is the identity), or a signature
under it could verify for many messages. Signature checks elsewhere use ``cryptography``;
this module only decides whether a key may enter the ledger, in pure integer arithmetic.
"""

from __future__ import annotations

P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def decode_point(raw: bytes) -> tuple[int, int] | None:
    """The affine point ``raw`` encodes (RFC 8032 §5.1.3), or ``None`` if it encodes none
    or encodes one non-canonically."""
    if len(raw) != 32:
        return None
    n = int.from_bytes(raw, "little")
    sign, y = n >> 255, n & ((1 << 255) - 1)
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    if (v * x * x - u) % P != 0:
        x = (x * SQRT_M1) % P
        if (v * x * x - u) % P != 0:
            return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x, y


def _double(pt: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """Point doubling in extended coordinates (RFC 8032 §5.1.4)."""
    x, y, z, _ = pt
    a, b, c = x * x % P, y * y % P, 2 * z * z % P
    h = (a + b) % P
    e = (h - (x + y) * (x + y)) % P
    g = (a - b) % P
    f = (c + g) % P
    return e * f % P, g * h % P, f * g % P, e * h % P


def is_small_order(point: tuple[int, int]) -> bool:
    """Whether ``[8]point`` is the identity (the point has order 1, 2, 4 or 8)."""
    x, y = point
    pt = (x, y, 1, x * y % P)
    for _ in range(3):
        pt = _double(pt)
    return pt[0] % P == 0 and (pt[1] - pt[2]) % P == 0


def key_problem(raw: bytes) -> str | None:
    """Why ``raw`` cannot be a party's key, or ``None`` if it can."""
    point = decode_point(raw)
    if point is None:
        return "is not a valid Ed25519 point (RFC 8032 §5.1.3)"
    if is_small_order(point):
        return "is an Ed25519 key of small order: signatures under it prove nothing"
    return None
