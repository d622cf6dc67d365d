"""Ed25519 verification spread over all CPU cores.

Work goes out in chunks of (tag, public key, message, signature) and only the tags of
failures come back, so almost nothing is pickled on the way home. Small jobs run inline:
a pool costs more to start than a few hundred verifications.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ledger.crypto.keys import signature_ok

Task = tuple[Any, bytes, bytes, bytes]  # (tag, public key, message, signature)
CHUNK = 512
INLINE_BELOW = 1024


def _failures(tasks: list[Task]) -> list[Any]:
    ok = signature_ok
    return [tag for tag, public, message, sig in tasks if not ok(public, sig, message)]


def _invalid_entries(chunk: list[tuple[int, bytes]]) -> list[tuple[int, str]]:
    """(seq, why) for each stored entry that is not a valid entry in canonical form."""
    from ledger.errors import LedgerError
    from ledger.model.statements import Entry

    bad = []
    for seq, canonical in chunk:
        try:
            Entry.from_canonical(canonical)
        except LedgerError as e:
            bad.append((seq, str(e)))
    return bad


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Verifier:
    """Feed tasks with ``add`` while doing other work; ``failures`` waits for the verdicts."""

    def __init__(self, expected: int, workers: int | None = None) -> None:
        self.workers = workers or cores()
        self.pool: ProcessPoolExecutor | None = None
        if expected >= INLINE_BELOW and self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers)
        self.pending: list[Task] = []
        self.futures: list[Future[list[Any]]] = []
        self.bad: list[Any] = []
        self.entries: list[tuple[int, bytes]] = []
        self.entry_futures: list[Future[list[tuple[int, str]]]] = []
        self.invalid: list[tuple[int, str]] = []

    def add(self, tag: Any, public: bytes, message: bytes, sig: bytes) -> None:
        self.pending.append((tag, public, message, sig))
        if len(self.pending) >= CHUNK:
            self._flush()

    def validate(self, seq: int, canonical: bytes) -> None:
        """Queue a stored entry's full validation (``Entry.from_canonical``) for another core."""
        self.entries.append((seq, canonical))
        if len(self.entries) >= CHUNK:
            self._flush_entries()

    def _flush_entries(self) -> None:
        if not self.entries:
            return
        if self.pool is None:
            self.invalid.extend(_invalid_entries(self.entries))
        else:
            self.entry_futures.append(self.pool.submit(_invalid_entries, self.entries))
        self.entries = []

    def invalid_entries(self) -> list[tuple[int, str]]:
        """Wait for the validations queued so far: (seq, why) of each invalid entry."""
        self._flush_entries()
        for f in self.entry_futures:
            self.invalid.extend(f.result())
        self.entry_futures = []
        return self.invalid

    def _flush(self) -> None:
        if not self.pending:
            return
        if self.pool is None:
            self.bad.extend(_failures(self.pending))
        else:
            self.futures.append(self.pool.submit(_failures, self.pending))
        self.pending = []

    def failures(self) -> list[Any]:
        """Wait for everything queued; the tags of the signatures that failed. Ends the pool,
        so collect ``invalid_entries`` first."""
        self._flush()
        for f in self.futures:
            self.bad.extend(f.result())
        self.futures = []
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        return self.bad
