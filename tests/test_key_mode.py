"""`sign --key` refuses a party key others may read, as the operator key is (SPEC §3: 0600)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

PROVENANCE = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "provenance")

STATEMENT = {
    "type": "shipment",
    "issuer": "farm-a",
    "body": {"lot": "L1", "amount": "1", "unit": "kg", "to": "mill-b", "shipped_on": "2026-01-02"},
}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_sign_refuses_a_key_readable_by_group_or_others(tmp_path: Path, mode: int) -> None:
    key = tmp_path / "farm.key"
    assert subprocess.run([PROVENANCE, "keygen", "--out", str(key)], capture_output=True).returncode == 0
    key.chmod(mode)
    (tmp_path / "s.json").write_text(json.dumps(STATEMENT))
    r = subprocess.run(
        [PROVENANCE, "sign", "--key", str(key), str(tmp_path / "s.json")], capture_output=True, text=True
    )
    assert r.returncode == 1 and r.stdout == ""
    assert f"{mode:04o}" in r.stderr and "chmod 600" in r.stderr and "Traceback" not in r.stderr


def test_sign_accepts_a_0600_key(tmp_path: Path) -> None:
    key = tmp_path / "farm.key"
    subprocess.run([PROVENANCE, "keygen", "--out", str(key)], check=True, capture_output=True)
    (tmp_path / "s.json").write_text(json.dumps(STATEMENT))
    r = subprocess.run(
        [PROVENANCE, "sign", "--key", str(key), str(tmp_path / "s.json")], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["statement"]["issuer"] == "farm-a"


def test_epcis_import_refuses_a_key_readable_by_others(tmp_path: Path) -> None:
    """Every command that signs with a party key holds it to 0600, not only ``sign``."""
    key = tmp_path / "farm.key"
    subprocess.run([PROVENANCE, "keygen", "--out", str(key)], check=True, capture_output=True)
    key.chmod(0o644)
    doc = tmp_path / "doc.jsonld"
    doc.write_text(json.dumps({"type": "EPCISDocument", "epcisBody": {"eventList": []}}))
    r = subprocess.run(
        [
            PROVENANCE,
            "epcis",
            "import",
            str(doc),
            "--key",
            str(key),
            "--as",
            "farm-a",
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode != 0 and "0644" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
