"""Bulk runs: ``evaluate_stream`` and ``carepolicy evaluate`` over JSON Lines, run as the real console script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import carepolicy
from carepolicy import Decision, EvaluationError, StreamResult, evaluate_stream, load_packs

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "carepolicy"
AS_OF = "2026-11-23"
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))


@pytest.fixture(scope="module")
def library() -> carepolicy.PackLibrary:
    return load_packs(ROOT / "policies")


def _records() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]


def _batch(tmp_path: Path) -> tuple[Path, list[str]]:
    """Six good records with three bad ones in the middle (bad JSON, invalid evidence, a blank line between)."""
    good = [json.dumps(r) for r in _records()]
    lines = [good[0], good[1], "{not json", good[2], "", json.dumps({"provider": {"id": "X-1", "name": "X", "service_type": "nursing"},
                                                                     "cqc": {"overal": "good"}}),
             good[3], json.dumps({"provider": {"id": "X-2", "name": "Y", "service_type": "spa"}}), good[4], good[5]]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, lines


def _script(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(SCRIPT), *argv], input=stdin, capture_output=True, cwd=ROOT, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


# =========================================================================== the Python API


def test_stream_yields_each_pack_in_force_for_each_record_in_order(library: carepolicy.PackLibrary) -> None:
    results = list(evaluate_stream(library, _records(), AS_OF))
    ids = list(library)
    assert [(r.line, r.pack_id) for r in results] == [(n, p) for n in range(1, len(EXAMPLES) + 1) for p in ids]
    for r in results:
        assert r.ok and r.error is None and isinstance(r.decision, Decision)
    # the same decisions evaluate_all gives, record by record
    expected = [d for rec in _records() for d in library.evaluate_all(rec, AS_OF)]
    assert [r.decision for r in results] == expected


def test_stream_is_lazy(library: carepolicy.PackLibrary) -> None:
    pulled = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal pulled
        for r in _records() * 1000:
            pulled += 1
            yield r

    stream = evaluate_stream(library, records(), AS_OF)
    first = [next(stream) for _ in range(len(library))]
    assert {r.line for r in first} == {1}
    assert pulled == 1, "one record read for the first record's decisions"


def test_a_bad_record_is_one_error_result_and_the_run_goes_on(library: carepolicy.PackLibrary) -> None:
    recs: list[Any] = _records()[:2]
    recs.insert(1, {"provider": {"id": "X-1", "name": "X", "service_type": "nursing"}, "cqc": {"overal": "good"}})
    recs.insert(2, b"{not json")
    results = list(evaluate_stream(library, recs, AS_OF, detail="headline"))
    errors = [r for r in results if not r.ok]
    assert [(r.line, r.provider_id, r.pack_id) for r in errors] == [(2, "X-1", None), (3, None, None)]
    assert [d.code for r in errors for d in r.error.diagnostics] == ["CP401", "CP404"]  # type: ignore[union-attr]
    assert errors[0].to_dict()["error"]["diagnostics"][0]["hint"] == "did you mean `overall`?"
    assert [r.line for r in results if r.ok] == [1] * len(library) + [4] * len(library)


def test_numbered_records_keep_their_numbers(library: carepolicy.PackLibrary) -> None:
    results = list(evaluate_stream(library, [(17, _records()[0]), (40, b"[]")], AS_OF))
    assert {r.line for r in results if r.ok} == {17}
    [bad] = [r for r in results if not r.ok]
    assert bad.line == 40 and bad.error is not None and bad.error.diagnostics[0].line == 40


def test_detail_levels(library: carepolicy.PackLibrary) -> None:
    rec = _records()[0]
    [full, *_] = evaluate_stream(library, [rec], AS_OF, detail="full")
    [head, *_] = evaluate_stream(library, [rec], AS_OF, detail="headline")
    [decs, *_] = evaluate_stream(library, [rec], AS_OF, detail="decisions")
    d = full.decision
    assert d is not None
    assert Decision.model_validate_json(full.to_json()) == d
    assert full.to_dict() == json.loads(full.to_json())
    h = head.to_dict()
    assert h == {"line": 1, "provider_id": d.provider_id, "pack": d.pack.id, "version": d.pack.version, "as_of": AS_OF,
                 "status": d.status, "headline": d.headline.id, "value": d.headline.value, "label": d.headline.label,
                 "severity": d.severity, "judgement": d.judgement, "missing": d.headline.missing,
                 "at_least": None, "at_most": None}
    assert d.headline.status == "decided"
    assert json.loads(head.to_json()) == h
    m = decs.to_dict()
    assert [x["id"] for x in m["decisions"]] == [r.id for r in d.decisions]
    assert [x["rules"] for x in m["decisions"]] == [r.rules for r in d.decisions]
    assert [x["sources"] for x in m["decisions"]] == [r.sources for r in d.decisions]
    assert len(head.to_json()) < len(decs.to_json()) < len(full.to_json())


def test_an_open_headline_keeps_its_bounds_at_every_detail(library: carepolicy.PackLibrary) -> None:
    """A bulk run of a provider with missing evidence says what is already known: 'at least' and 'at most'."""
    rec = {"provider": {"id": "p-open", "name": "Open", "service_type": "residential"},
           "cqc": {"overall": "requires_improvement"}}
    opened = 0
    for detail in ("headline", "decisions"):
        for r in evaluate_stream(library, [rec], AS_OF, detail=detail):  # type: ignore[arg-type]
            assert r.decision is not None
            h = r.decision.headline
            got = r.to_dict()
            if h.status == "decided" or h.bounds is None:
                assert (got["at_least"], got["at_most"]) == (None, None)
                continue
            opened += 1
            assert (got["at_least"], got["at_most"]) == (h.bounds.at_least, h.bounds.at_most)
            if detail == "decisions":
                assert got["decisions"][[x.id for x in r.decision.decisions].index(h.id)]["at_least"] == h.bounds.at_least
    assert opened >= 2  # this sparse record leaves more than one council's headline open


def test_stream_refuses_at_once_when_nothing_is_in_force(library: carepolicy.PackLibrary) -> None:
    def never() -> Iterator[dict[str, Any]]:
        raise AssertionError("no record is read")
        yield {}

    with pytest.raises(EvaluationError, match="no pack has a version in force on 1999-01-01"):
        evaluate_stream(library, never(), "1999-01-01")
    with pytest.raises(EvaluationError, match="detail `all`"):
        evaluate_stream(library, never(), AS_OF, detail="all")  # type: ignore[arg-type]


def test_one_pack_and_a_list_of_packs_are_accepted(library: carepolicy.PackLibrary) -> None:
    pack = library.in_force("wirral-qip", AS_OF)
    [r] = evaluate_stream(pack, _records()[:1], AS_OF)
    assert isinstance(r, StreamResult) and r.pack_id == "wirral-qip"
    assert len(list(evaluate_stream([pack, library.in_force("bolton-qaf", AS_OF)], _records()[:1], AS_OF))) == 2


def test_an_over_long_line_is_refused_without_reading_it_whole() -> None:
    from carepolicy._bulk import read_json_lines

    data = b'{"a": 1}\n' + b"x" * 5000 + b"\n\n" + b'{"b": 2}'
    got = list(read_json_lines(io.BytesIO(data), file="f.jsonl", limit=100))
    assert [n for n, _ in got] == [1, 2, 4]
    assert got[0][1] == b'{"a": 1}\n' and got[2][1] == b'{"b": 2}'
    err = got[1][1]
    assert isinstance(err, carepolicy.EvidenceError)
    assert str(err.diagnostics[0]) == ("f.jsonl:2: error[CP405] the line is 5,001 bytes, larger than the 100-byte limit "
                                       "for one record\n  = at: $\n  = help: write one provider's record per line")


# =========================================================================== the command, as installed


def test_script_jsonl_batch_with_bad_records_in_the_middle(tmp_path: Path, library: carepolicy.PackLibrary) -> None:
    path, lines = _batch(tmp_path)
    proc = _script("evaluate", str(path), "--packs", "policies", "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.decode() == "carepolicy: 3 record(s) or decision(s) failed; their lines carry an `error`\n"
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    errors = [o for o in out if "error" in o]
    assert [(e["line"], e["provider_id"]) for e in errors] == [(3, None), (6, "X-1"), (8, "X-2")]
    assert [[d["code"] for d in e["error"]["diagnostics"]] for e in errors] == [["CP404"], ["CP401"], ["CP401"]]
    assert errors[1]["error"]["diagnostics"][0] == {
        "code": "CP401", "message": "unknown field `overal`", "file": str(path), "line": 6, "col": None,
        "path": "cqc.overal", "expected": None, "hint": "did you mean `overall`?", "severity": "error"}
    assert errors[0]["error"]["diagnostics"][0]["col"] == 2
    decisions = [Decision.model_validate(o) for o in out if "error" not in o]
    expected = [d for rec in _records() for d in library.evaluate_all(rec, AS_OF)]
    assert [(d.provider_id, d.pack.id, d.headline.value, d.status) for d in decisions] == \
        [(d.provider_id, d.pack.id, d.headline.value, d.status) for d in expected]
    assert len(out) == 3 + len(expected)


def test_script_reads_standard_input_and_writes_headlines(tmp_path: Path) -> None:
    path, _ = _batch(tmp_path)
    proc = _script("evaluate", "-", "--packs", "policies", "--as-of", AS_OF, "--detail", "headline", stdin=path.read_bytes())
    assert proc.returncode == 1
    out = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    assert {o["file"] for o in out} == {"<stdin>"}
    good = [o for o in out if "error" not in o]
    assert set(good[0]) == {"file", "line", "provider_id", "pack", "version", "as_of", "status", "headline", "value",
                            "label", "severity", "judgement", "missing", "at_least", "at_most"}
    assert [o["line"] for o in good][:5] == [1] * 5 and [o["line"] for o in good][-5:] == [10] * 5


def test_script_all_good_is_exit_0_and_json_array_matches_the_json_files(tmp_path: Path) -> None:
    path = tmp_path / "good.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    lines = _script("evaluate", str(path), "--packs", "policies", "--as-of", AS_OF, "--format", "json")
    files = _script("evaluate", "examples", "--packs", "policies", "--as-of", AS_OF, "--format", "json")
    assert (lines.returncode, lines.stderr, files.returncode, files.stderr) == (0, b"", 0, b"")
    assert lines.stdout == files.stdout
    docs = json.loads(lines.stdout)
    assert len(docs) == 5 * len(EXAMPLES)
    assert lines.stdout.decode() == json.dumps(docs, indent=2, sort_keys=True) + "\n"


def test_script_bad_lines_go_to_stderr_located_in_table_format(tmp_path: Path) -> None:
    path, _ = _batch(tmp_path)
    proc = _script("evaluate", str(path), "--packs", "policies", "--as-of", AS_OF, "--format", "table")
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert f"{path}:3:2: error[CP404]" in err and f"{path}:6: error[CP401] unknown field `overal`" in err
    assert f"{path}:8: error[CP401]" in err
    assert "Headline decisions as of 2026-11-23" in proc.stdout.decode()


def test_script_detail_needs_a_json_format() -> None:
    proc = _script("evaluate", "examples", "--as-of", AS_OF, "--detail", "headline")
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr == b"carepolicy: --detail applies to --format json and jsonl\n"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_shows_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from carepolicy._cli.evaluate import Progress as _Progress

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert _Progress(_Terminal(), 100)._enabled
    assert not _Progress(io.StringIO(), 100)._enabled
    monkeypatch.setenv("NO_COLOR", "1")
    assert not _Progress(_Terminal(), 100)._enabled
