"""The full audit (SPEC §11 ``provenance verify``) on ledgers that were not tampered with.

What it must catch when they were is in test_tamper.py.
"""

from __future__ import annotations

import pytest

from ledger.audit.verify import Problem, verify_ledger
from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.tlog.note import Checkpoint, SignedCheckpoint, Signer

GTIN = "09506000134352"


@pytest.fixture
def busy(cast, stocked):
    """Every statement type, a revocation and a key rotation."""
    b = cast
    product = b.product("brand-a", GTIN, "B1", "Organic tee", [("tee-1", "100", "pcs")])
    b.revoke("brand-a", product, "wrong quantity")
    b.product("brand-a", GTIN, "B1", "Organic tee", [("tee-1", "120", "pcs")])
    b.audit(
        "make-a",
        "make-a",
        standard="self-assessment",
        audit_date="2025-05-01",
        valid_until="2026-05-01",
        not_assessed=["isolation"],
    )
    b.rotate("farm-a")
    b.origin("farm-a", "cot-9", "cotton", "10", "kg", country="IN", produced_on="2025-05-20")
    b.revoke("operator", stocked["ship_trader"], "disputed")
    return b


def test_a_fresh_ledger_verifies(ledger):
    report = verify_ledger(ledger.conn)
    assert report.ok, report.problems
    assert (report.size, report.checkpoints) == (1, 1)


def test_a_busy_ledger_verifies(busy):
    led = busy.ledger
    report = verify_ledger(led.conn)
    assert report.ok, report.problems
    assert report.size == led.size
    assert report.checkpoints == led.conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]


def test_statements_signed_before_a_rotation_stay_valid(cast, stocked):
    b, led = cast, cast.ledger
    for i in range(3):
        b.rotate("farm-a")
        b.origin("farm-a", f"rot-{i}", "cotton", "1", "kg", country="IN", produced_on="2025-05-20")
    report = verify_ledger(led.conn)
    assert report.ok, report.problems


def test_verify_changes_nothing(busy, ledger_state):
    before = ledger_state(busy.ledger)
    verify_ledger(busy.ledger.conn)
    assert ledger_state(busy.ledger) == before


def test_verify_on_a_read_only_connection(busy):
    with Ledger.open(busy.ledger.home, readonly=True) as led:
        assert verify_ledger(led.conn).ok


def test_a_kept_checkpoint_the_ledger_extends_is_accepted(cast, stocked):
    led = cast.ledger
    kept = [led.checkpoint(1).note, led.latest_checkpoint().note]
    cast.origin("farm-a", "cot-9", "cotton", "10", "kg", country="IN", produced_on="2025-05-20")
    for note in [*kept, led.latest_checkpoint().note]:
        report = verify_ledger(led.conn, external=note)
        assert report.ok, report.problems


def test_a_checkpoint_signed_by_another_key_is_reported(cast):
    led = cast.ledger
    stranger = Signer(led.origin, PrivateKey.from_seed(b"\x55" * 32))
    forged = SignedCheckpoint.sign(Checkpoint(led.origin, led.size, led.root(led.size)), stranger)
    report = verify_ledger(led.conn, external=forged.note)
    assert not report.ok
    assert [p.seq for p in report.problems] == [None]
    assert "not signed by this ledger's key" in report.problems[0].message


@pytest.mark.parametrize("text", ["", "not a checkpoint\n", "ledger.test/provenance\n1\n"])
def test_a_garbled_kept_checkpoint_is_reported(cast, text):
    report = verify_ledger(cast.ledger.conn, external=text)
    assert not report.ok
    assert "given checkpoint" in report.problems[0].message


def test_problem_lines_name_their_seq():
    assert str(Problem(7, "signature does not verify")) == "seq 7: signature does not verify"
    assert str(Problem(None, "the nodes table has 3 rows")) == "the nodes table has 3 rows"


def test_progress_is_reported(busy):
    seen: list[tuple[int, int]] = []
    verify_ledger(busy.ledger.conn, progress=lambda done, total: seen.append((done, total)))
    size = busy.ledger.size
    assert seen[0] == (0, size) and seen[-1] == (size, size)


def test_a_kept_checkpoint_does_not_hide_a_stored_one_of_the_same_size(cast, stocked):
    """A stored checkpoint swapped for an operator-signed fork of the same size is reported,
    even when the kept checkpoint given for that size is the true one."""
    led = cast.ledger
    size = led.size
    true_note = led.checkpoint(size).note
    fork = SignedCheckpoint.sign(Checkpoint(led.origin, size, b"\x42" * 32), led.signer)
    led.conn.execute(
        "UPDATE checkpoints SET root = ?, note = ? WHERE size = ?", (fork.checkpoint.root, fork.note, size)
    )
    report = verify_ledger(led.conn, external=true_note)
    assert any("stored checkpoint" in p.message and p.seq == size - 1 for p in report.problems), (
        report.problems
    )
