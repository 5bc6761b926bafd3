"""The dependency range pyproject.toml declares is the range CI installs and tests, at both ends."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Extras CI does not install in the lowest environment, with the reason.
NOT_IN_LOWEST = {
    "zen-engine": "benchmark extra (benchmarks/run.py), not installed by CI",
    "rule-engine": "benchmark extra (benchmarks/run.py), not installed by CI",
    "cedarpy": "benchmark extra (benchmarks/run.py), not installed by CI",
}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _declared() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs.extend(extra)
    lower: dict[str, str] = {}
    for spec in specs:
        requirement = spec.split(";")[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
        assert match, spec
        name, constraint = _name(match.group(1)), match.group(2)
        bound = re.search(r">=\s*([^,\s]+)", constraint)
        assert bound, f"`{spec}` declares no lower bound; every dependency needs one that CI installs"
        lower[name] = bound.group(1)
    return lower


def _lowest() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / ".ci" / "lowest.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version.strip()
    return pins


def test_every_lower_bound_is_pinned_in_the_lowest_environment() -> None:
    declared, pinned = _declared(), _lowest()
    expected = {name: version for name, version in declared.items() if name not in NOT_IN_LOWEST}
    assert pinned == expected


def test_ci_installs_the_lowest_environment_and_runs_the_readme_tests() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    test_command = re.search(r"\.venv/bin/python -m pytest[^\n`]*", readme)
    assert test_command, "the README gives no test command"
    assert test_command.group(0) in script
    assert "-c .ci/lowest.txt" in script
    assert ".venv-lowest/bin/python -m pytest -q" in script
