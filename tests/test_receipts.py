"""Receipts (SPEC v2 §6, §7): goods are in transit until their receiver accepts them.

The attack of issue 14 replayed: a trader with a failed audit sends a crumb of its lot to a
competitor's mill; the mill never accepts it, so it can neither use it nor be put on the
trader's custody route, and its product stays compliant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scenarios import BRAND, FARM, KNITTER, MILL, TRADER, Clock, audit, tee_chain

from ledger.audit.verify import verify_ledger
from ledger.cli import main
from ledger.errors import LedgerError
from ledger.model import transit
from ledger.trace.walk import trace_product


def refusal(fn: Any, *args: Any, **kw: Any) -> LedgerError:
    with pytest.raises(LedgerError) as info:
        fn(*args, **kw)
    return info.value


def holding(c: Any, lot: str, party: str) -> str | None:
    row = c.ledger.conn.execute(
        "SELECT balance FROM holdings WHERE lot = ? AND party = ?", (lot, party)
    ).fetchone()
    return None if row is None else row[0]


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    c = tee_chain(tmp_path / "h", clock=Clock("2025-06-01"))
    c.b.origin(
        FARM, "COT-9", "seed cotton", "100", "kg", country="IN", region="Gujarat", produced_on="2025-05-30"
    )
    return c


def test_goods_wait_in_transit_until_the_receiver_accepts(chain: Any) -> None:
    b = chain.b
    sent = b.ship(FARM, "COT-9", "60", "kg", MILL, "2025-05-31", receive=None)
    assert holding(chain, "COT-9", FARM) == "40" and holding(chain, "COT-9", MILL) is None
    assert [s.seq for s in transit.in_transit(chain.ledger.conn, MILL)] == [sent]
    assert [s.seq for s in transit.in_transit(chain.ledger.conn, FARM, incoming=False)] == [sent]
    # in transit: the mill can neither use nor ship the goods on
    e = refusal(
        b.transform, MILL, "spinning", "2025-06-01", [("COT-9", "60", "kg")], [("Y9", "yarn", "50", "kg")]
    )
    assert (e.code, e.field) == ("no-custody", "statement.body.inputs[0].lot")
    e = refusal(b.ship, MILL, "COT-9", "1", "kg", KNITTER, "2025-06-01", receive=None)
    assert e.code == "no-custody"
    got = b.receive(MILL, sent, "2025-06-01")
    assert holding(chain, "COT-9", MILL) == "60" and transit.in_transit(chain.ledger.conn, MILL) == []
    assert transit.get(chain.ledger.conn, sent).receipt == got  # type: ignore[union-attr]
    b.transform(MILL, "spinning", "2025-06-01", [("COT-9", "60", "kg")], [("Y9", "yarn", "50", "kg")])
    assert verify_ledger(chain.ledger.conn).ok


def test_refused_goods_return_to_the_sender(chain: Any) -> None:
    b = chain.b
    sent = b.ship(FARM, "COT-9", "100", "kg", MILL, "2025-05-31", receive="refuse")
    assert holding(chain, "COT-9", FARM) == "100" and holding(chain, "COT-9", MILL) is None
    e = refusal(b.ship, MILL, "COT-9", "1", "kg", KNITTER, "2025-06-01")
    assert e.code == "no-custody"
    b.ship(FARM, "COT-9", "100", "kg", KNITTER, "2025-06-01")  # the farm has all of it again
    assert holding(chain, "COT-9", KNITTER) == "100"
    e = refusal(b.receive, MILL, sent, "2025-06-01")
    assert (e.code, e.status) == ("already-received", 422) and f"refused by entry {sent + 1}" in e.message
    assert verify_ledger(chain.ledger.conn).ok


@pytest.mark.parametrize(
    "case, code, status",
    [
        ("not-the-receiver", "not-recipient", 403),
        ("twice", "already-received", 422),
        ("revoked", "shipment-revoked", 422),
        ("not-a-shipment", "unknown-entry", 422),
        ("before-shipped", "event-date", 422),
        ("after-today", "event-date", 422),
    ],
)
def test_receipts_the_ledger_refuses(chain: Any, case: str, code: str, status: int) -> None:
    b, size = chain.b, chain.ledger.size
    sent = b.ship(FARM, "COT-9", "10", "kg", MILL, "2025-05-31", receive=None)
    who, seq, on = MILL, sent, "2025-06-01"
    if case == "not-the-receiver":
        who = KNITTER
    elif case == "twice":
        b.receive(MILL, sent, on)
    elif case == "revoked":
        b.revoke(FARM, sent, "wrong mill")
    elif case == "not-a-shipment":
        seq = chain.seqs["origin"]
    elif case == "before-shipped":
        on = "2025-05-30"
    else:
        on = "2025-06-02"
    size = chain.ledger.size
    e = refusal(b.receive, who, seq, on)
    assert (e.code, e.status) == (code, status)
    assert e.field in ("statement.body.shipment", "statement.body.received_on")
    assert chain.ledger.size == size  # nothing appended


def test_revoking_a_receipt_puts_goods_back_in_transit(chain: Any) -> None:
    b = chain.b
    sent = b.ship(FARM, "COT-9", "10", "kg", MILL, "2025-05-31", receive=None)
    got = b.receive(MILL, sent, "2025-06-01")
    b.revoke(MILL, got, "counted wrong")
    assert holding(chain, "COT-9", MILL) == "0"
    assert [s.seq for s in transit.in_transit(chain.ledger.conn, MILL)] == [sent]
    b.receive(MILL, sent, "2025-06-01", accepted=False, note="wet bales")
    assert holding(chain, "COT-9", FARM) == "100"
    # an accepted receipt whose goods moved on cannot be revoked
    again = b.ship(FARM, "COT-9", "10", "kg", KNITTER, "2025-06-01")
    b.ship(KNITTER, "COT-9", "10", "kg", BRAND, "2025-06-01")
    e = refusal(b.revoke, KNITTER, again + 1, "no")
    assert e.code == "revocation-refused"
    assert verify_ledger(chain.ledger.conn).ok


def test_unsolicited_shipment_cannot_taint_a_competitor(tmp_path: Path) -> None:
    """Issue 14, attack 2: a trader whose audit failed sends 0.000001 kg to a competitor's
    mill. The mill does not accept it: it never holds it, never uses it, and its product
    stays compliant with no new finding."""
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    honest = trace_product(c.ledger, c.gtin, c.batch).to_json()
    assert honest["verdict"] == "compliant" and honest["findings"] == []
    b = c.b
    audit(b, TRADER, audit_date="2025-05-01", outcome="fail", present=["debt_bondage"])
    b.origin(MILL, "PET-0", "recycled PET", "5", "kg", country="IN", produced_on="2025-05-01")
    b.ship(MILL, "PET-0", "5", "kg", TRADER, "2025-05-02")
    crumb = b.ship(TRADER, "PET-0", "0.000001", "kg", KNITTER, "2025-06-01", receive=None)
    e = refusal(
        b.transform,
        KNITTER,
        "knitting",
        "2025-06-01",
        [("PET-0", "0.000001", "kg")],
        [("TEE-X", "tee", "1", "pcs")],
    )
    assert e.code == "no-custody"
    b.receive(KNITTER, crumb, "2025-06-01", accepted=False, note="never ordered")
    again = trace_product(c.ledger, c.gtin, c.batch).to_json()
    assert again["verdict"] == "compliant" and again["findings"] == []
    assert TRADER not in {s["party"] for s in again["steps"]}


def test_only_accepted_shipments_are_on_a_custody_route(tmp_path: Path) -> None:
    """Entries in which a shipment to the brand stands but its receipt is missing (as a
    bundle might hold): no route, a broken chain."""
    from ledger.trace.entries import EntrySet
    from ledger.trace.policy import Policy
    from ledger.trace.walk import derive

    c = tee_chain(tmp_path / "h")
    t = trace_product(c.ledger, c.gtin, c.batch).to_json()
    ship = next(s for s in t["steps"] if s["seq"] == c.seqs["ship:knitter"])
    assert ship["receipt"] == c.seqs["ship:knitter"] + 1 and ship["received_on"] == "2025-05-20"
    entries = [c.ledger.entry(n) for n in range(c.ledger.size) if n != ship["receipt"]]
    policy = Policy.load(c.home)
    t = derive(EntrySet(c.ledger.size, None, entries), c.gtin, c.batch, policy).to_json()
    assert [(f["code"], f["party"]) for f in t["findings"]] == [("broken-custody", BRAND)]


def test_receive_command_and_transit_api(tmp_path: Path) -> None:
    """The receiver's CLI signs and appends a receipt; the API and the party page show what
    is in transit until then."""
    from web import create_app

    c = tee_chain(tmp_path / "h", clock=Clock("2026-01-01"))
    c.b.origin(FARM, "COT-9", "seed cotton", "100", "kg", country="IN", produced_on="2025-12-30")
    sent = c.b.ship(FARM, "COT-9", "60", "kg", MILL, "2025-12-31", receive=None)
    key = tmp_path / "mill.key"
    c.b.key_for(MILL).save(key)
    c.ledger.close()
    app = create_app({"TESTING": True, "PROVENANCE_HOME": str(c.home)})
    client = app.test_client()
    moving = client.get(f"/api/v1/parties/{MILL}/transit").get_json()
    assert [x["shipment"] for x in moving["incoming"]] == [sent] and moving["outgoing"] == []
    assert moving["incoming"][0] == {
        "shipment": sent,
        "lot": "COT-9",
        "amount": "60",
        "unit": "kg",
        "from": FARM,
        "to": MILL,
        "shipped_on": "2025-12-31",
    }
    page = client.get(f"/parties/{MILL}").get_data(as_text=True)
    assert "Goods in transit" in page and "COT-9" in page
    received = page[page.index('id="got-h"') :]
    assert "COT-1" in received and "COT-9" not in received  # only what the mill accepted
    assert client.get("/api/v1/parties/nobody/transit").status_code == 404
    runner = CliRunner()
    home = ["--home", str(c.home)]
    r = runner.invoke(main, ["receive", str(sent), "--key", str(key), "--as", KNITTER, "--accept", *home])
    assert r.exit_code == 1 and json.loads(r.output)["error"]["code"] == "unknown-key"
    r = runner.invoke(main, ["receive", str(sent), "--key", str(key), "--as", MILL, *home])
    assert r.exit_code == 2 and "--accept or --refuse" in r.output
    r = runner.invoke(main, ["transit", MILL, *home])
    assert r.exit_code == 0 and json.loads(r.output) == moving["incoming"][0]
    r = runner.invoke(
        main, ["receive", str(sent), "--key", str(key), "--as", MILL, "--refuse", "--on", "2025-12-31", *home]
    )
    assert r.exit_code == 0, r.output
    line = json.loads(r.output)
    assert line["entry"]["statement"]["body"] == {
        "shipment": sent,
        "received_on": "2025-12-31",
        "accepted": False,
    }
    assert client.get(f"/api/v1/parties/{MILL}/transit").get_json()["incoming"] == []
    r = runner.invoke(main, ["transit", FARM, "--outgoing", *home])
    assert r.exit_code == 0 and r.output == ""


def test_receipts_over_http(client: Any, stocked: dict[str, int], cast: Any) -> None:
    """POST /api/v1/entries takes a receipt like any envelope; refusals carry SPEC §10 bodies."""
    b = cast
    sent = b.ship("farm-a", "cot-1", "5", "kg", "trade-a", "2025-05-08", receive=None)
    body = {"shipment": sent, "received_on": "2025-05-08", "accepted": True}
    wrong = b.envelope("receipt", "proc-a", body).to_json()
    r = client.post("/api/v1/entries", json=wrong)
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "not-recipient"
    assert r.get_json()["error"]["field"] == "statement.body.shipment"
    moving = client.get("/api/v1/parties/trade-a/transit").get_json()
    assert [x["shipment"] for x in moving["incoming"]] == [sent]
    r = client.post("/api/v1/entries", json=b.envelope("receipt", "trade-a", body).to_json())
    assert r.status_code == 201 and r.get_json()["entry"]["statement"]["body"] == body
    r = client.post("/api/v1/entries", json=b.envelope("receipt", "trade-a", body).to_json())
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "already-received"
    assert client.get("/api/v1/parties/trade-a/transit").get_json()["incoming"] == []
