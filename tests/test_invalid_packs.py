"""R1: the malformed-pack corpus. Every bad pack gives a located PackLoadError, never a traceback.

Each ``tests/data/packs/invalid/NNN_<what>.yaml`` is paired with
``NNN_<what>.expected.txt``, the golden rendering of its diagnostics (``str(Diagnostic)``
lines, with the file path as ``carepolicy validate`` run from the repository root shows
it). Regenerate exact goldens after a deliberate change to a message with::

    CAREPOLICY_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_invalid_packs.py

A golden that starts with ``# loose`` is a specification instead, never rewritten: each
line is ``count N`` (exactly N diagnostics), ``not TEXT`` (no diagnostic renders TEXT),
or ``CODE LINE:COL PATH [| TEXT]`` (some diagnostic has that code, position and path and
renders TEXT; ``*`` matches any code, line, column or path, ``-`` a missing line or column). Loose
goldens describe the correct output for the known defects listed in ``KNOWN_DEFECTS``,
whose tests are strict xfails: they flip to failures once the engine is fixed.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from carepolicy import PackLoadError, load_pack, loads_pack
from carepolicy.errors import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
REL = "tests/data/packs/invalid"
CORPUS = ROOT / REL
EVERYTHING = ROOT / "tests/data/packs/valid/everything.yaml"
UPDATE = os.environ.get("CAREPOLICY_UPDATE_GOLDEN") == "1"
NAMES = sorted(p.name[: -len(".yaml")] for p in CORPUS.glob("*.yaml"))

# Files whose problem has no position in the text: an empty file has no line 1.
UNLOCATED_OK = {"052_empty_file"}

# name -> (reason, also_breaks_the_invariant_test): packs whose diagnostics are known to be wrong,
# checked as strict xfails against a `# loose` specification. 083-091 and the line-deletion test are
# regressions: their checker problems lacked a hint slot and crashed the loader until 6677cb8. The
# defects first listed here (union members reported once each, misleading operator advice, `1.10`
# shown as `1.1`, wrong did-you-mean, misplaced lines, cascading errors after CP205, `carepolicy: true`
# accepted, text compared with a number, Python's `None` in messages) are fixed and now exact goldens.
KNOWN_DEFECTS: dict[str, tuple[str, bool]] = {}


def _params(kind: str) -> list[object]:
    out = []
    for name in NAMES:
        marks = []
        if name in KNOWN_DEFECTS:
            reason, breaks_invariant = KNOWN_DEFECTS[name]
            if kind == "golden" or breaks_invariant:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
        out.append(pytest.param(name, id=name, marks=marks))
    return out


def _load_error(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Diagnostic], float, str]:
    monkeypatch.chdir(ROOT)
    path = f"{REL}/{name}.yaml"
    start = time.perf_counter()
    try:
        pack = load_pack(path)
    except PackLoadError as exc:
        return exc.diagnostics, time.perf_counter() - start, path
    pytest.fail(f"{path} loaded as {pack!r}; expected a PackLoadError")


def test_corpus_is_big_enough_and_paired() -> None:
    assert len(NAMES) >= 80
    unpaired = [n for n in NAMES if not (CORPUS / f"{n}.expected.txt").exists()]
    orphans = sorted(p.name for p in CORPUS.glob("*.expected.txt") if p.name[: -len(".expected.txt")] not in NAMES)
    assert unpaired == [] and orphans == []
    assert set(KNOWN_DEFECTS) <= set(NAMES)
    assert len({n[:3] for n in NAMES}) == len(NAMES), "corpus numbers must be unique"


@pytest.mark.parametrize("name", _params("invariant"))
def test_invalid_pack_gives_located_pack_load_error(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    diags, elapsed, path = _load_error(name, monkeypatch)
    assert diags, "a PackLoadError must carry diagnostics"
    for d in diags:
        assert d.file == path
        assert re.fullmatch(r"CP[1-5]\d\d", d.code), d.code
        assert d.severity == "error"
        assert d.message and "\n" not in d.message, d.message
        assert not d.message.endswith("."), d.message
        assert d.message[0] == d.message[0].lower(), d.message
        assert "Traceback" not in str(d)
        if name not in UNLOCATED_OK:
            assert d.line is not None and d.col is not None, f"unlocated: {d}"
            assert d.line >= 1 and d.col >= 1
    assert elapsed < 1.0, f"{name} took {elapsed:.2f}s"


@pytest.mark.parametrize("name", _params("golden"))
def test_invalid_pack_golden(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    diags, _, _ = _load_error(name, monkeypatch)
    golden = CORPUS / f"{name}.expected.txt"
    expected = golden.read_text(encoding="utf-8") if golden.exists() else ""
    if expected.startswith("# loose"):
        _check_loose(expected, diags)
        return
    rendered = "".join(f"{d}\n" for d in diags)
    if UPDATE:
        golden.write_text(rendered, encoding="utf-8")
        return
    assert rendered == expected, f"golden differs; if the change is intended, regenerate with CAREPOLICY_UPDATE_GOLDEN=1\n{rendered}"


def _check_loose(spec: str, diags: list[Diagnostic]) -> None:
    rendered = [str(d) for d in diags]
    shown = "\n".join(rendered)
    for raw in spec.splitlines()[1:]:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("count "):
            assert len(diags) == int(line.split()[1]), f"expected {line}, got {len(diags)}:\n{shown}"
            continue
        if line.startswith("not "):
            text = line[4:]
            assert not any(text in r for r in rendered), f"{text!r} should not appear:\n{shown}"
            continue
        head, _, text = line.partition(" | ")
        code, pos, path = head.split(" ", 2)
        ln, col = pos.split(":")

        def fits(d: Diagnostic) -> bool:
            return (
                (code == "*" or d.code == code)
                and (d.line is None if ln == "-" else d.line == int(ln))
                and (d.col is None if col == "-" else d.col == int(col))
                and (path == "*" or d.path == path)
                and text in str(d)
            )

        assert any(fits(d) for d in diags), f"no diagnostic matches {line!r}:\n{shown}"


def test_loose_spec_checker_rejects_mismatches() -> None:
    d = Diagnostic(code="CP201", message="expected a number", file="f", line=3, col=4, path="a.b")
    _check_loose("# loose\ncount 1\nCP201 3:4 a.b | number\n* 3:4 * \nnot float", [d])
    for bad in ("count 2", "CP202 3:4 a.b", "CP201 3:5 a.b", "CP201 3:4 a.c", "CP201 3:4 a.b | text", "not number"):
        with pytest.raises(AssertionError):
            _check_loose("# loose\n" + bad, [d])


# --------------------------------------------------------------------------- more than one problem


def test_several_semantic_errors_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    diags, _, _ = _load_error("070_several_semantic_errors", monkeypatch)
    assert [(d.code, d.line) for d in diags] == [("CP203", 30), ("CP206", 31), ("CP203", 38), ("CP213", 39)]


def test_several_schema_errors_are_all_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    diags, _, _ = _load_error("069_several_schema_errors", monkeypatch)
    assert [(d.code, d.line) for d in diags] == [("CP201", 4), ("CP201", 17), ("CP201", 17), ("CP201", 39)]
    assert {d.path for d in diags} == {"pack.authority.name", "roles[0].title", "roles[0].titel", "outcomes[0].due.after"}


def test_diagnostics_are_sorted_by_position(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("069_several_schema_errors", "070_several_semantic_errors", "013_unknown_top_level_key"):
        diags, _, _ = _load_error(name, monkeypatch)
        assert diags == sorted(diags, key=Diagnostic.sort_key)


def test_pack_load_error_text_lists_every_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(PackLoadError) as info:
        load_pack(f"{REL}/070_several_semantic_errors.yaml")
    text = str(info.value)
    assert text.count("error[CP") == 4
    assert info.value.exit_code == 1


# --------------------------------------------------------------------------- generated hostile input


def test_oversize_pack_is_refused_before_parsing() -> None:
    data = EVERYTHING.read_bytes() + b"# " + b"x" * 1_048_576 + b"\n"
    start = time.perf_counter()
    with pytest.raises(PackLoadError) as info:
        loads_pack(data, "big.yaml")
    assert time.perf_counter() - start < 0.5
    [d] = info.value.diagnostics
    assert d.code == "CP102" and d.file == "big.yaml"
    assert "1,048,576-byte limit" in d.message


def test_missing_file_is_cp100(tmp_path: Path) -> None:
    with pytest.raises(PackLoadError) as info:
        load_pack(tmp_path / "nope.yaml")
    [d] = info.value.diagnostics
    assert d.code == "CP100" and d.file == str(tmp_path / "nope.yaml")


def _problems_loading(data: bytes, name: str) -> list[str]:
    """Loading must succeed or raise a PackLoadError whose diagnostics are located; else what went wrong."""
    try:
        loads_pack(data, name)
    except PackLoadError as exc:
        if not exc.diagnostics:
            return [f"{name}: PackLoadError without diagnostics"]
        # everything that was read as text has a position, except "no document at all"
        return [f"{name}: unlocated {d}" for d in exc.diagnostics if d.line is None and d.code != "CP110"]
    except Exception as exc:  # noqa: BLE001 - that is the finding
        return [f"{name}: {type(exc).__name__}: {exc}"]
    return []


def test_every_truncation_of_a_valid_pack_fails_cleanly() -> None:
    """R1 truncations: everything.yaml cut at every 5th byte loads or raises a located PackLoadError."""
    data = EVERYTHING.read_bytes()
    found = [p for cut in range(1, len(data), 5) for p in _problems_loading(data[:cut], f"cut@{cut}")]
    assert found == []


def test_deleting_or_repeating_any_line_fails_cleanly() -> None:
    """Regression: deleting `scale: tier` (line 65) made a decision numeric and crashed the checker (fixed in 6677cb8)."""
    lines = EVERYTHING.read_bytes().splitlines(keepends=True)
    found = []
    for i in range(len(lines)):
        found += _problems_loading(b"".join(lines[:i] + lines[i + 1 :]), f"without line {i + 1}")
        found += _problems_loading(b"".join(lines[: i + 1] + lines[i:]), f"line {i + 1} twice")
    assert found == []
