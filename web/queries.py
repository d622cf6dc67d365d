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


ATTESTATIONS_PAGE = 100  # a party's attestations shown at once (API and page)
ATTESTATIONS_IN_LIST = 20  # each party's first attestations in the party list
ATTESTATIONS_MAX = 500
PARTIES_PAGE = 100
PARTIES_MAX = 200


def attestations_of(
    ledger: Ledger, pid: str, after: int = -1, limit: int = ATTESTATIONS_PAGE
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of the labour attestations about ``pid`` (as facility) or issued by it, oldest
    first, after seq ``after``; and the ``next_after`` of the next page (None at the end).
    Loads only the ``limit`` entries shown."""
    rows = store.query(
        ledger.conn,
        "SELECT a.seq, a.facility, a.issuer, a.audit_date, a.valid_until, a.outcome, r.seq FROM"
        " (SELECT * FROM attestations WHERE facility = ? AND seq > ?"
        "  UNION SELECT * FROM attestations WHERE issuer = ? AND seq > ? ORDER BY seq LIMIT ?) a"
        " LEFT JOIN revocations r ON r.target = a.seq ORDER BY a.seq",
        (pid, after, pid, after, limit + 1),
    )
    more = len(rows) > limit
    rows = rows[:limit]
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
    return out, (rows[-1][0] if more else None)


def _with_attestations(ledger: Ledger, p: dict[str, Any], after: int, limit: int) -> dict[str, Any]:
    p["keys"] = keys_of(ledger, p["id"])
    p["attestations"], p["attestations_next_after"] = attestations_of(ledger, p["id"], after, limit)
    p.update(standing_of(ledger, p["id"]))
    return p


def party(ledger: Ledger, pid: str, after: int = -1, limit: int = ATTESTATIONS_PAGE) -> dict[str, Any]:
    """A party with its keys and a page of its attestations (``attestations_next_after``
    for the next). Raises ``NotFound``."""
    with store.read_transaction(ledger.conn):
        rows = store.query(ledger.conn, f"SELECT {PARTY_COLUMNS} FROM parties WHERE id = ?", (pid,))
        if not rows:
            raise NotFound(f"party {pid[:80]!r} is not registered", field="id")
        return _with_attestations(ledger, _party_row(rows[0]), after, limit)


def parties(
    ledger: Ledger, after: int = -1, limit: int = PARTIES_PAGE, *, details: bool = True
) -> tuple[list[dict[str, Any]], int | None]:
    """A page of parties in registration order after ``first_seq`` ``after``, and the
    ``next_after`` of the next page. With ``details``, each with its keys and first
    attestations; without, only the party rows (what the parties page shows)."""
    with store.read_transaction(ledger.conn):
        rows = store.query(
            ledger.conn,
            f"SELECT {PARTY_COLUMNS} FROM parties WHERE first_seq > ? ORDER BY first_seq LIMIT ?",
            (after, limit + 1),
        )
        more = len(rows) > limit
        out = [_party_row(row) for row in rows[:limit]]
        if details:
            out = [_with_attestations(ledger, p, -1, ATTESTATIONS_IN_LIST) for p in out]
    return out, (out[-1]["first_seq"] if more else None)


def standing_of(ledger: Ledger, pid: str) -> dict[str, Any]:
    """SPEC v2 identity: when the party was admitted and (if so) suspended, its key history
    (inception, admissions, rotations, profiles, suspensions, as ``{seq, type}``), and the
    seqs of its statements disputed by a ``compromised`` rotation."""
    from ledger.trace.entries import LedgerLoader

    admitted, suspended = store.query(
        ledger.conn, "SELECT admitted, suspended FROM parties WHERE id = ?", (pid,)
    )[0]
    seqs = LedgerLoader(ledger.conn, store.size(ledger.conn)).registrations(pid)
    types = dict(
        store.query(
            ledger.conn, f"SELECT seq, type FROM entries WHERE seq IN ({','.join('?' * len(seqs))})", seqs
        )
    )
    disputed = store.query(ledger.conn, "SELECT seq FROM disputed WHERE party = ? ORDER BY seq", (pid,))
    return {
        "admitted": admitted,
        "suspended": suspended,
        "history": [{"seq": s, "type": types[s]} for s in seqs],
        "disputed": [r[0] for r in disputed],
    }


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
