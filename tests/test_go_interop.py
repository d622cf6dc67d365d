"""An outside verifier accepts our checkpoints and proofs: Go's sumdb/note and sumdb/tlog.

The tree is grown with merkle.Frontier from random leaves, checkpoints are signed with
note.Signer, proofs are resolved from the stored nodes; tests/go/main.go opens the
checkpoint with note.Open and checks the proofs with tlog.CheckRecord / tlog.CheckTree,
whose proof orderings are RFC 9162's (leaf side first; for consistency, the RFC's order).
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from go_verifier import go_binary, go_verify

from ledger.crypto import keys
from ledger.tlog import merkle, note

ORIGIN = "example.com/provenance-ledger/test"


@pytest.fixture(scope="module", autouse=True)
def _go() -> None:
    go_binary()  # build once (or skip the module with the reason)


def _signer(seed: bytes, origin: str = ORIGIN) -> note.Signer:
    return note.Signer(origin, keys.PrivateKey.from_seed(seed))


# A key whose verifier key has '+' in its base64: Go must take it (Verifier.from_text does not).
PLUS_SEED = next(
    bytes([i]) * 32 for i in range(256) if "+" in _signer(bytes([i]) * 32).verifier.to_text().split("+", 2)[2]
)
PLAIN_SEED = next(
    bytes([i]) * 32
    for i in range(256)
    if "+" not in _signer(bytes([i]) * 32).verifier.to_text().split("+", 2)[2]
)


@dataclass
class Log:
    signer: note.Signer
    leaves: list[bytes]
    store: dict[merkle.Node, bytes]
    roots: list[bytes]

    @classmethod
    def grow(cls, size: int, signer: note.Signer, seed: int = 0) -> Log:
        rng = random.Random(seed * 1_000_003 + size)
        frontier = merkle.Frontier()
        leaves: list[bytes] = []
        store: dict[merkle.Node, bytes] = {}
        roots = [frontier.root()]
        for _ in range(size):
            leaf = merkle.leaf_hash(rng.randbytes(rng.randrange(0, 200)))
            leaves.append(leaf)
            for level, index, h in frontier.append(leaf):
                store[(level, index)] = h
            roots.append(frontier.root())
        return cls(signer, leaves, store, roots)

    def nodes(self, wanted: list[merkle.Node]) -> dict[merkle.Node, bytes]:
        return {n: self.store[n] for n in wanted}

    def checkpoint(self, size: int) -> str:
        return note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, size, self.roots[size]), self.signer).note

    def inclusion(self, index: int, size: int) -> dict[str, Any]:
        hashes = merkle.resolve(merkle.inclusion_ranges(index, size), self.nodes)
        proof = merkle.InclusionProof(index, size, tuple(hashes)).to_json()
        return {"leaf_hash": self.leaves[index].hex(), **proof}

    def consistency(self, old: int, new: int) -> dict[str, Any]:
        hashes = merkle.resolve(merkle.consistency_ranges(old, new), self.nodes)
        return merkle.ConsistencyProof(old, new, tuple(hashes)).to_json()

    def payload(self, size: int, *, indexes=None, olds=None, signed_olds=()) -> dict[str, Any]:
        indexes = range(size) if indexes is None else indexes
        olds = range(0, size + 1) if olds is None else olds
        consistency = [{**self.consistency(m, size), "old_root": self.roots[m].hex()} for m in olds]
        consistency += [
            {**self.consistency(m, size), "old_checkpoint": self.checkpoint(m)} for m in signed_olds
        ]
        return {
            "vkey": self.signer.verifier.to_text(),
            "checkpoint": self.checkpoint(size),
            "inclusion": [self.inclusion(i, size) for i in indexes],
            "consistency": consistency,
        }


def _accepted(payload: dict[str, Any]) -> None:
    proc = go_verify(payload)
    assert (proc.returncode, proc.stdout) == (0, "ok\n"), proc.stdout + proc.stderr


def _refused(payload: dict[str, Any], why: str = "") -> str:
    proc = go_verify(payload)
    assert proc.returncode != 0, f"Go accepted a bad payload ({why})"
    assert proc.stdout.strip() != "ok"
    return proc.stdout


def test_plus_seed_really_has_plus() -> None:
    vkey = _signer(PLUS_SEED).verifier.to_text()
    assert "+" in vkey.split("+", 2)[2]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 100, 257])
def test_go_accepts_every_proof(size: int) -> None:
    log = Log.grow(size, _signer(PLAIN_SEED))
    signed = sorted({1, size // 2 or 1, size - 1 or 1, size})
    _accepted(log.payload(size, signed_olds=signed))


def test_go_accepts_key_with_plus_in_base64() -> None:
    log = Log.grow(21, _signer(PLUS_SEED))
    _accepted(log.payload(21, signed_olds=[7, 21]))


def test_go_accepts_consistency_between_two_signed_checkpoints() -> None:
    log = Log.grow(50, _signer(PLAIN_SEED))
    payload = log.payload(50, indexes=[], olds=[])
    for old, new in [(1, 2), (3, 7), (16, 32), (17, 49), (49, 50), (20, 20)]:
        payload["consistency"].append(
            {
                **log.consistency(old, new),
                "old_checkpoint": log.checkpoint(old),
                "new_checkpoint": log.checkpoint(new),
            }
        )
    _accepted(payload)


# --- refusals: each tampering on its own -------------------------------------------------------

SIZE = 37


@pytest.fixture(scope="module")
def log() -> Log:
    return Log.grow(SIZE, _signer(PLAIN_SEED), seed=1)


@pytest.fixture(scope="module")
def good(log: Log) -> dict[str, Any]:
    payload = log.payload(SIZE, indexes=[0, 11, 36], olds=[5, 32], signed_olds=[20])
    _accepted(payload)
    return payload


def _flip(hex_hash: str, bit: int = 0) -> str:
    raw = bytearray(bytes.fromhex(hex_hash))
    raw[bit // 8] ^= 1 << (bit % 8)
    return raw.hex()


def _other_log(log: Log) -> Log:
    return Log.grow(SIZE, log.signer, seed=2)


TAMPERINGS: dict[str, Callable[[dict[str, Any], Log], None]] = {
    "inclusion-hash-bit-flip": lambda p, _: p["inclusion"][1]["hashes"].__setitem__(
        2, _flip(p["inclusion"][1]["hashes"][2])
    ),
    "inclusion-wrong-leaf": lambda p, log: p["inclusion"][1].__setitem__("leaf_hash", log.leaves[12].hex()),
    "inclusion-leaf-as-node-preimage": lambda p, log: p["inclusion"][0].__setitem__(
        "leaf_hash", merkle.leaf_hash(log.leaves[0] + log.leaves[1]).hex()
    ),
    "inclusion-wrong-index": lambda p, _: p["inclusion"][1].__setitem__("leaf_index", 10),
    "inclusion-index-outside-tree": lambda p, _: p["inclusion"][2].__setitem__("leaf_index", SIZE),
    "inclusion-truncated": lambda p, _: p["inclusion"][1]["hashes"].pop(),
    "inclusion-extra-hash": lambda p, _: p["inclusion"][1]["hashes"].append("00" * 32),
    "inclusion-other-tree-size": lambda p, log: p["inclusion"].__setitem__(1, log.inclusion(11, SIZE - 1)),
    "consistency-hash-bit-flip": lambda p, _: p["consistency"][0]["hashes"].__setitem__(
        0, _flip(p["consistency"][0]["hashes"][0], 7)
    ),
    "consistency-wrong-old-root": lambda p, log: p["consistency"][0].__setitem__(
        "old_root", log.roots[6].hex()
    ),
    "consistency-truncated": lambda p, _: p["consistency"][1]["hashes"].pop(),
    "consistency-extra-hash": lambda p, _: p["consistency"][1]["hashes"].append("00" * 32),
    "consistency-wrong-old-size": lambda p, _: p["consistency"][0].__setitem__("old_size", 6),
    "consistency-forked-old-checkpoint": lambda p, log: p["consistency"][2].__setitem__(
        "old_checkpoint", _other_log(log).checkpoint(20)
    ),
    "checkpoint-size-edited": lambda p, _: p.__setitem__(
        "checkpoint", p["checkpoint"].replace(f"\n{SIZE}\n", f"\n{SIZE + 1}\n", 1)
    ),
    "checkpoint-root-edited": lambda p, log: p.__setitem__(
        "checkpoint",
        p["checkpoint"].replace(
            note.Checkpoint(ORIGIN, SIZE, log.roots[SIZE]).to_text(),
            note.Checkpoint(ORIGIN, SIZE, log.roots[SIZE - 1]).to_text(),
        ),
    ),
    "checkpoint-of-forked-tree": lambda p, log: p.__setitem__("checkpoint", _other_log(log).checkpoint(SIZE)),
    "checkpoint-signature-missing": lambda p, _: p.__setitem__(
        "checkpoint", p["checkpoint"].split("\n\n")[0] + "\n\n"
    ),
    "checkpoint-signed-by-other-key": lambda p, log: p.__setitem__(
        "checkpoint",
        note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, SIZE, log.roots[SIZE]), _signer(PLUS_SEED)).note,
    ),
    "checkpoint-origin-not-key-name": lambda p, log: p.__setitem__(
        "checkpoint",
        note.SignedCheckpoint.sign(
            note.Checkpoint("example.com/elsewhere", SIZE, log.roots[SIZE]), log.signer
        ).note,
    ),
    "vkey-of-other-key": lambda p, _: p.__setitem__("vkey", _signer(PLUS_SEED).verifier.to_text()),
}


# Where Go must stop: the refusal is for the reason the tampering targets.
REASONS = {
    "inclusion-index-outside-tree": "tlog.CheckRecord: tlog: invalid inputs",
    "inclusion-other-tree-size": "is not the checkpoint's size",
    "checkpoint-of-forked-tree": "tlog.CheckRecord: invalid transparency proof",
    "checkpoint-origin-not-key-name": "is not the key name",
    "checkpoint-signature-missing": "note.Open: malformed note",
    "checkpoint-signed-by-other-key": "note.Open: note has no verifiable signatures",
    "vkey-of-other-key": "note.Open: note has no verifiable signatures",
    "checkpoint-root-edited": "note.Open: invalid signature",
    "checkpoint-size-edited": "note.Open: invalid signature",
}


def _reason(name: str) -> str:
    if name in REASONS:
        return REASONS[name]
    if name.startswith("inclusion-"):
        return "tlog.CheckRecord: invalid transparency proof"
    return "tlog.CheckTree: invalid transparency proof"


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_go_refuses_tampering(name: str, log: Log, good: dict[str, Any]) -> None:
    payload = copy.deepcopy(good)
    TAMPERINGS[name](payload, log)
    assert payload != good
    out = _refused(payload, name)
    assert _reason(name) in out


def test_go_refuses_unusable_input() -> None:
    proc = go_verify({"vkey": "x", "unknown_field": 1})
    assert proc.returncode == 2


def test_go_accepts_published_rfc6962_proofs() -> None:
    """transparency-dev/merkle's published proofs (tests/vectors/merkle) pass tlog.CheckRecord
    and tlog.CheckTree as they stand: tlog's proof orderings are RFC 9162's."""
    vectors = Path(__file__).parent / "vectors" / "merkle"
    tree = json.loads((vectors / "reference_tree.json").read_text())
    leaves = [merkle.leaf_hash(bytes.fromhex(x)) for x in tree["leaf_inputs"]]
    roots = [bytes.fromhex(x) for x in tree["roots_by_size"]]
    inclusion = json.loads((vectors / "inclusion.json").read_text())["cases"]
    consistency = json.loads((vectors / "consistency.json").read_text())["cases"]
    signer = _signer(PLAIN_SEED)
    sizes = {c["tree_size"] for c in inclusion} | {c["size2"] for c in consistency}
    for size in sorted(sizes):
        payload = {
            "vkey": signer.verifier.to_text(),
            "checkpoint": note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, size, roots[size]), signer).note,
            "inclusion": [
                {
                    "leaf_hash": leaves[c["leaf_index"]].hex(),
                    "leaf_index": c["leaf_index"],
                    "tree_size": size,
                    "hashes": c["proof"],
                }
                for c in inclusion
                if c["tree_size"] == size
            ],
            "consistency": [
                {
                    "old_size": c["size1"],
                    "new_size": size,
                    "hashes": c["proof"],
                    "old_root": roots[c["size1"]].hex(),
                }
                for c in consistency
                if c["size2"] == size
            ],
        }
        assert payload["inclusion"] or payload["consistency"]
        _accepted(payload)
