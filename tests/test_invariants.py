"""Properties every pack must keep, checked on evidence generated from the pack itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import carepolicy as cp
from carepolicy import testing

from conftest import EXAMPLES
from reference.calendar import Calendar as ReferenceCalendar
from reference.evaluator import Reference, load, node

ROOT = Path(__file__).resolve().parent.parent
PACK_FILES = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
PACK_FILES.append(ROOT / "tests/data/packs/valid/everything.yaml")
PACK_FILES.append(ROOT / "tests/data/packs/valid/exampleshire.yaml")  # the sixth council: local findings, computed inputs
PACKS = {p.stem: cp.load_pack(p) for p in PACK_FILES}
REFERENCES = {PACKS[p.stem].id: Reference(load(p)) for p in PACK_FILES}
STATUSES = {"decided", "insufficient_evidence", "no_value", "conflict", "out_of_scope"}


@pytest.fixture(params=sorted(PACKS), ids=str)
def pack(request):
    return PACKS[request.param]


def _scale_values(pack, decision_id):
    d = pack.model.decision(decision_id)
    return None if d.scale is None else {v.id for v in pack.model.scale(d.scale).values}


def test_every_valid_evidence_gives_one_result_per_decision(pack):
    @given(testing.evidence(pack, gaps=True))
    def prop(pair):
        data, day = pair
        EXAMPLES[f"{pack.id}:results"] += 1
        d = pack.evaluate(data, day)  # never raises on valid evidence
        assert [r.id for r in d.decisions] == [x.id for x in pack.model.decisions]
        for r in d.decisions:
            assert r.status in STATUSES
            allowed = _scale_values(pack, r.id)
            if r.status == "decided" and allowed is not None:
                values = r.value if isinstance(r.value, list) else [r.value]
                assert set(values) <= allowed, (r.id, r.value)
            if r.status == "insufficient_evidence":
                assert r.missing, f"{r.id} is open but names nothing missing"
        assert d.status == ("out_of_scope" if d.out_of_scope else d.headline.status)

    prop()


def test_worsening_any_input_never_lowers_the_severity(pack):
    @given(testing.evidence(pack, gaps=True))
    def prop(pair):
        data, day = pair
        EXAMPLES[f"{pack.id}:monotone"] += 1
        assert testing.monotonicity_violations(pack, data, day) == []

    prop()


def test_evaluation_is_deterministic_and_round_trips(pack):
    @given(testing.evidence(pack, gaps=True))
    def prop(pair):
        data, day = pair
        EXAMPLES[f"{pack.id}:determinism"] += 1
        first = pack.evaluate(data, day)
        again = pack.evaluate(cp.parse_evidence(json.dumps(data)), day)
        assert first.to_json() == again.to_json()
        assert cp.Decision.model_validate_json(first.model_dump_json()) == first

    prop()


def test_boundaries_agree_with_the_pack_text(pack):
    cases = testing.boundaries(pack)
    failures = [f for b in cases if (f := b.check(pack))]
    assert failures == []


def test_every_boundary_is_where_the_reference_evaluator_puts_it(pack):
    """Each edge `testing.boundaries` derives, and the result it expects there, read by the reference
    evaluator (tests/reference/: the README's rules, its own calendar), not by the engine's helpers."""
    ref = REFERENCES[pack.id]
    cases = testing.boundaries(pack)
    assert cases, "a pack with no edges to check"
    wrong = []
    for b in cases:
        if b.decision is not None:
            got = ref.evaluate(b.evidence, b.as_of)["decisions"][b.decision]
            expected = got.value if got.status == "decided" else None
            if expected != b.expected_value:
                wrong.append(f"{b.id}: reference {expected!r}, boundaries {b.expected_value!r}")
        else:
            got = ref.condition(node(ref.pack, b.path), b.evidence, b.as_of)
            if got is not b.expected_leaf:
                wrong.append(f"{b.id}: reference {got}, boundaries {b.expected_leaf} ({b.description})")
        if (f := b.check(pack)) is not None:
            wrong.append(f)
    assert wrong == []


def test_a_band_that_lowers_severity_is_caught_with_a_minimal_counter_example():
    text = (ROOT / "tests/data/packs/valid/everything.yaml").read_text()
    # Make the headline depend on the score through an inverted table: a higher score gives green.
    wrong = text.replace(
        "    default: {value: green, source: \"§4 default\"}",
        "      - id: low-score-red\n        when: {input: score, at_most: 27}\n        value: red\n        source: \"§4 row 7\"\n"
        "    default: {value: green, source: \"§4 default\"}",
    )
    assert wrong != text
    pack = cp.loads_pack(wrong, "wrong.yaml")
    data, day = find(
        testing.evidence(pack, gaps=False),
        lambda pair: bool(testing.monotonicity_violations(pack, *pair)),
        settings=settings(max_examples=2000, database=None),
    )
    violations = testing.monotonicity_violations(pack, data, day)
    assert any("`score`" in v for v in violations)
    # minimal: the score sits exactly on the edge the wrong row introduced
    assert data["local"]["example"]["risk_profile_score"] == 27


def test_editing_a_threshold_in_yaml_moves_the_generated_edges(tmp_path):
    text = (ROOT / "tests/data/packs/valid/everything.yaml").read_text()
    before = cp.loads_pack(text, "before.yaml")
    edited = text.replace("{id: tier-1, value: tier_1, min: 20, max: 27", "{id: tier-1, value: tier_1, min: 20, max: 29").replace(
        "{id: tier-2, value: tier_2, min: 28,", "{id: tier-2, value: tier_2, min: 30,")
    assert edited != text
    path = tmp_path / "edited.yaml"
    path.write_text(edited)
    after = cp.load_pack(path)

    def edge_values(p):
        return {(b.id, b.evidence["local"]["example"]["risk_profile_score"], b.expected_value)
                for b in testing.boundaries(p) if b.decision == "tier"}

    old, new = edge_values(before), edge_values(after)
    assert ("tier/tier-2/min/at", 28, "tier_2") in old
    assert ("tier/tier-2/min/at", 30, "tier_2") in new
    assert ("tier/tier-1/max/just-above", 30, "tier_2") in new
    assert all(b.check(after) is None for b in testing.boundaries(after))
    # the old edge is now inside tier 1
    assert after.evaluate({"provider": {"id": "x", "name": "x", "service_type": "nursing"},
                           "local": {"example": {"risk_profile_score": 28}}}, "2026-01-05").decision("tier").value == "tier_1"


@given(st.data())
def test_hypothesis_strategy_example_for_council_systems(data):
    """The README's example: a council system's own reading checked against carepolicy on generated evidence.
    Here the reference evaluator stands in for the council's system."""
    pack = PACKS["everything"]
    evidence, as_of = data.draw(testing.evidence(pack))
    assert testing.AS_OF_RANGE[0] <= as_of <= testing.AS_OF_RANGE[1] and pack.in_force(as_of)
    pack.evidence_model.model_validate(evidence)  # valid for the pack, every declared input given
    decision = cp.evaluate(pack, evidence, as_of)
    ours = REFERENCES[pack.id].evaluate(evidence, as_of)["decisions"][pack.model.pack.headline]
    assert (decision.headline.status, decision.headline.value) == (ours.status, ours.value)
    assert decision.pack.sha256 == pack.sha256


LADDER_PACKS = sorted(k for k, p in PACKS.items() if p.model.ladder is not None)


@pytest.mark.parametrize("name", LADDER_PACKS)
def test_random_case_events_never_reach_a_state_the_graph_forbids(name):
    pack = PACKS[name]

    @given(testing.case_events(pack))
    def prop(events):
        EXAMPLES[f"{pack.id}:ladder"] += 1
        assert testing.ladder_violations(pack, events) == []

    prop()


@pytest.mark.parametrize("name", sorted(PACKS))
def test_every_deadline_agrees_with_an_independent_calendar_at_month_ends_and_bank_holidays(name):
    pack = PACKS[name]
    edges = testing.deadline_edges(pack)
    assert [f for e in edges if (f := e.check(pack))] == []
    assert testing.due_status_edges(pack) == []
    # the expected dates are the reference evaluator's too
    calendar = ReferenceCalendar(REFERENCES[pack.id].pack.get("calendar"))
    assert [e for e in edges if e.duration is not None
            and calendar.shift(e.anchor, str(e.duration), 1) != e.expected] == []


def test_deadline_edges_cover_month_ends_and_bank_holidays():
    pack = PACKS["lancashire"]
    edges = {(str(e.duration), e.anchor.isoformat()): e.expected.isoformat() for e in testing.deadline_edges(pack)}
    assert edges[("6 months", "2026-08-31")] == "2027-02-28"          # clamped to the month end
    assert edges[("6 months", "2028-02-29")] == "2028-08-29"
    wirral = PACKS["wirral"]
    assert any(e.duration.unit == "months" for e in testing.deadline_edges(wirral))
    oxford = PACKS["oxfordshire"]
    working = {e.anchor.isoformat(): e.expected.isoformat() for e in testing.deadline_edges(oxford)
               if str(e.duration) == "10 working days"}
    assert working["2025-12-19"] == "2026-01-07"   # skips Christmas, Boxing Day and New Year's Day
    assert working["2026-04-02"] == "2026-04-20"   # skips Good Friday and Easter Monday


def test_a_counting_window_shifted_by_one_day_fails_the_invariants(monkeypatch):
    """The review's mutant: with the engine's window one day longer, the edges (read with an independent
    calendar, and by the reference evaluator) no longer agree with the engine."""
    from carepolicy import _compile, _time

    monkeypatch.setattr(_compile, "window_start", lambda as_of, duration, calendar: _time.subtract(as_of, duration, calendar))
    pack = PACKS["oxfordshire"]
    failures = [f for b in testing.boundaries(pack) if (f := b.check(pack))]
    assert failures and all("window-day-before" in f for f in failures), failures
