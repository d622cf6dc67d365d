"""Reading the documents a command is given: one JSON value, or JSON Lines, in bounded memory.

``read_documents`` never holds more than one line (at most ``LINE_LIMIT`` bytes, the largest
envelope the ledger accepts) plus one read chunk, whatever the input: a longer line is
skipped through in chunks and answered ``too-large``. Only a file no bigger than
``DOCUMENT_LIMIT`` may be one pretty-printed document spanning lines.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ledger.crypto import canonical
from ledger.errors import LedgerError, TooLarge
from ledger.model.statements import MAX_ENVELOPE_BYTES

LINE_LIMIT = MAX_ENVELOPE_BYTES
DOCUMENT_LIMIT = 4 * MAX_ENVELOPE_BYTES  # a pretty-printed envelope: indentation inflates it
CHUNK = 64 * 1024


def bounded_lines(stream: IO[bytes], limit: int, head: bytes = b"") -> Iterator[bytes | None]:
    """Yield each line of ``head`` followed by ``stream`` without its newline, or None for a
    line over ``limit`` bytes, which is read through in chunks and never held whole."""
    buf = head
    start = 0
    while True:
        end = buf.find(b"\n", start)
        if end >= 0:
            if end - start > limit:
                yield None
            else:
                yield buf[start:end]
            start = end + 1
            continue
        buf = buf[start:]
        start = 0
        if len(buf) > limit:  # over the limit and no newline yet: skip to the next one
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    yield None
                    return
                end = chunk.find(b"\n")
                if end >= 0:
                    yield None
                    buf = chunk[end + 1 :]
                    break
            continue
        chunk = stream.read(CHUNK)
        if not chunk:
            if buf:
                yield buf
            return
        buf += chunk


def read_documents(path: Path) -> Iterator[tuple[int, Any]]:
    """One JSON document, or JSON Lines: yield (line number, value or its parse error).

    Streams JSON Lines a line at a time; a line over ``LINE_LIMIT`` bytes is a ``TooLarge``
    error for that line, and the lines after it are still read. A file of at most
    ``DOCUMENT_LIMIT`` bytes whose first line is not a JSON value on its own is tried as one
    (pretty-printed) document.
    """
    stream: IO[bytes] = sys.stdin.buffer if str(path) == "-" else path.open("rb")
    with stream:
        head = stream.read(DOCUMENT_LIMIT + 1)
        lines = bounded_lines(stream, LINE_LIMIT, head)
        first = True
        for n, line in enumerate(lines, 1):
            if line is None:
                first = False
                yield n, TooLarge(f"line {n} is over the limit of {LINE_LIMIT} bytes for an envelope")
                continue
            if not line.strip():
                continue
            try:
                value = canonical.parse(line)
            except LedgerError as e:
                if first and len(head) <= DOCUMENT_LIMIT:
                    try:  # a pretty-printed document spans lines
                        whole = canonical.parse(head)
                    except LedgerError:
                        pass
                    else:
                        yield n, whole
                        return
                first = False
                yield n, e  # JSON Lines with a bad line: go on with the others
                continue
            first = False
            yield n, value
