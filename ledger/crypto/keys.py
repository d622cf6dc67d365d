"""Ed25519 keys, key ids and statement signatures (SPEC §3, §4).

A public key travels as standard base64 of its 32 raw bytes; its ``key_id`` is the
first 16 hex characters of SHA-256 of those bytes. Statements are signed over
``STATEMENT_PREFIX ‖ JCS(statement)`` so that no other message a party signs can
ever pass for a statement.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.crypto import ed25519
from ledger.errors import BadSignature, ConfigError, InvalidField

STATEMENT_PREFIX = b"provenance-ledger/v1 statement\n"
PASSPHRASE_ENV = "PROVENANCE_KEY_PASSPHRASE"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, *, field: str, size: int | None = None) -> bytes:
    """Decode strict standard base64 (padding required, no whitespace)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as e:
        raise InvalidField("is not standard base64", field=field) from e
    if b64(raw) != text:
        raise InvalidField("is not canonical base64", field=field)
    if size is not None and len(raw) != size:
        raise InvalidField(f"is {len(raw)} bytes, want {size}", field=field)
    return raw


def key_id(public: bytes) -> str:
    """SPEC §3: the first 16 lowercase hex characters of SHA-256(raw public key)."""
    return hashlib.sha256(public).hexdigest()[:16]


@dataclass(frozen=True)
class PublicKey:
    raw: bytes

    @classmethod
    def from_b64(cls, text: str, field: str = "key") -> PublicKey:
        raw = unb64(text, field=field, size=32)
        problem = ed25519.key_problem(raw)
        if problem:
            raise InvalidField(problem, field=field)
        return cls(raw)

    @property
    def b64(self) -> str:
        return b64(self.raw)

    @property
    def key_id(self) -> str:
        return key_id(self.raw)

    def verify(self, signature: bytes, message: bytes) -> None:
        """Return if ``signature`` is this key's over ``message``; raise ``BadSignature``."""
        verify_raw(self.raw, signature, message)


def verify_raw(public: bytes, signature: bytes, message: bytes) -> None:
    if not signature_ok(public, signature, message):
        raise BadSignature("signature does not verify with the issuer's key")


def openssl_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    """Strict Ed25519 (``ed25519.strict_form``), then OpenSSL's verification."""
    if not ed25519.strict_form(public, signature):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def sodium_ok(public: bytes, signature: bytes, message: bytes) -> bool:
    """Strict Ed25519, then libsodium's: about twice as fast as OpenSSL's here, and the
    same answer on every vector once ``strict_form`` has run (tests/test_ed25519.py)."""
    if not ed25519.strict_form(public, signature):
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


signature_ok = sodium_ok


@dataclass(frozen=True)
class PrivateKey:
    key: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> PrivateKey:
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public(self) -> PublicKey:
        return PublicKey(
            self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)

    def to_pem(self, passphrase: bytes | None = None) -> bytes:
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
        )
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )

    def save(self, path: Path, passphrase: bytes | None = None) -> None:
        """Write PEM PKCS#8 to a new file created with mode 0600 (never group/world readable)."""
        if passphrase is None:
            passphrase = env_passphrase()
        write_private_file(path, self.to_pem(passphrase))

    @classmethod
    def load(cls, path: Path, passphrase: bytes | None = None, *, strict_mode: bool = False) -> PrivateKey:
        """Load a PEM PKCS#8 Ed25519 key. With ``strict_mode``, refuse a file that users other
        than its owner may read (the operator key). Raises ``ConfigError``."""
        try:
            st = path.stat()
        except FileNotFoundError as e:
            raise ConfigError(f"key file {path} does not exist") from e
        if strict_mode and st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"key file {path} has mode {stat.S_IMODE(st.st_mode):04o}: other users can read it;"
                f" run chmod 600 {path}"
            )
        if passphrase is None:
            passphrase = env_passphrase()
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), passphrase)
        except TypeError as e:
            raise ConfigError(
                f"key file {path} is encrypted: set {PASSPHRASE_ENV}"
                if passphrase is None
                else f"key file {path}: {e}"
            ) from e
        except ValueError as e:
            raise ConfigError(f"key file {path} cannot be read (wrong passphrase?): {e}") from e
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"key file {path} is not an Ed25519 key")
        return cls(key)


def write_private_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 from its first byte: never an existing file, never
    through a symbolic link planted at the path (``O_EXCL | O_NOFOLLOW``)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def env_passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def statement_message(canonical_statement: bytes) -> bytes:
    """SPEC §4: the bytes a party signs."""
    return STATEMENT_PREFIX + canonical_statement
