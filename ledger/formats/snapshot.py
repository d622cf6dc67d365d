"""One product batch's trace, frozen against one checkpoint, for the exporters.

``take`` runs the same trace as ``provenance trace`` (``ledger.trace.walk.collect``) and keeps
what EPCIS and UNTP need beside it: the entries involved, the signed checkpoint, the URIs of
the parties, and inclusion proofs against that checkpoint on demand.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ledger.formats.ids import Names
from ledger.model.statements import Entry
from ledger.tlog.merkle import InclusionProof
from ledger.tlog.note import SignedCheckpoint
from ledger.trace.walk import TraceReport, collect

BASE_URL_ENV = "PROVENANCE_BASE_URL"


def base_url(origin: str, configured: str | None = None) -> str:
    """Where the ledger's URIs live: ``configured``, else ``$PROVENANCE_BASE_URL``, else
    ``https://<origin>`` (the origin is a host name and path, as checkpoints name the log)."""
    base = configured or os.environ.get(BASE_URL_ENV) or f"https://{origin}"
    return base.rstrip("/")


@dataclass
class Snapshot:
    report: TraceReport
    entries: dict[int, Entry]
    checkpoint: SignedCheckpoint
    names: Names
    origin: str
    vkey: str
    operator_name: str
    ledger: Any = field(repr=False)
    _nodes: Any = field(default=None, repr=False)

    @property
    def size(self) -> int:
        return self.checkpoint.checkpoint.size

    @property
    def gtin(self) -> str:
        return str(self.report.product["gtin"])

    @property
    def batch(self) -> str:
        return str(self.report.product["batch"])

    @property
    def product_url(self) -> str:
        """The batch's GS1 Digital Link on this ledger's web app."""
        return f"{self.names.base}/01/{self.gtin}/10/{quote(self.batch, safe='')}"

    def proof(self, seq: int) -> InclusionProof:
        """The inclusion proof of entry ``seq`` against the snapshot's checkpoint."""
        if self._nodes is None:
            self._nodes = self.ledger.node_cache()
        proof: InclusionProof = self.ledger.inclusion_proof(seq, self.size, self._nodes)
        return proof

    def entry_url(self, seq: int) -> str:
        return self.names.entry(seq)

    def party_name(self, party: str) -> str:
        return str(self.report.parties.get(party, {}).get("name") or party)

    def standing(self, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
        """The trace's steps of ``kinds``, revoked ones included, in ledger order."""
        return sorted((s for s in self.report.steps if s["kind"] in kinds), key=lambda s: s["seq"])


def take(
    ledger: Any,
    gtin: str,
    batch: str,
    *,
    base: str | None = None,
    at: str | None = None,
    limit: int | None = None,
) -> Snapshot:
    """The trace of ``(gtin, batch)`` against the latest checkpoint. Raises what
    ``collect`` raises: ``InvalidField`` for a malformed GTIN or batch, ``NotFound``,
    ``TraceTooLarge`` over ``limit`` entries."""
    report, source, checkpoint = collect(ledger, gtin, batch, at=at, limit=limit)
    identifiers = {p: r.get("identifiers", {}) for p, r in report.parties.items()}
    names = Names(base_url(ledger.origin, base), identifiers)
    return Snapshot(
        report,
        dict(source.entries),
        checkpoint,
        names,
        ledger.origin,
        ledger.verifier.to_text(),
        str(ledger.entry(0).statement.body.get("name") or ledger.origin),
        ledger,
    )
