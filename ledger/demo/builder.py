"""Write statements in the domain's words: used by the demo, the benchmarks and the tests.

``Builder`` wraps a ``Ledger`` and a key per party it registers. Each method signs one
statement with the right party's key and appends it, returning the entry's seq; with
``batch()`` the statements are collected and appended in one transaction instead.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ledger.core.ledger import Ledger, format_time
from ledger.crypto.keys import PrivateKey
from ledger.errors import LedgerError
from ledger.model.fields import ILO_INDICATORS
from ledger.model.statements import Envelope, sign

Line = tuple[str, str, str]  # (lot, amount, unit)


class Builder:
    def __init__(self, ledger: Ledger, *, seed: str | None = None, issued_at: str | None = None) -> None:
        """``seed`` makes party keys and statement ids deterministic (for tests and demos);
        ``issued_at`` fixes the statements' issue time (default: the ledger's clock)."""
        self.ledger = ledger
        self.seed = seed
        self.issued_at = issued_at
        self.keys: dict[str, PrivateKey] = {"operator": ledger.operator_key}
        self._ids = itertools.count(1)
        self._batch: list[Envelope] | None = None

    # -- plumbing ---------------------------------------------------------------------

    def key_for(self, party: str) -> PrivateKey:
        if party not in self.keys:
            if self.seed is None:
                self.keys[party] = PrivateKey.generate()
            else:
                seed = hashlib.sha256(f"{self.seed}/{party}".encode()).digest()
                self.keys[party] = PrivateKey.from_seed(seed)
        return self.keys[party]

    def statement(self, type_: str, issuer: str, body: dict[str, Any]) -> dict[str, Any]:
        n = next(self._ids)
        sid = (
            hashlib.sha256(f"{self.seed}/{n}".encode()).hexdigest()[:26]
            if self.seed is not None
            else f"{issuer[:20]}-{n:08d}-{PrivateKey.generate().public.key_id}"
        )
        return {
            "type": type_,
            "id": sid,
            "issuer": issuer,
            "issued_at": self.issued_at or format_time(self.ledger.clock()),
            "body": body,
        }

    def envelope(
        self, type_: str, issuer: str, body: dict[str, Any], key: PrivateKey | None = None
    ) -> Envelope:
        return sign(self.statement(type_, issuer, body), key or self.key_for(issuer))

    def submit(self, envelope: Envelope) -> int:
        """Append now (or queue inside ``batch()``); return the seq (when queued, the seq it
        will get if every statement of the batch is appended)."""
        if self._batch is not None:
            self._batch.append(envelope)
            return self.ledger.size + len(self._batch) - 1
        return self.ledger.append_one(envelope).entry.seq

    @contextmanager
    def batch(self) -> Iterator[list[Envelope]]:
        """Collect statements and append them in one transaction at the end of the block."""
        self._batch = []
        try:
            yield self._batch
            results = self.ledger.append(self._batch) if self._batch else []
        finally:
            self._batch = None
        for r in results:
            if isinstance(r, LedgerError):
                raise r

    def emit(self, type_: str, issuer: str, body: dict[str, Any]) -> int:
        return self.submit(self.envelope(type_, issuer, body))

    # -- the domain -------------------------------------------------------------------

    def party(
        self,
        pid: str,
        name: str,
        role: str,
        country: str,
        *,
        os_id: str | None = None,
        gln: str | None = None,
        keys: Iterable[PrivateKey] | None = None,
    ) -> int:
        """Register ``pid`` (generating its key unless ``keys`` is given)."""
        keys = list(keys) if keys is not None else [self.key_for(pid)]
        if keys:
            self.keys[pid] = keys[0]
        identifiers = {k: v for k, v in (("os_id", os_id), ("gln", gln)) if v}
        return self.emit(
            "party",
            "operator",
            {
                "party": pid,
                "name": name,
                "role": role,
                "country": country,
                "identifiers": identifiers,
                "keys": [k.public.b64 for k in keys],
            },
        )

    def origin(
        self,
        party: str,
        lot: str,
        material: str,
        amount: str,
        unit: str,
        *,
        country: str,
        produced_on: str,
        region: str | None = None,
        lat: str | None = None,
        lon: str | None = None,
        certifications: Iterable[str] = (),
    ) -> int:
        place: dict[str, str] = {"country": country}
        for k, v in (("region", region), ("lat", lat), ("lon", lon)):
            if v is not None:
                place[k] = v
        return self.emit(
            "material-origin",
            party,
            {
                "lot": lot,
                "material": material,
                "quantity": {"amount": amount, "unit": unit},
                "origin": place,
                "produced_on": produced_on,
                "certifications": list(certifications),
            },
        )

    def transform(
        self,
        party: str,
        process: str,
        on: str,
        inputs: Iterable[Line],
        outputs: Iterable[tuple[str, str, str, str]],
    ) -> int:
        """``outputs``: (lot, material, amount, unit)."""
        return self.emit(
            "transformation",
            party,
            {
                "process": process,
                "date": on,
                "inputs": [{"lot": lot, "amount": a, "unit": u} for lot, a, u in inputs],
                "outputs": [{"lot": lot, "material": m, "amount": a, "unit": u} for lot, m, a, u in outputs],
            },
        )

    def ship(
        self,
        party: str,
        lot: str,
        amount: str,
        unit: str,
        to: str,
        on: str,
        *,
        receive: str | None = "accept",
        received_on: str | None = None,
    ) -> int:
        """Ship, and unless ``receive`` is ``None`` (goods left in transit) have the receiver
        sign its receipt: ``"accept"`` (the default) or ``"refuse"``, on ``received_on``
        (default: the day shipped). Returns the shipment's seq."""
        if receive not in (None, "accept", "refuse"):
            raise ValueError(f"receive must be None, 'accept' or 'refuse', not {receive!r}")
        seq = self.emit(
            "shipment",
            party,
            {
                "lot": lot,
                "amount": amount,
                "unit": unit,
                "to": to,
                "shipped_on": on,
            },
        )
        if receive is not None:
            self.receive(to, seq, received_on or on, accepted=receive == "accept")
        return seq

    def receive(self, party: str, shipment: int, on: str, *, accepted: bool = True, note: str = "") -> int:
        """``party``'s receipt of the shipment of entry ``shipment``: accepted or refused."""
        body: dict[str, Any] = {"shipment": shipment, "received_on": on, "accepted": accepted}
        if note:
            body["note"] = note
        return self.emit("receipt", party, body)

    def audit(
        self,
        issuer: str,
        facility: str,
        *,
        standard: str,
        audit_date: str,
        valid_until: str,
        outcome: str = "pass",
        present: Iterable[str] = (),
        not_assessed: Iterable[str] = (),
        findings: Iterable[str] = (),
        workers: int | None = None,
        evidence: Iterable[tuple[str, bytes]] = (),
    ) -> int:
        present, not_assessed = set(present), set(not_assessed)
        indicators = {
            name: "present" if name in present else "not-assessed" if name in not_assessed else "absent"
            for name in ILO_INDICATORS
        }
        body: dict[str, Any] = {
            "facility": facility,
            "standard": standard,
            "audit_date": audit_date,
            "valid_until": valid_until,
            "outcome": outcome,
            "indicators": indicators,
            "findings": list(findings),
            "evidence": [{"name": n, "sha256": hashlib.sha256(d).hexdigest()} for n, d in evidence],
        }
        if workers is not None:
            body["workers"] = workers
        return self.emit("labor-attestation", issuer, body)

    def product(
        self,
        brand: str,
        gtin: str,
        batch: str,
        name: str,
        lots: Iterable[Line],
        description: str | None = None,
    ) -> int:
        body: dict[str, Any] = {
            "gtin": gtin,
            "batch": batch,
            "name": name,
            "lots": [{"lot": lot, "amount": a, "unit": u} for lot, a, u in lots],
        }
        if description:
            body["description"] = description
        return self.emit("product", brand, body)

    def revoke(self, issuer: str, seq: int, reason: str) -> int:
        return self.emit("revocation", issuer, {"entry": seq, "reason": reason})
