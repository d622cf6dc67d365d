"""Which checkpoint an as-of trace is proved against (issue 9, item 9).

A trace "as of" a day reads the entries recorded on or before that day. Its proofs go
against *the checkpoint of that time*: the latest checkpoint whose entries were all recorded
on or before the day, so the bundle shows the ledger as it stood then. A ledger may lack
one (a mirror or an import that kept only later checkpoints): then the latest checkpoint is
used, and the report says so. A verifier tells which from the bundle alone: the bundle
carries the checkpoint's last entry, whose ``recorded_at`` is on or before the day only for
a checkpoint of that time.
"""

from __future__ import annotations

from typing import Any

from ledger.tlog.note import SignedCheckpoint


def recorded_day(ledger: Any, seq: int) -> str:
    row = ledger.conn.execute("SELECT recorded_at FROM entries WHERE seq = ?", (seq,)).fetchone()
    return str(row[0])[:10]


def entries_by(ledger: Any, day: str, size: int) -> int:
    """How many of the first ``size`` entries were recorded on or before ``day``: entries
    are recorded in seq order with non-decreasing times, so a binary search (log n reads)."""
    lo, hi = 0, size  # the answer is in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if recorded_day(ledger, mid) <= day:
            lo = mid + 1
        else:
            hi = mid
    return lo


def checkpoint_as_of(ledger: Any, day: str) -> tuple[SignedCheckpoint, bool]:
    """(the checkpoint to prove an as-of-``day`` trace against, whether it is of that time).
    Call inside a read transaction."""
    latest = ledger.latest_checkpoint()
    n = entries_by(ledger, day, latest.checkpoint.size)
    row = ledger.conn.execute(
        "SELECT size FROM checkpoints WHERE size <= ? AND size > 0 ORDER BY size DESC LIMIT 1", (n,)
    ).fetchone()
    if row is None:
        return latest, False
    return ledger.checkpoint(int(row[0])), True


def proved(as_of: str, size: int, last_recorded: str | None) -> str:
    """The sentence saying which checkpoint an as-of trace is proved against, from the day
    its last entry (seq ``size - 1``) was recorded, if known."""
    if last_recorded is not None and last_recorded[:10] <= as_of:
        return f"proved against the checkpoint of that time ({size} entries, all recorded by {as_of})"
    return (
        f"proved against the latest checkpoint ({size} entries): the ledger has none of that time,"
        f" so its proofs reach past {as_of}"
    )
