"""The operator key end to end: a passphrase-protected key works with init and serve, and
serve refuses clearly without the passphrase or with a key other users can read."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_serve import PROVENANCE, environment, free_port

from ledger.core.ledger import Ledger
from ledger.crypto.keys import PASSPHRASE_ENV
from ledger.demo.builder import Builder

pytestmark = pytest.mark.slow
SECRET = "correct horse battery staple"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROVENANCE, *args], capture_output=True, text=True, env=env, timeout=60)


def test_passphrase_protected_operator_key_with_init_and_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    env = {**environment(), PASSPHRASE_ENV: SECRET}
    assert run("init", "--home", str(home), "--origin", "keys.test/ledger", env=env).returncode == 0
    assert b"ENCRYPTED" in (home / "operator.key").read_bytes()
    assert (home / "operator.key").stat().st_mode & 0o777 == 0o600

    # Without the passphrase the server refuses to start, in one line naming the variable.
    no_secret = run("serve", "--home", str(home), "--port", str(free_port()), env=environment())
    assert no_secret.returncode == 1
    assert PASSPHRASE_ENV in no_secret.stderr and "Traceback" not in no_secret.stderr

    monkeypatch.setenv(PASSPHRASE_ENV, SECRET)
    with Ledger.open(home) as ledger:
        b = Builder(ledger, seed="keys")
        b.party("farm-k", "Farm K", "farm", "IN")
        envelope = b.envelope(
            "material-origin",
            "farm-k",
            {
                "lot": "K-1",
                "material": "cotton",
                "quantity": {"amount": "1", "unit": "kg"},
                "origin": {"country": "IN"},
                "produced_on": "2026-01-01",
                "certifications": [],
            },
        )
    port = free_port()
    proc = subprocess.Popen(
        [PROVENANCE, "serve", "--home", str(home), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/api/v1/entries"
        deadline = time.monotonic() + 20
        while True:
            try:
                req = urllib.request.Request(
                    url, json.dumps(envelope.to_json()).encode(), {"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(req, timeout=5) as r:
                    assert r.status == 201
                    body = json.loads(r.read())
                break
            except urllib.error.URLError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    assert body["checkpoint"].startswith("keys.test/ledger\n")
    assert run("verify", "--home", str(home), env=env).returncode == 0


def test_a_group_readable_operator_key_stops_init_users_at_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = environment()
    assert run("init", "--home", str(home), env=env).returncode == 0
    (home / "operator.key").chmod(0o640)
    done = run(
        "party",
        "suspend",
        "farm-x",
        "--reason",
        "x",
        "--home",
        str(home),
        env=env,
    )
    assert done.returncode == 1
    assert "chmod 600" in done.stderr and "Traceback" not in done.stderr
