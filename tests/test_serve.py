"""End to end: ``provenance serve`` as a real process (gunicorn, several workers), appends
over HTTP from many threads at once and from ``provenance submit --server``, and the
refusals to start; ``provenance demo``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import origin_envelope

from ledger.cli.client import Connection, post_envelopes
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from web import MAX_CONTENT_LENGTH

pytestmark = pytest.mark.slow

PROVENANCE = str(Path(sys.executable).with_name("provenance"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env["PYTHONWARNINGS"] = "ignore"
    return env


class Server:
    def __init__(self, home: Path, workers: int = 2, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = environment()
        env["PROVENANCE_BASE_URL"] = "https://labels.example"
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            [
                PROVENANCE,
                "serve",
                "--home",
                str(home),
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(self.url + "/api/v1/ledger", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"server did not start: {self.output}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        assert self.proc.stdout is not None
        self.output = self.proc.stdout.read().decode("utf-8", "replace")
        self.proc.stdout.close()

    output = ""


@pytest.fixture
def server(ledger: Ledger, cast: Builder) -> Iterator[Server]:
    s = Server(ledger.home)
    try:
        yield s
    finally:
        s.stop()


def test_concurrent_appends_over_http(server: Server, ledger: Ledger, cast: Builder) -> None:
    envelopes = [origin_envelope(cast, f"lot-{i:03d}") for i in range(48)]
    results: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def worker(chunk: list[dict[str, Any]]) -> None:
        conn = Connection(server.url)
        try:
            for env in chunk:
                status, data = conn.request("POST", "/api/v1/entries", json.dumps(env).encode())
                with lock:
                    results.append((status, json.loads(data)))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(envelopes[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [s for s, _ in results] == [201] * 48, results
    seqs = sorted(body["seq"] for _, body in results)
    assert seqs == list(range(17, 65))
    # every answer's proof is against the checkpoint of the batch that committed it
    for _, body in results:
        assert body["inclusion_proof"]["tree_size"] > body["seq"]
    verify = subprocess.run(
        [PROVENANCE, "verify", "--home", str(ledger.home)],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    # a replay is refused with its seq, over HTTP too
    (answer,) = post_envelopes(server.url, [(1, envelopes[0])])
    assert answer["error"]["code"] == "replay" and answer["error"]["seq"] in seqs


def test_submit_to_a_server(server: Server, ledger: Ledger, cast: Builder, tmp_path: Path) -> None:
    lines = [origin_envelope(cast, "sub-1"), origin_envelope(cast, "sub-2")]
    batch = tmp_path / "batch.jsonl"
    batch.write_text("\n".join(json.dumps(x) for x in lines) + "\n{not json\n")
    run = subprocess.run(
        [PROVENANCE, "submit", str(batch), "--server", server.url],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 1, run.stderr  # the last line was refused
    assert [o.get("seq") for o in out[:2]] == [17, 18]
    assert out[2]["error"]["code"] == "malformed"
    again = tmp_path / "again.json"
    again.write_text(json.dumps(lines[0]))
    run = subprocess.run(
        [PROVENANCE, "submit", str(again), "--server", server.url],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert json.loads(run.stdout)["error"] == {
        "code": "replay",
        "message": json.loads(run.stdout)["error"]["message"],
        "field": "statement.id",
        "seq": 17,
    }
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(origin_envelope(cast, "sub-3")))
    run = subprocess.run(
        [PROVENANCE, "submit", str(fresh), "--server", server.url + "/"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0 and json.loads(run.stdout)["seq"] == 19


def test_pages_and_headers_over_http(server: Server, cast: Builder) -> None:
    with urllib.request.urlopen(server.url + "/") as r:
        assert r.status == 200
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert "Provenance Ledger" in r.read().decode()
    req = urllib.request.Request(
        server.url + "/api/v1/entries",
        data=b"x" * (MAX_CONTENT_LENGTH + 1),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 413
    assert json.loads(info.value.read())["error"]["code"] == "too-large"


def test_submit_to_no_server_is_one_clear_line(tmp_path: Path, cast: Builder) -> None:
    f = tmp_path / "one.json"
    f.write_text(json.dumps(origin_envelope(cast, "x-1")))
    run = subprocess.run(
        [PROVENANCE, "submit", str(f), "--server", f"http://127.0.0.1:{free_port()}"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1 and run.stderr.startswith("error: config: cannot reach")
    assert "Traceback" not in run.stderr


def test_serve_refuses_a_readable_operator_key(ledger: Ledger) -> None:
    key = ledger.home / "operator.key"
    key.chmod(0o644)
    run = subprocess.run(
        [PROVENANCE, "serve", "--home", str(ledger.home), "--port", str(free_port())],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 1
    assert "other users can read it" in run.stderr and "chmod 600" in run.stderr
    assert "Traceback" not in run.stderr and "Booting worker" not in run.stderr


def test_serve_refuses_a_missing_ledger(tmp_path: Path) -> None:
    run = subprocess.run(
        [PROVENANCE, "serve", "--home", str(tmp_path / "none"), "--port", str(free_port())],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 1 and "no ledger" in run.stderr


def test_demo_builds_and_prints_urls(tmp_path: Path, ledger: Ledger) -> None:
    home = tmp_path / "demo"
    env = environment()
    env["PROVENANCE_BASE_URL"] = "https://demo.example"
    run = subprocess.run(
        [PROVENANCE, "demo", "--home", str(home), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    pages = [line.split("page: ")[1] for line in run.stdout.splitlines() if "page: " in line]
    qrs = [line.split("QR:")[1].strip() for line in run.stdout.splitlines() if "QR:" in line]
    assert len(pages) >= 3 and qrs == [p + "/qr.png" for p in pages]
    assert all(p.startswith("https://demo.example/01/") for p in pages)
    # rebuilding the demo is fine; replacing a real ledger is refused
    again = subprocess.run(
        [PROVENANCE, "demo", "--home", str(home), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0
    refused = subprocess.run(
        [PROVENANCE, "demo", "--home", str(ledger.home), "--no-serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "refusing to replace it" in refused.stderr
    assert (ledger.home / "ledger.db").exists()
