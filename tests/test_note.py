"""C2SP signed notes and tlog checkpoints (SPEC §8) against published vectors.

Vectors: golang.org/x/mod sumdb/note/note_test.go (the PeterNeumann and EnochRoot keys, the
signed note, Go's malformed-note table and verifier-key manglings), the sum.golang.org key
and one of its signed tree heads, and the C2SP tlog-checkpoint example and rules.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ledger.crypto import keys
from ledger.errors import BadSignature, ConfigError, LedgerError, Malformed
from ledger.tlog import merkle, note

VECTORS = Path(__file__).parent / "vectors"
GO = json.loads((VECTORS / "note" / "golang-mod-note_test.json").read_text())
SUMDB = json.loads((VECTORS / "note" / "sum-golang-org.json").read_text())
CHECKPOINTS = json.loads((VECTORS / "checkpoint" / "c2sp-tlog-checkpoint.json").read_text())

TEXT = GO["text"]
PETER = GO["peter"]
ENOCH = GO["enoch"]


def _seed_from_skey(skey: str) -> tuple[str, bytes]:
    """Parse a Go note signer key PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)> (the base64
    may itself contain '+', so split at most four times, as Go's chop does)."""
    private, key, name, hash_hex, key64 = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    raw = base64.b64decode(key64, validate=True)
    assert raw[0] == note.ALG_ED25519 and len(raw) == 33
    return name, raw[1:]


def _peter_signer() -> note.Signer:
    name, seed = _seed_from_skey(PETER["skey"])
    return note.Signer(name, keys.PrivateKey.from_seed(seed))


def _verifier_by_hand(vkey: str) -> note.Verifier:
    name, _, rest = vkey.partition("+")
    _, _, key64 = rest.partition("+")
    return note.Verifier(name, keys.PublicKey(base64.b64decode(key64)[1:]))


# --- verifier keys -----------------------------------------------------------------------


@pytest.mark.parametrize("who", [PETER, ENOCH], ids=["PeterNeumann", "EnochRoot"])
def test_verifier_from_text_round_trip(who: dict) -> None:
    verifier = note.Verifier.from_text(who["vkey"])
    assert verifier.name == who["name"]
    assert verifier.hash.hex() == who["key_hash"]
    assert verifier.to_text() == who["vkey"]
    assert note.key_hash(verifier.name, verifier.public.raw).hex() == who["key_hash"]


def test_signer_key_gives_the_published_verifier_key() -> None:
    signer = _peter_signer()
    assert signer.name == PETER["name"]
    assert signer.verifier.to_text() == PETER["vkey"]
    assert signer.verifier == note.Verifier.from_text(PETER["vkey"])


def test_sign_reproduces_published_note() -> None:
    """TestSign: Ed25519 is deterministic, so signing the text gives Go's bytes exactly."""
    assert _peter_signer().sign_note(TEXT) == GO["signed_by_peter"]
    assert GO["signed_by_peter"] == TEXT + "\n" + PETER["signature_line"]


def test_sign_refuses_text_without_final_newline() -> None:
    with pytest.raises(ValueError):
        _peter_signer().sign_note("abc")


def test_go_verifier_key_manglings_are_refused() -> None:
    """TestNewVerifier: every proper substring of the key and every single-byte increment."""
    vkey = PETER["vkey"]
    accepted = []
    for i in range(len(vkey) + 1):
        for j in range(i + 1, len(vkey) + 1):
            if (i, j) != (0, len(vkey)):
                try:
                    note.Verifier.from_text(vkey[i:j])
                    accepted.append(vkey[i:j])
                except Malformed:
                    pass
    for i in range(len(vkey)):
        mangled = vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :]
        try:
            note.Verifier.from_text(mangled)
            accepted.append(mangled)
        except Malformed:
            pass
    assert accepted == []


@pytest.mark.parametrize("case", GO["bad_vkeys"], ids=[c["name"] for c in GO["bad_vkeys"]])
def test_go_bad_verifier_keys(case: dict) -> None:
    with pytest.raises(Malformed):
        note.Verifier.from_text(case["vkey"])


def test_verifier_key_with_plus_in_base64() -> None:
    verifier = note.Verifier.from_text(SUMDB["vkey"])
    assert verifier.name == SUMDB["name"]
    assert verifier.to_text() == SUMDB["vkey"]


def test_verifier_key_with_empty_name_is_refused() -> None:
    public = keys.PrivateKey.from_seed(bytes(32)).public
    with pytest.raises(Malformed):
        note.Verifier.from_text(note.Verifier("", public).to_text())


# --- opening notes -------------------------------------------------------------------------


def test_open_published_note() -> None:
    verifier = note.Verifier.from_text(PETER["vkey"])
    assert note.open_note(GO["signed_by_peter"], verifier) == TEXT


def test_open_note_with_two_signatures() -> None:
    """TestOpen: a note signed by Peter and Enoch opens with either key; the other signature is
    someone else's and is ignored."""
    both = TEXT + "\n" + PETER["signature_line"] + ENOCH["signature_line"]
    assert note.open_note(both, note.Verifier.from_text(PETER["vkey"])) == TEXT
    assert note.open_note(both, note.Verifier.from_text(ENOCH["vkey"])) == TEXT
    dupes = TEXT + "\n" + PETER["signature_line"] * 2 + ENOCH["signature_line"] * 2
    assert note.open_note(dupes, note.Verifier.from_text(PETER["vkey"])) == TEXT


def test_open_sum_golang_org_tree_head() -> None:
    verifier = _verifier_by_hand(SUMDB["vkey"])
    assert verifier.hash.hex() == SUMDB["key_hash"]
    assert verifier.to_text() == SUMDB["vkey"]
    assert note.open_note(SUMDB["text"] + "\n" + SUMDB["signature_line"], verifier) == SUMDB["text"]


def test_wrong_key_is_refused() -> None:
    with pytest.raises(BadSignature):
        note.open_note(GO["signed_by_peter"], note.Verifier.from_text(ENOCH["vkey"]))
    # Same name, another key: the key hash differs, so the signature is not ours.
    impostor = note.Verifier(PETER["name"], keys.PrivateKey.from_seed(bytes(32)).public)
    with pytest.raises(BadSignature):
        note.open_note(GO["signed_by_peter"], impostor)


def test_misnamed_signature_is_not_ours() -> None:
    misnamed = GO["signed_by_peter"].replace("PeterNeumann", "CarmenSandiego")
    with pytest.raises(BadSignature):
        note.open_note(misnamed, note.Verifier.from_text(PETER["vkey"]))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda n: n.replace("cryptography", "Cryptography", 1),
        lambda n: n.replace("problem,", "problem;", 1),
        lambda n: "x" + n,
        lambda n: n.replace("is.\n", "is!\n", 1),
        lambda n: n.replace("\n\n", "\nextra line\n\n", 1),
    ],
    ids=["capital", "punctuation", "prefix", "last-line", "added-line"],
)
def test_tampered_text_is_refused(tamper) -> None:
    tampered = tamper(GO["signed_by_peter"])
    assert tampered != GO["signed_by_peter"]
    with pytest.raises(BadSignature):
        note.open_note(tampered, note.Verifier.from_text(PETER["vkey"]))


def test_invalid_signature_is_refused() -> None:
    """TestOpen 'Invalid signature': known key, signature bytes changed."""
    with pytest.raises(BadSignature):
        note.open_note(GO["invalid_signature"], note.Verifier.from_text(PETER["vkey"]))


def test_missing_signature_is_refused() -> None:
    with pytest.raises(Malformed):
        note.open_note(TEXT, note.Verifier.from_text(PETER["vkey"]))
    with pytest.raises(Malformed):
        note.open_note(TEXT + "\n", note.Verifier.from_text(PETER["vkey"]))
    # Only someone else's signature: no signature of ours.
    with pytest.raises(BadSignature):
        note.open_note(TEXT + "\n" + ENOCH["signature_line"], note.Verifier.from_text(PETER["vkey"]))


_MALFORMED = GO["malformed_notes"]


@pytest.mark.parametrize("case", _MALFORMED, ids=[c["name"] for c in _MALFORMED])
def test_go_malformed_notes_are_refused(case: dict) -> None:
    """TestOpen 'Invalid encoded message syntax' and 'too many signatures': Go answers
    "malformed note", and so do we."""
    with pytest.raises(Malformed):
        note.open_note(case["note"], note.Verifier.from_text(PETER["vkey"]))


def test_control_characters_make_a_note_malformed() -> None:
    signer = _peter_signer()
    with pytest.raises(Malformed):
        signer.sign_note("carriage\rreturn\n")
    signed = signer.sign_note("carriage return\n").replace(" ", "\r", 1)
    with pytest.raises(Malformed):
        note.open_note(signed, signer.verifier)


# --- checkpoints ---------------------------------------------------------------------------

_VALID = CHECKPOINTS["valid"]


@pytest.mark.parametrize("case", _VALID, ids=[c["name"] for c in _VALID])
def test_checkpoint_parse_and_round_trip(case: dict) -> None:
    checkpoint = note.Checkpoint.from_text(case["text"])
    assert checkpoint.origin == case["origin"]
    assert checkpoint.size == case["size"]
    assert checkpoint.root == base64.b64decode(case["root_b64"])
    assert list(checkpoint.extensions) == case["extensions"]
    assert checkpoint.to_text() == case["text"]
    assert note.Checkpoint.from_text(checkpoint.to_text()) == checkpoint


def test_empty_tree_checkpoint_root_is_sha256_of_nothing() -> None:
    empty = next(c for c in _VALID if c["name"] == "empty-tree")
    assert note.Checkpoint.from_text(empty["text"]).root == merkle.EMPTY_ROOT


_KNOWN_CHECKPOINT_BUGS: dict[str, str] = {}
_MALFORMED_CP = [
    pytest.param(
        c,
        id=c["name"],
        marks=[pytest.mark.xfail(strict=True, reason=_KNOWN_CHECKPOINT_BUGS[c["name"]])]
        if c["name"] in _KNOWN_CHECKPOINT_BUGS
        else [],
    )
    for c in CHECKPOINTS["malformed"]
]


@pytest.mark.parametrize("case", _MALFORMED_CP)
def test_malformed_checkpoint(case: dict) -> None:
    with pytest.raises(Malformed):
        note.Checkpoint.from_text(case["text"])


ORIGIN = "example.com/provenance-ledger"


def _signer(seed: bytes = b"\x07" * 32, origin: str = ORIGIN) -> note.Signer:
    return note.Signer(origin, keys.PrivateKey.from_seed(seed))


def test_signed_checkpoint_round_trip() -> None:
    signer = _signer()
    checkpoint = note.Checkpoint(ORIGIN, 12345, merkle.leaf_hash(b"root"))
    signed = note.SignedCheckpoint.sign(checkpoint, signer)
    assert signed.note.startswith(checkpoint.to_text() + "\n\u2014 " + ORIGIN + " ")
    opened = note.SignedCheckpoint.open(signed.note, signer.verifier)
    assert opened.checkpoint == checkpoint
    assert note.open_note(signed.note, signer.verifier) == checkpoint.to_text()


def test_signed_checkpoint_from_another_log_is_refused() -> None:
    ours, theirs = _signer(), _signer(b"\x08" * 32, "example.com/other-log")
    signed = note.SignedCheckpoint.sign(note.Checkpoint("example.com/other-log", 1, bytes(32)), theirs)
    with pytest.raises(BadSignature):
        note.SignedCheckpoint.open(signed.note, ours.verifier)


def test_checkpoint_origin_must_be_key_name() -> None:
    signer = _signer()
    signed = note.SignedCheckpoint.sign(note.Checkpoint("example.com/elsewhere", 1, bytes(32)), signer)
    with pytest.raises(BadSignature):
        note.SignedCheckpoint.open(signed.note, signer.verifier)


def test_signed_checkpoint_tampered_size_is_refused() -> None:
    signer = _signer()
    signed = note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, 5, bytes(32)), signer)
    with pytest.raises(BadSignature):
        note.SignedCheckpoint.open(signed.note.replace("\n5\n", "\n6\n", 1), signer.verifier)


@pytest.mark.parametrize("origin", ["example.com/log", "a", "x" * 200, "go.sum-database!tree"])
def test_check_origin_accepts(origin: str) -> None:
    assert note.check_origin(origin) == origin


@pytest.mark.parametrize("origin", ["", "has space", "a+b", "x" * 201, "tab\there", "caf\u00e9", "line\n"])
def test_check_origin_refuses(origin: str) -> None:
    with pytest.raises(ConfigError):
        note.check_origin(origin)


def test_malformed_signature_lines() -> None:
    verifier = note.Verifier.from_text(PETER["vkey"])
    hyphen = PETER["signature_line"].replace("\u2014", "-", 1)
    assert hyphen.startswith("- PeterNeumann ")
    for sigs in (
        hyphen,
        "\u2014 PeterNeumann not*base64\n",
        "\u2014 PeterNeumann AAAA\n",
    ):
        with pytest.raises(LedgerError):
            note.open_note(TEXT + "\n" + sigs, verifier)
