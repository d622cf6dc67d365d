"""C2SP tlog-cosignature v1 with Ed25519: a witness's timestamped signature on a checkpoint.

A cosignature is a note signature line ``— <witness name> base64(key ID ‖ timestamp ‖ sig)``
where the key ID is ``SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]``, the timestamp a
big-endian uint64 of POSIX seconds, and ``sig`` the Ed25519 signature of
``cosignature/v1\\n`` ‖ ``time <timestamp>\\n`` ‖ the checkpoint text (SPEC §8). Its verifier
key is ``<name>+<8 hex key ID>+<base64(0x04 ‖ public key)>``. The message does not commit
to the name, so a key must serve one cosigner only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.crypto.keys import PrivateKey, PublicKey, b64, verify_raw
from ledger.errors import BadSignature, InvalidField, Malformed
from ledger.tlog.note import ALG_ED25519, SignatureLine, split_note

ALG_COSIGNATURE_V1 = 0x04
COSIGNATURE_HEADER = "cosignature/v1\n"
MAX_TIMESTAMP = 2**63 - 1
_NAME = re.compile(r"[^\s+]{1,255}")


def check_name(name: str, field: str = "name") -> str:
    """A note key name: non-empty, no spaces and no '+' (C2SP signed-note)."""
    if not _NAME.fullmatch(name) or any(c < " " or c == "\x7f" for c in name):
        raise InvalidField(f"{name!r} is not a key name: 1-255 characters, no spaces or '+'", field=field)
    return name


def key_id(name: str, alg: int, public: bytes) -> bytes:
    """C2SP signed-note key ID: ``SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4]``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


@dataclass(frozen=True)
class VerifierKey:
    """A vkey of any Ed25519 note signature type: 0x01 (a log) or 0x04 (a cosigner)."""

    name: str
    alg: int
    public: PublicKey

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public.raw)

    def to_text(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.alg]) + self.public.raw)}"

    @classmethod
    def from_text(cls, text: str, field: str = "vkey") -> VerifierKey:
        """Parse ``name+hash+base64(alg ‖ key)``; the hash must match. Raises ``InvalidField``."""
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise InvalidField(f"{text!r} is not a verifier key (name+hash+key)", field=field)
        name, hash_hex, key_b64 = parts
        check_name(name, field)
        try:
            raw = base64.b64decode(key_b64, validate=True)
            want = bytes.fromhex(hash_hex)
        except (binascii.Error, ValueError) as e:
            raise InvalidField(f"verifier key is not well-formed: {e}", field=field) from e
        if len(hash_hex) != 8 or len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise InvalidField(
                "is not an Ed25519 note key (0x01) or Ed25519 cosignature key (0x04)", field=field
            )
        try:
            public = PublicKey.from_b64(b64(raw[1:]), field)
        except InvalidField as e:
            raise InvalidField("holds no Ed25519 public key", field=field) from e
        vkey = cls(name, raw[0], public)
        if vkey.key_id != want:
            raise InvalidField(f"key hash {hash_hex} does not match its name and key", field=field)
        return vkey


def cosigner_vkey(text: str, field: str = "vkey") -> VerifierKey:
    """Parse a witness's vkey; it must be of type 0x04 (tlog-cosignature v1)."""
    vkey = VerifierKey.from_text(text, field)
    if vkey.alg != ALG_COSIGNATURE_V1:
        raise InvalidField(f"{vkey.name}: not a cosignature key (type 0x04)", field=field)
    return vkey


def signed_message(checkpoint_text: str, timestamp: int) -> bytes:
    """The bytes a v1 cosignature signs (tlog-cosignature, "Ed25519 signed message")."""
    return f"{COSIGNATURE_HEADER}time {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class Cosigner:
    """A witness's signing key and name."""

    name: str
    key: PrivateKey

    @property
    def vkey(self) -> VerifierKey:
        return VerifierKey(self.name, ALG_COSIGNATURE_V1, self.key.public)

    def cosign(self, checkpoint_text: str, timestamp: int) -> str:
        """The cosignature line (ending in a newline) on ``checkpoint_text`` at ``timestamp``."""
        if not 0 < timestamp <= MAX_TIMESTAMP:
            raise ValueError(f"timestamp {timestamp} outside 1..2^63-1")
        sig = self.key.sign(signed_message(checkpoint_text, timestamp))
        return SignatureLine(self.name, self.vkey.key_id, struct.pack(">Q", timestamp) + sig).to_text()


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature: who, when, and its line as it appears in the note."""

    name: str
    timestamp: int
    line: str


def verify_line(line: SignatureLine, checkpoint_text: str, vkey: VerifierKey) -> Cosignature:
    """Check one signature line that names ``vkey``. Raises ``BadSignature``."""
    if len(line.signature) != 8 + 64:
        raise BadSignature(f"cosignature by {vkey.name} is {len(line.signature)} bytes, want 72")
    (timestamp,) = struct.unpack(">Q", line.signature[:8])
    if timestamp > MAX_TIMESTAMP:
        raise BadSignature(f"cosignature by {vkey.name} has timestamp {timestamp} beyond 2^63-1")
    try:
        verify_raw(vkey.public.raw, line.signature[8:], signed_message(checkpoint_text, timestamp))
    except BadSignature as e:
        raise BadSignature(f"cosignature by {vkey.name} does not verify") from e
    return Cosignature(vkey.name, timestamp, line.to_text())


def verify_cosignatures(note: str, vkeys: Iterable[VerifierKey]) -> dict[str, Cosignature]:
    """The cosignatures in ``note`` by the given witness keys, by witness name.

    Lines of unknown keys (name and key ID not both matching) are ignored; a line of a
    known key that fails to verify makes the whole note bad (signed-note: such a note is
    malformed). Raises ``BadSignature`` or ``Malformed``.
    """
    text, lines = split_note(note)
    known = {(k.name, k.key_id): k for k in vkeys if k.alg == ALG_COSIGNATURE_V1}
    found: dict[str, Cosignature] = {}
    for line in lines:
        vkey = known.get((line.name, line.key_hash))
        if vkey is not None:
            found[vkey.name] = verify_line(line, text, vkey)
    return found


def cosignature_lines(body: str) -> list[SignatureLine]:
    """Parse a witness's reply to add-checkpoint: one or more signature lines.
    Raises ``Malformed``."""
    if not body.endswith("\n") or not body.strip():
        raise Malformed("a cosignature reply must be signature lines, each ending in a newline")
    return [SignatureLine.from_text(line) for line in body[:-1].split("\n")]
