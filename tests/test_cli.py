"""The ``carepolicy`` command through ``run(parse_args(argv), stdout, stderr)``: exact text and exit codes."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import carepolicy
from carepolicy import Decision, load_pack
from carepolicy.cli import build_parser, main, parse_args, run

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = "tests/data/packs/valid/everything.yaml"
EVERYTHING_TESTS = "tests/data/packs/valid/everything.tests.yaml"
MEADOWBANK = "tests/data/packs/valid/everything.evidence.json"  # Meadowbank House as the example council records it
BAD = "tests/data/packs/invalid/070_several_semantic_errors.yaml"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as info:
        parse_args(list(argv))
    assert info.value.code == 2
    return capsys.readouterr().err


# =========================================================================== validate


def test_validate_good_pack() -> None:
    code, out, err = cli("validate", EVERYTHING)
    assert (code, err) == (0, "")
    assert out == f"ok    {EVERYTHING}: `example-everything` v1.10, 5 decisions, 6 outcomes, 0 ladder states\n"


def test_validate_a_directory() -> None:
    code, out, err = cli("validate", "tests/data/packs/valid")
    assert (code, err) == (0, "")
    assert out.startswith(f"ok    {EVERYTHING}: ")
    assert "tests.yaml" not in out


def test_validate_bad_pack_prints_every_located_problem_on_stderr() -> None:
    code, out, err = cli("validate", BAD, EVERYTHING)
    assert code == 1
    assert out == f"FAIL  {BAD}: 4 problem(s)\nok    {EVERYTHING}: `example-everything` v1.10, 5 decisions, 6 outcomes, 0 ladder states\n"
    golden = (ROOT / BAD.replace(".yaml", ".expected.txt")).read_text(encoding="utf-8")
    assert err == golden
    assert err.startswith(f"{BAD}:30:42: error[CP203] unknown input `std_2`\n  = at: decisions[0].rows[0].when.input\n")


def test_validate_reading_errors_are_exit_1_too() -> None:
    code, out, err = cli("validate", "tests/data/packs/invalid/049_non_utf8_bytes.yaml")
    assert code == 1
    assert err.startswith("tests/data/packs/invalid/049_non_utf8_bytes.yaml:4:17: error[CP101] file is not valid utf-8")


def test_validate_json_format() -> None:
    code, out, err = cli("validate", "--format", "json", "tests/data/packs/invalid/034_unknown_role_in_outcome.yaml", EVERYTHING)
    assert (code, err) == (1, "")
    doc = json.loads(out)
    assert doc["diagnostics"] == [{
        "code": "CP203", "severity": "error", "message": "outcome `review`: unknown role `leed`",
        "file": "tests/data/packs/invalid/034_unknown_role_in_outcome.yaml", "line": 38, "col": 13,
        "path": "outcomes[0].roles[0]", "expected": None, "hint": "did you mean `lead`?",
    }]
    bad, good = doc["files"]
    assert bad == {"file": "tests/data/packs/invalid/034_unknown_role_in_outcome.yaml", "ok": False, "errors": 1}
    assert good["ok"] is True and good["id"] == "example-everything" and good["version"] == "1.10"
    assert good["sha256"] == load_pack(EVERYTHING).sha256
    assert (good["decisions"], good["outcomes"], good["states"]) == (5, 6, 0)


def test_validate_json_format_clean() -> None:
    code, out, err = cli("validate", "--format", "json", EVERYTHING)
    assert (code, err) == (0, "")
    assert json.loads(out)["diagnostics"] == []


def test_validate_missing_file_is_exit_2() -> None:
    code, out, err = cli("validate", "nope.yaml")
    assert (code, out, err) == (2, "", "carepolicy: no such file or directory: nope.yaml\n")
    code, out, err = cli("validate", EVERYTHING, "missing/dir")
    assert (code, out) == (2, "") and "missing/dir" in err


def test_validate_unreadable_file_is_exit_2(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    (folder / "x").write_text("")
    # a directory named *.yaml is expanded (and is empty of packs): nothing to do
    code, out, err = cli("validate", str(folder))
    assert (code, out, err) == (0, "", "")


# =========================================================================== usage


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ([], "the following arguments are required: COMMAND"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["validate"], "the following arguments are required: packs"),
        (["validate", "--format", "xml", EVERYTHING], "invalid choice: 'xml'"),
        (["evaluate", MEADOWBANK, "--format", "csv"], "invalid choice: 'csv'"),
        (["schema"], "the following arguments are required: which"),
        (["schema", "policy"], "invalid choice: 'policy'"),
        (["validate", EVERYTHING, "--verbose"], "unrecognized arguments: --verbose"),
    ],
)
def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str], fragment: str) -> None:
    err = usage_error(capsys, *argv)
    assert err.startswith("usage: carepolicy")
    assert fragment in err


def test_main_exits_with_the_run_code(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", EVERYTHING])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("ok    ")
    with pytest.raises(SystemExit) as info:
        main(["validate", BAD])
    assert info.value.code == 1
    assert "error[CP203]" in capsys.readouterr().err


# =========================================================================== evaluate

EVAL = ("evaluate", MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2026-11-23")


def test_evaluate_json() -> None:
    code, out, err = cli(*EVAL, "--format", "json")
    assert (code, err) == (0, "")
    [doc] = json.loads(out)
    d = Decision.model_validate(doc)
    assert d == load_pack(EVERYTHING).evaluate((ROOT / MEADOWBANK).read_text(), "2026-11-23").model_copy(
        update={"pack": d.pack}
    )
    assert (d.pack.id, d.pack.file, d.headline.value, d.severity) == ("example-everything", EVERYTHING, "red", 3)


def test_evaluate_text_is_the_explanation() -> None:
    code, out, err = cli(*EVAL, "--format", "text")
    assert (code, err) == (0, "")
    expected = load_pack(EVERYTHING).evaluate((ROOT / MEADOWBANK).read_text(), "2026-11-23").explain()
    assert out == expected + "\n"
    assert out.splitlines()[1] == "provider Meadowbank House (1-000000001): decided"
    assert "  overall: Red because row `core-red` holds [§4 row 1]; row `same-staff` holds [§4 row 5]" in out


def test_evaluate_table() -> None:
    code, out, err = cli(*EVAL)
    assert (code, err) == (0, "")
    assert "Headline decisions as of 2026-11-23" in out
    assert "example-everything" in out and "Meadowbank House" in out and "(1-000000001)" in out
    assert "severity 3 high" in out
    # Meadowbank's RED rests on rows the document does not leave to judgement: no flag, no legend line
    assert "judgement" not in out
    assert "\x1b[" not in out, "no colour codes when the stream is not a terminal"


def test_evaluate_table_shows_insufficient_evidence_and_out_of_scope(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps({"provider": {"id": "p-a", "name": "Nothing Known", "service_type": "nursing"},
                                                "authorities": {"example": {"registered_office_in_area": True}}}))
    (tmp_path / "b.json").write_text(json.dumps({"provider": {"id": "p-b", "name": "Far Away", "service_type": "nursing"},
                                                "authorities": {"example": {"registered_office_in_area": False}}}))
    code, out, err = cli("evaluate", str(tmp_path), "--packs", EVERYTHING, "--as-of", "2026-11-23")
    assert (code, err) == (0, "")
    # nothing known: the headline is open, but its bounds are shown with what it needs
    assert "≥ Green" in out and "severity 0 to 3" in out and "needs:" in out
    assert "≥ X: the evidence leaves the decision open" in out
    assert "out of scope" in out
    assert out.index("Nothing Known") < out.index("Far Away")


def test_evaluate_a_directory_of_evidence_in_name_order() -> None:
    code, out, err = cli("evaluate", "examples", "--packs", EVERYTHING, "--as-of", "2026-11-23", "--format", "json")
    assert (code, err) == (0, "")
    files = sorted(p.name for p in (ROOT / "examples").glob("*.json"))
    docs = json.loads(out)
    assert len(docs) == len(files)
    assert [d["pack"]["id"] for d in docs] == ["example-everything"] * len(files)


def test_evaluate_bad_evidence_is_exit_1_with_the_file_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"provider": {"id": "x", "name": "X", "service_type": "nursing"}, "cqc": {"overal": "good"}}))
    code, out, err = cli("evaluate", str(bad), MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2026-11-23", "--format", "json")
    assert code == 1
    assert err == f"{bad}: error[CP401] unknown field `overal`\n  = at: cqc.overal\n  = help: did you mean `overall`?\n"
    assert len(json.loads(out)) == 1, "the good evidence is still evaluated"


def test_evaluate_bad_pack_is_exit_1() -> None:
    code, out, err = cli("evaluate", MEADOWBANK, "--packs", BAD, "--as-of", "2026-11-23")
    assert (code, out) == (1, "")
    assert err.startswith(f"{BAD}:30:42: error[CP203]")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("evaluate", MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2026-13-01"),
         "carepolicy: --as-of `2026-13-01` is not a date; write it as YYYY-MM-DD\n"),
        (("evaluate", "nope.json", "--packs", EVERYTHING, "--as-of", "2026-11-23"),
         "carepolicy: no such file or directory: nope.json\n"),
        (("evaluate", MEADOWBANK, "--packs", "no/packs/here", "--as-of", "2026-11-23"),
         "carepolicy: no such pack file or directory: no/packs/here\n"),
    ],
)
def test_evaluate_usage_and_io_errors_are_exit_2(argv: tuple[str, ...], message: str) -> None:
    assert cli(*argv) == (2, "", message)


def test_evaluate_when_no_pack_is_in_force_says_so() -> None:
    code, out, err = cli("evaluate", MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2023-01-01", "--format", "json")
    assert "in force" in err


def test_evaluate_when_no_pack_is_in_force_evaluates_nothing() -> None:
    code, out, err = cli("evaluate", MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2023-01-01", "--format", "json")
    assert (code, out) == (1, "")
    assert err == "carepolicy: pack `example-everything` has no version in force on 2023-01-01\n"


# =========================================================================== schema


@pytest.mark.parametrize("which", ["pack", "tests", "evidence", "decision"])
def test_schema_prints_json_schema(which: str) -> None:
    code, out, err = cli("schema", which)
    assert (code, err) == (0, "")
    schema = json.loads(out)
    assert schema["type"] == "object"
    assert out == json.dumps(schema, indent=2, sort_keys=True) + "\n"
    committed = {"pack": "pack", "evidence": "evidence-shared", "decision": "decision", "tests": "tests"}[which]
    assert out == (ROOT / "schema" / f"{committed}.schema.json").read_text(encoding="utf-8")


def test_schema_of_evidence_for_packs_has_their_local_findings() -> None:
    code, out, err = cli("schema", "evidence", "--packs", "policies")
    assert (code, err) == (0, "")
    assert out == (ROOT / "schema/evidence.schema.json").read_text(encoding="utf-8")
    defs = json.loads(out)["$defs"]
    lancashire = next(v for k, v in defs.items() if k.endswith("_lancashire"))
    assert lancashire["properties"]["risk_profile_score"]["anyOf"][0]["maximum"] == 1000


# =========================================================================== test


def test_test_command_passes() -> None:
    assert cli("test", EVERYTHING_TESTS) == (0, "2 passed, 0 failed\n", "")


def test_test_command_finds_tests_beside_a_pack_and_in_a_directory() -> None:
    code, out, _ = cli("test", EVERYTHING)
    assert (code, out) == (0, "2 passed, 0 failed\n")
    code, out, _ = cli("test", "tests/data/packs/valid")
    assert (code, out) == (0, "17 passed, 0 failed\n")  # everything (2) and the sixth council (15)


def test_test_command_verbose_lists_every_case() -> None:
    code, out, err = cli("test", EVERYTHING_TESTS, "-v")
    assert (code, err) == (0, "")
    assert out == (
        f"ok    {EVERYTHING_TESTS}: score 19 is below tier 1\n"
        f"ok    {EVERYTHING_TESTS}: score 20 is tier 1, a guideline left to judgement\n"
        "2 passed, 0 failed\n"
    )


def _tests_file(tmp_path: Path, cases: str) -> Path:
    (tmp_path / "everything.yaml").write_bytes((ROOT / EVERYTHING).read_bytes())
    f = tmp_path / "everything.tests.yaml"
    f.write_text("pack: everything.yaml\nbase_evidence:\n  provider: {id: p1, name: Acme, service_type: nursing}\ncases:\n" + cases)
    return f


def test_test_command_failure_is_exit_1(tmp_path: Path) -> None:
    f = _tests_file(tmp_path, """\
  - name: wrong on purpose
    as_of: "2026-01-05"
    evidence: {local: {example: {risk_profile_score: 19}}}
    expect:
      decisions: {tier: tier_2}
  - name: right
    as_of: "2026-01-05"
    evidence: {local: {example: {risk_profile_score: 19}}}
    expect: {decisions: {tier: none}}
  - name: later
    as_of: "2026-01-05"
    todo: true
    expect: {decisions: {tier: tier_2}}
""")
    code, out, err = cli("test", str(f))
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[0] == f"FAIL  {f}: wrong on purpose"
    assert lines[1].startswith("      decision `tier`: expected 'tier_2', got 'none'")
    assert lines[2] == f"todo  {f}: later"
    assert lines[-1] == "1 passed, 1 failed, 1 skipped"


def test_test_command_json(tmp_path: Path) -> None:
    f = _tests_file(tmp_path, """\
  - name: bad evidence
    as_of: "2026-01-05"
    evidence: {local: {example: {risk_profile_scor: 19}}}
    expect: {decisions: {tier: none}}
""")
    code, out, err = cli("test", str(f), "--format", "json")
    assert code == 1
    doc = json.loads(out)
    [result] = doc["results"]
    assert (result["name"], result["outcome"]) == ("bad evidence", "error")
    assert "unknown field `risk_profile_scor`" in result["failures"][0]


def test_test_command_with_a_broken_pack_is_exit_1(tmp_path: Path) -> None:
    f = _tests_file(tmp_path, '  - {name: x, as_of: "2026-01-05", expect: {}}\n')
    (tmp_path / "everything.yaml").write_text("- not a pack\n")
    code, out, err = cli("test", str(f))
    assert code == 1
    assert out.startswith(f"ERROR {f}: (loading)")
    assert "error[CP111]" in out


def test_test_command_with_nothing_to_run_is_exit_1(tmp_path: Path) -> None:
    assert cli("test", str(tmp_path)) == (1, "0 passed, 0 failed\n", "carepolicy: no policy tests found\n")


def test_validate_checks_a_tests_file_as_a_tests_file() -> None:
    code, out, err = cli("validate", "tests/data/packs/valid/everything.tests.yaml", "tests/data/packs/valid/everything.yaml")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == ("ok    tests/data/packs/valid/everything.tests.yaml: tests of "
                                   "tests/data/packs/valid/everything.yaml, 2 cases, 0 walks")


def test_validate_reports_a_broken_tests_file_with_its_location(tmp_path) -> None:
    bad = tmp_path / "x.tests.yaml"
    bad.write_text("pack: everything.yaml\ncases:\n  - name: n\n    as_of: \"2026-01-05\"\n    expct: {}\n")
    code, out, err = cli("validate", str(bad))
    assert code == 1 and out == f"FAIL  {bad}: 2 problem(s)\n"
    assert f"{bad}:5:5: error[CP201] unknown key `expct`" in err and "did you mean `expect`?" in err


# =========================================================================== hostile text and files

HOSTILE = "Evil \x1b[2J\x1b]0;pwned\x07 \u202eHouse [bold red]x[/] \x85"


def _hostile_evidence(tmp_path: Path) -> str:
    doc = json.loads((ROOT / MEADOWBANK).read_text(encoding="utf-8"))
    doc["provider"]["name"] = HOSTILE
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return str(path)


def _raw_controls(text: str) -> list[str]:
    import unicodedata

    return [f"U+{ord(c):04X}" for c in text if c not in "\n\t" and unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Cs")]


@pytest.mark.parametrize("fmt", ["text", "table", "json"])
def test_evaluate_never_writes_evidence_control_characters_raw(tmp_path: Path, fmt: str) -> None:
    """Regression: `evaluate --format text` wrote a provider name's escapes raw (clear screen, window title)."""
    code, out, err = cli("evaluate", _hostile_evidence(tmp_path), "--packs", EVERYTHING, "--as-of", "2026-11-23",
                         "--format", fmt)
    assert (code, err) == (0, "")
    assert _raw_controls(out) == []
    if fmt == "json":
        assert json.loads(out)[0]["provider_name"] == HOSTILE  # data is kept exactly; only the text is escaped
    elif fmt == "text":
        assert "provider Evil \\x1b[2J\\x1b]0;pwned\\x07 \\u202eHouse [bold red]x[/] \\x85 (1-000000001)" in out
    else:  # rich markup in evidence is shown, not obeyed
        assert "│ Evil \\x1b[2J\\x1b]0;pwned\\x07 \\u202eHouse [bold red]x[/] \\x85 │" in out


def test_explain_with_evidence_never_writes_control_characters_raw(tmp_path: Path) -> None:
    code, out, err = cli("explain", EVERYTHING, _hostile_evidence(tmp_path), "--as-of", "2026-11-23")
    assert (code, err) == (0, "")
    assert _raw_controls(out) == [] and "\\u202eHouse" in out


def test_file_names_are_escaped_in_every_message(tmp_path: Path) -> None:
    name = tmp_path / "bad\x1b[2J\u202e.yaml"
    name.write_text("- not a mapping\n", encoding="utf-8")
    code, out, err = cli("validate", str(name))
    assert code == 1
    assert _raw_controls(out + err) == []
    assert "bad\\x1b[2J\\u202e.yaml:1:1: error[CP111]" in err


def test_a_pack_with_escaped_control_characters_is_refused_by_validate_and_explain(tmp_path: Path) -> None:
    """Regression: `"\\0 \\a \\x1b[2J \\u202e"` validated and `explain` then wrote it raw to the terminal."""
    text = (ROOT / EVERYTHING).read_text(encoding="utf-8").replace(
        "name: Example Borough Council}", 'name: "Example \\0 \\a \\x1b[2J \\u202e Council"}')
    assert text != (ROOT / EVERYTHING).read_text(encoding="utf-8")
    pack = tmp_path / "p.yaml"
    pack.write_text(text, encoding="utf-8")
    for argv in (("validate", str(pack)), ("explain", str(pack))):
        code, out, err = cli(*argv)
        assert code == 1 and _raw_controls(out + err) == []
        assert f"{pack}:6:34: error[CP101] text holds character `U+0000` (nul), written as an escape in double quotes" in err


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_validate_refuses_a_fifo_and_a_device_and_goes_on_with_the_rest(tmp_path: Path) -> None:
    """Regression: `carepolicy validate` on a fifo blocked forever; a CP100 also stopped the batch."""
    import os

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    code, out, err = cli("validate", str(fifo), "/dev/zero", EVERYTHING)
    assert code == 2
    assert err == (
        f"/dev/zero: error[CP100] cannot read the file: it is a character device, not a regular file\n"
        f"  = help: give the path of a pack file\n"
        f"{fifo}: error[CP100] cannot read the file: it is a named pipe (fifo), not a regular file\n"
        f"  = help: give the path of a pack file\n"
    )
    assert out.splitlines() == [
        f"FAIL  {fifo}: 1 problem(s)", "FAIL  /dev/zero: 1 problem(s)",
        f"ok    {EVERYTHING}: `example-everything` v1.10, 5 decisions, 6 outcomes, 0 ladder states",
    ]


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_evaluate_refuses_an_evidence_fifo_and_goes_on(tmp_path: Path) -> None:
    import os

    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    code, out, err = cli("evaluate", str(fifo), MEADOWBANK, "--packs", EVERYTHING, "--as-of", "2026-11-23",
                         "--format", "json")
    assert code == 2
    assert err.startswith(f"{fifo}: error[CP100] cannot read the file: it is a named pipe (fifo)")
    assert [d["provider_id"] for d in json.loads(out)] == ["1-000000001"]


# --------------------------------------------------------------------------- the command line as a package


def test_version_names_the_package_and_the_pack_format(capsys: pytest.CaptureFixture[str]) -> None:
    from carepolicy import __version__

    with pytest.raises(SystemExit) as info:
        parse_args(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"carepolicy {__version__} (pack format 2)\n"


def test_every_command_module_is_registered_under_its_own_name() -> None:
    """A command module that is not in COMMANDS (or a name with no module) is an error, never skipped."""
    from carepolicy._cli import COMMANDS

    here = Path(carepolicy.__file__).parent / "_cli"
    modules = {p.stem for p in here.glob("*.py")} - {"__init__", "common", "table"}
    assert modules == set(COMMANDS)
    for name, module in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        module.add_parser(sub)
        assert list(sub.choices) == [name], module.__name__
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert list(commands.choices) == list(COMMANDS)


def test_building_the_parser_loads_no_engine() -> None:
    """`carepolicy --help` imports the command modules only: no pydantic, YAML reader, engine or rich."""
    script = ("import sys; from carepolicy.cli import build_parser; build_parser().format_help(); "
              "heavy = ('pydantic', 'yaml', 'rich', 'networkx', 'holidays', 'carepolicy.engine', 'carepolicy.models'); "
              "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_the_package_resolves_every_public_name_when_first_used() -> None:
    script = ("import sys, carepolicy; before = 'carepolicy.engine' in sys.modules; "
              "names = [n for n in carepolicy.__all__ if getattr(carepolicy, n) is None]; "
              "print(before, names, 'carepolicy.engine' in sys.modules, set(carepolicy.__all__) <= set(dir(carepolicy)))")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "[]", "True", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        carepolicy.nope  # noqa: B018
    assert set(carepolicy._HOMES) == set(carepolicy.__all__) - {"__version__"}


def test_run_takes_a_command_line_as_well_as_parsed_arguments() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert run(["validate", EVERYTHING], out, err) == 0
    assert out.getvalue() == cli("validate", EVERYTHING)[1]


def test_the_commands_detail_levels_are_the_apis() -> None:
    from carepolicy._bulk import DETAILS
    from carepolicy._cli.evaluate import DETAILS as CLI_DETAILS

    assert CLI_DETAILS == DETAILS
