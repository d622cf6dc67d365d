"""Durability: a batch is all or nothing, even when its process is killed mid-transaction.

The HTTP side of this promise (SIGKILL of a serving process while clients append) lives in
tests/test_crash_server.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder

PROVENANCE = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "provenance")
BATCH = 3000


def write_batch(builder: Builder, path: Path, tag: str) -> None:
    with path.open("w") as f:
        for i in range(BATCH):
            e = builder.envelope(
                "material-origin",
                "farm-a",
                {
                    "lot": f"{tag}-{i}",
                    "material": "seed cotton",
                    "quantity": {"amount": "10", "unit": "kg"},
                    "origin": {"country": "IN"},
                    "produced_on": "2026-01-01",
                    "certifications": [],
                },
            )
            f.write(json.dumps(e.to_json()) + "\n")


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.15, 0.35, 0.6, 0.9])
def test_submit_killed_mid_batch_is_all_or_nothing(tmp_path: Path, delay: float) -> None:
    home = tmp_path / "h"
    with Ledger.init(home, "durability.test/ledger") as ledger:
        b = Builder(ledger, seed="durability")
        b.party("farm-a", "Farm A", "farm", "IN")
        before = ledger.size
        write_batch(b, tmp_path / "batch.jsonl", "K")
    proc = subprocess.Popen(
        [PROVENANCE, "submit", str(tmp_path / "batch.jsonl"), "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Ledger.open(home) as ledger:
        assert ledger.size in (before, before + BATCH)
        assert ledger.latest_checkpoint().checkpoint.size == ledger.size
        report = verify_ledger(ledger.conn)
        assert report.ok, [str(p) for p in report.problems]
    # The same batch can be submitted again: either it all landed (every line a replay) or none.
    again = subprocess.run(
        [PROVENANCE, "submit", str(tmp_path / "batch.jsonl"), "--home", str(home)],
        capture_output=True,
        text=True,
    )
    lines = [json.loads(line) for line in again.stdout.splitlines()]
    codes = {line["error"]["code"] if "error" in line else "appended" for line in lines}
    assert len(lines) == BATCH and len(codes) == 1, codes
    with Ledger.open(home) as ledger:
        assert ledger.size == before + BATCH


def test_acknowledged_means_committed_on_disk(tmp_path: Path) -> None:
    """What submit printed is in the file for any new reader: no acknowledgement before COMMIT."""
    home = tmp_path / "h"
    with Ledger.init(home, "durability.test/ledger") as ledger:
        b = Builder(ledger, seed="ack")
        b.party("farm-a", "Farm A", "farm", "IN")
        write_batch(b, tmp_path / "batch.jsonl", "A")
    out = subprocess.run(
        [PROVENANCE, "submit", str(tmp_path / "batch.jsonl"), "--home", str(home)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    seqs = [json.loads(line)["seq"] for line in out]
    assert os.path.exists(home / "ledger.db")
    with Ledger.open(home, readonly=True) as reader:
        for line, seq in zip(out, seqs, strict=True):
            assert reader.entry_view(seq)["entry_hash"] == json.loads(line)["entry_hash"]
