"""The OpenAPI 3.1 document of the HTTP interface (SPEC §10), served at /api/openapi.json.

Tests validate real responses against these schemas, so the document cannot drift from
what the server does.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ledger.model.fields import ILO_INDICATORS, ROLES
from ledger.model.statements import TYPES, signature_schema, statement_schemas
from web.api import formats

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def obj(
    props: dict[str, Any],
    required: list[str] | None = None,
    *,
    extra: bool | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": list(props) if required is None else required,
    }
    if extra is not None:
        schema["additionalProperties"] = extra
    if description:
        schema["description"] = description
    return schema


STR = {"type": "string"}
INT = {"type": "integer"}
NAT = {"type": "integer", "minimum": 0}
DATE = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
AMOUNT = {"type": "string", "pattern": r"^(0|[1-9][0-9]*)(\.[0-9]+)?$"}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
B64 = {"type": "string", "contentEncoding": "base64"}
NULLABLE_NAT = {"type": ["integer", "null"], "minimum": 0}


def next_after(what: str) -> dict[str, Any]:
    """A page's ``next_after``: the ``after`` of the next page, null at the end."""
    return {**NULLABLE_NAT, "description": f"pass as `after`{what} for the next page; null at the end"}


LINE = obj({"lot": STR, "amount": AMOUNT, "unit": STR, "material": STR}, ["lot", "amount", "unit"])

SCHEMAS: dict[str, Any] = {
    "Error": obj(
        {
            "error": obj(
                {
                    "code": {
                        "type": "string",
                        "description": "stable machine code, e.g. bad-signature",
                    },
                    "message": STR,
                    "field": {"type": "string", "description": "the field or parameter at fault"},
                    "seq": {**NAT, "description": "409 replay: the entry that holds the statement"},
                },
                ["code", "message"],
            ),
        },
        extra=False,
        description="SPEC §10 error body",
    ),
    # Statements and signatures: built from the validators that check them (ledger.fields),
    # so the document says exactly what the ledger accepts, as far as JSON Schema can.
    "Statement": {
        "oneOf": [ref(f"Statement-{kind}") for kind in TYPES],
        "description": "SPEC §4, §6; signed as its RFC 8785 bytes",
    },
    **{f"Statement-{kind}": schema for kind, schema in statement_schemas().items()},
    "Signature": signature_schema(),
    "Envelope": obj({"statement": ref("Statement"), "signature": ref("Signature")}, extra=False),
    "Entry": obj(
        {
            "seq": NAT,
            "prev": HEX64,
            "recorded_at": {"type": "string", "format": "date-time"},
            "statement": ref("Statement"),
            "signature": ref("Signature"),
        },
        extra=False,
        description="SPEC §5",
    ),
    "InclusionProof": obj(
        {
            "leaf_index": NAT,
            "tree_size": {"type": "integer", "minimum": 1},
            "hashes": {"type": "array", "items": HEX64},
        },
        extra=False,
        description="RFC 9162 §2.1.3, SPEC §9",
    ),
    "ConsistencyProof": obj(
        {
            "old_size": NAT,
            "new_size": NAT,
            "hashes": {"type": "array", "items": HEX64},
        },
        extra=False,
        description="RFC 9162 §2.1.4, SPEC §9",
    ),
    "EntryView": obj(
        {
            "seq": NAT,
            "entry_hash": HEX64,
            "entry": ref("Entry"),
            "canonical": {**B64, "description": "the exact stored RFC 8785 bytes of the entry"},
            "inclusion_proof": ref("InclusionProof"),
            "checkpoint": {
                "type": "string",
                "description": "C2SP signed note; the proof's tree size",
            },
        },
        extra=False,
    ),
    "EntryPage": obj(
        {"entries": {"type": "array", "items": ref("EntryView")}, "next_after": next_after("")},
        extra=False,
    ),
    "LedgerInfo": obj(
        {
            "origin": STR,
            "vkey": {"type": "string", "description": "note verifier key"},
            "size": NAT,
            "root": HEX64,
            "checkpoint": STR,
            "witnesses": {
                "type": "array",
                "description": "each witness of the ledger's policy: its state and alarms (SPEC §14)",
                "items": ref("WitnessState"),
            },
            "quorum": {
                "type": ["object", "null"],
                "description": "the policy's quorum and whether the latest checkpoint meets it",
            },
        },
        required=["origin", "vkey", "size", "root", "checkpoint"],
        extra=False,
    ),
    "WitnessState": obj(
        {
            "name": STR,
            "vkey": STR,
            "url": {"type": ["string", "null"]},
            "size": NULLABLE_NAT,
            "cosigned_size": NULLABLE_NAT,
            "status": STR,
            "message": STR,
            "checked_at": {"type": ["string", "null"]},
            "cosigned_latest": {"type": "boolean"},
            "alarms": {"type": "array", "items": {"type": "object"}},
        },
        extra=False,
    ),
    "Key": obj(
        {
            "key_id": {"type": "string", "pattern": "^[0-9a-f]{16}$"},
            "public_key": B64,
            "from_seq": NAT,
            "until_seq": {
                **NULLABLE_NAT,
                "description": "retired at this entry; null while active",
            },
        },
        extra=False,
    ),
    "Attestation": obj(
        {
            "seq": NAT,
            "facility": STR,
            "issuer": STR,
            "standard": STR,
            "audit_date": DATE,
            "valid_until": DATE,
            "outcome": {"type": "string", "enum": ["pass", "conditional", "fail"]},
            "present": {"type": "array", "items": {"type": "string", "enum": list(ILO_INDICATORS)}},
            "findings": {"type": "array", "items": STR},
            "revoked_by": NULLABLE_NAT,
        },
        extra=False,
    ),
    "Party": obj(
        {
            "id": STR,
            "name": STR,
            "role": {"type": "string", "enum": list(ROLES)},
            "country": {"type": ["string", "null"]},
            "identifiers": obj({"os_id": STR, "gln": STR, "domain": STR}, [], extra=False),
            "first_seq": NAT,
            "seq": NAT,
            "keys": {"type": "array", "items": ref("Key")},
            "attestations": {"type": "array", "items": ref("Attestation")},
            "admitted": {"type": ["integer", "null"], "minimum": 0},
            "suspended": {"type": ["integer", "null"], "minimum": 0},
            "history": {
                "type": "array",
                "items": obj({"seq": NAT, "type": STR}, extra=False),
            },
            "disputed": {"type": "array", "items": NAT},
            "attestations_next_after": next_after(" to this party's URL"),
        },
        extra=False,
    ),
    "PartyList": obj(
        {
            "parties": {"type": "array", "items": ref("Party")},
            "next_after": next_after(" (a party's first_seq)"),
        },
        extra=False,
    ),
    "InTransit": obj(
        {
            "shipment": NAT,
            "lot": STR,
            "amount": STR,
            "unit": STR,
            "from": STR,
            "to": STR,
            "shipped_on": DATE,
        },
        extra=False,
    ),
    "Transit": obj(
        {
            "party": STR,
            "incoming": {"type": "array", "items": ref("InTransit")},
            "outgoing": {"type": "array", "items": ref("InTransit")},
        },
        extra=False,
    ),
    "Audit": obj(
        {
            "status": {
                "type": "string",
                "enum": ["valid", "missing", "expired", "revoked", "not-required"],
            },
            "seq": NAT,
            "issuer": STR,
            "standard": STR,
            "audit_date": DATE,
            "valid_until": DATE,
            "outcome": {"type": "string", "enum": ["pass", "conditional", "fail"]},
            "self_assessment": {"type": "boolean"},
            "present": {"type": "array", "items": STR},
            "not_assessed": {"type": "array", "items": STR},
            "findings": {"type": "array", "items": STR},
        },
        ["status"],
    ),
    "Step": obj(
        {
            "seq": NAT,
            "kind": {"type": "string", "enum": ["origin", "transformation", "shipment", "product"]},
            "tier": NAT,
            "party": STR,
            "role": STR,
            "country": STR,
            "region": STR,
            "date": DATE,
            "process": STR,
            "material": STR,
            "inputs": {"type": "array", "items": LINE},
            "outputs": {"type": "array", "items": LINE},
            "to": STR,
            "audit": ref("Audit"),
            "revoked": {"type": "boolean"},
        },
        [
            "seq",
            "kind",
            "tier",
            "party",
            "role",
            "country",
            "date",
            "inputs",
            "outputs",
            "audit",
            "revoked",
        ],
    ),
    "Trace": obj(
        {
            "product": obj(
                {
                    "gtin": STR,
                    "batch": STR,
                    "name": STR,
                    "description": STR,
                    "brand": STR,
                    "seq": NAT,
                },
                ["gtin", "batch", "name", "brand", "seq"],
            ),
            "verdict": {"type": "string", "enum": ["compliant", "attention", "non-compliant"]},
            "findings": {
                "type": "array",
                "items": obj(
                    {
                        "severity": {"type": "string", "enum": ["serious", "attention", "info"]},
                        "code": STR,
                        "party": STR,
                        "seq": NAT,
                        "indicator": STR,
                        "attestation": NAT,
                        "message": STR,
                    },
                    ["severity", "code", "message"],
                ),
            },
            "steps": {"type": "array", "items": ref("Step")},
            "origins": {
                "type": "array",
                "items": obj(
                    {
                        "lot": STR,
                        "material": STR,
                        "party": STR,
                        "country": STR,
                        "region": STR,
                        "lat": STR,
                        "lon": STR,
                        "produced_on": DATE,
                        "amount": AMOUNT,
                        "unit": STR,
                        "share": STR,
                        "seq": NAT,
                    },
                    [
                        "lot",
                        "material",
                        "party",
                        "country",
                        "produced_on",
                        "amount",
                        "unit",
                        "share",
                        "seq",
                    ],
                ),
            },
            "parties": {
                "type": "object",
                "additionalProperties": obj(
                    {"name": STR, "role": STR, "country": STR, "identifiers": {"type": "object"}},
                    ["name", "role", "country", "identifiers"],
                ),
            },
            "corrections": {
                "type": "array",
                "items": obj(
                    {
                        "revoked": NAT,
                        "by": NAT,
                        "reason": STR,
                        "type": STR,
                        "party": STR,
                        "revoked_by": STR,
                        "date": STR,
                    },
                    ["revoked", "by", "reason"],
                ),
            },
            "as_of": {"type": ["string", "null"]},
            "lots": {
                "type": "array",
                "items": obj(
                    {
                        "lot": STR,
                        "material": STR,
                        "amount": AMOUNT,
                        "unit": STR,
                        "created_by": NAT,
                        "traced": {"type": ["string", "null"]},
                        "used_by": {"type": "array", "items": NAT},
                        "shipments": {"type": "array", "items": NAT},
                    },
                    ["lot"],
                ),
            },
            "size": {
                **NAT,
                "description": "tree size of the checkpoint the trace was derived against",
            },
        },
        ["product", "verdict", "findings", "steps", "origins", "parties", "corrections", "as_of"],
        description="docs/trace-format.md",
    ),
    "GtinBatches": obj(
        {
            "gtin": {"type": "string", "pattern": "^[0-9]{14}$"},
            "brand": {"type": "string", "description": "the party id of the brand that owns the GTIN"},
            "batches": {
                "type": "array",
                "items": obj(
                    {
                        "batch": STR,
                        "seq": {**NAT, "description": "the entry that declared the batch"},
                        "withdrawn": {"type": "boolean", "description": "the declaration was revoked"},
                    },
                    extra=False,
                ),
                "description": "newest first, a page at a time (the Link header names the next)",
            },
        },
        extra=False,
        description="A GTIN's declared batches",
    ),
    "Bundle": {
        "allOf": [
            ref("Trace"),
            obj(
                {
                    "format": {"const": "provenance-trace/v2"},
                    "origin": STR,
                    "vkey": STR,
                    "checkpoint": STR,
                    "entries": {
                        "type": "array",
                        "items": obj(
                            {
                                "seq": NAT,
                                "entry_hash": HEX64,
                                "canonical": B64,
                                "inclusion_proof": ref("InclusionProof"),
                            }
                        ),
                    },
                    "policy": {"type": "object"},
                    "operator_signature": B64,
                },
                ["format", "origin", "vkey", "checkpoint", "entries", "operator_signature"],
            ),
        ],
        "description": "The trace with every entry's bytes and inclusion proof against one "
        "checkpoint, signed by the operator: it verifies offline.",
    },
}


def json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def error(description: str) -> dict[str, Any]:
    return {"description": description, "content": json_content(ref("Error"))}


DEFAULT = {"default": error("an error (SPEC §10 body)")}
CORS = {"Access-Control-Allow-Origin": {"description": "`*`: any site may read", "schema": STR}}


def ok(schema: dict[str, Any], description: str = "OK", status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": json_content(schema), "headers": CORS}}


def query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema,
    }


def path_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


GTIN = path_param(
    "gtin",
    "GTIN-8, -12, -13 or -14 (the API answers for its 14-digit form)",
    {"type": "string", "pattern": "^[0-9]{8}$|^[0-9]{12,14}$"},
)
BATCH = path_param(
    "batch",
    "batch/lot number (GS1 AI 10), percent-encoded as one path segment",
    {"type": "string", "minLength": 1, "maxLength": 20},
)
AT = query("at", "trace as of this date (YYYY-MM-DD)", {"type": "string", "format": "date"})
HTML = {"text/html": {"schema": STR}}


def dl_errors(bad: str = "not a GTIN or batch", missing: str = "no such product batch") -> dict[str, Any]:
    both = {**HTML, **json_content(ref("Error"))}
    return {
        "400": {"description": bad, "content": both},
        "404": {"description": missing, "content": both},
        "default": {"description": "an error", "content": both},
    }


def paths() -> dict[str, Any]:
    return {
        "/api/v1/ledger": {
            "get": {
                "operationId": "getLedger",
                "summary": "the ledger's origin, verifier key, size, root and checkpoint",
                "responses": {**ok(ref("LedgerInfo")), **DEFAULT},
            }
        },
        "/api/v1/entries": {
            "post": {
                "operationId": "appendEntry",
                "summary": "append one signed envelope",
                "requestBody": {"required": True, "content": json_content(ref("Envelope"))},
                "responses": {
                    "201": {"description": "appended", "content": json_content(ref("EntryView"))},
                    "400": error("malformed JSON, envelope or statement (`field` names it)"),
                    "403": error(
                        "bad signature, unknown or retired key, unregistered issuer, role not allowed,"
                        " revoking another party's entry"
                    ),
                    "409": error("replay: the statement's (issuer, id) is already entry `seq`"),
                    "413": error("request over 512 KiB, or statement over 64 KiB canonical"),
                    "422": error("business rule: custody, balance, duplicate lot, GTIN owned, ..."),
                    "503": error("the ledger was busy past its lock timeout: retry (Retry-After)"),
                    **DEFAULT,
                },
            },
            "get": {
                "operationId": "listEntries",
                "summary": "a page of entries, oldest first, with proofs",
                "parameters": [
                    query(
                        "type",
                        "only entries of this statement type",
                        {"type": "string", "enum": list(TYPES)},
                    ),
                    query(
                        "party",
                        "only entries that name this party",
                        {"type": "string", "maxLength": 200},
                    ),
                    query(
                        "lot",
                        "only entries that name this lot",
                        {"type": "string", "maxLength": 200},
                    ),
                    query("after", "only entries after this seq", {"type": "integer", "minimum": -1}),
                    query(
                        "limit",
                        "page size",
                        {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50},
                    ),
                ],
                "responses": {
                    **ok(ref("EntryPage")),
                    "400": error("a bad parameter (`field`)"),
                    **DEFAULT,
                },
            },
        },
        "/api/v1/entries/{seq}": {
            "get": {
                "operationId": "getEntry",
                "summary": "one entry with its canonical bytes and inclusion proof",
                "parameters": [path_param("seq", "the entry's index", NAT)],
                "responses": {
                    **ok(ref("EntryView")),
                    "400": error("not an index"),
                    "404": error("no such entry"),
                    **DEFAULT,
                },
            }
        },
        "/checkpoint": {
            "get": {
                "operationId": "getCheckpoint",
                "summary": "the latest signed checkpoint (C2SP tlog-checkpoint)",
                "responses": {
                    "200": {
                        "description": "signed note",
                        "headers": CORS,
                        "content": {"text/plain": {"schema": STR}},
                    },
                    **DEFAULT,
                },
            }
        },
        "/api/v1/proofs/inclusion": {
            "get": {
                "operationId": "proveInclusion",
                "summary": "RFC 9162 inclusion proof",
                "parameters": [
                    query("seq", "the entry", NAT, True),
                    query(
                        "size",
                        "tree size (default: the latest checkpoint's)",
                        {"type": "integer", "minimum": 1},
                    ),
                ],
                "responses": {
                    **ok(ref("InclusionProof")),
                    "400": error("bad seq or size"),
                    **DEFAULT,
                },
            }
        },
        "/api/v1/proofs/consistency": {
            "get": {
                "operationId": "proveConsistency",
                "summary": "RFC 9162 consistency proof",
                "parameters": [
                    query("old", "the older tree size", NAT, True),
                    query(
                        "new",
                        "the newer tree size (default: the latest checkpoint's)",
                        {"type": "integer", "minimum": 1},
                    ),
                ],
                "responses": {**ok(ref("ConsistencyProof")), "400": error("bad sizes"), **DEFAULT},
            }
        },
        "/api/v1/parties": {
            "get": {
                "operationId": "listParties",
                "summary": "a page of parties, each with its keys and first attestations",
                "parameters": [
                    query(
                        "after", "only parties registered after this seq", {"type": "integer", "minimum": -1}
                    ),
                    query(
                        "limit",
                        "page size",
                        {"type": "integer", "minimum": 1, "maximum": 200, "default": 100},
                    ),
                ],
                "responses": {**ok(ref("PartyList")), "400": error("a bad parameter (`field`)"), **DEFAULT},
            }
        },
        "/api/v1/parties/{id}": {
            "get": {
                "operationId": "getParty",
                "summary": "one party, with keys and a page of its attestations",
                "parameters": [
                    path_param("id", "party id", {"type": "string", "minLength": 1}),
                    query("after", "only attestations after this seq", {"type": "integer", "minimum": -1}),
                    query(
                        "limit",
                        "page size",
                        {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
                    ),
                ],
                "responses": {
                    **ok(ref("Party")),
                    "400": error("a bad parameter (`field`)"),
                    "404": error("no such party"),
                    **DEFAULT,
                },
            }
        },
        "/api/v1/parties/{id}/transit": {
            "get": {
                "operationId": "getPartyTransit",
                "summary": "goods shipped to or by a party that await the receiver's receipt",
                "parameters": [path_param("id", "party id", {"type": "string", "minLength": 1})],
                "responses": {**ok(ref("Transit")), "404": error("no such party"), **DEFAULT},
            }
        },
        "/api/v1/parties/{id}/events": {
            "get": {
                "operationId": "getPartyEvents",
                "summary": "the party's key event log, admissions, profiles and suspensions, each with"
                " its canonical bytes and an inclusion proof against one checkpoint",
                "parameters": [path_param("id", "party id", {"type": "string", "minLength": 1})],
                "responses": {
                    **ok(
                        {
                            "type": "object",
                            "required": ["party", "checkpoint", "events"],
                            "properties": {
                                "party": STR,
                                "checkpoint": STR,
                                "events": {"type": "array", "items": ref("EntryView")},
                            },
                        }
                    ),
                    "404": error("no such party"),
                    **DEFAULT,
                },
            }
        },
        "/api/v1/trace/{gtin}/{batch}": {
            "get": {
                "operationId": "getTrace",
                "summary": "the verifiable trace bundle of a product batch",
                "parameters": [GTIN, BATCH, AT],
                "responses": {
                    **ok(ref("Bundle")),
                    "400": error("not a GTIN, batch or date"),
                    "404": error("no such product batch"),
                    **DEFAULT,
                },
            }
        },
        "/01/{gtin}": {
            "get": {
                "operationId": "getGtin",
                "summary": "GS1 Digital Link of a GTIN: the product and its batches, newest first"
                " (HTML, or JSON for Accept: application/json)",
                "parameters": [
                    GTIN,
                    query(
                        "before",
                        "only batches declared before this entry (the next page, as in the Link header)",
                        {"type": "integer", "minimum": 0},
                    ),
                ],
                "responses": {
                    "200": {
                        "description": "the page, or the batches",
                        "headers": {
                            **CORS,
                            "Link": {
                                "description": 'RFC 8288 `<…?before=N>; rel="next"` if more remain',
                                "schema": STR,
                            },
                        },
                        "content": {**HTML, **json_content(ref("GtinBatches"))},
                    },
                    "301": {
                        "description": "a GTIN-8/12/13 redirects to its 14-digit form",
                        "headers": {"Location": {"schema": STR}},
                    },
                    **dl_errors("not a GTIN, or a bad `before`", "no product with this GTIN was declared"),
                },
            }
        },
        "/01/{gtin}/10/{batch}": {
            "get": {
                "operationId": "getDigitalLink",
                "summary": "GS1 Digital Link: the shopper's page, the bundle for Accept: application/json, "
                "the EPCIS 2.0 document for Accept: application/ld+json",
                "parameters": [GTIN, BATCH, AT],
                "responses": {
                    "200": {
                        "description": "the page, the bundle, or the EPCIS document",
                        "headers": CORS,
                        "content": {**HTML, **json_content(ref("Bundle")), **formats.EPCIS_CONTENT},
                    },
                    "301": {
                        "description": "a GTIN-8/12/13 redirects to its 14-digit form",
                        "headers": {"Location": {"schema": STR}},
                    },
                    **dl_errors(),
                },
            }
        },
        "/01/{gtin}/10/{batch}/qr.svg": {
            "get": {
                "operationId": "getQrSvg",
                "summary": "QR code of the page's canonical URL (SVG)",
                "parameters": [GTIN, BATCH],
                "responses": {
                    "200": {"description": "SVG", "content": {"image/svg+xml": {"schema": STR}}},
                    "301": {"description": "to the 14-digit form"},
                    **dl_errors(),
                },
            }
        },
        "/01/{gtin}/10/{batch}/qr.png": {
            "get": {
                "operationId": "getQrPng",
                "summary": "QR code of the page's canonical URL (PNG)",
                "parameters": [GTIN, BATCH],
                "responses": {
                    "200": {
                        "description": "PNG",
                        "content": {
                            "image/png": {"schema": {"type": "string", "contentMediaType": "image/png"}}
                        },
                    },
                    "301": {"description": "to the 14-digit form"},
                    **dl_errors(),
                },
            }
        },
        "/api/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "this document",
                "responses": {**ok({"type": "object"})},
            }
        },
    }


def _tile_paths() -> dict[str, Any]:
    from web.api.openapi_tiles import tile_paths  # it builds on this module's helpers

    return tile_paths()


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Provenance Ledger",
            "version": "1",
            "description": "An open, append-only ledger of signed supply-chain statements "
            '(SPEC §10). Errors are `{"error": {"code", "message", "field"?}}`; '
            "GET routes allow any origin (CORS). Statement schemas are built from the "
            "validators the ledger runs; rules JSON Schema cannot say (GS1 check digits, "
            "calendar dates, valid_until >= audit_date, a lot both input and output, "
            "distinct lots per list, a public key on the curve) are refused with 400 and "
            "the field named, and rules on the ledger's state with 403, 409 or 422.",
        },
        "paths": {
            **paths(),
            **_tile_paths(),
            **formats.openapi_paths(
                GTIN,
                BATCH,
                AT,
                {
                    "400": error("not a GTIN, batch or date"),
                    "404": error("no such product batch or credential"),
                    "413": error("the trace involves more entries than the server's limit"),
                    **DEFAULT,
                },
            ),
        },
        "components": {"schemas": SCHEMAS},
    }
