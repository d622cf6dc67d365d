"""Yields: what a transformation may make of its inputs (issue 14; policy ``yields``).

- Mass gained in one unit (10 kg in, 12 kg out) is always serious: no process makes mass.
- A policy bound on the output/input ratio of a process or material pair (ginning: lint at
  most 0.40 of seed cotton) is checked, with the bound's severity (serious by default).
- A conversion between units (kg of yarn to pcs of shirts) that no bound of the policy
  covers is flagged for attention: nothing in the ledger says how many shirts a kilogram
  makes, so a brand must know the conversion is plausible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ledger.trace.compliance import ATTENTION, SERIOUS, Finding
from ledger.trace.policy import Policy, names_match
from ledger.trace.policy_claims import YieldBound


def totals(lines: list[dict[str, Any]]) -> dict[str, Decimal]:
    """Amounts per unit."""
    out: dict[str, Decimal] = {}
    for line in lines:
        out[line["unit"]] = out.get(line["unit"], Decimal(0)) + Decimal(line["amount"])
    return out


# Units of mass the ledger knows, in kilograms: outputs and inputs in any of them are
# compared by mass (1 kg cannot become 1,000,000 g any more than 1,000 kg).
MASS_UNITS = {
    "mg": Decimal("0.000001"),
    "g": Decimal("0.001"),
    "kg": Decimal(1),
    "t": Decimal(1000),
    "tonne": Decimal(1000),
    "lb": Decimal("0.45359237"),
    "oz": Decimal("0.028349523125"),
}


def _same_measure(ins: dict[str, Decimal], outs: dict[str, Decimal]) -> list[tuple[str, Decimal, Decimal]]:
    """(unit, output total, input total) for each unit both sides use, masses together in kg."""
    pairs = [(u, outs[u], ins[u]) for u in sorted(set(ins) & set(outs)) if u not in MASS_UNITS]
    mass_in = sum((v * MASS_UNITS[u] for u, v in ins.items() if u in MASS_UNITS), Decimal(0))
    mass_out = sum((v * MASS_UNITS[u] for u, v in outs.items() if u in MASS_UNITS), Decimal(0))
    if mass_in and mass_out:
        pairs.append(("kg", mass_out, mass_in))
    return pairs


def _plain(d: Decimal) -> str:
    return "0" if d == 0 else format(d.normalize(), "f")


def _applies(bound: YieldBound, process: str) -> bool:
    return bound.process is None or names_match(process, bound.process)


def findings(
    step: dict[str, Any], materials: Mapping[str, str], policy: Policy, name: Callable[[str], str]
) -> list[Finding]:
    """Findings about the yields of transformation ``step`` (a trace step); ``materials``
    gives each input lot's material."""
    out: list[Finding] = []
    party, seq, process = step["party"], step["seq"], step.get("process", "")
    who, at = name(party), f"in its {process} (entry {seq})"
    ins, outs = totals(step["inputs"]), totals(step["outputs"])
    for unit, made, used in _same_measure(ins, outs):
        if made > used:
            out.append(
                Finding(
                    SERIOUS,
                    "mass-gained",
                    party,
                    f"{who} made {_plain(made)} {unit} of outputs from {_plain(used)} {unit} of "
                    f"inputs {at}: mass gained from nothing.",
                    seq,
                )
            )
    for bound in policy.yields:
        if _applies(bound, process):
            out += _check_bound(bound, step, materials, who, at)
    weighed = bool(set(ins) & set(MASS_UNITS))
    for unit in sorted(set(outs) - set(ins)):
        if weighed and unit in MASS_UNITS:
            continue  # kg to t is no conversion: the masses were compared above
        if not any(_knows(b, step, materials, unit) for b in policy.yields):
            sources = ", ".join(f"{_plain(v)} {u}" for u, v in sorted(ins.items()))
            out.append(
                Finding(
                    ATTENTION,
                    "unbounded-conversion",
                    party,
                    f"{who} made {_plain(outs[unit])} {unit} from {sources} {at}: the policy bounds no "
                    f"conversion to {unit} for this process, so nothing checks that the quantity is "
                    "plausible.",
                    seq,
                )
            )
    return out


def _lines(
    bound: YieldBound, step: dict[str, Any], materials: Mapping[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ins = [
        x
        for x in step["inputs"]
        if bound.input is None or names_match(materials.get(x["lot"], ""), bound.input)
    ]
    outs = [x for x in step["outputs"] if bound.output is None or names_match(x["material"], bound.output)]
    return ins, outs


def _knows(bound: YieldBound, step: dict[str, Any], materials: Mapping[str, str], unit: str) -> bool:
    """True if ``bound`` bounds this step's conversion into ``unit``."""
    if bound.output_unit != unit or bound.max is None or not _applies(bound, step.get("process", "")):
        return False
    ins, outs = _lines(bound, step, materials)
    return any(x["unit"] == bound.input_unit for x in ins) and any(x["unit"] == unit for x in outs)


def _check_bound(
    bound: YieldBound, step: dict[str, Any], materials: Mapping[str, str], who: str, at: str
) -> list[Finding]:
    ins, outs = _lines(bound, step, materials)
    have_in, have_out = totals(ins), totals(outs)
    if bound.input_unit is not None and bound.output_unit is not None:
        pairs = [(bound.input_unit, bound.output_unit)]
    else:
        pairs = [(u, u) for u in sorted(set(have_in) & set(have_out))]
    found = []
    for iu, ou in pairs:
        if not have_in.get(iu) or ou not in have_out:
            continue
        ratio = have_out[ou] / have_in[iu]
        what = f"{bound.output or 'output'} per {iu} of {bound.input or 'input'}"
        per = f"{ou} of {what}" if iu != ou else what.replace(f"per {iu} of ", "per unit of ")
        why = f" ({bound.reason})" if bound.reason else ""
        if bound.max is not None and ratio > bound.max:
            found.append((f"above the policy's maximum of {_plain(bound.max)}", ratio, per, why))
        if bound.min is not None and ratio < bound.min:
            found.append((f"below the policy's minimum of {_plain(bound.min)}", ratio, per, why))
    return [
        Finding(
            bound.severity,
            "yield-out-of-bounds",
            step["party"],
            f"{who} claims a yield of {_plain(ratio.quantize(Decimal('0.0001')))} {per} {at}, {limit}{why}.",
            step["seq"],
        )
        for limit, ratio, per, why in found
    ]
