"""The browser module's answers on the shared vectors, in headless Chromium: the same as
Python's (test_vectors.py) for every case (SPEC §15)."""

from __future__ import annotations

# ruff: noqa: F811  (the browser fixture comes from test_browser by name)
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import browser  # noqa: F401
from test_vectors import KINDS, VECTORS, answer, cases
from verifier_kit import SiteServer

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def harness() -> Iterator[SiteServer]:
    server = SiteServer(
        ROOT / "web" / "static" / "verify", mounts={"/harness/": ROOT / "tests" / "js", "/vectors/": VECTORS}
    )
    try:
        yield server
    finally:
        server.stop()


def run_in_browser(browser: Any, harness: SiteServer, kinds: tuple[str, ...]) -> dict[str, Any]:
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(f"{harness.url}/harness/index.html")
    results = page.evaluate("kinds => import('/harness/vectors.js').then(m => m.runAll(kinds))", list(kinds))
    page.close()
    assert not problems, problems
    return results


def test_javascript_gives_the_expected_answer(browser: Any, harness: SiteServer) -> None:
    results = run_in_browser(browser, harness, KINDS)
    for kind in KINDS:
        expected = {c["name"]: c["valid"] for c in cases(kind)}
        got = {r["name"]: r["valid"] for r in results[kind]}
        assert got.keys() == expected.keys(), kind
        wrong = [(r["name"], r.get("error")) for r in results[kind] if r["valid"] is not expected[r["name"]]]
        assert not wrong, (kind, wrong)
        # and the same as Python's, case by case
        assert got == {c["name"]: answer(kind, c) for c in cases(kind)}, kind
