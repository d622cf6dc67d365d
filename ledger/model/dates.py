"""Event dates checked at append (SPEC §6, §7): no step is dated after the day it is
recorded, or before the dates of what it uses.

The event dates are ``produced_on``, a transformation's ``date``, ``shipped_on``,
``received_on`` and ``audit_date``. "The day recorded" is the UTC date of the entry's
``recorded_at``. What a step uses is dated by ``held_since``: the day its party first held a
lot (made it, or received it and accepted), so a shipment or a transformation cannot be
dated before its party had the goods, and a receipt not before its shipment.

``check`` runs after the statement's own handler (``rules``), in the same transaction: a
refusal raises and the caller's savepoint undoes everything the statement did.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ledger import errors as E
from ledger.model import transit
from ledger.model.statements import Statement

EVENT_DATES = {
    "material-origin": "produced_on",
    "transformation": "date",
    "shipment": "shipped_on",
    "receipt": "received_on",
    "labor-attestation": "audit_date",
}


class EventDate(E.RuleViolation):
    code = "event-date"


def event_date(kind: str, body: dict[str, Any]) -> str | None:
    """The step's event date, or ``None`` for a type without one."""
    key = EVENT_DATES.get(kind)
    return body[key] if key else None


def check(conn: sqlite3.Connection, st: Statement, recorded_at: str) -> None:
    """Refuse an event date after ``recorded_at``'s day or before what the step uses; then
    note the day the step's party came to hold what it made or received."""
    key = EVENT_DATES.get(st.type)
    if key is None:
        return
    b, day = st.body, recorded_at[:10]
    when = b[key]
    if when > day:
        raise EventDate(
            f"{when} is after the day this entry is recorded ({day}): no step is dated in the future",
            field=f"statement.body.{key}",
        )
    if st.type == "material-origin":
        _made(conn, b["lot"], st.issuer, when)
    elif st.type == "transformation":
        for i, line in enumerate(b["inputs"]):
            _not_before_held(conn, line["lot"], st.issuer, when, f"statement.body.inputs[{i}].lot", "used")
        for out in b["outputs"]:
            _made(conn, out["lot"], st.issuer, when)
    elif st.type == "shipment":
        _not_before_held(conn, b["lot"], st.issuer, when, "statement.body.shipped_on", "shipped")
    elif st.type == "receipt":
        shipment = transit.get(conn, b["shipment"])
        if shipment is not None and when < shipment.shipped_on:
            raise EventDate(
                f"{when} is before the shipment of entry {shipment.seq} was sent ({shipment.shipped_on})",
                field="statement.body.received_on",
            )
        if shipment is not None and b["accepted"]:
            conn.execute(
                "INSERT INTO held_since (lot, party, day) VALUES (?, ?, ?)"
                # CASE, not min(): the same text runs on SQLite and PostgreSQL
                " ON CONFLICT (lot, party) DO UPDATE SET day ="
                " CASE WHEN excluded.day < held_since.day THEN excluded.day ELSE held_since.day END",
                (shipment.lot, shipment.receiver, when),
            )


def _made(conn: sqlite3.Connection, lot: str, party: str, day: str) -> None:
    conn.execute("DELETE FROM held_since WHERE lot = ?", (lot,))  # a lot id taken again by a correction
    conn.execute("INSERT INTO held_since (lot, party, day) VALUES (?, ?, ?)", (lot, party, day))


def _not_before_held(conn: sqlite3.Connection, lot: str, party: str, day: str, field: str, verb: str) -> None:
    row = conn.execute("SELECT day FROM held_since WHERE lot = ? AND party = ?", (lot, party)).fetchone()
    if row is not None and day < row[0]:
        raise EventDate(
            f"lot {lot!r} is {verb} on {day}, before {party} had it (since {row[0]})",
            field=field,
        )
