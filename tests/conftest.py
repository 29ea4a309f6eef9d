"""Shared test configuration. Per-package fixtures live in each tests/<package>/conftest.py."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from clu_doctor import i18n
from clu_doctor.clock import VirtualClock, use

# Wall-clock deadlines make property tests flaky on a loaded CI machine; examples stay bounded.
settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Piped output follows $COLUMNS when set; pytest-xdist's workers set it (to 80), the user's
# shell may too. Every test starts without it; those about widths set it themselves.
os.environ.pop("COLUMNS", None)

# The rulebook cache goes to a private directory, inherited by every subprocess the tests start,
# so the suite never reads or writes the user's own ~/.cache.
os.environ.setdefault("CLU_DOCTOR_CACHE_DIR", tempfile.mkdtemp(prefix="clu-doctor-test-cache-"))


# The suite reads English unless a test asks for another language: a developer's own locale
# (LANG=nb_NO.UTF-8) must not change what the tests see, here or in the subprocesses they start.
os.environ["CLU_DOCTOR_LANG"] = "en"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Every test starts and ends in English (a command run in Norwegian in-process leaves its
    language behind, as gettext does)."""
    i18n.activate(i18n.ENGLISH)
    yield
    i18n.activate(i18n.ENGLISH)


@pytest.fixture(autouse=True)
def clock(request: pytest.FixtureRequest) -> Iterator[VirtualClock]:
    """Every test outside tests/live runs on a virtual clock: the link, the listening session,
    the probes and the in-process simulator (``--sim``, ``sim://``) all wait on it, so a
    simulated minute costs only the CPU it takes. A test that takes this fixture by name moves
    the clock by hand. Tests in tests/live keep the wall clock (and get a clock nobody uses)."""
    virtual = VirtualClock()
    if request.node.get_closest_marker("live") is not None:
        yield virtual
        return
    with use(virtual):
        yield virtual
