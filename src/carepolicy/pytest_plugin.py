"""pytest plugin: ``pytest --policy-coverage=PERCENT [--policy-dir=policies]``.

Runs the YAML policy tests of every pack in the directory, prints their coverage by
clause and fails the session when a pack's tests exercise less than PERCENT of its
rules, band edges, rows, outcomes and ladder transitions (counted, not rounded).
"""

from __future__ import annotations

from typing import Any


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("carepolicy")
    group.addoption("--policy-coverage", action="store", type=float, default=None, metavar="PERCENT",
                    help="fail when the policy tests exercise less than PERCENT of a pack's items")
    group.addoption("--policy-dir", action="store", default="policies", help="directory of packs and their tests")


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    threshold = session.config.getoption("--policy-coverage", default=None)
    if threshold is None:
        return
    from .coverage import coverage
    from .policytest import run_paths_by_pack

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    failed = False
    for pack, results in run_paths_by_pack([session.config.getoption("--policy-dir")]):
        if pack is None:
            failed = True
            continue
        cov = coverage(pack, [(r.evidence, r.decision) for r in results], [t for r in results for t in r.transitions])
        if reporter is not None:
            reporter.write_line(cov.render())
        if not cov.meets(threshold):
            failed = True
            if reporter is not None:
                reporter.write_line(f"policy coverage of `{cov.pack}` {cov.covered}/{cov.total} is under {threshold}%")
    if failed and session.exitstatus == 0:
        session.exitstatus = 1
