"""Goods between two parties: a shipment waits for its receiver's ``receipt`` (SPEC §6, §7).

A shipment takes the goods from the sender at once; they are *in transit* until the
receiver signs a receipt. Accepted, they join the receiver's holdings; refused, they go back
to the sender. So nobody can put goods into another party's hands, or its custody route,
without its consent. This module keeps the ``shipments`` rows (derived state, rebuilt by
replay) and checks a receipt against them; ``rules`` moves the balances.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ledger import errors as E


class NotRecipient(E.LedgerError):
    """A receipt signed by someone the shipment was not sent to: a question of who signs."""

    status, code = 403, "not-recipient"


class AlreadyReceived(E.RuleViolation):
    code = "already-received"


class ShipmentRevoked(E.RuleViolation):
    code = "shipment-revoked"


@dataclass(frozen=True)
class Shipment:
    seq: int
    lot: str
    sender: str
    receiver: str
    amount: str
    unit: str
    shipped_on: str
    receipt: int | None
    accepted: bool | None
    received_on: str | None
    revoked_by: int | None

    def to_json(self) -> dict[str, Any]:
        """What ``GET /api/v1/parties/<id>/transit`` lists for a shipment in transit."""
        return {
            "shipment": self.seq,
            "lot": self.lot,
            "amount": self.amount,
            "unit": self.unit,
            "from": self.sender,
            "to": self.receiver,
            "shipped_on": self.shipped_on,
        }

    @classmethod
    def from_row(cls, row: Any) -> Shipment:
        accepted = None if row[8] is None else bool(row[8])
        return cls(*row[:8], accepted, *row[9:])  # type: ignore[call-arg]


_COLUMNS = "seq, lot, sender, receiver, amount, unit, shipped_on, receipt, accepted, received_on, revoked_by"


def record_shipment(conn: sqlite3.Connection, seq: int, body: dict[str, Any], sender: str) -> None:
    conn.execute(
        "INSERT INTO shipments (seq, lot, sender, receiver, amount, unit, shipped_on)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (seq, body["lot"], sender, body["to"], body["amount"], body["unit"], body["shipped_on"]),
    )


def get(conn: sqlite3.Connection, seq: int) -> Shipment | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM shipments WHERE seq = ?", (seq,)).fetchone()
    return Shipment.from_row(row) if row else None


def receivable(conn: sqlite3.Connection, seq: int, issuer: str, field: str) -> Shipment:
    """The shipment of entry ``seq`` if ``issuer`` may sign its receipt now; else raise
    ``UnknownEntry`` (no such shipment), ``NotRecipient`` (403: not sent to ``issuer``),
    ``ShipmentRevoked`` or ``AlreadyReceived`` (422)."""
    shipment = get(conn, seq)
    if shipment is None:
        raise E.UnknownEntry(f"entry {seq} is not a shipment", field=field)
    if shipment.receiver != issuer:
        raise NotRecipient(
            f"the shipment of entry {seq} was sent to {shipment.receiver}, not to {issuer}: "
            "only its receiver signs its receipt",
            field=field,
        )
    if shipment.revoked_by is not None:
        raise ShipmentRevoked(
            f"the shipment of entry {seq} was revoked by entry {shipment.revoked_by}", field=field
        )
    if shipment.receipt is not None:
        verb = "accepted" if shipment.accepted else "refused"
        raise AlreadyReceived(
            f"the shipment of entry {seq} was already {verb} by entry {shipment.receipt}", field=field
        )
    return shipment


def record_receipt(conn: sqlite3.Connection, shipment: int, seq: int, body: dict[str, Any]) -> None:
    conn.execute(
        "UPDATE shipments SET receipt = ?, accepted = ?, received_on = ? WHERE seq = ?",
        (seq, int(body["accepted"]), body["received_on"], shipment),
    )


def undo_receipt(conn: sqlite3.Connection, shipment: int) -> None:
    """The receipt was revoked: the goods are in transit again, to be received anew."""
    conn.execute(
        "UPDATE shipments SET receipt = NULL, accepted = NULL, received_on = NULL WHERE seq = ?", (shipment,)
    )


def mark_revoked(conn: sqlite3.Connection, shipment: int, seq: int) -> None:
    conn.execute("UPDATE shipments SET revoked_by = ? WHERE seq = ?", (seq, shipment))


def in_transit(
    conn: sqlite3.Connection, party: str, *, incoming: bool = True, limit: int = 1000
) -> list[Shipment]:
    """Standing shipments to (``incoming``) or from ``party`` that await a receipt, oldest first."""
    column = "receiver" if incoming else "sender"
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM shipments WHERE {column} = ? AND receipt IS NULL"
        " AND revoked_by IS NULL ORDER BY seq LIMIT ?",
        (party, limit),
    )
    return [Shipment.from_row(r) for r in rows]
