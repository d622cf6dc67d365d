"""Tiles and mirrors (SPEC §13) for scripts/bench.py: `provenance tiles` (a first run and an
incremental one) and `provenance mirror` of the same ledger, each as a rate and as a ratio
against `provenance verify` of that ledger (both do the same full audit's work or less),
with peak RSS at each ledger size (flat: everything is streamed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

Measure = Callable[[list[str]], tuple[float, float]]


def _bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def run(tmp: Path, homes: dict[int, Path], provenance: str, measure: Measure) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n, home in homes.items():
        tiles, mirror = tmp / f"tiles-{n}", tmp / f"mirror-{n}"
        t_verify, rss_verify = measure([provenance, "verify", "--home", str(home)])
        t_tiles, rss_tiles = measure([provenance, "tiles", str(tiles), "--home", str(home)])
        t_again, _ = measure([provenance, "tiles", str(tiles), "--home", str(home)])
        t_mirror, rss_mirror = measure([provenance, "mirror", str(tiles), "--home", str(mirror)])
        out[str(n)] = {
            "verify_s": round(t_verify, 2),
            "tiles_s": round(t_tiles, 2),
            "tiles_per_s": round(n / t_tiles),
            "tiles_vs_verify": round(t_verify / t_tiles, 2),
            "tiles_again_s": round(t_again, 2),
            "tiles_bytes_per_entry": round(_bytes(tiles) / n, 1),
            "mirror_s": round(t_mirror, 2),
            "mirror_per_s": round(n / t_mirror),
            "mirror_vs_verify": round(t_verify / t_mirror, 2),
            "peak_rss_mib": {
                "verify": round(rss_verify, 1),
                "tiles": round(rss_tiles, 1),
                "mirror": round(rss_mirror, 1),
            },
        }
    return out
