"""The five shipped ladders: each loads, draws, and is walked up and down with real refusals.

Evidence starts from each pack's own ``base_evidence`` (its ``<pack>.tests.yaml``), so
these walks use the same "all good" provider as the pack's decision tests.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest

from carepolicy import TransitionError, advance, due, load_pack, open_case, simulate
from carepolicy._graph import check_ladder
from carepolicy.policytest import load_tests, merge
from carepolicy.render import state_lines, to_dot, to_mermaid

POLICIES = Path(__file__).resolve().parent.parent / "policies"
NAMES = ["lancashire", "oxfordshire", "bolton", "somerset", "wirral"]
D = date.fromisoformat


class Walk:
    """One provider's case on one shipped pack, advanced step by step."""

    def __init__(self, name: str, opened: str = "2026-01-05") -> None:
        self.pack = load_pack(POLICIES / f"{name}.yaml")
        self.base = load_tests(POLICIES / f"{name}.tests.yaml")[0].base_evidence
        self.case = open_case(self.pack, self.base["provider"]["id"], opened)

    def event(self, evidence: dict | None = None, **kw) -> dict:
        if evidence is not None:
            kw["evidence"] = merge(self.base, evidence)
        return kw

    def go(self, evidence: dict | None = None, **kw):
        self.case = advance(self.pack, self.case, self.event(evidence, **kw))
        return self.case.history[-1]

    def refused(self, evidence: dict | None = None, **kw) -> list:
        with pytest.raises(TransitionError) as info:
            advance(self.pack, self.case, self.event(evidence, **kw))
        return info.value.diagnostics


@pytest.mark.parametrize("name", NAMES)  # every shipped pack: a missing one fails, never skips
def test_shipped_ladder_is_sound_and_drawn(name):
    pack = load_pack(POLICIES / f"{name}.yaml")
    ladder = pack.model.ladder
    assert ladder is not None and check_ladder(pack.model) == []
    mermaid, dot = to_mermaid(pack), to_dot(pack)
    for s in ladder.states:
        first = state_lines(s)[0]
        assert f'"{s.id}" [label="{first}' in dot and first.replace('"', "#quot;") in mermaid
    for t in ladder.transitions:
        assert f'"{t.from_}" -> "{t.to}" [label="{t.id}\\n' in dot and f'|"{t.id}<br/>' in mermaid


def test_lancashire_reoffer_within_two_years_warns_and_radar_deadline_is_missed():
    w = Walk("lancashire")
    partners = [{"role": "qpip_partners", "by": "QPIP partners meeting"}]
    prior = {"local": {"lancashire": {"last_qpip_ended_on": "2025-03-01", "last_qpip_same_proprietor": True}}}
    score = lambda n: {"local": {"lancashire": {"risk_profile_score": n, **prior["local"]["lancashire"]}}}  # noqa: E731
    (d,) = w.refused(score(24), transition="bau-to-qpip-1", on="2026-01-12")
    assert d.code == "CP505" and "`qpip_partners`" in d.message
    (d,) = w.refused(score(12), transition="bau-to-qpip-1", on="2026-01-12", approvals=partners)
    assert d.code == "CP503" and "qpip_tier" in d.message
    # the trigger picks QPIP 1 or 2 by the guard; a re-offer within two years warns, never blocks
    h = w.go(score(24), trigger={"kind": "role_decision", "name": "partners-initiate-qpip"}, on="2026-01-12", approvals=partners)
    assert (h.transition, w.case.state) == ("bau-to-qpip-1", "qpip_1")
    assert any(x.certain and "2-year" in x.message for x in h.warnings)
    assert {d.id: d.due for d in w.case.deadlines} == {
        "review-6-weeks": D("2026-02-23"), "review-12-weeks": D("2026-04-06"), "review-6-months": D("2026-07-12")}
    review = {"local": {"lancashire": {"qpip_level": "qpip_1", "moving_to_developmental_actions": True, "high_risk_actions": 4,
                                       "high_risk_actions_good_progress": 4, "high_risk_actions_little_progress": 0}}}
    w.go(review, trigger={"kind": "review_outcome", "name": "return_to_bau"}, on="2026-04-06", approvals=partners)
    assert w.case.state == "radar_monitoring" and w.case.deadlines[0].due == D("2026-07-06")
    assert due(w.pack, w.case, "2026-07-07").available == ("radar-to-business-as-usual",)
    (d,) = w.refused(trigger={"kind": "deadline"}, on="2026-07-06")
    assert d.code == "CP508"
    w.go(trigger={"kind": "deadline"}, on="2026-07-07")
    assert w.case.state == "business_as_usual"
    nursing = {"provider": {"service_type": "nursing"}}
    w.go({**nursing, "local": {"lancashire": {"risk_profile_score": 30, "nursing_contract_with_health": True}}},
         transition="bau-to-qpip-2", on="2026-08-03", approvals=partners)
    top = {**nursing, "local": {"lancashire": {"qpip_level": "qpip_2", "improvement_sustained": False,
                                               "nursing_contract_with_health": True}}}
    h = w.go(top, trigger={"kind": "review_outcome", "name": "close_and_escalate"}, on="2026-10-01", approvals=partners)
    assert w.case.state == "closed_and_escalated" and any(x.certain for x in h.warnings)


def test_somerset_board_needs_quorum_and_final_warning_deadline():
    w = Walk("somerset")
    (d,) = w.refused({"cqc": {"overall": "inadequate"}, "authorities": {"somerset": {"addresses_in_area": 0}}},
                     trigger={"kind": "evidence", "name": "service-provider-default"}, on="2026-01-12")
    assert d.code == "CP509" and "out of the pack's scope" in d.message
    w.go({"cqc": {"overall": "inadequate"}}, trigger={"kind": "evidence", "name": "service-provider-default"}, on="2026-01-12")
    assert w.case.state == "formal-stage"
    assert w.refused(transition="refer-to-board-from-quality-improvement", on="2026-02-02")[0].code == "CP505"
    w.go(transition="refer-to-board-from-quality-improvement", on="2026-02-02", approvals=[{"role": "sccg", "by": "CCG"}])
    quorum = ["ccg_safeguarding_commissioning_rep", "la_quality_performance_manager", "la_strategic_commissioner"]
    board = [{"role": "board", "by": "Commissioning and Quality Board"}]
    diags = w.refused(transition="board-issues-final-warning", on="2026-02-16", approvals=board, attendees=quorum[:2])
    quorate = [d for d in diags if d.code == "CP506"]
    assert quorate and "2 present, 3 needed" in quorate[0].message and "`la_strategic_commissioner`" in quorate[0].message
    w.go(transition="board-issues-final-warning", on="2026-02-16", approvals=board, attendees=quorum)
    (fw,) = w.case.deadlines
    assert (w.case.state, fw.due, fw.on_miss) == ("final-warning", D("2026-08-16"), "board-terminates-contract")
    late = due(w.pack, w.case, "2026-08-17")
    assert late.overdue and late.available == ("board-terminates-contract",)
    down = copy.copy(w)  # the same case, walked back down instead
    down.go({}, transition="final-warning-improvement-evidenced", on="2026-08-17", approvals=board, attendees=quorum)
    down.go({}, transition="sustainability-demonstrated", on="2027-02-17", approvals=board, attendees=quorum)
    assert down.case.state == "routine-monitoring"
    w.go({}, transition="board-terminates-contract", on="2026-08-17", approvals=board, attendees=quorum)
    assert w.case.state == "terminated"


def test_somerset_timeline_records_missed_deadline_and_refused_board():
    w = Walk("somerset")
    quorum = ["ccg_safeguarding_commissioning_rep", "la_quality_performance_manager", "la_strategic_commissioner"]
    board = [{"role": "board", "by": "Board"}]
    events = [
        w.event({"cqc": {"overall": "inadequate"}}, trigger={"kind": "evidence"}, on="2026-01-12"),
        w.event(transition="refer-to-board-from-quality-improvement", on="2026-02-02", approvals=[{"role": "sccg", "by": "CCG"}]),
        w.event(transition="board-issues-final-warning", on="2026-02-16", approvals=board, attendees=quorum[1:]),
        w.event(transition="board-issues-final-warning", on="2026-03-16", approvals=board, attendees=quorum),
    ]
    t = simulate(w.pack, w.case.provider_id, events, "2026-12-31", opened_on="2026-01-05")
    days = {d.on.isoformat(): d for d in t.days}
    assert "CP506" in days["2026-02-16"].refused[0].codes
    assert [m.deadline.id for m in days["2026-09-17"].missed] == ["final-warning-improvement"]
    assert t.case.state == "final-warning" and t.report.available == ("board-terminates-contract",)


def test_oxfordshire_traffic_lights_up_and_down_and_action_plan_deadline():
    w = Walk("oxfordshire")
    qs = lambda **kw: {"local": {"oxfordshire": kw}}  # noqa: E731
    w.go(qs(approach_to_personalisation="amber"), trigger={"kind": "evidence", "name": "traffic_light_amber"}, on="2026-01-12")
    w.go(qs(care_plans_and_risk_assessments="red"), transition="amber-to-red", on="2026-02-02")
    lead = [{"role": "quality_improvement_lead", "by": "QI lead"}]
    (d,) = w.refused(qs(approach_to_personalisation="amber"), transition="red-to-amber", on="2026-03-02", approvals=lead)
    assert d.code == "CP505" and "one of" in d.message
    (d,) = w.refused(qs(safeguarding="red"), transition="red-to-amber", on="2026-03-02",
                     approvals=lead + [{"role": "safeguarding_operations_manager", "by": "SOM"}])
    assert d.code == "CP503" and "found red" in d.message
    w.go(qs(approach_to_personalisation="amber"), transition="red-to-amber", on="2026-03-02",
         approvals=lead + [{"role": "safeguarding_operations_manager", "by": "SOM"}])
    w.go({}, transition="amber-to-green", on="2026-04-01", approvals=[{"role": "quality_improvement_manager", "by": "QIM"}])
    assert w.case.state == "green"
    w.go({"local": {"oxfordshire": {"quality_review_outcome": "requires_improvement"}}}, transition="green-to-ri-action-plan", on="2026-06-15")
    assert w.case.deadlines[0].due == D("2026-09-15")
    assert {d.code for d in w.refused(trigger={"kind": "deadline"}, on="2026-09-15")} == {"CP504", "CP505", "CP508"}
    qim = [{"role": "quality_improvement_manager", "by": "QIM"}]
    # "progress is slower than the time period": actions of the plan still open after the three months
    (d,) = w.refused({"local": {"oxfordshire": {"actions_outstanding": 0}}}, trigger={"kind": "deadline"}, on="2026-09-16", approvals=qim)
    assert d.code == "CP503" and "`actions_outstanding` is at least 1 (found 0)" in d.message and "override" in d.hint
    w.go({"local": {"oxfordshire": {"actions_outstanding": 2}}}, trigger={"kind": "deadline"}, on="2026-09-16", approvals=qim)
    assert w.case.state == "amber" and w.case.history[-1].closed[0].outcome == "missed"


def test_oxfordshire_action_plan_needs_its_actions_done_and_standards_of_care_makes_it_amber():
    w = Walk("oxfordshire")
    w.go({"local": {"oxfordshire": {"quality_review_outcome": "requires_improvement"}}}, transition="green-to-ri-action-plan", on="2026-01-12")
    (d,) = w.refused({"local": {"oxfordshire": {"actions_outstanding": 1}}}, transition="ri-action-plan-to-green", on="2026-03-02")
    assert d.code == "CP503" and "`actions_outstanding` is at most 0 (found 1)" in d.message
    (d,) = w.refused({"local": {"oxfordshire": {"standards_of_care_threshold_met": None}}},
                     trigger={"kind": "evidence", "name": "traffic_light_amber"}, on="2026-03-02")
    assert d.code == "CP504" and "`soc_threshold_met`" in d.message
    # the threshold met with a red core standard: AMBER as a minimum, and a warning that the light is RED
    h = w.go({"local": {"oxfordshire": {"standards_of_care_threshold_met": True, "safeguarding": "red"}}},
             trigger={"kind": "evidence", "name": "traffic_light_amber"}, on="2026-03-02")
    assert (h.transition, w.case.state) == ("ri-action-plan-standards-of-care-amber", "amber")
    assert [c.outcome for c in h.closed] == ["met"] and any(x.certain and "RED" in x.message for x in h.warnings)
    # contract exit needs the plan's target date passed with actions open, or a recorded judgement
    late = {"local": {"oxfordshire": {"plan_target_date": "2026-04-30", "actions_outstanding": 3}}}
    (d,) = w.refused(late, transition="amber-to-contract-exit", on="2026-04-30")
    assert d.code == "CP503" and "`plan_target_date` is older than 1 day" in d.message
    h = w.go(late, transition="amber-to-contract-exit", on="2026-04-30", override="the provider cannot recruit in time")
    assert (w.case.state, h.guard) == ("contract-exit", "overridden")


def test_bolton_pqr_ladder_up_and_down():
    w = Walk("bolton")
    w.go({"local": {"bolton": {"concerns_identified": "minor"}}}, transition="start-supported-improvement", on="2026-01-12")
    (d,) = w.refused({"local": {"bolton": {"concerns_identified": "minor"}}}, transition="suspend-new-placements", on="2026-02-02")
    assert d.code == "CP503" and "found pqr_2" in d.message
    assert w.refused({"local": {"bolton": {"concerns_identified": None}}}, transition="suspend-new-placements",
                     on="2026-02-02")[0].code == "CP504"
    w.go({"local": {"bolton": {"concerns_identified": "may_impact_safety"}}}, transition="suspend-new-placements", on="2026-02-02")
    assert w.case.deadlines[0].due == D("2026-03-02")
    w.go({"local": {"bolton": {"contract_compliance": "significant_breach"}}}, transition="enforce-contract-during-suspension", on="2026-03-02")
    w.go({}, transition="end-contract-enforcement", on="2026-04-01")
    w.go({}, transition="end-supported-improvement", on="2026-05-01")
    assert w.case.state == "routine-monitoring"
    w.go({"local": {"bolton": {"financial_distress": "close_to_failure"}}}, trigger={"kind": "evidence"}, on="2026-06-01")
    assert w.case.state == "provider-failure-contingency"


def test_wirral_pamms_ladder_up_and_down():
    w = Walk("wirral")
    pamms = lambda r, on: {"local": {"wirral": {"pamms_rating": r, "pamms_assessed_on": on}}}  # noqa: E731
    w.go(pamms("requires_improvement", "2026-01-30"), trigger={"kind": "review_outcome", "name": "pamms-requires-improvement"},
         on="2026-01-30")
    assert w.case.deadlines[0].due == D("2026-04-30")
    w.go(pamms("poor", "2026-04-30"), transition="review-finds-poor", on="2026-04-30")
    w.go(pamms("poor", "2026-10-30"), transition="reassessed-still-poor", on="2026-10-30")
    # the reassessment was held on its due day: the old clock is met, a new one starts
    assert w.case.history[-1].closed[0].outcome == "met" and w.case.deadlines[0].due == D("2027-04-30")
    w.go({"local": {"wirral": {"pamms_rating": "poor", "placements_suspended": True, "actions_outstanding": 3}}}, transition="poor-suspended-actions-outstanding", on="2027-01-15")
    assert w.refused(pamms("good", "2027-02-01"), transition="prig-lifts-suspension-good", on="2027-02-01")[0].code == "CP505"
    w.go(pamms("good", "2027-02-01"), transition="prig-lifts-suspension-good", on="2027-02-01", approvals=[{"role": "prig", "by": "PRIG"}])
    assert w.case.state == "routine-schedule"


def test_wirral_clocks_run_from_the_pamms_assessment_and_a_repeat_requires_improvement_restarts_the_review():
    w = Walk("wirral")
    ri = lambda on: {"local": {"wirral": {"pamms_rating": "requires_improvement", "pamms_assessed_on": on}}}  # noqa: E731
    move = {"trigger": {"kind": "review_outcome", "name": "pamms-requires-improvement"}}
    (d,) = w.refused(ri(None), on="2026-01-30", **move)
    assert d.code == "CP504" and "`pamms_assessed_on`" in d.message and d.path.endswith("starts[0].from")
    (d,) = w.refused(ri("2026-02-02"), on="2026-01-30", **move)
    assert d.code == "CP509" and "after the move on 2026-01-30" in d.message
    w.go(ri("2026-01-16"), on="2026-01-30", **move)  # recorded two weeks after the assessment
    (review,) = w.case.deadlines
    assert (review.started_on, review.runs_from, review.due) == (D("2026-01-16"), "pamms_assessed_on", D("2026-04-16"))
    assert "3 months from 2026-01-16 (`pamms_assessed_on`)" in due(w.pack, w.case, "2026-04-01").text()
    h = w.go(ri("2026-04-20"), on="2026-04-22", **move)  # the review, held late, finds requires improvement again
    assert (h.transition, [(c.id, c.outcome) for c in h.closed]) == (
        "reviewed-still-requires-improvement", [("review-3-months", "missed")])
    assert [(x.id, x.due) for x in w.case.deadlines] == [("review-3-months", D("2026-07-20"))]


def test_lancashire_held_reviews_are_met_not_missed():
    w = Walk("lancashire")
    partners = [{"role": "qpip_partners", "by": "QPIP partners meeting"}]
    w.go({"local": {"lancashire": {"risk_profile_score": 24}}}, transition="bau-to-qpip-1", on="2026-01-12", approvals=partners)
    going = {"local": {"lancashire": {"qpip_level": "qpip_1", "plan_target_date": "2026-12-31", "actions_outstanding": 3, "within_sight_of_completion": True, "moving_to_developmental_actions": False,
                                      "high_risk_actions": 10, "high_risk_actions_good_progress": 6, "high_risk_actions_little_progress": 1}}}
    h = w.go(going, trigger={"kind": "review_outcome", "name": "review-6-weeks-held"}, on="2026-02-20", approvals=partners)
    assert [(c.id, c.outcome) for c in h.closed] == [("review-6-weeks", "met")]
    assert [x.id for x in w.case.deadlines] == ["review-12-weeks", "review-6-months"] and w.case.entered_on == D("2026-01-12")
    (d,) = w.refused(going, transition="qpip-1-review-6-weeks-held", on="2026-02-23", approvals=partners)
    assert d.code == "CP508" and "`review-6-weeks`" in d.message and "`review-12-weeks`" in d.hint
    # replayed: the held reviews are never reported missed; the review not held is
    events = [w.event({"local": {"lancashire": {"risk_profile_score": 24}}}, transition="bau-to-qpip-1", on="2026-01-12", approvals=partners),
              w.event(going, transition="qpip-1-review-6-weeks-held", on="2026-02-23", approvals=partners),
              w.event(going, transition="qpip-1-review-6-months-held", on="2026-07-01", approvals=partners)]
    t = simulate(w.pack, w.case.provider_id, events, "2026-12-31", opened_on="2026-01-05")
    missed = [m.deadline.id for d in t.days for m in d.missed]
    assert missed == ["review-12-weeks"] and [x.id for x in t.case.deadlines] == ["review-12-weeks"]  # still overdue
    # "QPIP2 and/or escalation under contract arrangements": one trigger per choice, never ambiguous
    worse = {"local": {"lancashire": {**going["local"]["lancashire"], "risk_profile_score": 30, "high_risk_actions": 5,
                                      "high_risk_actions_little_progress": 4}}}
    both = partners + [{"role": "contract_management", "by": "contract manager"}]
    h = w.go(worse, trigger={"kind": "review_outcome", "name": "further_action"}, on="2026-05-25", approvals=both)
    assert h.transition == "qpip-1-to-qpip-2" and w.case.state == "qpip_2"


def test_bolton_breach_leads_straight_from_routine_monitoring_to_contract_action():
    w = Walk("bolton")
    (d,) = w.refused({"local": {"bolton": {"contract_compliance": "minor_gaps"}}}, transition="enforce-contract-from-routine", on="2026-01-12")
    assert d.code == "CP503" and "override" in d.hint
    h = w.go({"local": {"bolton": {"contract_compliance": "significant_breach"}}},
             trigger={"kind": "role_decision", "name": "contract_enforcement"}, on="2026-01-12")
    assert (h.transition, h.from_state, w.case.state) == ("enforce-contract-from-routine", "routine-monitoring", "contract-enforcement")
