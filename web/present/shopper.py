"""The shopper's page in plain words, from the trace JSON of docs/trace-format.md.

``shopper_view(trace)`` turns the report into what the template shows: the verdict headed
by what was found, the journey from raw material to product (one group per tier), each
facility's labour status as the auditor gave it, the origins with their shares, and the
corrections. No HTML here: the template escapes every value.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from web.present import words as w


@dataclass
class AuditView:
    tone: str  # "ok", "warn" or "bad"
    headline: str
    details: list[str] = field(default_factory=list)
    seq: int | None = None


@dataclass
class PartyRef:
    id: str
    name: str
    role: str


@dataclass
class StepView:
    seq: int
    kind: str
    tier: int
    what: str
    how_much: str
    where: str
    when: str
    date: str
    party: PartyRef
    audit: AuditView | None
    revoked: bool


@dataclass
class Point:
    tone: str
    text: str


@dataclass
class VerdictView:
    key: str  # compliant, attention, non-compliant
    tone: str
    heading: str
    lede: str
    points: list[Point]


@dataclass
class OriginView:
    seq: int
    material: str
    party: PartyRef
    where: str
    produced_on: str
    how_much: str
    share: str


@dataclass
class ShopperView:
    name: str
    description: str | None
    brand: PartyRef
    gtin: str
    batch: str
    verdict: VerdictView
    steps: list[StepView]
    origins: list[OriginView]
    corrections: list[str]
    as_of: str | None


def party_ref(trace: dict[str, Any], pid: str | None) -> PartyRef:
    info = trace.get("parties", {}).get(pid or "", {})
    return PartyRef(pid or "", info.get("name") or pid or "unknown", info.get("role", ""))


def party_name(trace: dict[str, Any], pid: str | None) -> str:
    return party_ref(trace, pid).name


def audit_view(trace: dict[str, Any], audit: dict[str, Any] | None) -> AuditView | None:
    """A facility's labour status: the outcome as the auditor gave it, then what it found."""
    if not audit:
        return None
    status = audit.get("status")
    issuer = party_name(trace, audit.get("issuer")) if audit.get("issuer") else None
    standard = audit.get("standard")
    by = f" by {issuer}" if issuer else ""
    to = f" to {standard}" if standard and standard != "self-assessment" else ""
    seq = audit.get("seq")
    if status == "not-required":
        return None
    if status == "missing":
        return AuditView("warn", "No valid audit: no labour audit of this facility is on record", seq=seq)
    if status == "expired":
        return AuditView(
            "warn",
            f"No valid audit: the last one{by}{to} expired on {w.date(audit.get('valid_until'))}",
            seq=seq,
        )
    if status == "revoked":
        return AuditView("warn", f"No valid audit: the audit{by} was withdrawn", seq=seq)
    present = [w.found(i) for i in audit.get("present", [])]
    outcome = audit.get("outcome", "pass")
    details: list[str] = []
    if audit.get("self_assessment"):
        who = f"Self-assessed{to} on {w.date(audit.get('audit_date'))} (not an independent audit)"
    else:
        who = f"Audited{by}{to} on {w.date(audit.get('audit_date'))}"
    valid = f", valid until {w.date(audit.get('valid_until'))}" if audit.get("valid_until") else ""
    if outcome == "fail":
        headline = "Audit failed" + (f": {w.join(present)}" if present else "")
        details.append(f"{who}{valid}.")
        tone = "bad"
    else:
        headline = f"{who}{valid}: {w.OUTCOME_NAME.get(outcome, outcome)}"
        if present:
            details.append(f"It found that {w.join(present)}.")
        tone = "bad" if present else ("warn" if outcome == "conditional" else "ok")
    details.extend(str(f) for f in audit.get("findings", []))
    not_assessed = [w.indicator_name(i) for i in audit.get("not_assessed", [])]
    if not_assessed:
        details.append(f"Not checked: {w.join(not_assessed)}.")
    return AuditView(tone, headline, details, seq)


def _lines(lines: list[dict[str, Any]], with_material: bool = True) -> str:
    parts = []
    for line in lines:
        text = w.amount(line.get("amount"), line.get("unit"))
        if with_material and line.get("material"):
            text += f" of {line['material']}"
        parts.append(text)
    return w.join(parts)


def lot_materials(trace: dict[str, Any]) -> dict[str, str]:
    out = {o.get("lot", ""): o.get("material", "") for o in trace.get("origins", [])}
    for step in trace.get("steps", []):
        for line in step.get("outputs", []):
            if line.get("material"):
                out[line.get("lot", "")] = line["material"]
    return out


def step_view(
    trace: dict[str, Any], step: dict[str, Any], materials: dict[str, str] | None = None
) -> StepView:
    kind = step.get("kind", "")
    inputs, outputs = step.get("inputs", []), step.get("outputs", [])
    if materials:
        inputs = [{"material": materials.get(x.get("lot", ""), ""), **x} for x in inputs]
        outputs = [{"material": materials.get(x.get("lot", ""), ""), **x} for x in outputs]
    if kind == "origin":
        material = step.get("material") or (outputs[0].get("material") if outputs else "") or "Raw material"
        what = f"{w.sentence(material)} produced"
        how_much = _lines(outputs, with_material=False)
    elif kind == "transformation":
        what = w.sentence(step.get("process") or "Processing")
        how_much = f"{_lines(inputs)} into {_lines(outputs)}" if inputs else _lines(outputs)
    elif kind == "shipment":
        what = f"Shipped to {party_name(trace, step.get('to'))}"
        how_much = _lines(outputs or inputs)
    elif kind == "product":
        what = f"Made into {trace.get('product', {}).get('name', 'the product')}"
        how_much = f"Batch {trace.get('product', {}).get('batch', '')}, from {_lines(inputs)}"
    else:
        what, how_much = w.sentence(kind), ""
    return StepView(
        seq=step.get("seq", -1),
        kind=kind,
        tier=step.get("tier", 0),
        what=what,
        how_much=how_much,
        where=w.place(step.get("country"), step.get("region")),
        when=w.date(step.get("date")),
        date=str(step.get("date") or ""),
        party=party_ref(trace, step.get("party")),
        audit=audit_view(trace, step.get("audit")),
        revoked=bool(step.get("revoked")),
    )


Index = tuple[list[int], list[dict[str, Any]]]  # seqs in order, and the steps they belong to


def journey_order(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Steps from raw material to product with each supply branch kept together: a
    depth-first walk up from the product, each step after the steps that fed it (for each
    input lot, the latest earlier step that handed that lot to this step's party)."""

    def lots(step: dict[str, Any], side: str) -> list[str]:
        return [line.get("lot", "") for line in step.get(side, [])]

    def holder(step: dict[str, Any]) -> str | None:
        return step.get("to") if step.get("kind") == "shipment" else step.get("party")

    ordered = sorted(steps, key=lambda s: s.get("seq", 0))
    out: list[dict[str, Any]] = []
    seen: set[int] = set()

    # output lot -> its makers in seq order, all and per holder, to find a feeder by bisection
    makers: dict[str, Index] = {}
    held: dict[tuple[str, str | None], Index] = {}
    for s in ordered:
        for lot in lots(s, "outputs"):
            for index in (makers.setdefault(lot, ([], [])), held.setdefault((lot, holder(s)), ([], []))):
                index[0].append(s.get("seq", 0))
                index[1].append(s)

    def latest_before(index: Index | None, seq: int) -> dict[str, Any] | None:
        if index is None:
            return None
        n = bisect.bisect_left(index[0], seq)
        return index[1][n - 1] if n else None

    def feeder(step: dict[str, Any], lot: str) -> dict[str, Any] | None:
        seq = step.get("seq", 0)
        return latest_before(held.get((lot, step.get("party"))), seq) or latest_before(makers.get(lot), seq)

    def feeders(step: dict[str, Any]) -> Iterator[dict[str, Any]]:
        found = {id(f): f for lot in lots(step, "inputs") if (f := feeder(step, lot))}
        return iter(sorted(found.values(), key=lambda s: s.get("seq", 0)))

    def visit(root: dict[str, Any]) -> None:
        """Depth-first, each step after its feeders; iterative, so any chain depth works."""
        if id(root) in seen:
            return
        seen.add(id(root))
        stack = [(root, feeders(root))]
        while stack:
            step, pending = stack[-1]
            for f in pending:
                if id(f) not in seen:
                    seen.add(id(f))
                    stack.append((f, feeders(f)))
                    break
            else:
                stack.pop()
                out.append(step)

    for root in [s for s in ordered if s.get("tier", 0) == 0]:
        visit(root)
    rest = [s for s in ordered if id(s) not in seen]
    return sorted(rest, key=lambda s: (-s.get("tier", 0), s.get("seq", 0))) + out


def journey(trace: dict[str, Any]) -> list[StepView]:
    """The timeline; an audit is said once per run of consecutive steps at one facility."""
    views: list[StepView] = []
    previous: tuple[Any, ...] | None = None
    materials = lot_materials(trace)
    for step in journey_order(trace.get("steps", [])):
        view = step_view(trace, step, materials)
        key = (view.party.id, view.audit.seq, view.audit.headline) if view.audit else None
        if key is not None and key == previous:
            view.audit = None
        previous = key if key is not None else (view.party.id, None, None)
        views.append(view)
    return views


FOUND_CODES = {"audit-failed", "indicator-present"}
GAP_CODES = {"attestation-revoked", "attestation-expired", "no-attestation"}
AUDIT_CODES = FOUND_CODES | GAP_CODES | {"audit-conditional", "self-assessment", "indicators-not-assessed"}


def facility_points(trace: dict[str, Any]) -> list[Point]:
    """What needs saying about each facility's labour audits, in journey order, once each."""
    steps = journey_order(trace.get("steps", []))
    points: dict[str, Point] = {}

    def add(tone: str, text: str) -> None:
        points.setdefault(text, Point(tone, text))

    for step in steps:
        audit = step.get("audit") or {}
        status, name = audit.get("status"), party_name(trace, step.get("party"))
        if status == "missing":
            add("warn", f"{name}: no labour audit on record for the time of its work")
        elif status == "expired":
            add(
                "warn",
                f"{name}: no valid labour audit (the last one expired on {w.date(audit.get('valid_until'))})",
            )
        elif status == "revoked":
            add("warn", f"{name}: its labour audit was withdrawn")
        elif status == "valid":
            present = [w.found(i) for i in audit.get("present", [])]
            it_found = f"; it found that {w.join(present)}" if present else ""
            outcome = audit.get("outcome")
            if outcome == "fail":
                add("bad", f"{name}: audit failed{it_found}")
            elif outcome == "conditional":
                add(
                    "bad" if present else "warn",
                    f"{name}: passed its audit with conditions{it_found}",
                )
            elif present:
                add("bad", f"{name}: passed its audit, but it found that {w.join(present)}")
            if audit.get("self_assessment"):
                add("warn", f"{name}: only a self-assessment, no independent audit")
            if audit.get("not_assessed"):
                names = [w.indicator_name(i) for i in audit["not_assessed"]]
                add("warn", f"{name}: the audit did not check for {w.join(names)}")
    return list(points.values())


def verdict_view(trace: dict[str, Any]) -> VerdictView:
    """The verdict in plain words. What an audit found heads the verdict; a missing or
    expired audit says "not verified", never "forced labour"."""
    key = trace.get("verdict", "attention")
    findings = trace.get("findings", [])
    codes = {f.get("code") for f in findings}
    points = facility_points(trace)
    for f in findings:
        if f.get("code") not in AUDIT_CODES and f.get("severity") in ("serious", "attention"):
            tone = "bad" if f.get("severity") == "serious" else "warn"
            if all(p.text != f.get("message") for p in points):
                points.append(Point(tone, str(f.get("message", ""))))
    if "product-revoked" in codes:
        heading = "This product record was withdrawn"
        lede = (
            "The declaration of this batch was withdrawn on the ledger, so nothing here "
            "vouches for it any more. The corrections below say why."
        )
        tone = "bad"
        points = []
    elif codes & FOUND_CODES:
        first = next(f for f in findings if f.get("code") in FOUND_CODES)
        name = party_name(trace, first.get("party"))
        indicators = list(
            dict.fromkeys(
                f["indicator"]
                for f in findings
                if f.get("code") == "indicator-present"
                and f.get("indicator")
                and f.get("party") == first.get("party")
            )
        )
        if indicators:
            heading = f"{w.sentence(w.join([w.found(i) for i in indicators]))} at {name}"
            lede = "An audit on this product's journey found signs of forced labour."
        else:
            heading = f"Labour audit failed at {name}"
            lede = "A facility on this product's journey failed its labour audit."
        tone = "bad"
    elif codes & GAP_CODES:
        heading = "Not verified: labour audits missing"
        lede = (
            "Not every facility on this product's journey had a valid labour audit when it "
            "did its work, so we cannot say how all of its workers were treated."
        )
        tone = "warn"
    elif key == "non-compliant":
        heading, lede, tone = "Serious concerns found", "See what was found below.", "bad"
    elif key == "attention":
        heading = "Partly verified"
        lede = "Every facility on this product's journey has a valid labour audit, with points to note below."
        tone = "warn"
    else:
        heading = "Fair labour verified"
        lede = (
            "Every facility on this product's journey holds a valid labour audit, and none "
            "found signs of forced labour."
        )
        tone = "ok"
    return VerdictView(key, tone, heading, lede, points)


def origin_views(trace: dict[str, Any]) -> list[OriginView]:
    return [
        OriginView(
            seq=o.get("seq", -1),
            material=o.get("material", ""),
            party=party_ref(trace, o.get("party")),
            where=w.place(o.get("country"), o.get("region")),
            produced_on=w.date(o.get("produced_on")),
            how_much=w.amount(o.get("amount"), o.get("unit")),
            share=w.percent(o.get("share")),
        )
        for o in sorted(trace.get("origins", []), key=lambda o: -float(o.get("share") or 0))
    ]


def corrections(trace: dict[str, Any]) -> list[str]:
    return [
        f"Entry {c.get('revoked')} was withdrawn by entry {c.get('by')}: {c.get('reason', '')}"
        for c in trace.get("corrections", [])
    ]


def shopper_view(trace: dict[str, Any]) -> ShopperView:
    product = trace.get("product", {})
    return ShopperView(
        name=product.get("name", ""),
        description=product.get("description"),
        brand=party_ref(trace, product.get("brand")),
        gtin=product.get("gtin", ""),
        batch=product.get("batch", ""),
        verdict=verdict_view(trace),
        steps=journey(trace),
        origins=origin_views(trace),
        corrections=corrections(trace),
        as_of=w.date(trace.get("as_of")) if trace.get("as_of") else None,
    )
