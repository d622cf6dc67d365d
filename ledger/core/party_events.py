"""A party's key event log, admissions, profiles and suspensions, with proofs (SPEC §10
``GET /api/v1/parties/<id>/events``).

Each event is an entry view (``canonical`` bytes and an inclusion proof) against one
checkpoint, so a client replays the party's keys offline, trusting nothing but the
operator's checkpoint signature (and following the operator's own key events for that).
"""

from __future__ import annotations

from typing import Any

from ledger.core.ledger import Ledger
from ledger.errors import NotFound
from ledger.store import sqlite as store
from ledger.trace.entries import LedgerLoader


def party_events(ledger: Ledger, party: str) -> dict[str, Any]:
    """``{party, checkpoint, events: [entry view…]}``, oldest first. Raises ``NotFound``."""
    with store.read_transaction(ledger.conn):
        checkpoint = ledger.latest_checkpoint()
        seqs = LedgerLoader(ledger.conn, checkpoint.checkpoint.size).registrations(party)
        if not seqs:
            raise NotFound(f"{party!r} has no inception in this ledger", field="party")
        nodes = ledger.node_cache()
        events = [ledger.entry_view(seq, checkpoint, nodes) for seq in seqs]
    return {"party": party, "checkpoint": checkpoint.note, "events": events}
