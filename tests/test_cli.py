"""The ``provenance`` command line (SPEC §11), end to end: every test starts the real CLI as a
process, as a user or a script would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger.core.ledger import Ledger
from ledger.crypto.canonical import jcs
from ledger.crypto.keys import PrivateKey, PublicKey
from ledger.demo.builder import Builder
from ledger.model.statements import Envelope
from ledger.tlog import merkle
from ledger.tlog.note import SignedCheckpoint, Verifier

pytestmark = pytest.mark.slow

PROVENANCE = Path(sys.executable).with_name("provenance")
ORIGIN = "cli.test/ledger"
ENTRY_VIEW = {"seq", "entry_hash", "entry", "canonical", "inclusion_proof", "checkpoint"}


class Cli:
    """Runs ``provenance`` in ``cwd`` with a clean environment (no PROVENANCE_* inherited)."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.home = cwd / "home"

    def __call__(
        self, *args: str | Path, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
        return subprocess.run(
            [str(PROVENANCE), *map(str, args)],
            cwd=self.cwd,
            env=base | (env or {}),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def ok(self, *args: str | Path, **kw: Any) -> str:
        done = self(*args, **kw)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        return done.stdout

    def json_lines(self, *args: str | Path, **kw: Any) -> tuple[int, list[dict[str, Any]]]:
        done = self(*args, **kw)
        assert "Traceback" not in done.stderr, done.stderr
        return done.returncode, [json.loads(line) for line in done.stdout.splitlines()]


def assert_one_error_line(done: subprocess.CompletedProcess[str], code: str) -> str:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {code}: "), lines[0]
    return lines[0]


def check_entry_view(view: dict[str, Any], vkey: Verifier) -> None:
    """SPEC §10: the entry view verifies offline against its own checkpoint."""
    assert set(view) == ENTRY_VIEW
    canonical = base64.b64decode(view["canonical"], validate=True)
    assert view["entry_hash"] == hashlib.sha256(b"\x00" + canonical).hexdigest()
    assert view["entry"] == json.loads(canonical) and jcs(view["entry"]) == canonical
    assert view["entry"]["seq"] == view["seq"]
    cp = SignedCheckpoint.open(view["checkpoint"], vkey).checkpoint
    proof = merkle.InclusionProof.from_json(view["inclusion_proof"])
    assert (proof.leaf_index, proof.tree_size) == (view["seq"], cp.size)
    merkle.verify_inclusion(
        proof.leaf_index, proof.tree_size, bytes.fromhex(view["entry_hash"]), proof.hashes, cp.root
    )


def check_error_body(body: dict[str, Any], code: str) -> None:
    """SPEC §10: ``{"error": {"code", "message", "field"?}}``."""
    assert set(body) == {"error"}
    err = body["error"]
    assert err["code"] == code and isinstance(err["message"], str) and err["message"]
    assert set(err) <= {"code", "message", "field", "seq"}


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.delenv("PROVENANCE_KEY_PASSPHRASE", raising=False)  # for keys made in-process
    return Cli(tmp_path)


@pytest.fixture
def inited(cli: Cli) -> Verifier:
    """A ledger in cli.home, made in-process (a process start is the slow part of these
    tests; ``provenance init`` itself is tested below); returns its verifier key."""
    with Ledger.init(cli.home, ORIGIN) as led:
        return led.verifier


@pytest.fixture
def world(cli: Cli, inited: Verifier) -> Builder:
    """A few parties and goods appended in-process (quick), for commands that read."""
    led = Ledger.open(cli.home)
    b = Builder(led, seed="cli-tests")
    with b.batch():
        b.party("farm-a", "Farm A", "farm", "IN")
        b.party("proc-a", "Proc A", "processor", "IN")
    b.origin("farm-a", "cot-1", "cotton", "100", "kg", country="IN", produced_on="2025-05-01")
    b.ship("farm-a", "cot-1", "60", "kg", "proc-a", "2025-05-02")  # and proc-a's receipt
    b.transform("proc-a", "spinning", "2025-05-03", [("cot-1", "50", "kg")], [("yarn-1", "yarn", "40", "kg")])
    led.close()
    return b


def write_jsonl(path: Path, items: list[Any]) -> Path:
    path.write_text("".join((json.dumps(i) if not isinstance(i, str) else i) + "\n" for i in items))
    return path


def origin_statement(issuer: str, lot: str) -> dict[str, Any]:
    return {
        "type": "material-origin",
        "issuer": issuer,
        "body": {
            "lot": lot,
            "material": "cotton",
            "quantity": {"amount": "10", "unit": "kg"},
            "origin": {"country": "IN"},
            "produced_on": "2025-05-20",
            "certifications": [],
        },
    }


# -- init, keygen, party add, sign ----------------------------------------------------------


def test_init_prints_the_verifier_key(cli):
    vkey = Verifier.from_text(cli.ok("init", "--home", cli.home, "--origin", ORIGIN).strip())
    assert vkey.name == ORIGIN
    with Ledger.open(cli.home) as led:
        assert led.verifier == vkey
        assert led.size == 1
        assert led.entry(0).statement.body["key"] == vkey.public.b64
    assert stat.S_IMODE((cli.home / "operator.key").stat().st_mode) == 0o600
    # a second init of the same home is refused and changes nothing
    before = (cli.home / "ledger.db").read_bytes()
    assert_one_error_line(cli("init", "--home", cli.home), "config")
    assert (cli.home / "ledger.db").read_bytes() == before


def test_keygen_writes_a_private_key_file(cli):
    out = cli.ok("keygen", "--out", "party.pem")
    data = json.loads(out)
    assert set(data) == {"public_key", "key_id"}
    raw = base64.b64decode(data["public_key"], validate=True)
    assert len(raw) == 32
    assert data["key_id"] == hashlib.sha256(raw).hexdigest()[:16]
    path = cli.cwd / "party.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert PrivateKey.load(path).public.b64 == data["public_key"]
    # never overwrites a key
    before = path.read_bytes()
    done = cli("keygen", "--out", "party.pem")
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert path.read_bytes() == before


def incept_and_admit(cli: Cli, pid: str, role: str = "farm", env: dict[str, str] | None = None) -> str:
    """The v2 path of a new party through the CLI: keygen with a next key, the party's own
    inception, its submission, the operator's admission. Returns the key file's name."""
    cli.ok("keygen", "--out", f"{pid}.pem", "--next", f"{pid}-next.pem", env=env)
    envelope = cli.ok(
        "party", "incept", pid, "--name", pid.title(), "--role", role, "--country", "IN",
        "--gln", "0614141000005", "--key", f"{pid}.pem", "--next-key", f"{pid}-next.pem", env=env,
    )  # fmt: skip
    (cli.cwd / f"{pid}-inception.json").write_text(envelope)
    code, lines = cli.json_lines("submit", f"{pid}-inception.json", "--home", cli.home, env=env)
    assert code == 0, lines
    cli.ok("party", "admit", pid, "--role", role, "--home", cli.home, env=env)
    return f"{pid}.pem"


def test_party_incept_admit_sign_and_submit(cli, inited):
    """The whole path of a new party: keygen, its inception, admission, sign, submit, show."""
    key = json.loads(cli.ok("keygen", "--out", "farm.pem", "--next", "farm-next.pem"))
    assert set(key["next"]) == {"file", "key_id", "digest"}
    done = cli(
        "party", "incept", "farm-a", "--name", "Farm A", "--role", "farm", "--country", "IN",
        "--gln", "0614141000005", "--key", "farm.pem", "--next-key", "farm-next.pem",
    )  # fmt: skip
    assert done.returncode == 0 and "offline" in done.stderr
    envelope = json.loads(done.stdout)
    body = envelope["statement"]["body"]
    assert (envelope["statement"]["issuer"], body["keys"], body["next"]) == (
        "farm-a",
        [key["public_key"]],
        [key["next"]["digest"]],
    )
    assert body["identifiers"] == {"gln": "0614141000005"}
    (cli.cwd / "inception.json").write_text(json.dumps(envelope))
    code, lines = cli.json_lines("submit", "inception.json", "--home", cli.home)
    assert code == 0 and lines[0]["seq"] == 1
    check_entry_view(lines[0], inited)
    (cli.cwd / "st.json").write_text(json.dumps(origin_statement("farm-a", "cot-1"), indent=2))
    envelope = json.loads(cli.ok("sign", "--key", "farm.pem", "st.json"))
    (cli.cwd / "env.json").write_text(json.dumps(envelope, indent=2))  # one pretty document
    code, lines = cli.json_lines("submit", "env.json", "--home", cli.home)
    assert code == 1 and lines[0]["error"]["code"] == "not-admitted"
    view = json.loads(cli.ok("party", "admit", "farm-a", "--role", "farm", "--home", cli.home))
    assert view["seq"] == 2 and view["entry"]["statement"]["body"] == {
        "party": "farm-a",
        "inception": 1,
        "role": "farm",
    }
    env = Envelope.from_json(envelope)
    assert env.key_id == key["key_id"]
    env.verify(PublicKey.from_b64(key["public_key"]))
    code, lines = cli.json_lines("submit", "env.json", "--home", cli.home)
    assert code == 0 and len(lines) == 1
    check_entry_view(lines[0], inited)
    assert lines[0]["seq"] == 3 and lines[0]["entry"]["statement"] == envelope["statement"]
    shown = json.loads(cli.ok("show", "3", "--home", cli.home))
    assert shown["canonical"] == lines[0]["canonical"]


def test_lost_key_rotation_suspension_and_operator_rotation_through_the_cli(cli, inited):
    incept_and_admit(cli, "farm-a")
    # farm-a lost farm-a.pem: it rotates with its next key, committing to a new one
    rotation = cli.ok(
        "party", "rotate", "farm-a", "--key", "farm-a-next.pem", "--next-key", "farm-a-next2.pem",
        "--reason", "lost",
    )  # fmt: skip
    (cli.cwd / "rotation.json").write_text(rotation)
    assert cli.json_lines("submit", "rotation.json", "--home", cli.home)[0] == 0
    (cli.cwd / "st.json").write_text(json.dumps(origin_statement("farm-a", "cot-1")))
    (cli.cwd / "old.json").write_text(cli.ok("sign", "--key", "farm-a.pem", "st.json"))
    code, lines = cli.json_lines("submit", "old.json", "--home", cli.home)
    assert code == 1 and lines[0]["error"]["code"] == "key-not-active"
    (cli.cwd / "new.json").write_text(cli.ok("sign", "--key", "farm-a-next.pem", "st.json"))
    assert cli.json_lines("submit", "new.json", "--home", cli.home)[0] == 0
    # the operator suspends and reinstates
    cli.ok("party", "suspend", "farm-a", "--reason", "inspection", "--home", cli.home)
    (cli.cwd / "st2.json").write_text(json.dumps(origin_statement("farm-a", "cot-2")))
    (cli.cwd / "s2.json").write_text(cli.ok("sign", "--key", "farm-a-next.pem", "st2.json"))
    code, lines = cli.json_lines("submit", "s2.json", "--home", cli.home)
    assert code == 1 and lines[0]["error"]["code"] == "suspended"
    assert_one_error_line(cli("party", "reinstate", "farm-z", "--home", cli.home), "unknown-party")
    cli.ok("party", "reinstate", "farm-a", "--home", cli.home)
    # the operator rotates its own key with the next key init made
    old_vkey = json.loads(cli.ok("info", "--json", "--home", cli.home))["vkey"]
    cli.ok(
        "party", "rotate", "operator", "--key", cli.home / "operator-next.key", "--next-key", "op-next2.pem",
        "--home", cli.home,
    )  # fmt: skip
    info = json.loads(cli.ok("info", "--json", "--home", cli.home))
    assert info["vkey"] != old_vkey
    assert cli.json_lines("submit", "s2.json", "--home", cli.home)[0] == 0
    done = cli("verify", "--home", cli.home)
    assert done.returncode == 0, done.stderr


def test_party_incept_with_a_bad_role_is_refused(cli, inited):
    cli.ok("keygen", "--out", "farm.pem", "--next", "farm-next.pem")
    done = cli(
        "party", "incept", "farm-a", "--name", "Farm A", "--role", "farmer", "--country", "IN",
        "--key", "farm.pem", "--next-key", "farm-next.pem",
    )  # fmt: skip
    assert "statement.body.role" in assert_one_error_line(done, "invalid-field")
    with Ledger.open(cli.home) as led:
        assert led.size == 1


def test_sign_json_lines(cli):
    PrivateKey.generate().save(cli.cwd / "k.pem")
    statements = [origin_statement("farm-a", f"lot-{i}") for i in range(3)]
    statements[1]["id"] = "my-own-id-0001"
    statements[1]["issued_at"] = "2025-05-20T08:00:00Z"
    write_jsonl(cli.cwd / "st.jsonl", statements)
    out = cli.ok("sign", "--key", "k.pem", "st.jsonl").splitlines()
    assert len(out) == 3
    envelopes = [Envelope.from_json(json.loads(line)) for line in out]
    key = PrivateKey.load(cli.cwd / "k.pem").public
    for env, st in zip(envelopes, statements, strict=True):
        env.verify(key)
        assert env.statement.body == st["body"]
    assert envelopes[1].statement.id == "my-own-id-0001"
    assert envelopes[1].statement.issued_at == "2025-05-20T08:00:00Z"
    assert len({e.statement.id for e in envelopes}) == 3


def test_sign_refuses_an_invalid_statement(cli):
    PrivateKey.generate().save(cli.cwd / "k.pem")
    st = origin_statement("farm-a", "lot-1")
    st["body"]["quantity"]["amount"] = "-1"
    (cli.cwd / "st.json").write_text(json.dumps(st))
    line = assert_one_error_line(cli("sign", "--key", "k.pem", "st.json"), "invalid-field")
    assert "statement.body.quantity.amount" in line


# -- submit ---------------------------------------------------------------------------------


def test_submit_json_lines_reports_each_envelope(cli, inited, world):
    b = world
    good = [
        b.envelope("material-origin", "farm-a", origin_statement("farm-a", f"s-{i}")["body"])
        for i in range(2)
    ]
    items: list[Any] = [
        good[0].to_json(),
        "{not json",
        good[1].to_json(),
        good[0].to_json(),
        {"statement": {}},
        "",
        b.envelope(
            "shipment",
            "farm-a",
            {"lot": "cot-1", "amount": "41", "unit": "kg", "to": "proc-a", "shipped_on": "2025-05-03"},
        ).to_json(),
    ]
    path = write_jsonl(cli.cwd / "batch.jsonl", items)
    code, lines = cli.json_lines("submit", path, "--home", cli.home)
    assert code == 1
    assert len(lines) == 6  # one per envelope; the blank line is no envelope
    check_entry_view(lines[0], inited)
    check_error_body(lines[1], "malformed")
    check_entry_view(lines[2], inited)
    check_error_body(lines[3], "replay")
    assert lines[3]["error"]["seq"] == lines[0]["seq"]
    check_error_body(lines[4], "missing-field")
    check_error_body(lines[5], "insufficient-balance")
    assert lines[5]["error"]["field"] == "statement.body.amount"
    # one batch: consecutive seqs, one checkpoint
    assert lines[2]["seq"] == lines[0]["seq"] + 1
    assert lines[0]["checkpoint"] == lines[2]["checkpoint"]
    assert lines[0]["inclusion_proof"]["tree_size"] == lines[0]["seq"] + 2


def test_submit_exits_zero_when_all_are_appended(cli, inited, world):
    b = world
    files = []
    for f in range(2):
        envs = [
            b.envelope(
                "material-origin", "farm-a", origin_statement("farm-a", f"ok-{f}-{i}")["body"]
            ).to_json()
            for i in range(3)
        ]
        files.append(write_jsonl(cli.cwd / f"ok-{f}.jsonl", envs))
    code, lines = cli.json_lines("submit", *files, "--home", cli.home)
    assert code == 0 and len(lines) == 6
    for line in lines:
        check_entry_view(line, inited)
    # each file is one batch with its own checkpoint
    assert [line["inclusion_proof"]["tree_size"] for line in lines] == [12] * 3 + [15] * 3
    assert cli.ok("verify", "--home", cli.home) == ""


def test_submit_reads_standard_input(cli, inited, world):
    env = world.envelope("material-origin", "farm-a", origin_statement("farm-a", "in-1")["body"])
    code, lines = cli.json_lines("submit", "-", "--home", cli.home, stdin=json.dumps(env.to_json()))
    assert code == 0 and len(lines) == 1
    check_entry_view(lines[0], inited)


def test_submit_reports_a_malformed_first_line_and_goes_on(cli, inited, world):
    b = world
    envs = [
        b.envelope("material-origin", "farm-a", origin_statement("farm-a", f"m-{i}")["body"]).to_json()
        for i in range(2)
    ]
    path = write_jsonl(cli.cwd / "batch.jsonl", ["{oops", *envs])
    code, lines = cli.json_lines("submit", path, "--home", cli.home)
    assert code == 1 and len(lines) == 3
    check_error_body(lines[0], "malformed")
    check_entry_view(lines[1], inited)


def test_submit_goes_on_after_a_malformed_file(cli, inited, world):
    b = world
    first, last = (
        b.envelope("material-origin", "farm-a", origin_statement("farm-a", lot)["body"]).to_json()
        for lot in ("f-1", "f-2")
    )
    (cli.cwd / "first.json").write_text(json.dumps(first))
    (cli.cwd / "bad.json").write_text("this is not JSON\n")
    (cli.cwd / "last.json").write_text(json.dumps(last))
    code, lines = cli.json_lines("submit", "first.json", "bad.json", "last.json", "--home", cli.home)
    assert code == 1
    assert [("error" in line) for line in lines] == [False, True, False]
    check_error_body(lines[1], "malformed")


# -- verify ---------------------------------------------------------------------------------


def test_verify_exit_codes(cli, world):
    done = cli("verify", "--home", cli.home)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.startswith("ok: 9 entries")
    with sqlite3.connect(cli.home / "ledger.db") as conn:
        canonical = conn.execute("SELECT canonical FROM entries WHERE seq = 4").fetchone()[0]
        entry = json.loads(canonical)
        entry["statement"]["body"]["amount"] = "6"
        conn.execute("UPDATE entries SET canonical = ? WHERE seq = 4", (jcs(entry),))
    conn.close()
    done = cli("verify", "--home", cli.home)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stdout.splitlines()
    assert any(line.startswith("seq 4: ") and "signature" in line for line in lines)
    assert any(line.startswith("seq 5: ") and "hash chain" in line for line in lines)


# -- reading: checkpoint, info, show, prove -------------------------------------------------


def test_checkpoint_info_and_verify_against_the_kept_checkpoint(cli, inited, world):
    note = cli.ok("checkpoint", "--home", cli.home)
    cp = SignedCheckpoint.open(note, inited).checkpoint
    assert (cp.origin, cp.size) == (ORIGIN, 9)
    info = json.loads(cli.ok("info", "--json", "--home", cli.home))
    # SPEC v2 §14: the ledger's front also shows its witnesses (none here: no policy file)
    assert info == {
        "origin": ORIGIN,
        "vkey": inited.to_text(),
        "size": 9,
        "root": cp.root.hex(),
        "checkpoint": note,
        "witnesses": [],
        "quorum": None,
    }
    kept = cli.cwd / "kept.txt"
    kept.write_text(note)
    cli.ok("verify", "--home", cli.home, "--checkpoint", kept)
    kept.write_text(note.replace("\n9\n", "\n8\n"))  # no longer what was signed
    done = cli("verify", "--home", cli.home, "--checkpoint", kept)
    assert done.returncode == 1 and "not signed by this ledger's key" in done.stdout


def test_show_prints_the_exact_stored_bytes(cli, inited, world):
    with sqlite3.connect(cli.home / "ledger.db") as conn:
        stored = dict(conn.execute("SELECT seq, canonical FROM entries"))
    conn.close()
    view = json.loads(cli.ok("show", "3", "--home", cli.home))
    check_entry_view(view, inited)
    assert base64.b64decode(view["canonical"]) == bytes(stored[3])
    assert view["entry_hash"] == hashlib.sha256(b"\x00" + bytes(stored[3])).hexdigest()


def test_prove_inclusion_and_consistency(cli, inited, world):
    with Ledger.open(cli.home) as led:
        leaves = [merkle.leaf_hash(led.canonical(s)) for s in range(led.size)]
        cp3 = led.checkpoint(5).checkpoint
        latest = SignedCheckpoint.open(led.latest_checkpoint().note, inited).checkpoint
    proof = json.loads(cli.ok("prove", "inclusion", "4", "--home", cli.home))
    assert set(proof) == {"leaf_index", "tree_size", "hashes"}
    assert (proof["leaf_index"], proof["tree_size"]) == (4, latest.size)
    p = merkle.InclusionProof.from_json(proof)
    merkle.verify_inclusion(4, p.tree_size, leaves[4], p.hashes, latest.root)
    proof = json.loads(cli.ok("prove", "inclusion", "1", "--size", "5", "--home", cli.home))
    p = merkle.InclusionProof.from_json(proof)
    merkle.verify_inclusion(1, 5, leaves[1], p.hashes, cp3.root)
    cons = json.loads(cli.ok("prove", "consistency", "5", str(latest.size), "--home", cli.home))
    assert set(cons) == {"old_size", "new_size", "hashes"}
    c = merkle.ConsistencyProof.from_json(cons)
    merkle.verify_consistency(5, latest.size, cp3.root, latest.root, c.hashes)


# -- errors ---------------------------------------------------------------------------------

ERRORS = [
    # (id, arguments after the command's home, code)
    ("show-beyond-the-end", ["show", "99"], "not-found"),
    ("prove-inclusion-beyond", ["prove", "inclusion", "99"], "bad-proof"),
    ("prove-consistency-backwards", ["prove", "consistency", "5", "2"], "bad-proof"),
    ("sign-with-missing-key", ["sign", "--key", "missing.pem", "st.json"], "config"),
]


@pytest.mark.parametrize(("args", "code"), [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors_are_one_line_without_traceback(cli, world, args, code):
    (cli.cwd / "st.json").write_text(json.dumps(origin_statement("farm-a", "x-1")))
    extra = ["--home", cli.home] if args[0] in ("show", "prove") else []
    done = cli(*args, *extra)
    assert_one_error_line(done, code)
    assert done.stdout == ""


@pytest.mark.parametrize("command", [["info"], ["verify"]])
def test_a_missing_ledger_is_one_clear_line(cli, command):
    line = assert_one_error_line(cli(*command, "--home", cli.cwd / "nowhere"), "config")
    assert "provenance init" in line


MISSING_FILES = [
    ("sign", ["sign", "--key", "k.pem", "missing.json"]),
    ("submit", ["submit", "missing.json", "--home", "home"]),
    ("verify-checkpoint", ["verify", "--home", "home", "--checkpoint", "missing.txt"]),
]


@pytest.mark.parametrize("args", [c[1] for c in MISSING_FILES], ids=[c[0] for c in MISSING_FILES])
def test_a_missing_input_file_is_a_clear_error(cli, inited, args):
    PrivateKey.generate().save(cli.cwd / "k.pem")
    done = cli(*args)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr, done.stderr


# -- configuration --------------------------------------------------------------------------


def test_provenance_home_environment_variable(cli):
    env = {"PROVENANCE_HOME": str(cli.cwd / "from-env")}
    vkey = Verifier.from_text(cli.ok("init", "--origin", ORIGIN, env=env).strip())
    assert (cli.cwd / "from-env" / "ledger.db").exists()
    info = json.loads(cli.ok("info", "--json", env=env))
    assert (info["vkey"], info["size"]) == (vkey.to_text(), 1)
    # --home wins over the environment
    cli.ok("init", "--home", cli.home, "--origin", "other.test/x", env=env)
    assert (cli.home / "ledger.db").exists()
    # and without either, ./provenance-home
    cli.ok("init", "--origin", ORIGIN)
    assert (cli.cwd / "provenance-home" / "ledger.db").exists()


def test_passphrase_protected_keys(cli):
    secret = {"PROVENANCE_KEY_PASSPHRASE": "correct horse"}
    cli.ok("init", "--home", cli.home, "--origin", ORIGIN, env=secret)
    assert "ENCRYPTED" in (cli.home / "operator.key").read_text()
    cli.ok("keygen", "--out", "farm.pem", "--next", "farm-next.pem", env=secret)
    assert (cli.cwd / "farm.pem").read_text().startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    incept = ["party", "incept", "farm-a", "--name", "Farm A", "--role", "farm", "--country", "IN"]
    incept += ["--key", "farm.pem", "--next-key", "farm-next.pem"]
    assert "PROVENANCE_KEY_PASSPHRASE" in assert_one_error_line(cli(*incept), "config")
    (cli.cwd / "inception.json").write_text(cli.ok(*incept, env=secret))
    assert cli.json_lines("submit", "inception.json", "--home", cli.home, env=secret)[0] == 0
    admit = ["party", "admit", "farm-a", "--role", "farm", "--home", cli.home]
    assert "PROVENANCE_KEY_PASSPHRASE" in assert_one_error_line(cli(*admit), "config")
    cli.ok(*admit, env=secret)
    (cli.cwd / "st.json").write_text(json.dumps(origin_statement("farm-a", "cot-1")))
    assert_one_error_line(cli("sign", "--key", "farm.pem", "st.json"), "config")
    assert_one_error_line(
        cli("sign", "--key", "farm.pem", "st.json", env={"PROVENANCE_KEY_PASSPHRASE": "wrong"}), "config"
    )
    envelope = cli.ok("sign", "--key", "farm.pem", "st.json", env=secret)
    (cli.cwd / "env.json").write_text(envelope)
    code, lines = cli.json_lines("submit", "env.json", "--home", cli.home, env=secret)
    assert code == 0 and lines[0]["seq"] == 3
