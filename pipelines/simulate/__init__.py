"""The simulated force: the embedded default data source, the demo and the test bed.

`simulate_force(...)` writes a force's three source exports in the contract's form (daily
snapshots or one period export) and, elsewhere, the ground truth: which incidents and referrals
really were crimes, how each unrecorded crime went missing, and the true recording rates.
Profiles reproduce published inspection findings (`PROFILES`); presets set volumes (`PRESETS`).
"""

from .profiles import FAILURE_MODES, PRESETS, PROFILE_ALIASES, PROFILES
from .writer import SimulationSummary, simulate_force

__all__ = [
    "FAILURE_MODES",
    "PRESETS",
    "PROFILES",
    "PROFILE_ALIASES",
    "SimulationSummary",
    "simulate_force",
]
