# ruff: noqa: F811  (the browser and served fixtures come from test_browser by name)
"""The exported browser verifier (issue 13) in real headless Chromium, against a real ledger
server, through a man in the middle that alters bundles on the fly, and against an operator
that rewrites its own log and re-signs everything. Every tampering must read "not verified"
with a reason naming what failed, never a blank page or an exception in the console."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BATCH, WEB_GTIN
from test_browser import ARTIFACTS, PHONE, browser, served  # noqa: F401 (fixtures, used by name)
from test_serve import Server
from verifier_kit import (
    ACCEPT_JSON,
    SiteServer,
    Witness,
    flip_bit,
    policy_text,
    resign,
    rewrite_log,
    run_verifier,
)

from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.demo.builder import Builder
from ledger.tlog.note import Checkpoint, Signer
from web.verifier_export import export_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WITNESSES = [Witness(f"witness-{i}.example", f"witness {i}".encode()) for i in range(3)]
DL_PATH = f"01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"


@pytest.fixture
def sites(ledger: Ledger, served: Server, tmp_path: Path) -> Iterator[dict[str, SiteServer]]:
    """Two exported verifiers pinning the ledger's key: one requiring no witness, one 2 of 3."""
    vkey = ledger.verifier.to_text()
    out = {}
    for name, policy in (("open", "quorum none\n"), ("witnessed", policy_text(WITNESSES, 2))):
        export_site(tmp_path / name, vkey, policy)
        out[name] = SiteServer(tmp_path / name, served.url)
    try:
        yield out
    finally:
        for s in out.values():
            s.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    pg = context.new_page()
    pg.problems = []
    pg.on("console", lambda m: pg.problems.append(m.text) if m.type in ("error", "warning") else None)
    pg.on("pageerror", lambda e: pg.problems.append(str(e)))
    try:
        yield pg
    finally:
        context.close()


def served_bundle(served: Server) -> bytes:
    import urllib.request

    req = urllib.request.Request(f"{served.url}/{DL_PATH}", headers=ACCEPT_JSON)
    with urllib.request.urlopen(req) as r:
        return r.read()


def through(site: SiteServer, name: str, tamper: Any) -> str:
    site.tampers[name] = tamper
    return f"{site.url}/verify/index.html?bundle={quote(f'/mitm/{name}/{DL_PATH}', safe='')}"


def edit(fn: Any) -> Any:
    """A tamper that edits the parsed bundle (and leaves it unsigned again)."""
    return lambda body: json.dumps(fn(json.loads(body))).encode()


def test_verifies_a_product_from_its_digital_link(
    page: Any,
    sites: dict[str, SiteServer],
    served: Server,
    tmp_path: Path,
) -> None:
    site = sites["open"]
    verdict, reason = run_verifier(
        page, f"{site.url}/verify/index.html?bundle={quote(f'{served.url}/{DL_PATH}')}"
    )
    assert verdict == "verified", reason
    assert "Every signature, key event and inclusion proof" in reason
    assert page.locator("#verdict .device-head").inner_text() == "✓ Checked on this device"
    journey = page.locator("#journey")
    assert journey.locator("h2").inner_text() == "Organic Tee"
    steps = journey.locator("ol.timeline > li")
    assert steps.count() == 7
    assert steps.first.locator("h4").inner_text() == "Cotton produced"
    assert steps.last.locator("h4").inner_text() == "Declared as Organic Tee"
    assert "Tamil Nadu, IN" in steps.first.inner_text()
    assert "Audited by Alpine Audits to SA8000 on 2025-04-01" in journey.inner_text()
    auditor = journey.locator("ul.parties > li[data-party=audit-a]").inner_text()
    assert auditor.startswith("Alpine Audits, auditor, CH: ")
    assert page.get_by_role("link", name="1-888-373-7888").get_attribute("href") == "tel:+18883737888"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(tmp_path / "verifier.png"), full_page=True)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "verifier.png", ARTIFACTS / "verifier-verified.png")
    assert not [p for p in page.problems if "favicon" not in p], page.problems


def test_every_flipped_bit_fails(page: Any, sites: dict[str, SiteServer], served: Server) -> None:
    site = sites["open"]
    good = served_bundle(served)
    positions = sorted({(i * 7919) % len(good) for i in range(1, 33)} | {0, len(good) - 1})
    for n, pos in enumerate(positions):
        verdict, reason = run_verifier(page, through(site, f"flip{n}", lambda body, p=pos: flip_bit(body, p)))
        assert verdict == "failed", (pos, good[max(0, pos - 40) : pos + 40])
        assert reason.startswith("Not verified: "), reason
    assert not page.problems, page.problems


def test_named_tamperings_fail(
    page: Any, ledger: Ledger, sites: dict[str, SiteServer], served: Server
) -> None:
    site = sites["open"]
    key = ledger.operator_key
    other = Signer(ledger.origin, PrivateKey.from_seed(b"\x07" * 32))

    def other_root(b: dict[str, Any]) -> dict[str, Any]:
        # entry 1's proof swapped for entry 2's: a proof that leads to another root
        e = b["entries"]
        e[1]["inclusion_proof"]["hashes"] = e[2]["inclusion_proof"]["hashes"]
        return resign(b, key)

    def foreign_checkpoint(b: dict[str, Any]) -> dict[str, Any]:
        lines = b["checkpoint"].split("\n")
        cp = Checkpoint(lines[0], int(lines[1]), __import__("base64").b64decode(lines[2]))
        return resign({**b, "checkpoint": SignedCheckpointText(other, cp)}, key)

    def unsigned_claim(b: dict[str, Any]) -> dict[str, Any]:
        return {**b, "verdict": "compliant" if b["verdict"] != "compliant" else "non-compliant"}

    def dropped_entry(b: dict[str, Any]) -> dict[str, Any]:
        return resign({**b, "entries": [e for e in b["entries"] if e["seq"] != 0]}, key)

    def mitm_proof(b: dict[str, Any]) -> dict[str, Any]:
        # a man in the middle (no operator key) alters one proof hash: named as the proof
        h = b["entries"][3]["inclusion_proof"]["hashes"]
        h[0] = ("0" if h[0][0] != "0" else "1") + h[0][1:]
        return b

    cases = {
        "mitm-proof": (edit(mitm_proof), "is not in the checkpointed log"),
        "other-root": (edit(other_root), "is not in the checkpointed log"),
        "foreign-checkpoint": (edit(foreign_checkpoint), "checkpoint: is not signed by the operator's key"),
        "claim": (edit(unsigned_claim), "operator_signature"),
        "no-genesis": (edit(dropped_entry), "genesis"),
        "malformed": (lambda body: body[:-20], "is not valid JSON"),
        "not-json": (lambda body: b"<html>Service unavailable</html>", "is not valid JSON"),
        "huge": (
            lambda body: body[:-1] + b', "padding": "' + b"x" * (50 * 1024 * 1024) + b'"}',
            "over the 32 MB",
        ),
    }
    for name, (tamper, why) in cases.items():
        verdict, reason = run_verifier(page, through(site, name, tamper))
        assert verdict == "failed", name
        assert why in reason, (name, reason)
    assert not page.problems, page.problems


def SignedCheckpointText(signer: Signer, checkpoint: Checkpoint) -> str:  # noqa: N802
    return signer.sign_note(checkpoint.to_text())


def test_another_products_bundle_fails(page: Any, sites: dict[str, SiteServer], served: Server) -> None:
    # a man in the middle answers with the genuine, signed bundle of another batch
    site = sites["open"]
    import urllib.request

    req = urllib.request.Request(
        f"{served.url}/01/{WEB_GTIN}/10/BAD-1", headers={"Accept": "application/json"}
    )
    with urllib.request.urlopen(req) as r:
        other = r.read()
    verdict, reason = run_verifier(page, through(site, "swap", lambda body: other))
    assert verdict == "failed"
    assert f"no declaration of GTIN {WEB_GTIN} batch {WEB_BATCH}" in reason
    assert not page.problems, page.problems


def test_witness_quorum(page: Any, ledger: Ledger, sites: dict[str, SiteServer], served: Server) -> None:
    site = sites["witnessed"]
    key = ledger.operator_key

    def cosigned(*witnesses: Witness) -> Any:
        def tamper(body: bytes) -> bytes:
            b = json.loads(body)
            note = b["checkpoint"]
            for w in witnesses:
                note = w.cosign(note)
            return json.dumps(resign({**b, "checkpoint": note}, key)).encode()

        return tamper

    verdict, reason = run_verifier(page, through(site, "none", lambda body: body))
    assert verdict == "failed" and "quorum" in reason and "cosigned by no witness" in reason, reason
    verdict, reason = run_verifier(page, through(site, "one", cosigned(WITNESSES[0])))
    assert verdict == "failed" and "2 of w0, w1, w2" in reason and "cosigned by w0" in reason, reason
    stranger = Witness(WITNESSES[1].name, b"not witness 1")  # the right name, another key
    verdict, reason = run_verifier(page, through(site, "stranger", cosigned(WITNESSES[0], stranger)))
    assert verdict == "failed" and "quorum" in reason, reason
    verdict, reason = run_verifier(page, through(site, "two", cosigned(WITNESSES[0], WITNESSES[2])))
    assert verdict == "verified", reason
    assert "cosigned by w0, w2" in reason

    # a cosignature of a policy witness whose bytes were altered is a failure, not ignored
    def forged(body: bytes) -> bytes:
        b = json.loads(cosigned(WITNESSES[0], WITNESSES[1], WITNESSES[2])(body))
        lines = b["checkpoint"].split("\n")
        sig = lines[-2]
        lines[-2] = sig[:-6] + ("A" if sig[-6] != "A" else "B") + sig[-5:]
        return json.dumps(resign({**b, "checkpoint": "\n".join(lines)}, key)).encode()

    verdict, reason = run_verifier(page, through(site, "forged", forged))
    assert verdict == "failed" and "cosignature of witness" in reason, reason
    assert not page.problems, page.problems


def test_signer_rotated_away(
    page: Any, ledger: Ledger, sites: dict[str, SiteServer], served: Server, product: dict[str, Any]
) -> None:
    """The operator rewrites its log so that an auditor's attestation made after the auditor
    rotated its key is signed with the retired key, and re-signs every checkpoint."""
    b: Builder = product["builder"]
    old = b.keys["audit-a"]
    if hasattr(b, "rotate"):
        b.rotate("audit-a")
    else:  # a v1 ledger re-registers the party with its new key
        b.party("audit-a", "Alpine Audits", "auditor", "CH", keys=[PrivateKey.generate()])
    seq = b.audit("audit-a", "make-a", standard="SA8000", audit_date="2025-05-20", valid_until="2026-05-20")
    log = [ledger.entry(s).canonical for s in range(ledger.size)]
    entry = json.loads(log[seq])
    from ledger.crypto.canonical import jcs
    from ledger.crypto.keys import b64, statement_message

    entry["signature"] = {
        "key_id": old.public.key_id,
        "sig": b64(old.sign(statement_message(jcs(entry["statement"])))),
    }
    log[seq] = jcs(entry)
    site = sites["open"]

    def forge(body: bytes) -> bytes:
        return json.dumps(rewrite_log(json.loads(body), log, ledger.operator_key, ledger.origin)).encode()

    verdict, reason = run_verifier(page, through(site, "rotated", forge))
    assert verdict == "failed", reason
    assert f"entry {seq}" in reason and "not a key of audit-a at that entry" in reason, reason
    # the same rewrite without the forged signature verifies: the failure is the key, nothing else
    honest = [ledger.entry(s).canonical for s in range(ledger.size)]
    site.tampers["honest"] = lambda body: json.dumps(
        rewrite_log(json.loads(body), honest, ledger.operator_key, ledger.origin)
    ).encode()
    verdict, reason = run_verifier(page, through(site, "honest", site.tampers["honest"]))
    assert verdict == "verified", reason
    assert not page.problems, page.problems


def test_a_file_chosen_offline(
    page: Any, sites: dict[str, SiteServer], served: Server, tmp_path: Path
) -> None:
    site = sites["open"]
    good = tmp_path / "bundle.json"
    good.write_bytes(served_bundle(served))
    bad = tmp_path / "bad.json"
    bad.write_bytes(flip_bit(good.read_bytes(), len(good.read_bytes()) // 2))
    page.goto(f"{site.url}/verify/index.html")
    page.wait_for_load_state("networkidle")
    assert page.locator("#verdict").get_attribute("data-verdict") == "idle"
    page.context.set_offline(True)
    box = page.locator("#verdict[data-verdict=verified], #verdict[data-verdict=failed]")
    page.set_input_files("#file", str(good))
    box.wait_for()
    assert box.get_attribute("data-verdict") == "verified", box.get_attribute("data-reason")
    assert page.locator("#journey ol.timeline > li").count() == 7
    page.set_input_files("#file", str(bad))
    page.locator("#verdict[data-verdict=failed]").wait_for()
    assert page.locator("#journey").inner_text() == ""  # nothing unverified is shown
    assert not page.problems, page.problems


def test_shopper_page_checks_itself(
    browser: Any, ledger: Ledger, product: dict[str, Any], tmp_path: Path
) -> None:
    server = Server(ledger.home, extra_env={"PROVENANCE_VERIFIER_URL": "https://verify.example/v/"})
    try:
        context = browser.new_context(viewport=PHONE, is_mobile=True)
        pg = context.new_page()
        problems: list[str] = []
        pg.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: problems.append(str(e)))
        pg.goto(f"{server.url}/{DL_PATH}")
        box = pg.locator("#device-check[data-verdict=verified], #device-check[data-verdict=failed]")
        box.wait_for()
        assert box.get_attribute("data-verdict") == "verified", box.get_attribute("data-reason")
        assert box.is_visible() and "Checked on this device" in box.inner_text()
        link = pg.get_by_role("link", name="Check it with an independent verifier")
        page_url = f"https://labels.example/{DL_PATH}"
        assert link.get_attribute("href") == f"https://verify.example/v/?bundle={quote(page_url, safe='')}"
        pg.screenshot(path=str(tmp_path / "shop.png"), full_page=True)
        shutil.copy(tmp_path / "shop.png", ARTIFACTS / "shopper-page-checked.png")
        assert not problems, problems
        context.close()
    finally:
        server.stop()


def test_opened_from_a_file_says_why_nothing_was_checked(page: Any, ledger: Ledger, tmp_path: Path) -> None:
    export_site(tmp_path / "site", ledger.verifier.to_text(), "quorum none\n")
    page.goto((tmp_path / "site" / "index.html").as_uri())
    box = page.locator("#verdict[data-verdict=failed]")
    box.wait_for()
    assert "must be opened from a web address" in box.get_attribute("data-reason")
    assert box.is_visible()
