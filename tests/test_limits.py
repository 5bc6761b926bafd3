"""Every limit of the pack format is the project's own and bounded in time and memory (issue 8).

Bounds: every list and every text of the pack format has a maximum length, a file holds at
most 50,000 values (CP113) and at most 100 problems are listed, then one CP112 counting the
rest, by the loader and by ``carepolicy validate``. The costs measured for the worst cases are
in the lead's report; here generous time bounds only catch a return of the quadratic or
unbounded behaviour (400,000 roles took 16 s and 942 MB; 10,000 unknown keys took 7 s).
"""

from __future__ import annotations

import re

import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from carepolicy import PackLoadError, loads_pack, pack_json_schema
from carepolicy._yaml import read_yaml
from carepolicy.cli import parse_args, run
from carepolicy.errors import Diagnostic, MoreProblems, limit_diagnostics

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = ROOT / "tests/data/packs/valid/everything.yaml"
ROLES = '  - {id: lead, title: Quality lead, source: "§9"}\n  - {id: manager, title: Quality manager, source: "§9"}\n'


def pack_text(**replace: str) -> str:
    text = EVERYTHING.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def problems(text: str, bound: float = 5.0) -> list[Diagnostic]:
    start = time.perf_counter()
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "p.yaml")
    elapsed = time.perf_counter() - start
    assert elapsed < bound, f"took {elapsed:.2f}s"
    return info.value.diagnostics


def flow_list(n: int, item: str = "x") -> str:
    return "[" + ",".join([item] * n) + "]"


# --------------------------------------------------------------------------- every list and text is bounded


def _unbounded(schema: Any, where: str = "$") -> list[str]:
    out = []
    if isinstance(schema, dict):
        kind = schema.get("type")
        if kind == "array" and "maxItems" not in schema:
            out.append(where)
        if kind == "string" and "maxLength" not in schema and "const" not in schema and "enum" not in schema:
            out.append(where)
        for key, value in schema.items():
            out += _unbounded(value, f"{where}.{key}")
    elif isinstance(schema, list):
        for i, value in enumerate(schema):
            out += _unbounded(value, f"{where}[{i}]")
    return out


def test_every_list_and_every_text_of_the_pack_format_has_a_maximum_length() -> None:
    assert _unbounded(pack_json_schema()) == []


def test_the_bounds_sit_well_above_the_largest_real_packs() -> None:
    """Each bound is at least five times the longest such list in the shipped packs."""
    schema = pack_json_schema()

    def longest(node: Any, path: tuple[str, ...], into: dict[tuple[str, ...], int]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                longest(v, path + (str(k),), into)
        elif isinstance(node, list):
            into[path] = max(into.get(path, 0), len(node))
            for v in node:
                longest(v, path, into)

    found: dict[tuple[str, ...], int] = {}
    for f in sorted((ROOT / "policies").glob("*.yaml")):
        if not f.name.endswith(".tests.yaml"):
            longest(read_yaml(f.read_bytes())[0], (), found)
    top = schema["properties"]
    for key in ("roles", "scope", "outcomes", "decisions", "inputs", "scales"):
        assert top[key]["maxItems"] >= 5 * found[(key,)], key


# --------------------------------------------------------------------------- hostile lists


def test_a_list_over_its_bound_is_one_located_problem() -> None:
    """Regression: 400,000 `roles` entries gave 400,000 problems (16 s, 942 MB, 800,000 lines)."""
    [d] = problems(pack_text(**{f"roles:\n{ROLES}": f"roles: {flow_list(5_000)}\n"}))
    assert (d.code, d.line, d.col, d.path) == ("CP201", 41, 8, "roles")
    assert d.message == "list has 5,000 items, more than the 200 allowed"
    assert d.hint


@pytest.mark.parametrize(("key", "n"), [("roles", 400_000), ("closures", 150_000)])
def test_hundreds_of_thousands_of_entries_stop_at_the_value_budget(key: str, n: int) -> None:
    """Regression: 150,000 bad `calendar.closures` took 6-8 s and 484 MB."""
    if key == "roles":
        text = pack_text(**{f"roles:\n{ROLES}": f"roles: {flow_list(n)}\n"})
    else:
        text = pack_text(**{'closures: ["2024-12-27"]': f"closures: {flow_list(n)}"})
    [d] = problems(text)
    assert d.code == "CP113" and d.message == "the file holds more than 50,000 values"
    assert d.path.startswith("roles[" if key == "roles" else "calendar.closures[")


def test_a_megabyte_of_one_giant_list_stops_at_the_value_budget() -> None:
    head = pack_text()
    n = (1_048_576 - len(head.encode()) - 100) // 2
    text = head.replace('closures: ["2024-12-27"]', f"closures: {flow_list(n)}")
    assert 1_000_000 < len(text.encode()) <= 1_048_576
    [d] = problems(text)
    # the 50,001st value of the file is an item of the list (the pack's few hundred others come before it)
    assert (d.code, d.line) == ("CP113", 17) and re.fullmatch(r"calendar\.closures\[49\d\d\d\]", d.path), d.path


def test_the_value_budget_is_a_parameter_of_the_reader() -> None:
    text = "a: [1, 2, 3]\nb: {c: 4, d: 5}\n"
    assert read_yaml(text, max_values=7)[0] == {"a": [1, 2, 3], "b": {"c": 4, "d": 5}}
    with pytest.raises(PackLoadError) as info:
        read_yaml(text, "f.yaml", max_values=6)
    [d] = info.value.diagnostics
    assert (d.code, d.line, d.col, d.path) == ("CP113", 2, 14, "b.d")
    with pytest.raises(ValueError):
        read_yaml(text, max_values=0)


def test_texts_over_their_bound_say_how_long_they_are() -> None:
    long = "x" * 3_000
    diags = problems(pack_text(**{"title: Example framework exercising every construct": f"title: {long}",
                                  "when: {input: office_in_area, is: false}": f"when: {{input: office_in_area, is: {long}}}"}))
    assert [(d.path, d.message) for d in diags] == [
        ("pack.title", "text is 3,000 characters, longer than the 2,000 allowed"),
        ("scope[0].when.is", "text is 3,000 characters, longer than the 2,000 allowed"),
    ]


# --------------------------------------------------------------------------- at most 100 problems


def test_at_most_a_hundred_problems_are_listed_then_a_count_of_the_rest() -> None:
    diags = problems(pack_text(**{'closures: ["2024-12-27"]': f"closures: {flow_list(900)}"}))
    assert len(diags) == 101
    assert {d.path for d in diags[:100]} == {f"calendar.closures[{i}]" for i in range(100)}
    more = diags[-1]
    assert isinstance(more, MoreProblems) and more.omitted == 800
    assert (more.code, more.message, more.path, more.line) == ("CP112", "800 more problems not shown",
                                                               "calendar.closures[100]", 17)


def test_ten_thousand_unknown_keys_are_fast_and_still_get_hints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Regression: reporting unknown keys was quadratic (10,000 unknown keys: 6.7 s)."""
    from carepolicy import loader

    calls = []
    real = loader._allowed_keys
    monkeypatch.setattr(loader, "_allowed_keys", lambda *a, **k: calls.append(a) or real(*a, **k))
    extra = "".join(f"k{i}: 1\n" for i in range(10_000))
    diags = problems(pack_text(**{"carepolicy: 2\n": "carepolicy: 2\n" + extra + "decisons: []\n"}), bound=3.0)
    assert len(diags) == 101 and diags[-1].message == "9,901 more problems not shown"
    assert diags[0].message == "unknown key `k0`"
    assert len(calls) == 1  # once per mapping, not once per unknown key
    # two typos in one mapping: each still gets its hint (the other unknown keys are not held against it)
    two = problems(pack_text(**{"  authority: {": "  authorty: {", "  headline: overall": "  hedline: overall"}))
    assert [(d.message, d.hint) for d in two if d.message.startswith("unknown")] == [
        ("unknown key `authorty`", "did you mean `authority`?"), ("unknown key `hedline`", "did you mean `headline`?")]


def _validate(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(["validate", *argv]), out, err)
    return code, out.getvalue(), err.getvalue()


def test_validate_lists_at_most_a_hundred_problems_over_all_its_files(tmp_path: Path) -> None:
    files = []
    for i in range(3):
        f = tmp_path / f"p{i}.yaml"
        f.write_text(pack_text(**{'closures: ["2024-12-27"]': f"closures: {flow_list(150)}"}), encoding="utf-8")
        files.append(str(f))
    code, out, err = _validate(*files)
    assert code == 1
    assert err.count("error[CP201]") == 100 and err.count("error[CP") == 101
    # placed at the first problem not listed: the 101st of the first file
    assert err.splitlines()[-3] == f"{files[0]}:17:214: error[CP112] 350 more problems not shown"
    assert out.splitlines() == [f"FAIL  {f}: 150 problem(s)" for f in files]
    code, out, _ = _validate("--format", "json", *files)
    doc = json.loads(out)
    assert len(doc["diagnostics"]) == 101 and doc["diagnostics"][-1]["omitted"] == 350
    assert [r["errors"] for r in doc["files"]] == [150, 150, 150]


def test_limit_diagnostics_folds_earlier_summaries_into_an_exact_count() -> None:
    def diag(line: int, file: str = "a") -> Diagnostic:
        return Diagnostic(code="CP201", message="m", file=file, line=line, col=1)

    first = limit_diagnostics([diag(i) for i in range(1, 151)], 100)  # 100 + summary of 50
    assert len(first) == 101 and first[-1].omitted == 50  # type: ignore[attr-defined]
    merged = limit_diagnostics(first + [diag(i, "b") for i in range(1, 11)], 100)
    assert len(merged) == 101 and merged[-1].omitted == 60  # type: ignore[attr-defined]
    assert (merged[-1].file, merged[-1].line) == ("a", 101)  # placed at the first problem not listed
    small = limit_diagnostics(first[:5] + [first[-1]], 100)
    assert len(small) == 6 and small[-1].omitted == 50 and small[-1].line == 101  # type: ignore[attr-defined]
    assert limit_diagnostics([diag(2), diag(1)]) == [diag(1), diag(2)]
