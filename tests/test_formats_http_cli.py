"""EPCIS and UNTP from the command line (real processes) and over HTTP (docs/formats.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import WEB_BASE_URL, WEB_BATCH, WEB_GTIN
from scenarios import Clock, new_builder, tee_chain
from test_cli import Cli
from test_formats_epcis import SUPPLIER_DOC, validate
from test_serve import Server

from ledger.core.ledger import Ledger

pytestmark = pytest.mark.slow
PAGE = f"/01/{WEB_GTIN}/10/{quote(WEB_BATCH, safe='')}"


@pytest.fixture
def supplier(tmp_path: Path) -> tuple[Cli, Path]:
    """A ledger with the supplier (GLN 4012345000016) and its buyer; the supplier's key on disk."""
    b = new_builder(tmp_path / "home", Clock("2025-06-01"))
    b.party("sup", "Fibre Supplier", "processor", "DE", gln="4012345000016")
    b.party("buyer", "Buyer Spinning", "processor", "US", gln="0614141073467")
    key = tmp_path / "sup.key"
    b.key_for("sup").save(key)
    b.ledger.close()
    return Cli(tmp_path), key


def test_cli_epcis_import_appends_one_entry_per_event(supplier: tuple[Cli, Path]) -> None:
    cli, key = supplier
    code, lines = cli.json_lines(
        "epcis", "import", SUPPLIER_DOC, "--key", key, "--as", "sup", "--home", cli.home
    )
    assert code == 0, lines
    assert [line["event"] for line in lines] == [0, 1, 2]
    assert [line["entry"]["statement"]["type"] for line in lines] == [
        "material-origin",
        "transformation",
        "shipment",
    ]
    assert all(line["entry"]["statement"]["issuer"] == "sup" for line in lines)
    again = cli("epcis", "import", SUPPLIER_DOC, "--key", key, "--as", "sup", "--home", cli.home)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert [json.loads(x)["error"]["code"] for x in again.stdout.splitlines()] == ["replay"] * 3


def test_cli_epcis_import_refuses_and_appends_nothing(supplier: tuple[Cli, Path], tmp_path: Path) -> None:
    cli, key = supplier
    doc = json.loads(SUPPLIER_DOC.read_text())
    doc["epcisBody"]["eventList"].append({"type": "AggregationEvent", "action": "ADD"})
    doc["epcisBody"]["eventList"][0]["quantityList"][0]["uom"] = "ZZZ"
    bad = tmp_path / "bad.jsonld"
    bad.write_text(json.dumps(doc))
    size = json.loads(cli.ok("info", "--json", "--home", cli.home))["size"]
    done = cli("epcis", "import", bad, "--key", key, "--as", "sup", "--home", cli.home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    refusals = [json.loads(x) for x in done.stdout.splitlines()]
    assert [r["event"] for r in refusals] == [0, 3]
    assert "ZZZ" in refusals[0]["error"]["message"] and "AggregationEvent" in refusals[1]["error"]["message"]
    assert "nothing was appended" in done.stderr
    assert json.loads(cli.ok("info", "--json", "--home", cli.home))["size"] == size


def test_cli_epcis_import_to_a_file_then_submit(supplier: tuple[Cli, Path], tmp_path: Path) -> None:
    cli, key = supplier
    out = tmp_path / "envelopes.jsonl"
    cli.ok("epcis", "import", SUPPLIER_DOC, "--key", key, "--as", "sup", "--out", out, "--home", cli.home)
    envelopes = [json.loads(x) for x in out.read_text().splitlines()]
    assert [e["statement"]["type"] for e in envelopes] == ["material-origin", "transformation", "shipment"]
    code, lines = cli.json_lines("submit", out, "--home", cli.home)
    assert code == 0 and all("seq" in line for line in lines)


def test_cli_epcis_import_to_a_server(supplier: tuple[Cli, Path]) -> None:
    cli, key = supplier
    server = Server(cli.home)
    try:
        code, lines = cli.json_lines(
            "epcis", "import", SUPPLIER_DOC, "--key", key, "--as", "sup", "--server", server.url
        )
    finally:
        server.stop()
    assert code == 0, lines
    assert [(line["event"], line["entry"]["statement"]["type"]) for line in lines] == [
        (0, "material-origin"),
        (1, "transformation"),
        (2, "shipment"),
    ]


def test_cli_epcis_export_and_untp_export(tmp_path: Path) -> None:
    c = tee_chain(tmp_path / "home")
    c.ledger.close()
    cli = Cli(tmp_path)
    doc = json.loads(cli.ok("epcis", "export", c.gtin, c.batch, "--home", cli.home))
    validate(doc)
    assert doc["id"] == f"https://trace.example/ledger/01/{c.gtin}/10/{c.batch}"
    based = json.loads(
        cli.ok("epcis", "export", c.gtin, c.batch, "--home", cli.home, "--base-url", "https://brand.example/")
    )
    assert based["id"] == f"https://brand.example/01/{c.gtin}/10/{c.batch}"
    out = tmp_path / "creds"
    lines = [
        json.loads(x) for x in cli.ok("untp", "export", c.gtin, c.batch, out, "--home", cli.home).splitlines()
    ]
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(Path(line["file"]).name for line in lines) and "dpp.jwt" in files
    assert all(p.read_text().count(".") == 2 for p in out.iterdir())
    done = cli("untp", "export", c.gtin, "NOPE", tmp_path / "x", "--home", cli.home)
    assert (
        done.returncode == 1
        and done.stderr.startswith("error: not-found: ")
        and "Traceback" not in done.stderr
    )
    early = cli("epcis", "export", c.gtin, c.batch, "--at", "2024-12-31", "--home", cli.home)
    assert early.returncode == 1 and "on or before 2024-12-31" in early.stderr
    done = cli("epcis", "export", "123", c.batch, "--home", cli.home)
    assert (
        done.returncode == 1
        and done.stderr.startswith("error: invalid-field: gtin")
        and len(done.stderr.splitlines()) == 1
    )


# -- HTTP --------------------------------------------------------------------------------


def test_digital_link_answers_epcis_for_json_ld(client: Any, product: dict[str, Any]) -> None:
    r = client.get(PAGE, headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.mimetype == "application/ld+json"
    assert r.headers["Vary"] == "Accept"
    doc = json.loads(r.get_data())
    validate(doc)
    assert doc["id"] == WEB_BASE_URL.rstrip("/") + PAGE
    seqs = {e["pl:seq"] for e in doc["epcisBody"]["eventList"]}
    assert {product["seq"]["origin"], product["seq"]["spin"]} <= seqs
    assert client.get(PAGE, headers={"Accept": "text/html"}).mimetype == "text/html"
    assert (
        client.get(PAGE, headers={"Accept": "application/json"}).get_json()["format"].startswith("provenance")
    )
    missing = client.get(f"/01/{WEB_GTIN}/10/NOPE", headers={"Accept": "application/ld+json"})
    assert missing.status_code == 404


def test_untp_api_lists_and_serves_credentials(client: Any, product: dict[str, Any], ledger: Ledger) -> None:
    base = f"/api/v1/untp/{WEB_GTIN}/{quote(WEB_BATCH, safe='')}"
    listing = client.get(base).get_json()
    names = [c["name"] for c in listing["credentials"]]
    assert (
        names[0] == "dpp"
        and any(n.startswith("dte-") for n in names)
        and any(n.startswith("dcc-") for n in names)
    )
    for c in listing["credentials"]:
        assert c["id"] == WEB_BASE_URL.rstrip("/") + f"{base}/{c['name']}"
        one = client.get(f"{base}/{c['name']}")
        assert one.status_code == 200 and one.mimetype == "application/vc+jwt"
        assert one.get_data(as_text=True) == c["jwt"]
    r = client.get(f"{base}/dcc-99999")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not-found"
    assert client.get(f"/api/v1/untp/{WEB_GTIN}/NOPE").status_code == 404
    assert (
        client.get(f"/api/v1/untp/12345/{quote(WEB_BATCH, safe='')}").get_json()["error"]["field"] == "gtin"
    )


def test_cli_epcis_import_to_a_file_without_a_ledger(tmp_path: Path) -> None:
    """Offline, GLNs cannot be looked up: a shipment to a GLN is refused by index, one to a
    party URI is signed and written for a later submit."""
    cli = Cli(tmp_path)
    key = tmp_path / "sup.key"
    cli.ok("keygen", "--out", key)
    out = tmp_path / "envelopes.jsonl"
    args = ("epcis", "import", SUPPLIER_DOC, "--key", key, "--as", "sup", "--out", out)
    done = cli(*args, "--home", tmp_path / "nowhere")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert [json.loads(x)["event"] for x in done.stdout.splitlines()] == [2]
    assert not out.exists()
    doc = json.loads(SUPPLIER_DOC.read_text())
    doc["epcisBody"]["eventList"][2]["destinationList"] = [
        {"type": "owning_party", "destination": "https://ledger.example/parties/buyer"}
    ]
    offline = tmp_path / "offline.jsonld"
    offline.write_text(json.dumps(doc))
    cli.ok(
        "epcis", "import", offline, "--key", key, "--as", "sup", "--out", out, "--home", tmp_path / "nowhere"
    )
    envelopes = [json.loads(x) for x in out.read_text().splitlines()]
    assert envelopes[2]["statement"]["body"]["to"] == "buyer"


def test_epcis_and_untp_are_bounded_as_the_trace_is(ledger: Ledger, product: dict[str, Any]) -> None:
    from web import create_app

    small = create_app({"PROVENANCE_HOME": str(ledger.home), "PROVENANCE_TRACE_LIMIT": 3}).test_client()
    page = small.get(PAGE, headers={"Accept": "application/ld+json"})
    assert page.status_code == 413 and "Traceback" not in page.get_data(as_text=True)
    api = small.get(f"/api/v1/untp/{WEB_GTIN}/{quote(WEB_BATCH, safe='')}")
    assert api.status_code == 413 and api.get_json()["error"]["code"] == "trace-too-large"
