"""A test that does not run is a failure, unless an optional extra is genuinely absent (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import conftest

TESTS = '''
import pytest

def test_bare_skip():
    pytest.skip("pack not written yet")

def test_optional_but_present():
    pytest.skip("optional libyaml absent: claimed, but it is installed")

@pytest.mark.skipif(True, reason="optional nosuchextra absent: not a known extra")
def test_unknown_extra():
    pass

def test_optional_absent():
    pytest.skip("optional graphviz absent: no dot here")

@pytest.mark.xfail(strict=True, reason="todo case")
def test_todo():
    assert False
'''


def _run(tmp_path: Path, **env: str) -> str:
    shutil.copy(Path(conftest.__file__), tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(TESTS)
    environ = {**{k: v for k, v in os.environ.items() if k != "CAREPOLICY_REQUIRE"}, "PATH": str(Path(sys.executable).parent), **env}  # no `dot` on this PATH; CI's own
    # CAREPOLICY_REQUIRE is not the sample's
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
                          capture_output=True, text=True, env=environ, cwd=tmp_path)
    return done.stdout


def test_a_skip_fails_unless_an_optional_extra_is_absent(tmp_path):
    out = _run(tmp_path)
    assert "FAILED test_sample.py::test_bare_skip" in out
    libyaml_here = not conftest.OPTIONAL["libyaml"]()
    assert ("FAILED test_sample.py::test_optional_but_present" in out) is libyaml_here
    assert "ERROR test_sample.py::test_unknown_extra" in out
    assert "SKIPPED" in out and "test_optional_absent" not in [l.split("::")[-1] for l in out.splitlines() if l.startswith("FAILED")]
    assert f"skipped {1 if libyaml_here else 2} test(s), each for an optional extra absent here:" in out
    assert "test_sample.py::test_optional_absent: optional graphviz absent: no dot here" in out
    assert "XFAIL test_sample.py::test_todo" in out
    if libyaml_here:
        assert out.strip().splitlines()[-1].startswith("2 failed, 1 skipped, 1 xfailed, 1 error")


def test_a_required_extra_may_not_be_skipped(tmp_path):
    out = _run(tmp_path, CAREPOLICY_REQUIRE="graphviz")
    assert "FAILED test_sample.py::test_optional_absent" in out and "CAREPOLICY_REQUIRE=graphviz requires it" in out
    assert "skipped: none" in out
