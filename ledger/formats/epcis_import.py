"""A supplier's EPCIS 2.0 document as statements it signs (EPCIS 2.0 §7, CBV 2.0 §7-§8).

``plan`` maps each event of the document to one statement of the importing party, or says
why it cannot: the mapping is the inverse of ``epcis_export``, and accepts what a
supplier's own system writes with GS1 keys:

- ObjectEvent ``ADD``, bizStep ``commissioning`` (or none), one ``quantityList`` element:
  a ``material-origin``. The material comes from ILMD ``pl:material`` (or
  ``cbvmda:descriptionShort``, or the class's ``descriptionShort`` in the document's master
  data); the country from ``cbvmda:countryOfOrigin``, else the
  party's own; ``pl:region``, ``pl:lat``, ``pl:lon``, ``pl:certifications`` when present.
- TransformationEvent with input and output quantities: a ``transformation``; each output's
  material from ILMD ``pl:materials`` (by EPC class) or ``pl:material``; the process from
  ``pl:process``, else the bizStep. With bizStep ``creating_class_instance`` and one LGTIN
  output it is the brand's ``product`` declaration of that GTIN and batch.
- ObjectEvent ``OBSERVE``, bizStep ``shipping``, one quantity, a ``destinationList`` naming
  the receiving party (``owning_party``, else ``location``): a ``shipment``;
- ObjectEvent ``OBSERVE``, bizStep ``receiving``, one quantity: the ``receipt`` of the oldest
  shipment of that lot, amount and unit to the party (from the sender its ``sourceList``
  names) that no receipt answers yet; ``pl:accepted`` false refuses the goods.

Event dates are the day of ``eventTime`` in its ``eventTimeZoneOffset``. Lots are named by
the ledger's lot URIs or by GS1 LGTIN classes (lot id ``01/<GTIN>/10/<lot>``). An event
whose own party (``readPoint``, ``bizLocation``, the sources of a sending, the destinations
of a receiving) is another party is refused; so is anything else this mapping does not
cover (instance EPCs, aggregation, association and transaction events, other bizSteps),
each with the event's index and the reason. An event carrying an ``errorDeclaration`` is
skipped: it was retracted. Statement ids derive from the party and the event's ``eventID``
(or content), so importing a document twice is refused as a replay instead of recording
everything twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.errors import LedgerError
from ledger.formats.ids import UNITS_BY_CODE, Resolver, parse_lgtin
from ledger.formats.numbers import amount_text
from ledger.model.fields import COUNTRIES, UNIT

EVENT_TYPES = (
    "ObjectEvent",
    "TransformationEvent",
    "AggregationEvent",
    "AssociationEvent",
    "TransactionEvent",
)
CBV_BIZSTEP = (
    "urn:epcglobal:cbv:bizstep:",
    "https://ref.gs1.org/cbv/BizStep-",
    "https://gs1.org/voc/Bizstep-",
)


class Unmappable(Exception):
    """One event the importer cannot turn into a statement: the reason, in words."""


# (lot, receiver) -> the shipments of that lot to that receiver that no receipt answers yet,
# as (seq, sender, body), oldest first.
AwaitingReceipt = Callable[[str, str], list[tuple[int, str, dict[str, Any]]]]


def no_shipments(lot: str, receiver: str) -> list[tuple[int, str, dict[str, Any]]]:
    return []


@dataclass(frozen=True)
class Directory:
    """What the importer needs to know about the ledger: who carries which GLN, each party's
    country, and which shipments await a receipt."""

    glns: Mapping[str, str]
    countries: Mapping[str, str]
    awaiting: AwaitingReceipt = no_shipments

    @classmethod
    def from_parties(
        cls, parties: list[dict[str, Any]], awaiting: AwaitingReceipt = no_shipments
    ) -> Directory:
        glns, countries = {}, {}
        for p in parties:
            gln = (p.get("identifiers") or {}).get("gln")
            if isinstance(gln, str):
                glns[gln] = p["id"]
            if p.get("country"):
                countries[p["id"]] = p["country"]
        return cls(glns, countries, awaiting)


def awaiting_receipt(
    entries: Callable[[str, str, str | None], list[tuple[int, str, dict[str, Any]]]],
) -> AwaitingReceipt:
    """An ``AwaitingReceipt`` over ``entries(type, party, lot)``: (seq, issuer, body) of the
    entries of that type naming that party (and lot), as a ledger or its API lists them."""

    def find(lot: str, receiver: str) -> list[tuple[int, str, dict[str, Any]]]:
        received = {b.get("shipment") for _, _, b in entries("receipt", receiver, None)}
        return [
            (seq, sender, b)
            for seq, sender, b in entries("shipment", receiver, lot)
            if b.get("to") == receiver and seq not in received
        ]

    return find


@dataclass(frozen=True)
class Planned:
    index: int
    statement: dict[str, Any] | None  # None: skipped
    note: str = ""


@dataclass(frozen=True)
class Refused:
    index: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"event": self.index, "error": {"code": "unmappable-event", "message": self.reason}}


def events_of(document: Any) -> list[Any]:
    """The events of an EPCIS document (or query document). Raises ``Unmappable``."""
    if not isinstance(document, dict):
        raise Unmappable("the file is not a JSON object")
    body = document.get("epcisBody")
    if document.get("type") not in ("EPCISDocument", "EPCISQueryDocument") or not isinstance(body, dict):
        raise Unmappable("the file is not an EPCIS 2.0 document (type EPCISDocument with an epcisBody)")
    if isinstance(body.get("queryResults"), dict):
        body = body["queryResults"].get("resultsBody", {})
    events = body.get("eventList") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise Unmappable("epcisBody has no eventList")
    return events


def plan(document: Any, party: str, directory: Directory, now: str) -> tuple[list[Planned], list[Refused]]:
    """Map every event; the statements are ``party``'s, issued at ``now``. Raises
    ``Unmappable`` if the document itself is not EPCIS."""
    planned, refused = [], []
    events = events_of(document)
    mapper = Mapper(party, directory, class_descriptions(document))
    for i, ev in enumerate(events):
        try:
            if isinstance(ev, dict) and ev.get("errorDeclaration") is not None:
                planned.append(Planned(i, None, "declared in error (errorDeclaration): skipped"))
                continue
            type_, body = mapper.map(ev)
        except Unmappable as e:
            refused.append(Refused(i, f"event {i}: {e}"))
            continue
        statement = {
            "type": type_,
            "id": statement_id(party, ev),
            "issuer": party,
            "issued_at": now,
            "body": body,
        }
        planned.append(Planned(i, statement))
    return planned, refused


def class_descriptions(document: dict[str, Any]) -> dict[str, str]:
    """EPC class -> its ``urn:epcglobal:cbv:mda#descriptionShort`` in the document's master
    data (``epcisHeader.epcisMasterData``), where it gives one."""
    out: dict[str, str] = {}
    header = document.get("epcisHeader")
    master = header.get("epcisMasterData") if isinstance(header, dict) else None
    vocabularies = master.get("vocabularyList") if isinstance(master, dict) else None
    for vocabulary in vocabularies if isinstance(vocabularies, list) else []:
        if not isinstance(vocabulary, dict) or vocabulary.get("type") != "urn:epcglobal:epcis:vtype:EPCClass":
            continue
        for element in vocabulary.get("vocabularyElementList") or []:
            if not isinstance(element, dict) or not isinstance(element.get("id"), str):
                continue
            for attribute in element.get("attributes") or []:
                if (
                    isinstance(attribute, dict)
                    and attribute.get("id")
                    in ("urn:epcglobal:cbv:mda#descriptionShort", "cbvmda:descriptionShort")
                    and isinstance(attribute.get("attribute"), str)
                ):
                    out[element["id"]] = attribute["attribute"]
    return out


def statement_id(party: str, event: dict[str, Any]) -> str:
    """``epcis-`` and 32 hex digits of SHA-256 over the party and the event's ID (its JSON
    when it has none): one event, one statement, however often it is imported."""
    key = event.get("eventID")
    if not isinstance(key, str):
        key = json.dumps(event, sort_keys=True, default=str)
    return "epcis-" + hashlib.sha256(f"{party}\n{key}".encode()).hexdigest()[:32]


def local_date(event: dict[str, Any]) -> str:
    """The day of ``eventTime`` where it happened (``eventTimeZoneOffset``)."""
    text, offset = event.get("eventTime"), event.get("eventTimeZoneOffset")
    if not isinstance(text, str):
        raise Unmappable("it has no eventTime")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as e:
        raise Unmappable(f"eventTime {text!r} is not a date-time") from e
    if when.tzinfo is None:
        raise Unmappable(f"eventTime {text!r} has no time zone")
    if isinstance(offset, str):
        try:
            sign = -1 if offset.startswith("-") else 1
            hours, minutes = offset.lstrip("+-").split(":")
            tz = dt.timezone(sign * dt.timedelta(hours=int(hours), minutes=int(minutes)))
        except ValueError as e:
            raise Unmappable(f"eventTimeZoneOffset {offset!r} is not ±hh:mm") from e
        when = when.astimezone(tz)
    return when.date().isoformat()


def biz_step(event: dict[str, Any]) -> str | None:
    step = event.get("bizStep")
    if not isinstance(step, str):
        return None
    for prefix in CBV_BIZSTEP:
        if step.startswith(prefix):
            return step[len(prefix) :]
    return step


class Mapper:
    def __init__(self, party: str, directory: Directory, described: Mapping[str, str] | None = None) -> None:
        self.party, self.directory = party, directory
        self.described = described or {}  # EPC class -> descriptionShort, from the master data
        self.resolve = Resolver(directory.glns)
        self.received: set[int] = set()  # shipments this document's receipts answer already

    def map(self, ev: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(ev, dict):
            raise Unmappable("it is not a JSON object")
        kind = ev.get("type")
        if kind not in EVENT_TYPES:
            raise Unmappable(f"type {kind!r} is not an EPCIS event type")
        for key in ("epcList", "inputEPCList", "outputEPCList", "childEPCs", "parentID"):
            if ev.get(key):
                raise Unmappable(
                    f"it names instances ({key}); the ledger records lots with quantities (quantityList)"
                )
        step = biz_step(ev)
        self._check_actor(ev, "destinationList" if step == "receiving" else "sourceList")
        if kind == "ObjectEvent":
            action = ev.get("action")
            if action == "ADD" and step in (None, "commissioning"):
                return "material-origin", self._origin(ev)
            if action == "OBSERVE" and step == "shipping":
                return "shipment", self._shipment(ev)
            if action == "OBSERVE" and step == "receiving":
                return "receipt", self._receipt(ev)
            raise Unmappable(
                f"an ObjectEvent with action {action!r} and bizStep {ev.get('bizStep')!r} is not mapped: "
                "commissioning (ADD), shipping and receiving (OBSERVE) are"
            )
        if kind == "TransformationEvent":
            if step == "creating_class_instance":
                return "product", self._product(ev)
            return "transformation", self._transformation(ev)
        raise Unmappable(f"a {kind} is not mapped: the ledger records ObjectEvents and TransformationEvents")

    # -- parts ----------------------------------------------------------------------------

    def _check_actor(self, ev: dict[str, Any], own_list: str) -> None:
        """The event's own party, where it names one, must be the importing party: at its
        ``readPoint`` and ``bizLocation``, and in ``own_list`` (the sources of what it sends,
        the destinations of what it receives)."""
        named: list[tuple[str, str]] = []
        for key in ("readPoint", "bizLocation"):
            where = ev.get(key)
            if isinstance(where, dict) and isinstance(where.get("id"), str):
                named.append((key, where["id"]))
        value = "source" if own_list == "sourceList" else "destination"
        for item in ev.get(own_list) or []:
            if isinstance(item, dict) and item.get("type") in (
                "owning_party",
                "possessing_party",
                "location",
            ):
                named.append((f"{own_list} {item.get('type')}", str(item.get(value))))
        for where, uri in named:
            who = self.resolve.party(uri)
            if who is not None and who != self.party:
                raise Unmappable(f"its {where} {uri} is {who}, not {self.party}")

    def _quantities(self, ev: dict[str, Any], key: str) -> list[dict[str, str]]:
        items = ev.get(key)
        if not isinstance(items, list) or not items:
            raise Unmappable(f"it has no {key}")
        units = ev.get("pl:units") if isinstance(ev.get("pl:units"), dict) else {}
        out = []
        for j, q in enumerate(items):
            where = f"{key}[{j}]"
            if not isinstance(q, dict) or not isinstance(q.get("epcClass"), str):
                raise Unmappable(f"{where} has no epcClass")
            try:
                lot = self.resolve.lot(q["epcClass"])
            except ValueError as e:
                raise Unmappable(f"{where}: {e}") from e
            if "quantity" not in q:
                raise Unmappable(f"{where} has no quantity")
            try:
                amount = amount_text(q["quantity"], where)
            except LedgerError as e:
                raise Unmappable(e.describe()) from e
            unit = units.get(q["epcClass"]) if isinstance(units, dict) else None
            if unit is None:
                code = q.get("uom")
                if code is None:
                    unit = "pcs"  # EPCIS: a quantity without uom counts instances
                elif code in UNITS_BY_CODE:
                    unit = UNITS_BY_CODE[code]
                else:
                    raise Unmappable(f"{where}: unit of measure {code!r} is not one the importer knows")
            if not isinstance(unit, str) or not UNIT.fullmatch(unit):
                raise Unmappable(f"{where}: {unit!r} is not a unit")
            out.append({"epcClass": q["epcClass"], "lot": lot, "amount": amount, "unit": unit})
        return out

    def _origin(self, ev: dict[str, Any]) -> dict[str, Any]:
        lines = self._quantities(ev, "quantityList")
        if len(lines) != 1:
            raise Unmappable(f"a commissioning must create one lot; it names {len(lines)}")
        ilmd = ev.get("ilmd") if isinstance(ev.get("ilmd"), dict) else {}
        assert isinstance(ilmd, dict)
        line = lines[0]
        material = ilmd.get("pl:material", ilmd.get("cbvmda:descriptionShort"))
        material = material if material is not None else self.described.get(line["epcClass"])
        if not isinstance(material, str):
            raise Unmappable(
                "a commissioning needs the material's name (ILMD pl:material or cbvmda:descriptionShort, "
                "or the class's descriptionShort in the master data)"
            )
        country = ilmd.get("cbvmda:countryOfOrigin", self.directory.countries.get(self.party))
        if not isinstance(country, str) or country not in COUNTRIES:
            raise Unmappable(f"country of origin {country!r} is not an ISO 3166-1 alpha-2 code")
        origin: dict[str, Any] = {"country": country}
        for key in ("region", "lat", "lon"):
            value = ilmd.get(f"pl:{key}")
            if value is not None:
                origin[key] = format(value, "f") if isinstance(value, (int, Decimal)) else value
        certifications = ilmd.get("pl:certifications", [])
        return {
            "lot": line["lot"],
            "material": material,
            "quantity": {"amount": line["amount"], "unit": line["unit"]},
            "origin": origin,
            "produced_on": local_date(ev),
            "certifications": certifications,
        }

    def _transformation(self, ev: dict[str, Any]) -> dict[str, Any]:
        inputs = self._quantities(ev, "inputQuantityList")
        outputs = self._quantities(ev, "outputQuantityList")
        ilmd = ev.get("ilmd") if isinstance(ev.get("ilmd"), dict) else {}
        assert isinstance(ilmd, dict)
        materials = ilmd.get("pl:materials") if isinstance(ilmd.get("pl:materials"), dict) else {}
        assert isinstance(materials, dict)
        out = []
        for o in outputs:
            material = materials.get(o["epcClass"], ilmd.get("pl:material"))
            material = material if material is not None else self.described.get(o["epcClass"])
            if not isinstance(material, str):
                raise Unmappable(
                    f"output {o['epcClass']} has no material name (ILMD pl:materials or pl:material, "
                    "or the class's descriptionShort in the master data)"
                )
            out.append({"lot": o["lot"], "material": material, "amount": o["amount"], "unit": o["unit"]})
        process = ev.get("pl:process", biz_step(ev) or "transformation")
        if process == "commissioning":
            process = "transformation"
        return {
            "process": process,
            "date": local_date(ev),
            "inputs": [{"lot": i["lot"], "amount": i["amount"], "unit": i["unit"]} for i in inputs],
            "outputs": out,
        }

    def _shipment(self, ev: dict[str, Any]) -> dict[str, Any]:
        lines = self._quantities(ev, "quantityList")
        if len(lines) != 1:
            raise Unmappable(f"a shipment moves one lot; it names {len(lines)} (send one event per lot)")
        to = None
        for kind in ("owning_party", "possessing_party", "location"):
            for d in ev.get("destinationList") or []:
                if isinstance(d, dict) and d.get("type") == kind and isinstance(d.get("destination"), str):
                    to = to or self.resolve.party(d["destination"])
        if to is None:
            raise Unmappable("its destinationList names no party of this ledger (by GLN or party URI)")
        line = lines[0]
        return {
            "lot": line["lot"],
            "amount": line["amount"],
            "unit": line["unit"],
            "to": to,
            "shipped_on": local_date(ev),
        }

    def _receipt(self, ev: dict[str, Any]) -> dict[str, Any]:
        """The receipt of the oldest shipment of this lot, amount and unit to the party (from
        the sender the ``sourceList`` names, if it names one) that no receipt answers yet."""
        lines = self._quantities(ev, "quantityList")
        if len(lines) != 1:
            raise Unmappable(f"a receipt answers one shipment of one lot; it names {len(lines)}")
        line = lines[0]
        senders = set()
        for src in ev.get("sourceList") or []:
            if isinstance(src, dict) and isinstance(src.get("source"), str):
                who = self.resolve.party(src["source"])
                if who is not None:
                    senders.add(who)
        for seq, sender, b in self.directory.awaiting(line["lot"], self.party):
            if (b.get("amount"), b.get("unit")) != (line["amount"], line["unit"]) or seq in self.received:
                continue
            if senders and sender not in senders:
                continue
            self.received.add(seq)
            body: dict[str, Any] = {"shipment": seq, "received_on": local_date(ev)}
            accepted = ev.get("pl:accepted", True)
            body["accepted"] = accepted is not False
            if isinstance(ev.get("pl:note"), str) and ev["pl:note"]:
                body["note"] = ev["pl:note"]
            return body
        frm = f" from {', '.join(sorted(senders))}" if senders else ""
        raise Unmappable(
            f"no shipment of {line['amount']} {line['unit']} of lot {line['lot']} to {self.party}{frm} "
            "awaits a receipt in the ledger"
        )

    def _product(self, ev: dict[str, Any]) -> dict[str, Any]:
        outputs = ev.get("outputQuantityList")
        if not isinstance(outputs, list) or len(outputs) != 1 or not isinstance(outputs[0], dict):
            raise Unmappable("a product declaration has one output: the batch's LGTIN class")
        pair = parse_lgtin(str(outputs[0].get("epcClass")))
        if pair is None:
            raise Unmappable("the output of creating_class_instance is not an LGTIN class (GTIN and batch)")
        gtin, batch = pair
        inputs = self._quantities(ev, "inputQuantityList")
        ilmd = ev.get("ilmd") if isinstance(ev.get("ilmd"), dict) else {}
        assert isinstance(ilmd, dict)
        name = ilmd.get("pl:productName")
        if not isinstance(name, str):
            raise Unmappable("a product declaration needs the product's name (ILMD pl:productName)")
        body: dict[str, Any] = {
            "gtin": gtin,
            "batch": batch,
            "name": name,
            "lots": [{"lot": i["lot"], "amount": i["amount"], "unit": i["unit"]} for i in inputs],
        }
        if isinstance(ilmd.get("pl:description"), str):
            body["description"] = ilmd["pl:description"]
        return body
