"""Read-only queries for the API and the pages: parties with their keys and attestations,
recent products, a party's activity. They read the store's derived tables; everything they
return can be checked against the entries it names."""

from __future__ import annotations

import json
from typing import Any

from ledger.core.ledger import Ledger
from ledger.errors import NotFound
from ledger.model.transit import in_transit
from ledger.store import sqlite as store


def _party_row(row: tuple[Any, ...]) -> dict[str, Any]:
    pid, name, role, country, identifiers, first_seq, seq = row
    return {
        "id": pid,
        "name": name,
        "role": role,
        "country": country or None,
        "identifiers": json.loads(identifiers),
        "first_seq": first_seq,
        "seq": seq,
    }


PARTY_COLUMNS = "id, name, role, country, identifiers, first_seq, seq"


def keys_of(ledger: Ledger, pid: str) -> list[dict[str, Any]]:
    rows = store.query(
        ledger.conn,
        "SELECT key_id, public, from_seq, until_seq FROM keys WHERE party = ? ORDER BY from_seq, key_id",
        (pid,),
    )
    return [{"key_id": k, "public_key": p, "from_seq": f, "until_seq": u} for k, p, f, u in rows]


def attestations_of(ledger: Ledger, pid: str) -> list[dict[str, Any]]:
    """Labour attestations about ``pid`` (as facility) or issued by it, oldest first."""
    rows = store.query(
        ledger.conn,
        "SELECT a.seq, a.facility, a.issuer, a.audit_date, a.valid_until, a.outcome, r.seq"
        " FROM attestations a LEFT JOIN revocations r ON r.target = a.seq"
        " WHERE a.facility = ? OR a.issuer = ? ORDER BY a.seq",
        (pid, pid),
    )
    out = []
    for seq, facility, issuer, audit_date, valid_until, outcome, revoked_by in rows:
        body = ledger.entry(seq).statement.body
        out.append(
            {
                "seq": seq,
                "facility": facility,
                "issuer": issuer,
                "standard": body["standard"],
                "audit_date": audit_date,
                "valid_until": valid_until,
                "outcome": outcome,
                "present": sorted(k for k, v in body["indicators"].items() if v == "present"),
                "findings": list(body["findings"]),
                "revoked_by": revoked_by,
            }
        )
    return out


def party(ledger: Ledger, pid: str) -> dict[str, Any]:
    """A party with its keys and attestations. Raises ``NotFound``."""
    with store.read_transaction(ledger.conn):
        rows = store.query(ledger.conn, f"SELECT {PARTY_COLUMNS} FROM parties WHERE id = ?", (pid,))
        if not rows:
            raise NotFound(f"party {pid[:80]!r} is not registered", field="id")
        out = _party_row(rows[0])
        out["keys"] = keys_of(ledger, pid)
        out["attestations"] = attestations_of(ledger, pid)
    return out


def parties(ledger: Ledger) -> list[dict[str, Any]]:
    with store.read_transaction(ledger.conn):
        rows = store.query(ledger.conn, f"SELECT {PARTY_COLUMNS} FROM parties ORDER BY first_seq")
        out = []
        for row in rows:
            p = _party_row(row)
            p["keys"] = keys_of(ledger, p["id"])
            p["attestations"] = attestations_of(ledger, p["id"])
            out.append(p)
    return out


def party_names(ledger: Ledger, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = store.query(ledger.conn, f"SELECT id, name FROM parties WHERE id IN ({marks})", list(ids))
    return {pid: name for pid, name in rows}


def recent_products(ledger: Ledger, limit: int = 10) -> list[dict[str, Any]]:
    rows = store.query(
        ledger.conn,
        "SELECT p.seq, p.gtin, p.batch, p.brand, b.name FROM products p"
        " LEFT JOIN parties b ON b.id = p.brand WHERE p.revoked_by IS NULL"
        " ORDER BY p.seq DESC LIMIT ?",
        (limit,),
    )
    return [
        {
            "seq": seq,
            "gtin": gtin,
            "batch": batch,
            "brand": brand,
            "brand_name": bname or brand,
            "name": ledger.entry(seq).statement.body["name"],
        }
        for seq, gtin, batch, brand, bname in rows
    ]


def products_of(ledger: Ledger, brand: str) -> list[dict[str, Any]]:
    rows = store.query(
        ledger.conn,
        "SELECT seq, gtin, batch, revoked_by FROM products WHERE brand = ? ORDER BY seq",
        (brand,),
    )
    return [
        {
            "seq": seq,
            "gtin": gtin,
            "batch": batch,
            "revoked_by": rev,
            "name": ledger.entry(seq).statement.body["name"],
        }
        for seq, gtin, batch, rev in rows
    ]


def activity(ledger: Ledger, pid: str, limit: int = 200) -> list[dict[str, Any]]:
    """What a party produced, processed and shipped: its goods entries, oldest first."""
    rows = store.query(
        ledger.conn,
        "SELECT e.seq, e.type FROM links l JOIN entries e ON e.seq = l.seq"
        " WHERE l.kind = 'party' AND l.value = ? AND e.issuer = ? AND e.type IN"
        " ('material-origin', 'transformation', 'shipment', 'product') ORDER BY l.seq LIMIT ?",
        (pid, pid, limit),
    )
    out = []
    for seq, type_ in rows:
        st = ledger.entry(seq).statement
        out.append({"seq": seq, "type": type_, "body": st.body})
    return out


def received(ledger: Ledger, pid: str, limit: int = 200) -> list[dict[str, Any]]:
    """Shipments sent to ``pid`` that it accepted (the others are in transit or went back)."""
    rows = store.query(
        ledger.conn,
        "SELECT l.seq FROM links l JOIN entries e ON e.seq = l.seq JOIN shipments s ON s.seq = l.seq"
        " WHERE l.kind = 'party' AND l.value = ? AND e.type = 'shipment' AND e.issuer != ?"
        " AND s.accepted = 1 ORDER BY l.seq LIMIT ?",
        (pid, pid, limit),
    )
    return [
        {"seq": seq, "issuer": (st := ledger.entry(seq).statement).issuer, "body": st.body} for (seq,) in rows
    ]


def transit(ledger: Ledger, pid: str) -> dict[str, Any]:
    """Goods in transit to ``pid`` (awaiting its receipt) and from it (awaiting their
    receivers'), oldest first. Raises ``NotFound`` for an unknown party."""
    with store.read_transaction(ledger.conn):
        if not store.query(ledger.conn, "SELECT 1 FROM parties WHERE id = ?", (pid,)):
            raise NotFound(f"party {pid[:80]!r} is not registered", field="id")
        return {
            "party": pid,
            "incoming": [s.to_json() for s in in_transit(ledger.conn, pid, incoming=True)],
            "outgoing": [s.to_json() for s in in_transit(ledger.conn, pid, incoming=False)],
        }


def gtin_product(ledger: Ledger, gtin: str) -> dict[str, Any]:
    """What a GTIN-14 is: its brand (``gtins``, the owner since its first declaration) and
    the name it was last declared under, from its newest batch that is not withdrawn (else
    its first). Raises ``NotFound`` for a GTIN never declared."""
    row = store.query(ledger.conn, "SELECT brand, seq FROM gtins WHERE gtin = ?", (gtin,))
    if not row:
        raise NotFound(f"no product with GTIN {gtin} has been declared", field="gtin")
    brand, first = row[0]
    live = store.query(
        ledger.conn,
        "SELECT p.seq FROM links l CROSS JOIN products p ON p.seq = l.seq"
        " WHERE l.kind = 'gtin' AND l.value = ? AND p.revoked_by IS NULL ORDER BY l.seq DESC LIMIT 1",
        (gtin,),
    )
    seq = live[0][0] if live else first
    return {
        "gtin": gtin,
        "brand": brand,
        "brand_name": party_names(ledger, {brand}).get(brand, brand),
        "name": ledger.entry(seq).statement.body["name"],
    }


def gtin_batches(
    ledger: Ledger, gtin: str, *, before: int | None = None, limit: int = 100
) -> tuple[list[dict[str, Any]], int | None]:
    """The batches declared for a GTIN-14, newest first, withdrawn ones included: a page of
    ``limit`` declared before seq ``before``, and the ``before`` of the next page (``None``
    at the last). One range on ``links``' primary key, each row joined on ``products``'."""
    rows = store.query(
        ledger.conn,
        "SELECT p.seq, p.batch, p.revoked_by FROM links l CROSS JOIN products p ON p.seq = l.seq"
        " WHERE l.kind = 'gtin' AND l.value = ? AND l.seq < ? ORDER BY l.seq DESC LIMIT ?",
        (gtin, 2**62 if before is None else before, limit + 1),
    )
    out = []
    for seq, batch, revoked_by in rows[:limit]:
        e = ledger.entry(seq)
        out.append(
            {
                "seq": seq,
                "batch": batch,
                "withdrawn": revoked_by is not None,
                "revoked_by": revoked_by,
                "name": e.statement.body["name"],
                "recorded_at": e.recorded_at,
            }
        )
    return out, (out[-1]["seq"] if len(rows) > limit else None)
