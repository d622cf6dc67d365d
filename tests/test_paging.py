"""Every list is paged and reads only what it shows (issue 9, item 4): the parties (API and
page) and a party's attestations, with ``next_after`` like ``GET /api/v1/entries``."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

AUDITS = 250
PARTIES = 230


@pytest.fixture
def busy(cast: Builder) -> Builder:
    """audit-a with AUDITS attestations of proc-a, and PARTIES more farms."""
    with cast.batch():
        for i in range(AUDITS):
            cast.audit(
                "audit-a",
                "proc-a",
                standard="SA8000",
                audit_date="2025-04-01",
                valid_until=f"2026-04-{i % 28 + 1:02d}",
            )
    with cast.batch():
        for i in range(PARTIES):
            cast.party(f"farm-{i:04d}", f"Farm {i}", "farm", "IN")
    return cast


def count_entry_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    reads: list[int] = []
    original = Ledger.entry

    def counting(self: Ledger, seq: int) -> Any:
        reads.append(seq)
        return original(self, seq)

    monkeypatch.setattr(Ledger, "entry", counting)
    return reads


def test_a_partys_attestations_come_in_pages(
    client: Any, busy: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_entry_reads(monkeypatch)
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        url = "/api/v1/parties/audit-a" + (f"?after={after}" if after is not None else "")
        data = client.get(url).get_json()
        assert len(data["attestations"]) <= 100
        seen += [a["seq"] for a in data["attestations"]]
        pages += 1
        after = data["attestations_next_after"]
        if after is None:
            break
    assert pages == 3 and len(seen) == AUDITS and seen == sorted(set(seen))
    assert len(reads) == AUDITS  # each attestation read once, on its own page
    small = client.get("/api/v1/parties/proc-a?limit=7").get_json()
    assert (
        len(small["attestations"]) == 7
        and small["attestations_next_after"] == small["attestations"][-1]["seq"]
    )


def test_the_party_list_is_paged_and_bounded(
    client: Any, busy: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_entry_reads(monkeypatch)
    first = client.get("/api/v1/parties").get_json()
    assert len(first["parties"]) == 100 and first["next_after"] == first["parties"][-1]["first_seq"]
    auditor = next(p for p in first["parties"] if p["id"] == "audit-a")
    assert len(auditor["attestations"]) == 20 and auditor["attestations_next_after"] is not None
    assert len(reads) <= 100 * 20
    ids = [p["id"] for p in first["parties"]]
    after = first["next_after"]
    while after is not None:
        page = client.get(f"/api/v1/parties?after={after}&limit=100").get_json()
        ids += [p["id"] for p in page["parties"]]
        after = page["next_after"]
    assert len(ids) == len(set(ids)) == 1 + 8 + PARTIES  # the operator, the cast, the farms
    assert client.get("/api/v1/parties?limit=201").status_code == 400
    assert client.get("/api/v1/parties?after=x").get_json()["error"]["field"] == "after"


def test_the_parties_page_reads_no_attestations_and_links_the_next(
    client: Any, busy: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_entry_reads(monkeypatch)
    html = client.get("/parties").get_data(as_text=True)
    assert reads == []
    assert html.count('href="/parties/') == 100 and "More parties" in html
    shown = html.count('href="/parties/')
    while 'rel="next"' in html:
        link = html.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
        html = client.get(link).get_data(as_text=True)
        shown += html.count('href="/parties/')
    assert 'href="/parties/farm-0229"' in html and shown == 1 + 8 + PARTIES


def test_the_party_page_pages_its_audits(client: Any, busy: Builder) -> None:
    html = client.get("/parties/audit-a").get_data(as_text=True)
    assert html.count("SA8000") == 100 and "More labour audits" in html
    link = html.split('rel="next" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert client.get(link).get_data(as_text=True).count("SA8000") == 100
