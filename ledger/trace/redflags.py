"""Red flags a brand's due diligence expects, each a finding with its reason (issue 14).

- Output beyond the workforce: a step claims more than the workers of the facility's audit
  in force could make at the policy's rate (``workforce_rates``).
- A new auditor after a failure: the audit in force passes, by an auditor that had never
  audited the facility, within a year of another auditor's failing audit of it.
- An origin country that differs from the producer's registered country.
(An origin in a policy-listed high-risk region is ``compliance.origin_findings``.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ledger.trace.compliance import ATTENTION, Attestation, Finding
from ledger.trace.policy import Policy, names_match

AUDITOR_SWITCH_DAYS = 365


def _plain(d: Decimal) -> str:
    return "0" if d == 0 else format(d.normalize(), "f")


def workforce(
    step: dict[str, Any], current: Attestation | None, policy: Policy, name: Callable[[str], str]
) -> list[Finding]:
    """Outputs of ``step`` (an origin or transformation) beyond what the workers counted by
    the audit in force (``current``) can make at the policy's rates."""
    if current is None or current.workers is None or step["kind"] not in ("origin", "transformation"):
        return []
    out = []
    process = step.get("process", "")
    for rate in policy.workforce_rates:
        if rate.process is not None and not (
            step["kind"] == "transformation" and names_match(process, rate.process)
        ):
            continue
        lines = [
            o
            for o in step["outputs"]
            if o["unit"] == rate.unit and (rate.material is None or names_match(o["material"], rate.material))
        ]
        if not lines:
            continue
        made = sum((Decimal(o["amount"]) for o in lines), Decimal(0))
        can = rate.per_worker_per_day * current.workers * rate.days
        if made > can:
            days = "a day" if rate.days == 1 else f"{rate.days} days"
            why = f" ({rate.reason})" if rate.reason else ""
            out.append(
                Finding(
                    rate.severity,
                    "beyond-workforce",
                    step["party"],
                    f"{name(step['party'])} claims {_plain(made)} {rate.unit} in one step (entry "
                    f"{step['seq']}, {step['date']}), but its {current.workers} workers (audit entry "
                    f"{current.seq}) can make at most {_plain(can)} {rate.unit} in {days} at the "
                    f"policy's rate of {_plain(rate.per_worker_per_day)} {rate.unit} per worker per "
                    f"day{why}.",
                    step["seq"],
                    attestation=current.seq,
                )
            )
    return out


def auditor_switch(
    facility: str,
    current: Attestation | None,
    attestations: Sequence[Attestation],
    name: Callable[[str], str],
) -> Finding | None:
    """A failing audit within a year before the audit in force, which passes by a new auditor."""
    if current is None or current.outcome == "fail" or current.self_assessment:
        return None
    start = (dt.date.fromisoformat(current.audit_date) - dt.timedelta(days=AUDITOR_SWITCH_DAYS)).isoformat()
    live = [a for a in attestations if a.revoked_by is None and not a.self_assessment]
    fails = [
        a
        for a in live
        if a.outcome == "fail" and a.issuer != current.issuer and start <= a.audit_date <= current.audit_date
    ]
    if not fails:
        return None
    failed = max(fails, key=Attestation.rank)
    known = any(a.issuer == current.issuer and a.audit_date < failed.audit_date for a in live)
    if known:
        return None
    return Finding(
        ATTENTION,
        "new-auditor-after-failure",
        facility,
        f"{name(facility)} failed its labour audit by {name(failed.issuer)} on {failed.audit_date} "
        f"(entry {failed.seq}) and now passes with a new auditor, {name(current.issuer)}, on "
        f"{current.audit_date} (entry {current.seq}), within a year: audit shopping is a known way "
        "around a failure.",
        attestation=current.seq,
    )


def region_elsewhere(
    policy: Policy,
    party: str,
    seq: int,
    lot: str,
    countries: set[str],
    region: str,
    name: Callable[[str], str],
) -> list[Finding]:
    """A region named like a policy's high-risk region of another country than the origin's
    (declared or registered) ones: "KZ/Xinjiang" from a farm registered in KZ."""
    out = []
    for r in policy.high_risk_regions:
        if not (r.region and r.country) or r.country in countries:
            continue
        if any(names_match(region, n) for n in (r.region, *r.aliases)):
            why = f" ({r.reason})" if r.reason else ""
            out.append(
                Finding(
                    ATTENTION,
                    "high-risk-region-elsewhere",
                    party,
                    f"Lot {lot} by {name(party)} names the region {region!r}, which the policy lists "
                    f"as the high-risk region {r.label}{why}, but declares it in "
                    f"{' / '.join(sorted(c for c in countries if c))} (entry {seq}).",
                    seq,
                )
            )
    return out


def origin_country(
    party: str, seq: int, lot: str, country: str, registered: str, name: Callable[[str], str]
) -> Finding | None:
    """An origin declared in another country than its producer is registered in."""
    if not registered or registered == country:
        return None
    return Finding(
        ATTENTION,
        "origin-country-mismatch",
        party,
        f"Lot {lot} is declared to come from {country}, but its producer {name(party)} is "
        f"registered in {registered} (entry {seq}).",
        seq,
    )
