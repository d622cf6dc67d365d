"""A small HTTP client for a running ledger server (``provenance submit --server URL``).

Envelopes go one per ``POST /api/v1/entries`` over one kept-alive connection; each answer
(the 201 body or the SPEC §10 error body) is yielded in order, so the CLI prints exactly
what a local append would have printed.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from ledger.errors import ConfigError, LedgerError

TIMEOUT = 60.0
ENTRIES_PATH = "/api/v1/entries"


class Connection:
    """One kept-alive HTTP(S) connection to ``server`` that reconnects once if dropped."""

    def __init__(self, server: str, timeout: float = TIMEOUT) -> None:
        parts = urlsplit(server if "://" in server else f"http://{server}")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"server URL {server!r} is not an http(s) URL")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.server = server
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.netloc, timeout=self.timeout)

    def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        status, data, _ = self.request_retried(method, path, body)
        return status, data

    def request_retried(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes, bool]:
        """(status, body, whether it was sent twice): a kept-alive connection the server
        closed is reopened once."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = self._connect()
            try:
                self.conn.request(method, self.prefix + path, body=body, headers=headers)
                response = self.conn.getresponse()
                return response.status, response.read(), attempt == 2
            except (ConnectionError, http.client.HTTPException, TimeoutError, OSError) as e:
                self.close()
                if attempt == 2 or not isinstance(
                    e, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
                ):
                    raise ConfigError(f"cannot reach {self.server}: {e}") from e
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def answer(status: int, data: bytes) -> dict[str, Any]:
    """The server's JSON answer, or an error body describing what came back instead."""
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if isinstance(body, dict) and ("error" in body or status == 201):
        return body
    text = data[:200].decode("utf-8", "replace")
    return {"error": {"code": f"http-{status}", "message": f"unexpected answer {status}: {text}"}}


def post_envelopes(server: str, documents: Iterable[tuple[int, Any]]) -> Iterator[dict[str, Any]]:
    """POST each envelope to ``server``; yield per document what the server answered, or the
    document's own parse error. Raises ``ConfigError`` if the server cannot be reached."""
    conn = Connection(server)
    try:
        for _, doc in documents:
            if isinstance(doc, LedgerError):
                yield doc.to_json()
                continue
            body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            status, data, resent = conn.request_retried("POST", ENTRIES_PATH, body)
            reply = answer(status, data)
            if resent and status == 409:
                # The first attempt may have landed before the connection dropped: if the
                # entry the server names holds exactly this envelope, that was our append.
                reply = _our_own(conn, doc, reply)
            yield reply
    finally:
        conn.close()


def _our_own(conn: Connection, doc: Any, reply: dict[str, Any]) -> dict[str, Any]:
    seq = reply.get("error", {}).get("seq")
    if not isinstance(seq, int):
        return reply
    status, data = conn.request("GET", f"{ENTRIES_PATH}/{seq}")
    view = answer(status, data) if status == 200 else {}
    entry = view.get("entry") if isinstance(view, dict) else None
    if (
        isinstance(entry, dict)
        and isinstance(doc, dict)
        and (
            entry.get("statement") == doc.get("statement") and entry.get("signature") == doc.get("signature")
        )
    ):
        return view
    return reply
