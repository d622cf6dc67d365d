"""C2SP tlog-policy: parsing with errors that name the line, and the quorum decision."""

from __future__ import annotations

import re

import pytest

from ledger.crypto.keys import PrivateKey
from ledger.errors import BadSignature
from ledger.tlog import note
from ledger.tlog.cosignature import Cosigner
from ledger.tlog.policy import Policy, PolicyError, QuorumNotMet

ORIGIN = "example.com/provenance-ledger/policy"
LOG = note.Signer(ORIGIN, PrivateKey.from_seed(b"\x03" * 32))


def w(i: int) -> Cosigner:
    return Cosigner(f"w{i}.example", PrivateKey.from_seed(bytes([100 + i]) * 32))


def policy_text(quorum: str = "quorum X", extra: str = "") -> str:
    return (
        f"# a comment\n\nlog {LOG.verifier.to_text()} https://ledger.example\n"
        + "".join(f"witness W{i} {w(i).vkey.to_text()} http://127.0.0.1:{9000 + i}\n" for i in range(6))
        + "group X 2 W0 W1 W2\n\t group Y any W3 W4 W5  \ngroup XY all X Y\n"
        + extra
        + quorum
        + "\n"
    )


def signed(size: int, cosigners: list[int], log: note.Signer = LOG) -> str:
    cp = note.SignedCheckpoint.sign(note.Checkpoint(log.name, size, bytes([size]) * 32), log)
    text = cp.checkpoint.to_text()
    return note.add_signatures(cp.note, [w(i).cosign(text, 1_800_000_000) for i in cosigners])


def test_parses_logs_witnesses_groups_and_quorum() -> None:
    p = Policy.from_text(policy_text("quorum XY"))
    assert [k.to_text() for k in p.logs] == [LOG.verifier.to_text()]
    assert p.log_urls == ("https://ledger.example",)
    assert p.witnesses["W1"].url == "http://127.0.0.1:9001"
    assert p.groups["X"].threshold == 2 and p.groups["Y"].threshold == 1 and p.groups["XY"].threshold == 2
    assert p.quorum == "XY"
    assert p.describe_quorum() == "2 of [2 of [W0, W1, W2], 1 of [W3, W4, W5]]"


@pytest.mark.parametrize(
    ("cosigned", "quorum", "ok"),
    [
        ({"W0", "W1"}, "X", True),
        ({"W0"}, "X", False),
        ({"W0", "W1", "W2"}, "XY", False),
        ({"W0", "W2", "W5"}, "XY", True),
        (set(), "none", True),
        ({"W4"}, "W4", True),
        ({"W3"}, "W4", False),
        ({"W3", "W4", "W5"}, "Y", True),
    ],
)
def test_quorum_decision(cosigned: set[str], quorum: str, ok: bool) -> None:
    assert Policy.from_text(policy_text(f"quorum {quorum}")).satisfied(cosigned) is ok


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("group Z 4 W0 W1 W2", "threshold '4' must be any, all or a number from 1 to 3"),
        ("group Z 0 W0", "threshold '0'"),
        ("group Z any W0 W0", "member twice"),
        ("group Z any Nobody", "'Nobody' is not defined above"),
        ("group X any W0", "'X' is defined twice"),
        ("group none any W0", "reserved"),
        (f"witness W9 {LOG.verifier.to_text()}", "cosignature key"),
        (f"witness W9 {w(1).vkey.to_text()}", "listed twice"),
        (f"log {w(1).vkey.to_text()}", "Ed25519 note key"),
        ("witness W9", "want: witness <name> <vkey> [<url>]"),
        ("witness W9 garbage", "not a verifier key"),
        ("quorum X", "a second quorum line"),
        ("frobnicate", "unknown keyword 'frobnicate'"),
        ("group Z\x0b any W0", "control character"),
    ],
)
def test_errors_name_the_line(line: str, why: str) -> None:
    text = policy_text(extra=line + "\n")
    lines = text.split("\n")
    number = len(lines) - lines[::-1].index(line)  # the last line saying it
    with pytest.raises(PolicyError, match=f"policy line {number}: .*{re.escape(why)}"):
        Policy.from_text(text)


def test_quorum_must_be_defined_above_and_present() -> None:
    with pytest.raises(PolicyError, match="line 1: quorum 'X' is not a witness or group defined above"):
        Policy.from_text("quorum X\n" + policy_text().replace("quorum X\n", ""))
    with pytest.raises(PolicyError, match="no quorum line"):
        Policy.from_text(policy_text().replace("quorum X\n", ""))


def test_check_accepts_a_quorum_and_refuses_less() -> None:
    p = Policy.from_text(policy_text("quorum XY"))
    assert p.check(signed(7, [0, 1, 4])).checkpoint.size == 7
    with pytest.raises(QuorumNotMet, match="cosigned by a quorum.*from: W0, W1"):
        p.check(signed(7, [0, 1]))


def test_check_refuses_a_checkpoint_of_another_log() -> None:
    p = Policy.from_text(policy_text("quorum none"))
    other = note.Signer(ORIGIN, PrivateKey.from_seed(b"\x04" * 32))
    with pytest.raises(BadSignature, match="not signed by a log of the policy"):
        p.check(signed(3, [], log=other))
    with pytest.raises(BadSignature, match="not one of the policy's logs"):
        p.check(signed(3, [], log=other), other.verifier)


def test_a_forged_cosignature_of_a_known_witness_rejects_the_note() -> None:
    p = Policy.from_text(policy_text("quorum W0"))
    good = signed(9, [0])
    forged = good.replace("\n9\n", "\n10\n", 1)  # log signature breaks too: re-sign the text
    cp = note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, 10, bytes([9]) * 32), LOG)
    forged = note.add_signatures(cp.note, [good.rstrip("\n").split("\n")[-1] + "\n"])
    with pytest.raises(BadSignature, match="w0.example does not verify"):
        p.check(forged)


def test_a_policy_log_name_must_be_the_checkpoint_origin() -> None:
    """The operator's real key under another name is another log (tlog-policy): a bundle's
    checkpoint of ORIGIN must not pass a policy that names ``evil.example/otherlog``."""
    renamed = note.Verifier("evil.example/otherlog", LOG.verifier.public)
    p = Policy.from_text(policy_text("quorum none").replace(LOG.verifier.to_text(), renamed.to_text()))
    with pytest.raises(BadSignature, match="as 'evil.example/otherlog', but the checkpoint's origin is"):
        p.check(signed(3, []), LOG.verifier)
    with pytest.raises(BadSignature, match="not signed by a log of the policy"):
        p.check(signed(3, []))
    assert (
        Policy.from_text(policy_text("quorum none")).check(signed(3, []), LOG.verifier).checkpoint.size == 3
    )
