"""Steps judged on two dates: late records and records dated back past an audit (SPEC §6).

A step is judged on its event date. It is also judged on the day it was recorded when
- it is a *late record*: recorded more than the policy's ``late_record_days`` after its date;
- or it is *dated back*: when it was recorded, the ledger already held an audit of its
  facility dated after the step's date, so the step was written knowing that audit and
  dated before it (a farm whose audit failed recording today a harvest dated inside its
  older "pass").
The worse of the two judgements counts; a late record is always named, a dated-back one
when the day it was recorded judges it worse.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from ledger.trace.compliance import ATTENTION, SERIOUS, Attestation, Finding

_RANK = {SERIOUS: 2, ATTENTION: 1}


def days_between(earlier: str, later: str) -> int:
    return (dt.date.fromisoformat(later) - dt.date.fromisoformat(earlier)).days


def second_date(
    date: str, recorded: str, seq: int, attestations: Sequence[Attestation], late_days: int
) -> tuple[str, str] | None:
    """``(recorded, why)`` if step ``seq`` dated ``date`` must also be judged on the day it
    was ``recorded``: why is ``"late"`` or ``"dated-back"``; else ``None``."""
    if days_between(date, recorded) > late_days:
        return recorded, "late"
    if any(a.revoked_by is None and a.seq < seq and date < a.audit_date <= recorded for a in attestations):
        return recorded, "dated-back"
    return None


def weight(findings: Sequence[Finding]) -> tuple[int, int, int]:
    """How bad a judgement is: its worst severity, then its serious and attention counts."""
    worst = max((_RANK.get(f.severity, 0) for f in findings), default=0)
    return worst, sum(f.severity == SERIOUS for f in findings), sum(f.severity == ATTENTION for f in findings)


def finding(
    why: str, party: str, seq: int, who: str, what: str, date: str, recorded: str, worse: bool, late_days: int
) -> Finding | None:
    """The finding that names a step judged on two dates (``None`` for a dated-back step whose
    recording day judged it no worse)."""
    counted = (
        "judged on the day it was recorded, it fares worse, and that judgement counts"
        if worse
        else "judged on both dates, it fares no worse on the later one"
    )
    if why == "late":
        gap = days_between(date, recorded)
        return Finding(
            ATTENTION,
            "late-record",
            party,
            f"Late record: the {what} by {who} (entry {seq}) is dated {date} but was recorded on "
            f"{recorded}, {gap} days later (the policy allows {late_days}); {counted}.",
            seq,
        )
    if not worse:
        return None
    return Finding(
        ATTENTION,
        "dated-back",
        party,
        f"Dated back: the {what} by {who} (entry {seq}) was recorded on {recorded}, when a later "
        f"audit of {who} was already on record, yet it is dated {date}, before that audit; "
        f"{counted}.",
        seq,
    )
