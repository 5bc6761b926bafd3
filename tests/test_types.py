"""The package type-checks cleanly: ``mypy src/carepolicy`` (settings in pyproject.toml) reports nothing."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api  # the `dev` extra installs mypy
from mypy import version as mypy_version

ROOT = Path(__file__).resolve().parents[1]


def test_package_type_checks() -> None:
    stdout, stderr, status = mypy_api.run([
        "--config-file", str(ROOT / "pyproject.toml"),
        # one cache per mypy release, so the newest and the lowest environments never share one
        "--cache-dir", str(ROOT / ".mypy_cache" / mypy_version.__version__),
        str(ROOT / "src" / "carepolicy"),
    ])
    assert status == 0, f"mypy exit status {status}\n{stdout}{stderr}"
