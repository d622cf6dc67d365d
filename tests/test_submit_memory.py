"""`provenance submit` reads its input in bounded pieces (issue 9, item 7): a file whose first
line is bad is not read whole, and a line over the envelope limit is refused without being
held in memory. Memory is measured as the peak RSS of the real command (a bound, not a time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.cli.documents import read_documents
from ledger.core.ledger import Ledger
from ledger.errors import LedgerError, TooLarge
from ledger.model.statements import MAX_ENVELOPE_BYTES

VENV = Path(__file__).resolve().parent.parent / ".venv" / "bin"
BIG = 120 * 1024 * 1024  # far above any bound the reader may hold

# Run `provenance submit` in-process under a child interpreter and print its peak RSS (KiB):
# /proc's VmHWM, the program's own (ru_maxrss would keep the high-water mark of the forked
# test runner from before exec, however large that is, and hide the command's growth).
PEAK = """
import sys
from ledger.cli.commands import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")][0]
print("PEAK", hwm, file=sys.stderr)
"""


def peak_rss_kib(*args: str, stdin: Path | None = None) -> tuple[int, str, str]:
    with open(stdin, "rb") if stdin else open(os.devnull, "rb") as inp:
        r = subprocess.run(
            [str(VENV / "python"), "-c", PEAK, *args], stdin=inp, capture_output=True, text=True
        )
    peak = int(r.stderr.rsplit("PEAK", 1)[1])
    return peak, r.stdout, r.stderr


def write_big(path: Path, first: bytes, filler: bytes) -> None:
    with path.open("wb") as f:
        f.write(first)
        chunk = filler * (1024 * 1024 // len(filler))
        for _ in range(BIG // len(chunk)):
            f.write(chunk)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    Ledger.init(tmp_path / "home", "submit.test/ledger").close()
    return tmp_path / "home"


def baseline_kib(home: Path, tmp_path: Path) -> int:
    small = tmp_path / "small.jsonl"
    small.write_bytes(b"not json\n")
    return peak_rss_kib("submit", str(small), "--home", str(home))[0]


def test_a_bad_first_line_does_not_read_the_file_whole(home: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    write_big(big, b"this is not json\n", b" " * 4095 + b"\n")  # then blank lines: cheap to skip
    peak, out, err = peak_rss_kib("submit", str(big), "--home", str(home))
    lines = out.splitlines()
    assert json.loads(lines[0])["error"]["code"] == "malformed"
    assert "Traceback" not in err
    assert peak < baseline_kib(home, tmp_path) + 40 * 1024, f"peak RSS {peak} KiB for a {BIG >> 20} MiB file"


@pytest.mark.parametrize("where", ["file", "stdin"])
def test_one_line_over_the_limit_is_refused_without_being_held(
    home: Path, tmp_path: Path, where: str
) -> None:
    big = tmp_path / "one-line.jsonl"
    write_big(big, b'{"statement": "', b"x" * 4096)
    with big.open("ab") as f:
        f.write(b'"}\n')
    if where == "file":
        peak, out, err = peak_rss_kib("submit", str(big), "--home", str(home))
    else:
        peak, out, err = peak_rss_kib("submit", "-", "--home", str(home), stdin=big)
    (line,) = out.splitlines()
    error = json.loads(line)["error"]
    assert error["code"] == "too-large" and "line 1" in error["message"]
    assert "Traceback" not in err
    assert peak < baseline_kib(home, tmp_path) + 40 * 1024, f"peak RSS {peak} KiB for a {BIG >> 20} MiB line"


def test_refused_lines_do_not_grow_memory(home: Path, tmp_path: Path) -> None:
    """Each refusal is written out compactly as it comes, not kept as a live error (with
    the traceback and document it held): 100,000 refused lines cost about what 1 does."""
    many = tmp_path / "many.jsonl"
    many.write_bytes(b"{}\n" * 100_000)
    peak, out, err = peak_rss_kib("submit", str(many), "--home", str(home))
    lines = out.splitlines()
    assert len(lines) == 100_000 and json.loads(lines[-1])["error"]["field"] == "statement"
    assert "Traceback" not in err
    assert peak < baseline_kib(home, tmp_path) + 30 * 1024, f"peak RSS {peak} KiB for 100,000 refusals"


def test_reader_refuses_long_lines_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    long_line = b'"' + b"y" * (MAX_ENVELOPE_BYTES + 10) + b'"'
    path.write_bytes(b'{"a": 1}\n' + long_line + b"\n\nnot json\n" + b'{"b": 2}')
    got = list(read_documents(path))
    assert [n for n, _ in got] == [1, 2, 4, 5]
    assert got[0][1] == {"a": 1} and got[3][1] == {"b": 2}
    assert isinstance(got[1][1], TooLarge) and "line 2" in str(got[1][1])
    assert isinstance(got[2][1], LedgerError) and not isinstance(got[2][1], TooLarge)


def test_reader_still_takes_one_pretty_printed_document(tmp_path: Path) -> None:
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps({"statement": {"type": "x"}, "signature": {}}, indent=2))
    assert list(read_documents(path)) == [(1, {"statement": {"type": "x"}, "signature": {}})]


def test_reader_bad_first_line_then_good_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.jsonl"
    path.write_bytes(b"{oops\n" + b'{"n": 1}\n' * 3)
    got = list(read_documents(path))
    assert isinstance(got[0][1], LedgerError)
    assert got[1:] == [(2, {"n": 1}), (3, {"n": 1}), (4, {"n": 1})]


if sys.platform != "linux":  # /proc/self/status is Linux only
    pytestmark = pytest.mark.skip("peak RSS from /proc needs Linux")
