"""Hypothesis profiles: `ci` (fast, the default) and `deep` (10,000 examples per property).

Select with CAREPOLICY_PROFILE=deep; the number of examples run is printed at the end.

No test passes by not running: a skip is turned into a failure unless its reason names an
optional extra (``pytest.skip("optional graphviz absent: ...")``) that really is absent on this
machine and that ``CAREPOLICY_REQUIRE`` (comma-separated; CI sets it) does not require. The
summary lists every skip with its reason.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter

import pytest
import yaml
from hypothesis import HealthCheck, settings

def _durable_absent() -> bool:
    """durable-rules (the `durable` extra) cannot run here: not installed, or Python 3.13+ where it does not load."""
    from carepolicy.stream import available

    return not available()


OPTIONAL = {
    # an optional extra, and how to tell it is genuinely absent here
    "graphviz": lambda: shutil.which("dot") is None,
    "libyaml": lambda: not hasattr(yaml, "CSafeLoader"),
    "durable": _durable_absent,
}
REQUIRED = {n.strip() for n in os.environ.get("CAREPOLICY_REQUIRE", "").split(",") if n.strip()}
SKIPPED: list[tuple[str, str]] = []


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def skip_allowed(reason: str) -> bool:
    """A skip may stand only for an optional extra that is absent here and not required."""
    m = re.match(r"optional (\S+) absent\b", reason)
    return bool(m) and m.group(1) in OPTIONAL and m.group(1) not in REQUIRED and OPTIONAL[m.group(1)]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return  # strict xfails (policy tests marked `todo`, loose corpus cases) are reported by pytest itself
    reason = _skip_reason(report)
    if skip_allowed(reason):
        SKIPPED.append((item.nodeid, reason))
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped, but a test must run: {reason!r}. A skip is allowed only for an optional extra "
                       f"that is absent ({', '.join(sorted(OPTIONAL))}: pytest.skip('optional <name> absent: why'))"
                       + (f"; CAREPOLICY_REQUIRE={','.join(sorted(REQUIRED))} requires it" if REQUIRED else ""))

PROFILE = os.environ.get("CAREPOLICY_PROFILE", "ci")
settings.register_profile("ci", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("deep", max_examples=10_000, deadline=None,
                          suppress_health_check=list(HealthCheck))
# tools/mutate.py: a few examples per property, no example database (each mutant starts afresh)
settings.register_profile("mutation", max_examples=15, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
settings.load_profile(PROFILE)

EXAMPLES: Counter[str] = Counter()
COMPARED: Counter[str] = Counter()
"""Cases the reference evaluator and the engine were compared on (tests/test_reference.py)."""
STREAMED: Counter[str] = Counter()
"""Streams and events the streaming backend and the core were compared on, by pack (tests/test_stream_differential.py)."""
STREAM_EVENTS: Counter[str] = Counter()


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001
    if SKIPPED:
        terminalreporter.write_line(f"skipped {len(SKIPPED)} test(s), each for an optional extra absent here:")
        for nodeid, reason in SKIPPED:
            terminalreporter.write_line(f"  {nodeid}: {reason}")
    else:
        terminalreporter.write_line("skipped: none (every optional extra is present)")
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
    if STREAMED:
        terminalreporter.write_line(
            f"streaming backend: {sum(STREAMED.values())} streams and {sum(STREAM_EVENTS.values())} events compared "
            f"with the core after every event, across {len(STREAMED)} packs and pack sets "
            f"(fewest streams for one: {min(STREAMED.values())})"
        )
