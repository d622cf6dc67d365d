"""QR codes: decoded with a real decoder (zxing-cpp), they hold exactly the configured base
URL plus the canonical Digital Link path, which parses back as GS1 Digital Link."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import quote

import pytest
import zxingcpp
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from conftest import WEB_BASE_URL, WEB_BATCH, WEB_GTIN
from PIL import Image

from web.pages import qr


def decode(png: bytes) -> Any:
    image = Image.open(io.BytesIO(png))
    (barcode,) = zxingcpp.read_barcodes(image)
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    return barcode, image


@pytest.mark.parametrize("batch", [WEB_BATCH, "AB12", "A%B?C&D", "x\"'(*)"])
def test_png_holds_the_canonical_url(client: Any, cast: Any, batch: str) -> None:
    path = f"/01/{WEB_GTIN}/10/{quote(batch, safe='')}"
    r = client.get(path + "/qr.png")
    assert r.status_code == 200 and r.mimetype == "image/png"
    barcode, _ = decode(r.data)
    assert barcode.text == WEB_BASE_URL + path
    parsed = GS1DigitalLinkURI.parse(barcode.text)
    assert parsed.element_strings.get(ai="01").value == WEB_GTIN
    assert parsed.element_strings.get(ai="10").value == batch
    assert parsed.as_uri(domain="id.example.org") == barcode.text


def test_error_correction_and_quiet_zone() -> None:
    url = f"{WEB_BASE_URL}/01/{WEB_GTIN}/10/AB12"
    barcode, image = decode(qr.png(url))
    assert barcode.ec_level == "Q"
    gray = image.convert("L")
    width, height = gray.size
    quiet = qr.BORDER * qr.PNG_BOX
    for x in range(width):
        for y in (*range(quiet), *range(height - quiet, height)):
            assert gray.getpixel((x, y)) == 255
    for y in range(height):
        for x in (*range(quiet), *range(width - quiet, width)):
            assert gray.getpixel((x, y)) == 255
    assert gray.getpixel((quiet, quiet)) == 0  # the finder pattern starts right after


def test_base_url_defaults_to_the_request_host(ledger: Any, cast: Any) -> None:
    from web import create_app

    app = create_app({"TESTING": True, "PROVENANCE_HOME": str(ledger.home), "PROVENANCE_BASE_URL": None})
    r = app.test_client().get(f"/01/{WEB_GTIN}/10/AB12/qr.png", base_url="https://shop.example:8443")
    assert decode(r.data)[0].text == f"https://shop.example:8443/01/{WEB_GTIN}/10/AB12"
    # The Host header chose that URL: no shared cache may keep the image for others.
    assert r.headers["Cache-Control"] == "no-store"


def test_qr_codes_under_a_configured_base_url_are_cacheable(client: Any, cast: Any) -> None:
    r = client.get(f"/01/{WEB_GTIN}/10/AB12/qr.png", base_url="https://evil.example")
    assert decode(r.data)[0].text == f"{WEB_BASE_URL}/01/{WEB_GTIN}/10/AB12"
    assert r.headers["Cache-Control"] == "public, max-age=86400"


def test_svg(client: Any, cast: Any) -> None:
    r = client.get(f"/01/{WEB_GTIN}/10/AB12/qr.svg")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    root = ET.fromstring(r.data)
    assert root.tag.endswith("svg") and root.get("viewBox")
    size = int(root.get("viewBox").split()[2])
    png_modules = (
        Image.open(io.BytesIO(qr.png(f"{WEB_BASE_URL}/01/{WEB_GTIN}/10/AB12"))).size[0] // qr.PNG_BOX
    )
    assert size == png_modules  # same symbol, same quiet zone
    assert b'fill="white"' in r.data
    assert r.headers["X-Content-Type-Options"] == "nosniff"
