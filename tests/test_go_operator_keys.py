"""Go follows the operator's key events from genesis (SPEC v2 §6, §15): after the operator
rotates, checkpoints are signed with its new key, and an outside verifier that pins only the
genesis key reaches the new one through the rotations, each signed by a committed next key
and included in the checkpoint. tests/go/main.go does it with crypto/ed25519 and sumdb."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
from go_verifier import go_binary, go_verify

from ledger.core.ledger import Ledger
from ledger.crypto.keys import PublicKey
from ledger.demo.builder import Builder
from ledger.model.identity import digest
from ledger.tlog.note import Verifier

ORIGIN = "example.com/provenance-ledger/keys"


@pytest.fixture(scope="module", autouse=True)
def _go() -> None:
    go_binary()


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    led = Ledger.init(tmp_path_factory.mktemp("go") / "home", ORIGIN)
    b = Builder(led, seed="go-keys")
    genesis_vkey = led.verifier.to_text()
    b.party("farm-a", "Farm A", "farm", "IN")
    old_size = led.size
    old_checkpoint = led.latest_checkpoint().note
    events = [0, b.rotate("operator")]
    b.suspend("farm-a")
    events.append(b.rotate("operator", reason="scheduled"))
    b.reinstate("farm-a")
    size = led.size
    payload = {
        "vkey": genesis_vkey,
        "checkpoint": led.latest_checkpoint().note,
        "inclusion": [],
        "consistency": [
            {**led.consistency_proof(old_size, size).to_json(), "old_checkpoint": old_checkpoint}
        ],
        "key_events": [
            {
                "canonical": base64.b64encode(led.canonical(seq)).decode(),
                "leaf_index": seq,
                "hashes": [h.hex() for h in led.inclusion_proof(seq, size).hashes],
            }
            for seq in events
        ],
    }
    out = {"payload": payload, "ledger": led, "builder": b, "current_vkey": led.verifier.to_text()}
    yield out
    led.close()


def test_go_follows_the_operator_rotations_from_genesis(rotated: dict[str, Any]) -> None:
    proc = go_verify(rotated["payload"])
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stdout + proc.stderr
    assert rotated["current_vkey"] != rotated["payload"]["vkey"]


def _refused(payload: dict[str, Any]) -> str:
    proc = go_verify(payload)
    assert proc.returncode != 0 and proc.stdout.strip() != "ok", proc.stdout
    return proc.stdout


def test_go_refuses_the_new_checkpoint_under_the_genesis_key_alone(rotated: dict[str, Any]) -> None:
    payload = copy.deepcopy(rotated["payload"])
    del payload["key_events"]
    assert "checkpoint" in _refused(payload)


def test_go_refuses_a_skipped_rotation(rotated: dict[str, Any]) -> None:
    payload = copy.deepcopy(rotated["payload"])
    del payload["key_events"][1]
    assert "not committed" in _refused(payload)


def test_go_refuses_key_events_from_another_genesis(rotated: dict[str, Any], tmp_path: Path) -> None:
    with Ledger.init(tmp_path / "other", ORIGIN) as other:
        payload = copy.deepcopy(rotated["payload"])
        payload["vkey"] = other.verifier.to_text()
        assert "genesis" in _refused(payload)


def test_go_refuses_a_rotation_signed_by_the_current_key(rotated: dict[str, Any]) -> None:
    """A forged rotation to a key the operator made up, signed by its current key (a thief's
    move), with the checkpoint signed by that key: Go refuses the uncommitted key."""
    from ledger.crypto.keys import PrivateKey
    from ledger.model.statements import Entry, sign
    from ledger.tlog.merkle import leaf_hash
    from ledger.tlog.note import Checkpoint, SignedCheckpoint, Signer

    b, led = rotated["builder"], rotated["ledger"]
    thief = PrivateKey.from_seed(b"\x66" * 32)
    current = b.keys["operator"]
    body = {"party": "operator", "keys": [thief.public.b64], "next": [digest(b"x" * 32)], "reason": "lost"}
    env = sign(b.statement("rotation", "operator", body), current)
    entry = Entry.build(led.size, "0" * 64, "2026-01-01T00:00:00.000Z", env)
    cp = SignedCheckpoint.sign(Checkpoint(ORIGIN, 1, leaf_hash(entry.canonical)), Signer(ORIGIN, thief))
    payload = copy.deepcopy(rotated["payload"])
    payload["checkpoint"] = cp.note
    payload["consistency"] = []
    payload["key_events"] = [payload["key_events"][0]] + [
        {"canonical": base64.b64encode(entry.canonical).decode(), "leaf_index": 0, "hashes": []}
    ]
    assert "not committed" in _refused(payload)
    assert Verifier(ORIGIN, PublicKey(thief.public.raw)).to_text() != rotated["current_vkey"]
