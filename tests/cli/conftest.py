"""Fixtures of the command-line tests: simulated lakes shared with tests/report."""

from __future__ import annotations

import pytest

from tests.report.simulated import FORCE, PREVIOUS_RUN, SNAPSHOT, shared_base, simulated_lake


@pytest.fixture(scope="session")
def breaching_lake(tmp_path_factory):
    return simulated_lake(shared_base(tmp_path_factory), "kent-2017", (PREVIOUS_RUN, SNAPSHOT))


# A force whose thresholds its recording meets, whatever the simulator's small-sample luck: the
# exit code under test is the gate's, so the force file sets thresholds well below its rates.
LENIENT_FORCE_FILE = """
thresholds:
  unrecorded_rate:
    overall: 0.25
    crime_group: {VIOLENCE_AGAINST_THE_PERSON: 0.3, SEXUAL_OFFENCES: 0.3}
    route: {REFERRAL: 0.4}
  min_share_within_24h: 0.5
"""


@pytest.fixture(scope="session")
def passing_lake(tmp_path_factory):
    config = tmp_path_factory.mktemp("lenient-config")
    (config / "forces").mkdir()
    (config / "forces" / f"{FORCE}.yaml").write_text(LENIENT_FORCE_FILE, encoding="utf-8")
    return simulated_lake(shared_base(tmp_path_factory), "outstanding", (SNAPSHOT,),
                          env={"CDI_CONFIG_DIR": str(config)})
