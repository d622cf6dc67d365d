"""The trace report's verifiable bundle (``ledger.bundle``), as the API and pages use it:
bounded per request, and cached per checkpoint (issue 9, item 3).

A trace may load at most ``PROVENANCE_TRACE_LIMIT`` entries (app config, default
``TRACE_LIMIT``) and ``PROVENANCE_TRACE_BYTES`` bytes of their canonical statements (default
``TRACE_BYTES``, 32 MiB); a larger one answers 413 ``trace-too-large`` instead of holding a worker
and its memory. Bundles are cached per worker process, keyed by the product, the as-of
day, the served checkpoint (with its cosignatures) and the policy file: a bundle changes
only when one of those does. Only bundles of at most ``CACHE_ENTRIES`` entries and ``CACHE_BYTES`` are kept,
``CACHE_SIZE`` of them, so the cache's memory is bounded too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from flask import current_app

from ledger.core.ledger import Ledger
from ledger.store import sqlite as store
from ledger.trace.bundle import build_bundle
from ledger.trace.entries import Bound

TRACE_LIMIT = 10_000
TRACE_BYTES = 32 * 1024 * 1024
CACHE_SIZE = 32
CACHE_ENTRIES = 1_000
CACHE_BYTES = 4 * 1024 * 1024  # of base64 canonical bytes per cached bundle

_cache: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
_lock = threading.Lock()


def trace_limit() -> Bound:
    """At most ``PROVENANCE_TRACE_LIMIT`` entries and ``PROVENANCE_TRACE_BYTES`` bytes of
    canonical statements per trace (defaults ``TRACE_LIMIT``, ``TRACE_BYTES``)."""
    return Bound(
        int(current_app.config.get("PROVENANCE_TRACE_LIMIT") or TRACE_LIMIT),
        int(current_app.config.get("PROVENANCE_TRACE_BYTES") or TRACE_BYTES),
    )


def _key(ledger: Ledger, gtin: str, batch: str, at: str | None) -> tuple[Any, ...]:
    policy = ledger.home / "policy.json"
    try:
        policy_version = policy.stat().st_mtime_ns
    except FileNotFoundError:
        policy_version = None
    with store.read_transaction(ledger.conn):
        served = ledger.latest_checkpoint().note
    return (str(ledger.home), gtin, batch, at, served, policy_version)


def bundle(ledger: Ledger, gtin: str, batch: str, at: str | None = None) -> dict[str, Any]:
    """docs/trace-format.md: the trace JSON plus every entry's canonical bytes and inclusion
    proof against one checkpoint, signed by the operator. Raises ``NotFound``,
    ``TraceTooLarge``."""
    key = _key(ledger, gtin, batch, at)
    with _lock:
        cached = _cache.get(key)
        if cached is not None:
            _cache.move_to_end(key)
            return cached
    result: dict[str, Any] = build_bundle(ledger, gtin, batch, at=at, limit=trace_limit())
    entries = result["entries"]
    if len(entries) <= CACHE_ENTRIES and sum(len(e["canonical"]) for e in entries) <= CACHE_BYTES:
        with _lock:
            _cache[key] = result
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return result
