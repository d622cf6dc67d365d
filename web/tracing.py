"""The trace report's verifiable bundle (``ledger.bundle``), as the API and pages use it."""

from __future__ import annotations

from typing import Any

from ledger.core.ledger import Ledger
from ledger.trace.bundle import build_bundle


def bundle(ledger: Ledger, gtin: str, batch: str, at: str | None = None) -> dict[str, Any]:
    """docs/trace-format.md: the trace JSON plus every entry's canonical bytes and inclusion
    proof against one checkpoint, signed by the operator. Raises ``NotFound``."""
    result: dict[str, Any] = build_bundle(ledger, gtin, batch, at=at)
    return result
