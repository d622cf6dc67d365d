"""C2SP tlog-tiles over HTTP (SPEC §13): ``/tile/<L>/<N>[.p/<W>]`` and ``/tile/entries/<N>[.p/<W>]``.

Everything a checkpoint covers is served: the full tiles up to the latest checkpoint's size,
and a partial tile only at a width some checkpoint's tree ends with (any other width is a
404, as in a static export: it names a tree state no checkpoint showed). A tile's bytes
never change (a different width is a different path), so every tile is cached for a week as
immutable; entry bundles are gzip-encoded for clients that accept it (C2SP: compressed at
the HTTP layer). ``/checkpoint`` is in ``routes``.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, request

from ledger.errors import LedgerError, NotFound
from ledger.publish.content import check_checkpointed, tile_bytes
from ledger.store import sqlite as store
from ledger.tlog.tiles import Tile
from web.errors import error_response
from web.handle import get_ledger

bp = Blueprint("tiles", __name__)

IMMUTABLE = "public, max-age=604800, immutable"


@bp.errorhandler(LedgerError)
def tile_error(e: LedgerError) -> Response:
    """Tiles are for programs: their errors are the JSON body of SPEC §10, never a page."""
    return error_response(e)


@bp.get("/tile/<path:path>")
def tile(path: str) -> Response:
    try:
        wanted = Tile.from_path(path)
    except LedgerError as e:
        raise NotFound(f"/tile/{path} is not a tile: {e}", field="path") from e
    ledger = get_ledger()
    with store.read_transaction(ledger.conn):
        size = ledger.latest_checkpoint().checkpoint.size
        check_checkpointed(ledger.conn, wanted, size)
        data = tile_bytes(ledger.conn, wanted, size)
    response = Response(data, mimetype="application/octet-stream")
    response.headers["Cache-Control"] = IMMUTABLE
    if wanted.level is None:
        response.vary.add("Accept-Encoding")
        if request.accept_encodings["gzip"] > 0:
            response.set_data(gzip.compress(data, mtime=0))
            response.headers["Content-Encoding"] = "gzip"
    return response
