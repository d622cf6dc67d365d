"""Group commit: concurrent appenders share transactions and every acknowledgement is durable."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from ledger.audit.verify import verify_ledger
from ledger.core.group import GroupCommitter
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.errors import Replay
from ledger.tlog.merkle import verify_inclusion
from ledger.tlog.note import SignedCheckpoint


def test_concurrent_appends_through_group_commit(tmp_path: Path) -> None:
    ledger = Ledger.init(tmp_path / "h", "group.test/ledger")
    b = Builder(ledger, seed="group")
    with b.batch():
        for t in range(8):
            b.party(f"farm-{t}", f"Farm {t}", "farm", "IN")
    envelopes = {
        t: [
            b.envelope(
                "material-origin",
                f"farm-{t}",
                {
                    "lot": f"T{t}-{i}",
                    "material": "cotton",
                    "quantity": {"amount": "1", "unit": "kg"},
                    "origin": {"country": "IN"},
                    "produced_on": "2026-01-01",
                    "certifications": [],
                },
            )
            for i in range(25)
        ]
        for t in range(8)
    }
    committer = GroupCommitter(lambda: Ledger.open(ledger.home))
    acks: list[dict] = []
    lock = threading.Lock()

    def client(t: int) -> None:
        for e in envelopes[t]:
            view = committer.append(e)
            with lock:
                acks.append(view)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with pytest.raises(Replay):
        committer.append(envelopes[0][0])
    committer.close()

    assert len(acks) == 200
    assert len({a["seq"] for a in acks}) == 200
    for a in acks:
        cp = SignedCheckpoint.open(a["checkpoint"], ledger.verifier).checkpoint
        proof = a["inclusion_proof"]
        assert proof["tree_size"] == cp.size
        verify_inclusion(
            a["seq"],
            cp.size,
            bytes.fromhex(a["entry_hash"]),
            [bytes.fromhex(h) for h in proof["hashes"]],
            cp.root,
        )
        assert ledger.canonical(a["seq"]).hex() == __import__("base64").b64decode(a["canonical"]).hex()
    assert verify_ledger(ledger.conn).ok
