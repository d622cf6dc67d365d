"""Backup and restore: export/import rebuild the identical tree; backup runs while appends go on."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from ledger.audit.backup import backup, export, import_ledger, read_lines
from ledger.audit.verify import verify_ledger
from ledger.core.ledger import Ledger
from ledger.demo.builder import Builder
from ledger.errors import ConfigError, IntegrityError, Malformed

PROVENANCE = str(Path(__file__).resolve().parent.parent / ".venv" / "bin" / "provenance")


def small_ledger(home: Path) -> Ledger:
    ledger = Ledger.init(home, "backup.test/ledger")
    b = Builder(ledger, seed="backup")
    with b.batch():
        b.party("farm-a", "Farm A", "farm", "IN")
        b.party("mill-b", "Mill B", "processor", "BD")
    for i in range(5):
        with b.batch():
            b.origin("farm-a", f"L{i}", "seed cotton", "100", "kg", country="IN", produced_on="2026-01-01")
            b.ship("farm-a", f"L{i}", "40", "kg", "mill-b", "2026-01-02")
    return ledger


def export_lines(ledger: Ledger, path: Path) -> list[bytes]:
    with path.open("wb") as out:
        export(ledger, out)
    return path.read_bytes().splitlines()


def test_export_import_rebuilds_identical_root_and_checkpoints(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path / "a")
    lines = export_lines(ledger, tmp_path / "x.jsonl")
    with (tmp_path / "x.jsonl").open("rb") as f:
        copy = import_ledger(read_lines(f), tmp_path / "b", ledger.home / "operator.key")
    assert copy.info() == ledger.info()
    assert copy.size == ledger.size == sum(1 for line in lines if not line.startswith(b'{"checkpoint"'))
    originals = ledger.conn.execute("SELECT size, root, note FROM checkpoints ORDER BY size").fetchall()
    assert copy.conn.execute("SELECT size, root, note FROM checkpoints ORDER BY size").fetchall() == originals
    assert verify_ledger(copy.conn).ok
    # The copy holds the operator key, so it goes on appending.
    Builder(copy, seed="more").party("brand-c", "Brand C", "brand", "SE")
    assert copy.size == ledger.size + 2  # its inception and its admission


def test_import_without_operator_key_is_readable_and_verifies(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path / "a")
    export_lines(ledger, tmp_path / "x.jsonl")
    with (tmp_path / "x.jsonl").open("rb") as f:
        copy = import_ledger(read_lines(f), tmp_path / "b")
    assert copy.info()["root"] == ledger.info()["root"]
    assert verify_ledger(copy.conn).ok
    with pytest.raises(ConfigError):
        copy.signer  # noqa: B018 - the key is not there to sign with


@pytest.mark.parametrize(
    "damage, error",
    [
        ("edit-entry", IntegrityError),
        ("not-canonical", Malformed),
        ("drop-entry", IntegrityError),
        ("forged-checkpoint", IntegrityError),
        ("no-final-checkpoint", IntegrityError),
    ],
)
def test_import_refuses_a_damaged_export_and_leaves_no_ledger(
    tmp_path: Path, damage: str, error: type[Exception]
) -> None:
    ledger = small_ledger(tmp_path / "a")
    lines = export_lines(ledger, tmp_path / "x.jsonl")
    origin = next(i for i, line in enumerate(lines) if b'"100"' in line)
    if damage == "edit-entry":
        lines[origin] = lines[origin].replace(b'"100"', b'"900"')
    elif damage == "not-canonical":
        lines[origin] = lines[origin].replace(b'"seq":', b'"seq": ')
    elif damage == "drop-entry":
        del lines[3]
    elif damage == "forged-checkpoint":
        i = next(i for i, line in enumerate(lines) if line.startswith(b'{"checkpoint"'))
        note = json.loads(lines[i])["checkpoint"]
        lines[i] = json.dumps({"checkpoint": note.replace("\n1\n", "\n2\n", 1)}).encode()
    else:
        while lines[-1].startswith(b'{"checkpoint"'):
            lines.pop()
    with pytest.raises(error):
        import_ledger(enumerate(lines, 1), tmp_path / "b")
    assert not (tmp_path / "b" / "ledger.db").exists()


def test_backup_while_appends_continue(tmp_path: Path) -> None:
    ledger = small_ledger(tmp_path / "a")
    writer = Ledger.open(ledger.home)
    b = Builder(writer, seed="live")
    b.party("farm-z", "Farm Z", "farm", "IN")
    stop = threading.Event()

    def append() -> None:
        i = 0
        while not stop.is_set() and i < 200:
            b.origin("farm-z", f"Z{i}", "seed cotton", "1", "kg", country="IN", produced_on="2026-01-01")
            i += 1

    t = threading.Thread(target=append)
    t.start()
    try:
        copies = [backup(ledger, tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        stop.set()
        t.join()
    for i, (size, note) in enumerate(copies):
        home = tmp_path / f"home{i}"
        home.mkdir()
        (tmp_path / f"copy{i}.db").rename(home / "ledger.db")
        with Ledger.open(home, readonly=True) as copy:
            assert copy.size == size
            assert copy.latest_checkpoint().note == note
            assert verify_ledger(copy.conn).ok


def test_cli_export_import_backup(tmp_path: Path) -> None:
    home = tmp_path / "a"
    small_ledger(home).close()
    run = lambda *args: subprocess.run([PROVENANCE, *args], capture_output=True, text=True)  # noqa: E731
    assert run("export", str(tmp_path / "x.jsonl"), "--home", str(home)).returncode == 0
    r = run("import", str(tmp_path / "x.jsonl"), "--home", str(tmp_path / "b"))
    assert r.returncode == 0, r.stderr
    a = json.loads(run("info", "--json", "--home", str(home)).stdout)
    b = json.loads(run("info", "--json", "--home", str(tmp_path / "b")).stdout)
    assert a == b
    assert run("backup", str(tmp_path / "c.db"), "--home", str(home)).returncode == 0
    again = run("backup", str(tmp_path / "c.db"), "--home", str(home))
    assert again.returncode == 1 and "exists already" in again.stderr and "Traceback" not in again.stderr


@pytest.mark.parametrize("content", ["notes", "other-ledger", "demo-plus-notes"])
def test_demo_never_deletes_a_folder_that_is_not_its_own(tmp_path: Path, content: str) -> None:
    from ledger.demo.chains import build_demo

    home = tmp_path / "home"
    if content == "other-ledger":
        Ledger.init(home, "not.a.demo/ledger").close()
    else:
        home.mkdir()
        if content == "demo-plus-notes":
            build_demo(home)
        (home / "notes.txt").write_text("keep me")

    def files() -> list[str]:  # SQLite's -wal/-shm come and go with any reader
        return sorted(p.name for p in home.iterdir() if not p.name.endswith(("-wal", "-shm")))

    before = files()
    with pytest.raises(ConfigError):
        build_demo(home)
    assert files() == before


def test_demo_replaces_its_own_ledger_and_fills_an_empty_folder(tmp_path: Path) -> None:
    from ledger.demo.chains import build_demo

    (tmp_path / "empty").mkdir()
    assert len(build_demo(tmp_path / "empty")) == 3
    assert len(build_demo(tmp_path / "empty")) == 3  # again: it is a demo ledger now
