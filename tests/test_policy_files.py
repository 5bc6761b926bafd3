"""Every policy test case beside every pack runs as its own pytest test."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepolicy.loader import load_pack
from carepolicy.policytest import load_tests, run_case, run_walk

ROOT = Path(__file__).resolve().parent.parent
TEST_FILES = sorted((ROOT / "policies").glob("*.tests.yaml")) + sorted((ROOT / "tests/data/packs/valid").glob("*.tests.yaml"))
_PACKS: dict[Path, object] = {}


def _cases():
    for f in TEST_FILES:
        spec, pack_path = load_tests(f)
        for case in spec.cases:
            # a `todo` case is expected to fail; strict, so one that starts passing is reported
            marks = [pytest.mark.xfail(reason="todo: not yet expected to pass", strict=True)] if case.todo else []
            yield pytest.param(f, pack_path, case, id=f"{f.stem}::{case.name}", marks=marks)


def _walks():
    for f in TEST_FILES:
        spec, pack_path = load_tests(f)
        for walk in spec.walks:
            marks = [pytest.mark.xfail(reason="todo: not yet expected to pass", strict=True)] if walk.todo else []
            yield pytest.param(f, pack_path, walk, id=f"{f.stem}::walk::{walk.name}", marks=marks)


@pytest.mark.parametrize(("tests_file", "pack_path", "walk"), list(_walks()))
def test_policy_walk(tests_file, pack_path, walk):
    pack = _PACKS.get(pack_path) or _PACKS.setdefault(pack_path, load_pack(pack_path))
    spec, _ = load_tests(tests_file)
    result = run_walk(pack, spec, walk, str(tests_file))
    assert not result.failures, "\n".join(result.failures)


@pytest.mark.parametrize(("tests_file", "pack_path", "case"), list(_cases()))
def test_policy_case(tests_file, pack_path, case):
    pack = _PACKS.get(pack_path) or _PACKS.setdefault(pack_path, load_pack(pack_path))
    spec, _ = load_tests(tests_file)
    result = run_case(pack, spec, case, str(tests_file))
    assert not result.failures, "\n".join(result.failures)


def test_every_shipped_pack_has_tests():
    packs = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
    missing = [p.name for p in packs if not p.with_name(p.stem + ".tests.yaml").exists()]
    assert missing == []
