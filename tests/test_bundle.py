"""The verifiable bundle: it verifies offline, and every kind of edit is caught.

Each tamper test is run twice: as is (the operator's signature no longer matches) and
re-signed with the operator's key, as a dishonest operator could, to show the deeper check
(hash, proof, re-derivation) catches the edit on its own.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scenarios import AUDITOR, FARM, KNITTER, MILL, TEE_YIELDS, Clock, audit, new_builder, tee_chain

from ledger.cli.commands import main
from ledger.crypto.canonical import jcs
from ledger.crypto.keys import b64
from ledger.errors import BadSignature, LedgerError, Malformed, ProofError
from ledger.model.statements import Entry
from ledger.trace.bundle import BUNDLE_PREFIX, BundleMismatch, build_bundle, bundle_message, verify_bundle
from ledger.trace.entries import EntrySet
from ledger.trace.policy import Policy
from ledger.trace.walk import derive, trace_product


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The tee whose mill passed one audit, then failed a later one with an indicator present
    (the one in force), plus a still later pass that was revoked: the bundle carries them all."""
    c = tee_chain(tmp_path_factory.mktemp("failing") / "h")
    c.seqs["fail"] = audit(c.b, MILL, audit_date="2025-03-20", outcome="fail", present=["debt_bondage"])
    c.clock.set("2025-06-10")  # recorded on its date (SPEC §6)
    c.seqs["pass"] = audit(c.b, MILL, audit_date="2025-06-10", valid_until="2026-06-09")
    c.seqs["rev"] = c.b.revoke(AUDITOR, c.seqs["pass"], "issued in error")
    c.bundle = build_bundle(c.ledger, c.gtin, c.batch)  # type: ignore[attr-defined]
    return c


def resign(bundle: dict[str, Any], chain: Any) -> dict[str, Any]:
    bundle["operator_signature"] = b64(chain.ledger.operator_key.sign(bundle_message(bundle)))
    return bundle


def entry_item(bundle: dict[str, Any], seq: int) -> dict[str, Any]:
    return next(e for e in bundle["entries"] if e["seq"] == seq)


def test_bundle_verifies_and_rederives_the_trace(failing: Any) -> None:
    bundle = failing.bundle
    report = verify_bundle(copy.deepcopy(bundle), vkey=failing.ledger.verifier.to_text())
    live = trace_product(failing.ledger, failing.gtin, failing.batch).to_json()
    assert report.to_json() == live == {k: bundle[k] for k in live}
    assert report.verdict == "non-compliant"
    seqs = {e["seq"] for e in bundle["entries"]}
    s = failing.seqs
    # every attestation of every facility involved, revoked or not, and the revocation
    assert {s["fail"], s["pass"], s["rev"], s[f"audit:{FARM}"], s[f"audit:{KNITTER}"]} <= seqs
    assert 0 in seqs  # genesis: the operator key
    assert {step["seq"] for step in bundle["steps"]} <= seqs
    assert bundle["format"] == "provenance-trace/v2"
    assert bundle["policy"] == Policy.from_json({"yields": TEE_YIELDS}).to_json()
    assert all(e["inclusion_proof"]["tree_size"] == report.size for e in bundle["entries"])
    message = BUNDLE_PREFIX + jcs({k: v for k, v in bundle.items() if k != "operator_signature"})
    failing.ledger.verifier.public.verify(base64.b64decode(bundle["operator_signature"]), message)


def test_bundle_json_is_self_contained(failing: Any) -> None:
    """Only the bundle's bytes are needed: a JSON round trip verifies the same."""
    again = json.loads(json.dumps(failing.bundle))
    assert verify_bundle(again).verdict == "non-compliant"


def edit_entry(b: dict[str, Any], chain: Any) -> None:
    item = entry_item(b, chain.seqs["fail"])
    raw = base64.b64decode(item["canonical"]).replace(b'"outcome":"fail"', b'"outcome":"pass"')
    raw = raw.replace(b'"debt_bondage":"present"', b'"debt_bondage":"absent"')
    item["canonical"] = b64(raw)


def edit_entry_and_hash(b: dict[str, Any], chain: Any) -> None:
    edit_entry(b, chain)
    item = entry_item(b, chain.seqs["fail"])
    import hashlib

    item["entry_hash"] = hashlib.sha256(b"\x00" + base64.b64decode(item["canonical"])).hexdigest()


def edit_proof(b: dict[str, Any], chain: Any) -> None:
    hashes = entry_item(b, chain.seqs["spin"])["inclusion_proof"]["hashes"]
    hashes[0] = ("0" if hashes[0][0] != "0" else "1") + hashes[0][1:]


def edit_finding(b: dict[str, Any], chain: Any) -> None:
    b["findings"][0]["message"] = "Nothing to see here."


def drop_finding(b: dict[str, Any], chain: Any) -> None:
    b["findings"] = [f for f in b["findings"] if f["code"] != "indicator-present"]


def edit_verdict(b: dict[str, Any], chain: Any) -> None:
    b["verdict"] = "compliant"


def edit_share(b: dict[str, Any], chain: Any) -> None:
    b["origins"][0]["share"] = "0.5"


def drop_failed_audit(b: dict[str, Any], chain: Any) -> None:
    b["entries"] = [e for e in b["entries"] if e["seq"] != chain.seqs["fail"]]


def drop_genesis(b: dict[str, Any], chain: Any) -> None:
    b["entries"] = [e for e in b["entries"] if e["seq"] != 0]


def drop_auditor_registration(b: dict[str, Any], chain: Any) -> None:
    def body(e: dict[str, Any]) -> dict[str, Any]:
        return json.loads(base64.b64decode(e["canonical"]))["statement"]["body"]  # type: ignore[no-any-return]

    regs = [e["seq"] for e in b["entries"] if body(e).get("party") == AUDITOR]
    b["entries"] = [e for e in b["entries"] if e["seq"] not in regs]


TAMPERS: dict[str, tuple[Callable[[dict[str, Any], Any], None], type[LedgerError], str]] = {
    "entry": (edit_entry, ProofError, "entry_hash is not the hash"),
    "entry-and-hash": (edit_entry_and_hash, ProofError, "not in the checkpointed log"),
    "proof": (edit_proof, ProofError, "not in the checkpointed log"),
    "finding": (edit_finding, BundleMismatch, "'findings'"),
    "dropped-finding": (drop_finding, BundleMismatch, "'verdict'|'findings'"),
    "verdict": (edit_verdict, BundleMismatch, "'verdict'"),
    "share": (edit_share, BundleMismatch, "'origins'"),
    "dropped-audit": (drop_failed_audit, BundleMismatch, "'verdict' does not follow"),
    "dropped-genesis": (drop_genesis, Malformed, "genesis"),
    "dropped-registration": (drop_auditor_registration, Malformed, "inception is not in the bundle"),
}


@pytest.mark.parametrize("name", sorted(TAMPERS))
def test_verify_bundle_rejects_each_edit(failing: Any, name: str) -> None:
    tamper, error, words = TAMPERS[name]
    bundle = copy.deepcopy(failing.bundle)
    tamper(bundle, failing)
    with pytest.raises(BadSignature, match="not signed by the operator"):
        verify_bundle(copy.deepcopy(bundle))
    with pytest.raises(error, match=words):
        verify_bundle(resign(bundle, failing))


def test_a_holder_cannot_drop_an_audit_and_rederive_a_clean_verdict(failing: Any) -> None:
    """Dropping the failed audit and recomputing every claim consistently still fails: only
    the operator can sign a bundle."""
    bundle = copy.deepcopy(failing.bundle)
    drop_failed_audit(bundle, failing)
    entries = [Entry.from_canonical(base64.b64decode(e["canonical"])) for e in bundle["entries"]]
    policy = Policy.from_json(bundle["policy"])
    clean = derive(EntrySet(bundle["size"], None, entries), failing.gtin, failing.batch, policy)
    assert clean.verdict == "compliant"  # the earlier pass is in force without the failure
    bundle.update(clean.to_json())
    with pytest.raises(BadSignature, match="not signed by the operator"):
        verify_bundle(bundle)


def test_another_key_is_refused(failing: Any, tmp_path: Path) -> None:
    other = new_builder(tmp_path / "other").ledger  # same origin, another operator key
    bundle = copy.deepcopy(failing.bundle)
    name, _, key = bundle["vkey"].split("+", 2)
    bundle["vkey"] = f"{name}+{'0' * 8}+{key}"
    with pytest.raises(Malformed, match="hash does not match"):
        verify_bundle(bundle)
    bundle["vkey"] = other.verifier.to_text()
    with pytest.raises(BadSignature, match="note has no signature"):
        verify_bundle(bundle)
    with pytest.raises(BadSignature, match="is not the operator's key"):
        verify_bundle(copy.deepcopy(failing.bundle), vkey=other.verifier.to_text())
    forged = copy.deepcopy(failing.bundle)
    forged["vkey"] = other.verifier.to_text()
    forged["operator_signature"] = b64(other.operator_key.sign(bundle_message(forged)))
    with pytest.raises(BadSignature):
        verify_bundle(forged)  # the checkpoint is not signed by that key


def test_malformed_bundles(failing: Any) -> None:
    for bad, word in [
        ([], "JSON object"),
        ({**failing.bundle, "note": "all fine"}, "unknown field"),
        ({k: v for k, v in failing.bundle.items() if k != "checkpoint"}, "lacks"),
        ({**failing.bundle, "format": "x"}, "format"),
    ]:
        with pytest.raises(Malformed, match=word):
            verify_bundle(bad)


# -- the command line ---------------------------------------------------------------------


def test_cli_bundle_then_verify_offline(tmp_path: Path) -> None:
    home = tmp_path / "h"
    c = tee_chain(home, audited=(FARM, KNITTER))
    audit(c.b, MILL, outcome="fail", present=["retention_of_identity_documents"])
    vkey = c.ledger.verifier.to_text()
    c.ledger.close()
    out = tmp_path / "bundle.json"
    runner = CliRunner()
    r = runner.invoke(main, ["trace", c.gtin, c.batch, "--json", "--bundle", str(out), "--home", str(home)])
    assert r.exit_code == 1, r.output
    assert json.loads(r.output)["verdict"] == "non-compliant"
    assert json.loads(out.read_text())["operator_signature"]
    r = runner.invoke(main, ["verify-bundle", str(out), "--vkey", vkey])
    assert r.exit_code == 0, r.output
    assert "ok: GTIN" in r.output and "non-compliant" in r.output
    bundle = json.loads(out.read_text())
    bundle["verdict"] = "compliant"
    out.write_text(json.dumps(bundle))
    r = runner.invoke(main, ["verify-bundle", str(out)])
    assert r.exit_code == 1 and "rejected: bad-signature" in r.output
    assert runner.invoke(main, ["verify-bundle", str(tmp_path / "missing.json")]).exit_code == 2
    out.write_text("{")
    assert runner.invoke(main, ["verify-bundle", str(out)]).exit_code == 1


def test_bundle_as_of_a_date(tmp_path: Path) -> None:
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    clock.set("2025-07-01")
    c.b.revoke(AUDITOR, c.seqs[f"audit:{MILL}"], "falsified")
    then = build_bundle(c.ledger, c.gtin, c.batch, at="2025-06-30")
    assert then["as_of"] == "2025-06-30" and then["verdict"] == "compliant"
    assert verify_bundle(copy.deepcopy(then)).verdict == "compliant"
    assert max(e["seq"] for e in then["entries"]) < c.ledger.size - 1  # not the revocation
    now = build_bundle(c.ledger, c.gtin, c.batch)
    assert verify_bundle(now).verdict == "non-compliant"


def test_bundle_carries_its_policy(tmp_path: Path) -> None:
    home = tmp_path / "h"
    c = tee_chain(home, country="CN", region="Xinjiang")
    (home / "policy.json").write_text(
        json.dumps({"high_risk_regions": [{"country": "CN", "region": "Xinjiang", "severity": "serious"}]})
    )
    bundle = build_bundle(c.ledger, c.gtin, c.batch)
    assert bundle["policy"]["high_risk_regions"][0]["severity"] == "serious"
    assert verify_bundle(copy.deepcopy(bundle)).verdict == "non-compliant"
    bundle["policy"] = {"high_risk_regions": []}
    with pytest.raises(BundleMismatch, match="'verdict'"):
        verify_bundle(resign(bundle, c))


def test_a_bundle_with_a_corrected_origin_verifies_offline(tmp_path: Path) -> None:
    """The revoked maker and its correction share a lot id; offline derivation agrees."""
    from ledger.core.ledger import Ledger
    from ledger.demo.builder import Builder

    ledger = Ledger.init(tmp_path / "h", "corrections.test/ledger")
    b = Builder(ledger, seed="corrections-bundle")
    for pid, role in (("farm", "farm"), ("brand", "brand"), ("aud", "auditor")):
        b.party(pid, pid, role, "IN")
    wrong = b.origin("farm", "c1", "cotton", "100", "kg", country="IN", produced_on="2025-02-01")
    b.revoke("farm", wrong, "wrong amount")
    b.origin("farm", "c1", "cotton", "90", "kg", country="IN", produced_on="2025-02-01")
    b.ship("farm", "c1", "90", "kg", "brand", "2025-02-02")
    b.product("brand", "09506000134352", "B1", "Bale", [("c1", "90", "kg")])
    bundle = build_bundle(ledger, "09506000134352", "B1")
    assert [c["revoked"] for c in bundle["corrections"]] == [wrong]
    report = verify_bundle(json.loads(json.dumps(bundle)))
    assert report.to_json()["corrections"] == bundle["corrections"]
