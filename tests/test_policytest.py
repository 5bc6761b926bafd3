"""Ladder walks in YAML tests files: typed steps with located errors, refusals, warnings and the final deadlines."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from carepolicy import PackLoadError, load_pack
from carepolicy.cli import parse_args, run
from carepolicy.policytest import check_file, load_tests, run_file, run_walk

EXAMPLE = Path(__file__).parent / "data" / "ladders" / "valid" / "example.yaml"
PACK = load_pack(EXAMPLE)
HEAD = f"""\
pack: {EXAMPLE}
base_evidence:
  provider: {{id: "1-101", name: Example Care Home, service_type: residential}}
cases:
  - {{name: nothing expected, as_of: "2026-01-05", expect: {{}}}}
walks:
"""
# raise-concern on Wed 17 Dec 2025: plan agreed in 10 working days (over Christmas and
# New Year) -> Mon 5 Jan 2026; progress review in 6 weeks -> Wed 28 Jan 2026.
RAISE = '{on: "2025-12-17", transition: raise-concern, evidence: {local: {example: {risk_profile_score: 25}}}, state: concern}'


def _file(tmp_path: Path, walks: str) -> Path:
    path = tmp_path / "walks.tests.yaml"
    path.write_text(HEAD + textwrap.indent(textwrap.dedent(walks), "  "))
    return path


def _walk(tmp_path: Path, walks: str) -> list[str]:
    """The failures of the file's only walk."""
    spec, _ = load_tests(_file(tmp_path, walks))
    (walk,) = spec.walks
    return run_walk(PACK, spec, walk, "walks.tests.yaml").failures


def _load_error(tmp_path: Path, walks: str):
    with pytest.raises(PackLoadError) as info:
        load_tests(_file(tmp_path, walks))
    (d,) = info.value.diagnostics
    return d


# ----------------------------------------------------------------- typed steps


def test_malformed_approval_is_a_located_error(tmp_path):
    d = _load_error(tmp_path, f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE}
            - {{on: "2026-01-30", transition: issue-notice, approvals: [{{role: lead, by: A, B}}]}}
        """)
    assert (d.code, d.path, d.line) == ("CP201", "walks[0].steps[1].approvals[0].B", 11)
    assert d.col is not None and "unknown key `B`" in d.message


def test_approval_without_who_and_unknown_trigger_kind_are_located_errors(tmp_path):
    d = _load_error(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2026-01-30", transition: issue-notice, approvals: [{role: lead}]}
        """)
    assert (d.code, d.path, d.line) == ("CP201", "walks[0].steps[0].approvals[0].by", 10)
    d = _load_error(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2025-12-17", trigger: {kind: evidnce}}
        """)
    assert (d.code, d.path) == ("CP201", "walks[0].steps[0].trigger.kind") and "evidence" in (d.hint or d.message)


def test_cli_reports_a_malformed_step_without_a_traceback(tmp_path):
    path = _file(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2026-01-30", transition: issue-notice, approvals: [{role: lead, by: A, B}]}
        """)
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(["test", str(path)]), out, err)
    text = out.getvalue() + err.getvalue()
    assert code == 1 and "error[CP201] unknown key `B`" in text and "Traceback" not in text


def test_a_step_that_is_not_a_valid_move_fails_the_walk_not_the_run(tmp_path):
    failures = _walk(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2025-12-17", transition: raise-concern, evidence: {local: {example: {risk_profile_score: high}}}}
            - {on: "2026-01-30", transition: issue-notice}
        """)
    assert len(failures) == 1 and failures[0].startswith("step 1 `raise-concern` on 2025-12-17: not a valid move: ")
    assert "local.example.risk_profile_score" in failures[0]
    failures = _walk(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2025-12-17", transition: raise-concern, trigger: {kind: evidence}}
        """)
    assert len(failures) == 1 and "exactly one of `transition` or `trigger`" in failures[0]
    bad = _file(tmp_path, """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {on: "2025-12-17", trigger: {kind: evidence}, evidence: {provider: {beds: -1}}}
        """)
    (result,) = [r for r in run_file(bad, PACK) if r.name == "walk: w"]
    assert result.outcome == "failed" and "not a valid move" in result.failures[0]
    # and `validate` says where, before anything runs
    _, _, problems = check_file(bad, PACK)
    [d] = problems
    assert (d.code, d.path, d.line) == ("CP232", "walks[0].steps[0].evidence.provider.beds", 10)
    assert d.message == "evidence at `provider.beds`: input should be greater than or equal to 0"


# ----------------------------------------------------------------- refusals keep the state


def test_a_refused_step_checks_the_state_the_case_stayed_in(tmp_path):
    walk = f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE}
            - {{on: "2026-01-05", transition: issue-notice, approvals: [{{role: lead, by: A}}], refused: CP505, state: STATE}}
        """
    assert _walk(tmp_path, walk.replace("STATE", "concern")) == []
    (failure,) = _walk(tmp_path, walk.replace("STATE", "notice"))
    assert failure == "step 2 `issue-notice`: refused, so the case stayed at `concern`, not `notice`"


def test_a_refusal_with_another_code_or_a_move_that_was_expected_to_be_refused_fails(tmp_path):
    (failure,) = _walk(tmp_path, f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE}
            - {{on: "2026-01-05", transition: issue-notice, approvals: [{{role: lead, by: A}}], refused: CP506}}
        """)
    assert failure == "step 2 `issue-notice`: expected refusal CP506, got CP505, CP508"
    (failure,) = _walk(tmp_path, f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE.replace("state: concern", "refused: CP503")}
        """)
    assert failure == "step 1 `raise-concern`: expected refusal CP503, but the case moved to `concern`"


# ----------------------------------------------------------------- warnings


def test_warnings_contain_matches_only_warnings_that_hold(tmp_path):
    # raise-concern warns when the last plan ended within two years: unknown here, so not checked
    walk = """\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - on: "2025-12-17"
              transition: raise-concern
              evidence: {local: {example: {risk_profile_score: 25HISTORY}}}
              KEY: [two years]
        """
    (failure,) = _walk(tmp_path, walk.replace("HISTORY", "").replace("KEY", "warnings_contain"))
    assert "no warning that holds contains 'two years'" in failure and "use `uncertain_warnings_contain`" in failure
    assert _walk(tmp_path, walk.replace("HISTORY", "").replace("KEY", "uncertain_warnings_contain")) == []
    known = ', last_qpip_ended_on: "2024-06-01"'
    assert _walk(tmp_path, walk.replace("HISTORY", known).replace("KEY", "warnings_contain")) == []
    (failure,) = _walk(tmp_path, walk.replace("HISTORY", known).replace("KEY", "uncertain_warnings_contain"))
    assert failure == "step 1 `raise-concern`: no unchecked warning contains 'two years'"
    (failure,) = _walk(tmp_path, walk.replace("HISTORY", ', last_qpip_ended_on: "2020-06-01"')
                       .replace("KEY", "warnings_contain"))
    assert failure == "step 1 `raise-concern`: no warning that holds contains 'two years'"


# ----------------------------------------------------------------- deadlines at the end of the walk


def test_walk_due_lists_every_running_deadline_exactly(tmp_path):
    walk = f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE}
          DUE
        """
    assert _walk(tmp_path, walk.replace("DUE", 'due: {plan-agreed: "2026-01-05", review: "2026-01-28"}')) == []
    assert _walk(tmp_path, walk.replace("DUE", "todo: false")) == []  # no `due`: not checked
    assert _walk(tmp_path, walk.replace("DUE", 'due: {plan-agreed: "2026-01-05", review: "2026-01-29"}')) == [
        "deadline `review`: expected due 2026-01-29, got 2026-01-28"]
    assert _walk(tmp_path, walk.replace("DUE", 'due: {plan-agreed: "2026-01-05"}')) == [
        "deadline `review` (due 2026-01-28) is running, but `due` does not list it"]
    assert _walk(tmp_path, walk.replace("DUE", "due: {}")) == [
        "deadline `plan-agreed` (due 2026-01-05) is running, but `due` does not list it",
        "deadline `review` (due 2026-01-28) is running, but `due` does not list it"]
    assert _walk(tmp_path, walk.replace("DUE", 'due: {plan-agreed: "2026-01-05", review: "2026-01-28", sustain: "2026-06-01"}')) == [
        "deadline `sustain`: expected due 2026-06-01, but it is not running"]


def test_walk_due_empty_means_no_deadline_is_running(tmp_path):
    assert _walk(tmp_path, f"""\
        - name: w
          opened_on: "2025-12-15"
          steps:
            - {RAISE}
            - {{on: "2026-01-02", transition: concern-resolved, evidence: {{local: {{example: {{actions_outstanding: 0}}}}}}, state: monitoring}}
          due: {{}}
        """) == []


# ----------------------------------------------------------------- a tests file is checked against its pack


def _tests_file(tmp_path: Path, cases: str, walks: str = "") -> Path:
    pack = tmp_path / "pack.yaml"
    pack.write_text(EXAMPLE.read_text())
    path = tmp_path / "pack.tests.yaml"
    path.write_text("pack: pack.yaml\nbase_evidence: {provider: {id: p, name: P, service_type: nursing}}\ncases:\n"
                    + textwrap.dedent(cases) + ("walks:\n" + textwrap.dedent(walks) if walks else ""))
    return path


@pytest.mark.parametrize(
    ("case", "code", "path", "message"),
    [
        ('  - {name: a, as_of: "2026-01-05", expect: {decisions: {tier: {status: bogus}}}}',
         "CP230", "cases[0].expect.decisions.tier.status",
         "expectation of `tier`: input should be 'decided', 'insufficient_evidence', 'no_value', 'conflict' or 'out_of_scope'"),
        ('  - {name: a, as_of: "2026-01-05", expect: {decisions: {teir: none}}}',
         "CP230", "cases[0].expect.decisions.teir", "`teir` is not a decision of pack `example-ladder`"),
        ('  - {name: a, as_of: "2026-01-05", expect: {actions: [no-such-outcome]}}',
         "CP230", "cases[0].expect.actions[0]", "`no-such-outcome` is not an outcome of pack `example-ladder`"),
        ('  - {name: a, as_of: "2019-01-05", expect: {status: decided}}',
         "CP231", "cases[0].as_of", "2019-01-05 is outside the period pack `example-ladder` v1.0.0 is in force (2024-01-01 to now)"),
        ('  - {name: a, as_of: "2026-01-05", evidence: {local: {example: {risk_profile_score: "9"}}}, expect: {status: decided}}',
         "CP232", "cases[0].evidence.local.example.risk_profile_score",
         "evidence at `local.example.risk_profile_score`: input should be a valid integer"),
    ],
)
def test_validate_checks_a_tests_file_as_fully_as_a_pack(tmp_path: Path, case: str, code: str, path: str, message: str) -> None:
    tests = _tests_file(tmp_path, case + "\n")
    out, err = io.StringIO(), io.StringIO()
    assert run(parse_args(["validate", str(tests)]), out, err) == 1
    assert f"error[{code}] {message}" in err.getvalue() and f"= at: {path}" in err.getvalue()
    assert f"{tests}:4:" in err.getvalue()  # located on the case's line
    # and `carepolicy test` reports the problem (for bad evidence: as the case's error), never a traceback
    out, err = io.StringIO(), io.StringIO()
    assert run(parse_args(["test", str(tests)]), out, err) == 1
    said = out.getvalue() + err.getvalue()
    assert (message if code != "CP232" else "input should be a valid integer") in said and "Traceback" not in said


def test_a_move_outside_the_packs_period_is_refused(tmp_path: Path) -> None:
    from carepolicy import advance, loads_pack, open_case
    from carepolicy.errors import TransitionError

    ended = loads_pack(EXAMPLE.read_text().replace('effective_from: "2024-01-01"',
                                                   'effective_from: "2024-01-01"\n  effective_to: "2026-12-31"'), "ended.yaml")
    case = open_case(ended, "1-101", "2026-12-01")
    with pytest.raises(TransitionError) as info:
        advance(ended, case, {"transition": "raise-concern", "on": "2027-01-04"})  # a move with no guard
    assert [d.code for d in info.value.diagnostics] == ["CP511"]
    assert "not in force on 2027-01-04" in info.value.diagnostics[0].message
