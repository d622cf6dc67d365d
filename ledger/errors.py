"""One error hierarchy for the whole ledger.

Every refusal is a ``LedgerError`` carrying a stable machine ``code``, the HTTP
``status`` of SPEC §10, a human ``message`` and, where one field is at fault, its
path (``field``). The API, the CLI and ``verify`` all render errors through
``LedgerError.to_json`` so that every error body has the same shape.
"""

from __future__ import annotations

from typing import Any, ClassVar


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        """The error body of SPEC §10: ``{"error": {"code", "message", "field"?, ...}}``."""
        body: dict[str, Any] = {"code": self.code, "message": self.describe()}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.extra)
        return {"error": body}

    def describe(self) -> str:
        """The message, led by the field it concerns."""
        if self.field and not self.message.startswith(self.field):
            return f"{self.field}: {self.message}"
        return self.message

    def __str__(self) -> str:
        return self.describe()


# 400: the input is not what the contract says.
class Malformed(LedgerError):
    status, code = 400, "malformed"


class InvalidField(LedgerError):
    status, code = 400, "invalid-field"


class MissingField(LedgerError):
    status, code = 400, "missing-field"


class UnknownField(LedgerError):
    status, code = 400, "unknown-field"


class UnknownType(LedgerError):
    status, code = 400, "unknown-type"


# 403: who signed it, and with what.
class BadSignature(LedgerError):
    status, code = 403, "bad-signature"


class UnknownIssuer(LedgerError):
    status, code = 403, "unknown-issuer"


class UnknownKey(LedgerError):
    status, code = 403, "unknown-key"


class InactiveKey(LedgerError):
    status, code = 403, "key-not-active"


class RoleNotAllowed(LedgerError):
    status, code = 403, "role-not-allowed"


# 404, 409, 413
class NotFound(LedgerError):
    status, code = 404, "not-found"


class Replay(LedgerError):
    status, code = 409, "replay"


class TooLarge(LedgerError):
    status, code = 413, "too-large"


# 422: business rules that depend on the ledger's state.
class RuleViolation(LedgerError):
    status, code = 422, "rule-violation"


class ClockSkew(RuleViolation):
    code = "issued-in-future"


class LotExists(RuleViolation):
    code = "lot-exists"


class UnknownLot(RuleViolation):
    code = "unknown-lot"


class NoCustody(RuleViolation):
    code = "no-custody"


class InsufficientBalance(RuleViolation):
    code = "insufficient-balance"


class UnitMismatch(RuleViolation):
    code = "unit-mismatch"


class UnknownParty(RuleViolation):
    code = "unknown-party"


class GtinOwned(RuleViolation):
    code = "gtin-owned"


class BatchExists(RuleViolation):
    code = "batch-exists"


class RevocationRefused(RuleViolation):
    code = "revocation-refused"


class RevocationNotAllowed(LedgerError):
    """Who may revoke is a question of who signs, like a role: 403."""

    status, code = 403, "revocation-not-allowed"


class UnknownEntry(RuleViolation):
    code = "unknown-entry"


class AlreadyRevoked(RuleViolation):
    code = "already-revoked"


# Identity (SPEC §6-§7): a party's keys come only from its own key events.
class NotOwnKeys(LedgerError):
    """Nobody, the operator included, sets or changes another party's keys."""

    status, code = 403, "not-own-keys"


class KeyNotCommitted(LedgerError):
    """A rotation signed by, or revealing, a key whose digest was not in the current ``next``."""

    status, code = 403, "key-not-committed"


class NotAdmitted(LedgerError):
    status, code = 403, "not-admitted"


class Suspended(LedgerError):
    status, code = 403, "suspended"


class PartyExists(RuleViolation):
    code = "party-exists"


class KeyTaken(RuleViolation):
    code = "key-taken"


class DigestReused(RuleViolation):
    code = "digest-reused"


class StandingRefused(RuleViolation):
    """A suspension of a suspended party, a reinstatement of one that is not suspended."""

    code = "standing-refused"


class Busy(LedgerError):
    """Another writer held the ledger's write lock past the busy timeout: try again."""

    status, code = 503, "busy"


# Errors of the ledger's own integrity, of proofs and of configuration.
class IntegrityError(LedgerError):
    status, code = 500, "integrity"


class RootMismatch(LedgerError):
    status, code = 400, "root-mismatch"

    def __init__(self, expected: bytes, calculated: bytes, message: str = "") -> None:
        super().__init__(
            message or f"root mismatch: expected {expected.hex()}, calculated {calculated.hex()}"
        )
        self.expected = expected
        self.calculated = calculated


class ProofError(LedgerError):
    status, code = 400, "bad-proof"


class ConfigError(LedgerError):
    status, code = 500, "config"


class ReadOnlyMirror(LedgerError):
    """A mirror (``provenance mirror``) holds no operator key: it cannot append or sign."""

    status, code = 403, "read-only-mirror"


def all_error_classes() -> list[type[LedgerError]]:
    """Every concrete error class, for tests that check codes are unique and bodies well-formed."""
    seen: list[type[LedgerError]] = []
    stack: list[type[LedgerError]] = [LedgerError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen
