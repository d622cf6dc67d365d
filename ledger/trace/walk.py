"""The trace: from a product batch down every tier to its material origins (SPEC §6, §10).

One derivation, ``derive``, answers every question from an ``EntrySet``: the entries involved,
indexed in memory. The live trace gives the set a ``LedgerLoader``, which fetches by index
(never a scan) exactly the entries each question needs before the set answers it; the offline
verifier (``ledger.bundle``) gives it the bundle's entries and no loader. Both then answer
from the same in-memory code, so the live trace and ``verify-bundle`` cannot disagree, and
the entries a live trace loaded are exactly the ones its bundle must carry.

The walk goes lot by lot, newest creator first, so every draw on a lot is known before the
lot is followed upstream. For each lot it shows every standing shipment on a time-respecting
custody route from the lot's maker to each party that used it, and follows quantities through
transformations in proportion (see ``Walk._lot``). See docs/trace-format.md for the JSON.
"""

from __future__ import annotations

import copy
import heapq
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

from ledger.errors import InvalidField, NotFound
from ledger.model import fields
from ledger.model.keylog import KeyLog, PartyState
from ledger.model.statements import Entry
from ledger.store import sqlite as store
from ledger.trace import late, redflags, yields
from ledger.trace.asof import checkpoint_as_of
from ledger.trace.compliance import (
    ATTENTION,
    JUDGED_KINDS,
    SERIOUS,
    Attestation,
    Finding,
    Step,
    in_force,
    judge,
    origin_findings,
    verdict,
)
from ledger.trace.entries import EntrySet, LedgerLoader
from ledger.trace.policy import Policy

DEC = Context(prec=34)
QUANTUM = Decimal("0.000001")
SEVERITY_ORDER = {"serious": 0, "attention": 1, "info": 2}


def dec_text(value: Decimal) -> str:
    """A traced amount as a decimal string, rounded to 6 places, without exponent."""
    q = value.quantize(QUANTUM, context=DEC)
    return "0" if q == 0 else format(q.normalize(DEC), "f")


def normalize_gtin(gtin: str) -> str:
    """GTIN-8/12/13/14 as GTIN-14; raise ``InvalidField`` unless digits with a valid check digit."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        raise InvalidField(f"{gtin!r} is not a GTIN (8, 12, 13 or 14 digits)", field="gtin")
    return fields.gtin14(gtin.zfill(14), "gtin")


# -- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class TraceReport:
    """The trace of one product batch: docs/trace-format.md. ``to_json`` is deterministic."""

    product: dict[str, Any]
    verdict: str
    findings: tuple[Finding, ...]
    steps: tuple[dict[str, Any], ...]
    origins: tuple[dict[str, Any], ...]
    lots: tuple[dict[str, Any], ...]
    parties: dict[str, dict[str, Any]]
    corrections: tuple[dict[str, Any], ...]
    as_of: str | None
    size: int

    @property
    def exit_code(self) -> int:
        """The CLI's answer: 1 for non-compliant, 0 for compliant or attention."""
        return 1 if self.verdict == "non-compliant" else 0

    def to_json(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "product": self.product,
                "verdict": self.verdict,
                "findings": [f.to_json() for f in self.findings],
                "steps": list(self.steps),
                "origins": list(self.origins),
                "lots": list(self.lots),
                "parties": self.parties,
                "corrections": list(self.corrections),
                "as_of": self.as_of,
                "size": self.size,
            }
        )


TRACE_KEYS = (
    "product",
    "verdict",
    "findings",
    "steps",
    "origins",
    "lots",
    "parties",
    "corrections",
    "as_of",
    "size",
)


# -- the derivation ---------------------------------------------------------------------


def derive(source: EntrySet, gtin: str, batch: str, policy: Policy) -> TraceReport:
    """The trace of ``(gtin, batch)`` from the entries of ``source``.

    Raises ``NotFound`` if ``source`` holds no product entry for that GTIN and batch.
    """
    return Walk(source, policy).run(gtin, batch)


@dataclass
class _Lot:
    lot: str
    creator: Entry | None
    draw: Decimal
    sinks: dict[int, None]  # seqs of the steps that used the lot, in order of discovery


class Walk:
    def __init__(self, source: EntrySet, policy: Policy) -> None:
        self.src, self.policy = source, policy
        self.steps: dict[int, dict[str, Any]] = {}
        self.lots: dict[str, _Lot] = {}
        self.shipped: dict[str, list[int]] = {}  # lot -> shipment steps on custody routes
        self.heap: list[tuple[int, str]] = []
        self.findings: list[Finding] = []
        self.revoked: dict[int, Entry] = {}  # target -> revocation, for entries looked at
        self.named: set[str] = set()
        self.unaccounted: dict[str, Decimal] = {}  # unit -> traced amount no input accounts for
        self.flagged: set[tuple[str, int]] = set()  # (facility, attestation) already flagged

    # -- parties ------------------------------------------------------------------------

    def record(self, party: str, before: int | None = None) -> dict[str, Any]:
        """The party's profile and role in force before entry ``before`` (default: the latest),
        from its inception, admissions and profiles."""
        self.named.add(party)
        state = self.party_state(party, before)
        if state is None:
            return {"name": party, "role": "unknown", "country": "", "identifiers": {}}
        return state.to_json()

    def party_state(self, party: str, before: int | None = None) -> PartyState | None:
        log = KeyLog()
        for e in self.src.registrations(party):
            if before is None or e.seq < before:
                log.apply(e)
        return log.parties.get(party)

    def name(self, party: str) -> str:
        return f"{self.record(party)['name']} ({party})"

    def is_revoked(self, e: Entry) -> bool:
        """Revoked, or *disputed*: signed with a key that a later ``compromised`` rotation of
        its issuer retired, at or after its ``compromised_since`` (SPEC §6). A disputed entry
        counts as revoked by that rotation."""
        rev = self.src.revocation(e.seq)
        if rev is None:
            rev = self.disputing(e)
        if rev is not None:
            self.revoked[e.seq] = rev
        return rev is not None

    def disputing(self, e: Entry) -> Entry | None:
        """The ``compromised`` rotation that disputes ``e``, if any (from the key event log)."""
        if e.statement.type in ("genesis", "inception", "rotation"):
            return None
        log = KeyLog()
        for reg in self.src.registrations(e.statement.issuer):
            log.apply(reg)
        rot = log.disputed_by(e)
        return self.src.entries.get(rot) if rot is not None else None

    # -- the walk -----------------------------------------------------------------------

    def run(self, gtin: str, batch: str) -> TraceReport:
        declared = self.src.products(gtin, batch)
        if not declared:
            when = f" recorded on or before {self.src.as_of}" if self.src.as_of else ""
            raise NotFound(f"no product with GTIN {gtin} and batch {batch!r}{when}", field="batch")
        standing = [p for p in declared if not self.is_revoked(p)]
        product = (standing or declared)[-1]
        head = self.add_step(product, "product", 0)
        if head["revoked"]:
            self.findings.append(
                Finding(
                    SERIOUS,
                    "product-revoked",
                    product.statement.issuer,
                    f"The declaration of this batch (entry {product.seq}) by "
                    f"{self.name(product.statement.issuer)} was revoked by entry "
                    f"{self.revoked[product.seq].seq} and not replaced.",
                    product.seq,
                )
            )
        else:
            for line in product.statement.body["lots"]:
                self.demand(line["lot"], DEC.create_decimal(line["amount"]), product.seq)
        while self.heap:
            _, lot = heapq.heappop(self.heap)
            self._lot(self.lots[lot])
        return self.report(product)

    def demand(self, lot: str, amount: Decimal, sink: int) -> None:
        """Step ``sink`` used ``amount`` of ``lot``."""
        item = self.lots.get(lot)
        if item is None:
            creator = self.src.creator(lot)
            item = self.lots[lot] = _Lot(lot, creator, Decimal(0), {})
            heapq.heappush(self.heap, (-(creator.seq if creator else -1), lot))
        item.draw = DEC.add(item.draw, amount)
        item.sinks[sink] = None

    def _lot(self, item: _Lot) -> None:
        """Follow one lot: its maker, its custody routes to each user, then its inputs.

        Quantities: a transformation's output is taken to contain its inputs in proportion to
        the output's amount among the outputs of the same unit; outputs in different units
        (50 m of fabric and 20 kg of padding) cannot be weighed against each other, so the
        inputs are shared equally among the units. Drawing ``d`` of an output whose same-unit
        outputs total ``T``, with ``g`` units among the outputs, draws ``d / T / g`` of every
        input line: the draws of all outputs never add up to more than the inputs.
        """
        sinks = [self.steps[s] for s in item.sinks]
        creator = item.creator
        for e in self.src.revoked_touching(item.lot):  # earlier versions, for the corrections
            self.is_revoked(e)
        if creator is None:
            for s in sinks:
                self.findings.append(
                    Finding(
                        SERIOUS,
                        "unknown-lot",
                        s["party"],
                        f"Lot {item.lot} used by {self.name(s['party'])} (entry {s['seq']}) has no "
                        "recorded origin or transformation.",
                        s["seq"],
                    )
                )
            return
        kind = "origin" if creator.statement.type == "material-origin" else "transformation"
        tier = min(s["tier"] for s in sinks) + 1
        step = self.add_step(creator, kind, tier)
        if step["revoked"]:
            if not step.get("_reported"):
                step["_reported"] = True
                self.findings.append(
                    Finding(
                        SERIOUS,
                        "revoked-step",
                        step["party"],
                        f"The {kind} that made lot {item.lot} (entry {creator.seq}) by "
                        f"{self.name(step['party'])} was revoked by entry "
                        f"{self.revoked[creator.seq].seq}: the chain is broken there.",
                        creator.seq,
                    )
                )
            return
        self._custody(item, creator, sinks, tier)
        if kind == "transformation":
            b = creator.statement.body
            unit = next(o["unit"] for o in b["outputs"] if o["lot"] == item.lot)
            same = [DEC.create_decimal(o["amount"]) for o in b["outputs"] if o["unit"] == unit]
            total = sum(same, Decimal(0))
            units = len({o["unit"] for o in b["outputs"]})
            ratio = DEC.divide(item.draw, DEC.multiply(total, units)) if total else Decimal(0)
            self._gained(item.draw, unit, b)
            for line in b["inputs"]:
                self.demand(line["lot"], DEC.multiply(ratio, DEC.create_decimal(line["amount"])), creator.seq)

    def _gained(self, draw: Decimal, unit: str, b: dict[str, Any]) -> None:
        """Count the part of ``draw`` (of an output in ``unit`` of transformation ``b``) that no
        input accounts for, when the transformation gained mass: shares stay true to mass.
        Masses compare across units of mass, counted in kg."""
        factor = yields.MASS_UNITS.get(unit)

        def weigh(lines: list[dict[str, Any]]) -> Decimal:
            if factor is None:
                return sum((DEC.create_decimal(x["amount"]) for x in lines if x["unit"] == unit), Decimal(0))
            mass = yields.MASS_UNITS
            return sum(
                (DEC.create_decimal(x["amount"]) * mass[x["unit"]] for x in lines if x["unit"] in mass),
                Decimal(0),
            )

        made, used = weigh(b["outputs"]), weigh(b["inputs"])
        if 0 < used < made:  # the inputs account for used/made of the draw
            gained = DEC.multiply(draw, DEC.divide(made - used, made))
            key = unit if factor is None else "kg"
            self.unaccounted[key] = DEC.add(self.unaccounted.get(key, Decimal(0)), gained * (factor or 1))

    def _custody(self, item: _Lot, creator: Entry, sinks: list[dict[str, Any]], tier: int) -> None:
        """Every standing shipment on a time-respecting route from the maker to each user. A
        user reached only through revoked shipments is a broken chain: those are shown, revoked."""
        shipments = self.src.shipments(item.lot, creator.seq, max(s["seq"] for s in sinks))
        standing = [e for e in shipments if not self.is_revoked(e)]
        # Goods reach the receiver when it accepts them (SPEC §6 receipt): a move is dated by
        # its receipt's seq, and a shipment without a standing accepting receipt is no move.
        accepted = {e.seq: r for e in standing if (r := self._accepted_receipt(e)) is not None}
        moves = [
            (accepted[e.seq].seq, e.statement.issuer, e.statement.body["to"])
            for e in standing
            if e.seq in accepted
        ]
        shipment_of = {accepted[e.seq].seq: e for e in standing if e.seq in accepted}
        maker = creator.statement.issuer
        on_route: set[int] = set()
        for s in sinks:
            route = custody_route(maker, creator.seq, moves, s["party"], s["seq"])
            if route is None:
                self._broken(item, creator, shipments, s)
                continue
            on_route |= {shipment_of[r].seq for r in route}
        by_seq = {e.seq: e for e in shipments}
        for seq in sorted(on_route):
            step = self.add_step(by_seq[seq], "shipment", tier)
            receipt = accepted[seq]
            step.update(receipt=receipt.seq, received_on=receipt.statement.body["received_on"])
        self.shipped[item.lot] = sorted(on_route | set(self.shipped.get(item.lot, [])))

    def _accepted_receipt(self, shipment: Entry) -> Entry | None:
        """The shipment's standing receipt if it accepted the goods; revoked receipts are
        noted for the corrections."""
        for r in self.src.receipts(shipment.seq):
            self.is_revoked(r)
        receipt = self.src.receipt(shipment.seq)
        return receipt if receipt is not None and receipt.statement.body["accepted"] else None

    def _broken(self, item: _Lot, creator: Entry, shipments: list[Entry], sink: dict[str, Any]) -> None:
        maker, user = creator.statement.issuer, sink["party"]
        every = [(e.seq, e.statement.issuer, e.statement.body["to"]) for e in shipments]
        via = custody_route(maker, creator.seq, every, user, sink["seq"]) or set()
        revoked = sorted(seq for seq in via if seq in self.revoked)
        if not revoked:
            self.findings.append(
                Finding(
                    SERIOUS,
                    "broken-custody",
                    user,
                    f"No recorded custody route brings lot {item.lot} from {self.name(maker)} to "
                    f"{self.name(user)} before entry {sink['seq']}.",
                    sink["seq"],
                )
            )
            return
        by_seq = {e.seq: e for e in shipments}
        for seq in revoked:
            e = by_seq[seq]
            self.add_step(e, "shipment", sink["tier"] + 1)
            self.findings.append(
                Finding(
                    SERIOUS,
                    "revoked-step",
                    e.statement.issuer,
                    f"Lot {item.lot} reached {self.name(user)} only through the shipment of entry "
                    f"{seq} by {self.name(e.statement.issuer)}, revoked by entry "
                    f"{self.revoked[seq].seq}: the chain is broken there.",
                    seq,
                )
            )
        self.shipped[item.lot] = sorted(set(self.shipped.get(item.lot, [])) | set(revoked))

    def add_step(self, e: Entry, kind: str, tier: int) -> dict[str, Any]:
        if e.seq in self.steps:
            seen = self.steps[e.seq]
            seen["tier"] = min(seen["tier"], tier)
            return seen
        st, b = e.statement, e.statement.body
        who = self.record(st.issuer, e.seq)
        step: dict[str, Any] = {
            "seq": e.seq,
            "kind": kind,
            "tier": tier,
            "party": st.issuer,
            "role": who["role"],
            "country": who["country"],
        }
        lines = [{k: x[k] for k in ("lot", "amount", "unit")} for x in b.get("inputs", [])]
        if kind == "origin":
            if "region" in b["origin"]:
                step["region"] = b["origin"]["region"]
            step.update(
                date=b["produced_on"],
                material=b["material"],
                inputs=[],
                outputs=[{"lot": b["lot"], "material": b["material"], **b["quantity"]}],
            )
        elif kind == "transformation":
            step.update(
                date=b["date"],
                process=b["process"],
                inputs=lines,
                outputs=[{k: o[k] for k in ("lot", "material", "amount", "unit")} for o in b["outputs"]],
            )
        elif kind == "shipment":
            line = {"lot": b["lot"], "amount": b["amount"], "unit": b["unit"]}
            step.update(date=b["shipped_on"], inputs=[line], outputs=[dict(line)], to=b["to"])
            self.record(b["to"])
        else:
            step.update(
                date=e.recorded_at[:10],
                inputs=[{"lot": x["lot"], "amount": x["amount"], "unit": x["unit"]} for x in b["lots"]],
                outputs=[],
            )
        step["revoked"] = self.is_revoked(e)
        self.steps[e.seq] = step
        return step

    # -- judging and the report ---------------------------------------------------------

    def _judge(self, step: dict[str, Any]) -> None:
        if step["revoked"]:
            step["audit"] = {"status": "not-required", "present": [], "not_assessed": [], "findings": []}
            return
        kind, party = step["kind"], step["party"]
        atts = [
            Attestation.from_entry(e, self.revoked.get(e.seq) if self.is_revoked(e) else None)
            for e in (self.src.attestations(party) if kind != "product" else [])
        ]
        out = step["outputs"][0]["lot"] if step["outputs"] else ""
        what = {
            "origin": f"production of lot {out}",
            "transformation": f"{step.get('process')} into lot {out}",
            "shipment": f"shipment of lot {out} to {step.get('to')}",
        }.get(kind, kind)
        audit, found = judge(Step(step["seq"], kind, party, step["date"], what), atts, self.name)
        on = step["date"]
        recorded = self.src.entries[step["seq"]].recorded_at[:10]
        second = late.second_date(on, recorded, step["seq"], atts, self.policy.late_record_days)
        if second is not None and kind in JUDGED_KINDS:
            day, why = second
            audit2, found2 = judge(Step(step["seq"], kind, party, day, what), atts, self.name)
            worse = late.weight(found2) > late.weight(found)
            if worse:
                on, audit, found = day, audit2, found2
                audit["judged_on"] = day
            named = late.finding(
                why,
                party,
                step["seq"],
                self.name(party),
                what,
                step["date"],
                recorded,
                worse,
                self.policy.late_record_days,
            )
            found += [named] if named else []
        step["audit"] = audit
        if audit.get("issuer"):
            self.record(audit["issuer"])
        self.findings += found
        self._red_flags(step, atts, in_force(atts, on))

    def _red_flags(self, step: dict[str, Any], atts: list[Attestation], current: Attestation | None) -> None:
        """Yields, workforce and auditor red flags of a judged step (``yields``, ``redflags``)."""
        if step["kind"] == "transformation":
            materials = {x["lot"]: self._material(x["lot"]) for x in step["inputs"]}
            self.findings += yields.findings(step, materials, self.policy, self.name)
        self.findings += redflags.workforce(step, current, self.policy, self.name)
        if current is not None and (step["party"], current.seq) not in self.flagged:
            self.flagged.add((step["party"], current.seq))
            switch = redflags.auditor_switch(step["party"], current, atts, self.name)
            if switch is not None:
                self.findings.append(switch)
                self.record(switch.party)

    def _material(self, lot: str) -> str:
        item = self.lots.get(lot)
        e = item.creator if item else None
        if e is None:
            return ""
        b = e.statement.body
        return (
            str(b["material"])
            if "material" in b
            else next(o["material"] for o in b["outputs"] if o["lot"] == lot)
        )

    def report(self, product: Entry) -> TraceReport:
        steps = sorted(self.steps.values(), key=lambda s: (s["tier"], s["seq"]))
        for step in steps:
            step.pop("_reported", None)
            self._judge(step)
        origins = self._origins()
        b = product.statement.body
        head = {"gtin": b["gtin"], "batch": b["batch"], "name": b["name"]}
        if "description" in b:
            head["description"] = b["description"]
        head.update(brand=product.statement.issuer, seq=product.seq)
        corrections = []
        for target in sorted(self.revoked):
            rev, was = self.revoked[target], self.src.entries[target]
            self.record(rev.statement.issuer)
            if rev.statement.type == "rotation":
                self.findings.append(
                    Finding(
                        ATTENTION,
                        "disputed-statement",
                        was.statement.issuer,
                        f"Entry {target} ({was.statement.type}) in the name of"
                        f" {self.name(was.statement.issuer)} was signed with a key it reported"
                        f" compromised in entry {rev.seq} (from entry"
                        f" {rev.statement.body['compromised_since']} on): it is disputed and counts as"
                        " revoked.",
                        target,
                    )
                )
            corrections.append(
                {
                    "revoked": target,
                    "by": rev.seq,
                    "reason": rev.statement.body["reason"],
                    "type": was.statement.type,
                    "party": was.statement.issuer,
                    "revoked_by": rev.statement.issuer,
                    "date": rev.recorded_at[:10],
                }
            )
        findings = sorted(
            self.findings,
            key=lambda f: (
                SEVERITY_ORDER[f.severity],
                -1 if f.seq is None else f.seq,
                f.code,
                f.indicator or "",
            ),
        )
        parties = {p: self.record(p) for p in sorted(self.named)}
        return TraceReport(
            head,
            verdict(findings),
            tuple(findings),
            tuple(steps),
            tuple(origins),
            tuple(self._lots()),
            parties,
            tuple(corrections),
            self.src.as_of,
            self.src.size,
        )

    def _origins(self) -> list[dict[str, Any]]:
        origins: list[dict[str, Any]] = []
        totals: dict[str, Decimal] = {}
        for item in self.lots.values():
            e = item.creator
            if e is None or e.statement.type != "material-origin" or self.steps[e.seq]["revoked"]:
                continue
            b = e.statement.body
            unit = b["quantity"]["unit"]
            totals[unit] = DEC.add(totals.get(unit, Decimal(0)), item.draw)
            row = {
                "lot": item.lot,
                "material": b["material"],
                "party": e.statement.issuer,
                "country": b["origin"]["country"],
            }
            row.update({k: b["origin"][k] for k in ("region", "lat", "lon") if k in b["origin"]})
            row.update(produced_on=b["produced_on"], amount=item.draw, unit=unit, seq=e.seq)
            origins.append(row)
            self.findings += origin_findings(
                self.policy,
                e.statement.issuer,
                e.seq,
                item.lot,
                b["material"],
                b["origin"]["country"],
                b["origin"].get("region"),
                self.name,
            )
            self._origin_country(e, item.lot)
        for unit in totals:  # shares stay true to mass (unaccounted masses are kept in kg)
            factor = yields.MASS_UNITS.get(unit)
            extra = (
                self.unaccounted.get(unit, Decimal(0))
                if factor is None
                else self.unaccounted.get("kg", Decimal(0)) / factor
            )
            totals[unit] = DEC.add(totals[unit], extra)
        for row in origins:
            total = totals[row["unit"]]
            row["share"] = dec_text(DEC.divide(row["amount"], total)) if total else "0"
            row["amount"] = dec_text(row["amount"])
        if len(totals) > 1:
            units = ", ".join(sorted(totals))
            self.findings.append(
                Finding(
                    "info",
                    "mixed-units",
                    "",
                    f"The origins are counted in different units ({units}), which cannot be added "
                    "up: each origin's share is its part of the traced quantity in its own unit.",
                )
            )
        return sorted(origins, key=lambda r: (r["seq"], r["lot"]))

    def _origin_country(self, e: Entry, lot: str) -> None:
        """An origin declared outside its producer's registered country: flagged, and its
        region also judged as if in the registered country (a CN farm's "KZ/Xinjiang"); a
        high-risk region's name under a third country is flagged too."""
        b, producer = e.statement.body, e.statement.issuer
        registered = self.record(producer, e.seq)["country"]
        declared, region = b["origin"]["country"], b["origin"].get("region")
        if region:
            self.findings += redflags.region_elsewhere(
                self.policy, producer, e.seq, lot, {declared, registered}, region, self.name
            )
        mismatch = redflags.origin_country(producer, e.seq, lot, declared, registered, self.name)
        if mismatch is None:
            return
        self.findings.append(mismatch)
        if region:
            self.findings += [
                f
                for f in origin_findings(
                    self.policy, producer, e.seq, lot, b["material"], registered, region, self.name
                )
                if f.code == "high-risk-origin"
            ]

    def _lots(self) -> list[dict[str, Any]]:
        out = []
        for item in sorted(self.lots.values(), key=lambda i: i.lot):
            row: dict[str, Any] = {
                "lot": item.lot,
                "traced": dec_text(item.draw),
                "used_by": sorted(item.sinks),
                "shipments": self.shipped.get(item.lot, []),
            }
            if item.creator is not None:
                b = item.creator.statement.body
                line = (
                    b["quantity"] | {"material": b["material"]}
                    if "quantity" in b
                    else next(o for o in b["outputs"] if o["lot"] == item.lot)
                )
                row.update(
                    material=line["material"],
                    amount=line["amount"],
                    unit=line["unit"],
                    created_by=item.creator.seq,
                )
            out.append(row)
        return out


def custody_route(
    producer: str, made: int, moves: list[tuple[int, str, str]], user: str, used: int
) -> set[int] | None:
    """The shipments ``(seq, from, to)`` that lie on some route, in entry order, from
    ``producer`` (which made the lot at ``made``) to ``user`` (which used it at ``used``);
    ``None`` if there is no route at all. Every route, not just one, is returned."""
    arrived: dict[str, int] = {producer: made}
    forward = []
    for seq, a, b in sorted(moves):
        if made < seq < used and a in arrived:
            forward.append((seq, a, b))
            arrived.setdefault(b, seq)
    leaves: dict[str, int] = {user: used}
    route: set[int] = set()
    for seq, a, b in reversed(forward):
        if leaves.get(b, -1) > seq:
            route.add(seq)
            leaves.setdefault(a, seq)
    if producer != user and not route:
        return None
    return route


def collect(
    ledger: Any,
    gtin: str,
    batch: str,
    *,
    at: str | None = None,
    policy: Policy | None = None,
    limit: int | None = None,
) -> tuple[TraceReport, EntrySet, Any]:
    """The live trace against the latest checkpoint (as of ``at``: the checkpoint of that
    time): (report, the entries involved, checkpoint).

    Validates ``gtin`` (GTIN-8/12/13/14), ``batch`` and ``at`` first (``InvalidField``);
    raises ``TraceTooLarge`` if the trace involves more than ``limit`` entries.
    """
    gtin = normalize_gtin(gtin)
    fields.batch(batch, "batch")
    if at is not None:
        fields.date(at, "at")
    policy = policy if policy is not None else Policy.load(ledger.home)
    with store.read_transaction(ledger.conn):
        checkpoint = ledger.latest_checkpoint() if at is None else checkpoint_as_of(ledger, at)[0]
        size = checkpoint.checkpoint.size
        source = EntrySet(size, at, loader=LedgerLoader(ledger.conn, size), limit=limit)
        report = derive(source, gtin, batch, policy)
    return report, source, checkpoint


def trace_product(
    ledger: Any, gtin: str, batch: str, *, at: str | None = None, policy: Policy | None = None
) -> TraceReport:
    """The trace of ``(gtin, batch)`` as of ``at`` (entries recorded on or before that day),
    under ``policy`` (default: ``<home>/policy.json``). Raises ``NotFound`` for an unknown
    product, ``InvalidField`` for a malformed GTIN, batch or date."""
    return collect(ledger, gtin, batch, at=at, policy=policy)[0]
