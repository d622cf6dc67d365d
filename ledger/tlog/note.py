"""C2SP signed-note and tlog-checkpoint with Ed25519 (SPEC §8).

A note is UTF-8 text ending in a newline, a blank line, then signature lines
``— <name> <base64(4-byte key hash ‖ signature)>``. The key hash is the first four bytes
of SHA-256(name ‖ "\\n" ‖ 0x01 ‖ public key); the verifier key is written
``<name>+<8 hex key hash>+<base64(0x01 ‖ public key)>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from ledger.crypto.keys import PrivateKey, PublicKey, b64, verify_raw
from ledger.errors import BadSignature, ConfigError, Malformed

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash and a space
MAX_SIGNATURES = 100
_ORIGIN = re.compile(r"[\x21-\x2a\x2c-\x7e]{1,200}")  # printable ASCII, no space or '+'


def check_origin(origin: str) -> str:
    """A ledger origin doubles as the note key name: printable ASCII, no spaces, no '+'."""
    if not _ORIGIN.fullmatch(origin):
        raise ConfigError(f"origin {origin!r} must be 1-200 printable ASCII characters without spaces or '+'")
    return origin


def key_hash(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


@dataclass(frozen=True)
class Verifier:
    """A note verifier key: a name and an Ed25519 public key."""

    name: str
    public: PublicKey

    @property
    def hash(self) -> bytes:
        return key_hash(self.name, self.public.raw)

    def to_text(self) -> str:
        return f"{self.name}+{self.hash.hex()}+{b64(bytes([ALG_ED25519]) + self.public.raw)}"

    @classmethod
    def from_text(cls, text: str) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3 or not parts[0]:
            raise Malformed("verifier key must be name+hash+key", field="vkey")
        name, hash_hex, key_b64 = parts
        try:
            raw = base64.b64decode(key_b64, validate=True)
            want = bytes.fromhex(hash_hex)
        except (binascii.Error, ValueError) as e:
            raise Malformed(f"verifier key is not well-formed: {e}", field="vkey") from e
        if len(raw) != 33 or raw[0] != ALG_ED25519 or len(hash_hex) != 8:
            raise Malformed("verifier key is not an Ed25519 note key", field="vkey")
        verifier = cls(name, PublicKey(raw[1:]))
        if verifier.hash != want:
            raise Malformed("verifier key hash does not match its name and key", field="vkey")
        return verifier


@dataclass(frozen=True)
class Signer:
    name: str
    key: PrivateKey

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key.public)

    def sign_note(self, text: str) -> str:
        """Sign ``text`` (which must end in a newline) and return the whole note."""
        if not text.endswith("\n"):
            raise ValueError("note text must end with a newline")
        _check_text(text)
        sig = self.key.sign(text.encode("utf-8"))
        return f"{text}\n{SignatureLine(self.name, self.verifier.hash, sig).to_text()}"


@dataclass(frozen=True)
class SignatureLine:
    """One signature line of a note: ``— <name> base64(key hash ‖ signature)``."""

    name: str
    key_hash: bytes
    signature: bytes

    def to_text(self) -> str:
        return f"{SIG_PREFIX}{self.name} {b64(self.key_hash + self.signature)}\n"

    @classmethod
    def from_text(cls, line: str) -> SignatureLine:
        """Parse one line (without its newline). Raises ``Malformed``."""
        if not line.startswith(SIG_PREFIX):
            raise Malformed(f"not a signature line: {line!r}")
        name, _, sig_b64 = line[len(SIG_PREFIX) :].rpartition(" ")
        if not name or " " in name or "+" in name:
            raise Malformed(f"signature line has a bad key name: {line!r}")
        try:
            raw = base64.b64decode(sig_b64, validate=True)
        except (binascii.Error, ValueError) as e:
            raise Malformed("signature is not base64") from e
        if len(raw) < 5:
            raise Malformed("signature line is too short")
        return cls(name, raw[:4], raw[4:])


def split_note(note: str) -> tuple[str, list[SignatureLine]]:
    """The text of a signed note (ending in its newline) and all its signature lines, known
    or not. Raises ``Malformed`` if ``note`` is not a signed note."""
    sep = note.rfind("\n\n")
    if sep < 0 or not note.endswith("\n"):
        raise Malformed("not a signed note: no blank line before the signatures")
    text, sigs = note[: sep + 1], note[sep + 2 :]
    _check_text(text)
    lines = sigs.splitlines()
    if not lines or len(lines) > MAX_SIGNATURES:
        raise Malformed("signed note has no signature lines")
    return text, [SignatureLine.from_text(line) for line in lines]


def open_note(note: str, verifier: Verifier) -> str:
    """Return the text of ``note`` if ``verifier`` signed it; raise ``BadSignature`` if not,
    ``Malformed`` if the note is not a signed note. Other keys' lines (a witness's
    cosignatures) are kept in the note and ignored here."""
    text, lines = split_note(note)
    found = False
    for line in lines:
        if line.name != verifier.name or line.key_hash != verifier.hash:
            continue  # another witness's signature: not ours to judge
        verify_raw(verifier.public.raw, line.signature, text.encode("utf-8"))
        found = True
    if not found:
        raise BadSignature(f"note has no signature by {verifier.name}")
    return text


def add_signatures(note: str, lines: list[str]) -> str:
    """``note`` with the signature ``lines`` (each ending in a newline) appended after its
    own, leaving out any it holds already."""
    have = set(note[note.rfind("\n\n") + 2 :].splitlines(keepends=True))
    return note + "".join(line for line in lines if line not in have)


def _check_text(text: str) -> None:
    """C2SP signed-note: the text is UTF-8 without ASCII control characters but newline."""
    if any(c < " " and c != "\n" for c in text) or "\x7f" in text:
        raise Malformed("note text holds a control character")


@dataclass(frozen=True)
class Checkpoint:
    """C2SP tlog-checkpoint body: origin, tree size, root hash (and optional extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def to_text(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_text(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise Malformed("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise Malformed("checkpoint needs origin, size and root lines")
        origin, size_text, root_b64, *ext = lines
        if not origin:
            raise Malformed("checkpoint origin is empty")
        if not re.fullmatch(r"0|[1-9][0-9]{0,17}", size_text):
            raise Malformed(f"checkpoint size {size_text!r} is not a decimal number")
        try:
            root = base64.b64decode(root_b64, validate=True)
        except (binascii.Error, ValueError) as e:
            raise Malformed("checkpoint root is not base64") from e
        if len(root) != 32:
            raise Malformed(f"checkpoint root is {len(root)} bytes, want 32")
        if any(not line for line in ext):
            raise Malformed("checkpoint has an empty extension line")
        return cls(origin, int(size_text), root, tuple(ext))


@dataclass(frozen=True)
class SignedCheckpoint:
    checkpoint: Checkpoint
    note: str

    @classmethod
    def sign(cls, checkpoint: Checkpoint, signer: Signer) -> SignedCheckpoint:
        return cls(checkpoint, signer.sign_note(checkpoint.to_text()))

    @classmethod
    def open(cls, note: str, verifier: Verifier) -> SignedCheckpoint:
        """Verify ``note`` with ``verifier`` and parse it; its origin must be the key's name."""
        checkpoint = Checkpoint.from_text(open_note(note, verifier))
        if checkpoint.origin != verifier.name:
            raise BadSignature(
                f"checkpoint origin {checkpoint.origin!r} is not the key name {verifier.name!r}"
            )
        return cls(checkpoint, note)
