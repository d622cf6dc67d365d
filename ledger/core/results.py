"""A streamed batch's results, kept in memory that does not grow with its refusals.

``Ledger.append_stream`` may take millions of lines, any number of them refused. Keeping
each refusal as a live ``LedgerError`` (its message, its fields, and whatever its traceback
holds on to) made ``provenance submit`` grow by kilobytes per refused line. ``Results`` keeps
one 8-byte mark per item (the seq it was appended at, or -1 for a refusal) and writes each
refusal's error body, as the output line needs it, to an unnamed temporary file as it comes.
Reading the results back gives the seqs and ``Refused`` errors rebuilt from those bodies,
one at a time.
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator
from typing import IO, Any

from ledger.errors import LedgerError

REFUSED = -1


class Refused(LedgerError):
    """A refusal read back from ``Results``: the same code and body as the error it was.
    Built directly (``Refused(message, field=…)``) it is an ordinary error of its own code."""

    status, code = 422, "refused"

    def __init__(self, message: str, *, field: str | None = None, body: dict[str, Any] | None = None) -> None:
        super().__init__(message, field=field)
        self.body = body
        if body is not None:
            self.code = str(body.get("code", self.code))  # type: ignore[misc]  # the refusal's own code

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> Refused:
        field = body.get("field")
        return cls(str(body.get("message", "")), field=field if isinstance(field, str) else None, body=body)

    def to_json(self) -> dict[str, Any]:
        return {"error": self.body} if self.body is not None else super().to_json()


class Results:
    """Per item of a batch, in order: its seq, or its refusal (module docstring)."""

    def __init__(self) -> None:
        self.marks = array("q")
        self.refused = 0
        self._spool: IO[bytes] | None = None

    def append(self, result: int | LedgerError) -> None:
        if isinstance(result, int):
            self.marks.append(result)
            return
        if self._spool is None:
            self._spool = tempfile.TemporaryFile()  # noqa: SIM115  # open while the results live
        line = json.dumps(result.to_json()["error"], ensure_ascii=False, separators=(",", ":"))
        self._spool.write(line.encode("utf-8") + b"\n")
        self.marks.append(REFUSED)
        self.refused += 1

    def __len__(self) -> int:
        return len(self.marks)

    def seqs(self) -> Iterator[int]:
        return (m for m in self.marks if m != REFUSED)

    def __iter__(self) -> Iterator[int | LedgerError]:
        spool = self._spool
        if spool is not None:
            spool.flush()
            spool.seek(0)
        for mark in self.marks:
            if mark != REFUSED:
                yield mark
            else:
                assert spool is not None
                yield Refused.from_body(json.loads(spool.readline()))

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None

    def __del__(self) -> None:
        self.close()
