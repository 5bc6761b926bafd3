"""The package type-checks cleanly: ``mypy src/carepolicy`` (settings in pyproject.toml) reports nothing."""

from __future__ import annotations

from pathlib import Path

from mypy import api as mypy_api  # the `dev` extra installs mypy

ROOT = Path(__file__).resolve().parents[1]


def test_package_type_checks() -> None:
    stdout, stderr, status = mypy_api.run([
        "--config-file", str(ROOT / "pyproject.toml"),
        "--cache-dir", str(ROOT / ".mypy_cache"),
        str(ROOT / "src" / "carepolicy"),
    ])
    assert status == 0, f"mypy exit status {status}\n{stdout}{stderr}"
