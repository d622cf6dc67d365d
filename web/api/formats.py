"""EPCIS 2.0 and UNTP credentials over HTTP (blueprint ``formats``; docs/formats.md).

``GET /01/<gtin>/10/<batch>`` asked with ``Accept: application/ld+json`` answers the batch's
EPCIS document (``epcis_response``, called by the Digital Link view). ``GET
/api/v1/untp/<gtin>/<batch>`` lists the batch's credentials with their JWS, and
``…/<batch>/<name>`` answers one credential as ``application/vc+jwt``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ledger.errors import NotFound
from ledger.formats.epcis_export import MEDIA_TYPE as EPCIS_MEDIA_TYPE
from ledger.formats.epcis_export import export
from ledger.formats.jws import MEDIA_TYPE as JWT_MEDIA_TYPE
from ledger.formats.numbers import dumps
from ledger.formats.snapshot import Snapshot, take
from ledger.formats.untp import issue
from web import digital_link, tracing
from web.handle import get_ledger
from web.params import date_arg

bp = Blueprint("formats", __name__)


def public_base() -> str:
    configured: str | None = current_app.config.get("PROVENANCE_BASE_URL")
    return (configured or request.host_url).rstrip("/")


def snapshot(gtin: str, batch: str) -> Snapshot:
    """The batch's trace, bounded as the bundle is (413 ``trace-too-large``)."""
    return take(get_ledger(), gtin, batch, base=public_base(), at=date_arg("at"), limit=tracing.trace_limit())


def wants_epcis() -> bool:
    """Whether the request prefers JSON-LD (EPCIS) to HTML and plain JSON."""
    offered = ["text/html", "application/json", EPCIS_MEDIA_TYPE]
    return request.accept_mimetypes.best_match(offered) == EPCIS_MEDIA_TYPE


def epcis_response(gtin: str, batch: str) -> Response:
    """The batch's EPCIS 2.0 document, numbers exact. Raises ``NotFound``."""
    return Response(dumps(export(snapshot(gtin, batch)), indent=None), mimetype=EPCIS_MEDIA_TYPE)


@bp.get("/api/v1/untp/<gtin>/<path:batch>")
def untp(gtin: str, batch: str) -> Response:
    segments = digital_link.raw_segments()  # ['', 'api', 'v1', 'untp', gtin, batch, name?]
    if len(segments) not in (6, 7) or segments[1:4] != ["api", "v1", "untp"]:
        raise NotFound(f"no such resource: {request.path}")
    batch = digital_link.check_batch(segments[5])  # one percent-encoded segment
    gtin14 = digital_link.gtin14(gtin)
    credentials = issue(snapshot(gtin14, batch))
    if len(segments) == 6:
        return jsonify({"gtin": gtin14, "batch": batch, "credentials": [c.listing() for c in credentials]})
    for c in credentials:
        if c.name == segments[6]:
            return Response(c.jwt, mimetype=JWT_MEDIA_TYPE)
    names = ", ".join(c.name for c in credentials)
    raise NotFound(f"no credential {segments[6][:40]!r} for this batch; it has {names}", field="name")


# -- the OpenAPI description of these routes (merged into web.api.openapi) -------------------

_CREDENTIAL = {
    "type": "object",
    "required": ["name", "id", "type", "media_type", "jwt"],
    "properties": {
        "name": {"type": "string", "description": "dpp, dte-<seq> or dcc-<seq>"},
        "id": {"type": "string", "format": "uri"},
        "type": {
            "enum": ["DigitalProductPassport", "DigitalTraceabilityEvent", "DigitalConformityCredential"]
        },
        "media_type": {"const": JWT_MEDIA_TYPE},
        "jwt": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"},
    },
}
_LISTING = {
    "type": "object",
    "required": ["gtin", "batch", "credentials"],
    "properties": {
        "gtin": {"type": "string"},
        "batch": {"type": "string"},
        "credentials": {"type": "array", "items": _CREDENTIAL},
    },
}
EPCIS_CONTENT = {
    EPCIS_MEDIA_TYPE: {
        "schema": {
            "type": "object",
            "required": ["@context", "type", "schemaVersion", "creationDate", "epcisBody"],
            "description": "a GS1 EPCIS 2.0 document (docs/formats.md)",
        }
    }
}


def openapi_paths(
    gtin: dict[str, Any], batch: dict[str, Any], at: dict[str, Any], errors: dict[str, Any]
) -> dict[str, Any]:
    """The OpenAPI path items of the UNTP routes, with the shared GTIN, batch and ``at``
    parameters and error responses of ``web.api.openapi``."""
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "a credential's name from the listing: dpp, dte-<seq> or dcc-<seq>",
        "schema": {"type": "string", "pattern": "^(dpp|dte-[0-9]+|dcc-[0-9]+)$"},
    }
    return {
        "/api/v1/untp/{gtin}/{batch}": {
            "get": {
                "operationId": "getUntpCredentials",
                "summary": "the batch's UNTP 0.6 credentials (DPP, DTEs, DCCs), each a vc+jwt",
                "parameters": [gtin, batch, at],
                "responses": {
                    "200": {"description": "OK", "content": {"application/json": {"schema": _LISTING}}},
                    **errors,
                },
            }
        },
        "/api/v1/untp/{gtin}/{batch}/{name}": {
            "get": {
                "operationId": "getUntpCredential",
                "summary": "one credential as application/vc+jwt (JWS compact, EdDSA)",
                "parameters": [gtin, batch, name, at],
                "responses": {
                    "200": {"description": "OK", "content": {JWT_MEDIA_TYPE: {"schema": {"type": "string"}}}},
                    **errors,
                },
            }
        },
    }
