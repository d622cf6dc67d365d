"""``verify`` judges every signature by the key event log as it replays it, never by the
stored key tables: an operator who edits the database file and re-signs every checkpoint
is still named at the forged entry's seq."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.demo.builder import Builder
from ledger.model.statements import Entry, Envelope
from ledger.store import sqlite as store
from ledger.tlog.note import Checkpoint, SignedCheckpoint


def forge_append(led: Ledger, envelope: Envelope) -> int:
    """Write ``envelope`` as the next entry straight into the file, bypassing every rule, with
    correct hashes, Merkle nodes and a checkpoint signed by the operator's real key."""
    conn = led.conn
    with store.write_transaction(conn):
        size, last, last_time = store.head(conn)
        entry = Entry.build(size, last.hex() if last else "0" * 64, last_time or "", envelope)
        st = envelope.statement
        store.insert_entry(
            conn, size, entry.hash, entry.canonical, st.type, st.issuer, st.id, entry.recorded_at
        )
        frontier = led._frontier(size)
        store.insert_nodes(conn, frontier.append(entry.hash))
        cp = SignedCheckpoint.sign(Checkpoint(led.origin, size + 1, frontier.root()), led.signer)
        store.insert_checkpoint(conn, size + 1, cp.checkpoint.root, cp.note)
    return size


def origin_as(b: Builder, party: str, key: PrivateKey, lot: str) -> Envelope:
    body = {
        "lot": lot,
        "material": "cobalt hydroxide",
        "quantity": {"amount": "10", "unit": "t"},
        "origin": {"country": "CD"},
        "produced_on": "2025-05-01",
        "certifications": [],
    }
    return b.envelope("material-origin", party, body, key)


def audit_as(b: Builder, key: PrivateKey) -> Envelope:
    from ledger.model.fields import ILO_INDICATORS

    body = {
        "facility": "proc-a",
        "standard": "SA8000",
        "audit_date": "2025-05-01",
        "valid_until": "2026-05-01",
        "outcome": "pass",
        "indicators": dict.fromkeys(ILO_INDICATORS, "absent"),
        "findings": [],
        "evidence": [],
    }
    return b.envelope("labor-attestation", "audit-a", body, key)


def test_forged_entry_written_into_the_file_is_named_at_its_seq(cast: Builder) -> None:
    b = cast
    seq = forge_append(b.ledger, audit_as(b, b.keys["operator"]))
    report = verify_ledger(b.ledger.conn)
    named = [p for p in report.problems if p.seq == seq]
    assert named and "unknown-key" in named[0].message, report.problems
    assert not any("checkpoint" in p.message for p in report.problems), report.problems


def test_operator_key_planted_in_the_key_table_is_caught(cast: Builder) -> None:
    """The quiet variant: add the operator's key to the auditor's keys in the derived table,
    then append through the normal path (which trusts the table) and let it sign as usual."""
    b = cast
    op = b.keys["operator"]
    with store.write_transaction(b.ledger.conn):
        b.ledger.conn.execute(
            "INSERT INTO keys (party, key_id, public, from_seq, until_seq) VALUES ('audit-a', ?, ?, 1, NULL)",
            (op.public.key_id, op.public.b64),
        )
    seq = b.ledger.append_one(audit_as(b, op)).entry.seq
    report = verify_ledger(b.ledger.conn)
    named = [p for p in report.problems if p.seq == seq]
    assert named and "not a key of audit-a" in named[0].message, report.problems


def test_forged_rotation_in_the_file_does_not_hand_over_the_identity(cast: Builder) -> None:
    b = cast
    mine = PrivateKey.from_seed(b"\x07" * 32)
    body = {"party": "mine-a", "keys": [mine.public.b64], "next": ["ab" * 32], "reason": "lost"}
    rot = forge_append(b.ledger, b.envelope("rotation", "mine-a", body, mine))
    after = forge_append(b.ledger, origin_as(b, "mine-a", mine, "cob-forged"))
    report = verify_ledger(b.ledger.conn)
    seqs = {p.seq for p in report.problems}
    assert {rot, after} <= seqs, report.problems
    assert any("key-not-committed" in p.message for p in report.problems if p.seq == rot)


def test_checkpoint_signed_by_a_retired_operator_key_is_reported(cast: Builder) -> None:
    b = cast
    led = b.ledger
    old = b.keys["operator"]
    rot = b.rotate("operator")
    b.suspend("farm-a")
    # Re-sign the latest checkpoint with the retired key.
    size = led.size
    cp = SignedCheckpoint.sign(
        Checkpoint(led.origin, size, led.root(size)), type(led.signer)(led.origin, old)
    )
    with store.write_transaction(led.conn):
        led.conn.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (cp.note, size))
    report = verify_ledger(led.conn)
    assert [p.seq for p in report.problems] == [size - 1], report.problems
    assert "not signed by this ledger's key" in report.problems[0].message
    assert rot < size - 1


def test_a_restore_after_an_operator_rotation_takes_the_current_key_only(
    cast: Builder, tmp_path: Path
) -> None:
    from ledger.audit.backup import export, import_ledger, read_lines
    from ledger.errors import ConfigError

    b = cast
    led = b.ledger
    old_key = tmp_path / "old.key"
    b.keys["operator"].save(old_key)
    b.rotate("operator")
    with (tmp_path / "x.jsonl").open("wb") as out:
        export(led, out)
    with (tmp_path / "x.jsonl").open("rb") as f, pytest.raises(ConfigError, match="not the key that signs"):
        import_ledger(read_lines(f), tmp_path / "a", old_key)
    with (tmp_path / "x.jsonl").open("rb") as f:
        copy = import_ledger(read_lines(f), tmp_path / "b", led.home / "operator.key")
    with copy:
        Builder(copy, seed="after").suspend("farm-a")
        assert verify_ledger(copy.conn).ok


def test_a_mirror_follows_the_operator_rotation(cast: Builder, tmp_path: Path) -> None:
    from ledger.publish import export
    from ledger.publish.mirror import mirror
    from ledger.publish.source import Source

    b = cast
    led = b.ledger
    genesis_vkey = led.verifier.to_text()
    b.rotate("operator")
    b.suspend("farm-a")
    export.export_tiles(led, tmp_path / "tiles")
    done = mirror(Source(str(tmp_path / "tiles")), tmp_path / "mirror")
    assert done.size == led.size and done.vkey == led.verifier.to_text() != genesis_vkey
    with Ledger.open(tmp_path / "mirror") as copy:
        assert copy.root(copy.size) == led.root(led.size)
        assert verify_ledger(copy.conn).ok
    again = mirror(Source(str(tmp_path / "tiles")), tmp_path / "mirror2", vkey=led.verifier.to_text())
    assert again.size == led.size
