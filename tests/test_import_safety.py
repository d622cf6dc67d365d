"""`provenance import` never deletes or overwrites what it did not create (issue 9, item 1)."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from ledger.audit.backup import export, import_ledger, read_lines
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.errors import ConfigError, IntegrityError

PROVENANCE = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "provenance")


def make_export(tmp_path: Path) -> tuple[Path, Path, bytes]:
    """A small ledger in tmp/a and its export; returns (home, export file, key bytes)."""
    home = tmp_path / "a"
    with Ledger.init(home, "import.test/ledger") as ledger:
        b = Builder(ledger, seed="import")
        b.party("farm-a", "Farm A", "farm", "IN")
        b.origin("farm-a", "L1", "seed cotton", "100", "kg", country="IN", produced_on="2026-01-01")
        with (tmp_path / "x.jsonl").open("wb") as out:
            export(ledger, out)
    return home, tmp_path / "x.jsonl", (home / "operator.key").read_bytes()


def lose_database(home: Path) -> None:
    for name in ("ledger.db", "ledger.db-wal", "ledger.db-shm"):
        (home / name).unlink(missing_ok=True)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROVENANCE, *args], capture_output=True, text=True)


def test_restore_into_the_home_that_holds_the_key_keeps_the_key(tmp_path: Path) -> None:
    home, exp, key = make_export(tmp_path)
    lose_database(home)
    r = run("import", str(exp), "--home", str(home), "--operator-key", str(home / "operator.key"))
    assert r.returncode == 0, r.stderr
    assert (home / "operator.key").read_bytes() == key
    assert stat.S_IMODE((home / "operator.key").stat().st_mode) == 0o600
    with Ledger.open(home) as ledger:  # the restored ledger goes on appending
        Builder(ledger, seed="after").party("mill-b", "Mill B", "processor", "BD")
        assert ledger.size == 6  # v2: genesis, farm-a's inception and admission, L1, mill-b's two


def test_a_failing_import_leaves_the_key_and_other_files_alone(tmp_path: Path) -> None:
    home, exp, key = make_export(tmp_path)
    lose_database(home)
    (home / "notes.txt").write_text("mine")
    damaged = tmp_path / "bad.jsonl"
    damaged.write_bytes(exp.read_bytes().replace(b'"100"', b'"900"'))
    with damaged.open("rb") as f, pytest.raises(IntegrityError):
        import_ledger(read_lines(f), home, home / "operator.key")
    assert (home / "operator.key").read_bytes() == key
    assert (home / "notes.txt").read_text() == "mine"
    assert not (home / "ledger.db").exists()
    # And through the CLI, without --operator-key: still nothing of ours is touched.
    r = run("import", str(damaged), "--home", str(home))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert (home / "operator.key").read_bytes() == key
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt", "operator-next.key", "operator.key"]


def test_a_failing_import_removes_the_folder_it_created(tmp_path: Path) -> None:
    _, exp, _ = make_export(tmp_path)
    damaged = tmp_path / "bad.jsonl"
    damaged.write_bytes(exp.read_bytes().replace(b'"100"', b'"900"'))
    r = run("import", str(damaged), "--home", str(tmp_path / "new" / "home"))
    assert r.returncode == 1
    assert not (tmp_path / "new").exists()


def test_a_wrong_key_into_a_home_with_another_key_is_refused_before_anything(tmp_path: Path) -> None:
    home, exp, key = make_export(tmp_path)
    lose_database(home)
    other = Ledger.init(tmp_path / "other", "other.test/ledger")
    other.close()
    r = run(
        "import", str(exp), "--home", str(home), "--operator-key", str(tmp_path / "other" / "operator.key")
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "operator.key" in r.stderr
    assert (home / "operator.key").read_bytes() == key
    assert not (home / "ledger.db").exists()


def test_a_wrong_key_into_an_empty_home_leaves_nothing(tmp_path: Path) -> None:
    _, exp, _ = make_export(tmp_path)
    Ledger.init(tmp_path / "other", "other.test/ledger").close()
    dest = tmp_path / "b"
    dest.mkdir()
    r = run(
        "import", str(exp), "--home", str(dest), "--operator-key", str(tmp_path / "other" / "operator.key")
    )
    assert r.returncode == 1 and "not the key that signs" in r.stderr
    assert list(dest.iterdir()) == []


def test_the_key_is_never_written_through_a_planted_symlink(tmp_path: Path) -> None:
    home, exp, key = make_export(tmp_path)
    dest = tmp_path / "b"
    dest.mkdir()
    target = tmp_path / "attacker-readable"
    (dest / "operator.key").symlink_to(target)
    r = run("import", str(exp), "--home", str(dest), "--operator-key", str(home / "operator.key"))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert not target.exists()
    assert (dest / "operator.key").is_symlink()  # not ours: left where it was
    assert not (dest / "ledger.db").exists()


def test_the_copied_key_is_0600_whatever_the_source_mode_and_umask(tmp_path: Path) -> None:
    home, exp, key = make_export(tmp_path)
    (home / "operator.key").chmod(0o644)
    old = os.umask(0)
    try:
        with exp.open("rb") as f:
            copy = import_ledger(read_lines(f), tmp_path / "b", home / "operator.key")
    finally:
        os.umask(old)
    copy.close()
    assert (tmp_path / "b" / "operator.key").read_bytes() == key
    assert stat.S_IMODE((tmp_path / "b" / "operator.key").stat().st_mode) == 0o600


def test_a_planted_database_symlink_is_refused(tmp_path: Path) -> None:
    _, exp, _ = make_export(tmp_path)
    dest = tmp_path / "b"
    dest.mkdir()
    (dest / "ledger.db").symlink_to(tmp_path / "elsewhere.db")
    with exp.open("rb") as f, pytest.raises(ConfigError):
        import_ledger(read_lines(f), dest)
    assert not (tmp_path / "elsewhere.db").exists()
    assert (dest / "ledger.db").is_symlink()
