"""The tile routes of SPEC §13 in the OpenAPI document (kept apart from the JSON API's)."""

from __future__ import annotations

from typing import Any

from web.api.openapi import CORS, DEFAULT, STR, error, path_param

LEVEL = {"type": "integer", "minimum": 0, "maximum": 63}
INDEX = {"type": "string", "pattern": "^[0-9]{3}$"}
WIDTH = {"type": "integer", "minimum": 1, "maximum": 255}
INDEX_TEXT = (
    "the tile's index in 3-digit path elements, all but the last x-prefixed (1234067 is x001/x234/067)"
)


def _tile(operation: str, summary: str, params: list[dict[str, Any]], gzip: bool) -> dict[str, Any]:
    headers: dict[str, Any] = {
        **CORS,
        "Cache-Control": {"description": "`public, max-age=604800, immutable`", "schema": STR},
    }
    if gzip:
        headers["Content-Encoding"] = {"description": "`gzip` when the client accepts it", "schema": STR}
    return {
        "get": {
            "operationId": operation,
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {
                    "description": "the tile's bytes",
                    "headers": headers,
                    "content": {
                        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "404": error("no such tile in the tree of the latest checkpoint"),
                **DEFAULT,
            },
        }
    }


def tile_paths() -> dict[str, Any]:
    level = path_param("level", "tile level: its hashes are of tree level 8·level", LEVEL)
    index = path_param("index", INDEX_TEXT, INDEX)
    width = path_param("width", "a partial tile's width", WIDTH)
    hashes = "C2SP tlog-tiles: 256 Merkle Tree Hashes (32 bytes each)"
    bundle = "C2SP tlog-tiles: 256 entries, each a big-endian uint16 length and its canonical bytes"
    return {
        "/tile/{level}/{index}": _tile("getTile", f"a full hash tile; {hashes}", [level, index], False),
        "/tile/{level}/{index}.p/{width}": _tile(
            "getPartialTile", "a partial hash tile of `width` hashes", [level, index, width], False
        ),
        "/tile/entries/{index}": _tile("getEntryBundle", f"a full entry bundle; {bundle}", [index], True),
        "/tile/entries/{index}.p/{width}": _tile(
            "getPartialEntryBundle", "a partial entry bundle of `width` entries", [index, width], True
        ),
    }
