"""Shared pytest configuration.

Hypothesis runs derandomized in the "ci" profile (no example database, no deadline), so
a run is reproducible; set HYPOTHESIS_PROFILE to load another registered profile.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")
