"""Plain words for the ledger's codes: dates, amounts, roles, ILO indicators.

Everything a shopper reads goes through here, so "retention_of_identity_documents"
becomes "workers' identity documents were retained" and "2026-03-12" becomes "12 Mar 2026".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from web.present.countries import country_name

# What an auditor found, as a sentence about the workers (ILO's 11 indicators).
INDICATOR_FOUND = {
    "abuse_of_vulnerability": "workers' vulnerability was abused",
    "deception": "workers were deceived about their work",
    "restriction_of_movement": "workers' freedom of movement was restricted",
    "isolation": "workers were kept isolated",
    "physical_and_sexual_violence": "workers suffered physical or sexual violence",
    "intimidation_and_threats": "workers were intimidated or threatened",
    "retention_of_identity_documents": "workers' identity documents were retained",
    "withholding_of_wages": "workers' wages were withheld",
    "debt_bondage": "workers were held in debt bondage",
    "abusive_working_and_living_conditions": "working and living conditions were abusive",
    "excessive_overtime": "workers were made to work excessive overtime",
}

# The indicator as a short noun, for "not checked: …" lists.
INDICATOR_NAME = {
    "abuse_of_vulnerability": "abuse of vulnerability",
    "deception": "deception",
    "restriction_of_movement": "restriction of movement",
    "isolation": "isolation",
    "physical_and_sexual_violence": "physical and sexual violence",
    "intimidation_and_threats": "intimidation and threats",
    "retention_of_identity_documents": "retention of identity documents",
    "withholding_of_wages": "withholding of wages",
    "debt_bondage": "debt bondage",
    "abusive_working_and_living_conditions": "abusive working and living conditions",
    "excessive_overtime": "excessive overtime",
}

ROLE_NAME = {
    "operator": "ledger operator",
    "farm": "farm",
    "mine": "mine",
    "processor": "processor",
    "manufacturer": "manufacturer",
    "trader": "trader",
    "brand": "brand",
    "auditor": "auditor",
}

OUTCOME_NAME = {"pass": "passed", "conditional": "passed with conditions", "fail": "failed"}

TYPE_NAME = {
    "genesis": "Ledger created",
    "inception": "Party incepted",
    "admission": "Party admitted",
    "rotation": "Keys rotated",
    "profile": "Profile updated",
    "suspension": "Party suspended",
    "reinstatement": "Party reinstated",
    "labor-attestation": "Labour audit",
    "material-origin": "Raw material produced",
    "transformation": "Processing",
    "shipment": "Shipment",
    "product": "Product declared",
    "revocation": "Correction (revocation)",
}


def found(indicator: str) -> str:
    return INDICATOR_FOUND.get(indicator, indicator.replace("_", " "))


def indicator_name(indicator: str) -> str:
    return INDICATOR_NAME.get(indicator, indicator.replace("_", " "))


def date(text: str | None) -> str:
    """'2026-03-12' (or an RFC 3339 time) as '12 Mar 2026'; anything else unchanged."""
    if not text:
        return ""
    try:
        d = dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{d.day} {d:%b %Y}"


def amount(value: str | None, unit: str | None = None) -> str:
    """'1250.5', 'kg' as '1,250.5 kg'."""
    if value is None:
        return ""
    try:
        d = Decimal(value)
    except InvalidOperation:
        return f"{value} {unit or ''}".strip()
    whole, _, frac = value.partition(".")
    text = f"{int(d):,}" if not frac else f"{int(Decimal(whole)):,}.{frac}"
    return f"{text} {unit}" if unit else text


def percent(share: str | None) -> str:
    """A share '0.625' as '63%' (or '<1%' for a trace of a share)."""
    if share is None:
        return ""
    try:
        p = Decimal(share) * 100
    except InvalidOperation:
        return share
    if 0 < p < 1:
        return "<1%"
    return f"{p.quantize(Decimal(1)):f}%"


def place(country: str | None, region: str | None = None) -> str:
    if not country:
        return ""
    name = country_name(country)
    return f"{region}, {name}" if region else name


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def join(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
