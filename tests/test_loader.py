"""The loader: schemas in sync with the models, directories of packs, versions, YAML 1.2 typing, R13."""

from __future__ import annotations

import ast
import hashlib
import io
import json
from argparse import Namespace
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest

from carepolicy import (
    PackLibrary,
    PackLoadError,
    PolicyPack,
    evidence_json_schema,
    load_pack,
    load_packs,
    loads_pack,
    pack_json_schema,
)
from carepolicy._yaml import read_yaml
from carepolicy.cli import run

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = ROOT / "schema"
VALID = ROOT / "tests/data/packs/valid"
EVERYTHING = VALID / "everything.yaml"
INVALID = ROOT / "tests/data/packs/invalid"
SRC = ROOT / "src/carepolicy"


# committed file -> the `carepolicy schema` arguments that print it
SCHEMAS = {
    "pack": ("pack", None),
    "evidence": ("evidence", "policies"),  # a record for the shipped packs, with their local findings
    "evidence-shared": ("evidence", None),  # the shared facts alone
    "decision": ("decision", None),
}


@lru_cache(maxsize=None)
def cli_schema(which: str, packs: str | None = None) -> str:
    out, err = io.StringIO(), io.StringIO()
    assert run(Namespace(command="schema", which=which, packs=str(ROOT / packs) if packs else None), out, err) == 0
    assert err.getvalue() == ""
    return out.getvalue()


@lru_cache(maxsize=None)
def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


# =========================================================================== committed schemas


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_committed_schema_matches_the_models(name: str) -> None:
    which, packs = SCHEMAS[name]
    command = f"carepolicy schema {which}" + (f" --packs {packs}/" if packs else "")
    committed = SCHEMA_DIR / f"{name}.schema.json"
    assert committed.exists(), f"schema/{name}.schema.json is missing; generate it with `.venv/bin/{command} > schema/{name}.schema.json`"
    if committed.read_text(encoding="utf-8") != cli_schema(which, packs):
        pytest.fail(f"schema/{name}.schema.json is out of date; regenerate it with `.venv/bin/{command} > schema/{name}.schema.json`")


def test_schema_functions_and_cli_agree() -> None:
    assert json.loads(cli_schema("pack")) == pack_json_schema()
    assert json.loads(cli_schema("evidence")) == evidence_json_schema()
    for schema, title in ((pack_json_schema(), "carepolicy policy pack"),
                          (evidence_json_schema(), "carepolicy provider evidence (shared facts)")):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["title"] == title
        jsonschema.Draft202012Validator.check_schema(schema)


def test_decisions_validate_against_the_committed_decision_schema() -> None:
    import carepolicy

    check = validator("decision")
    pack = carepolicy.load_pack(ROOT / "tests/data/packs/valid/everything.yaml")
    decision = pack.evaluate((ROOT / "tests/data/packs/valid/everything.evidence.json").read_bytes(), "2026-11-23")
    errors = sorted(check.iter_errors(json.loads(decision.to_json())), key=str)
    assert errors == []


def test_pack_schema_lists_every_top_level_key_of_the_model() -> None:
    from carepolicy.models import Pack

    schema = pack_json_schema()
    assert set(schema["properties"]) == {f.alias or name for name, f in Pack.model_fields.items()}
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"carepolicy", "pack", "scales", "inputs", "decisions"}


def test_everything_pack_validates_against_the_committed_schema() -> None:
    data, _ = read_yaml(EVERYTHING.read_bytes(), str(EVERYTHING))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator("pack").iter_errors(data)]
    assert errors == []


def _valid_packs() -> list[Path]:
    packs = sorted(VALID.glob("*.yaml")) + sorted((ROOT / "policies").glob("*.yaml"))
    return [p for p in packs if not p.name.endswith(".tests.yaml")]


@pytest.mark.parametrize("path", _valid_packs(), ids=lambda p: p.name)
def test_every_pack_the_loader_accepts_the_schema_accepts(path: Path) -> None:
    load_pack(path)  # every pack here is valid: one that does not load fails, never skips
    data, _ = read_yaml(path.read_bytes(), str(path))
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator("pack").iter_errors(data)]
    assert errors == [], f"{path.name} loads but the editor schema rejects it"


@pytest.mark.parametrize(
    "name",
    [
        "002_no_in_bool_field", "004_sexagesimal_in_int_field", "006_number_where_text", "007_boolean_where_text",
        "010_list_where_mapping", "011_version_unquoted_float", "012_unquoted_date_in_version",
        "013_unknown_top_level_key", "015_unknown_key_in_pack_meta", "037_duration_typo", "038_duration_negative",
        "039_duration_in_words", "056_missing_source", "057_bad_id_pattern", "058_unknown_decision_kind",
        "060_impossible_date", "071_unknown_hit_policy", "080_missing_required_section", "081_unknown_format_version",
        "082_format_version_true", "092_unknown_outcome_kind",
    ],
)
def test_the_schema_rejects_what_the_pack_format_rejects(name: str) -> None:
    data, _ = read_yaml((INVALID / f"{name}.yaml").read_bytes())
    assert list(validator("pack").iter_errors(data)), f"schema accepts {name}"


# =========================================================================== loading


def test_load_pack_returns_a_compiled_pack() -> None:
    pack = load_pack(EVERYTHING)
    assert isinstance(pack, PolicyPack)
    assert (pack.id, pack.version, pack.authority) == ("example-everything", "1.10", "Example Borough Council")
    assert pack.file == str(EVERYTHING)
    assert pack.sha256 == hashlib.sha256(EVERYTHING.read_bytes()).hexdigest()
    assert pack.in_force(pack.model.pack.effective_from)
    assert not pack.in_force(pack.model.pack.effective_from.replace(year=2023))
    assert load_pack(str(EVERYTHING)).sha256 == pack.sha256


def test_loads_pack_from_text_and_bytes_with_a_bom() -> None:
    data = EVERYTHING.read_bytes()
    assert loads_pack(data.decode("utf-8")).model == loads_pack(b"\xef\xbb\xbf" + data, "bom.yaml").model
    assert loads_pack(data).file == "<string>"


def test_crlf_line_endings_load_the_same_pack() -> None:
    data = EVERYTHING.read_bytes()
    assert loads_pack(data.replace(b"\n", b"\r\n")).model == loads_pack(data).model


def pack_text(**replace: str) -> str:
    text = EVERYTHING.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def test_yaml_1_2_typing_in_packs() -> None:
    # `010` is decimal ten (not octal eight), unquoted dates stay text and are read as dates
    text = EVERYTHING.read_text(encoding="utf-8")
    text = text.replace("{id: below-tier-1, value: none, max: 19,", "{id: below-tier-1, value: none, max: 019,")
    text = text.replace("min: 20, max: 27", "min: 020, max: 27")
    text = text.replace('effective_from: "2024-01-01"', "effective_from: 2024-01-01")
    pack = loads_pack(text)
    bands = pack.model.decision("tier").bands  # type: ignore[union-attr]
    assert (bands[0].max, bands[1].min) == (19, 20)
    assert str(pack.model.pack.effective_from) == "2024-01-01"


def test_norway_values_stay_text() -> None:
    data, _ = read_yaml("a: NO\nb: yes\nc: on\nd: 1:30\ne: 010\nf: 0o10\ng: 1.10\nh: ~\n")
    assert data == {"a": "NO", "b": "yes", "c": "on", "d": "1:30", "e": 10, "f": 8, "g": 1.1, "h": None}


def test_load_packs_reads_a_directory_and_skips_tests_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(EVERYTHING.read_bytes())
    (tmp_path / "a.tests.yaml").write_text("not: [a, pack")
    (tmp_path / "notes.txt").write_text("ignored")
    (tmp_path / "b.yaml").write_text(pack_text(**{"id: example-everything": "id: second-pack"}), encoding="utf-8")
    library = load_packs(tmp_path)
    assert isinstance(library, PackLibrary)
    assert list(library) == ["example-everything", "second-pack"]
    assert [p.file for p in library["second-pack"]] == [str(tmp_path / "b.yaml")]


def test_load_packs_reports_every_bad_pack(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_bytes(EVERYTHING.read_bytes())
    (tmp_path / "bad1.yaml").write_text(pack_text(**{"roles: [lead]": "roles: [leed]"}), encoding="utf-8")
    (tmp_path / "bad2.yaml").write_text("- not a mapping\n")
    with pytest.raises(PackLoadError) as info:
        load_packs(tmp_path)
    files = sorted({Path(d.file).name for d in info.value.diagnostics if d.file})
    assert files == ["bad1.yaml", "bad2.yaml"]
    codes = sorted(d.code for d in info.value.diagnostics)
    assert codes == ["CP111", "CP203"]


def test_load_packs_on_a_file_or_missing_directory_is_cp100(tmp_path: Path) -> None:
    for target in (tmp_path / "missing", EVERYTHING):
        with pytest.raises(PackLoadError) as info:
            load_packs(target)
        assert [d.code for d in info.value.diagnostics] == ["CP100"]


def test_load_packs_on_an_empty_directory_is_an_empty_library(tmp_path: Path) -> None:
    assert len(load_packs(tmp_path)) == 0


def _versioned(tmp_path: Path, name: str, version: str, start: str, end: str | None) -> Path:
    text = pack_text(**{'version: "1.10"': f'version: "{version}"',
                        'effective_from: "2024-01-01"': f'effective_from: "{start}"' + (f'\n  effective_to: "{end}"' if end else "")})
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_versions_that_follow_each_other_load_together(tmp_path: Path) -> None:
    _versioned(tmp_path, "v1.yaml", "1.0", "2024-01-01", "2024-12-31")
    _versioned(tmp_path, "v2.yaml", "2.0", "2025-01-01", None)
    library = load_packs(tmp_path)
    assert [p.version for p in library["example-everything"]] == ["1.0", "2.0"]
    assert library.in_force("example-everything", "2024-12-31").version == "1.0"
    assert library.in_force("example-everything", "2025-01-01").version == "2.0"


@pytest.mark.parametrize("end", [None, "2025-01-01", "2025-06-30"])
def test_overlapping_versions_are_cp220(tmp_path: Path, end: str | None) -> None:
    _versioned(tmp_path, "v1.yaml", "1.0", "2024-01-01", end)
    v2 = _versioned(tmp_path, "v2.yaml", "2.0", "2025-01-01", None)
    with pytest.raises(PackLoadError) as info:
        load_packs(tmp_path)
    [d] = info.value.diagnostics
    assert (d.code, d.file, d.path) == ("CP220", str(v2), "pack.effective_from")
    assert d.message == f"pack `example-everything` v2.0 starts 2025-01-01 while v1.0 ({tmp_path / 'v1.yaml'}) is still in force"
    assert d.hint == "set `effective_to` on v1.0 to the day before"


def test_same_version_twice_is_cp220(tmp_path: Path) -> None:
    _versioned(tmp_path, "a.yaml", "1.0", "2024-01-01", None)
    _versioned(tmp_path, "b.yaml", "1.0", "2024-01-01", None)
    with pytest.raises(PackLoadError) as info:
        load_packs(tmp_path)
    assert [d.code for d in info.value.diagnostics] == ["CP220"]


def test_overlapping_versions_diagnostic_is_located(tmp_path: Path) -> None:
    _versioned(tmp_path, "v1.yaml", "1.0", "2024-01-01", None)
    _versioned(tmp_path, "v2.yaml", "2.0", "2025-01-01", None)
    with pytest.raises(PackLoadError) as info:
        load_packs(tmp_path)
    [d] = info.value.diagnostics
    assert (d.file, d.line, d.col) == (str(tmp_path / "v2.yaml"), 9, 19)  # v2's `effective_from` value


def test_a_pack_with_several_problems_reports_them_all() -> None:
    text = pack_text(**{"roles: [lead]": "roles: [leed]",
                        "{input: std_1, is: red}": "{input: std_9, is: red}",
                        "due: {after: 6 weeks}": "due: {after: 6 weeks, from: score}"})
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "p.yaml")
    got = [(d.code, d.path) for d in info.value.diagnostics]
    assert got == [
        ("CP203", "decisions[1].rows[2].when.input"),
        ("CP203", "outcomes[0].roles[0]"),
        ("CP213", "outcomes[0].due.from"),
    ]
    assert all(d.line and d.col for d in info.value.diagnostics)


# =========================================================================== R13: nothing is ever executed

_FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
_FORBIDDEN_ATTR_CALLS = {
    ("yaml", "load"), ("yaml", "load_all"), ("yaml", "unsafe_load"), ("yaml", "unsafe_load_all"),
    ("yaml", "full_load"), ("yaml", "full_load_all"), ("os", "system"), ("os", "popen"),
    ("pickle", "load"), ("pickle", "loads"),
}
_FORBIDDEN_ATTRS = {("yaml", "Loader"), ("yaml", "UnsafeLoader"), ("yaml", "FullLoader"), ("yaml", "CLoader"),
                    ("yaml", "CUnsafeLoader"), ("yaml", "CFullLoader")}
_FORBIDDEN_MODULES = {"pickle", "cPickle", "dill", "marshal", "shelve", "jsonpickle"}


def _security_findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in _FORBIDDEN_CALLS:
                out.append(f"{where}: {f.id}()")
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in _FORBIDDEN_ATTR_CALLS:
                out.append(f"{where}: {f.value.id}.{f.attr}()")
            for kw in node.keywords:
                if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                    out.append(f"{where}: shell=")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (node.value.id, node.attr) in _FORBIDDEN_ATTRS:
            out.append(f"{where}: {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Import):
            out += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
            out.append(f"{where}: from {node.module} import")
    return out


def test_no_code_execution_or_unsafe_yaml_in_the_source() -> None:
    """R13: no eval/exec/compile/pickle/unsafe yaml loaders anywhere in the package."""
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    findings = [f for path in files for f in _security_findings(path)]
    assert findings == []


def test_no_textual_unsafe_yaml_patterns_in_the_source() -> None:
    patterns = ("yaml.load(", "yaml.unsafe_load", "yaml.full_load", "typ='unsafe'", 'typ="unsafe"', "pickle", "eval(", "exec(")
    hits = []
    for path in sorted(SRC.rglob("*.py")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            hits += [f"{path.name}:{n}: {p}" for p in patterns if p in code]
    assert hits == []


def test_the_security_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport yaml\nfrom marshal import loads\n"
        "eval('1')\nexec('x=1')\ncompile('1', 'f', 'eval')\nyaml.load(s, Loader=yaml.Loader)\n"
        "yaml.unsafe_load(s)\nimport os\nos.system('ls')\nimport subprocess\nsubprocess.run('ls', shell=True)\n"
    )
    findings = _security_findings(bad)
    kinds = {f.split(": ", 1)[1] for f in findings}
    assert kinds == {"import pickle", "from marshal import", "eval()", "exec()", "compile()", "yaml.load()",
                     "yaml.Loader", "yaml.unsafe_load()", "os.system()", "shell="}


def test_the_yaml_reader_uses_a_safe_loader() -> None:
    import yaml

    from carepolicy import _yaml

    assert issubclass(_yaml._LOADER, yaml.SafeLoader) or _yaml._LOADER is getattr(yaml, "CSafeLoader", None)


def test_python_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = pack_text(**{"title: Example framework exercising every construct":
                        f"title: !!python/object/apply:os.system [\"touch {marker}\"]"})
    with pytest.raises(PackLoadError) as info:
        loads_pack(text)
    assert [d.code for d in info.value.diagnostics] == ["CP105"]
    assert not marker.exists()
