"""Go's answers on the shared vectors (tests/go/vectors/main.go: crypto/ed25519 with the
strict checks of SPEC §3, sumdb/note, sumdb/tlog, tlog-cosignature written from its text):
the expected one for every case of every kind where Go applies (SPEC §15)."""

from __future__ import annotations

import json
import subprocess

from go_verifier import VECTORS_SOURCE, go_binary
from test_vectors import VECTORS, cases

GO_KINDS = ("signatures", "inclusion", "consistency", "checkpoints", "cosignatures")


def test_go_gives_the_expected_answer() -> None:
    binary = go_binary(VECTORS_SOURCE)
    proc = subprocess.run(
        [str(binary), str(VECTORS)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    answers = json.loads(proc.stdout)
    for kind in GO_KINDS:
        expected = {c["name"]: c["valid"] for c in cases(kind)}
        assert answers[kind] == expected, kind
