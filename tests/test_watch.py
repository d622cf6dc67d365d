"""``provenance watch``: a party's monitor of its own name, and ``GET /api/v1/parties/<id>/events``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_identity_verify import audit_as, forge_append

from ledger.audit.watch import LocalSource, own_keys, watch
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.tlog import merkle

PROVENANCE = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "provenance"


def keys_dir(b: Builder, party: str, folder: Path) -> Path:
    folder.mkdir()
    b.keys[party].save(folder / "current.key")
    for i, k in enumerate(b.next_keys[party]):
        k.save(folder / f"next{i}.key")
    return folder


def test_quiet_when_all_is_well_then_alarm_for_a_forged_audit(cast: Builder, tmp_path: Path) -> None:
    b, led = cast, cast.ledger
    keys = own_keys(keys_dir(b, "audit-a", tmp_path / "keys"))
    first = watch(LocalSource(led), "audit-a", keys, None)
    assert first.alarms == [] and first.state["size"] == led.size
    assert [(s.type, s.concerns) for s in first.seen] == [("inception", "issued"), ("admission", "named")]
    honest = b.audit(
        "audit-a", "proc-a", standard="SA8000", audit_date="2025-05-01", valid_until="2026-05-01"
    )
    second = watch(LocalSource(led), "audit-a", keys, first.state)
    assert second.alarms == [] and [s.seq for s in second.seen] == [honest]
    # the operator signs a "pass" in the auditor's name and writes it behind the ledger's back
    forged = forge_append(led, audit_as(b, b.keys["operator"]))
    third = watch(LocalSource(led), "audit-a", keys, second.state)
    assert [s.seq for s in third.seen] == [forged]
    assert len(third.alarms) == 1 and third.alarms[0].startswith(f"seq {forged}:")
    assert "not one of audit-a's keys" in third.alarms[0]


def test_a_rotation_with_our_next_key_is_quiet_and_a_forked_log_alarms(cast: Builder, tmp_path: Path) -> None:
    b, led = cast, cast.ledger
    folder = keys_dir(b, "farm-a", tmp_path / "keys")
    state = watch(LocalSource(led), "farm-a", own_keys(folder), None).state
    rot = b.rotate("farm-a", reason="lost")
    report = watch(LocalSource(led), "farm-a", own_keys(folder), state)
    assert report.alarms == [] and [s.seq for s in report.seen] == [rot]
    forked = dict(report.state, root=merkle.leaf_hash(b"fork").hex())
    b.origin("farm-a", "w-1", "cotton", "1", "kg", country="IN", produced_on="2025-05-01")
    alarm = watch(LocalSource(led), "farm-a", own_keys(folder), forked).alarms
    assert alarm and "does not extend" in alarm[0]


def test_the_operator_rotating_its_key_is_followed(cast: Builder, tmp_path: Path) -> None:
    b, led = cast, cast.ledger
    keys = own_keys(keys_dir(b, "farm-a", tmp_path / "keys"))
    state = watch(LocalSource(led), "farm-a", keys, None).state
    b.rotate("operator")
    b.suspend("farm-a", "inspection")
    report = watch(LocalSource(led), "farm-a", keys, state)
    assert report.alarms == [] and [s.type for s in report.seen] == ["suspension"]
    # a key the operator's rotations do not lead to: alarm
    bogus = dict(report.state, vkey=Ledger.init(tmp_path / "other", led.origin).verifier.to_text())
    assert any("without a rotation" in a for a in watch(LocalSource(led), "farm-a", keys, bogus).alarms)


def test_party_events_route_gives_the_key_event_log_with_proofs(client: Any, cast: Builder) -> None:
    b = cast
    b.rotate("farm-a")
    b.suspend("farm-a")
    r = client.get("/api/v1/parties/farm-a/events")
    assert r.status_code == 200
    body = r.get_json()
    assert [e["entry"]["statement"]["type"] for e in body["events"]] == [
        "inception",
        "admission",
        "rotation",
        "suspension",
    ]
    size = body["events"][0]["inclusion_proof"]["tree_size"]
    assert all(e["checkpoint"] == body["checkpoint"] for e in body["events"])
    for e in body["events"]:
        import base64

        leaf = merkle.leaf_hash(base64.b64decode(e["canonical"]))
        proof = e["inclusion_proof"]
        root = b.ledger.root(size)
        merkle.verify_inclusion(e["seq"], size, leaf, [bytes.fromhex(h) for h in proof["hashes"]], root)
    assert client.get("/api/v1/parties/nobody/events").status_code == 404
    ops = client.get("/api/v1/parties/operator/events").get_json()
    assert [e["entry"]["statement"]["type"] for e in ops["events"]] == ["genesis"]


@pytest.mark.parametrize("forge", [False, True], ids=["quiet", "forged"])
def test_watch_command_exit_codes(cast: Builder, tmp_path: Path, forge: bool) -> None:
    b, led = cast, cast.ledger
    folder = keys_dir(b, "audit-a", tmp_path / "keys")
    state = tmp_path / "state.json"
    run = [str(PROVENANCE), "watch", "--party", "audit-a", "--keys", str(folder), "--state", str(state)]
    run += ["--home", str(led.home)]
    first = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert json.loads(state.read_text())["size"] == led.size
    if forge:
        forge_append(led, audit_as(b, b.keys["operator"]))
    done = subprocess.run(run, capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr
    if forge:
        assert done.returncode == 1 and "ALARM: seq" in done.stderr
        assert json.loads(done.stdout.splitlines()[-1])["alarm"]
    else:
        assert done.returncode == 0 and done.stdout == "" and done.stderr.startswith("ok: 0 entries")


def test_watch_over_http_follows_a_real_server(cast: Builder, tmp_path: Path) -> None:
    from test_serve import Server

    b, led = cast, cast.ledger
    folder = keys_dir(b, "farm-a", tmp_path / "keys")
    state = tmp_path / "state.json"
    server = Server(led.home, workers=1)
    try:
        run = [str(PROVENANCE), "watch", "--party", "farm-a", "--keys", str(folder), "--state", str(state)]
        run += ["--server", server.url]
        first = subprocess.run(run, capture_output=True, text=True, timeout=60)
        assert first.returncode == 0, first.stderr
        assert [json.loads(x)["type"] for x in first.stdout.splitlines()] == ["inception", "admission"]
        b.rotate("operator")  # the operator's key changes: followed through its key events
        b.origin("farm-a", "h-1", "cotton", "1", "kg", country="IN", produced_on="2025-05-01")
        second = subprocess.run(run, capture_output=True, text=True, timeout=60)
        assert second.returncode == 0, second.stderr
        assert [json.loads(x)["type"] for x in second.stdout.splitlines()] == ["material-origin"]
        forge_append(led, b.envelope("material-origin", "farm-a", {**_origin("h-2")}, b.keys["operator"]))
        third = subprocess.run(run, capture_output=True, text=True, timeout=60)
        assert third.returncode == 1 and "ALARM" in third.stderr and "Traceback" not in third.stderr
    finally:
        server.stop()


def _origin(lot: str) -> dict[str, Any]:
    return {
        "lot": lot,
        "material": "cotton",
        "quantity": {"amount": "1", "unit": "kg"},
        "origin": {"country": "IN"},
        "produced_on": "2025-05-01",
        "certifications": [],
    }
