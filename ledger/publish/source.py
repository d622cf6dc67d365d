"""Where a mirror reads tiles from: a base URL (any static host or ``provenance serve``) or a
local directory that ``provenance tiles`` wrote. Nothing read here is trusted: the tile
reader checks every byte against a signed checkpoint."""

from __future__ import annotations

import gzip
import io
import urllib.error
import urllib.request
from pathlib import Path

from ledger.errors import ConfigError, NotFound

# The largest file of a log: an entry bundle of 256 records of 2 + 65,535 bytes.
MAX_FILE_BYTES = 256 * (2 + 0xFFFF)
TIMEOUT_SECONDS = 60


class Source:
    """Fetch ``checkpoint`` and ``tile/…`` paths below a URL or a directory."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.is_url = where.startswith(("http://", "https://"))
        if not self.is_url and not Path(where).is_dir():
            raise ConfigError(f"{where} is neither an http(s) URL nor a directory of tiles")

    def fetch(self, path: str) -> bytes:
        """The bytes at ``path``. Raises ``NotFound`` if the source has none, ``ConfigError`` if
        it cannot be read or answers with something other than a file."""
        if self.is_url:
            return self._get(self.where.rstrip("/") + "/" + path)
        file = Path(self.where) / path
        if not file.is_file():
            raise NotFound(f"{self.where} has no {path}")
        with file.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
        return _bounded(data, path)

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"Accept-Encoding": "gzip, identity", "User-Agent": "provenance-mirror"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                data = _bounded(response.read(MAX_FILE_BYTES + 1), url)
                if response.headers.get("Content-Encoding", "identity") == "gzip":
                    with gzip.GzipFile(fileobj=io.BytesIO(data)) as z:
                        data = _bounded(z.read(MAX_FILE_BYTES + 1), url)
                return data
        except urllib.error.HTTPError as e:
            if e.code == 404:
                raise NotFound(f"{url}: 404") from e
            raise ConfigError(f"{url}: HTTP {e.code} {e.reason}") from e
        except (urllib.error.URLError, OSError, EOFError) as e:
            raise ConfigError(f"{url}: {getattr(e, 'reason', e)}") from e


def _bounded(data: bytes, where: str) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{where} is larger than any tile or entry bundle ({MAX_FILE_BYTES} bytes)")
    return data
