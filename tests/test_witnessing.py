"""Witnessing end to end with real processes (SPEC §8, §12, §14): a split view is caught by the
witnesses and refused by a 2-of-3 client; a dead or hanging witness delays no append; the
checkpoint served everywhere carries the cosignatures; alarms stay."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import origin_envelope
from test_serve import PROVENANCE, environment, free_port
from witnesses import WitnessProcess, init_witness, run

from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.errors import LedgerError
from ledger.model.statements import Envelope
from ledger.tlog.policy import Policy, QuorumNotMet
from ledger.trace.bundle import build_bundle, verify_bundle
from ledger.witness import submitter

pytestmark = pytest.mark.slow


def material(b: Builder, lot: str) -> Envelope:
    return Envelope.from_json(origin_envelope(b, lot=lot))


@pytest.fixture
def three(tmp_path: Path, ledger: Ledger) -> Iterator[list[tuple[str, WitnessProcess]]]:
    """Three witness processes that trust the ledger's operator key: (vkey, process)."""
    out: list[tuple[str, WitnessProcess]] = []
    try:
        for i in range(1, 4):
            home = tmp_path / f"w{i}"
            vkey = init_witness(home, f"w{i}.example")
            added = run("witness", "add-log", "--home", str(home), "--vkey", ledger.verifier.to_text())
            assert added.returncode == 0, added.stderr
            out.append((vkey, WitnessProcess(home)))
        yield out
    finally:
        for _, w in out:
            w.stop()


def policy(ledger: Ledger, three: list[tuple[str, WitnessProcess]], reachable: set[int]) -> str:
    """2 of the 3; only the witnesses in ``reachable`` get a URL (the others are never asked)."""
    lines = [f"log {ledger.verifier.to_text()}"]
    for i, (vkey, w) in enumerate(three, 1):
        lines.append(f"witness w{i} {vkey}" + (f" {w.url}" if i in reachable else ""))
    return "\n".join([*lines, "group two-of-three 2 w1 w2 w3", "quorum two-of-three"]) + "\n"


def info(home: Path) -> dict[str, Any]:
    proc = run("info", "--json", "--home", str(home))
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def test_split_view_is_refused(
    product: dict[str, Any],
    ledger: Ledger,
    three: list[tuple[str, WitnessProcess]],
    tmp_path: Path,
    clock: Any,
) -> None:
    b: Builder = product["builder"]
    # The operator copies its ledger, key and all: two histories under one operator key.
    ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    fork_home = tmp_path / "fork"
    shutil.copytree(ledger.home, fork_home)
    b.submit(material(b, "honest-lot"))
    with Ledger.open(fork_home, clock=clock) as fork:
        fork.append([material(b, f"forged-lot-{i}") for i in range(3)])
        fork_size = fork.size
    assert fork_size > ledger.size

    # The true history goes to w1 and w2; the fork to all three (w3 never saw the truth).
    (ledger.home / "witnesses").write_text(policy(ledger, three, {1, 2}))
    (fork_home / "witnesses").write_text(policy(ledger, three, {1, 2, 3}))
    honest = run("witness", "sync", "--home", str(ledger.home))
    assert honest.returncode == 0, honest.stdout + honest.stderr
    assert [json.loads(line)["status"] for line in honest.stdout.splitlines()] == ["ok", "ok"]
    forked = run("witness", "sync", "--home", str(fork_home))
    states = {s["name"]: s for s in map(json.loads, forked.stdout.splitlines())}
    assert forked.returncode == 1  # an alarm
    assert states["w1"]["status"] == states["w2"]["status"] == "alarm"
    assert "inconsistent" in states["w1"]["message"] and "consistency proof" in states["w1"]["message"]
    assert states["w3"]["status"] == "ok"  # one witness alone can be fooled: hence the quorum
    assert "witness alarm: w1" in forked.stderr

    # The witnesses that cosigned the truth refuse the fork directly too.
    with Ledger.open(fork_home) as fork:
        from ledger.witness.client import request_body

        size, note = submitter.latest_operator_note(fork)
        body = request_body(ledger.size, fork.consistency_proof(ledger.size, size).hashes, note)
    status, _, text = three[0][1].add_checkpoint(body.decode())
    assert status == 422 and "consistency proof" in text

    # A client requiring 2 of 3 accepts the truth and refuses the fork, bundles included.
    client_policy = tmp_path / "client-policy"
    client_policy.write_text(policy(ledger, three, set()))
    ok = run("verify", "--home", str(ledger.home), "--policy", str(client_policy))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    refused = run("verify", "--home", str(fork_home), "--policy", str(client_policy))
    assert refused.returncode == 1 and "quorum-not-met" in refused.stdout and "from: w3" in refused.stdout
    rules = Policy.load(client_policy)
    good = build_bundle(ledger, product["gtin"], product["batch"])
    assert verify_bundle(good, witnesses=rules).size == ledger.size
    bundle_file = tmp_path / "good.json"
    bundle_file.write_text(json.dumps(good))
    checked = run("verify-bundle", str(bundle_file), "--policy", str(client_policy))
    assert checked.returncode == 0 and "cosigned by w1, w2" in checked.stdout, checked.stderr
    with Ledger.open(fork_home) as fork:
        bad = build_bundle(fork, product["gtin"], product["batch"])
    with pytest.raises(QuorumNotMet):
        verify_bundle(bad, witnesses=rules)
    bundle_file.write_text(json.dumps(bad))
    checked = run("verify-bundle", str(bundle_file), "--policy", str(client_policy))
    assert checked.returncode == 1 and "quorum-not-met" in checked.stderr

    # The alarm is in the ledger's front page and stays there after another round.
    again = run("witness", "sync", "--home", str(fork_home))
    assert again.returncode == 1
    shown = {w["name"]: w for w in info(fork_home)["witnesses"]}
    assert shown["w1"]["status"] == "alarm" and shown["w1"]["alarms"][0]["status"] == 422
    assert shown["w3"]["alarms"] == [] and shown["w3"]["cosigned_latest"]
    assert info(fork_home)["quorum"]["met"] is False
    from web import create_app

    fork_page = create_app({"TESTING": True, "PROVENANCE_HOME": str(fork_home)}).test_client().get("/")
    assert "Alarm " in fork_page.get_data(as_text=True) and "inconsistent" in fork_page.get_data(as_text=True)
    truth = info(ledger.home)
    assert truth["quorum"] == {"rule": "2 of [w1, w2, w3]", "met": True, "size": ledger.size}


def test_served_checkpoints_carry_the_cosignatures(
    product: dict[str, Any], ledger: Ledger, three: list[tuple[str, WitnessProcess]], client: Any
) -> None:
    (ledger.home / "witnesses").write_text(policy(ledger, three, {1, 2, 3}))
    assert run("witness", "sync", "--home", str(ledger.home)).returncode == 0
    rules = Policy.from_text(policy(ledger, three, set()))
    served = client.get("/checkpoint").get_data(as_text=True)
    assert sorted(rules.cosigned_by(served)) == ["w1", "w2", "w3"]
    for note in (
        client.get("/api/v1/ledger").get_json()["checkpoint"],
        client.get("/api/v1/entries/1").get_json()["checkpoint"],
        client.get(
            f"/api/v1/trace/{product['gtin']}/{urllib.parse.quote(product['batch'], safe='')}"
        ).get_json()["checkpoint"],
        run("checkpoint", "--home", str(ledger.home)).stdout,
    ):
        assert note == served
    batch = urllib.parse.quote(product["batch"], safe="")
    page = client.get(f"/01/{product['gtin']}/10/{batch}").get_data(as_text=True)
    assert "Independent witnesses countersigned this checkpoint" in page
    assert all(f"w{i}.example" in page for i in (1, 2, 3))
    home = client.get("/").get_data(as_text=True)
    assert "countersigned the latest checkpoint" in home and "2 of [w1, w2, w3]" in home
    # The operator's own signature is untouched: verify still passes, and the witness's
    # monitoring copy is the same checkpoint with its cosignature.
    assert run("verify", "--home", str(ledger.home)).returncode == 0
    origin_hash = __import__("hashlib").sha256(ledger.origin.encode()).hexdigest()
    with urllib.request.urlopen(f"{three[0][1].url}/{origin_hash}/checkpoint") as r:
        monitored = r.read().decode()
    assert monitored.split("\n\n")[0] == served.split("\n\n")[0]
    assert list(rules.cosigned_by(monitored)) == ["w1"]


class Hanging:
    """A 'witness' that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.held: list[socket.socket] = []
        self.got_request = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            if conn.recv(1):
                self.got_request.set()

    def still_holding(self) -> bool:
        """The submitter's request is still open (it has not given up or timed out)."""
        conn = self.held[0]
        conn.setblocking(False)
        try:
            return conn.recv(1 << 16) != b""
        except BlockingIOError:
            return True

    def close(self) -> None:
        """Stop accepting, then close every connection it took (call after the client stops)."""
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(10)
        for c in self.held:
            c.close()


def test_dead_and_hanging_witnesses_delay_no_append(
    ledger: Ledger, cast: Builder, three: list[tuple[str, WitnessProcess]], tmp_path: Path
) -> None:
    hanging = Hanging()
    dead_url = f"http://127.0.0.1:{free_port()}"
    w1_vkey, w1 = three[0]
    (ledger.home / "witnesses").write_text(
        f"witness w1 {w1_vkey} {w1.url}\nwitness hang {three[1][0]} {hanging.url}\n"
        f"witness dead {three[2][0]} {dead_url}\nquorum w1\n"
    )
    port = free_port()
    env = environment()
    env["PROVENANCE_WITNESS_TIMEOUT"] = "600"  # the hanging witness holds its request all along
    proc = subprocess.Popen(
        [PROVENANCE, "serve", "--home", str(ledger.home), "--port", str(port), "--workers", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert hanging.got_request.wait(30), "the submitter never reached the hanging witness"
        seqs = []
        for i in range(5):
            req = urllib.request.Request(
                url + "/api/v1/entries",
                data=json.dumps(origin_envelope(cast, lot=f"while-hanging-{i}")).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(req, timeout=30) as r:
                assert r.status == 201
                seqs.append(json.loads(r.read())["seq"])
        assert hanging.still_holding()  # every append was answered while it hung
        size = seqs[-1] + 1
        rules = Policy.from_text(f"witness w1 {w1_vkey}\nquorum w1\n")
        deadline = time.monotonic() + 60
        while True:  # w1 cosigns the newest checkpoint on its own thread
            with urllib.request.urlopen(url + "/checkpoint", timeout=10) as r:
                note = r.read().decode()
            if note.split("\n")[1] == str(size) and rules.satisfied(set(rules.cosigned_by(note))):
                break
            assert time.monotonic() < deadline, note
            time.sleep(0.1)
        assert hanging.still_holding()
        with urllib.request.urlopen(url + "/api/v1/ledger", timeout=10) as r:
            front = json.loads(r.read())
        states = {w["name"]: w for w in front["witnesses"]}
        assert states["w1"]["status"] == "ok" and states["w1"]["cosigned_latest"]
        assert states["dead"]["status"] == "unreachable" and "refused" in states["dead"]["message"].lower()
        assert states["hang"]["status"] == "new"  # its first request is still open
        assert front["quorum"]["met"] is True
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
        if proc.stdout:
            proc.stdout.close()
        hanging.close()


def test_no_policy_means_no_submitter_and_a_bad_policy_one_line(ledger: Ledger) -> None:
    none = run("witness", "sync", "--home", str(ledger.home))
    assert none.returncode == 1 and "no witness policy" in none.stderr
    (ledger.home / "witnesses").write_text("witness w1 nonsense\nquorum w1\n")
    bad = run("witness", "sync", "--home", str(ledger.home))
    assert bad.returncode == 1 and "witnesses line 1" in bad.stderr and "Traceback" not in bad.stderr
    front = info(ledger.home)
    assert front["witnesses"] == [] and "line 1" in front["quorum"]["error"]


def test_verify_policy_refuses_an_uncosigned_checkpoint(ledger: Ledger, tmp_path: Path) -> None:
    from ledger.crypto.keys import PrivateKey
    from ledger.tlog.cosignature import Cosigner

    w = Cosigner("lonely.example", PrivateKey.generate())
    rules = tmp_path / "policy"
    rules.write_text(f"witness w {w.vkey.to_text()}\nquorum w\n")
    kept = tmp_path / "kept"
    kept.write_text(ledger.latest_checkpoint().note)
    out = run("verify", "--home", str(ledger.home), "--checkpoint", str(kept), "--policy", str(rules))
    assert out.returncode == 1 and "quorum-not-met" in out.stdout
    text = ledger.latest_checkpoint().checkpoint.to_text()
    kept.write_text(ledger.latest_checkpoint().note + w.cosign(text, int(time.time())))
    out = run("verify", "--home", str(ledger.home), "--checkpoint", str(kept), "--policy", str(rules))
    assert out.returncode == 0, out.stdout
    with pytest.raises(LedgerError):
        Policy.load(tmp_path / "missing")


def test_demo_runs_three_witnesses_and_cosigns(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    out = run("demo", "--home", str(home), "--no-serve")
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(".example at http://127.0.0.1:") == 3
    front = info(home)
    assert front["quorum"]["met"] is True and front["quorum"]["rule"] == "2 of [w1, w2, w3]"
    assert all(w["status"] == "ok" and w["cosigned_latest"] for w in front["witnesses"])
    # The witnesses were processes of the demo: they are gone, and a rebuild starts new ones.
    urls = [w["url"] for w in front["witnesses"]]
    for url in urls:
        with pytest.raises(OSError):
            urllib.request.urlopen(url + "/add-checkpoint", data=b"old 0\n\n", timeout=5)
    again = run("demo", "--home", str(home), "--no-serve")
    assert again.returncode == 0, again.stderr
    assert info(home)["quorum"]["met"] is True
