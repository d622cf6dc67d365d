"""Write statements in the domain's words: used by the demo, the benchmarks and the tests.

``Builder`` wraps a ``Ledger`` and, per party it registers, its current key and its next
keys (SPEC v2: a party incepts itself with its own key and commits to its next keys; the
operator admits it). Each method signs one
statement with the right party's key and appends it, returning the entry's seq; with
``batch()`` the statements are collected and appended in one transaction instead.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from ledger.core.ledger import NEXT_KEY_NAME, Ledger, format_time
from ledger.crypto.keys import PrivateKey
from ledger.errors import LedgerError
from ledger.model.fields import ILO_INDICATORS
from ledger.model.identity import digest
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
        self.next_keys: dict[str, list[PrivateKey]] = {}
        next_file = ledger.home / NEXT_KEY_NAME
        if next_file.exists():
            self.next_keys["operator"] = [PrivateKey.load(next_file)]
        self._incepted: dict[str, int] = {}
        self._fresh = 0
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

    def next_key_for(self, party: str, n: int = 0) -> PrivateKey:
        """A fresh key for ``party``'s next commitment (deterministic with a seed)."""
        self._fresh += 1
        if self.seed is None:
            return PrivateKey.generate()
        seed = hashlib.sha256(f"{self.seed}/{party}/next/{self._fresh}/{n}".encode()).digest()
        return PrivateKey.from_seed(seed)

    def party(
        self,
        pid: str,
        name: str,
        role: str,
        country: str,
        *,
        os_id: str | None = None,
        gln: str | None = None,
        domain: str | None = None,
        keys: Iterable[PrivateKey] | None = None,
        next_keys: Iterable[PrivateKey] | None = None,
    ) -> int:
        """Register ``pid`` as SPEC v2 does: its own ``inception`` (signed by its key, committing
        to its next keys) and the operator's ``admission`` with ``role``. Returns the
        inception's seq (-1 inside ``batch()``). Keys are generated unless given; the builder
        keeps the party's current key and its next keys."""
        seq = self.incept(
            pid, name, role, country, os_id=os_id, gln=gln, domain=domain, keys=keys, next_keys=next_keys
        )
        self.admit(pid, role, self._incepted[pid])
        return seq

    def incept(
        self,
        pid: str,
        name: str,
        role: str,
        country: str,
        *,
        os_id: str | None = None,
        gln: str | None = None,
        domain: str | None = None,
        keys: Iterable[PrivateKey] | None = None,
        next_keys: Iterable[PrivateKey] | None = None,
    ) -> int:
        """The party's own inception, signed by its first key."""
        keys = list(keys) if keys is not None else [self.key_for(pid)]
        self.keys[pid] = keys[0]
        nexts = list(next_keys) if next_keys is not None else [self.next_key_for(pid)]
        self.next_keys[pid] = nexts
        identifiers = {k: v for k, v in (("os_id", os_id), ("gln", gln), ("domain", domain)) if v}
        self._incepted[pid] = self._next_seq()
        return self.submit(
            self.envelope(
                "inception",
                pid,
                {
                    "party": pid,
                    "name": name,
                    "role": role,
                    "country": country,
                    "identifiers": identifiers,
                    "keys": [k.public.b64 for k in keys],
                    "next": [digest(k.public.raw) for k in nexts],
                },
                keys[0],
            )
        )

    def admit(self, pid: str, role: str, inception: int | None = None) -> int:
        """The operator's admission of ``pid`` with ``role``."""
        at = self._incepted[pid] if inception is None else inception
        return self.emit("admission", "operator", {"party": pid, "inception": at, "role": role})

    def suspend(self, pid: str, reason: str = "under investigation") -> int:
        return self.emit("suspension", "operator", {"party": pid, "reason": reason})

    def reinstate(self, pid: str, reason: str = "cleared") -> int:
        return self.emit("reinstatement", "operator", {"party": pid, "reason": reason})

    def profile(self, pid: str, name: str, country: str, identifiers: dict[str, str] | None = None) -> int:
        return self.emit(
            "profile", pid, {"party": pid, "name": name, "country": country, "identifiers": identifiers or {}}
        )

    def rotation_envelope(
        self,
        pid: str,
        *,
        reason: str = "scheduled",
        compromised_since: int | None = None,
        next_keys: Iterable[PrivateKey] | None = None,
    ) -> tuple[Envelope, PrivateKey, list[PrivateKey]]:
        """``pid``'s rotation to its committed next keys, signed by the first of them, with
        fresh next keys: (envelope, new current key, new next keys). Changes nothing here."""
        revealed = self.next_keys[pid]
        nexts = list(next_keys) if next_keys is not None else [self.next_key_for(pid)]
        body: dict[str, Any] = {
            "party": pid,
            "keys": [k.public.b64 for k in revealed],
            "next": [digest(k.public.raw) for k in nexts],
            "reason": reason,
        }
        if compromised_since is not None:
            body["compromised_since"] = compromised_since
        return self.envelope("rotation", pid, body, revealed[0]), revealed[0], nexts

    def rotate(
        self,
        pid: str,
        *,
        reason: str = "scheduled",
        compromised_since: int | None = None,
        next_keys: Iterable[PrivateKey] | None = None,
    ) -> int:
        """Rotate ``pid`` (the operator too) to its committed next keys; keep the new ones."""
        envelope, key, nexts = self.rotation_envelope(
            pid, reason=reason, compromised_since=compromised_since, next_keys=next_keys
        )
        if pid == "operator":
            seq = self.ledger.rotate_operator(envelope, key).entry.seq
        else:
            seq = self.submit(envelope)
        self.keys[pid], self.next_keys[pid] = key, nexts
        return seq

    def _next_seq(self) -> int:
        return self.ledger.size + (len(self._batch) if self._batch is not None else 0)

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
