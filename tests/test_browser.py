"""The shopper's page in a real browser: Debian's Chromium, headless, at a phone's width,
with JavaScript off, served by ``provenance serve``. Screenshots go to artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BATCH, WEB_GTIN
from test_serve import Server

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def served(ledger: Ledger, product: dict[str, Any]) -> Iterator[Server]:
    # a second T-shirt maker, whose audit failed, supplies batch BAD-1
    b: Builder = product["builder"]
    b.party("make-b", "Chittagong Knitwear", "manufacturer", "BD")
    b.audit(
        "audit-a",
        "make-b",
        standard="SMETA",
        audit_date="2025-04-20",
        valid_until="2026-04-20",
        outcome="fail",
        present=["retention_of_identity_documents", "debt_bondage"],
        findings=["Recruitment fees of three months' wages owed by migrant workers."],
    )
    b.ship("farm-a", "cot-1", "100", "kg", "make-b", "2025-05-08")
    b.transform(
        "make-b",
        "knitting and sewing",
        "2025-05-10",
        [("cot-1", "100", "kg")],
        [("tee-2", "t-shirt", "300", "pcs")],
    )
    b.ship("make-b", "tee-2", "300", "pcs", "brand-a", "2025-05-12")
    b.product("brand-a", WEB_GTIN, "BAD-1", "Organic Tee", [("tee-2", "300", "pcs")])
    server = Server(ledger.home)
    try:
        yield server
    finally:
        server.stop()


def open_page(browser: Any, url: str, *, javascript: bool = False) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(
        viewport=PHONE, java_script_enabled=javascript, device_scale_factor=2, is_mobile=True
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
    response = page.goto(url)
    assert response is not None and response.status == 200
    return context, page, problems


def save(page: Any, name: str, tmp_path: Path) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(path, ARTIFACTS / name)
    return path


def test_shopper_page_on_a_phone(browser: Any, served: Server, tmp_path: Path) -> None:
    url = f"{served.url}/01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"
    context, page, problems = open_page(browser, url)
    try:
        assert page.locator("h1").inner_text() == "Organic Tee"
        assert page.locator("#verdict-h").inner_text().endswith("Fair labour verified")
        steps = page.locator("ol.timeline > li")
        assert steps.count() == 7
        assert steps.first.locator("h3").inner_text() == "Cotton produced"
        assert steps.last.locator("h3").inner_text() == "Made into Organic Tee"
        assert "Tamil Nadu, India" in steps.first.inner_text()
        assert page.get_by_text("Audited by Alpine Audits to SA8000 on 1 Apr 2025").count() == 1
        assert page.get_by_role("link", name="1-888-373-7888").get_attribute("href") == "tel:+18883737888"
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.evaluate("document.documentElement.lang") == "en"
        assert page.locator("h1").count() == 1
        # the stylesheet loaded under the CSP (the verdict box has its border)
        border = page.locator("section.verdict").evaluate("e => getComputedStyle(e).borderTopWidth")
        assert border == "2px"
        shot = save(page, "shopper-page-compliant.png", tmp_path)
        assert shot.stat().st_size > 10_000
        assert not problems, problems
    finally:
        context.close()


def test_non_compliant_page_and_label(browser: Any, served: Server, tmp_path: Path) -> None:
    context, page, problems = open_page(browser, f"{served.url}/01/{WEB_GTIN}/10/BAD-1")
    try:
        heading = page.locator("#verdict-h").inner_text()
        assert (
            "Workers were held in debt bondage and workers' identity documents were retained "
            "at Chittagong Knitwear"
        ) in heading
        audit = page.locator(".audit-bad").first.inner_text()
        assert "Audit failed: workers' identity documents were retained" in audit
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        save(page, "shopper-page-non-compliant.png", tmp_path)
        page.goto(f"{served.url}/01/{WEB_GTIN}/10/BAD-1/label")
        img = page.locator("img.qr")
        assert img.get_attribute("alt").startswith("QR code for https://labels.example/01/")
        assert img.evaluate("i => i.complete && i.naturalWidth > 0")
        assert page.evaluate("[...document.images].every(i => i.alt)")
        save(page, "label.png", tmp_path)
        assert not problems, problems
    finally:
        context.close()


def test_gtin_page_and_log_on_a_phone(browser: Any, served: Server, tmp_path: Path) -> None:
    context, page, problems = open_page(browser, f"{served.url}/01/{WEB_GTIN}")
    try:
        assert page.locator("h1").inner_text() == "Organic Tee"
        items = page.locator("ul.batches > li")
        assert items.count() == 2
        assert items.first.locator("a.batch").inner_text() == "Batch BAD-1"  # newest first
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        save(page, "gtin-page.png", tmp_path)
        page.wait_for_load_state("networkidle")  # the favicon too, before navigating away
        items.first.locator("a.batch").click()
        page.wait_for_url(f"{served.url}/01/{WEB_GTIN}/10/BAD-1")
        page.wait_for_load_state("networkidle")
        page.goto(f"{served.url}/log?type=shipment&party=farm-a")
        assert page.locator("ol.log > li").count() == 3
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        save(page, "log-page.png", tmp_path)
        page.wait_for_load_state("networkidle")
        assert not problems, problems
    finally:
        context.close()
