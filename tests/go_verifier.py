"""Build and run the Go verifier of tests/go/main.go (golang.org/x/mod sumdb/note + sumdb/tlog).

``go_verify(payload)`` feeds ``payload`` as JSON to the verifier and returns the finished
process: exit 0 and "ok" when Go accepts everything in it. The binary is built once per
session into a temporary directory, offline, in GOPATH mode against Debian's
golang-golang-x-mod-dev sources (/usr/share/gocode; override with PROVENANCE_GOPATH).
Without ``go`` or those sources the calling test is skipped, with the reason.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

SOURCE = Path(__file__).parent / "go" / "main.go"
VECTORS_SOURCE = Path(__file__).parent / "go" / "vectors" / "main.go"
DEFAULT_GOPATH = "/usr/share/gocode"


def _gopath() -> str:
    return os.environ.get("PROVENANCE_GOPATH") or DEFAULT_GOPATH


@functools.cache
def _build(source: Path = SOURCE) -> Path | str:
    """The verifier binary, or the reason it cannot be built here."""
    go = shutil.which("go")
    if go is None:
        return "the go toolchain is not installed (Debian: golang-go)"
    gopath = _gopath()
    if not (Path(gopath) / "src" / "golang.org" / "x" / "mod" / "sumdb" / "note").is_dir():
        return f"golang.org/x/mod is not under {gopath}/src (Debian: golang-golang-x-mod-dev)"
    out = Path(tempfile.mkdtemp(prefix="provenance-go-verifier-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    binary = out / "verifier"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": gopath,
        "GOFLAGS": "",
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
        "GOCACHE": os.environ.get("GOCACHE") or str(out / "cache"),
    }
    proc = subprocess.run(
        [go, "build", "-o", str(binary), str(source)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode != 0:
        # A build failure is a real failure (the program or its imports are broken), not a skip.
        raise RuntimeError(f"go build failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return binary


def go_binary(source: Path = SOURCE) -> Path:
    """The built program of ``source`` (default: the verifier); skips the calling test when
    Go or x/mod is missing."""
    built = _build(source)
    if isinstance(built, str):
        pytest.skip(built)
    return built


def go_verify(payload: dict[str, Any], source: Path = SOURCE) -> subprocess.CompletedProcess[str]:
    """Run the Go verifier on ``payload``; returncode 0 and stdout "ok\\n" mean accepted."""
    return subprocess.run(
        [str(go_binary(source))],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
