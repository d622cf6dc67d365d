"""The entries a trace involves, indexed in memory, and where they come from.

An ``EntrySet`` answers a trace's questions (which entry made a lot, which shipments moved
it, which attestations a facility has, what was revoked) from entries held in memory. A
``Loader`` fills it: ``LedgerLoader`` by index queries on a ledger's store, bounded by a
checkpoint's size; the offline bundle verifier by the bundle's own entries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ledger.errors import LedgerError
from ledger.model.identity import IDENTITY_TYPES, OPERATOR
from ledger.model.statements import Entry
from ledger.store import sqlite as store


class Loader(Protocol):
    """Where an ``EntrySet`` fetches what it lacks: seqs by index, then the entries."""

    def products(self, gtin: str, batch: str) -> list[int]: ...
    def creator(self, lot: str) -> list[int]: ...
    def shipments(self, lot: str, after: int, before: int) -> list[int]: ...
    def attestations(self, party: str) -> list[int]: ...
    def registrations(self, party: str) -> list[int]: ...
    def revocations(self, targets: list[int]) -> list[int]: ...
    def revoked_touching(self, lot: str) -> list[int]: ...
    def load(self, seqs: list[int]) -> list[Entry]: ...


class TraceTooLarge(LedgerError):
    """A trace involves more entries than one request may load (issue 9, item 3)."""

    status, code = 413, "trace-too-large"


class EntrySet:
    """Entries below tree size ``size`` recorded on or before ``as_of``, indexed by what the
    trace asks. With a ``loader``, each question first fetches every entry that answers it;
    with a ``limit``, holding more than that many entries raises ``TraceTooLarge``."""

    def __init__(
        self,
        size: int,
        as_of: str | None = None,
        entries: Iterable[Entry] = (),
        loader: Loader | None = None,
        limit: int | None = None,
    ) -> None:
        self.size, self.as_of, self.loader, self.limit = size, as_of, loader, limit
        self.entries: dict[int, Entry] = {}
        self._done: set[tuple[str, str]] = set()
        self._products: dict[tuple[str, str], list[Entry]] = {}
        self._creator: dict[str, list[Entry]] = {}  # lot -> its makers, a revoked one first
        self._shipments: dict[str, list[Entry]] = {}
        self._attestations: dict[str, list[Entry]] = {}
        self._registrations: dict[str, list[Entry]] = {}
        self._revocation: dict[int, Entry] = {}
        self._receipts: dict[int, list[Entry]] = {}  # shipment seq -> its receipts
        self._touching: dict[str, list[Entry]] = {}  # lot -> entries naming it (SPEC §6 links)
        self.add(entries)

    def visible(self, e: Entry) -> bool:
        return e.seq < self.size and (self.as_of is None or e.recorded_at[:10] <= self.as_of)

    def add(self, entries: Iterable[Entry]) -> None:
        new = [e for e in entries if e.seq not in self.entries and self.visible(e)]
        if self.limit is not None and len(self.entries) + len(new) > self.limit:
            raise TraceTooLarge(
                f"this trace involves more than {self.limit} entries, too many to serve at once;"
                " the ledger's operator can run 'provenance trace' on it"
            )
        touched: list[list[Entry]] = []  # the index lists that gained an entry, to re-sort

        def put(index: dict[Any, list[Entry]], key: Any, e: Entry) -> None:
            items = index.setdefault(key, [])
            if items and items[-1].seq > e.seq:
                touched.append(items)
            items.append(e)

        for e in sorted(new, key=lambda e: e.seq):
            self.entries[e.seq] = e
            b, kind = e.statement.body, e.statement.type
            for lot in lots_named(e):
                self._touching.setdefault(lot, []).append(e)
            if kind == "product":
                put(self._products, (b["gtin"], b["batch"]), e)
            elif kind == "material-origin":
                put(self._creator, b["lot"], e)
            elif kind == "transformation":
                for out in b["outputs"]:
                    put(self._creator, out["lot"], e)
            elif kind == "shipment":
                put(self._shipments, b["lot"], e)
            elif kind == "receipt":
                put(self._receipts, b["shipment"], e)
            elif kind == "labor-attestation":
                put(self._attestations, b["facility"], e)
            elif kind in IDENTITY_TYPES and kind != "genesis":
                put(self._registrations, b["party"], e)
            elif kind == "genesis":
                put(self._registrations, "operator", e)
            elif kind == "revocation":
                self._revocation.setdefault(b["entry"], e)
        for items in touched:  # only lists an out-of-order entry joined: linear, not quadratic
            items.sort(key=lambda e: e.seq)
        if self.loader and new:  # every entry comes with its revocation, if it has one
            revocations = self.loader.revocations([e.seq for e in new])
            self.add(self.loader.load([s for s in revocations if s not in self.entries]))

    def _fetch(self, what: str, key: str, seqs: Callable[[Loader], list[int]]) -> None:
        if self.loader is not None and (what, key) not in self._done:
            self._done.add((what, key))
            wanted = [s for s in seqs(self.loader) if s not in self.entries]
            self.add(self.loader.load(wanted) if wanted else [])

    def products(self, gtin: str, batch: str) -> list[Entry]:
        """Every declaration of ``(gtin, batch)``, revoked ones too."""
        self._fetch("product", f"{gtin}/{batch}", lambda x: x.products(gtin, batch))
        return self._products.get((gtin, batch), [])

    def creator(self, lot: str) -> Entry | None:
        """The ``material-origin`` or ``transformation`` that made ``lot``: the latest one not
        revoked (a revoked maker's lot id may be taken again by its correction), else the
        latest, revoked."""
        self._fetch("creator", lot, lambda x: x.creator(lot))
        makers = self._creator.get(lot, [])
        standing = [e for e in makers if e.seq not in self._revocation]
        chosen = standing or makers
        return chosen[-1] if chosen else None

    def shipments(self, lot: str, after: int = -1, before: int | None = None) -> list[Entry]:
        """The shipments of ``lot`` between seqs ``after`` and ``before`` (exclusive): only
        those can be on a route from its maker to its users, so no others are loaded."""
        before = self.size if before is None else min(before, self.size)
        self._fetch("shipments", f"{lot}/{after}/{before}", lambda x: x.shipments(lot, after, before))
        return [e for e in self._shipments.get(lot, []) if after < e.seq < before]

    def receipt(self, shipment: int) -> Entry | None:
        """The standing receipt of the shipment of entry ``shipment``, if its receiver signed
        one (loaded with the lot's shipments: receipts are linked to the lot)."""
        standing = [e for e in self._receipts.get(shipment, []) if e.seq not in self._revocation]
        return standing[-1] if standing else None

    def receipts(self, shipment: int) -> list[Entry]:
        """Every receipt of the shipment, revoked ones too, oldest first."""
        return self._receipts.get(shipment, [])

    def attestations(self, party: str) -> list[Entry]:
        self._fetch("attestations", party, lambda x: x.attestations(party))
        return self._attestations.get(party, [])

    def registrations(self, party: str) -> list[Entry]:
        """The party's key event log, admissions, profiles and suspensions (the operator's:
        genesis and its rotations), oldest first."""
        self._fetch("registrations", party, lambda x: x.registrations(party))
        return self._registrations.get(party, [])

    def revoked_touching(self, lot: str) -> list[Entry]:
        """Revoked entries naming ``lot``: e.g. a transformation that was corrected."""
        self._fetch("revoked", lot, lambda x: x.revoked_touching(lot))
        return [e for e in self._touching.get(lot, []) if e.seq in self._revocation]

    def revocation(self, seq: int) -> Entry | None:
        return self._revocation.get(seq)


class LedgerLoader:
    """Index queries on a ledger's store, bounded by a checkpoint's tree size: the cost of a
    trace grows with the product's supply chain, not with the ledger."""

    def __init__(self, conn: sqlite3.Connection, size: int) -> None:
        self.conn, self.size = conn, size

    def _seqs(self, sql: str, *params: Any) -> list[int]:
        return [int(r[0]) for r in self.conn.execute(sql, (*params, self.size))]

    def products(self, gtin: str, batch: str) -> list[int]:
        return self._seqs(
            "SELECT p.seq FROM links l JOIN products p ON p.seq = l.seq WHERE "
            "l.kind = 'gtin' AND l.value = ? AND p.batch = ? AND l.seq < ?",
            gtin,
            batch,
        )

    def creator(self, lot: str) -> list[int]:
        """Every origin or transformation naming ``lot``: its maker, any revoked maker whose
        correction took the id again, and (harmlessly) transformations that used it."""
        return self._seqs(
            "SELECT l.seq FROM links l JOIN entries e ON e.seq = l.seq WHERE l.kind = 'lot'"
            " AND l.value = ? AND e.type IN ('material-origin', 'transformation') AND l.seq < ?",
            lot,
        )

    def shipments(self, lot: str, after: int, before: int) -> list[int]:
        """The lot's shipments and their receipts between seqs ``after`` and ``before``."""
        return self._seqs(
            "SELECT l.seq FROM links l JOIN entries e ON e.seq = l.seq WHERE l.kind = 'lot' AND l.value = ?"
            " AND e.type IN ('shipment', 'receipt') AND l.seq > ? AND l.seq < ? AND l.seq < ?",
            lot,
            after,
            before,
        )

    def attestations(self, party: str) -> list[int]:
        return self._seqs("SELECT seq FROM attestations WHERE facility = ? AND seq < ?", party)

    def registrations(self, party: str) -> list[int]:
        """The identity entries about ``party`` (each links the party it is about; the
        operator's own acts about others link it as their issuer, so for the operator only
        its own key events and profiles count)."""
        row = self.conn.execute("SELECT first_seq FROM parties WHERE id = ?", (party,)).fetchone()
        if row is None or row[0] >= self.size:
            return []
        kinds = ("genesis", "rotation", "profile") if party == OPERATOR else IDENTITY_TYPES
        return self._seqs(
            "SELECT l.seq FROM links l JOIN entries e ON e.seq = l.seq WHERE l.kind = 'party' AND l.value = ?"
            f" AND l.seq >= ? AND e.type IN ({','.join('?' * len(kinds))}) AND l.seq < ?",
            party,
            int(row[0]),
            *kinds,
        )

    def revocations(self, targets: list[int]) -> list[int]:
        out: list[int] = []
        for i in range(0, len(targets), 500):
            chunk = targets[i : i + 500]
            out += self._seqs(
                f"SELECT seq FROM revocations WHERE target IN ({','.join('?' * len(chunk))}) AND seq < ?",
                *chunk,
            )
        return out

    def revoked_touching(self, lot: str) -> list[int]:
        return self._seqs(
            "SELECT l.seq FROM links l JOIN revocations r ON r.target = l.seq "
            "WHERE l.kind = 'lot' AND l.value = ? AND r.seq < ?",
            lot,
        )

    def load(self, seqs: list[int]) -> list[Entry]:
        out: list[Entry] = []
        for i in range(0, len(seqs), 500):
            chunk = seqs[i : i + 500]
            rows = self.conn.execute(
                f"SELECT canonical FROM entries WHERE seq IN ({','.join('?' * len(chunk))})", chunk
            )
            out += [Entry.unchecked(store.as_bytes(r[0])) for r in rows]  # validated on append
        return out


def lots_named(e: Entry) -> list[str]:
    """The lots an entry names, as the store links them (``rules``)."""
    b, kind = e.statement.body, e.statement.type
    if kind in ("material-origin", "shipment"):
        return [b["lot"]]
    if kind == "receipt":
        return []  # its lot is its shipment's: the store links it, the trace finds it by shipment
    if kind == "transformation":
        return [x["lot"] for x in b["inputs"]] + [x["lot"] for x in b["outputs"]]
    if kind == "product":
        return [x["lot"] for x in b["lots"]]
    return []
