"""GS1 Digital Link paths for a product batch: ``/01/<GTIN-14>/10/<batch>``.

GTIN handling is biip's (check digit, GTIN-8/12/13 to GTIN-14). The batch is
percent-encoded as one path segment, as GS1 Digital Link (and biip's URI builder) do, so
a batch holding ``/``, ``%`` or ``?`` still makes a URL that parses back to itself.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from biip import ParseError
from biip.gtin import Gtin
from flask import request

from ledger.errors import InvalidField
from ledger.model.fields import BATCH

GTIN_LENGTHS = (8, 12, 13, 14)


def gtin14(text: str) -> str:
    """The 14-digit form of a GTIN-8/12/13/14. Raises ``InvalidField`` (field ``gtin``)."""
    if not text.isascii() or not text.isdigit() or len(text) not in GTIN_LENGTHS:
        raise InvalidField(f"{text[:40]!r} is not a GTIN (8, 12, 13 or 14 digits)", field="gtin")
    try:
        return Gtin.parse(text).as_gtin_14()
    except ParseError as e:
        raise InvalidField(f"{text!r} is not a valid GTIN: {e}", field="gtin") from e


def check_batch(batch: str) -> str:
    """A batch/lot number as GS1 AI (10) allows. Raises ``InvalidField`` (field ``batch``)."""
    if not BATCH.fullmatch(batch):
        raise InvalidField(
            f"{batch[:40]!r} is not a batch number (1-20 characters of GS1's set 82)", field="batch"
        )
    return batch


def path(gtin: str, batch: str) -> str:
    """The canonical path of a batch: GTIN-14, the batch percent-encoded as one segment."""
    return f"/01/{gtin}/10/{quote(batch, safe='')}"


def url(base: str, gtin: str, batch: str) -> str:
    return base.rstrip("/") + path(gtin, batch)


def raw_segments() -> list[str]:
    """The request path split on '/' *before* percent-decoding, each segment then decoded:
    a batch ``A%2FB`` stays one segment ``A/B``. Falls back to the decoded path when the
    server does not pass the raw URI."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        raw = raw.split("?", 1)[0].split("#", 1)[0]
        if "://" in raw:  # an absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        try:
            return [unquote(s, errors="strict") for s in raw.split("/")]
        except UnicodeDecodeError as e:
            raise InvalidField("the path is not valid UTF-8 once percent-decoded", field="batch") from e
    return request.path.split("/")
