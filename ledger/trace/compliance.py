"""Judging facilities: the labour attestation in force on a date, findings, the verdict.

Pure functions over values read from entries (SPEC §6 ``labor-attestation``): nothing here
touches a database, so the live trace and the offline bundle verifier judge identically.

The attestation in force for a facility on a date is, among its non-revoked attestations
with ``audit_date <= date <= valid_until``, the one with the latest ``audit_date``, with two
refinements the rule leaves open: same-day audits rank the worst outcome first (fail,
conditional, pass), then the most indicators present, then the latest entry, so a pass
recorded after a same-day failure cannot hide it; and a self-assessment can only make the
picture worse: when the latest is the facility's own and a third-party audit also in force
found worse (a worse outcome, or more indicators present), that audit stands. A facility's
own admission of a failure counts; its own "pass" cannot clear an auditor's failure. An
attestation is a self-assessment when its standard says so or the facility signed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.model.fields import ILO_INDICATORS
from ledger.model.statements import Entry
from ledger.trace.policy import Policy

SERIOUS, ATTENTION, INFO = "serious", "attention", "info"
OUTCOME_RANK = {"pass": 0, "conditional": 1, "fail": 2}
JUDGED_KINDS = ("origin", "transformation", "shipment")

Names = Callable[[str], str]  # party id -> "Name (id)"


@dataclass(frozen=True)
class Finding:
    """One thing a brand must know about a step, in plain words naming the facility."""

    severity: str
    code: str
    party: str
    message: str
    seq: int | None = None  # the step (or entry) the finding is about
    indicator: str | None = None
    attestation: int | None = None  # the attestation entry it rests on, if any

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "code": self.code, "party": self.party}
        if self.seq is not None:
            out["seq"] = self.seq
        if self.indicator is not None:
            out["indicator"] = self.indicator
        if self.attestation is not None:
            out["attestation"] = self.attestation
        out["message"] = self.message
        return out


@dataclass(frozen=True)
class Attestation:
    """A ``labor-attestation`` entry, with its revocation if there is one."""

    seq: int
    facility: str
    issuer: str
    standard: str
    audit_date: str
    valid_until: str
    outcome: str
    indicators: tuple[tuple[str, str], ...]
    findings: tuple[str, ...]
    revoked_by: int | None = None
    revoke_reason: str | None = None
    workers: int | None = None
    recorded: str = ""  # the day the attestation was recorded

    @classmethod
    def from_entry(cls, entry: Entry, revocation: Entry | None = None) -> Attestation:
        st = entry.statement
        b = st.body
        return cls(
            entry.seq,
            b["facility"],
            st.issuer,
            b["standard"],
            b["audit_date"],
            b["valid_until"],
            b["outcome"],
            tuple((k, b["indicators"][k]) for k in ILO_INDICATORS),
            tuple(b["findings"]),
            revocation.seq if revocation else None,
            revocation.statement.body["reason"] if revocation else None,
            b.get("workers"),
            entry.recorded_at[:10],
        )

    @property
    def self_assessment(self) -> bool:
        plain = "".join(c for c in self.standard.casefold() if c.isalnum())
        return self.issuer == self.facility or plain in ("selfassessment", "selfassessed")

    def with_value(self, value: str) -> list[str]:
        return [k for k, v in self.indicators if v == value]

    def covers(self, date: str) -> bool:
        return self.audit_date <= date <= self.valid_until

    def rank(self) -> tuple[str, int, int, int]:
        """Latest audit first; on one day, the worst outcome, then the most indicators present."""
        return (self.audit_date, *self.severity(), self.seq)

    def severity(self) -> tuple[int, int]:
        return OUTCOME_RANK[self.outcome], len(self.with_value("present"))

    def describe(self, names: Names) -> str:
        who = "self-assessment" if self.self_assessment else f"by {names(self.issuer)}"
        return f"{self.standard} audit {who}, entry {self.seq}, audited {self.audit_date}"


def in_force(attestations: Sequence[Attestation], date: str) -> Attestation | None:
    """The attestation in force on ``date`` (module docstring), or ``None``."""
    live = [a for a in attestations if a.revoked_by is None and a.covers(date)]
    latest = max(live, key=Attestation.rank, default=None)
    if latest is not None and latest.self_assessment:
        worse = [a for a in live if not a.self_assessment and a.severity() > latest.severity()]
        if worse:
            return max(worse, key=Attestation.rank)
    return latest


def indicator_words(key: str) -> str:
    return key.replace("_", " ")


@dataclass(frozen=True)
class Step:
    """What the judge needs to know of a step."""

    seq: int
    kind: str
    party: str
    date: str
    what: str  # "transformation 'spinning'", "shipment of lot X to Y", …


def judge(
    step: Step, attestations: Sequence[Attestation], names: Names
) -> tuple[dict[str, Any], list[Finding]]:
    """The step's ``audit`` object (docs/trace-format.md) and its findings."""
    if step.kind not in JUDGED_KINDS:
        return _audit("not-required"), []
    who, on = names(step.party), f"on {step.date} ({step.what}, entry {step.seq})"
    current = in_force(attestations, step.date)
    if current is None:
        return _no_attestation(step, attestations, names, who, on)
    audit = _audit("valid", current)
    audit["present"] = current.with_value("present")
    audit["not_assessed"] = current.with_value("not-assessed")
    audit["findings"] = list(current.findings)
    found: list[Finding] = []

    def add(severity: str, code: str, message: str, indicator: str | None = None) -> None:
        found.append(Finding(severity, code, step.party, message, step.seq, indicator, current.seq))

    basis = current.describe(names)
    if current.outcome == "fail":
        present = ", ".join(audit["present"]) or "none"
        noted = "; ".join(current.findings)
        add(
            SERIOUS,
            "audit-failed",
            f"{who} failed its labour audit in force {on}: {basis}; ILO indicators present: "
            f"{present}" + (f"; the auditor found: {noted}." if noted else "."),
        )
    for key in audit["present"]:
        add(
            SERIOUS,
            "indicator-present",
            f"ILO forced-labour indicator '{key}' ({indicator_words(key)}) is present at {who} "
            f"{on}: {basis}.",
            key,
        )
    if current.outcome == "conditional":
        add(
            ATTENTION, "audit-conditional", f"{who} passed its labour audit only conditionally {on}: {basis}."
        )
    if current.self_assessment:
        add(
            ATTENTION,
            "self-assessment",
            f"{who} has only a self-assessment of its labour conditions {on}, no third-party audit: {basis}.",
        )
    if audit["not_assessed"]:
        listed = ", ".join(audit["not_assessed"])
        add(
            ATTENTION,
            "indicators-not-assessed",
            f"{who}'s labour audit in force {on} did not assess {len(audit['not_assessed'])} ILO "
            f"forced-labour indicator(s): {listed}; {basis}.",
        )
    return audit, found


def _audit(status: str, a: Attestation | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"status": status}
    if a is not None:
        out.update(
            seq=a.seq,
            issuer=a.issuer,
            standard=a.standard,
            audit_date=a.audit_date,
            valid_until=a.valid_until,
            outcome=a.outcome,
            self_assessment=a.self_assessment,
        )
    out.update(present=[], not_assessed=[], findings=[])
    return out


def _no_attestation(
    step: Step, attestations: Sequence[Attestation], names: Names, who: str, on: str
) -> tuple[dict[str, Any], list[Finding]]:
    """Why nothing is in force: a revoked audit that would have been, an expired one, or none."""
    revoked = [a for a in attestations if a.revoked_by is not None and a.covers(step.date)]
    if revoked:
        a = max(revoked, key=Attestation.rank)
        reason = f": {a.revoke_reason}" if a.revoke_reason else ""
        msg = (
            f"No labour attestation is in force for {who} {on}: the {a.describe(names)}, which "
            f"covered that date, was revoked by entry {a.revoked_by}{reason}."
        )
        return _audit("revoked", a), [
            Finding(SERIOUS, "attestation-revoked", step.party, msg, step.seq, None, a.seq)
        ]
    live = [a for a in attestations if a.revoked_by is None]
    expired = [a for a in live if a.valid_until < step.date]
    if expired:
        a = max(expired, key=lambda x: (x.valid_until, x.audit_date, x.seq))
        msg = (
            f"No labour attestation is in force for {who} {on}: its latest audit "
            f"({a.describe(names)}) expired on {a.valid_until}, before this step."
        )
        return _audit("expired", a), [
            Finding(SERIOUS, "attestation-expired", step.party, msg, step.seq, None, a.seq)
        ]
    later = [a for a in live if a.audit_date > step.date]
    if later:
        first = min(later, key=lambda x: (x.audit_date, x.seq))
        detail = f"its first audit (entry {first.seq}) is dated {first.audit_date}, after this step"
    else:
        detail = "the ledger holds no labour attestation for it"
    msg = f"No labour attestation is in force for {who} {on}: {detail}."
    return _audit("missing"), [Finding(SERIOUS, "no-attestation", step.party, msg, step.seq)]


def origin_findings(
    policy: Policy,
    party: str,
    seq: int,
    lot: str,
    material: str,
    country: str,
    region: str | None,
    names: Names,
) -> list[Finding]:
    """Findings for a material origin in a high-risk region (``policy``)."""
    place = f"{region}, {country}" if region else country
    out: list[Finding] = []
    for r in policy.match(country, region):
        why = f" ({r.reason})" if r.reason else ""
        out.append(
            Finding(
                r.severity,
                "high-risk-origin",
                party,
                f"Lot {lot} ({material}) produced by {names(party)} comes from {place}, in the "
                f"high-risk region {r.label}{why} (entry {seq}).",
                seq,
            )
        )
    for r in policy.unresolved(country, region):
        out.append(
            Finding(
                INFO,
                "high-risk-region-unresolved",
                party,
                f"Lot {lot} ({material}) produced by {names(party)} comes from {country} without a "
                f"region, so the high-risk region {r.label} cannot be ruled out (entry {seq}).",
                seq,
            )
        )
    return out


def verdict(findings: Sequence[Finding]) -> str:
    """non-compliant if any finding is serious, attention if any needs attention, else compliant."""
    severities = {f.severity for f in findings}
    if SERIOUS in severities:
        return "non-compliant"
    if ATTENTION in severities:
        return "attention"
    return "compliant"
