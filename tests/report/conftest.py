"""Fixtures of the report tests: simulated lakes (real `cdi` runs) and a headless Chromium."""

from __future__ import annotations

import pytest

from tests.report.browser import Chromium, ensure_chromium
from tests.report.simulated import ARTEFACTS, PREVIOUS_RUN, SNAPSHOT, shared_base, simulated_lake


@pytest.fixture(scope="session")
def breaching_lake(tmp_path_factory):
    """A Kent-2017-like force with two daily runs (so the report has a previous run to compare)."""
    return simulated_lake(shared_base(tmp_path_factory), "kent-2017", (PREVIOUS_RUN, SNAPSHOT))


@pytest.fixture(scope="session")
def chromium_binary():
    # Installs Debian's chromium when it is missing; if that fails the browser tests fail, not skip.
    return ensure_chromium()


@pytest.fixture(scope="session")
def browser(chromium_binary):
    with Chromium(chromium_binary) as running:
        yield running


@pytest.fixture(scope="session")
def artefacts():
    ARTEFACTS.mkdir(exist_ok=True)
    return ARTEFACTS
