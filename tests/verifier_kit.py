"""Helpers for driving the browser verifier (issue 13): a loopback server that hosts the
exported verifier site and plays man in the middle between it and a ledger server, a
malicious operator that rewrites its own log and re-signs everything, and witnesses that
cosign checkpoints (C2SP tlog-cosignature v1), all with real bytes and real keys."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import threading
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ledger.crypto import canonical
from ledger.crypto.keys import PrivateKey, b64
from ledger.tlog import merkle
from ledger.tlog.note import Checkpoint, Signer
from ledger.trace.bundle import SIGNATURE_KEY, bundle_message

Tamper = Callable[[bytes], bytes]
ACCEPT_JSON = {"Accept": "application/json"}


TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml"}


class SiteServer:
    """Serves ``site`` under ``/verify/`` (and any other ``mounts``: URL prefix → folder), and
    ``/mitm/<name>/<path>``: ``upstream + /<path>`` fetched as JSON and passed through
    ``tampers[name]``."""

    def __init__(self, site: Path, upstream: str = "", mounts: dict[str, Path] | None = None) -> None:
        self.upstream = upstream
        self.mounts = {"/verify/": site, **(mounts or {})}
        self.tampers: dict[str, Tamper] = {}
        kit = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                body, ctype, status = b"not found", "text/plain", 404
                mount = next((m for m in kit.mounts if path.startswith(m)), None)
                if mount is not None:
                    folder = kit.mounts[mount].resolve()
                    f = (folder / (path[len(mount) :] or "index.html")).resolve()
                    if f.is_file() and f.is_relative_to(folder):
                        body, status = f.read_bytes(), 200
                        ctype = TYPES.get(f.suffix, "application/json")
                elif path.startswith("/mitm/"):
                    name, _, rest = path[6:].partition("/")
                    req = urllib.request.Request(
                        f"{kit.upstream}/{rest}", headers={"Accept": "application/json"}
                    )
                    with urllib.request.urlopen(req, timeout=30) as r:
                        body = r.read()
                    body, ctype, status = kit.tampers[name](body), "application/json", 200
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def run_verifier(page: Any, url: str) -> tuple[str, str]:
    """Open the verifier at ``url`` and wait for its outcome: (data-verdict, data-reason)."""
    page.goto(url)
    box = page.locator("#verdict[data-verdict=verified], #verdict[data-verdict=failed]")
    box.wait_for(timeout=60_000)
    return box.get_attribute("data-verdict"), box.get_attribute("data-reason")


# -- witnesses (C2SP tlog-cosignature v1) -------------------------------------------------------


class Witness:
    def __init__(self, name: str, seed: bytes | PrivateKey) -> None:
        """A witness named ``name`` with ``seed``'s key (or that key itself)."""
        key = seed if isinstance(seed, PrivateKey) else PrivateKey.from_seed(hashlib.sha256(seed).digest())
        self.name, self.key = name, key

    @property
    def key_hash(self) -> bytes:
        return hashlib.sha256(self.name.encode() + b"\n\x04" + self.key.public.raw).digest()[:4]

    @property
    def vkey(self) -> str:
        key = b64(bytes([4]) + self.key.public.raw)
        return f"{self.name}+{self.key_hash.hex()}+{key}"

    def cosign(self, note: str, timestamp: int = 1_780_000_000) -> str:
        """``note`` with this witness's cosignature line appended."""
        text = note[: note.rindex("\n\n") + 1]
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()
        sig = self.key_hash + struct.pack(">Q", timestamp) + self.key.sign(message)
        return f"{note}\u2014 {self.name} {b64(sig)}\n"


def policy_text(witnesses: list[Witness], k: int) -> str:
    lines = [f"witness w{i} {w.vkey}" for i, w in enumerate(witnesses)]
    lines.append(f"group main {k} " + " ".join(f"w{i}" for i in range(len(witnesses))))
    lines.append("quorum main")
    return "\n".join(lines) + "\n"


# -- a malicious operator: rewrite the log, re-prove, re-sign -----------------------------------


def resign(bundle: dict[str, Any], operator: PrivateKey) -> dict[str, Any]:
    """The bundle signed again by the operator (after the operator itself changed it)."""
    out = {k: v for k, v in bundle.items() if k != SIGNATURE_KEY}
    out[SIGNATURE_KEY] = b64(operator.sign(bundle_message(out)))
    return out


def rewrite_log(
    bundle: dict[str, Any],
    log: list[bytes],
    operator: PrivateKey,
    origin: str,
    *,
    cosigners: tuple[Witness, ...] = (),
) -> dict[str, Any]:
    """The bundle over the log ``log`` (every entry's canonical bytes, edited at will): the
    prev chain relinked, every bundled entry re-hashed and re-proved against a new checkpoint
    signed by ``operator`` (and ``cosigners``), the bundle re-signed. What an operator who
    rewrites history can produce."""
    entries = [json.loads(c) for c in log]
    prev = "0" * 64
    data = []
    for e in entries:
        e["prev"] = prev
        raw = canonical.jcs(e)
        data.append(raw)
        prev = merkle.leaf_hash(raw).hex()
    leaves = [merkle.leaf_hash(d) for d in data]
    size = len(leaves)
    note = Signer(origin, operator).sign_note(Checkpoint(origin, size, merkle.mth(leaves)).to_text())
    for w in cosigners:
        note = w.cosign(note)
    items = []
    for item in bundle["entries"]:
        seq = item["seq"]
        hashes = merkle.resolve_from_leaves(merkle.inclusion_ranges(seq, size), leaves)
        items.append(
            {
                "seq": seq,
                "entry_hash": leaves[seq].hex(),
                "canonical": b64(data[seq]),
                "inclusion_proof": {
                    "leaf_index": seq,
                    "tree_size": size,
                    "hashes": [h.hex() for h in hashes],
                },
            }
        )
    return resign({**bundle, "entries": items, "checkpoint": note, "size": size}, operator)


def flip_bit(data: bytes, position: int) -> bytes:
    """``data`` with the low bit of byte ``position`` flipped (bit ``position % 8``)."""
    out = bytearray(data)
    out[position] ^= 1 << (position % 8)
    return bytes(out)


def unb64(text: str) -> bytes:
    return base64.b64decode(text)
