"""Credentials secured as JWS compact serialization with EdDSA (RFC 7515, RFC 8037; W3C
"Securing Verifiable Credentials using JOSE and COSE": media type ``application/vc+jwt``).

The payload is the credential itself, written by ``numbers.dumps`` so its quantities are
exact; the protected header names the algorithm, ``typ`` ``vc+jwt``, ``cty`` ``vc`` and the
signing key as ``<issuer DID>#<key_id>``.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from ledger.crypto.keys import PrivateKey
from ledger.formats.numbers import dumps

MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_credential(credential: dict[str, Any], key: PrivateKey, kid: str) -> str:
    """The credential as a compact JWS signed with ``key`` (Ed25519, alg ``EdDSA``)."""
    header = {"alg": "EdDSA", "typ": TYP, "cty": "vc", "kid": kid}
    head = b64url(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    body = b64url(dumps(credential, indent=None).encode("utf-8"))
    signing_input = f"{head}.{body}".encode("ascii")
    return f"{head}.{body}.{b64url(key.sign(signing_input))}"
