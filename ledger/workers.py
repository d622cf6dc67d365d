"""Ed25519 verification spread over all CPU cores.

Work goes out in chunks of (tag, public key, message, signature) and only the tags of
failures come back, so almost nothing is pickled on the way home. Small jobs run inline:
a pool costs more to start than a few hundred verifications.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

Task = tuple[Any, bytes, bytes, bytes]  # (tag, public key, message, signature)
CHUNK = 512
INLINE_BELOW = 1024


def _failures(tasks: list[Task]) -> list[Any]:
    bad = []
    cache: dict[bytes, Ed25519PublicKey] = {}
    for tag, public, message, sig in tasks:
        key = cache.get(public)
        if key is None:
            key = cache[public] = Ed25519PublicKey.from_public_bytes(public)
        try:
            key.verify(sig, message)
        except (InvalidSignature, ValueError):
            bad.append(tag)
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

    def add(self, tag: Any, public: bytes, message: bytes, sig: bytes) -> None:
        self.pending.append((tag, public, message, sig))
        if len(self.pending) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self.pending:
            return
        if self.pool is None:
            self.bad.extend(_failures(self.pending))
        else:
            self.futures.append(self.pool.submit(_failures, self.pending))
        self.pending = []

    def failures(self) -> list[Any]:
        self._flush()
        for f in self.futures:
            self.bad.extend(f.result())
        self.futures = []
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None
        return self.bad


def verify_all(tasks: Iterable[Task], expected: int) -> list[Any]:
    v = Verifier(expected)
    for t in tasks:
        v.add(*t)
    return v.failures()


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
