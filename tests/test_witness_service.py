"""The witness (SPEC §14, C2SP tlog-witness v1): the protocol's answers, the published
litewitness exchange replayed against our witness process, and its promises under
concurrency and crashes."""

from __future__ import annotations

import base64
import hashlib
import http.client
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from witnesses import ToyLog, WitnessProcess, get, init_witness, post, run

from ledger.crypto.keys import PublicKey
from ledger.tlog import cosignature, note
from ledger.witness.protocol import add_checkpoint, monitor_checkpoint
from ledger.witness.state import WitnessHome

LITEWITNESS = Path(__file__).parent / "vectors" / "witness" / "torchwood" / "litewitness.txt"
ORIGIN = "example.com/toy-log"
NAME = "witness.example/w1"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[WitnessHome]:
    w = WitnessHome.init(tmp_path / "w", NAME)
    yield w
    w.close()


@pytest.fixture
def log(home: WitnessHome) -> ToyLog:
    toy = ToyLog.make(ORIGIN).grow(20)
    home.add_log(toy.vkey)
    return toy


def call(home: WitnessHome, body: str) -> tuple[int, str, str]:
    r = add_checkpoint(home, body.encode())
    return r.status, r.content_type, r.body


# -- the protocol, in process -------------------------------------------------------------


def test_cosigns_from_zero_then_extends_with_a_proof(home: WitnessHome, log: ToyLog) -> None:
    status, _, body = call(home, log.request(0, 5))
    assert status == 200
    cosigned = note.add_signatures(log.checkpoint(5), [body])
    found = cosignature.verify_cosignatures(cosigned, [home.cosigner.vkey])
    assert list(found) == [NAME]
    assert call(home, log.request(5, 12))[0] == 200
    assert call(home, log.request(12, 12))[0] == 200  # the same checkpoint again
    assert home.log(ORIGIN).size == 12  # type: ignore[union-attr]


def test_stale_old_size_is_409_with_the_size(home: WitnessHome, log: ToyLog) -> None:
    call(home, log.request(0, 5))
    assert call(home, log.request(0, 9)) == (409, "text/x.tlog.size", "5\n")
    assert call(home, log.request(3, 9)) == (409, "text/x.tlog.size", "5\n")


def test_fork_is_422_and_kept_as_evidence(home: WitnessHome, log: ToyLog) -> None:
    call(home, log.request(0, 8))
    fork = log.fork()
    fork.leaves = fork.leaves[:6]
    fork.grow(6, tag=b"fork")
    status, _, body = call(home, fork.request(8, 12))
    assert status == 422 and "consistency proof" in body
    status, _, body = call(home, fork.request(8, 8))
    assert status == 422 and "another root" in body
    assert [r["status"] for r in home.refusals()] == [422, 422]
    assert home.log(ORIGIN).size == 8  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mangle", "status", "why"),
    [
        (lambda b: b.replace("old ", "old  ", 1), 400, "is not 'old <size>'"),
        (lambda b: b.replace("old 0", "old 07", 1), 400, "is not 'old <size>'"),
        (lambda b: b.replace("\n\n", "\n", 1), 400, "is not base64"),
        (lambda b: "old 0\n" + "AAAA\n" * 64 + "\n" + b.split("\n\n", 1)[1], 400, "at most 63"),
        (lambda b: "old 0\nAAAA\n\n" + b.split("\n\n", 1)[1], 400, "is 3 bytes, want 32"),
        (lambda b: b.replace("old 0", "old 99", 1), 400, "above the checkpoint size"),
        (lambda b: b.replace(ORIGIN, "example.com/other", 1), 404, "unknown log"),
        (lambda b: b.replace("\n5\n", "\n6\n", 1), 403, "invalid signature"),
        (lambda b: b[: b.rindex("\u2014")] + "\u2014 someone AAAAAAA=\n", 403, "invalid signature"),
        (
            lambda b: "old 0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n" + b.split("\n\n", 1)[1],
            422,
            "size 0",
        ),
    ],
)
def test_refusals(home: WitnessHome, log: ToyLog, mangle, status: int, why: str) -> None:  # type: ignore[no-untyped-def]
    got, _, body = call(home, mangle(log.request(0, 5)))
    assert (got, why in body) == (status, True), body
    assert home.log(ORIGIN).size == 0  # type: ignore[union-attr]


def test_size_zero_needs_the_empty_root(home: WitnessHome, log: ToyLog) -> None:
    assert call(home, log.request(0, 0))[0] == 200
    bad = note.SignedCheckpoint.sign(note.Checkpoint(ORIGIN, 0, b"\x01" * 32), log.signer).note
    status, _, body = call(home, "old 0\n\n" + bad)
    assert status == 422 and "empty tree" in body


def test_a_second_log_key_and_an_impostor(home: WitnessHome, log: ToyLog) -> None:
    rotated = ToyLog.make(ORIGIN, seed=b"\x12" * 32)
    rotated.leaves = list(log.leaves)
    assert call(home, rotated.request(0, 4))[0] == 403
    home.add_log(rotated.vkey)
    assert call(home, rotated.request(0, 4))[0] == 200


def test_monitoring_checkpoint(home: WitnessHome, log: ToyLog) -> None:
    origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
    assert monitor_checkpoint(home, origin_hash).status == 404
    call(home, log.request(0, 7))
    r = monitor_checkpoint(home, origin_hash)
    assert r.status == 200
    assert note.SignedCheckpoint.open(r.body, log.signer.verifier).checkpoint.size == 7
    assert list(cosignature.verify_cosignatures(r.body, [home.cosigner.vkey])) == [NAME]


# -- the published litewitness exchange ------------------------------------------------------


def litewitness_exchange() -> tuple[str, list[tuple[str, int, str]]]:
    """(log public key hex, [(request body, expected status, expected body text)]) from the
    hurl file inside litewitness.txt."""
    text = LITEWITNESS.read_text()
    key = re.search(r"add-sigsum-log -key=([0-9a-f]{64})", text)
    assert key is not None
    hurl = text.split("-- add-checkpoint.hurl --\n", 1)[1]
    cases = re.findall(
        r"POST \S+\n```\n(.*?)```\nHTTP (\d+)\n\[Asserts\]\nbody (?:contains|==) \"(.*?)\"", hurl, re.S
    )
    assert len(cases) == 9
    return key.group(1), [(body, int(status), want.replace("\\n", "\n")) for body, status, want in cases]


# torchwood's test predates the text of tlog-witness (and SPEC §14) that answers an unknown
# origin with 404 Not Found; it expects litewitness's older 403.
SPEC_DIFFERENCES = {"unknown log": 404}


@pytest.mark.slow
def test_litewitness_exchange_replayed_against_our_witness_process(tmp_path: Path) -> None:
    key_hex, cases = litewitness_exchange()
    public = bytes.fromhex(key_hex)
    origin = "sigsum.org/v1/tree/" + hashlib.sha256(public).hexdigest()
    vkey = note.Verifier(origin, PublicKey(public)).to_text()
    init_witness(tmp_path / "w", "example.com/witness")
    added = run("witness", "add-log", "--home", str(tmp_path / "w"), "--vkey", vkey)
    assert added.returncode == 0, added.stderr
    w = WitnessProcess(tmp_path / "w")
    try:
        for i, (body, status, want) in enumerate(cases):
            got, content_type, text = w.add_checkpoint(body)
            assert got == SPEC_DIFFERENCES.get(want, status), (i, got, text)
            assert want in text, (i, text)
            if status == 409:
                assert content_type == "text/x.tlog.size"
                assert text == want
    finally:
        w.stop()
    logs = run("witness", "logs", "--home", str(tmp_path / "w"))
    assert origin in logs.stdout and '"size":5' in logs.stdout


# -- promises under load and faults ---------------------------------------------------------


@pytest.mark.slow
def test_concurrent_requests_never_roll_back(tmp_path: Path) -> None:
    """Many clients race from the same old size: exactly one wins, the rest learn its size."""
    toy = ToyLog.make(ORIGIN).grow(40)
    init_witness(tmp_path / "w", NAME)
    assert run("witness", "add-log", "--home", str(tmp_path / "w"), "--vkey", toy.vkey).returncode == 0
    w = WitnessProcess(tmp_path / "w")
    results: list[tuple[int, str, str]] = []
    try:
        assert w.add_checkpoint(toy.request(0, 10))[0] == 200
        barrier = threading.Barrier(12)

        def racer(size: int) -> None:
            body = toy.request(10, size)
            barrier.wait()
            results.append(w.add_checkpoint(body))

        threads = [threading.Thread(target=racer, args=(11 + i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [r for r in results if r[0] == 200]
        assert len(winners) == 1
        sizes = {r[2] for r in results if r[0] == 409}
        assert len(sizes) == 1 and len(results) == 12
        stored = int(sizes.pop())
        _, text = get(f"{w.url}/{hashlib.sha256(ORIGIN.encode()).hexdigest()}/checkpoint")
        assert f"\n{stored}\n" in text
    finally:
        w.stop()


@pytest.mark.slow
def test_killed_mid_request_restarted_still_refuses_a_fork(tmp_path: Path) -> None:
    toy = ToyLog.make(ORIGIN).grow(30)
    init_witness(tmp_path / "w", NAME)
    assert run("witness", "add-log", "--home", str(tmp_path / "w"), "--vkey", toy.vkey).returncode == 0
    w = WitnessProcess(tmp_path / "w")
    assert w.add_checkpoint(toy.request(0, 16))[0] == 200
    # A request is on the wire, half sent, when the witness dies.
    body = toy.request(16, 30).encode()
    sock = socket.create_connection(("127.0.0.1", w.port))
    sock.sendall(b"POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
    sock.sendall(body[: len(body) // 2])
    w.kill()
    sock.close()
    w.start()
    try:
        fork = toy.fork()
        fork.leaves = fork.leaves[:10]
        fork.grow(10, tag=b"fork")
        status, _, text = w.add_checkpoint(fork.request(16, 20))
        assert status == 422 and "consistency proof" in text
        assert w.add_checkpoint(fork.request(0, 20))[:3] == (409, "text/x.tlog.size", "16\n")
        assert w.add_checkpoint(toy.request(16, 30))[0] == 200  # the honest log goes on
    finally:
        w.stop()


def test_bad_commands_are_one_clear_line(tmp_path: Path) -> None:
    init_witness(tmp_path / "w", NAME)
    again = run("witness", "init", "--home", str(tmp_path / "w"), "--name", NAME)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "already holds" in again.stderr
    bad = run("witness", "add-log", "--home", str(tmp_path / "w"), "--vkey", "nope")
    assert bad.returncode == 1 and "vkey" in bad.stderr and "Traceback" not in bad.stderr
    missing = run("witness", "serve", "--home", str(tmp_path / "none"))
    assert missing.returncode == 1 and "no witness at" in missing.stderr
    assert (tmp_path / "w" / "witness.key").stat().st_mode & 0o077 == 0
    named = run("witness", "init", "--home", str(tmp_path / "x"), "--name", "has space")
    assert named.returncode == 1 and "not a key name" in named.stderr


def test_vkey_is_printed_at_init(tmp_path: Path) -> None:
    vkey = init_witness(tmp_path / "w", NAME)
    parsed = cosignature.cosigner_vkey(vkey)
    assert parsed.name == NAME and base64.b64decode(vkey.split("+", 2)[2])[0] == 4


@pytest.mark.slow
def test_http_edges(tmp_path: Path) -> None:
    toy = ToyLog.make(ORIGIN).grow(3)
    init_witness(tmp_path / "w", NAME)
    assert run("witness", "add-log", "--home", str(tmp_path / "w"), "--vkey", toy.vkey).returncode == 0
    w = WitnessProcess(tmp_path / "w")
    try:
        assert get(w.url + "/nothing-here")[0] == 404
        assert get(f"{w.url}/{'0' * 64}/checkpoint")[0] == 404
        assert post(w.url + "/other", toy.request(0))[0] == 404
        # keep-alive: two requests on one connection, the second learns the size from the first
        conn = http.client.HTTPConnection("127.0.0.1", w.port, timeout=10)
        conn.request("POST", "/add-checkpoint", body=toy.request(0, 2).encode())
        first = conn.getresponse()
        assert first.status == 200 and first.read().decode().startswith(f"\u2014 {NAME} ")
        conn.request("POST", "/add-checkpoint", body=toy.request(0, 3).encode())
        second = conn.getresponse()
        assert (second.status, second.read()) == (409, b"2\n")
        conn.close()
    finally:
        w.stop()
