"""The log's HTTP client for one witness (C2SP tlog-witness v1 ``add-checkpoint``).

One keep-alive connection per witness, a timeout on every request; a dead or slow witness
raises ``Unreachable`` and nothing else waits for it.
"""

from __future__ import annotations

import http.client
import re
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from ledger.crypto.keys import b64

MAX_REPLY = 1 << 16
_SIZE = re.compile(r"(0|[1-9][0-9]{0,17})\n")


class Unreachable(Exception):
    """No HTTP answer from the witness (refused, reset, timed out, not HTTP)."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: str

    def conflict_size(self) -> int | None:
        """The witness's size from a well-formed 409 (``text/x.tlog.size``), else None."""
        if self.status != 409 or not self.content_type.startswith("text/x.tlog.size"):
            return None
        match = _SIZE.fullmatch(self.body)
        return int(match.group(1)) if match else None


def request_body(old: int, proof: Sequence[bytes], note: str) -> bytes:
    lines = [f"old {old}", *(b64(h) for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


class WitnessClient:
    def __init__(self, url: str, timeout: float) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"witness URL {url!r} is not http(s)://host[:port][/prefix]")
        self.url = url
        self.parsed = parsed
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            cls = http.client.HTTPSConnection if self.parsed.scheme == "https" else http.client.HTTPConnection
            self.conn = cls(self.parsed.hostname or "", self.parsed.port, timeout=self.timeout)
        return self.conn

    def add_checkpoint(self, old: int, proof: Sequence[bytes], note: str) -> Answer:
        """POST <prefix>/add-checkpoint. Raises ``Unreachable``."""
        path = self.parsed.path.rstrip("/") + "/add-checkpoint"
        body = request_body(old, proof, note)
        try:
            conn = self._connection()
            conn.request("POST", path, body=body, headers={"Content-Type": "text/plain"})
            r = conn.getresponse()
            data = r.read(MAX_REPLY + 1)
            answer = Answer(r.status, r.getheader("Content-Type") or "", data.decode("utf-8", "replace"))
            if r.will_close or len(data) > MAX_REPLY:
                self.close()
            return answer
        except (OSError, http.client.HTTPException) as e:
            self.close()
            raise Unreachable(f"{type(e).__name__}: {e}" if str(e) else type(e).__name__) from e

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None
