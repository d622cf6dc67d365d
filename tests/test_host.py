"""A bad Host header is a clean 400 in our error shapes, never a 500 with a traceback logged
(issue 9, item 6); pages whose bytes hold the Host are never cached."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BATCH, WEB_GTIN

from ledger.core.ledger import Ledger

LINK = f"/01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"

BAD_HOSTS = [
    "a" * 64 + ".example",  # a label over 63 characters
    "x" * 2000,
    "shop." + "b" * 250 + ".example",  # over 253 characters in all
    "a..b",  # an empty label
    "ex ample",
    "evil.example/path",
    "evil.example:99999",
    "evil.example:8x",
    "[::1",
    "é.example",
]
# "xn--" labels that are not valid punycode: Werkzeug's host_url raised on them (a 500 and a
# logged traceback per request). Werkzeug's test client cannot even send them, so these go
# to the WSGI app directly.
BAD_PUNYCODE = ["xn--zz", "a.xn--99zz", "xn--zz:8080"]
PATHS = [
    "/",
    "/checkpoint",
    "/parties",
    "/api/v1/ledger",
    LINK,
    LINK + "/qr.svg",
    LINK + "/qr.png",
    LINK + "/label",
]


@pytest.fixture
def hostless(ledger: Ledger, product: dict[str, Any]) -> Any:
    """The app as `serve` runs it without PROVENANCE_BASE_URL: URLs come from the Host."""
    from web import create_app

    return create_app({"PROVENANCE_HOME": str(ledger.home), "PROVENANCE_BASE_URL": None}).test_client()


@pytest.mark.parametrize("host", BAD_HOSTS)
def test_a_bad_host_is_a_clean_400(hostless: Any, host: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    for path in PATHS:
        r = hostless.get(path, headers={"Host": host})
        assert r.status_code == 400, (path, r.status_code)
        if path.startswith("/api/"):
            assert r.json["error"]["code"] == "bad-host" and r.json["error"]["field"] == "Host"
        else:
            assert r.mimetype == "text/html"
            assert "Bad request" in r.text and "Host" in r.text
        assert r.headers["Cache-Control"] == "no-store"
    assert not [rec for rec in caplog.records if rec.exc_info], "a traceback was logged"


def test_a_bad_host_asking_json_of_a_digital_link_gets_json(hostless: Any) -> None:
    r = hostless.get(LINK, headers={"Host": "a" * 64 + ".example", "Accept": "application/json"})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad-host"


@pytest.mark.parametrize(
    "host",
    [
        "shop.example",
        "shop.example:8080",
        "127.0.0.1:5000",
        "[::1]:8000",
        "xn--bcher-kva.example",
        "a" * 63 + ".ex",
    ],
)
def test_good_hosts_are_served_and_put_in_the_qr_url(hostless: Any, host: str) -> None:
    r = hostless.get(LINK + "/label", headers={"Host": host})
    assert r.status_code == 200
    shown = host.replace("xn--bcher-kva", "b\u00fccher")  # Werkzeug shows IDNA names decoded
    assert f"http://{shown}{LINK}" in r.text
    assert hostless.get("/", headers={"Host": host}).status_code == 200


def test_the_label_page_is_not_cached_when_it_takes_the_host(hostless: Any, client: Any) -> None:
    r = hostless.get(LINK + "/label", headers={"Host": "shop.example"})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    # With a configured public URL the label holds no request data: it may be cached.
    configured = client.get(LINK + "/label")
    assert configured.status_code == 200 and "no-store" not in configured.headers.get("Cache-Control", "")


@pytest.mark.parametrize("host", BAD_PUNYCODE)
@pytest.mark.parametrize("path", ["/", "/api/v1/ledger", "/checkpoint"])
def test_a_host_that_is_not_valid_punycode_is_a_clean_400(hostless: Any, host: str, path: str) -> None:
    from werkzeug.test import create_environ

    environ = create_environ(path)
    environ["HTTP_HOST"] = host
    seen: list[str] = []
    body = b"".join(hostless.application(environ, lambda status, headers: seen.append(status)))
    assert seen[0].startswith("400") and b"Traceback" not in body
    if path.startswith("/api/"):
        assert json.loads(body)["error"]["code"] == "bad-host"
