"""The static browser verifier (SPEC §15): ``export_site`` writes a self-contained folder any
static host can serve — the page, its stylesheet, the JavaScript modules of
``web/static/verify`` and ``pinned.js`` holding the operator's verifier key and the witness
policy it trusts. Nothing in it is fetched from the operator but the bundle being checked."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import shutil
from pathlib import Path

from ledger.errors import ConfigError
from ledger.tlog.note import Verifier

MODULES = Path(__file__).parent / "static" / "verify"
SITE = Path(__file__).parent / "verifier_site"
PINNED = "pinned.js"
ALG_COSIGNATURE_V1 = 0x04


def check_witness_vkey(text: str, where: str) -> None:
    """A C2SP tlog-cosignature v1 verifier key: ``name+hash+base64(0x04 ‖ Ed25519 key)``."""
    name, _, rest = text.partition("+")
    hash_hex, _, key_b64 = rest.partition("+")
    try:
        raw = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    ok = (
        re.fullmatch(r"[\x21-\x2a\x2c-\x7e]+", name) is not None
        and len(raw) == 33
        and raw[0] == ALG_COSIGNATURE_V1
        and hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == hash_hex
    )
    if not ok:
        raise ConfigError(f"{where}: {text!r} is not a cosignature/v1 verifier key")


def check_policy(text: str, source: str) -> str:
    """A C2SP tlog-policy the browser can enforce: known keywords, names defined before use,
    exactly one quorum. Raises ``ConfigError`` naming the line. (The page re-checks it fully,
    keys included, when it loads.)"""
    defined = {"none"}
    quorum = None
    for n, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        where = f"{source} line {n}"
        kind = words[0]
        if kind == "log" and len(words) in (2, 3):
            Verifier.from_text(words[1])
        elif kind == "witness" and len(words) in (3, 4):
            check_witness_vkey(words[2], where)
            defined.add(words[1])
        elif kind == "group" and len(words) >= 4:
            k, members = words[2], words[3:]
            unknown = [m for m in members if m not in defined or m == "none"]
            if unknown:
                raise ConfigError(f"{where}: group {words[1]} names {unknown[0]}, not defined above")
            if not (k in ("any", "all") or (k.isdigit() and 1 <= int(k) <= len(members))):
                raise ConfigError(f"{where}: threshold {k!r} is not 1..{len(members)}, any or all")
            defined.add(words[1])
        elif kind == "quorum" and len(words) == 2:
            if quorum is not None or words[1] not in defined:
                raise ConfigError(f"{where}: a second quorum, or one naming what is not defined above")
            quorum = words[1]
        else:
            raise ConfigError(f"{where}: not a tlog-policy line: {raw.strip()[:80]!r}")
    if quorum is None:
        raise ConfigError(f"{source}: the policy has no quorum line (write 'quorum none' to require none)")
    return text


def export_site(out: Path, vkey: str, policy: str) -> list[Path]:
    """Write the verifier site into ``out`` (created if missing; existing files of the same
    names are replaced). ``vkey``: the operator's note verifier key; ``policy``: tlog-policy
    text. Returns the files written. Raises ``ConfigError`` for a bad key or policy."""
    Verifier.from_text(vkey)
    check_policy(policy, "policy")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for src in sorted(MODULES.glob("*.js")) + sorted(SITE.iterdir()):
        if src.name == PINNED or not src.is_file():
            continue
        shutil.copyfile(src, out / src.name)
        written.append(out / src.name)
    pinned = out / PINNED
    pinned.write_text(
        "// Written by `provenance verifier`: what this verifier trusts.\n"
        f"export const VKEY = {json.dumps(vkey.strip())};\n"
        f"export const POLICY = {json.dumps(policy)};\n",
        encoding="utf-8",
    )
    written.append(pinned)
    return written
