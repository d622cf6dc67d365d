"""Realistic supply chains for the trace tests, the web tests and the benchmark.

``tee_chain`` builds a cotton T-shirt: a farm in Gujarat grows the cotton, a mill in Surat
spins it, a knitter in Dhaka makes the shirts, a brand in Germany declares the batch; a
third-party auditor audits each facility. Knobs add what a scenario needs (a second origin,
a trader, a label supplier in another unit, a high-risk region); tests add audits and
revocations with the returned ``Chain.b`` (a ``ledger.builder.Builder``).

``bench_product`` builds a product 6 tiers deep over 50 origin lots, for scripts/bench.py.

Read-only for other test modules: import and call, don't change what exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

ORIGIN = "trace.example/ledger"
AUDITOR = "veritas-audits"
FARM, FARM2, MILL, KNITTER = "kutch-cotton", "amreli-organic", "surat-spinning", "dhaka-knit"
TRADER, LABELS, BRAND = "gulf-trading", "shenzhen-labels", "acme-apparel"
PARTIES = {
    AUDITOR: ("Veritas Social Audits", "auditor", "FR"),
    FARM: ("Kutch Cotton Growers", "farm", "IN"),
    FARM2: ("Amreli Organic Farms", "farm", "IN"),
    MILL: ("Surat Spinning Mills", "processor", "IN"),
    KNITTER: ("Dhaka Knitwear", "manufacturer", "BD"),
    TRADER: ("Gulf Textile Trading", "trader", "AE"),
    LABELS: ("Shenzhen Label Works", "processor", "CN"),
    BRAND: ("Acme Apparel", "brand", "DE"),
}
FACILITIES = (FARM, MILL, KNITTER)
BATCH = "B2025-05"


def gtin14(n: int) -> str:
    """A valid GTIN-14 from a number (13 digits of it, then the GS1 check digit)."""
    body = f"{n % 10**13:013d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


GTIN = gtin14(950600013435)


class Clock:
    """A settable clock for ``Ledger``: entries get the ``recorded_at`` a test chooses."""

    def __init__(self, day: str = "2025-06-01") -> None:
        self.now = dt.datetime.fromisoformat(day + "T09:00:00+00:00")

    def set(self, day: str) -> None:
        self.now = dt.datetime.fromisoformat(day + "T09:00:00+00:00")

    def __call__(self) -> dt.datetime:
        return self.now


def new_builder(home: Path, clock: Clock | None = None, seed: str = "scenarios") -> Builder:
    ledger = Ledger.init(home, ORIGIN, name="Trace test ledger", clock=clock or Clock())
    return Builder(ledger, seed=seed)


@dataclass
class Chain:
    b: Builder
    home: Path
    clock: Clock
    gtin: str = GTIN
    batch: str = BATCH
    seqs: dict[str, int] = field(default_factory=dict)

    @property
    def ledger(self) -> Ledger:
        return self.b.ledger


# The conversions of the T-shirt chain, bounded as a brand's policy would: without them the
# knitting of yarn (kg) and label tape (m) into shirts (pcs) is an unbounded conversion.
TEE_YIELDS = [
    {"process": "knitting", "input_unit": "kg", "output_unit": "pcs", "max": "5"},
    {"process": "knitting", "input_unit": "m", "output_unit": "pcs", "max": "10"},
]


# The bench product's conversions: yarn (kg) woven into fabric (m), fabric made into shirts.
BENCH_YIELDS = [
    {"process": "weaving", "input_unit": "kg", "output_unit": "m", "max": "6"},
    {"process": "garment making", "input_unit": "m", "output_unit": "pcs", "max": "1"},
]


def write_policy(home: Path, **policy: object) -> None:
    """``<home>/policy.json``: the T-shirt chain's yields and whatever else is given."""
    (home / "policy.json").write_text(json.dumps({"yields": TEE_YIELDS, **policy}), encoding="utf-8")


def audit(
    b: Builder,
    facility: str,
    *,
    audit_date: str = "2025-01-15",
    valid_until: str = "2026-01-14",
    issuer: str = AUDITOR,
    standard: str = "SA8000",
    **kw: object,
) -> int:
    """A labour attestation of ``facility`` (a pass by the third-party auditor by default)."""
    return b.audit(issuer, facility, standard=standard, audit_date=audit_date, valid_until=valid_until, **kw)  # type: ignore[arg-type]


def tee_chain(
    home: Path,
    *,
    audited: tuple[str, ...] = FACILITIES,
    country: str = "IN",
    region: str = "Gujarat",
    second_origin: bool = False,
    trader: str | None = None,
    labels: bool = False,
    product_pcs: str = "2000",
    clock: Clock | None = None,
) -> Chain:
    """The T-shirt chain (module docstring).

    ``second_origin``: the mill spins 600 kg of the first farm's cotton with 400 kg of a second
    farm's. ``trader``: "only" sends the yarn through the unaudited trader; "also" sends half
    straight to the knitter and half through the trader. ``labels``: the knitter also uses
    400 m of label tape, an origin counted in metres.
    """
    clock = clock or Clock()
    # Each step is recorded on its own date (SPEC §6: never before it, and not so long after
    # that it is a late record); the product on the clock's day, as given.
    start, on = clock.now, clock.set
    on("2025-01-15")
    b = new_builder(home, clock)
    c = Chain(b, home, clock)
    s = c.seqs
    for pid, (name, role, ctry) in PARTIES.items():
        b.party(pid, name, role, ctry if pid != FARM else country)
    for f in audited:
        s[f"audit:{f}"] = audit(b, f)
    on("2025-03-01")
    s["origin"] = b.origin(
        FARM,
        "COT-1",
        "seed cotton",
        "1000",
        "kg",
        country=country,
        region=region,
        produced_on="2025-03-01",
        certifications=["GOTS"],
    )
    on("2025-03-10")
    s["ship:farm"] = b.ship(FARM, "COT-1", "1000", "kg", MILL, "2025-03-10")
    inputs = [("COT-1", "1000", "kg")]
    if second_origin:
        s["origin2"] = b.origin(
            FARM2,
            "COT-2",
            "seed cotton",
            "1500",
            "kg",
            country="IN",
            region="Amreli",
            produced_on="2025-02-20",
        )
        on("2025-03-12")
        s["ship:farm2"] = b.ship(FARM2, "COT-2", "400", "kg", MILL, "2025-03-12")
        inputs = [("COT-1", "600", "kg"), ("COT-2", "400", "kg")]
    on("2025-04-01")
    s["spin"] = b.transform(
        MILL, "spinning", "2025-04-01", inputs, [("YARN-1", "combed cotton yarn", "800", "kg")]
    )
    on("2025-04-25")
    if trader is None:
        s["ship:mill"] = b.ship(MILL, "YARN-1", "800", "kg", KNITTER, "2025-04-15")
    elif trader == "only":
        s["ship:mill"] = b.ship(MILL, "YARN-1", "800", "kg", TRADER, "2025-04-15")
        s["ship:trader"] = b.ship(TRADER, "YARN-1", "800", "kg", KNITTER, "2025-04-25")
    else:
        s["ship:mill"] = b.ship(MILL, "YARN-1", "400", "kg", KNITTER, "2025-04-15")
        s["ship:mill-trader"] = b.ship(MILL, "YARN-1", "400", "kg", TRADER, "2025-04-16")
        s["ship:trader"] = b.ship(TRADER, "YARN-1", "400", "kg", KNITTER, "2025-04-25")
    knit_inputs = [("YARN-1", "800", "kg")]
    if labels:
        s["origin:labels"] = b.origin(
            LABELS,
            "LBL-1",
            "recycled polyester label tape",
            "5000",
            "m",
            country="CN",
            region="Guangdong",
            produced_on="2025-03-05",
        )
        s["ship:labels"] = b.ship(LABELS, "LBL-1", "400", "m", KNITTER, "2025-03-20")
        knit_inputs.append(("LBL-1", "400", "m"))
    on("2025-05-10")
    s["knit"] = b.transform(
        KNITTER,
        "knitting and sewing",
        "2025-05-10",
        knit_inputs,
        [("TEE-1", "organic cotton T-shirt", "2000", "pcs")],
    )
    on("2025-05-20")
    s["ship:knitter"] = b.ship(KNITTER, "TEE-1", "2000", "pcs", BRAND, "2025-05-20")
    clock.now = max(start, clock.now)
    write_policy(home)
    s["product"] = b.product(
        BRAND,
        GTIN,
        BATCH,
        "Organic tee, white",
        [("TEE-1", product_pcs, "pcs")],
        description="100% organic cotton",
    )
    return c


def bench_product(b: Builder, tag: str = "bench") -> tuple[str, str]:
    """A product 6 tiers deep over 50 origin lots, appended in one batch; returns (gtin, batch).

    All its steps are dated within 90 days before 2025-06-01 (the default ``Clock``), so none
    is a late record. Tiers: 0 the brand's batch, 1 garment making, 2 dyeing, 3 weaving, 4 spinning (fed by a
    trader), 5 ginning at 5 gins, 6 the 50 origin lots of 10 farms. Every facility holds a
    valid audit. ``tag`` prefixes every party and lot id, so one ledger can hold many.
    """
    t = tag
    auditor, brand, trader = f"{t}-auditor", f"{t}-brand", f"{t}-trader"
    farms = [f"{t}-farm-{i}" for i in range(10)]
    gins = [f"{t}-gin-{i}" for i in range(5)]
    spinner, weaver, dyer, maker = f"{t}-spinner", f"{t}-weaver", f"{t}-dyer", f"{t}-maker"
    gtin = gtin14(int(hashlib.sha256(t.encode()).hexdigest()[:12], 16))
    with b.batch():
        b.party(auditor, "Bench Audits", "auditor", "CH")
        b.party(brand, "Bench Brand", "brand", "US")
        b.party(trader, "Bench Trading", "trader", "SG")
        roles = [(f, "farm", "IN") for f in farms] + [(g, "processor", "IN") for g in gins]
        roles += [
            (spinner, "processor", "IN"),
            (weaver, "processor", "BD"),
            (dyer, "processor", "BD"),
            (maker, "manufacturer", "BD"),
        ]
        for pid, role, country in roles:
            b.party(pid, pid.replace("-", " ").title(), role, country)
            b.audit(auditor, pid, standard="SA8000", audit_date="2025-01-10", valid_until="2026-01-09")
        b.audit(auditor, trader, standard="amfori BSCI", audit_date="2025-01-10", valid_until="2026-01-09")
        for n in range(50):
            farm, gin, lot = farms[n % 10], gins[n % 5], f"{t}-cot-{n}"
            b.origin(
                farm,
                lot,
                "seed cotton",
                "1000",
                "kg",
                country="IN",
                region="Gujarat",
                produced_on="2025-03-05",
            )
            b.ship(farm, lot, "1000", "kg", gin, "2025-03-07")
        for i, gin in enumerate(gins):
            lots = [(f"{t}-cot-{n}", "1000", "kg") for n in range(i, 50, 5)]
            b.transform(
                gin,
                "ginning",
                "2025-03-10",
                lots,
                [
                    (f"{t}-lint-{i}", "cotton lint", "3500", "kg"),
                    (f"{t}-seed-{i}", "cotton seed", "6500", "kg"),
                ],
            )
            b.ship(gin, f"{t}-lint-{i}", "3500", "kg", trader, "2025-03-12")
            b.ship(trader, f"{t}-lint-{i}", "3500", "kg", spinner, "2025-03-15")
        lint = [(f"{t}-lint-{i}", "3500", "kg") for i in range(5)]
        steps = [
            (
                spinner,
                "spinning",
                "2025-03-20",
                lint,
                (f"{t}-yarn", "cotton yarn", "15000", "kg"),
                weaver,
                "2025-03-25",
            ),
            (
                weaver,
                "weaving",
                "2025-04-10",
                [(f"{t}-yarn", "15000", "kg")],
                (f"{t}-greige", "greige fabric", "60000", "m"),
                dyer,
                "2025-04-15",
            ),
            (
                dyer,
                "dyeing",
                "2025-04-25",
                [(f"{t}-greige", "60000", "m")],
                (f"{t}-fabric", "dyed fabric", "58000", "m"),
                maker,
                "2025-04-30",
            ),
            (
                maker,
                "garment making",
                "2025-05-10",
                [(f"{t}-fabric", "58000", "m")],
                (f"{t}-shirt", "shirt", "40000", "pcs"),
                brand,
                "2025-05-15",
            ),
        ]
        for party, process, on, inputs, out, to, shipped in steps:
            b.transform(party, process, on, inputs, [out])
            b.ship(party, out[0], out[2], out[3], to, shipped)
        b.product(brand, gtin, "BENCH-1", "Bench shirt", [(f"{t}-shirt", "40000", "pcs")])
    return gtin, "BENCH-1"
