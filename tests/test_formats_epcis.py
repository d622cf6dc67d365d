"""GS1 EPCIS 2.0 out and in (ledger.formats.epcis_export, epcis_import; docs/formats.md).

Exports are validated against GS1's EPCIS 2.0 JSON Schema (tests/standards/epcis, with its
SOURCE note), with URI and date-time formats checked; quantities and dates are compared with
the signed statements, digit for digit, from the raw JSON text.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from scenarios import AUDITOR, BRAND, FARM, KNITTER, MILL, PARTIES, Clock, new_builder, tee_chain

from ledger.cli.formats import LocalSource
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.errors import Replay
from ledger.formats.epcis_export import export
from ledger.formats.epcis_import import Directory, Unmappable, awaiting_receipt, plan
from ledger.formats.ids import UNIT_CODES
from ledger.formats.numbers import dumps, parse
from ledger.formats.snapshot import take
from ledger.model.statements import TYPES, sign
from ledger.tlog import merkle

HERE = Path(__file__).parent
SCHEMA = json.loads((HERE / "standards/epcis/EPCIS-JSON-Schema.json").read_text())
SUPPLIER_DOC = HERE / "data/epcis-supplier.jsonld"
NOW = "2025-06-01T09:00:00.000Z"
LEDGER_FIELDS = ("eventID", "recordTime", "pl:seq", "pl:entryHash", "certificationInfo", "bizTransactionList")


def validate(doc: Any) -> None:
    """GS1's schema, with URI and date-time formats checked; raises on the first error."""
    cls = jsonschema.validators.validator_for(SCHEMA)
    errors = sorted(cls(SCHEMA, format_checker=cls.FORMAT_CHECKER).iter_errors(doc), key=str)
    assert not errors, [(e.message[:200], list(e.path)) for e in errors[:5]]


def exported(ledger: Ledger, gtin: str, batch: str) -> tuple[str, dict[str, Any]]:
    text = dumps(export(take(ledger, gtin, batch)))
    return text, parse(text)


def directory(ledger: Ledger) -> Directory:
    """What ``provenance epcis import --home`` reads from the ledger."""
    source = LocalSource(ledger)
    return Directory.from_parties(source.parties(), awaiting_receipt(source.entries))


def run_import(b: Builder, party: str, doc: Any) -> list[Any]:
    """What ``provenance epcis import`` does, in process: plan, sign, append in one batch."""
    planned, refused = plan(doc, party, directory(b.ledger), NOW)
    assert not refused, refused
    envelopes = [sign(p.statement, b.key_for(party)) for p in planned if p.statement is not None]
    return b.ledger.append(envelopes)


# -- export ------------------------------------------------------------------------------


def test_export_is_valid_epcis_with_one_event_per_step(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a", second_origin=True, trader="also", labels=True)
    text, doc = exported(c.ledger, c.gtin, c.batch)
    validate(json.loads(text))
    steps = take(c.ledger, c.gtin, c.batch).report.steps
    events = doc["epcisBody"]["eventList"]
    receipts = {s["receipt"]: s for s in steps if isinstance(s.get("receipt"), int)}
    assert [e["pl:seq"] for e in events] == sorted([s["seq"] for s in steps] + list(receipts))
    kinds = {s["seq"]: s["kind"] for s in steps} | {seq: "receipt" for seq in receipts}
    shapes = {
        "origin": ("ObjectEvent", "ADD", "commissioning"),
        "shipment": ("ObjectEvent", "OBSERVE", "shipping"),
        "transformation": ("TransformationEvent", None, "commissioning"),
        "product": ("TransformationEvent", None, "creating_class_instance"),
        "receipt": ("ObjectEvent", "OBSERVE", "receiving"),
    }
    for e in events:
        assert (e["type"], e.get("action"), e["bizStep"]) == shapes[kinds[e["pl:seq"]]]
        entry = c.ledger.entry(e["pl:seq"])
        assert e["pl:entryHash"] == entry.hash.hex() == merkle.leaf_hash(entry.canonical).hex()
        assert e["eventID"] == f"https://{c.ledger.origin}/entries/{entry.seq}#{entry.hash.hex()}"
        assert e["recordTime"] == entry.recorded_at
    assert doc["pl:checkpoint"] == c.ledger.latest_checkpoint().note


def test_quantities_and_dates_are_the_statements(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a", second_origin=True)
    _, doc = exported(c.ledger, c.gtin, c.batch)
    for e in doc["epcisBody"]["eventList"]:
        b = c.ledger.entry(e["pl:seq"]).statement.body
        if e["bizStep"] == "shipping":
            (q,) = e["quantityList"]
            want = (Decimal(b["amount"]), UNIT_CODES[b["unit"]], b["shipped_on"])
            assert (q["quantity"], q["uom"], e["eventTime"][:10]) == want
            assert q["epcClass"].endswith("/lots/" + b["lot"])
        elif e["bizStep"] == "receiving":
            shipped = c.ledger.entry(b["shipment"]).statement.body
            (q,) = e["quantityList"]
            assert (q["quantity"], e["eventTime"][:10]) == (Decimal(shipped["amount"]), b["received_on"])
        elif e["type"] == "ObjectEvent":
            (q,) = e["quantityList"]
            assert (
                q["quantity"] == Decimal(b["quantity"]["amount"]) and e["eventTime"][:10] == b["produced_on"]
            )
            assert e["ilmd"]["cbvmda:countryOfOrigin"] == b["origin"]["country"]
        elif e["bizStep"] == "commissioning":
            assert [q["quantity"] for q in e["inputQuantityList"]] == [
                Decimal(i["amount"]) for i in b["inputs"]
            ]
            assert [q["quantity"] for q in e["outputQuantityList"]] == [
                Decimal(o["amount"]) for o in b["outputs"]
            ]
            assert e["eventTime"][:10] == b["date"] and e["pl:process"] == b["process"]


def farm_to_brand(
    path: Path,
    lot: str,
    unit: str,
    amounts: tuple[str, str, str],
    gtin: str,
    batch: str,
    glns: tuple[str | None, str | None] = (None, None),
) -> tuple[Builder, str, dict[str, Any]]:
    """A farm's lot (``amounts``: made, shipped, declared) shipped to a brand that declares a
    batch of it; returns the builder and the batch's export, as text and parsed."""
    b = new_builder(path)
    b.party(FARM, "Kutch Cotton Growers", "farm", "IN", gln=glns[0])
    b.party(BRAND, "Acme Apparel", "brand", "DE", gln=glns[1])
    made, shipped, declared = amounts
    b.origin(FARM, lot, "seed cotton", made, unit, country="IN", produced_on="2025-03-01")
    b.ship(FARM, lot, shipped, unit, BRAND, "2025-03-02")
    b.product(BRAND, gtin, batch, "Bale", [(lot, declared, unit)])
    text, doc = exported(b.ledger, gtin, batch)
    validate(json.loads(text))
    return b, text, doc


def test_numbers_are_written_digit_for_digit(tmp_path: Path) -> None:
    """15 integer digits and 6 decimals: a binary float would print 123456789012345.12."""
    amounts = ("123456789012345.123456", "100000000000000.000001", "0.000001")
    _, text, _ = farm_to_brand(tmp_path / "a", "BIG-1", "kg", amounts, "09506000134352", "X1")
    assert '"quantity": 123456789012345.123456,' in text
    assert '"quantity": 100000000000000.000001,' in text
    assert '"quantity": 0.000001,' in text
    written = re.findall(r'"quantity": ([^,\n}]+)', text)
    assert written and all(re.fullmatch(r"[0-9]+(\.[0-9]+)?", n) for n in written), written


def test_gs1_keys_where_parties_carry_a_gln(tmp_path: Path) -> None:
    lot, glns = "01/04012345111118/10/L1", ("4012345000016", "0614141073467")
    _, _, doc = farm_to_brand(tmp_path / "a", lot, "kg", ("10", "10", "10"), "00614141999996", "B/1", glns)
    steps = {e["bizStep"]: e for e in doc["epcisBody"]["eventList"]}
    origin, ship, product = steps["commissioning"], steps["shipping"], steps["creating_class_instance"]
    assert origin["readPoint"]["id"] == "urn:epc:id:sgln:4012345.00001.0"
    assert origin["quantityList"][0]["epcClass"] == "urn:epc:class:lgtin:4012345.011111.L1"
    assert ship["sourceList"] == [
        {"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00001"},
        {"type": "location", "source": "urn:epc:id:sgln:4012345.00001.0"},
    ]
    assert ship["destinationList"] == [
        {"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.07346"},
        {"type": "location", "destination": "urn:epc:id:sgln:0614141.07346.0"},
    ]
    # The batch "B/1": '/' is percent-escaped in an EPC URI (TDS).
    assert product["outputQuantityList"] == [
        {"epcClass": "urn:epc:class:lgtin:0614141.099999.B%2F1", "quantity": Decimal(10), "uom": "KGM"}
    ]
    assert product["ilmd"]["cbvmda:lotNumber"] == "B/1"


def test_labour_attestations_are_certification_info(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a", audited=(FARM, MILL))
    _, doc = exported(c.ledger, c.gtin, c.batch)
    base = f"https://{c.ledger.origin}/entries/"
    by_party = {e["pl:party"]: e for e in doc["epcisBody"]["eventList"] if e["bizStep"] != "shipping"}
    assert by_party[FARM]["certificationInfo"] == [base + str(c.seqs[f"audit:{FARM}"])]
    assert by_party[MILL]["certificationInfo"] == [base + str(c.seqs[f"audit:{MILL}"])]
    assert "certificationInfo" not in by_party[KNITTER]  # not audited: nothing claimed


def test_a_revoked_step_carries_an_error_declaration(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a")
    revocation = c.b.revoke(BRAND, c.seqs["product"], "wrong batch number")
    text, doc = exported(c.ledger, c.gtin, c.batch)
    validate(json.loads(text))
    (event,) = doc["epcisBody"]["eventList"]  # the trace stops at a revoked declaration
    assert event["pl:seq"] == c.seqs["product"]
    assert event["errorDeclaration"] == {
        "declarationTime": c.ledger.entry(revocation).recorded_at,
        "reason": "incorrect_data",
        "pl:reason": "wrong batch number",
        "pl:revokedBy": revocation,
    }


def test_unknown_product_and_bad_gtin_are_clear_errors(tmp_path: Path) -> None:
    from ledger.errors import InvalidField, NotFound

    c = tee_chain(tmp_path / "a")
    with pytest.raises(NotFound, match="no product"):
        take(c.ledger, c.gtin, "NOPE")
    with pytest.raises(InvalidField) as e:
        take(c.ledger, "12345", c.batch)
    assert e.value.field == "gtin"


# -- import ------------------------------------------------------------------------------


def supplier_ledger(tmp_path: Path) -> Builder:
    b = new_builder(tmp_path / "b", Clock("2025-06-01"))
    b.party("sup", "Fibre Supplier", "processor", "DE", gln="4012345000016")
    b.party("buyer", "Buyer Spinning", "processor", "US", gln="0614141073467")
    return b


def test_import_a_hand_written_document_from_gs1_examples(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    doc = parse(SUPPLIER_DOC.read_bytes())
    validate(json.loads(SUPPLIER_DOC.read_text()))  # the document is itself valid EPCIS
    results = run_import(b, "sup", doc)
    seqs = [r.entry.seq for r in results]
    bodies = [(b.ledger.entry(s).statement.type, b.ledger.entry(s).statement.body) for s in seqs]
    lot_in, lot_out = "01/04012345111118/10/4444", "01/04012345778892/10/25"
    assert bodies == [
        (
            "material-origin",
            {
                "lot": lot_in,
                "material": "raw cotton fibre",
                "quantity": {"amount": "10.5", "unit": "kg"},
                "origin": {"country": "DE"},
                "produced_on": "2013-10-31",  # 23:30 UTC is 01:30 the next day at +02:00
                "certifications": [],
            },
        ),
        (
            "transformation",
            {
                "process": "carding",
                "date": "2013-10-31",
                "inputs": [{"lot": lot_in, "amount": "10", "unit": "kg"}],
                "outputs": [{"lot": lot_out, "material": "carded sliver", "amount": "8.25", "unit": "kg"}],
            },
        ),
        (
            "shipment",
            {"lot": lot_out, "amount": "8.25", "unit": "kg", "to": "buyer", "shipped_on": "2013-11-01"},
        ),
    ]
    assert all(b.ledger.entry(s).statement.issuer == "sup" for s in seqs)


def test_importing_the_same_document_twice_is_a_replay(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    doc = parse(SUPPLIER_DOC.read_bytes())
    run_import(b, "sup", doc)
    size = b.ledger.size
    again = run_import(b, "sup", doc)
    assert all(isinstance(r, Replay) for r in again)
    assert b.ledger.size == size


BAD_EVENTS = [
    ({"type": "AggregationEvent", "action": "ADD"}, "AggregationEvent is not mapped"),
    (
        {"type": "ObjectEvent", "action": "ADD", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"]},
        "instances",
    ),
    ({"type": "ObjectEvent", "action": "OBSERVE", "bizStep": "inspecting", "quantityList": []}, "not mapped"),
    (
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "bizStep": "commissioning",
            "ilmd": {"pl:material": "x"},
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.011111.9", "quantity": 1.0000001, "uom": "KGM"}
            ],
        },
        "cannot be recorded exactly",
    ),
    (
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "ilmd": {"pl:material": "x"},
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.011111.9", "quantity": 1, "uom": "XYZ"}
            ],
        },
        "unit of measure 'XYZ'",
    ),
    (
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.0"},
            "ilmd": {"pl:material": "x"},
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.011111.9", "quantity": 1, "uom": "KGM"}
            ],
        },
        "is buyer, not sup",
    ),
    (
        {
            "type": "ObjectEvent",
            "action": "OBSERVE",
            "bizStep": "shipping",
            "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:9999999.99999"}],
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.011111.9", "quantity": 1, "uom": "KGM"}
            ],
        },
        "names no party of this ledger",
    ),
    (
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "quantityList": [{"epcClass": "urn:epc:idpat:sgtin:4012345.066666.*", "quantity": 1}],
        },
        "names instances or a pattern",
    ),
    (
        {"type": "ObjectEvent", "action": "ADD", "quantityList": [{"epcClass": "urn:x:1", "quantity": 1}]},
        "neither an LGTIN class nor a ledger lot URI",
    ),
    (
        {
            "type": "ObjectEvent",
            "action": "ADD",
            "quantityList": [
                {"epcClass": "urn:epc:class:lgtin:4012345.011111.9", "quantity": 1, "uom": "KGM"}
            ],
        },
        "needs the material's name",
    ),
]


@pytest.mark.parametrize("event, reason", BAD_EVENTS, ids=[r for _, r in BAD_EVENTS])
def test_unmappable_events_are_refused_with_index_and_reason(tmp_path: Path, event: Any, reason: str) -> None:
    b = supplier_ledger(tmp_path)
    good = parse(SUPPLIER_DOC.read_bytes())
    event = {"eventTime": "2013-10-31T10:00:00Z", "eventTimeZoneOffset": "+00:00", **event}
    good["epcisBody"]["eventList"].insert(1, parse(json.dumps(event)))
    planned, refused = plan(good, "sup", directory(b.ledger), NOW)
    assert len(refused) == 1 and refused[0].index == 1, refused
    assert refused[0].reason.startswith("event 1: ") and reason in refused[0].reason


def test_a_file_that_is_not_epcis_is_refused(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    for doc in ([], {"type": "EPCISDocument"}, {"type": "Other", "epcisBody": {"eventList": []}}):
        with pytest.raises(Unmappable):
            plan(doc, "sup", directory(b.ledger), NOW)


def test_retracted_events_are_skipped(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    doc = parse(SUPPLIER_DOC.read_bytes())
    doc["epcisBody"]["eventList"][2]["errorDeclaration"] = {"declarationTime": "2013-11-02T00:00:00Z"}
    planned, refused = plan(doc, "sup", directory(b.ledger), NOW)
    assert not refused
    assert [p.statement is None for p in planned] == [False, False, True]
    assert "errorDeclaration" in planned[2].note


# -- the round trip ----------------------------------------------------------------------


def runs_by_party(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The document cut into consecutive runs of one party's events, each a document."""
    runs: list[tuple[str, list[Any]]] = []
    for e in doc["epcisBody"]["eventList"]:
        if runs and runs[-1][0] == e["pl:party"]:
            runs[-1][1].append(e)
        else:
            runs.append((e["pl:party"], [e]))
    return [(p, {**doc, "epcisBody": {"eventList": evs}}) for p, evs in runs]


def comparable(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for e in doc["epcisBody"]["eventList"]:
        e = {k: v for k, v in e.items() if k not in LEDGER_FIELDS}
        if e["bizStep"] == "creating_class_instance":
            e.pop("eventTime")  # a declaration's time is when it was recorded
        out.append(e)
    return out


def test_round_trip_export_import_export_keeps_every_event(tmp_path: Path) -> None:
    a = tee_chain(tmp_path / "a", second_origin=True, trader="also", labels=True)
    _, first = exported(a.ledger, a.gtin, a.batch)
    b = new_builder(tmp_path / "b", Clock("2025-06-01"))
    for pid, (name, role, country) in PARTIES.items():
        if pid != AUDITOR:
            b.party(pid, name, role, country)
    for party, part in runs_by_party(first):
        results = run_import(b, party, parse(dumps(part)))
        assert all(not isinstance(r, Exception) for r in results), results
    _, second = exported(b.ledger, a.gtin, a.batch)
    assert len(second["epcisBody"]["eventList"]) == len(first["epcisBody"]["eventList"])
    assert comparable(second) == comparable(first)


def test_an_import_signed_with_another_partys_key_appends_nothing(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    size = b.ledger.size
    planned, refused = plan(parse(SUPPLIER_DOC.read_bytes()), "sup", directory(b.ledger), NOW)
    assert not refused
    forged = [sign(p.statement, b.key_for("buyer")) for p in planned if p.statement is not None]
    results = b.ledger.append(forged)
    assert [r.status for r in results] == [403, 403, 403]  # type: ignore[union-attr]
    assert b.ledger.size == size


# -- receipts (SPEC v2 §6: shipped goods wait for the receiver's receipt) ---------------------

needs_receipts = pytest.mark.skipif(
    "receipt" not in TYPES, reason="this ledger has no receipt statements yet"
)

RECEIVING = {
    "eventID": "urn:uuid:5f1c3a52-8d0e-4b8e-9c1a-0b7d2f3e4a51",
    "type": "ObjectEvent",
    "action": "OBSERVE",
    "bizStep": "receiving",
    "disposition": "in_progress",
    "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.077889.25", "quantity": 8.25, "uom": "KGM"}],
    "eventTime": "2013-11-04T10:00:00.000+00:00",
    "eventTimeZoneOffset": "+00:00",
    "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"},
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:4012345.00001"}],
    "destinationList": [{"type": "owning_party", "destination": "urn:epc:id:pgln:0614141.07346"}],
}


@needs_receipts
def test_export_shows_each_receipt_as_a_receiving_event(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a")
    text, doc = exported(c.ledger, c.gtin, c.batch)
    validate(json.loads(text))
    events = doc["epcisBody"]["eventList"]
    shipping = [e for e in events if e["bizStep"] == "shipping"]
    receiving = {
        e["bizTransactionList"][0]["bizTransaction"]: e for e in events if e["bizStep"] == "receiving"
    }
    assert len(shipping) == len(receiving) >= 3
    for ship in shipping:
        got = receiving[ship["eventID"]]  # the despatch advice links the two
        assert got["quantityList"] == ship["quantityList"]
        assert got["destinationList"] == ship["destinationList"] and got["sourceList"] == ship["sourceList"]
        receipt = c.ledger.entry(got["pl:seq"]).statement
        assert receipt.type == "receipt" and receipt.body["shipment"] == ship["pl:seq"]
        assert got["eventTime"][:10] == receipt.body["received_on"]
        assert got["pl:party"] == receipt.issuer


@needs_receipts
def test_import_a_receiving_event_as_the_receipt_of_its_shipment(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    shipped = [r.entry.seq for r in run_import(b, "sup", parse(SUPPLIER_DOC.read_bytes()))][-1]
    doc = {"type": "EPCISDocument", "epcisBody": {"eventList": [RECEIVING]}}
    (result,) = run_import(b, "buyer", parse(json.dumps(doc)))
    st = result.entry.statement
    assert (st.type, st.issuer) == ("receipt", "buyer")
    assert st.body == {"shipment": shipped, "received_on": "2013-11-04", "accepted": True}
    again = dict(RECEIVING, eventID="urn:uuid:0d7e3f6a-1c2b-4a5d-8e9f-a0b1c2d3e4f5")
    doc = parse(json.dumps({"type": "EPCISDocument", "epcisBody": {"eventList": [again]}}))
    planned, refused = plan(doc, "buyer", directory(b.ledger), NOW)
    assert len(refused) == 1 and "awaits a receipt" in refused[0].reason


def test_a_unit_without_a_rec20_code_survives_the_round_trip(tmp_path: Path) -> None:
    _, _, doc = farm_to_brand(
        tmp_path / "a", "BAL-1", "bales", ("12.5", "12.5", "12.5"), "09506000134352", "X2"
    )
    origin = doc["epcisBody"]["eventList"][0]
    (q,) = origin["quantityList"]
    assert "uom" not in q and origin["pl:units"] == {q["epcClass"]: "bales"}
    c = new_builder(tmp_path / "c")
    c.party(FARM, "Kutch Cotton Growers", "farm", "IN")
    planned, refused = plan({**doc, "epcisBody": {"eventList": [origin]}}, FARM, directory(c.ledger), NOW)
    assert not refused and planned[0].statement is not None
    assert planned[0].statement["body"]["quantity"] == {"amount": "12.5", "unit": "bales"}


def test_master_data_names_every_site_and_lot_class(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "a", labels=True)
    _, doc = exported(c.ledger, c.gtin, c.batch)
    locations, classes = doc["epcisHeader"]["epcisMasterData"]["vocabularyList"]
    named = {
        v["id"]: {a["id"].split("#")[1]: a["attribute"] for a in v["attributes"]}
        for v in locations["vocabularyElementList"]
    }
    for e in doc["epcisBody"]["eventList"]:
        party = PARTIES[e["pl:party"]]
        assert named[e["readPoint"]["id"]] == {"name": party[0], "countryCode": party[2]}
    described = {v["id"]: v["attributes"][0]["attribute"] for v in classes["vocabularyElementList"]}
    assert described[f"https://{c.ledger.origin}/lots/YARN-1"] == "combed cotton yarn"
    assert described[f"https://{c.ledger.origin}/lots/LBL-1"] == "recycled polyester label tape"
    product = doc["epcisBody"]["eventList"][-1]["outputQuantityList"][0]["epcClass"]
    assert described[product] == "Organic tee, white"


def test_material_names_may_come_from_the_documents_master_data(tmp_path: Path) -> None:
    b = supplier_ledger(tmp_path)
    doc = parse(SUPPLIER_DOC.read_bytes())
    del doc["epcisBody"]["eventList"][0]["ilmd"]["pl:material"]
    doc["epcisHeader"] = {
        "epcisMasterData": {
            "vocabularyList": [
                {
                    "type": "urn:epcglobal:epcis:vtype:EPCClass",
                    "vocabularyElementList": [
                        {
                            "id": "urn:epc:class:lgtin:4012345.011111.4444",
                            "attributes": [
                                {"id": "urn:epcglobal:cbv:mda#descriptionShort", "attribute": "lint"}
                            ],
                        }
                    ],
                }
            ]
        }
    }
    validate(json.loads(dumps(doc)))
    planned, refused = plan(doc, "sup", directory(b.ledger), NOW)
    assert not refused and planned[0].statement is not None
    assert planned[0].statement["body"]["material"] == "lint"
    del doc["epcisHeader"]
    _, refused = plan(doc, "sup", directory(b.ledger), NOW)
    assert [r.index for r in refused] == [0] and "material's name" in refused[0].reason
