"""Shared pytest configuration.

Hypothesis runs derandomized in the "ci" profile (no example database, no deadline), so
a run is reproducible; set HYPOTHESIS_PROFILE to load another registered profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")


# -- the core ledger: a fresh ledger per test, as in Flask's tutorial ----------------

import datetime as dt  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from ledger.core.ledger import HOME_ENV, Appended, Ledger  # noqa: E402
from ledger.crypto.canonical import jcs  # noqa: E402
from ledger.crypto.keys import PASSPHRASE_ENV, STATEMENT_PREFIX, PrivateKey, b64  # noqa: E402
from ledger.demo.builder import Builder  # noqa: E402
from ledger.model.statements import Envelope  # noqa: E402

TEST_ORIGIN = "ledger.test/provenance"
BUILDER_SEED = "provenance-tests"
# In the past of any real clock, so envelopes built in-process are also accepted by a
# ledger that runs on the real clock (the CLI as a process).
TEST_NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)

# One registered party per role (the operator is the ledger's own).
TEST_CAST = (
    ("farm-a", "Green Valley Cotton", "farm", "IN"),
    ("mine-a", "Katanga Cobalt", "mine", "CD"),
    ("proc-a", "Coimbatore Spinning", "processor", "IN"),
    ("make-a", "Dhaka Garments", "manufacturer", "BD"),
    ("trade-a", "Kowloon Trading", "trader", "HK"),
    ("brand-a", "Nordic Wear", "brand", "SE"),
    ("brand-b", "Berlin Basics", "brand", "DE"),
    ("audit-a", "Alpine Audits", "auditor", "CH"),
)


class FakeClock:
    """A ledger clock that stands still until a test moves it."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(TEST_NOW)


# -- storage backends: SQLite everywhere, PostgreSQL too for the core modules --------

# Test modules whose ledgers run on both backends (their ``backend`` is parametrized).
BOTH_BACKENDS = {
    "test_ledger",
    "test_rules",
    "test_verify",
    "test_api",
    "test_trace",
    "test_postgres",
    "test_views",
    "test_group",
    "test_backup",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    chosen = any(
        m.args and "backend" in str(m.args[0]).split(",")
        for m in metafunc.definition.iter_markers("parametrize")
    )
    if "backend" in metafunc.fixturenames and not chosen:
        module = metafunc.module.__name__.rsplit(".", 1)[-1]
        both = module in BOTH_BACKENDS
        metafunc.parametrize("backend", ["sqlite", "postgresql"] if both else ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Any]:
    """One throwaway PostgreSQL cluster for the session (a unix socket in a temp folder)."""
    from pgcluster import Cluster, bin_dir

    if bin_dir() is None:
        pytest.skip("PostgreSQL is not installed (scripts/setup --system installs it)")
    cluster = Cluster().init().start()
    yield cluster
    cluster.remove()


_databases = iter(range(1, 1 << 30))


@pytest.fixture
def pg_url(pg_cluster: Any) -> Iterator[str]:
    """A fresh, empty database on the session's cluster, dropped after the test."""
    name = f"t{next(_databases)}"
    yield pg_cluster.create_database(name)
    pg_cluster.drop_database(name)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """``None`` for SQLite (the home's ``ledger.db``), or a fresh PostgreSQL database URL."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield None
        return
    yield request.getfixturevalue("pg_url")


@pytest.fixture
def ledger(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, backend: str | None
) -> Iterator[Ledger]:
    """A fresh ledger (genesis only) in ``tmp_path/home``, on the fake ``clock``, its
    database on ``backend``."""
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    monkeypatch.delenv(HOME_ENV, raising=False)
    monkeypatch.delenv("PROVENANCE_DB", raising=False)
    led = Ledger.init(tmp_path / "home", TEST_ORIGIN, name="Test Operator", clock=clock, db=backend)
    yield led
    led.close()


@pytest.fixture
def builder(ledger: Ledger) -> Builder:
    """A Builder over ``ledger`` with a fixed seed: party keys and statement ids are
    deterministic. Use one Builder per ledger (a second one would repeat the ids)."""
    return Builder(ledger, seed=BUILDER_SEED)


@pytest.fixture
def cast(builder: Builder) -> Builder:
    """``builder`` after one batch registering TEST_CAST (entries 1..8)."""
    with builder.batch():
        for pid, name, role, country in TEST_CAST:
            builder.party(pid, name, role, country)
    return builder


@pytest.fixture
def sign_raw() -> Callable[..., dict[str, Any]]:
    """Sign a statement dict WITHOUT validating it (to build envelopes the ledger must
    refuse): ``sign_raw(statement, key, prefix=..., key_id=...)`` -> envelope JSON."""

    def sign(
        statement: Any, key: PrivateKey, *, prefix: bytes = STATEMENT_PREFIX, key_id: str | None = None
    ) -> dict[str, Any]:
        sig = key.sign(prefix + jcs(statement))
        return {"statement": statement, "signature": {"key_id": key_id or key.public.key_id, "sig": b64(sig)}}

    return sign


@pytest.fixture
def submit() -> Callable[[Ledger, Any], Appended]:
    """What a submission goes through: the raw bytes are parsed into an envelope, then
    appended alone. Returns the ``Appended``; raises the refusal (a ``LedgerError``)."""

    def run(led: Ledger, envelope: Any) -> Appended:
        if isinstance(envelope, Envelope):
            return led.append_one(envelope)
        if isinstance(envelope, str):
            data = envelope.encode("utf-8")
        elif isinstance(envelope, bytes):
            data = envelope
        else:
            data = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        return led.append_one(Envelope.from_bytes(data))

    return run


def dump_ledger(led: Ledger) -> dict[str, Any]:
    """Everything a refusal must leave untouched: size, root, latest checkpoint and every
    row of every table (record and derived)."""
    conn = led.conn
    tables = table_names(conn)
    rows = {t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    size = led.size
    return {
        "size": size,
        "root": led.root(size).hex(),
        "checkpoint": led.latest_checkpoint().note,
        "tables": rows,
    }


def table_names(conn: Any) -> list[str]:
    """Every table of the ledger's database, on either backend."""
    if getattr(conn, "dialect", "sqlite") == "postgresql":
        sql = (
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() ORDER BY table_name"
        )
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    return [r[0] for r in conn.execute(sql)]


@pytest.fixture
def ledger_state() -> Callable[[Ledger], dict[str, Any]]:
    return dump_ledger


@pytest.fixture
def stocked(cast: Builder) -> dict[str, int]:
    """Goods in motion on top of ``cast``; returns the seq of each step by name.

    farm-a grows 1000 kg of cot-1 and ships 600 kg to proc-a, which spins 500 kg into 400 kg
    of yarn-1 and ships it to make-a, which sews 300 kg into 1000 pcs of tee-1 and ships
    800 pcs to brand-a; audit-a audits proc-a; farm-a ships 10 kg of cot-1 to trade-a.
    """
    b = cast
    seq = {}
    seq["origin"] = b.origin(
        "farm-a", "cot-1", "cotton", "1000", "kg", country="IN", produced_on="2025-05-01", region="Tamil Nadu"
    )
    seq["ship_cotton"] = b.ship("farm-a", "cot-1", "600", "kg", "proc-a", "2025-05-02")
    seq["spin"] = b.transform(
        "proc-a", "spinning", "2025-05-03", [("cot-1", "500", "kg")], [("yarn-1", "cotton yarn", "400", "kg")]
    )
    seq["ship_yarn"] = b.ship("proc-a", "yarn-1", "400", "kg", "make-a", "2025-05-04")
    seq["sew"] = b.transform(
        "make-a", "sewing", "2025-05-05", [("yarn-1", "300", "kg")], [("tee-1", "t-shirt", "1000", "pcs")]
    )
    seq["ship_tees"] = b.ship("make-a", "tee-1", "800", "pcs", "brand-a", "2025-05-06")
    seq["audit"] = b.audit(
        "audit-a", "proc-a", standard="SA8000", audit_date="2025-04-01", valid_until="2026-04-01", workers=120
    )
    seq["ship_trader"] = b.ship("farm-a", "cot-1", "10", "kg", "trade-a", "2025-05-07")
    return seq


@pytest.fixture
def expect_refusal(submit: Callable[[Ledger, Any], Appended]) -> Callable[..., Any]:
    """``expect_refusal(ledger, envelope, code, status, field)``: submit, expect that refusal
    (its code, HTTP status, and a message naming ``field``), and check the ledger did not
    change at all. Returns the error."""
    from ledger.errors import LedgerError

    def run(led: Ledger, envelope: Any, code: str, status: int, field: str | None) -> Any:
        before = dump_ledger(led)
        with pytest.raises(LedgerError) as info:
            submit(led, envelope)
        err = info.value
        body = err.to_json()["error"]
        assert (err.code, err.status) == (code, status), body
        assert body["code"] == code
        if field is None:
            assert "field" not in body, body
        else:
            assert body.get("field") == field, body
            assert field in body["message"], body
        assert dump_ledger(led) == before, "a refused envelope changed the ledger"
        return err

    return run


# -- the web app: Flask's tutorial fixtures over the same fresh ledger ---------------

WEB_BASE_URL = "https://id.example.org"
WEB_GTIN = "09506000134352"  # GS1's example GTIN-13 in its 14-digit form
WEB_BATCH = "TS-26/A"  # a '/' to prove the batch is one percent-encoded path segment


@pytest.fixture
def app(ledger: Ledger) -> Any:
    """The Flask app over ``ledger``'s home (each request opens its own handle)."""
    from web import create_app

    return create_app(
        {"TESTING": True, "PROVENANCE_HOME": str(ledger.home), "PROVENANCE_BASE_URL": WEB_BASE_URL}
    )


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runner() -> Any:
    """A Click runner for the ``provenance`` command line (``runner.invoke(main, [...])``)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def product(stocked: dict[str, int], cast: Builder) -> dict[str, Any]:
    """``stocked`` with every facility audited and a product declared: brand-a's T-shirt
    WEB_GTIN batch WEB_BATCH, made of 100 pcs of tee-1 (a compliant trace)."""
    b = cast
    seq = dict(stocked)
    seq["audit_farm"] = b.audit(
        "audit-a", "farm-a", standard="amfori BSCI", audit_date="2025-03-01", valid_until="2026-03-01"
    )
    seq["audit_make"] = b.audit(
        "audit-a", "make-a", standard="SMETA", audit_date="2025-03-15", valid_until="2026-03-15"
    )
    seq["product"] = b.product(
        "brand-a",
        WEB_GTIN,
        WEB_BATCH,
        "Organic Tee",
        [("tee-1", "100", "pcs")],
        description="A plain white T-shirt.",
    )
    # the brand's policy knows how many shirts a kilogram of yarn makes (docs/claims.md)
    sewing = {"process": "sewing", "input_unit": "kg", "output_unit": "pcs", "max": "5"}
    (b.ledger.home / "policy.json").write_text(json.dumps({"yields": [sewing]}), encoding="utf-8")
    return {"gtin": WEB_GTIN, "batch": WEB_BATCH, "seq": seq, "builder": b}


# -- envelopes tests post over HTTP ---------------------------------------------------------


def origin_envelope(b: Builder, lot: str = "new-lot", party: str = "farm-a") -> dict[str, Any]:
    """A signed material-origin of 10 kg of cotton, as envelope JSON (not appended)."""
    return b.envelope(
        "material-origin",
        party,
        {
            "lot": lot,
            "material": "cotton",
            "quantity": {"amount": "10", "unit": "kg"},
            "origin": {"country": "IN"},
            "produced_on": "2025-05-01",
            "certifications": [],
        },
    ).to_json()
