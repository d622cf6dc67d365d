"""A product batch's trace as a GS1 EPCIS 2.0 JSON-LD document (EPCIS 2.0 §7, CBV 2.0).

Each step of the trace is one event, in ledger order:

- a ``material-origin`` is an ObjectEvent ``ADD`` / ``commissioning`` / ``active`` of its lot,
  with the origin as ILMD (``cbvmda:countryOfOrigin``, region and coordinates);
- a ``transformation`` is a TransformationEvent (``commissioning``) from its input lots to
  its output lots;
- a ``shipment`` is an ObjectEvent ``OBSERVE`` / ``shipping`` / ``in_transit`` whose
  ``sourceList`` and ``destinationList`` name the sender and receiver as ``owning_party``
  and ``location``;
- the receiver's accepting ``receipt`` of a shipment on the route is an ObjectEvent
  ``OBSERVE`` / ``receiving`` / ``in_progress`` at the receiver; it and the shipping event
  name the shipment's entry as their despatch advice (``bizTransactionList`` ``desadv``);
- the brand's ``product`` declaration is a TransformationEvent (``creating_class_instance``)
  from the lots it names to the batch's LGTIN class.

Quantities are exact JSON numbers written from the statements' decimal strings, with the
UN/ECE Rec. 20 ``uom``. The labour attestation in force for the step (the one the trace
judged it by) is the event's ``certificationInfo``. Every event points at its ledger entry:
its ``eventID`` is the entry's URI with the entry hash as fragment, and ``pl:seq`` and
``pl:entryHash`` carry both; the document carries the checkpoint the trace was read at. A
revoked entry's event carries an ``errorDeclaration`` naming its correction's event. The
header's CBV master data names each site (party name, country) and lot class (material).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ledger.formats.ids import UNIT_CODES, lgtin
from ledger.formats.numbers import Number
from ledger.formats.snapshot import Snapshot
from ledger.model.statements import Entry

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "https://ns.provenance-ledger.org/epcis/"
CONTEXT = [EPCIS_CONTEXT, {"pl": NAMESPACE}]
MEDIA_TYPE = "application/ld+json"
KINDS = ("origin", "transformation", "shipment", "product")


def event_time(date: str) -> dict[str, str]:
    """A statement's date as EPCIS ``eventTime``: midnight UTC of that day."""
    return {"eventTime": f"{date}T00:00:00.000Z", "eventTimeZoneOffset": "+00:00"}


def event_id(snap: Snapshot, entry: Entry) -> str:
    return f"{snap.names.entry(entry.seq)}#{entry.hash.hex()}"


def quantity(snap: Snapshot, lot: str, amount: str, unit: str, units: dict[str, str]) -> dict[str, Any]:
    """One ``quantityList`` element; a unit without a Rec. 20 code goes to ``pl:units``."""
    q: dict[str, Any] = {"epcClass": snap.names.lot(lot), "quantity": Number(amount)}
    code = UNIT_CODES.get(unit)
    if code is None:
        units[q["epcClass"]] = unit
    else:
        q["uom"] = code
    return q


def export(snap: Snapshot) -> dict[str, Any]:
    """The EPCIS document of the snapshot's trace (module docstring). Deterministic: the same
    ledger state gives the same document."""
    steps = snap.standing(KINDS)
    corrections = {c["revoked"]: c for c in snap.report.corrections}
    corrected_by: dict[int, list[int]] = {}
    for seq, e in snap.entries.items():
        target = e.statement.body.get("corrects") if isinstance(e.statement.body, dict) else None
        if isinstance(target, int):
            corrected_by.setdefault(target, []).append(seq)
    stepped = {s["seq"] for s in steps}
    events: list[tuple[int, dict[str, Any]]] = []
    for step in steps:
        entry = snap.entries[step["seq"]]
        ev = EVENT_BUILDERS[step["kind"]](snap, step, entry)
        if step.get("audit", {}).get("seq") is not None:
            ev["certificationInfo"] = [snap.names.entry(step["audit"]["seq"])]
        if step["revoked"] and step["seq"] in corrections:
            c = corrections[step["seq"]]
            declaration: dict[str, Any] = {
                "declarationTime": snap.entries[c["by"]].recorded_at,
                "reason": "incorrect_data",
            }
            fixes = [s for s in corrected_by.get(step["seq"], []) if s in stepped]
            if fixes:
                declaration["correctiveEventIDs"] = [event_id(snap, snap.entries[s]) for s in fixes]
            declaration["pl:reason"] = c["reason"]
            declaration["pl:revokedBy"] = c["by"]
            ev["errorDeclaration"] = declaration
        events.append((entry.seq, ev))
        receipt = step.get("receipt")
        if step["kind"] == "shipment" and isinstance(receipt, int) and receipt in snap.entries:
            events.append((receipt, _receiving(snap, entry, snap.entries[receipt])))
    events.sort(key=lambda pair: pair[0])
    last = max(e.recorded_at for e in snap.entries.values())
    header: dict[str, Any] = {
        "epcisMasterData": {"vocabularyList": master_data(snap, [ev for _, ev in events])}
    }
    if snap.as_of:
        header["pl:asOf"] = snap.as_of
        header["pl:note"] = f"The trace as of {snap.as_of}: entries recorded on or before that day only."
    return {
        "@context": CONTEXT,
        "id": snap.dated(snap.product_url),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": last,
        "pl:origin": snap.origin,
        "pl:vkey": snap.vkey,
        "pl:checkpoint": snap.checkpoint.note,
        "pl:bundle": snap.dated(f"{snap.names.base}/api/v1/trace/{snap.gtin}/{quote(snap.batch, safe='')}"),
        "epcisHeader": header,
        "epcisBody": {"eventList": [ev for _, ev in events]},
    }


MDA = "urn:epcglobal:cbv:mda#"


def master_data(snap: Snapshot, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """CBV master data for what the events name: each site (``BusinessLocation``: the party's
    name and country) and each EPC class (``EPCClass``: the material, or the product's name)."""
    sites = {snap.names.location(p): r for p, r in snap.report.parties.items()}
    described = {snap.names.lot(row["lot"]): row.get("material") for row in snap.report.lots}
    described[lgtin(snap.gtin, snap.batch)] = snap.report.product["name"]
    used_sites: set[str] = set()
    used_classes: set[str] = set()
    for ev in events:
        for key in ("readPoint", "bizLocation"):
            if key in ev:
                used_sites.add(ev[key]["id"])
        for item in ev.get("sourceList", []) + ev.get("destinationList", []):
            if item["type"] == "location":
                used_sites.add(item.get("source") or item["destination"])
        for key in ("quantityList", "inputQuantityList", "outputQuantityList"):
            used_classes.update(q["epcClass"] for q in ev.get(key, []))
    locations = []
    for uri in sorted(used_sites & set(sites)):
        record = sites[uri]
        attributes = [{"id": MDA + "name", "attribute": record["name"]}]
        if record.get("country"):
            attributes.append({"id": MDA + "countryCode", "attribute": record["country"]})
        locations.append({"id": uri, "attributes": attributes})
    classes = [
        {"id": uri, "attributes": [{"id": MDA + "descriptionShort", "attribute": described[uri]}]}
        for uri in sorted(used_classes)
        if described.get(uri)
    ]
    return [
        {"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": locations},
        {"type": "urn:epcglobal:epcis:vtype:EPCClass", "vocabularyElementList": classes},
    ]


def _common(snap: Snapshot, entry: Entry, date: str, type_: str) -> dict[str, Any]:
    return {
        "type": type_,
        "eventID": event_id(snap, entry),
        **event_time(date),
        "recordTime": entry.recorded_at,
    }


def _tail(snap: Snapshot, entry: Entry, ev: dict[str, Any], units: dict[str, str]) -> dict[str, Any]:
    if units:
        ev["pl:units"] = units
    ev["pl:party"] = entry.statement.issuer
    ev["pl:seq"] = entry.seq
    ev["pl:entryHash"] = entry.hash.hex()
    return ev


def _origin(snap: Snapshot, step: dict[str, Any], entry: Entry) -> dict[str, Any]:
    b, party = entry.statement.body, entry.statement.issuer
    units: dict[str, str] = {}
    where = snap.names.location(party)
    ilmd: dict[str, Any] = {"cbvmda:countryOfOrigin": b["origin"]["country"], "pl:material": b["material"]}
    for key in ("region", "lat", "lon"):
        if key in b["origin"]:
            ilmd[f"pl:{key}"] = b["origin"][key]
    if b["certifications"]:
        ilmd["pl:certifications"] = list(b["certifications"])
    ev = _common(snap, entry, b["produced_on"], "ObjectEvent")
    ev.update(
        action="ADD",
        bizStep="commissioning",
        disposition="active",
        quantityList=[quantity(snap, b["lot"], b["quantity"]["amount"], b["quantity"]["unit"], units)],
        readPoint={"id": where},
        bizLocation={"id": where},
        ilmd=ilmd,
    )
    return _tail(snap, entry, ev, units)


def _transformation(snap: Snapshot, step: dict[str, Any], entry: Entry) -> dict[str, Any]:
    b, party = entry.statement.body, entry.statement.issuer
    units: dict[str, str] = {}
    where = snap.names.location(party)
    ev = _common(snap, entry, b["date"], "TransformationEvent")
    outputs = [quantity(snap, o["lot"], o["amount"], o["unit"], units) for o in b["outputs"]]
    ev.update(
        inputQuantityList=[quantity(snap, i["lot"], i["amount"], i["unit"], units) for i in b["inputs"]],
        outputQuantityList=outputs,
        bizStep="commissioning",
        disposition="active",
        readPoint={"id": where},
        bizLocation={"id": where},
        ilmd={
            "pl:materials": {q["epcClass"]: o["material"] for q, o in zip(outputs, b["outputs"], strict=True)}
        },
    )
    ev["pl:process"] = b["process"]
    return _tail(snap, entry, ev, units)


def _shipment(snap: Snapshot, step: dict[str, Any], entry: Entry) -> dict[str, Any]:
    b, party = entry.statement.body, entry.statement.issuer
    units: dict[str, str] = {}
    names = snap.names
    ev = _common(snap, entry, b["shipped_on"], "ObjectEvent")
    ev.update(
        action="OBSERVE",
        bizStep="shipping",
        disposition="in_transit",
        quantityList=[quantity(snap, b["lot"], b["amount"], b["unit"], units)],
        readPoint={"id": names.location(party)},
        **_route(snap, party, b["to"]),
        bizTransactionList=[{"type": "desadv", "bizTransaction": event_id(snap, entry)}],
    )
    return _tail(snap, entry, ev, units)


def _route(snap: Snapshot, sender: str, receiver: str) -> dict[str, list[dict[str, str]]]:
    """``sourceList`` and ``destinationList``: each party as ``owning_party`` and its site."""
    names = snap.names
    return {
        "sourceList": [
            {"type": "owning_party", "source": names.party(sender)},
            {"type": "location", "source": names.location(sender)},
        ],
        "destinationList": [
            {"type": "owning_party", "destination": names.party(receiver)},
            {"type": "location", "destination": names.location(receiver)},
        ],
    }


def _receiving(snap: Snapshot, shipment: Entry, receipt: Entry) -> dict[str, Any]:
    """The receiver's accepting ``receipt`` of ``shipment``: an ObjectEvent ``OBSERVE`` /
    ``receiving`` at the receiver, linked to the shipping event by the despatch advice."""
    b, r = shipment.statement.body, receipt.statement.body
    sender, receiver = shipment.statement.issuer, receipt.statement.issuer
    units: dict[str, str] = {}
    names = snap.names
    ev = _common(snap, receipt, r["received_on"], "ObjectEvent")
    ev.update(
        action="OBSERVE",
        bizStep="receiving",
        disposition="in_progress",
        quantityList=[quantity(snap, b["lot"], b["amount"], b["unit"], units)],
        readPoint={"id": names.location(receiver)},
        bizLocation={"id": names.location(receiver)},
        **_route(snap, sender, receiver),
        bizTransactionList=[{"type": "desadv", "bizTransaction": event_id(snap, shipment)}],
    )
    if r.get("note"):
        ev["pl:note"] = r["note"]
    return _tail(snap, receipt, ev, units)


def _product(snap: Snapshot, step: dict[str, Any], entry: Entry) -> dict[str, Any]:
    b, party = entry.statement.body, entry.statement.issuer
    units: dict[str, str] = {}
    where = snap.names.location(party)
    ev = _common(snap, entry, entry.recorded_at[:10], "TransformationEvent")
    ev["eventTime"] = entry.recorded_at  # a declaration has no date of its own: when it was recorded
    lines = b["lots"]
    output: dict[str, Any] = {"epcClass": lgtin(b["gtin"], b["batch"])}
    if len({x["unit"] for x in lines}) == 1:  # a total only where the units agree
        total = sum(Number(x["amount"]).decimal for x in lines)
        output["quantity"] = Number(format(total, "f"))
        code = UNIT_CODES.get(lines[0]["unit"])
        if code is None:
            units[output["epcClass"]] = lines[0]["unit"]
        else:
            output["uom"] = code
    ilmd: dict[str, Any] = {"cbvmda:lotNumber": b["batch"], "pl:productName": b["name"]}
    if "description" in b:
        ilmd["pl:description"] = b["description"]
    ev.update(
        inputQuantityList=[quantity(snap, x["lot"], x["amount"], x["unit"], units) for x in lines],
        outputQuantityList=[output],
        bizStep="creating_class_instance",
        disposition="active",
        readPoint={"id": where},
        bizLocation={"id": where},
        ilmd=ilmd,
    )
    return _tail(snap, entry, ev, units)


EVENT_BUILDERS = {
    "origin": _origin,
    "transformation": _transformation,
    "shipment": _shipment,
    "product": _product,
}
