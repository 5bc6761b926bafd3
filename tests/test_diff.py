"""The impact of a policy edit: ``diff_packs`` and ``carepolicy diff``, run as the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import carepolicy
from carepolicy import EvaluationError, diff_packs, load_pack, loads_pack

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "carepolicy"
LANCASHIRE = ROOT / "policies" / "lancashire.yaml"
MARKET = ROOT / "examples" / "market-300.jsonl"
HUNDRED = b"".join(MARKET.read_bytes().splitlines(keepends=True)[:100])  # lines 1-100 of the example market
AS_OF = "2026-11-23"


def _edited(text: str, *, version: str, qpip_2_from: int = 26, effective: tuple[str, str | None] | None = None) -> str:
    """Lancashire with QPIP 2 starting at another score (the same edit a policy author makes by hand)."""
    old_1 = "{id: qpip-1, value: qpip_1, min: 20, max: 27,"
    old_2 = "{id: qpip-2, value: qpip_2, min: 28,"
    assert old_1 in text and old_2 in text
    text = text.replace(old_1, f"{{id: qpip-1, value: qpip_1, min: 20, max: {qpip_2_from - 1},")
    text = text.replace(old_2, f"{{id: qpip-2, value: qpip_2, min: {qpip_2_from},")
    text = text.replace('  version: "1.0.0"', f'  version: "{version}"', 1)
    if effective is not None:
        start, end = effective
        text = text.replace('  effective_from: "2022-12-20"',
                            f'  effective_from: "{start}"' + (f'\n  effective_to: "{end}"' if end else ""), 1)
    return text


def _scores() -> list[tuple[int, dict[str, Any]]]:
    out = []
    for n, line in enumerate(MARKET.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        out.append((n, record))
    return out


def _tier(score: int | None, qpip_2_from: int) -> str | None:
    if score is None:
        return None
    return "none" if score < 20 else "qpip_1" if score < qpip_2_from else "qpip_2"


# =========================================================================== the Python API


def test_diff_finds_exactly_the_providers_the_edit_moves() -> None:
    old = load_pack(LANCASHIRE)
    new = loads_pack(_edited(LANCASHIRE.read_text(encoding="utf-8"), version="1.1.0"), "lancashire-edited.yaml")
    records = _scores()
    report = diff_packs(old, new, [r for _, r in records], AS_OF)
    in_scope = [(n, r) for n, r in records if old.evaluate(r, AS_OF).status != "out_of_scope"]
    moved = {n for n, r in in_scope
             if _tier(r["local"]["lancashire"].get("risk_profile_score"), 28)
             != _tier(r["local"]["lancashire"].get("risk_profile_score"), 26)}
    assert moved, "the example market has scores of 26 and 27"
    headline = [c for c in report.changes if c.headline is not None]
    assert {c.line for c in headline} == moved
    assert report.headline_changed == len(moved) and report.records == len(records) == report.compared
    assert dict(report.headline_transitions) == {("qpip_1", "qpip_2"): len(moved)}
    for c in headline:
        h = c.headline
        assert h is not None and h.before is not None and h.after is not None
        assert (h.before.rules, h.after.rules) == (("qpip-1",), ("qpip-2",))
        assert (h.before.severity, h.after.severity) == (2, 3)
        assert h.after.sources == ("§4.0 para 2 ('a risk assessment score of 28+ as QPIP 2')",)
        assert "qpip_tier" in [d.decision for d in c.decisions]
    summary = report.summary()
    assert summary["old"]["version"] == "1.0.0" and summary["new"]["version"] == "1.1.0"
    assert summary["headline"] == [{"from": "qpip_1", "to": "qpip_2", "providers": len(moved)}]


def test_an_unchanged_pack_changes_nobody() -> None:
    pack = load_pack(LANCASHIRE)
    report = diff_packs(pack, pack, [r for _, r in _scores()[:40]], AS_OF)
    assert (report.changed, report.headline_changed, report.changes, report.compared) == (0, 0, [], 40)


def test_a_record_one_version_refuses_is_counted_and_located() -> None:
    old = load_pack(LANCASHIRE)
    text = LANCASHIRE.read_text(encoding="utf-8")
    # the new version narrows the range of a finding the records carry
    declared = "type: integer, min: 0, max: 1000, was: assessment.risk_profile_score"
    assert declared in text
    new = loads_pack(text.replace(declared, declared.replace("max: 1000", "max: 100"))
                     .replace('version: "1.0.0"', 'version: "2.0.0"', 1), "v2.yaml")
    records: list[Any] = [
        {"provider": {"id": "A", "name": "A", "service_type": "nursing"}, "local": {"lancashire": {"risk_profile_score": 30}}},
        {"provider": {"id": "B", "name": "B", "service_type": "nursing"}, "local": {"lancashire": {"risk_profile_score": 300}}},
        b"{oops",
    ]
    report = diff_packs(old, new, records, AS_OF)
    assert (report.records, report.compared, report.refused) == (3, 1, 2)
    b, bad = report.changes
    assert b.line == 2 and b.refused_before is None and b.refused_after is not None
    assert [d.code for d in b.refused_after.diagnostics] == ["CP401"]
    assert b.refused_after.diagnostics[0].path == "local.lancashire.risk_profile_score"
    assert b.provider_id == "B"
    assert bad.line == 3 and bad.refused_before is not None and bad.refused_before.diagnostics[0].code == "CP404"


def test_versions_in_force_on_different_dates() -> None:
    text = LANCASHIRE.read_text(encoding="utf-8")
    v1 = loads_pack(text.replace('  effective_from: "2022-12-20"', '  effective_from: "2022-12-20"\n  effective_to: "2026-12-31"', 1), "v1.yaml")
    v2 = loads_pack(_edited(text, version="1.1.0", effective=("2027-01-01", None)), "v2.yaml")
    with pytest.raises(EvaluationError, match="the new pack `lancashire-qpip` v1.1.0 is not in force on 2026-11-23"):
        diff_packs(v1, v2, [], AS_OF)
    report = diff_packs(v1, v2, [r for _, r in _scores()], old_as_of="2026-12-31", new_as_of="2027-01-01")
    assert report.headline_transitions[("qpip_1", "qpip_2")] >= 1
    assert (report.old_as_of.isoformat(), report.new_as_of.isoformat()) == ("2026-12-31", "2027-01-01")


# =========================================================================== the command, as installed


def _script(*argv: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(SCRIPT), *argv], input=stdin, capture_output=True, cwd=ROOT, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1"})


@pytest.fixture(scope="module")
def edited(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("diff") / "lancashire-1.1.0.yaml"
    path.write_text(_edited(LANCASHIRE.read_text(encoding="utf-8"), version="1.1.0"), encoding="utf-8")
    return path


def test_script_diff_table_with_bad_records_in_the_middle(tmp_path: Path, edited: Path) -> None:
    lines = MARKET.read_text(encoding="utf-8").splitlines()[:60]
    lines[20:20] = ["{broken", json.dumps({"provider": {"id": "X", "name": "X", "service_type": "nursing"}, "cqc": {"overal": "good"}})]
    population = tmp_path / "pop.jsonl"
    population.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = _script("diff", "policies/lancashire.yaml", str(edited), "--evidence", str(population), "--as-of", AS_OF)
    assert proc.returncode == 1, proc.stderr
    out, err = proc.stdout.decode(), proc.stderr.decode()
    assert f"{population}:21:2: error[CP404]" in err and f"{population}:22: error[CP401] unknown field `overal`" in err
    records = [json.loads(x) for x in lines[:20] + lines[22:]]
    api = diff_packs(load_pack(LANCASHIRE), load_pack(edited), records, AS_OF)
    assert out.splitlines()[1] == (f"62 providers: 60 compared, 2 refused; {api.changed} change outcome "
                                   f"({100 * api.changed / 60:.1f}%), the headline for {api.headline_changed} "
                                   f"({100 * api.headline_changed / 60:.1f}%)")
    assert "Impact of `lancashire-qpip` v1.0.0" in out and "-> v1.1.0" in out
    if api.headline_changed:
        assert "qpip_1 -> qpip_2 (severity 2 -> 3)" in out


def test_script_diff_jsonl_matches_the_api(edited: Path) -> None:
    proc = _script("diff", "policies/lancashire.yaml", str(edited), "--evidence", "-", "--as-of", AS_OF,
                   "--format", "jsonl", stdin=HUNDRED)
    assert (proc.returncode, proc.stderr) == (0, b"")
    rows = [json.loads(x) for x in proc.stdout.decode().splitlines()]
    summary = rows.pop()["summary"]
    api = diff_packs(load_pack(LANCASHIRE), load_pack(edited), [r for _, r in _scores()[:100]], AS_OF)
    assert [r["line"] for r in rows] == [c.line for c in api.changes]
    assert summary["changed"] == api.changed and summary["headline_changed"] == api.headline_changed > 0
    assert summary["new"]["file"] == str(edited) and summary["old"]["file"] == "policies/lancashire.yaml"
    assert rows[0]["headline"] == api.changes[0].to_dict()["headline"]


def test_script_diff_json_is_one_document(edited: Path) -> None:
    proc = _script("diff", "policies/lancashire.yaml", str(edited), "--evidence", "-", "--as-of", AS_OF,
                   "--format", "json", stdin=HUNDRED)
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert set(doc) == {"changes", "summary"} and len(doc["changes"]) == doc["summary"]["changed"]


def test_script_diff_of_versions_in_force_on_two_dates(tmp_path: Path) -> None:
    text = LANCASHIRE.read_text(encoding="utf-8")
    (tmp_path / "lancashire-1.0.yaml").write_text(
        text.replace('  effective_from: "2022-12-20"', '  effective_from: "2022-12-20"\n  effective_to: "2026-12-31"', 1),
        encoding="utf-8")
    (tmp_path / "lancashire-1.1.yaml").write_text(_edited(text, version="1.1.0", effective=("2027-01-01", None)),
                                                  encoding="utf-8")
    proc = _script("diff", str(tmp_path), "--evidence", "-", "--from-date", "2026-12-31", "--to-date", "2027-01-01",
                   "--format", "jsonl", stdin=HUNDRED)
    assert (proc.returncode, proc.stderr) == (0, b""), proc.stderr
    summary = json.loads(proc.stdout.decode().splitlines()[-1])["summary"]
    assert (summary["old"]["version"], summary["old"]["as_of"]) == ("1.0.0", "2026-12-31")
    assert (summary["new"]["version"], summary["new"]["as_of"]) == ("1.1.0", "2027-01-01")
    assert {"from": "qpip_1", "to": "qpip_2"}.items() <= summary["headline"][0].items()
    # one as-of date cannot compare versions in force on different dates: said so, exit 1
    proc = _script("diff", str(tmp_path / "lancashire-1.0.yaml"), str(tmp_path / "lancashire-1.1.yaml"),
                   "--evidence", str(MARKET), "--as-of", AS_OF)
    assert proc.returncode == 1 and b"the new pack `lancashire-qpip` v1.1.0 is not in force on 2026-11-23" in proc.stderr


@pytest.mark.parametrize(("argv", "message"), [
    (("diff", "policies", "--evidence", str(MARKET)),
     "carepolicy: with one directory of packs, say which dates to compare: --from-date D1 --to-date D2\n"),
    (("diff", "policies", "--evidence", str(MARKET), "--from-date", "2026-01-01", "--to-date", "2026-06-01"),
     "carepolicy: `policies` holds 5 packs: name one with --pack (bolton-qaf, lancashire-qpip, oxfordshire-qip, "
     "somerset-cqrm, wirral-qip)\n"),
    (("diff", "policies/lancashire.yaml", "policies/wirral.yaml", "--evidence", "nope.jsonl", "--as-of", AS_OF),
     "carepolicy: no such file or directory: nope.jsonl\n"),
])
def test_script_diff_usage_errors(argv: tuple[str, ...], message: str) -> None:
    proc = _script(*argv)
    assert (proc.returncode, proc.stdout, proc.stderr.decode()) == (2, b"", message)


def test_diff_is_exported() -> None:
    assert carepolicy.diff_packs is diff_packs and carepolicy.PolicyDiff.__name__ == "PolicyDiff"
