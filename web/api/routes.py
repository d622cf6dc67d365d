"""The JSON API of SPEC §10 (blueprint ``api``).

Reads answer with proofs against a signed checkpoint; ``POST /api/v1/entries`` appends one
envelope. Every error is the SPEC's error body, built by ``errors.error_response``.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ledger.errors import UnknownType
from ledger.model.statements import TYPES, Envelope
from ledger.store import sqlite as store
from web import digital_link, handle, queries, tracing
from web.api.openapi import document
from web.handle import get_ledger
from web.params import date_arg, int_arg, parse_int, str_arg

bp = Blueprint("api", __name__)

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000


@bp.get("/api/openapi.json")
def openapi() -> Response:
    return jsonify(document())


@bp.get("/api/v1/ledger")
def ledger_info() -> Response:
    return jsonify(get_ledger().info())


@bp.post("/api/v1/entries")
def append() -> tuple[Response, int]:
    """One envelope in; 201 with the entry view, or the refusal with its SPEC status."""
    envelope = Envelope.from_bytes(request.get_data(cache=False))
    return jsonify(handle.append(envelope)), 201


@bp.get("/api/v1/entries/<seq>")
def entry(seq: str) -> Response:
    return jsonify(get_ledger().entry_view(parse_int(seq, "seq")))


@bp.get("/api/v1/entries")
def entries() -> Response:
    """A page of entries, oldest first, each with its proof against one checkpoint."""
    type_ = str_arg("type", 64)
    if type_ is not None and type_ not in TYPES:
        raise UnknownType(f"{type_!r} is not a statement type; one of {', '.join(TYPES)}", field="type")
    party, lot = str_arg("party"), str_arg("lot")
    after = int_arg("after", None, lo=-1)
    limit = int_arg("limit", DEFAULT_LIMIT, lo=1, hi=MAX_LIMIT)
    assert limit is not None
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        checkpoint = ledger.latest_checkpoint()
        size = checkpoint.checkpoint.size
        seqs = [
            s
            for s in ledger.entries(type=type_, party=party, lot=lot, after=after, limit=limit + 1)
            if s < size
        ]
        more = len(seqs) > limit
        seqs = seqs[:limit]
        nodes = ledger.node_cache()
        views = [ledger.entry_view(s, checkpoint, nodes) for s in seqs]
    return jsonify({"entries": views, "next_after": seqs[-1] if more else None})


@bp.get("/checkpoint")
def checkpoint() -> Response:
    response = Response(get_ledger().latest_checkpoint().note, mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=5"  # C2SP tlog-tiles: a few seconds at most
    return response


@bp.get("/api/v1/proofs/inclusion")
def inclusion() -> Response:
    seq = int_arg("seq", required=True)
    size = int_arg("size")
    assert seq is not None
    return jsonify(get_ledger().inclusion_proof(seq, size).to_json())


@bp.get("/api/v1/proofs/consistency")
def consistency() -> Response:
    old = int_arg("old", required=True)
    ledger = get_ledger()
    new = int_arg("new")
    assert old is not None
    if new is None:
        new = ledger.latest_checkpoint().checkpoint.size
    return jsonify(ledger.consistency_proof(old, new).to_json())


@bp.get("/api/v1/parties")
def parties() -> Response:
    """A page of parties (``next_after`` for the next), each with its first attestations."""
    after = int_arg("after", -1, lo=-1)
    limit = int_arg("limit", queries.PARTIES_PAGE, lo=1, hi=queries.PARTIES_MAX)
    assert after is not None and limit is not None
    page, next_after = queries.parties(get_ledger(), after, limit)
    return jsonify({"parties": page, "next_after": next_after})


@bp.get("/api/v1/parties/<pid>")
def party(pid: str) -> Response:
    """A party with a page of its attestations (``after``, ``limit``; ``attestations_next_after``)."""
    after = int_arg("after", -1, lo=-1)
    limit = int_arg("limit", queries.ATTESTATIONS_PAGE, lo=1, hi=queries.ATTESTATIONS_MAX)
    assert after is not None and limit is not None
    return jsonify(queries.party(get_ledger(), pid, after, limit))


@bp.get("/api/v1/parties/<pid>/transit")
def party_transit(pid: str) -> Response:
    """Shipments to and from the party that await their receiver's receipt (SPEC §6)."""
    return jsonify(queries.transit(get_ledger(), pid))


@bp.get("/api/v1/parties/<pid>/events")
def party_events(pid: str) -> Response:
    """The party's key event log, admissions and suspensions, each with its proof."""
    from ledger.core.party_events import party_events as events

    return jsonify(events(get_ledger(), pid))


@bp.get("/api/v1/trace/<gtin>/<path:batch>")
def trace(gtin: str, batch: str) -> Response:
    """The verifiable bundle (docs/trace-format.md). The batch is one percent-encoded segment."""
    segments = digital_link.raw_segments()
    if len(segments) == 6:  # ['', 'api', 'v1', 'trace', gtin, batch]
        batch = segments[5]
    at = date_arg("at")
    gtin14 = digital_link.gtin14(gtin)
    digital_link.check_batch(batch)
    return jsonify(tracing.bundle(get_ledger(), gtin14, batch, at=at))
