"""The pages: the shopper's page behind the QR code (its words, its journey, its proof), the
Digital Link's redirects and content negotiation, home, parties, entries, the log, and
escaping of untrusted names on every page."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BATCH, WEB_GTIN

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.trace.bundle import verify_bundle
from web.present import words

PAGE = f"/01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"


def text(response: Any) -> str:
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(a|span|strong|time|code|em)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def section(page: str, heading: str, until: str) -> str:
    return page[page.index(heading) : page.index(until, page.index(heading))]


def declare(b: Builder, batch: str, *, audits: list[dict[str, Any]]) -> int:
    """More audits, then a product of 50 pcs of tee-1 (on top of ``stocked``)."""
    for a in audits:
        b.audit(a.pop("issuer", "audit-a"), a.pop("facility"), **a)
    return b.product("brand-a", WEB_GTIN, batch, "Organic Tee", [("tee-1", "50", "pcs")])


# -- the shopper's page -----------------------------------------------------------------


def test_compliant_page(client: Any, product: dict[str, Any]) -> None:
    r = client.get(PAGE)
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = text(r)
    assert "Organic Tee" in page and "Nordic Wear" in page and "A plain white T-shirt." in page
    assert "Fair labour verified" in page
    journey = section(page, "Its journey", "Where the materials came from")
    order = [
        "Cotton produced",
        "Shipped to Coimbatore Spinning",
        "Spinning",
        "Shipped to Dhaka Garments",
        "Sewing",
        "Shipped to Nordic Wear",
        "Made into Organic Tee",
    ]
    positions = [journey.index(step) for step in order]
    assert positions == sorted(positions), journey
    assert "Tamil Nadu, India" in journey and "1 May 2025" in journey and "1,000 kg" in journey
    assert "500 kg of cotton into 400 kg of cotton yarn" in journey
    assert "Audited by Alpine Audits to SA8000 on 1 Apr 2025, valid until 1 Apr 2026: passed" in journey
    # each audit once per run of steps at one facility
    assert journey.count("to SA8000") == 1 and journey.count("to amfori BSCI") == 1
    assert journey.count("to SMETA") == 1
    origins = section(page, "Where the materials came from", "How we know")
    assert "100% cotton from Green Valley Cotton, Tamil Nadu, India" in origins
    proof = section(page, "How we know", "Report a concern")
    assert "Download the verifiable record (JSON)" in proof
    assert "— ledger.test/provenance" in proof  # the signed checkpoint is on the page
    html = r.get_data(as_text=True)
    assert f'href="/api/v1/trace/{WEB_GTIN}/{quote(WEB_BATCH, safe="")}"' in html
    for name, seq in product["seq"].items():
        # farm-a's later shipment to a trader is after the spinning used the lot: it cannot be
        # on the route, so the trace does not load it (issue 9, item 3)
        assert (f'href="/entries/{seq}"' in html) == (name != "ship_trader"), name
    concern = page[page.index("Report a concern") :]
    for number in ("1-888-373-7888", "08000 121 700", "1800 000 123"):
        assert number in concern
    assert 'href="tel:+18883737888"' in html
    assert f'href="/01/{WEB_GTIN}">Other batches of this product' in html
    # one script, our own module (CSP script-src 'self'), never inline (issue 13)
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", html, re.S)
    assert scripts == [""]
    assert '<script type="module" src="/static/verify/inplace.js"></script>' in html


def test_failed_audit_is_stated_as_the_auditor_gave_it(
    client: Any, stocked: dict[str, int], cast: Builder
) -> None:
    declare(
        cast,
        "F1",
        audits=[
            {
                "facility": "farm-a",
                "standard": "amfori BSCI",
                "audit_date": "2025-03-01",
                "valid_until": "2026-03-01",
            },
            {
                "facility": "make-a",
                "standard": "SMETA",
                "audit_date": "2025-04-20",
                "valid_until": "2026-04-20",
                "outcome": "fail",
                "present": ["retention_of_identity_documents"],
                "findings": ["Passports of 12 workers held by the recruiter."],
            },
        ],
    )
    page = text(client.get(f"/01/{WEB_GTIN}/10/F1"))
    verdict = section(page, "Workers' identity documents were retained at Dhaka Garments", "Its journey")
    assert "signs of forced labour" in verdict
    journey = section(page, "Its journey", "How we know")
    assert "Audit failed: workers' identity documents were retained" in journey
    assert "Audited by Alpine Audits to SMETA on 20 Apr 2025, valid until 20 Apr 2026." in journey
    assert "Passports of 12 workers held by the recruiter." in journey


def test_conditional_pass_that_found_debt_bondage_is_not_a_failure(
    client: Any, stocked: dict[str, int], cast: Builder
) -> None:
    declare(
        cast,
        "C1",
        audits=[
            {
                "facility": "farm-a",
                "standard": "amfori BSCI",
                "audit_date": "2025-03-01",
                "valid_until": "2026-03-01",
                "outcome": "conditional",
                "present": ["debt_bondage"],
            },
            {
                "facility": "make-a",
                "standard": "SMETA",
                "audit_date": "2025-03-15",
                "valid_until": "2026-03-15",
            },
        ],
    )
    page = text(client.get(f"/01/{WEB_GTIN}/10/C1"))
    assert page.index("Workers were held in debt bondage at Green Valley Cotton") < page.index("Its journey")
    journey = section(page, "Its journey", "How we know")
    assert (
        "Audited by Alpine Audits to amfori BSCI on 1 Mar 2025, valid until 1 Mar 2026: "
        "passed with conditions"
    ) in journey
    assert "It found that workers were held in debt bondage." in journey
    assert "Audit failed" not in page


def test_missing_and_expired_audits_read_not_verified(
    client: Any, stocked: dict[str, int], cast: Builder
) -> None:
    declare(
        cast,
        "E1",
        audits=[
            {
                "facility": "make-a",
                "standard": "SMETA",
                "audit_date": "2024-04-01",
                "valid_until": "2025-05-01",
            },
        ],
    )
    page = text(client.get(f"/01/{WEB_GTIN}/10/E1"))
    verdict = page[page.index("Organic Tee") : page.index("Its journey")]
    assert "Not verified: labour audits missing" in verdict
    assert "forced labour" not in verdict.lower().replace("labour audit", "")
    assert "Green Valley Cotton: no labour audit on record" in verdict
    assert "Dhaka Garments: no valid labour audit (the last one expired on 1 May 2025)" in verdict
    journey = section(page, "Its journey", "How we know")
    assert "No valid audit: the last one by Alpine Audits to SMETA expired on 1 May 2025" in journey
    assert "No valid audit: no labour audit of this facility is on record" in journey


def test_json_for_accept_application_json(client: Any, ledger: Ledger, product: dict[str, Any]) -> None:
    r = client.get(PAGE, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Accept" in r.headers["Vary"]
    verify_bundle(r.get_json(), vkey=ledger.verifier.to_text())
    html = client.get(PAGE, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert html.mimetype == "text/html" and "Access-Control-Allow-Origin" not in html.headers
    missing = client.get(f"/01/{WEB_GTIN}/10/NOPE", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not-found"


@pytest.mark.parametrize(
    "gtin, fourteen",
    [
        ("9506000134352", "09506000134352"),  # GTIN-13
        ("614141000036", "00614141000036"),  # GTIN-12 (UPC-A)
        ("96385074", "00000096385074"),  # GTIN-8
    ],
)
def test_short_gtins_redirect_to_14_digits(client: Any, cast: Builder, gtin: str, fourteen: str) -> None:
    batch = quote(WEB_BATCH, safe="")
    for tail in ("", "/qr.png", "/label"):
        r = client.get(f"/01/{gtin}/10/{batch}{tail}")
        assert r.status_code == 301
        assert r.headers["Location"] == f"/01/{fourteen}/10/{batch}{tail}"


def test_serial_redirects_to_the_batch(client: Any, product: dict[str, Any]) -> None:
    r = client.get(PAGE + "/21/SN12345")
    assert r.status_code == 301 and r.headers["Location"] == PAGE


@pytest.mark.parametrize(
    "url, status",
    [
        ("/01/12345/10/B1", 400),  # not a GTIN length
        ("/01/09506000134353/10/B1", 400),  # bad check digit
        ("/01/09506000134352/10/" + "B" * 21, 400),  # batch too long
        ("/01/09506000134352/10/B%7E1", 400),  # '~' is not in GS1's set 82
        ("/01/09506000134352/10/B1", 404),  # no such product
        ("/01/09506000134352/10/B1/extra", 404),
    ],
)
def test_bad_digital_links_are_clean_pages(client: Any, cast: Builder, url: str, status: int) -> None:
    r = client.get(url)
    assert r.status_code == status and r.mimetype == "text/html"
    body = r.get_data(as_text=True)
    assert "Traceback" not in body and "<h1>" in body


def test_label_page(client: Any, product: dict[str, Any]) -> None:
    r = client.get(PAGE + "/label")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'src="{PAGE}/qr.svg"' in html
    assert f'alt="QR code for https://id.example.org{PAGE}"' in html
    assert "Organic Tee" in html and "Nordic Wear" in html


# -- the other pages -----------------------------------------------------------------------


def test_home(client: Any, ledger: Ledger, product: dict[str, Any]) -> None:
    r = client.get("/")
    assert r.status_code == 200
    page = text(r)
    assert "Organic Tee" in page and f"{ledger.size} entries" in page
    assert ledger.latest_checkpoint().note.splitlines()[0] in page
    assert f'href="{PAGE}"' in r.get_data(as_text=True)


def test_find_form(client: Any, product: dict[str, Any]) -> None:
    r = client.get("/find", query_string={"gtin": " 9506000134352 ", "batch": WEB_BATCH})
    assert r.status_code == 303 and r.headers["Location"] == PAGE
    bad = client.get("/find", query_string={"gtin": "12", "batch": "x"})
    assert bad.status_code == 400 and "is not a GTIN" in text(bad)


def test_party_page(client: Any, product: dict[str, Any]) -> None:
    page = text(client.get("/parties/proc-a"))
    assert "Coimbatore Spinning" in page and "Processor in India" in page
    b: Builder = product["builder"]
    assert b.keys["proc-a"].public.key_id in page and "active" in page
    assert "1 Apr 2025: SA8000, passed" in page and "Alpine Audits audited Coimbatore Spinning" in page
    assert "spinning on 3 May 2025" in page and "Received" in page
    brand = text(client.get("/parties/brand-a"))
    assert "Organic Tee" in brand
    assert client.get("/parties/nobody").status_code == 404
    assert "Green Valley Cotton" in text(client.get("/parties"))


def test_entry_page_checks_signature_and_proof(client: Any, product: dict[str, Any]) -> None:
    seq = product["seq"]["audit"]
    page = text(client.get(f"/entries/{seq}"))
    assert f"Entry {seq}: Labour audit" in page
    assert (
        "Alpine Audits audited Coimbatore Spinning to SA8000 on 1 Apr 2025, valid until 1 Apr 2026: passed."
    ) in page
    assert "Signature verified with audit-a's registered key" in page
    assert "Included in the ledger: the proof leads to the root of the signed checkpoint" in page
    assert client.get("/entries/9999").status_code == 404
    assert client.get("/entries/x").status_code == 400


def test_log_pages(client: Any, ledger: Ledger, product: dict[str, Any]) -> None:
    first = client.get("/log")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and 'href="/entries/0"' in html
    assert "Newer entries" not in html and "Older entries" not in html  # fewer than one page
    shipments = text(client.get("/log?type=shipment"))
    assert (
        "Green Valley Cotton shipped 600 kg of lot cot-1 to Coimbatore Spinning on 2 May 2025." in shipments
    )
    assert "Product declared" not in shipments[shipments.index("Filter") :]
    assert client.get("/log?type=bogus").status_code == 400
    b: Builder = product["builder"]
    with b.batch():
        for i in range(60):
            b.party(f"extra-{i:02d}", f"Extra {i}", "trader", "NL")
    page1 = client.get("/log").get_data(as_text=True)
    assert 'href="/log?after=49"' in page1 and "Older entries" not in page1
    page2 = client.get("/log?after=49").get_data(as_text=True)
    assert 'href="/entries/50"' in page2 and 'href="/entries/49"' not in page2
    assert 'rel="prev" href="/log?before=50"' in page2  # back to the first page
    back = client.get("/log?before=50").get_data(as_text=True)
    assert 'href="/entries/0"' in back and 'href="/entries/49"' in back and 'href="/entries/50"' not in back
    assert "Older entries" not in back and 'rel="next" href="/log?after=49"' in back
    newest = client.get(f"/log?before={ledger.size}").get_data(as_text=True)
    assert f'href="/entries/{ledger.size - 1}"' in newest and "Newer entries" not in newest
    assert f'rel="prev" href="/log?before={ledger.size - 50}"' in newest
    assert client.get("/log?after=3&before=9").status_code == 400
    assert client.get("/log?before=-1").status_code == 400


def log_links(html: str) -> dict[str, dict[str, str]]:
    """The pager's links: rel -> its query parameters."""
    from urllib.parse import parse_qsl, urlsplit

    out = {}
    for rel, href in re.findall(r'<a rel="(prev|next)" href="([^"]+)"', html):
        out[rel] = dict(parse_qsl(urlsplit(unescape(href)).query))
    return out


@pytest.mark.parametrize(
    "query",
    [
        {"type": "inception"},
        {"party": "farm-a"},
        {"lot": "cot-1"},
        {"type": "shipment", "party": "farm-a"},
        {"type": "shipment", "party": "farm-a", "lot": "cot-1"},
        {"party": "farm-a", "lot": "cot-1"},
    ],
)
def test_log_pages_both_ways_keep_the_filters(
    client: Any,
    ledger: Ledger,
    product: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    query: dict[str, str],
) -> None:
    """Walking the pages forward, then back from the newest, lists every matching entry
    exactly once each way, and every pager link keeps the filters."""
    from web.pages import views

    monkeypatch.setattr(views, "LOG_PAGE", 2)
    expected = ledger.entries(**query, limit=10**6)
    assert len(expected) >= 2, expected

    def walk(params: dict[str, str], rel: str) -> list[int]:
        seen: list[int] = []
        for _ in range(len(expected) + 2):
            html = client.get("/log", query_string=params).get_data(as_text=True)
            page = [int(x) for x in re.findall(r'href="/entries/(\d+)"', html)]
            assert page == sorted(page) and len(page) <= 2
            seen += page if rel == "next" else page[::-1]
            links = log_links(html)
            for link in links.values():
                assert {k: v for k, v in link.items() if k not in ("after", "before")} == query
            if rel not in links:
                return seen
            params = links[rel]
        raise AssertionError("the pages did not end")

    assert walk(dict(query), "next") == expected
    assert walk({**query, "before": str(ledger.size)}, "prev") == expected[::-1]


def test_log_paging_looks_at_a_bounded_number_of_rows(ledger: Ledger, product: dict[str, Any]) -> None:
    """With a scan budget far smaller than the gaps between matches, pages come up short
    but their cursors still lead through every match, both ways, and say what was searched.
    (A type alone walks the (type, seq) index, where every row matches: never short.)"""
    from web.pages.log_paging import LogFilter, log_page

    b: Builder = product["builder"]
    with b.batch():
        for i in range(40):
            b.party(f"extra-{i:02d}", f"Extra {i}", "trader", "NL")
    b.revoke("brand-a", product["seq"]["product"], "wrong batch")
    filters = [
        LogFilter(type="revocation", party="brand-a"),
        LogFilter(type="product", party="brand-a"),
        LogFilter(type="labor-attestation", party="audit-a"),
    ]
    for f in filters:
        expected = ledger.entries(type=f.type, party=f.party, limit=10**6)
        seen: list[int] = []
        page = log_page(ledger.conn, f, size=2, budget=2)
        short = 0
        for _ in range(ledger.size):
            seen += page.seqs
            short += page.searched is not None
            if page.newer is None:
                break
            page = log_page(ledger.conn, f, after=page.newer, size=2, budget=2)
        assert seen == expected and short > 0, f
        seen = []
        page = log_page(ledger.conn, f, before=ledger.size, size=2, budget=2)
        for _ in range(ledger.size):
            seen = page.seqs + seen
            if page.older is None:
                break
            page = log_page(ledger.conn, f, before=page.older, size=2, budget=2)
        assert seen == expected, f
    revocations = ledger.entries(type="revocation", limit=10)
    first = log_page(ledger.conn, LogFilter(type="revocation"), size=2, budget=2)
    assert first.seqs == revocations[:2] and first.searched is None


def explain(ledger: Ledger, sql: str) -> list[str]:
    return [row[3] for row in ledger.conn.execute("EXPLAIN QUERY PLAN " + sql)]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # SQLite's query plans
def test_log_and_gtin_pages_only_search_indexes(app: Any, client: Any, product: dict[str, Any]) -> None:
    """Every query behind the log explorer and a GTIN's page is a search on an index (a
    primary key or ``links``'), never a scan of a table and never a sort."""
    from web import handle

    with app.app_context():
        led = handle.get_ledger()  # the handle this thread's requests use
    statements: list[str] = []
    led.conn.set_trace_callback(statements.append)
    try:
        urls = [
            "/log",
            "/log?after=3",
            f"/log?before={led.size}",
            "/log?type=shipment&before=12",
            "/log?party=farm-a&after=2",
            "/log?party=farm-a&type=shipment&before=20",
            "/log?lot=cot-1&party=proc-a&type=transformation",
            f"/01/{WEB_GTIN}",
            f"/01/{WEB_GTIN}?before=30",
        ]
        for url in urls:
            statements.clear()
            assert client.get(url).status_code == 200, url
            selects = [q for q in statements if q.lstrip().upper().startswith("SELECT")]
            assert selects, url
            for sql in selects:
                plan = explain(led, sql)
                assert all(step.startswith(("SEARCH", "CORRELATED")) for step in plan), (url, sql, plan)
    finally:
        led.conn.set_trace_callback(None)


# -- a GTIN without a batch: /01/<gtin> ------------------------------------------------------


def test_gtin_page_lists_its_batches_newest_first(client: Any, product: dict[str, Any]) -> None:
    b: Builder = product["builder"]
    second = b.product("brand-a", WEB_GTIN, "TS-27", "Organic Tee", [("tee-1", "10", "pcs")])
    third = b.product("brand-a", WEB_GTIN, "TS-28", "Organic Tee", [("tee-1", "10", "pcs")])
    revocation = b.revoke("brand-a", second, "declared against the wrong lot")
    r = client.get(f"/01/{WEB_GTIN}")
    assert r.status_code == 200 and r.mimetype == "text/html" and "Accept" in r.headers["Vary"]
    assert "Access-Control-Allow-Origin" not in r.headers
    page, html = text(r), r.get_data(as_text=True)
    assert "Organic Tee" in page and "Nordic Wear" in page and f"GTIN {WEB_GTIN}" in page
    batches = section(page, "Batches", "More from Nordic Wear")
    assert batches.index("Batch TS-28") < batches.index("Batch TS-27") < batches.index(f"Batch {WEB_BATCH}")
    assert (
        f"Batch TS-27 withdrawn Declared 1 Jun 2025 in entry {second}; withdrawn in entry {revocation}"
        in batches
    )
    assert f"Batch TS-28 Declared 1 Jun 2025 in entry {third}" in batches
    assert batches.count("withdrawn") == 2  # the tag and the sentence, for TS-27 only
    for batch in ("TS-28", "TS-27", WEB_BATCH):
        assert f'href="/01/{WEB_GTIN}/10/{quote(batch, safe="")}"' in html
    assert 'href="/parties/brand-a"' in html and "<script" not in html


def test_gtin_json(client: Any, product: dict[str, Any]) -> None:
    from jsonschema import Draft202012Validator

    from web.api.openapi import SCHEMAS

    b: Builder = product["builder"]
    second = b.product("brand-a", WEB_GTIN, "TS-27", "Organic Tee", [("tee-1", "10", "pcs")])
    b.revoke("brand-a", second, "declared against the wrong lot")
    r = client.get(f"/01/{WEB_GTIN}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.headers["Access-Control-Allow-Origin"] == "*" and "Accept" in r.headers["Vary"]
    assert "Link" not in r.headers
    body = r.get_json()
    Draft202012Validator(SCHEMAS["GtinBatches"]).validate(body)
    assert body == {
        "gtin": WEB_GTIN,
        "brand": "brand-a",
        "batches": [
            {"batch": "TS-27", "seq": second, "withdrawn": True},
            {"batch": WEB_BATCH, "seq": product["seq"]["product"], "withdrawn": False},
        ],
    }


def test_gtin_pages_of_batches(client: Any, product: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from web.pages import views

    monkeypatch.setattr(views, "GTIN_PAGE", 2)
    b: Builder = product["builder"]
    seqs = [product["seq"]["product"]]
    seqs += [
        b.product("brand-a", WEB_GTIN, f"B{i}", "Organic Tee", [("tee-1", "1", "pcs")]) for i in range(4)
    ]
    newest_first = seqs[::-1]
    got: list[int] = []
    url: str | None = f"/01/{WEB_GTIN}"
    while url:
        r = client.get(url, headers={"Accept": "application/json"})
        got += [x["seq"] for x in r.get_json()["batches"]]
        link = r.headers.get("Link")
        url = re.fullmatch(r'<([^>]+)>; rel="next"', link).group(1) if link else None
    assert got == newest_first
    html = client.get(f"/01/{WEB_GTIN}").get_data(as_text=True)
    assert f'rel="next" href="/01/{WEB_GTIN}?before={newest_first[1]}"' in html
    assert "Newest batches" not in html
    older = client.get(f"/01/{WEB_GTIN}?before={newest_first[1]}").get_data(as_text=True)
    assert f'href="/entries/{newest_first[2]}"' in older and f'href="/entries/{newest_first[1]}"' not in older
    assert f'href="/01/{WEB_GTIN}">← Newest batches' in older
    assert client.get(f"/01/{WEB_GTIN}?before=x").status_code == 400


@pytest.mark.parametrize(
    "gtin, fourteen",
    [("9506000134352", "09506000134352"), ("614141000036", "00614141000036"), ("96385074", "00000096385074")],
)
def test_short_gtins_redirect_to_their_14_digit_page(
    client: Any, cast: Builder, gtin: str, fourteen: str
) -> None:
    r = client.get(f"/01/{gtin}")
    assert r.status_code == 301 and r.headers["Location"] == f"/01/{fourteen}"
    r = client.get(f"/01/{gtin}?before=9")
    assert r.status_code == 301 and r.headers["Location"] == f"/01/{fourteen}?before=9"


@pytest.mark.parametrize(
    "gtin, status",
    [
        ("09506000134352", 404),  # valid, never declared
        ("09506000134353", 400),  # bad check digit
        ("12345", 400),  # not a GTIN length
        ("0950600013435x", 400),
    ],
)
def test_bad_or_unknown_gtins(client: Any, cast: Builder, gtin: str, status: int) -> None:
    r = client.get(f"/01/{gtin}")
    assert r.status_code == status and r.mimetype == "text/html"
    assert "Traceback" not in r.get_data(as_text=True) and "<h1>" in r.get_data(as_text=True)
    j = client.get(f"/01/{gtin}", headers={"Accept": "application/json"})
    assert j.status_code == status
    assert j.get_json()["error"]["code"] == ("not-found" if status == 404 else "invalid-field")
    assert j.get_json()["error"]["field"] == "gtin"


# -- escaping: every field is untrusted ------------------------------------------------------

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>"\'&'


def test_html_in_names_is_escaped_on_every_page(client: Any, cast: Builder) -> None:
    b = cast
    b.party("evil-farm", f"Farm {EVIL}", "farm", "IN", os_id="IN2021089RKT2WQ")
    b.origin(
        "evil-farm",
        "evil-lot",
        f"cotton {EVIL}",
        "10",
        "kg",
        country="IN",
        produced_on="2025-05-01",
        region=f"Region {EVIL}",
    )
    b.audit(
        "audit-a",
        "evil-farm",
        standard=f"Std {EVIL}",
        audit_date="2025-01-01",
        valid_until="2026-01-01",
        findings=[f"Finding {EVIL}"],
    )
    sent = b.ship("evil-farm", "evil-lot", "10", "kg", "brand-a", "2025-05-02", receive=None)
    b.receive("brand-a", sent, "2025-05-02", note=f"Note {EVIL}")
    product = b.product(
        "brand-a",
        WEB_GTIN,
        "EV1",
        f"Tee {EVIL}",
        [("evil-lot", "10", "kg")],
        description=f"Desc {EVIL}",
    )
    pages = [
        "/",
        "/parties",
        "/parties/evil-farm",
        "/parties/brand-a",
        "/parties/audit-a",
        "/log",
        f"/entries/{product}",
        f"/entries/{product - 1}",
        f"/entries/{product - 2}",
        f"/entries/{product - 3}",
        f"/entries/{product - 4}",
        f"/entries/{product - 5}",
        f"/01/{WEB_GTIN}/10/EV1",
        f"/01/{WEB_GTIN}/10/EV1/label",
        f"/01/{WEB_GTIN}",
        "/log?party=evil-farm",
    ]
    for url in pages:
        r = client.get(url)
        assert r.status_code == 200, url
        html = r.get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url
    # the label's QR code and the JSON carry the data as data
    assert client.get(f"/01/{WEB_GTIN}/10/EV1/qr.svg").data.count(b"<script") == 0
    assert client.get("/api/v1/parties/evil-farm").get_json()["name"] == f"Farm {EVIL}"


def test_html_in_query_parameters_is_escaped(client: Any, cast: Builder) -> None:
    r = client.get("/log", query_string={"party": EVIL})
    assert r.status_code == 200 and "<script>alert" not in r.get_data(as_text=True)
    r = client.get("/log", query_string={"lot": EVIL, "type": "shipment"})
    assert r.status_code == 200 and "<script>alert" not in r.get_data(as_text=True)
    r = client.get("/find", query_string={"gtin": EVIL, "batch": EVIL})
    assert r.status_code == 400 and "<script>alert" not in r.get_data(as_text=True)


# -- plain words ---------------------------------------------------------------------------


def test_words() -> None:
    assert words.date("2026-03-12") == "12 Mar 2026"
    assert words.date("2026-11-20T10:00:01.123Z") == "20 Nov 2026"
    assert words.amount("1250.5", "kg") == "1,250.5 kg"
    assert words.amount("1000000", "pcs") == "1,000,000 pcs"
    assert words.percent("0.625") == "62%" or words.percent("0.625") == "63%"
    assert words.percent("1") == "100%" and words.percent("0.001") == "<1%"
    assert words.found("retention_of_identity_documents") == "workers' identity documents were retained"
    assert words.place("CI", "Nawa") == "Nawa, Côte d'Ivoire"
    assert words.join(["a", "b", "c"]) == "a, b and c"
    from ledger.model.fields import ILO_INDICATORS

    assert set(words.INDICATOR_FOUND) == set(ILO_INDICATORS) == set(words.INDICATOR_NAME)
