"""Stored cosignatures: appended to every served checkpoint, and audited by verify."""

from __future__ import annotations

import time
from typing import Any

from ledger.cli import main
from ledger.core.ledger import Ledger
from ledger.crypto.keys import PrivateKey
from ledger.store import cosignatures
from ledger.store import sqlite as store
from ledger.tlog.cosignature import Cosigner, verify_cosignatures


def cosign(ledger: Ledger, w: Cosigner) -> str:
    cp = ledger.latest_checkpoint()
    line = w.cosign(cp.checkpoint.to_text(), int(time.time()))
    with store.write_transaction(ledger.conn):
        cosignatures.add(ledger.conn, cp.checkpoint.size, w.vkey.to_text(), line, 1)
    return line


def test_served_checkpoint_carries_stored_lines_and_verify_audits_them(ledger: Ledger, runner: Any) -> None:
    w1 = Cosigner("w1.example", PrivateKey.from_seed(b"\x21" * 32))
    w2 = Cosigner("w2.example", PrivateKey.from_seed(b"\x22" * 32))
    operator_note = ledger.latest_checkpoint().note
    lines = [cosign(ledger, w1), cosign(ledger, w2)]
    served = ledger.latest_checkpoint().note
    assert served == operator_note + "".join(lines)
    assert sorted(verify_cosignatures(served, [w1.vkey, w2.vkey])) == ["w1.example", "w2.example"]
    assert ledger.checkpoint(ledger.size).note == served
    ok = runner.invoke(main, ["verify", "--home", str(ledger.home)])
    assert ok.exit_code == 0, ok.output
    # A cosignature line rewritten in the file (here: w2's line filed under w1's key).
    with store.write_transaction(ledger.conn):
        ledger.conn.execute(
            "UPDATE cosignatures SET line = ? WHERE witness = ?", (lines[1], w1.vkey.to_text())
        )
    bad = runner.invoke(main, ["verify", "--home", str(ledger.home)])
    assert bad.exit_code == 1
    assert f"checkpoint {ledger.size}: cosignature of w1.example: its line is not by that key" in bad.output
