"""Hypothesis profiles: `ci` (fast, the default) and `deep` (10,000 examples per property).

Select with CAREPOLICY_PROFILE=deep; the number of examples run is printed at the end.
"""

from __future__ import annotations

import os
from collections import Counter

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("CAREPOLICY_PROFILE", "ci")
settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=10_000, deadline=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(PROFILE)

EXAMPLES: Counter[str] = Counter()
COMPARED: Counter[str] = Counter()
"""Cases the reference evaluator and the engine were compared on (tests/test_reference.py)."""


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if EXAMPLES:
        total = sum(EXAMPLES.values())
        terminalreporter.write_line(
            f"hypothesis profile `{PROFILE}`: {total} examples run across {len(EXAMPLES)} pack properties "
            f"(fewest for one: {min(EXAMPLES.values())})"
        )
    if COMPARED:
        terminalreporter.write_line(
            f"reference evaluator: {COMPARED['cases']} cases compared with the engine "
            f"({COMPARED['decisions']} decisions, {COMPARED['outcomes']} outcomes that apply)"
        )
