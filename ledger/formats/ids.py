"""Names as URIs: parties, locations, lots, product batches and entries (GS1 EPCIS 2.0 §8, TDS 2.x).

A party that carries a GLN is named by GS1 keys: its party as a PGLN and its site as an
SGLN, in EPC URN form (``urn:epc:id:pgln:0614141.07346``) when GS1's company-prefix table
(through biip) knows where the company prefix ends, else as GS1 Digital Link URIs
(``https://id.gs1.org/417/<GLN>``, ``…/414/<GLN>``). A party without a GLN is named
``<base>/parties/<id>``, the page the web app serves for it. A lot is ``<base>/lots/<id>``;
a lot id of the form ``01/<GTIN>/10/<lot>`` and a product batch are GS1 LGTIN classes
(``urn:epc:class:lgtin:…``, or ``https://id.gs1.org/01/<GTIN>/10/<lot>``). An entry is
``<base>/entries/<seq>``.

``Resolver`` reads these names back (and GS1's other spellings of the same keys), for the
importer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from biip.gs1_prefixes import GS1CompanyPrefix

from ledger.model.fields import BATCH, LOT_ID, SLUG, gs1_check_digit_ok

GS1_RESOLVER = "https://id.gs1.org"

# UN/ECE Recommendation 20 codes, as EPCIS ``uom`` wants, for the units the ledger sees most.
UNIT_CODES = {
    "kg": "KGM",
    "g": "GRM",
    "t": "TNE",
    "lb": "LBR",
    "m": "MTR",
    "cm": "CMT",
    "mm": "MMT",
    "m2": "MTK",
    "m3": "MTQ",
    "l": "LTR",
    "ml": "MLT",
    "pcs": "H87",
    "pairs": "PR",
    "dozen": "DZN",
}
UNITS_BY_CODE = {code: unit for unit, code in UNIT_CODES.items()} | {"C62": "pcs", "EA": "pcs"}

# TDS 2.x: in an EPC URI these characters of a serial or lot are percent-escaped.
_EPC_ESCAPE = {c: f"%{ord(c):02X}" for c in '"%&/<>?#'}
_LGTIN_DL = re.compile(r"/01/([0-9]{14})/10/([^/]+)/?")
_GLN_DL = re.compile(r"/(414|417)/([0-9]{13})/?")
_LOT_IN_LEDGER = re.compile(r"01/([0-9]{14})/10/(.+)")


def epc_escape(text: str) -> str:
    return "".join(_EPC_ESCAPE.get(c, c) for c in text)


def company_prefix(key: str) -> str | None:
    """The GS1 company prefix at the start of a 13-digit key (GLN or GTIN body), or None."""
    gcp = GS1CompanyPrefix.extract(key)
    return gcp.value if gcp is not None and len(gcp.value) < len(key) else None


def gtin_check(body13: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return body13 + str((10 - total % 10) % 10)


@dataclass(frozen=True)
class Names:
    """The URIs of one ledger: ``base`` (no trailing slash) and each party's identifiers."""

    base: str
    identifiers: Mapping[str, Mapping[str, Any]]

    def _gln(self, party: str) -> str | None:
        gln = self.identifiers.get(party, {}).get("gln")
        return gln if isinstance(gln, str) else None

    def party(self, party: str) -> str:
        """The party itself (EPCIS ``owning_party``): a PGLN, or its page."""
        gln = self._gln(party)
        if gln is None:
            return f"{self.base}/parties/{party}"
        gcp = company_prefix(gln)
        if gcp is None:
            return f"{GS1_RESOLVER}/417/{gln}"
        return f"urn:epc:id:pgln:{gcp}.{gln[len(gcp) : 12]}"

    def location(self, party: str) -> str:
        """The party's site (``readPoint``, ``bizLocation``, ``location``): an SGLN, or its page."""
        gln = self._gln(party)
        if gln is None:
            return f"{self.base}/parties/{party}"
        gcp = company_prefix(gln)
        if gcp is None:
            return f"{GS1_RESOLVER}/414/{gln}"
        return f"urn:epc:id:sgln:{gcp}.{gln[len(gcp) : 12]}.0"

    def lot(self, lot: str) -> str:
        """A lot as an EPC class: an LGTIN for ``01/<GTIN>/10/<lot>``, else its ledger URI."""
        m = _LOT_IN_LEDGER.fullmatch(lot)
        if m and gs1_check_digit_ok(m.group(1)):
            return lgtin(m.group(1), m.group(2))
        return f"{self.base}/lots/{quote(lot, safe='')}"

    def entry(self, seq: int) -> str:
        return f"{self.base}/entries/{seq}"


def lgtin(gtin: str, lot: str) -> str:
    """A GTIN-14 and a lot number as an LGTIN EPC class (TDS §6.3.x), or a Digital Link."""
    gcp = company_prefix(gtin[1:13])
    if gcp is None:
        return f"{GS1_RESOLVER}/01/{gtin}/10/{quote(lot, safe='')}"
    item = gtin[0] + gtin[1 + len(gcp) : 13]
    return f"urn:epc:class:lgtin:{gcp}.{item}.{epc_escape(lot)}"


def parse_lgtin(uri: str) -> tuple[str, str] | None:
    """(GTIN-14, lot) from an LGTIN EPC class or a Digital Link ``/01/<GTIN>/10/<lot>``."""
    if uri.startswith("urn:epc:class:lgtin:"):
        parts = uri[len("urn:epc:class:lgtin:") :].split(".", 2)
        if len(parts) != 3 or not (parts[0] + parts[1]).isdigit() or len(parts[0] + parts[1]) != 13:
            return None
        gcp, item, lot = parts
        return gtin_check(item[0] + gcp + item[1:]), unquote(lot)
    url = urlsplit(uri)
    if url.scheme in ("http", "https"):
        m = _LGTIN_DL.search(url.path)
        if m and url.path.endswith(m.group(0)) and gs1_check_digit_ok(m.group(1)):
            return m.group(1), unquote(m.group(2))
    return None


def parse_gln(uri: str) -> str | None:
    """The GLN of a PGLN or SGLN (extension 0) EPC URI, or of a Digital Link with AI 414/417."""
    for scheme, fields in (("urn:epc:id:pgln:", 2), ("urn:epc:id:sgln:", 3)):
        if uri.startswith(scheme):
            parts = uri[len(scheme) :].split(".")
            if len(parts) != fields or not (parts[0] + parts[1]).isdigit() or len(parts[0] + parts[1]) != 12:
                return None
            return gtin_check(parts[0] + parts[1])
    url = urlsplit(uri)
    if url.scheme in ("http", "https"):
        m = _GLN_DL.search(url.path)
        if m and gs1_check_digit_ok(m.group(2)):
            return m.group(2)
    return None


class Resolver:
    """Reads the URIs of ``Names`` (of any ledger's base) and GS1 keys back into ledger ids.

    ``glns`` maps a GLN to the party that carries it."""

    def __init__(self, glns: Mapping[str, str]) -> None:
        self.glns = glns

    def party(self, uri: str) -> str | None:
        """The party a PGLN, SGLN, GS1 Digital Link or ``…/parties/<id>`` URI names, or None."""
        gln = parse_gln(uri)
        if gln is not None:
            return self.glns.get(gln)
        path = urlsplit(uri).path
        head, _, tail = path.rstrip("/").rpartition("/")
        if head.endswith("/parties") and SLUG.fullmatch(tail):
            return tail
        return None

    def lot(self, uri: str) -> str:
        """The lot id an EPC class names; raises ``ValueError`` saying why it names none."""
        pair = parse_lgtin(uri)
        if pair is not None:
            gtin, lot = pair
            if not BATCH.fullmatch(lot):
                raise ValueError(f"{lot!r} is not a GS1 lot number")
            lot_id = f"01/{gtin}/10/{lot}"
            if not LOT_ID.fullmatch(lot_id):
                raise ValueError(f"lot number {lot!r} holds characters a ledger lot id cannot")
            return lot_id
        parts = urlsplit(uri)
        head, _, tail = parts.path.rpartition("/")
        if parts.scheme in ("http", "https") and head.endswith("/lots") and tail:
            lot_id = unquote(tail)
            if LOT_ID.fullmatch(lot_id):
                return lot_id
            raise ValueError(f"{lot_id!r} is not a lot id")
        if uri.startswith(("urn:epc:idpat:", "urn:epc:id:")):
            raise ValueError(f"{uri} names instances or a pattern, not a lot with a quantity")
        raise ValueError(f"{uri} is neither an LGTIN class nor a ledger lot URI")
