"""The log explorer's pages: keyset paging both ways over the entries that match a filter.

A page is ``after`` a seq (older to newer) or ``before`` one (newer to older), never an
OFFSET: every query is a range on an index, ``entries``' primary key (seq) or ``links``'
(kind, value, seq), read in seq order and stopped as soon as a page is full.

A type filter alone walks the store's (type, seq) index, where every row matches. A type
combined with a party or a lot walks that party's or lot's links and tests the type, so a
rare combination could make the walk long: each query looks at no more than
``SCAN_BUDGET`` rows, and when the budget runs out before the page is full, the page holds
what was found and its links go on from where the walk stopped. A page costs at most two
bounded range reads, however large the ledger.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

SCAN_BUDGET = 5000


@dataclass(frozen=True)
class LogFilter:
    """Entries of one statement ``type`` that name ``party`` and ``lot`` (each optional)."""

    type: str | None = None
    party: str | None = None
    lot: str | None = None


@dataclass(frozen=True)
class Scan:
    seqs: list[int]  # the matches, in the order walked
    last: int | None  # the last seq looked at
    complete: bool  # the walk reached the end of the range: nothing further matches


@dataclass(frozen=True)
class LogPage:
    seqs: list[int]  # oldest first
    older: int | None  # pass as ``before`` for the older page; None: nothing older matches
    newer: int | None  # pass as ``after`` for the newer page; None: nothing newer matches
    searched: tuple[int, int] | None  # the seqs looked through, when the budget cut the page short


def scan_sql(f: LogFilter, forward: bool) -> tuple[str, list[Any]]:
    """The walk for ``f`` as SQL, with the parameters that come before (cursor, limit).

    It yields (seq, matches) in seq order, ascending if ``forward``, from the most selective
    index: a lot's links, else a party's, else the entries themselves."""
    cmp, order = (">", "ASC") if forward else ("<", "DESC")
    tests: list[str] = []
    params: list[Any] = []
    if f.lot is not None or f.party is not None:
        if f.lot is not None and f.party is not None:
            tests.append(
                "EXISTS (SELECT 1 FROM links x WHERE x.kind = 'party' AND x.value = ? AND x.seq = d.seq)"
            )
            params.append(f.party)
        if f.type is not None:
            tests.append("(SELECT e.type FROM entries e WHERE e.seq = d.seq) = ?")
            params.append(f.type)
        kind, value = ("lot", f.lot) if f.lot is not None else ("party", f.party)
        source = f"links d WHERE d.kind = '{kind}' AND d.value = ? AND d.seq {cmp} ?"
        params.append(value)
    elif f.type is not None:  # the (type, seq) index: every row it walks matches
        source = f"entries d WHERE d.type = ? AND d.seq {cmp} ?"
        params.append(f.type)
    else:
        source = f"entries d WHERE d.seq {cmp} ?"
    match = " AND ".join(tests) or "1"
    return f"SELECT d.seq, {match} FROM {source} ORDER BY d.seq {order} LIMIT ?", params


def scan(
    conn: sqlite3.Connection,
    f: LogFilter,
    *,
    forward: bool,
    cursor: int,
    want: int,
    budget: int = SCAN_BUDGET,
) -> Scan:
    """Up to ``want`` matches strictly after (``forward``) or before ``cursor``, looking at
    no more than ``budget`` rows."""
    sql, params = scan_sql(f, forward)
    rows = conn.execute(sql, [*params, cursor, budget])
    found: list[int] = []
    last: int | None = None
    looked = 0
    try:
        for seq, ok in rows:
            looked, last = looked + 1, seq
            if ok:
                found.append(seq)
                if len(found) == want:
                    return Scan(found, last, complete=False)
    finally:
        rows.close()
    return Scan(found, last, complete=looked < budget)


def log_page(
    conn: sqlite3.Connection,
    f: LogFilter,
    *,
    after: int | None = None,
    before: int | None = None,
    size: int,
    budget: int = SCAN_BUDGET,
) -> LogPage:
    """The page of matching entries just after ``after``, or just before ``before`` (one of
    them; neither: the first page). Seqs oldest first, with the cursors to either side."""
    if before is not None:
        walk = scan(conn, f, forward=False, cursor=before, want=size + 1, budget=budget)
        seqs = walk.seqs[:size][::-1]
        full = len(walk.seqs) > size
        older = seqs[0] if full else (None if walk.complete else walk.last)
        edge = seqs[-1] if seqs else before - 1  # the newer page starts after this
        probe = scan(conn, f, forward=True, cursor=edge, want=1, budget=budget)
        newer = edge if probe.seqs or not probe.complete else None
        searched = None
        if not full and not walk.complete and walk.last is not None:  # the budget ran out
            searched = (walk.last, before - 1)
        return LogPage(seqs, older, newer, searched)
    start = -1 if after is None else after
    walk = scan(conn, f, forward=True, cursor=start, want=size + 1, budget=budget)
    seqs = walk.seqs[:size]
    full = len(walk.seqs) > size
    newer = seqs[-1] if full else (None if walk.complete else walk.last)
    older = None
    edge = seqs[0] if seqs else start + 1  # the older page ends before this
    if edge > 0:
        probe = scan(conn, f, forward=False, cursor=edge, want=1, budget=budget)
        older = edge if probe.seqs or not probe.complete else None
    searched = None
    if not full and not walk.complete and walk.last is not None:  # the budget ran out
        searched = (start + 1, walk.last)
    return LogPage(seqs, older, newer, searched)
