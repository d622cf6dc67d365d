"""RFC 9162 / RFC 6962 Merkle trees against published vectors, and proofs against the reference.

Vectors (tests/vectors/merkle/) are transparency-dev/merkle's well-known 8-leaf tree:
its node and root hashes (testonly/constants.go), the inclusion and consistency proofs
and the edge-case tables of proof/verify_test.go, and the hasher answers of
rfc6962/rfc6962_test.go. The corruptions applied to each good proof are the ones
verify_test.go applies (corruptInclusionProof, corruptConsistencyProof).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError, ProofError, RootMismatch
from ledger.tlog import merkle

VECTORS = Path(__file__).parent / "vectors" / "merkle"


def _load(name: str) -> dict:
    return json.loads((VECTORS / name).read_text())


TREE = _load("reference_tree.json")
LEAF_INPUTS = [bytes.fromhex(x) for x in TREE["leaf_inputs"]]
LEAVES = [merkle.leaf_hash(x) for x in LEAF_INPUTS]
ROOTS = [bytes.fromhex(x) for x in TREE["roots_by_size"]]
NODES = {
    (level, index): bytes.fromhex(h)
    for level, row in enumerate(TREE["node_hashes_by_level"])
    for index, h in enumerate(row)
}
INCLUSION = _load("inclusion.json")["cases"]
CONSISTENCY = _load("consistency.json")["cases"]
INCLUSION_EDGES = _load("inclusion_edge_cases.json")["cases"]
CONSISTENCY_EDGES = _load("consistency_edge_cases.json")["cases"]
HASHER = _load("rfc6962_hasher.json")["cases"]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hexes(xs: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in xs]


def _ids(cases: list[dict]) -> list[str]:
    return [c["name"] for c in cases]


def _dict_getter(store: dict[merkle.Node, bytes], size: int | None = None) -> Callable:
    """A node getter over stored complete subtrees; with ``size``, only nodes complete then."""

    def get(nodes: list[merkle.Node]) -> dict[merkle.Node, bytes]:
        if size is not None:
            for level, index in nodes:
                assert (index + 1) << level <= size, f"node {(level, index)} not complete at {size}"
        return {n: store[n] for n in nodes}

    return get


def _build(leaves: Sequence[bytes]) -> tuple[dict[merkle.Node, bytes], list[bytes]]:
    """Append ``leaves`` to a Frontier: every stored node, and the root after each size."""
    frontier = merkle.Frontier()
    store: dict[merkle.Node, bytes] = {}
    roots = [frontier.root()]
    for leaf in leaves:
        for level, index, h in frontier.append(leaf):
            assert (level, index) not in store, "a node was created twice"
            store[(level, index)] = h
        roots.append(frontier.root())
    return store, roots


# --- hashing -------------------------------------------------------------------------


@pytest.mark.parametrize("case", HASHER, ids=_ids(HASHER))
def test_rfc6962_hasher(case: dict) -> None:
    want = bytes.fromhex(case["want"])
    if case["kind"] == "empty":
        assert want == merkle.EMPTY_ROOT
        assert merkle.mth([]) == want
        assert merkle.Frontier().root() == want
    elif case["kind"] == "leaf":
        assert merkle.leaf_hash(bytes.fromhex(case["data"])) == want
    else:
        assert merkle.node_hash(bytes.fromhex(case["left"]), bytes.fromhex(case["right"])) == want


def test_leaf_hashes_are_the_published_level_zero() -> None:
    assert [NODES[(0, i)] for i in range(8)] == LEAVES


@pytest.mark.parametrize("size", range(9))
def test_reference_root(size: int) -> None:
    assert merkle.mth(LEAVES[:size]) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_frontier_root_and_compact_range(size: int) -> None:
    store, roots = _build(LEAVES[:size])
    assert roots == ROOTS[: size + 1]
    # Every node Frontier stores is a published complete-subtree hash, and all of them are there.
    want_nodes = {n: h for n, h in NODES.items() if (n[1] + 1) << n[0] <= size}
    assert store == want_nodes
    # The compact range (right edge) is the published one, and a Frontier restored from it
    # carries on to the same roots.
    compact = [tuple(n) for n in TREE["compact_trees_by_size"][size]]
    assert merkle.subtree_nodes(0, size) == compact
    restored = merkle.Frontier(size, [NODES[n] for n in compact])
    assert restored.root() == ROOTS[size]
    for i in range(size, 8):
        restored.append(LEAVES[i])
        assert restored.root() == ROOTS[i + 1]


def test_frontier_refuses_wrong_number_of_hashes() -> None:
    with pytest.raises(ValueError):
        merkle.Frontier(3, [NODES[(1, 0)]])


# --- published proofs: generation and verification -----------------------------------


@pytest.mark.parametrize("case", INCLUSION, ids=_ids(INCLUSION))
def test_inclusion_vector(case: dict) -> None:
    index, size, proof = case["leaf_index"], case["tree_size"], _hexes(case["proof"])
    ranges = merkle.inclusion_ranges(index, size)
    assert merkle.resolve_from_leaves(ranges, LEAVES) == proof
    assert merkle.resolve(ranges, _dict_getter(NODES, size)) == proof
    assert merkle.root_from_inclusion_proof(index, size, LEAVES[index], proof) == ROOTS[size]
    merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])


@pytest.mark.parametrize("case", CONSISTENCY, ids=_ids(CONSISTENCY))
def test_consistency_vector(case: dict) -> None:
    old, new, proof = case["size1"], case["size2"], _hexes(case["proof"])
    ranges = merkle.consistency_ranges(old, new)
    assert merkle.resolve_from_leaves(ranges, LEAVES) == proof
    assert merkle.resolve(ranges, _dict_getter(NODES, new)) == proof
    merkle.verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


def _corrupt_inclusion(index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes):
    """transparency-dev/merkle proof/verify_test.go corruptInclusionProof (unsigned wrap-around
    of ``leafIndex - 1`` left out: Python has no uint64)."""
    probes = [
        ("leafIndex+1", index + 1, size, root, leaf, proof),
        ("leafIndex^2", index ^ 2, size, root, leaf, proof),
        ("treeSize*2", index, size * 2, root, leaf, proof),
        ("treeSize/2", index, size // 2, root, leaf, proof),
        ("wrong-leaf", index, size, root, b"WrongLeaf", proof),
        ("empty-root", index, size, merkle.EMPTY_ROOT, leaf, proof),
        ("random-root", index, size, SOME_HASH, leaf, proof),
        ("trailing-garbage", index, size, root, leaf, [*proof, b""]),
        ("trailing-root", index, size, root, leaf, [*proof, root]),
        ("preceding-garbage", index, size, root, leaf, [b"", *proof]),
        ("preceding-root", index, size, root, leaf, [root, *proof]),
    ]
    if index > 0:
        probes.append(("leafIndex-1", index - 1, size, root, leaf, proof))
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 8]) + wrong[i][1:]
        probes.append((f"modified-proof[{i}]-bit-3", index, size, root, leaf, wrong))
    if proof:
        probes.append(("removed-component", index, size, root, leaf, proof[:-1]))
    if len(proof) > 1:
        probes.append(("inserted-component", index, size, root, leaf, [proof[0], SOME_HASH, *proof[1:]]))
    return probes


INCLUSION_PROBES = [
    pytest.param(*probe[1:], id=f"{case['name']}-{probe[0]}")
    for case in INCLUSION
    for probe in _corrupt_inclusion(
        case["leaf_index"],
        case["tree_size"],
        _hexes(case["proof"]),
        ROOTS[case["tree_size"]],
        LEAVES[case["leaf_index"]],
    )
]


def _inclusion_error(index: int, size: int, leaf: bytes, proof: list[bytes], root: bytes) -> type[Exception]:
    """What a bad inclusion proof must raise: ProofError when it cannot be a proof for
    (index, size) at all (index outside the tree, wrong length, a leaf or proof hash not 32
    bytes), RootMismatch when it is well formed but does not lead to ``root``."""
    if not 0 <= index < size or any(len(h) != 32 for h in [leaf, *proof]):
        return ProofError
    return ProofError if len(proof) != len(merkle.inclusion_ranges(index, size)) else RootMismatch


def _consistency_error(old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]) -> type[Exception]:
    """The same for consistency proofs: between equal sizes (or from 0) the proof must be
    empty; otherwise the old root and the proof hashes must be 32 bytes and the proof of the
    length the sizes call for."""
    if not 0 <= old <= new:
        return ProofError
    if old in (0, new):
        return ProofError if proof else RootMismatch
    if any(len(h) != 32 for h in [root1, *proof]):
        return ProofError
    return ProofError if len(proof) != len(merkle.consistency_ranges(old, new)) else RootMismatch


@pytest.mark.parametrize("index,size,root,leaf,proof", INCLUSION_PROBES)
def test_corrupted_inclusion_proof_is_refused(index, size, root, leaf, proof) -> None:
    with pytest.raises(_inclusion_error(index, size, leaf, proof, root)):
        merkle.verify_inclusion(index, size, leaf, proof, root)


def _corrupt_consistency(old: int, new: int, root1: bytes, root2: bytes, proof: list[bytes]):
    """transparency-dev/merkle proof/verify_test.go corruptConsistencyProof."""
    probes = [
        ("size1-1", old - 1, new, root1, root2, proof),
        ("size1+1", old + 1, new, root1, root2, proof),
        ("size1^2", old ^ 2, new, root1, root2, proof),
        ("size2*2", old, new * 2, root1, root2, proof),
        ("size2/2", old, new // 2, root1, root2, proof),
        ("wrong-root1", old, new, b"WrongRoot", root2, proof),
        ("wrong-root2", old, new, root1, b"WrongRoot", proof),
        ("swapped-roots", old, new, root2, root1, proof),
        ("empty-proof", old, new, root1, root2, []),
        ("trailing-garbage", old, new, root1, root2, [*proof, b""]),
        ("trailing-root1", old, new, root1, root2, [*proof, root1]),
        ("trailing-root2", old, new, root1, root2, [*proof, root2]),
        ("preceding-garbage", old, new, root1, root2, [b"", *proof]),
        ("preceding-root1", old, new, root1, root2, [root1, *proof]),
        ("preceding-root2", old, new, root1, root2, [root2, *proof]),
        ("preceding-proof[0]", old, new, root1, root2, [proof[0], *proof]),
        ("truncated-proof", old, new, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = bytes([wrong[i][0] ^ 16]) + wrong[i][1:]
        probes.append((f"modified-proof[{i}]-bit-4", old, new, root1, root2, wrong))
    return probes


CONSISTENCY_PROBES = [
    pytest.param(*probe[1:], id=f"{case['name']}-{probe[0]}")
    for case in CONSISTENCY
    if case["proof"]  # as in verify_test.go: only non-trivial proofs are corrupted
    for probe in _corrupt_consistency(
        case["size1"],
        case["size2"],
        ROOTS[case["size1"]],
        ROOTS[case["size2"]],
        _hexes(case["proof"]),
    )
]


@pytest.mark.parametrize("old,new,root1,root2,proof", CONSISTENCY_PROBES)
def test_corrupted_consistency_proof_is_refused(old, new, root1, root2, proof) -> None:
    with pytest.raises(_consistency_error(old, new, root1, root2, proof)):
        merkle.verify_consistency(old, new, root1, root2, proof)


# --- published edge-case tables ----------------------------------------------------------

_KNOWN_EDGE_BUGS: dict[str, str] = {}


def _edge_params(cases: list[dict]) -> list:
    return [
        pytest.param(
            c,
            id=c["name"],
            marks=[pytest.mark.xfail(strict=True, reason=_KNOWN_EDGE_BUGS[c["name"]])]
            if c["name"] in _KNOWN_EDGE_BUGS
            else [],
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _edge_params(CONSISTENCY_EDGES))
def test_consistency_edge_case(case: dict) -> None:
    args = (
        case["size1"],
        case["size2"],
        bytes.fromhex(case["root1"]),
        bytes.fromhex(case["root2"]),
        _hexes(case["proof"]),
    )
    if case["want_error"]:
        with pytest.raises(_consistency_error(*args)):
            merkle.verify_consistency(*args)
    else:
        merkle.verify_consistency(*args)


@pytest.mark.parametrize("case", _edge_params(INCLUSION_EDGES))
def test_inclusion_edge_case(case: dict) -> None:
    args = (
        case["leaf_index"],
        case["tree_size"],
        bytes.fromhex(case["leaf"]),
        _hexes(case["proof"]),
        bytes.fromhex(case["root"]),
    )
    if case["want_error"]:
        with pytest.raises(_inclusion_error(*args)):
            merkle.verify_inclusion(*args)
    else:
        merkle.verify_inclusion(*args)


# --- attacks -------------------------------------------------------------------------------


def _tree(size: int) -> tuple[list[bytes], list[bytes]]:
    leaves = [merkle.leaf_hash(b"entry %d" % i) for i in range(size)]
    return leaves, [merkle.mth(leaves[:n]) for n in range(size + 1)]


def _inclusion(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    return merkle.resolve_from_leaves(merkle.inclusion_ranges(index, size), leaves)


def test_wrong_leaf_is_refused() -> None:
    leaves, roots = _tree(13)
    proof = _inclusion(leaves, 6, 13)
    merkle.verify_inclusion(6, 13, leaves[6], proof, roots[13])
    for other in (leaves[5], leaves[7], merkle.leaf_hash(b"entry 6 "), merkle.EMPTY_ROOT):
        with pytest.raises(RootMismatch):
            merkle.verify_inclusion(6, 13, other, proof, roots[13])


@pytest.mark.parametrize("index", range(13))
def test_proof_is_bound_to_its_index(index: int) -> None:
    leaves, roots = _tree(13)
    proof = _inclusion(leaves, index, 13)
    for wrong in range(13):
        if wrong == index:
            continue
        with pytest.raises(_inclusion_error(wrong, 13, leaves[index], proof, roots[13])):
            merkle.verify_inclusion(wrong, 13, leaves[index], proof, roots[13])


def test_index_outside_tree_is_refused() -> None:
    leaves, roots = _tree(4)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(4, 4, leaves[3], _inclusion(leaves, 3, 4), roots[4])
    with pytest.raises(ProofError):
        merkle.inclusion_ranges(4, 4)
    with pytest.raises(ProofError):
        merkle.consistency_ranges(5, 4)


def test_negative_index_is_refused() -> None:
    leaf = merkle.leaf_hash(b"only")
    with pytest.raises(ProofError):
        merkle.verify_inclusion(-1, 1, leaf, [], leaf)


@pytest.mark.parametrize("size", [2, 3, 5, 8, 13, 64, 100])
def test_truncated_and_extended_proofs_are_refused(size: int) -> None:
    leaves, roots = _tree(size)
    for index in range(size):
        proof = _inclusion(leaves, index, size)
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaves[index], proof[:-1], roots[size])
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaves[index], [*proof, roots[size]], roots[size])
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaves[index], [*proof, proof[-1]], roots[size])
    for old in range(1, size):
        proof = merkle.resolve_from_leaves(merkle.consistency_ranges(old, size), leaves)
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, size, roots[old], roots[size], proof[:-1])
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, size, roots[old], roots[size], [*proof, roots[size]])


def test_node_presented_as_leaf_has_a_different_hash() -> None:
    """Second preimage: the 64 bytes of an interior node, submitted as leaf data, do not hash
    to that node (RFC 9162 §2.1.1 domain separation), so they prove nothing."""
    leaves, roots = _tree(4)
    left = merkle.node_hash(leaves[0], leaves[1])
    right = merkle.node_hash(leaves[2], leaves[3])
    assert merkle.node_hash(left, right) == roots[4]
    forged = merkle.leaf_hash(left + right)
    assert forged != roots[4]
    assert forged == hashlib.sha256(b"\x00" + left + right).digest()
    assert roots[4] == hashlib.sha256(b"\x01" + left + right).digest()
    # The interior node (leaves 0..1) claimed as leaf 0 of a 2-leaf tree [node(0,1), node(2,3)]:
    with pytest.raises(RootMismatch):
        merkle.verify_inclusion(0, 2, merkle.leaf_hash(leaves[0] + leaves[1]), [right], roots[4])
    # A one-leaf tree whose leaf data is the root's 64-byte preimage has another root.
    assert merkle.mth([merkle.leaf_hash(left + right)]) != roots[4]
    # And the published tree: node (1, 0) as leaf data is not leaf 0 of size 2.
    preimage = NODES[(0, 0)] + NODES[(0, 1)]
    assert merkle.leaf_hash(preimage) != ROOTS[2]
    assert merkle.node_hash(NODES[(0, 0)], NODES[(0, 1)]) == ROOTS[2]


def test_leaf_and_node_prefixes() -> None:
    assert merkle.LEAF_PREFIX == b"\x00"
    assert merkle.NODE_PREFIX == b"\x01"


def test_proof_json_round_trip() -> None:
    case = INCLUSION[1]
    proof = merkle.InclusionProof(case["leaf_index"], case["tree_size"], tuple(_hexes(case["proof"])))
    obj = proof.to_json()
    assert obj == {"leaf_index": 0, "tree_size": 8, "hashes": case["proof"]}
    assert merkle.InclusionProof.from_json(obj) == proof
    cons = CONSISTENCY[2]
    cproof = merkle.ConsistencyProof(cons["size1"], cons["size2"], tuple(_hexes(cons["proof"])))
    assert merkle.ConsistencyProof.from_json(cproof.to_json()) == cproof


@pytest.mark.parametrize(
    "obj",
    [
        {"leaf_index": 0, "tree_size": 8},
        {"leaf_index": -1, "tree_size": 8, "hashes": []},
        {"leaf_index": True, "tree_size": 8, "hashes": []},
        {"leaf_index": "0", "tree_size": 8, "hashes": []},
        {"leaf_index": 0, "tree_size": 8, "hashes": "00"},
        {"leaf_index": 0, "tree_size": 8, "hashes": ["ab" * 31]},
        {"leaf_index": 0, "tree_size": 8, "hashes": ["AB" * 32]},
        {"leaf_index": 0, "tree_size": 8, "hashes": ["zz" * 32]},
        {"leaf_index": 0, "tree_size": 8, "hashes": [None]},
        [],
        None,
    ],
)
def test_malformed_inclusion_proof_json(obj) -> None:
    with pytest.raises(LedgerError):
        merkle.InclusionProof.from_json(obj)


# --- property: Frontier + resolve + verification agree with the naive reference ---------------


def _check_all_proofs(leaves: Sequence[bytes], size: int, store, roots) -> None:
    @functools.cache
    def ref(a: int, b: int) -> bytes:
        return merkle.mth(leaves[a:b])

    assert roots[: size + 1] == [ref(0, n) for n in range(size + 1)]
    getter = _dict_getter(store, size)
    for index in range(size):
        ranges = merkle.inclusion_ranges(index, size)
        proof = merkle.resolve(ranges, getter)
        assert proof == [ref(a, b) for a, b in ranges]
        merkle.verify_inclusion(index, size, leaves[index], proof, roots[size])
    for old in range(size + 1):
        ranges = merkle.consistency_ranges(old, size)
        proof = merkle.resolve(ranges, getter)
        assert proof == [ref(a, b) for a, b in ranges]
        merkle.verify_consistency(old, size, roots[old], roots[size], proof)
        if 0 < old < size:
            assert merkle.roots_from_consistency_proof(old, size, roots[old], proof) == (
                roots[old],
                roots[size],
            )


@settings(max_examples=60)
@given(size=st.integers(1, 300), salt=st.binary(min_size=0, max_size=8))
@example(size=1, salt=b"")
@example(size=2, salt=b"")
@example(size=255, salt=b"")
@example(size=256, salt=b"")
@example(size=257, salt=b"")
@example(size=300, salt=b"")
def test_frontier_resolve_and_verify_agree_with_reference(size: int, salt: bytes) -> None:
    leaves = [merkle.leaf_hash(salt + i.to_bytes(4, "big")) for i in range(size)]
    store, roots = _build(leaves)
    _check_all_proofs(leaves, size, store, roots)


def test_every_proof_of_every_small_tree() -> None:
    """Exhaustive below 48: every size, every index, every older size, with the getter limited
    to the nodes complete at that size (what a store holds when it serves that size)."""
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(48)]
    store, roots = _build(leaves)
    for size in range(1, 48):
        _check_all_proofs(leaves, size, store, roots)
