"""Python's answers on the shared vectors of our own formats (tests/vectors/provenance/,
written by scripts/make_vectors.py). Go (test_go_vectors.py) and the browser module
(test_vectors_browser.py) must give the same answer for every case (SPEC §15)."""

from __future__ import annotations

import base64
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from ledger.crypto import canonical
from ledger.crypto.canonical import jcs
from ledger.crypto.keys import STATEMENT_PREFIX, verify_raw
from ledger.errors import LedgerError
from ledger.model.statements import Entry
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint, Verifier
from ledger.tlog.policy import Policy as WitnessPolicy
from ledger.trace.bundle import verify_bundle

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "provenance"
KINDS = ("signatures", "entries", "inclusion", "consistency", "checkpoints", "cosignatures", "bundles")


def cases(kind: str) -> list[dict[str, Any]]:
    return json.loads((VECTORS / f"{kind}.json").read_text(encoding="utf-8"))["cases"]


def answer(kind: str, case: dict[str, Any]) -> bool:
    """Python's verdict on one case: True if it verifies, False if refused with our error."""
    try:
        CHECKS[kind](case)
    except (LedgerError, ValueError) as e:
        case["error"] = str(e)
        return False
    return True


def check_signature(c: dict[str, Any]) -> None:
    message = STATEMENT_PREFIX + jcs(c["statement"])
    verify_raw(base64.b64decode(c["public_key"]), base64.b64decode(c["sig"]), message)


def check_entry(c: dict[str, Any]) -> None:
    data = base64.b64decode(c["canonical"])
    Entry.from_canonical(data)
    if merkle.leaf_hash(data).hex() != c["entry_hash"]:
        raise ValueError("entry_hash is not the hash of the bytes")


def check_inclusion(c: dict[str, Any]) -> None:
    hashes = [bytes.fromhex(h) for h in c["hashes"]]
    merkle.verify_inclusion(
        c["leaf_index"], c["tree_size"], bytes.fromhex(c["leaf_hash"]), hashes, bytes.fromhex(c["root"])
    )


def check_consistency(c: dict[str, Any]) -> None:
    hashes = [bytes.fromhex(h) for h in c["hashes"]]
    merkle.verify_consistency(
        c["old_size"], c["new_size"], bytes.fromhex(c["old_root"]), bytes.fromhex(c["new_root"]), hashes
    )


def check_checkpoint(c: dict[str, Any]) -> None:
    SignedCheckpoint.open(c["note"], Verifier.from_text(c["vkey"]))


def check_cosignatures(c: dict[str, Any]) -> None:
    """The operator's signature, then the witness policy's quorum (``ledger.tlog.policy``)."""
    WitnessPolicy.from_text(c["policy"]).check(c["note"], Verifier.from_text(c["vkey"]))


def check_bundle(c: dict[str, Any]) -> None:
    """``verify_bundle`` with the pinned key and the witness policy."""
    bundle = canonical.parse((VECTORS / c["file"]).read_bytes())
    verify_bundle(bundle, vkey=c["vkey"], witnesses=WitnessPolicy.from_text(c["policy"]))


CHECKS = {
    "signatures": check_signature,
    "entries": check_entry,
    "inclusion": check_inclusion,
    "consistency": check_consistency,
    "checkpoints": check_checkpoint,
    "cosignatures": check_cosignatures,
    "bundles": check_bundle,
}


@pytest.mark.parametrize("kind", KINDS)
def test_python_gives_the_expected_answer(kind: str) -> None:
    wrong = [
        (c["name"], c["valid"], c.get("error")) for c in cases(kind) if answer(kind, c) is not c["valid"]
    ]
    assert not wrong, wrong


def test_every_kind_has_good_and_tampered_cases() -> None:
    for kind in KINDS:
        answers = {c["valid"] for c in cases(kind)}
        assert answers == {True, False}, kind


def test_the_vectors_are_what_the_script_writes(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_vectors", ROOT / "scripts" / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(VECTORS) for p in VECTORS.rglob("*") if p.is_file())
    for rel in written:
        assert (tmp_path / rel).read_bytes() == (VECTORS / rel).read_bytes(), rel
