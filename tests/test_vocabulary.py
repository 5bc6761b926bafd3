"""The evidence vocabulary belongs to the packs: a sixth council in YAML alone, isolation between
councils' findings, derived inputs, comparisons between inputs and calendar deadlines."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from carepolicy import EvaluationError, PackLoadError, load_pack, load_packs, loads_pack
from carepolicy.cli import parse_args, run
from carepolicy.engine import PackLibrary

ROOT = Path(__file__).resolve().parent.parent
SIXTH = ROOT / "tests/data/packs/valid/exampleshire.yaml"
AS_OF = "2026-11-23"


def library_with_the_sixth() -> PackLibrary:
    return PackLibrary([*(p for v in load_packs(ROOT / "policies").values() for p in v), load_pack(SIXTH)])


def shared_record(path: Path) -> dict[str, Any]:
    """A shipped example with the sixth council's findings added under its own name."""
    record = json.loads(path.read_text(encoding="utf-8"))
    record.setdefault("local", {})["exampleshire"] = {"quality_score": 85, "self_assessment_submitted": False,
                                                      "rating_poor_since": "2025-01-01", "standard_1": "not_met"}
    record.setdefault("authorities", {})["exampleshire"] = {"commissioned": True}
    return record


def summary(decision: Any) -> Any:
    return (decision.status, [(r.id, r.status, r.value, r.rules) for r in decision.decisions],
            sorted(a.id for a in decision.actions), [(m.input, m.path) for m in decision.missing])


# =========================================================================== a sixth council


@pytest.mark.parametrize("example", sorted((ROOT / "examples").glob("*.json")), ids=lambda p: p.stem)
def test_a_sixth_council_beside_the_five_changes_none_of_their_decisions(example: Path) -> None:
    record = shared_record(example)
    with_sixth = {d.pack.id: d for d in library_with_the_sixth().evaluate_all(record, AS_OF)}
    without = {d.pack.id: d for d in load_packs(ROOT / "policies").evaluate_all(json.loads(example.read_text()), AS_OF)}
    assert set(with_sixth) == set(without) | {"exampleshire-pqaf"}
    for pack_id, decision in without.items():
        assert summary(with_sixth[pack_id]) == summary(decision), pack_id
    assert with_sixth["exampleshire-pqaf"].decision("score_grade").value == "outstanding"


def test_another_councils_score_of_85_never_reaches_lancashire() -> None:
    """The failure the issue reports: a sixth council's 0-100 score read as a QPIP risk score."""
    record = {"provider": {"id": "p1", "name": "Acme", "service_type": "nursing"},
              "local": {"exampleshire": {"quality_score": 85}}}
    decision = next(d for d in library_with_the_sixth().evaluate_all(record, AS_OF) if d.pack.id == "lancashire-qpip")
    assert decision.headline.status == "insufficient_evidence" and decision.severity is None
    assert [m.path for m in decision.missing if m.input == "risk_score"] == ["local.lancashire.risk_profile_score"]


def test_reading_a_layout_1_path_is_refused_at_load_with_the_way_to_declare_it() -> None:
    text = SIXTH.read_text().replace("path: local.quality_score,", "path: assessment.risk_profile_score,")
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "sixth.yaml")
    [d] = [d for d in info.value.diagnostics if d.code == "CP204"]
    assert "`assessment.risk_profile_score` is not in the evidence" in d.message
    assert d.hint == ("declare it as this authority's finding: `path: local.risk_profile_score` with its `type` "
                      "(and `min`/`max`, `values` or `scale`)")


def test_another_authoritys_finding_is_read_only_by_naming_it() -> None:
    text = SIXTH.read_text().replace(
        "  - {id: commissioned,",
        "  - {id: lancashire_score, path: local.lancashire.risk_profile_score, type: integer, min: 0, max: 1000}\n"
        "  - {id: commissioned,")
    pack = loads_pack(text, "sixth.yaml")
    record = pack.parse_evidence({"provider": {"id": "p1", "name": "A", "service_type": "nursing"},
                                  "local": {"lancashire": {"risk_profile_score": 24, "qpip_level": "none"}}})
    assert pack.read("lancashire_score", record, date(2026, 1, 1)) == 24
    assert pack.inputs["lancashire_score"].evidence_path == "local.lancashire.risk_profile_score"
    # the loader says so: validate lists what a pack reads of other authorities
    path = Path("sixth-reads-lancashire.yaml")
    out, err = io.StringIO(), io.StringIO()
    try:
        path.write_text(text, encoding="utf-8")
        assert run(parse_args(["validate", str(path)]), out, err) == 0
    finally:
        path.unlink()
    assert "reads another authority's finding: `local.lancashire.risk_profile_score` (input `lancashire_score`)" in out.getvalue()


def test_one_finding_declared_two_ways_by_two_packs_is_refused() -> None:
    text = SIXTH.read_text()
    other = (text.replace("id: exampleshire-pqaf", "id: exampleshire-homecare")
             .replace("type: integer, min: 0, max: 100, worse: lower", "type: integer, min: 0, max: 10, worse: lower"))
    with pytest.raises(PackLoadError) as info:
        PackLibrary([loads_pack(text, "a.yaml"), loads_pack(other, "b.yaml")])
    [d] = info.value.diagnostics
    assert d.code == "CP218" and "`local.exampleshire.quality_score`" in d.message
    # the library names both: the pack where it differs (by file) and the pack it differs from (by id)
    assert (d.file, "`exampleshire-homecare`" in d.message) in (("a.yaml", True), ("b.yaml", False))


def test_the_sixth_councils_schema_lists_exactly_its_findings() -> None:
    schema = load_pack(SIXTH).evidence_schema()
    own = next(v for k, v in schema["$defs"].items() if k.endswith("_exampleshire"))
    assert sorted(own["properties"]) == sorted(
        ["quality_score", "self_assessment_submitted", "rating_poor_since", *(f"standard_{i}" for i in range(1, 11))])
    assert own["additionalProperties"] is False


# =========================================================================== derived inputs

HEAD = """\
carepolicy: 2
pack:
  id: derived
  authority: {id: test, name: Test Council}
  title: Derived inputs
  version: "1.0.0"
  effective_from: "2024-01-01"
  source_document: {title: Test}
  headline: result
scales:
  - id: level
    values: [{id: low, label: Low, severity: 0}, {id: high, label: High, severity: 3}]
inputs:
  - {id: a, path: local.a, type: integer, min: -1000, max: 1000}
  - {id: b, path: local.b, type: integer, min: -1000, max: 1000}
  - {id: x, path: local.x, type: number, min: -1000, max: 1000}
  - {id: first, path: local.first_on, type: date}
  - {id: second, path: local.second_on, type: date}
"""
TAIL = """\
decisions:
  - id: result
    kind: table
    hit: first
    scale: level
    source: "§1"
    rows:
      - {id: high, when: {input: value, at_least: 50}, value: high, source: "§1"}
    default: {value: low, source: "§1"}
"""


def derived(spec: str, type_: str = "integer") -> Any:
    tail = TAIL if type_ in ("integer", "number") else TAIL.replace("{input: value, at_least: 50}", "{input: value, known: true}")
    return loads_pack(HEAD + f"  - {{id: value, type: {type_}, derive: {spec}}}\n" + tail, "derived.yaml")


def value_of(pack: Any, **findings: Any) -> Any:
    record = pack.parse_evidence({"provider": {"id": "p", "name": "P", "service_type": "nursing"},
                                  "local": {"test": findings}})
    return pack.read("value", record, date(2026, 1, 1))


@pytest.mark.parametrize(
    ("mode", "a", "b", "expected"),
    [
        ("down", 2, 3, 66), ("up", 2, 3, 67), ("half_up", 1, 8, 13), ("half_even", 1, 8, 12),
        ("half_up", 5, 8, 63), ("half_even", 5, 8, 62), ("down", -2, 3, -67), ("up", -2, 3, -66),
        ("half_up", -1, 8, -13), ("down", 3, 3, 100),
    ],
)
def test_a_share_is_rounded_as_the_pack_declares(mode: str, a: int, b: int, expected: int) -> None:
    pack = derived(f"{{quotient: [{{product: [100, a]}}, b], round: {mode}, if_zero: 0}}")
    assert value_of(pack, a=a, b=b) == expected


def test_arithmetic_is_exact_and_a_missing_operand_is_missing_not_zero() -> None:
    pack = derived("{sum: [{quotient: [a, 3]}, {quotient: [a, 3]}, {quotient: [a, 3]}]}", "number")
    assert value_of(pack, a=1) == 1  # 1/3 three times is exactly 1, not 0.9999999999999999
    assert value_of(pack) is None
    d = pack.evaluate({"provider": {"id": "p", "name": "P", "service_type": "nursing"}}, "2026-01-01")
    assert d.headline.status == "insufficient_evidence" and [m.input for m in d.missing] == ["a"]
    assert [m.path for m in d.missing] == ["local.test.a"]


def test_division_by_zero_is_the_declared_value_or_a_located_error() -> None:
    assert value_of(derived("{quotient: [a, b], round: down, if_zero: 7}"), a=5, b=0) == 7
    pack = derived("{quotient: [a, b], round: down}")
    with pytest.raises(EvaluationError) as info:
        pack.evaluate({"provider": {"id": "p", "name": "P", "service_type": "nursing"}, "local": {"test": {"a": 5, "b": 0}}},
                      "2026-01-01")
    [d] = info.value.diagnostics
    assert (d.code, d.path) == ("CP410", "inputs.value")
    assert d.hint == "declare `if_zero:` with the value the document implies"


def test_an_integer_quotient_must_say_how_it_rounds() -> None:
    with pytest.raises(PackLoadError) as info:
        derived("{quotient: [a, b], if_zero: 0}")
    [d] = info.value.diagnostics
    assert d.code == "CP215" and d.hint == "add `round: down` (or `up`, `half_up`, `half_even`)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("{sum: [a, nope]}", "input `value`: derived from unknown input `nope`"),
        ("{sum: [a, first]}", "input `value`: `sum` needs integer or number inputs, but `first` is `date`"),
        ("{days_between: [a, first]}", "input `value`: `days_between` needs date inputs, but `a` is `integer`"),
    ],
)
def test_derivations_are_checked_at_load(spec: str, message: str) -> None:
    with pytest.raises(PackLoadError) as info:
        derived(spec)
    assert message in [d.message for d in info.value.diagnostics]


def test_a_derivation_cycle_is_refused() -> None:
    text = HEAD + "  - {id: value, type: integer, derive: {sum: [a, other]}}\n  - {id: other, type: integer, derive: {sum: [b, value]}}\n" + TAIL
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "cycle.yaml")
    assert {d.code for d in info.value.diagnostics} == {"CP214"}


def test_days_between_and_date_shifts() -> None:
    assert value_of(derived("{days_between: [first, second]}"), first_on="2026-01-01", second_on="2026-03-01") == 59
    assert value_of(derived("{days_between: [first, second]}"), first_on="2026-03-01", second_on="2026-01-01") == -59
    shifted = derived('{date: first, plus: "1 month"}', "date")
    assert value_of(shifted, first_on="2026-01-31") == date(2026, 2, 28)
    working = derived('{date: first, minus: "2 working days"}', "date")
    assert value_of(working, first_on="2026-12-29") == date(2026, 12, 23)  # 25, 28 Dec 2026 are bank holidays


def test_two_inputs_are_compared_as_dates_numbers_or_scale_positions() -> None:
    text = (HEAD + TAIL).replace(
        '      - {id: high, when: {input: value, at_least: 50}, value: high, source: "§1"}',
        '      - {id: high, when: {all: [{input: second, above: {input: first}}, {input: a, at_most: {input: b}}]}, '
        'value: high, source: "§1"}')
    pack = loads_pack(text, "compare.yaml")

    def headline(**findings: Any) -> Any:
        d = pack.evaluate({"provider": {"id": "p", "name": "P", "service_type": "nursing"}, "local": {"test": findings}},
                          "2026-01-01")
        return d.headline.status, d.headline.value

    assert headline(first_on="2025-01-01", second_on="2025-06-01", a=1, b=2) == ("decided", "high")
    assert headline(first_on="2025-06-01", second_on="2025-06-01", a=1, b=2) == ("decided", "low")
    assert headline(first_on="2025-06-01", second_on="2025-01-01") == ("decided", "low")  # false whatever a and b
    assert headline(first_on="2025-01-01", second_on="2025-06-01", a=1) == ("insufficient_evidence", None)


def test_comparing_inputs_of_different_types_is_refused_at_load() -> None:
    text = (HEAD + TAIL).replace("{input: value, at_least: 50}", "{input: a, at_most: {input: first}}")
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "bad.yaml")
    assert [d.message for d in info.value.diagnostics] == ["`a` (integer) and `first` (date) cannot be compared"]


# =========================================================================== calendar deadlines


def due_of(due: str, as_of: str) -> tuple[Any, Any, Any]:
    pack = loads_pack((HEAD + "  - {id: value, path: local.value, type: integer}\n" + TAIL).replace("decisions:", f"""\
outcomes:
  - id: return
    kind: action
    when: {{input: a, known: true}}
    text: a return
    due: {due}
    source: "§2"
decisions:"""), "calendar.yaml")
    d = pack.evaluate({"provider": {"id": "p", "name": "P", "service_type": "nursing"}, "local": {"test": {"a": 1}}}, as_of)
    [action] = d.actions
    return action.due_from, action.due, action.due_rule


@pytest.mark.parametrize(
    ("due", "as_of", "expected"),
    [
        ("{day: 8, month: next}", "2026-12-20", (None, date(2027, 1, 8))),
        ("{day: 8, month: same}", "2026-12-20", (None, date(2026, 12, 8))),
        ("{day: 31, month: next}", "2027-01-15", (None, date(2027, 2, 28))),
        ("{day: 31, month: next}", "2028-01-15", (None, date(2028, 2, 29))),
        ("{months: [november, december], year: same}", "2026-03-10", (date(2026, 11, 1), date(2026, 12, 31))),
        ("{months: [december, january], year: same}", "2026-03-10", (date(2026, 12, 1), date(2027, 1, 31))),
        ("{months: [february], year: next}", "2027-06-01", (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_calendar_deadlines(due: str, as_of: str, expected: tuple[Any, Any]) -> None:
    start, end, _ = due_of(due, as_of)
    assert (start, end) == expected


def test_calendar_deadlines_say_how_they_were_set() -> None:
    assert due_of("{day: 8, month: next}", "2026-12-20")[2] == "on day 8 of the month after the as-of date (2026-12-20)"
    assert due_of("{months: [november, december], year: same}", "2026-03-10")[2] == (
        "in November to December of the year of the as-of date (2026-03-10)")


@pytest.mark.parametrize(
    ("due", "message"),
    [
        ("{day: 8}", "`day` and `month` go together: `{day: 8, month: next}`"),
        ("{months: [november, january], year: same}", "`months` must be consecutive months in calendar order"),
        ('{day: 8, month: next, after: "6 weeks"}', "`due` needs exactly one of `after`, `before`, `day` (with `month`) or `months` (with `year`) (found after, day)"),
    ],
)
def test_calendar_deadlines_are_checked_at_load(due: str, message: str) -> None:
    with pytest.raises(PackLoadError) as info:
        due_of(due, "2026-01-01")
    assert any(message in d.message for d in info.value.diagnostics), [d.message for d in info.value.diagnostics]


def test_migrate_command_moves_a_layout_1_record_and_lists_what_no_pack_reads(tmp_path: Path) -> None:
    old = {"provider": {"id": "p1", "name": "A", "service_type": "nursing", "addresses_in_area": 2},
           "assessment": {"risk_profile_score": 22, "no_such_thing": 1}, "flags": {"kpis": "met"}}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    out, err = io.StringIO(), io.StringIO()
    assert run(parse_args(["migrate", "--packs", str(ROOT / "policies"), str(path)]), out, err) == 0
    new = json.loads(out.getvalue())
    assert new == {"provider": {"id": "p1", "name": "A", "service_type": "nursing"},
                   "authorities": {"bolton": {"addresses_in_area": 2}, "somerset": {"addresses_in_area": 2}},
                   "local": {"lancashire": {"risk_profile_score": 22}, "bolton": {"kpis": "met"}}}
    assert "dropped `assessment.no_such_thing`: no pack here reads it" in err.getvalue()
    load_packs(ROOT / "policies").parse_evidence(new)  # the result is a valid layout-2 record


def test_migrate_reports_a_record_it_cannot_read_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"provider": {"id": "p1", "name": "A", "service_type": "nursing"},
                                "assessment": {"risk_profile_score": 22}}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"provider": {"id": "p2",\n  "id": "p3"}}')
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    out, err = io.StringIO(), io.StringIO()
    code = run(["migrate", "--in-place", "--packs", str(ROOT / "policies"), str(broken), str(listed), str(good)], out, err)
    assert code == 1
    assert f"{broken}: error[CP403] duplicate key `id` in the evidence json" in err.getvalue()
    assert f"carepolicy: {listed}: an evidence record is a JSON object" in err.getvalue()
    assert json.loads(good.read_text())["local"] == {"lancashire": {"risk_profile_score": 22}}  # the good one moved
    assert run(["migrate", "--in-place", "--packs", str(ROOT / "policies"), str(tmp_path / "nope.json")], out, err) == 2


# =========================================================================== window edges, stated exactly


def test_an_event_exactly_one_month_old_is_outside_a_one_month_window() -> None:
    text = (HEAD + "  - {id: events, path: events, type: events}\n" + TAIL).replace(
        "{input: value, at_least: 50}", '{count_events: {input: events, kinds: [complaint], within: "1 month"}, at_least: 1}')
    pack = loads_pack(text.replace("  - {id: value", "  - {id: value"), "window.yaml")

    def counted(day: str) -> Any:
        record = {"provider": {"id": "p", "name": "P", "service_type": "nursing"},
                  "events": [{"kind": "complaint", "date": day}]}
        return pack.evaluate(record, "2026-03-15").headline.value

    assert counted("2026-02-15") == "low"   # exactly one month before the as-of date: outside
    assert counted("2026-02-16") == "high"  # the first day inside
    assert counted("2026-03-15") == "high"  # the as-of date itself: inside
    assert counted("2026-03-16") == "low"   # after the as-of date: not yet happened


def test_within_and_older_than_on_a_date_meet_without_overlapping() -> None:
    def holds(op: str, day: str) -> Any:
        text = (HEAD + TAIL).replace("{input: value, at_least: 50}", f'{{input: first, {op}: "1 month"}}')
        pack = loads_pack(text, "dates.yaml")
        record = {"provider": {"id": "p", "name": "P", "service_type": "nursing"}, "local": {"test": {"first_on": day}}}
        return pack.evaluate(record, "2026-03-15").headline.value == "high"

    assert (holds("within", "2026-02-15"), holds("older_than", "2026-02-15")) == (False, True)
    assert (holds("within", "2026-02-16"), holds("older_than", "2026-02-16")) == (True, False)


def test_judgement_on_a_band_reaches_the_decision_built_from_it() -> None:
    text = (HEAD + TAIL).replace("""decisions:
  - id: result""", """decisions:
  - id: tier
    kind: bands
    input: a
    scale: level
    source: "§1"
    bands:
      - {id: tier-low, value: low, max: 19, source: "§1"}
      - {id: tier-high, value: high, min: 20, source: "§1", judgement: "the score is a guideline"}
  - id: result""").replace("{input: value, at_least: 50}", "{decision: tier, is: high}")
    pack = loads_pack(text, "judged.yaml")

    def headline(a: int) -> Any:
        d = pack.evaluate({"provider": {"id": "p", "name": "P", "service_type": "nursing"}, "local": {"test": {"a": a}}},
                          "2026-01-01")
        return d.headline.value, d.headline.judgement, [(j.rule, j.reason) for j in d.headline.judgements]

    assert headline(25) == ("high", True, [("tier/tier-high", "the score is a guideline")])
    assert headline(5) == ("low", False, [])


def test_calendar_deadline_edges_are_generated_from_the_pack_and_agree_with_a_second_reading() -> None:
    from carepolicy import testing

    pack = load_pack(SIXTH)
    edges = [e for e in testing.deadline_edges(pack) if e.due is not None]
    assert {e.where for e in edges} == {"outcome `remonitor-in-november-or-december`", "outcome `monthly-return`"}
    assert [e.check(pack) for e in edges] == [None] * len(edges)
    monthly = {e.anchor: e.expected for e in edges if "monthly" in e.where}
    assert monthly[date(2026, 12, 31)] == date(2027, 1, 8) and monthly[date(2027, 1, 30)] == date(2027, 2, 8)
    window = {e.anchor: (e.expected_from, e.expected) for e in edges if "remonitor" in e.where}
    assert window[date(2027, 1, 1)] == (date(2027, 11, 1), date(2027, 12, 31))
    # an edited window moves the generated edges with no code change
    edited = loads_pack(SIXTH.read_text().replace("months: [november, december]", "months: [december, january]"), "e.yaml")
    moved = {e.anchor: (e.expected_from, e.expected) for e in testing.deadline_edges(edited) if e.due is not None and "remonitor" in e.where}
    assert moved[date(2027, 1, 1)] == (date(2027, 12, 1), date(2028, 1, 31))


def test_evaluation_cost_is_bounded_by_pack_times_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 8, defect 4: rows of `within: N working days` (4,000 once; 500 is now the most a table holds) and
    `count_events` with `group_by` over 10,000 events once took over 10 s per evaluation. Counted, not timed:
    each distinct window is worked out once per evaluation, and never again for the same date."""
    from carepolicy import _time

    shifts = []
    real = _time._shift_uncached
    monkeypatch.setattr(_time, "_shift_uncached", lambda *a: shifts.append(a) or real(*a))
    _time._shift.cache_clear()

    rows = "".join(f'      - {{id: r{i}, when: {{input: first, within: "{100 + i} working days"}}, value: high, source: "§1"}}\n'
                   for i in range(499))  # the most rows a table may have (500)
    rows += ('      - {id: grouped, when: {count_events: {input: events, kinds: [complaint], within: "200 working days", '
             'group_by: staff_member}, at_least: 3}, value: high, source: "§1"}\n')
    text = (HEAD + "  - {id: events, path: events, type: events}\n" + TAIL).replace(
        '      - {id: high, when: {input: value, at_least: 50}, value: high, source: "§1"}\n', rows).replace(
        "hit: first", "hit: worst")
    pack = loads_pack(text, "big.yaml")
    events = [{"kind": "complaint", "date": (date(2026, 1, 1) + timedelta(days=i % 300)).isoformat(),
               "staff_member": f"s{i % 50}"} for i in range(10_000)]
    record = pack.parse_evidence({"provider": {"id": "p", "name": "P", "service_type": "nursing"},
                                  "local": {"test": {"first_on": "2026-06-01"}}, "events": events})
    d = pack.evaluate(record, "2026-11-23", analyse=False)
    assert d.headline.value == "high"
    windows = {f"{100 + i} working days" for i in range(499)} | {"200 working days"}
    assert len(shifts) == len(windows)  # one walk of the calendar per distinct window
    pack.evaluate(record, "2026-11-23", analyse=False)
    assert len(shifts) == len(windows)  # and none at all the second time, for the same date


@pytest.mark.parametrize(("spec", "a", "b", "expected"), [
    ("{quotient: [a, b]}", 5, 2, 2.5),                                    # not whole: a decimal
    ("{quotient: [a, b]}", 6, 2, 3),                                      # whole: a whole number
    ("{quotient: [{product: [100, a]}, b], round: half_up, places: 1}", 2, 3, 66.7),
    ("{quotient: [{product: [100, a]}, b], round: down, places: 2}", 2, 3, 66.66),
    ("{quotient: [{product: [100, a]}, b], round: half_even, places: 1}", 1, 16, 6.2),   # 6.25 to even
])
def test_unrounded_and_decimal_places_results_are_exact(spec: str, a: int, b: int, expected: float) -> None:
    got = value_of(derived(spec, "number"), a=a, b=b)
    assert got == expected and type(got) is type(expected)
