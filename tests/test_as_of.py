"""As-of traces (issue 9, item 9): a bundle asked for a date says "as of" that date in the
report and in verify-bundle's output, and is proved against the checkpoint of that time (the
latest whose entries were all recorded on or before it), not the latest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scenarios import AUDITOR, MILL, Clock, tee_chain

from ledger.cli.commands import main
from ledger.trace.asof import checkpoint_as_of
from ledger.trace.bundle import build_bundle, verify_bundle


@pytest.fixture
def chain(tmp_path: Path) -> Any:
    """A compliant tee chain recorded in June; in July the mill's audit is revoked."""
    clock = Clock("2025-06-01")
    c = tee_chain(tmp_path / "h", clock=clock)
    c.june_size = c.ledger.size
    clock.set("2025-07-01")
    c.b.revoke(AUDITOR, c.seqs[f"audit:{MILL}"], "falsified")
    return c


def test_the_bundle_is_proved_against_the_checkpoint_of_that_time(chain: Any) -> None:
    then = build_bundle(chain.ledger, chain.gtin, chain.batch, at="2025-06-30")
    assert then["verdict"] == "compliant" and then["as_of"] == "2025-06-30"
    assert then["size"] == chain.june_size < chain.ledger.size
    assert f"\n{chain.june_size}\n" in then["checkpoint"]
    assert all(e["inclusion_proof"]["tree_size"] == chain.june_size for e in then["entries"])
    assert verify_bundle(then).verdict == "compliant"
    checkpoint, of_that_time = checkpoint_as_of(chain.ledger, "2025-06-30")
    assert of_that_time and checkpoint.checkpoint.size == chain.june_size


def test_verify_bundle_and_trace_say_as_of(chain: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "then.json"
    home = str(chain.ledger.home)
    r = runner.invoke(
        main, ["trace", chain.gtin, chain.batch, "--at", "2025-06-30", "--bundle", str(out), "--home", home]
    )
    assert r.exit_code == 0, r.output
    assert "as of 2025-06-30" in r.output
    assert f"checkpoint of that time ({chain.june_size} entries" in r.output
    r = runner.invoke(main, ["verify-bundle", str(out)])
    assert r.exit_code == 0, r.output
    assert "compliant as of 2025-06-30" in r.output
    assert f"checkpoint of that time ({chain.june_size} entries" in r.output
    now = tmp_path / "now.json"
    r = runner.invoke(main, ["trace", chain.gtin, chain.batch, "--bundle", str(now), "--home", home])
    r = runner.invoke(main, ["verify-bundle", str(now)])
    assert "non-compliant" in r.output and "as of" not in r.output


def test_with_no_checkpoint_of_that_time_it_says_the_latest(chain: Any, tmp_path: Path) -> None:
    # Keep only the newest checkpoint: none is left whose entries all predate July.
    chain.ledger.conn.execute("DELETE FROM checkpoints WHERE size < ?", (chain.ledger.size,))
    then = build_bundle(chain.ledger, chain.gtin, chain.batch, at="2025-06-30")
    assert then["size"] == chain.ledger.size and then["verdict"] == "compliant"
    out = tmp_path / "then.json"
    out.write_text(json.dumps(then))
    r = CliRunner().invoke(main, ["verify-bundle", str(out)])
    assert r.exit_code == 0, r.output
    assert "compliant as of 2025-06-30" in r.output
    assert "latest checkpoint" in r.output and "none of that time" in r.output
