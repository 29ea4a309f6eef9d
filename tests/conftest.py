"""Shared test configuration. Per-package fixtures live in each tests/<package>/conftest.py."""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded CI machine; examples stay bounded.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The rulebook cache goes to a private directory, inherited by every subprocess the tests start,
# so the suite never reads or writes the user's own ~/.cache.
os.environ.setdefault("CLU_DOCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="clu-doctor-test-cache-"))
