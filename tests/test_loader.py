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
from carepolicy.errors import Diagnostic

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
    "tests": ("tests", None),
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
    from carepolicy.policytest import tests_json_schema

    assert json.loads(cli_schema("tests")) == tests_json_schema()
    for schema, title in ((pack_json_schema(), "carepolicy policy pack"),
                          (evidence_json_schema(), "carepolicy provider evidence (shared facts)"),
                          (tests_json_schema(), "carepolicy policy tests")):
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


# Problems the loader finds that no JSON Schema can state: references between parts of the pack (CP2xx
# but CP201), the escalation graph (CP3xx), and these CP201s: a comparison of two values of one mapping
# (an empty band, dates out of order), numbers JSON cannot hold (`.nan`, `.inf`, 1e999) and a duration
# past 100 years (a range a pattern cannot state sensibly). Problems reading the YAML (CP1xx) come before
# there is any data for a schema to see.
SEMANTIC_CP201 = (
    "is empty: its upper bound is not above its lower bound",
    "`effective_to` is before `effective_from`",
    "numbers must be finite",
    "is too long for a deadline or window",
)


def _semantic(d: Diagnostic) -> bool:
    if d.code == "CP201":
        return any(text in d.message for text in SEMANTIC_CP201)
    return d.code[:3] == "CP3" or d.code[:3] == "CP2"


def _every_pack_file() -> list[Path]:
    files = sorted(INVALID.glob("*.yaml")) + sorted((ROOT / "tests/data/ladders").glob("*.yaml")) + _valid_packs()
    return [p for p in files if not p.name.endswith(".tests.yaml")]


@pytest.mark.parametrize("path", _every_pack_file(), ids=lambda p: p.name)
def test_the_json_schema_and_the_loader_give_the_same_verdict(path: Path) -> None:
    """The editor schema refuses a pack exactly when the loader refuses its structure (issue 8: they disagreed
    on durations such as `6weeks`, and on versions in Arabic-Indic digits)."""
    try:
        data, _ = read_yaml(path.read_bytes(), str(path))
    except PackLoadError as exc:
        assert {d.code[:3] for d in exc.diagnostics} == {"CP1"}
        return  # not yet data: nothing for a schema to judge
    schema_errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator("pack").iter_errors(data)]
    try:
        load_pack(path)
        structural = []
    except PackLoadError as exc:
        structural = [str(d) for d in exc.diagnostics if not _semantic(d)]
    if structural:
        assert schema_errors, f"the loader refuses {path.name} but the schema accepts it:\n" + "\n".join(structural)
    else:
        assert schema_errors == [], f"the schema refuses {path.name}, the loader does not (or only for reasons of meaning)"


def test_the_agreement_test_sees_both_verdicts() -> None:
    files = {p.name for p in _every_pack_file()}
    assert len(files) > 120 and "everything.yaml" in files and "lancashire.yaml" in files
    refused_by_schema = [name for name in ("037_duration_typo.yaml", "057_bad_id_pattern.yaml")
                         if list(validator("pack").iter_errors(read_yaml((INVALID / name).read_bytes())[0]))]
    assert len(refused_by_schema) == 2


@pytest.mark.parametrize(
    ("duration", "accepted"),
    [("6 weeks", True), ("1 week", True), ("0 days", True), ("28 days", True), ("6 months", True), ("2 years", True),
     ("10 working days", True), ("1 working day", True), ("6weeks", False), ("6 Weeks", False), ("6  weeks", False),
     (" 6 weeks", False), ("0 calendar days", False), ("10 working-days", False), ("10 working_days", False),
     ("10 business days", False), ("\u0666 weeks", False), ("6 weeks ", False), ("six weeks", False), ("-3 days", False)],
)
def test_one_duration_grammar_for_the_loader_and_the_schema(duration: str, accepted: bool) -> None:
    """Regression: the schema refused `6weeks`, `6 Weeks`, `0 calendar days` and `working-days`; the loader took them."""
    text = pack_text(**{"within: 3 months": f"within: {json.dumps(duration)}"})
    data, _ = read_yaml(text)
    schema_ok = not list(validator("pack").iter_errors(data))
    try:
        loads_pack(text, "p.yaml")
        loader_ok = True
    except PackLoadError as exc:
        [d] = exc.diagnostics
        assert d.path.endswith(".within") and d.hint
        assert "a whole number, one space and a unit in lower case" in d.hint or "negative" in d.hint
        loader_ok = False
    assert (loader_ok, schema_ok) == (accepted, accepted)


def test_a_duration_in_another_form_is_answered_with_the_accepted_form() -> None:
    with pytest.raises(PackLoadError) as info:
        loads_pack(pack_text(**{"within: 3 months": "within: 10 business days"}), "p.yaml")
    [d] = info.value.diagnostics
    assert d.message == "`10 business days` is not written the way packs write durations"
    assert d.hint == ("write `10 working days`: a whole number, one space and a unit in lower case "
                      "(day, week, month, year or working day, singular or plural)")


@pytest.mark.parametrize("version", ["\u0661.\u0660", "1.\u0662", "\uff11.0", "\u0967"])
def test_a_version_in_other_digits_is_refused_by_both(version: str) -> None:
    """Regression: the loader took a version in Arabic-Indic digits that the schema refused."""
    text = pack_text(**{'version: "1.10"': f"version: {json.dumps(version, ensure_ascii=False)}"})
    assert list(validator("pack").iter_errors(read_yaml(text)[0]))
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "p.yaml")
    [d] = info.value.diagnostics
    assert (d.path, d.message) == ("pack.version", f"`\"{version}\"` is not in the right form")
    assert "ascii digits" in (d.hint or "")


def test_schema_messages_are_short_and_name_the_problem() -> None:
    """A discriminated `oneOf` made a validator quote the whole decision; `if`/`then` on the tag names the one problem."""
    from jsonschema.exceptions import best_match

    data, _ = read_yaml(pack_text(**{"when: {input: special_measures, is: true}": "when: {input: special_measures, iz: true}"}))
    errors = list(validator("pack").iter_errors(data))
    assert [(list(e.absolute_path), e.message) for e in errors] == [
        (["decisions", 3, "rows", 1, "when"], "Additional properties are not allowed ('iz' was unexpected)"),
        (["decisions", 3, "rows", 1, "when"],
         "{'input': 'special_measures', 'iz': True} is not valid under any of the given schemas"),
    ]
    assert best_match(errors).message == "Additional properties are not allowed ('iz' was unexpected)"
    # the same data against the union as pydantic writes it: one message quoting the whole decision
    schema = json.loads((SCHEMA_DIR / "pack.schema.json").read_text(encoding="utf-8"))
    schema["properties"]["decisions"]["items"] = {
        "oneOf": [{"$ref": "#/$defs/BandsDecision"}, {"$ref": "#/$defs/TableDecision"}],
        "discriminator": {"propertyName": "kind", "mapping": {"bands": "#/$defs/BandsDecision", "table": "#/$defs/TableDecision"}},
    }
    [old] = jsonschema.Draft202012Validator(schema).iter_errors(data)
    assert old.message.startswith("{'id': 'visits', 'kind': 'table'") and len(old.message) > 300
    assert old.message.endswith("is not valid under any of the given schemas")  # what is wrong is left unsaid
    assert max(len(e.message) for e in errors) < 100


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


# =========================================================================== reading files: only regular files, never blocking


def _loading_error(target: str | Path) -> PackLoadError:
    with pytest.raises(PackLoadError) as info:
        load_pack(target)
    return info.value


def test_a_pack_string_with_a_lone_surrogate_is_a_located_pack_load_error() -> None:
    """Regression: `loads_pack` raised UnicodeEncodeError for a str it could not encode."""
    text = pack_text(**{"name: Example Borough Council}": "name: Example \udc80 Council}"})
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "s.yaml")
    [d] = info.value.diagnostics
    assert (d.code, d.file, d.line, d.col) == ("CP101", "s.yaml", 6, 42)
    assert "`U+DC80` (lone surrogate)" in d.message


def test_the_size_error_gives_the_real_size_without_reading_the_file(tmp_path: Path) -> None:
    """Regression: a 10 MB file was reported as 1,048,577 bytes."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(10_000_000)  # sparse: nothing is read to tell its size
    [d] = _loading_error(big).diagnostics
    assert d.code == "CP102"
    assert d.message == "file is 10,000,000 bytes, larger than the 1,048,576-byte limit"
    just_over = tmp_path / "over.yaml"
    just_over.write_bytes(b"#" * 1_048_577)
    assert _loading_error(just_over).diagnostics[0].message.startswith("file is 1,048,577 bytes")
    with pytest.raises(PackLoadError) as info:
        loads_pack("# " + "é" * 600_000, "s.yaml")
    assert info.value.diagnostics[0].message.startswith("file is 1,200,002 bytes")


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path) -> None:
    """Regression: `carepolicy validate` on a fifo blocked forever, waiting for a writer."""
    import os
    import threading

    fifo = tmp_path / "pack.yaml"
    os.mkfifo(fifo)
    found: list[PackLoadError] = []
    reader = threading.Thread(target=lambda: found.append(_loading_error(fifo)), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the reader so the test run can end, then fail
        with open(fifo, "wb"):
            pass
        pytest.fail("load_pack blocked on a fifo")
    [d] = found[0].diagnostics
    assert (d.code, d.file) == ("CP100", str(fifo))
    assert d.message == "cannot read the file: it is a named pipe (fifo), not a regular file"


@pytest.mark.parametrize(("target", "kind"), [("/dev/zero", "a character device"), ("/dev/null", "a character device")])
def test_devices_are_refused_without_reading(target: str, kind: str) -> None:
    if not Path(target).exists():  # pragma: no cover - not on this system
        pytest.skip(f"no {target}")
    [d] = _loading_error(target).diagnostics
    assert (d.code, d.message) == ("CP100", f"cannot read the file: it is {kind}, not a regular file")


def test_a_directory_is_refused_as_not_a_regular_file(tmp_path: Path) -> None:
    [d] = _loading_error(tmp_path).diagnostics
    assert (d.code, d.message) == ("CP100", "cannot read the file: it is a directory, not a regular file")
    assert "directories" in (d.hint or "")


def test_a_tests_file_is_read_under_the_same_rules(tmp_path: Path) -> None:
    import os

    from carepolicy.policytest import load_tests

    fifo = tmp_path / "x.tests.yaml"
    os.mkfifo(fifo)
    with pytest.raises(PackLoadError) as info:
        load_tests(fifo)
    assert [d.code for d in info.value.diagnostics] == ["CP100"]
    big = tmp_path / "big.tests.yaml"
    with big.open("wb") as fh:
        fh.truncate(5_000_000)
    with pytest.raises(PackLoadError) as info:
        load_tests(big)
    assert info.value.diagnostics[0].message.startswith("file is 5,000,000 bytes")


# =========================================================================== union members: messages name the right key


def _diagnostics(text: str) -> list[tuple[str, int | None, int | None, str, str]]:
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "p.yaml")
    return [(d.code, d.line, d.col, d.path, d.message) for d in info.value.diagnostics]


def test_a_misspelt_bands_key_is_reported_as_missing_bands() -> None:
    """Regression: `band:` for `bands:` was reported as "missing required key `0`" at `decisions[0]`."""
    assert _diagnostics(pack_text(**{"    bands:\n": "    band:\n"})) == [
        ("CP201", 62, 5, "decisions[0].bands", "missing required key `bands`"),
        ("CP201", 68, 5, "decisions[0].band", "unknown key `band`"),
    ]


def test_a_missing_input_of_a_bands_decision_is_located_at_the_decision() -> None:
    """Regression: it was located at `decisions[0].bands.input`, a key of no mapping."""
    assert _diagnostics(pack_text(**{"    input: score\n    scale: tier\n": "    scale: tier\n"})) == [
        ("CP201", 62, 5, "decisions[0].input", "missing required key `input`"),
    ]


def test_problems_inside_bands_and_nested_conditions_keep_their_paths() -> None:
    text = pack_text(**{"{id: tier-1, value: tier_1, min: 20, max: 27,": "{id: Tier-1, value: tier_1, min: 20, max: 27,",
                        "when: {any_of: [std_4, std_5], is: red}": "when: {all: [{not: {all: [{input: std_4, iz: red}]}}]}"})
    assert [(path, message) for _, _, _, path, message in _diagnostics(text)] == [
        ("decisions[0].bands[1].id", "`Tier-1` is not in the right form"),
        ("decisions[1].rows[0].when.all[0].not.all[0].iz", "unknown key `iz`"),
    ]
