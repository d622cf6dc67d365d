"""`provenance verifier DIR --policy FILE`: the static site it writes, and its refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from verifier_kit import Witness, policy_text

from ledger.cli.commands import main
from ledger.core.ledger import Ledger

WITNESSES = [Witness(f"w{i}.example", f"w{i}".encode()) for i in range(3)]


def pinned(out: Path) -> tuple[str, str]:
    text = (out / "pinned.js").read_text()
    values = re.findall(r"^export const (VKEY|POLICY) = (.*);$", text, re.M)
    got = {k: json.loads(v) for k, v in values}
    return got["VKEY"], got["POLICY"]


def test_writes_a_self_contained_site(runner: Any, ledger: Ledger, tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    policy.write_text(policy_text(WITNESSES, 2))
    out = tmp_path / "site"
    r = runner.invoke(main, ["verifier", str(out), "--policy", str(policy), "--home", str(ledger.home)])
    assert r.exit_code == 0, r.output
    assert ledger.verifier.to_text() in r.output
    names = {p.name for p in out.iterdir()}
    assert {
        "index.html",
        "verifier.css",
        "app.js",
        "bundle.js",
        "ed25519.js",
        "pinned.js",
        "boot.js",
    } <= names
    assert pinned(out) == (ledger.verifier.to_text(), policy.read_text())
    html = (out / "index.html").read_text()
    # every script is a file of the site: nothing inline, nothing from elsewhere
    srcs = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert srcs and all(body == "" and re.search(r'src="[a-z]+\.js"', attrs) for attrs, body in srcs)
    for module in out.glob("*.js"):
        for target in re.findall(r'from "([^"]+)"', module.read_text()):
            assert (out / target).is_file(), (module.name, target)


def test_a_vkey_without_a_ledger(runner: Any, tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    policy.write_text("quorum none\n")
    vkey = "example.org/log+a1b2c3d4+AQ" + "A" * 42 + "="
    r = runner.invoke(main, ["verifier", str(tmp_path / "s"), "--policy", str(policy), "--vkey", vkey])
    assert r.exit_code == 1 and "verifier key" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "s").exists()
    good = Witness("op.example", b"op")  # any Ed25519 key in note form will do
    from ledger.tlog.note import Verifier

    vkey = Verifier("op.example", good.key.public).to_text()
    r = runner.invoke(main, ["verifier", str(tmp_path / "s"), "--policy", str(policy), "--vkey", vkey])
    assert r.exit_code == 0, r.output
    assert pinned(tmp_path / "s") == (vkey, "quorum none\n")


def test_refuses_a_policy_it_cannot_enforce(runner: Any, ledger: Ledger, tmp_path: Path) -> None:
    w = WITNESSES[0]
    bad = {
        "no quorum": (f"witness a {w.vkey}\n", "no quorum line"),
        "undefined member": (f"witness a {w.vkey}\ngroup g 1 a b\nquorum g\n", "member 'b' is not defined"),
        "threshold": (f"witness a {w.vkey}\ngroup g 2 a\nquorum g\n", "line 2: threshold '2'"),
        "ed25519 key as witness": (f"witness a {w.vkey.replace('+B', '+A', 1)}\nquorum a\n", "line 1"),
        "unknown keyword": ("witnesses a b\nquorum none\n", "line 1: unknown keyword"),
        "two quorums": ("quorum none\nquorum none\n", "line 2"),
    }
    for name, (text, why) in bad.items():
        policy = tmp_path / "policy"
        policy.write_text(text)
        out = tmp_path / name.replace(" ", "-")
        r = runner.invoke(main, ["verifier", str(out), "--policy", str(policy), "--home", str(ledger.home)])
        assert r.exit_code == 1, (name, r.output)
        assert why in r.output, (name, r.output)
        assert "Traceback" not in r.output and not out.exists(), name
    r = runner.invoke(main, ["verifier", str(tmp_path / "x"), "--policy", str(tmp_path / "missing")])
    assert r.exit_code == 1 and "cannot read the policy file" in r.output
    r = runner.invoke(main, ["verifier", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--policy" in r.output
