"""The static browser verifier (SPEC §15): ``export_site`` writes a self-contained folder any
static host can serve — the page, its stylesheet, the JavaScript modules of
``web/static/verify`` and ``pinned.js`` holding the operator's verifier key and the witness
policy it trusts. Nothing in it is fetched from the operator but the bundle being checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ledger.tlog.note import Verifier
from ledger.tlog.policy import Policy as WitnessPolicy

MODULES = Path(__file__).parent / "static" / "verify"
SITE = Path(__file__).parent / "verifier_site"
PINNED = "pinned.js"


def export_site(out: Path, vkey: str, policy: str) -> list[Path]:
    """Write the verifier site into ``out`` (created if missing; existing files of the same
    names are replaced). ``vkey``: the operator's note verifier key; ``policy``: tlog-policy
    text (refused, naming the line, unless it parses as ``ledger.tlog.policy`` reads it: the
    page enforces the same rules). Returns the files written. Raises ``Malformed`` for a bad
    key, ``PolicyError`` for a bad policy."""
    Verifier.from_text(vkey)
    WitnessPolicy.from_text(policy, "policy")
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
