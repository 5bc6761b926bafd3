"""Escalation cases on a small ladder of our own: moves up and down, every refusal, deadlines, JSON, replay."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from carepolicy import Case, CaseEvent, TransitionError, advance, due, load_pack, loads_pack, open_case, simulate
from carepolicy.cli import parse_args, run

DATA = Path(__file__).parent / "data" / "ladders" / "valid"
PACK = load_pack(DATA / "example.yaml")
PROVIDER = {"id": "1-101", "name": "Example Care Home", "service_type": "residential"}
D = date.fromisoformat


def ev(**findings):
    """Evidence about the test provider: the example council's findings."""
    return {"provider": PROVIDER, "local": {"example": findings}}


def refused(case, **event) -> list:
    with pytest.raises(TransitionError) as info:
        advance(PACK, case, event)
    return info.value.diagnostics


@pytest.fixture
def opened() -> Case:
    return open_case(PACK, "1-101", "2025-12-15")


@pytest.fixture
def concern(opened) -> Case:
    return advance(PACK, opened, {"transition": "raise-concern", "on": "2025-12-17",
                                  "evidence": ev(risk_profile_score=25)})


@pytest.fixture
def notice(concern) -> Case:
    return advance(PACK, concern, {"transition": "issue-notice", "on": "2026-01-30",
                                   "approvals": [{"role": "lead", "by": "A"}, {"role": "manager", "by": "B"}]})


def test_open_case_starts_at_entry(opened):
    assert (opened.state, opened.entered_on, opened.deadlines) == ("monitoring", D("2025-12-15"), ())
    assert opened.pack_id == "example-ladder" and opened.pack_sha256 == PACK.sha256
    assert [h.kind for h in opened.history] == ["opened"]


def test_escalation_starts_deadlines_across_bank_holidays(concern):
    assert concern.state == "concern" and concern.entered_on == D("2025-12-17")
    plan, review = concern.deadlines
    # 10 working days from Wed 17 Dec 2025 skip Christmas, Boxing Day and New Year's Day
    assert (plan.id, plan.due, plan.set_by, plan.source) == ("plan-agreed", D("2026-01-05"), "raise-concern", "§4.1")
    assert (review.id, review.due) == ("review", D("2026-01-28"))
    entry = concern.history[-1]
    assert (entry.transition, entry.from_state, entry.to_state, entry.guard) == ("raise-concern", "monitoring", "concern", "true")
    assert entry.evidence_sha256 and [w.certain for w in entry.warnings] == [False]  # last plan date not known


def test_month_deadline_clamps_to_month_end(notice):
    (expires,) = notice.deadlines
    assert (expires.id, expires.started_on, expires.due) == ("notice-expires", D("2026-01-30"), D("2026-02-28"))
    assert [(c.id, c.outcome) for c in notice.history[-1].closed] == [("plan-agreed", "missed"), ("review", "missed")]


def test_warning_is_recorded_never_blocks(opened):
    case = advance(PACK, opened, {"trigger": {"kind": "evidence"}, "on": "2025-12-17",
                                  "evidence": ev(risk_profile_score=25, last_qpip_ended_on="2024-06-01")})
    (w,) = case.history[-1].warnings
    assert case.state == "concern" and w.certain and "two years" in w.message and w.source == "§2 para 4"
    unknown = advance(PACK, opened, {"trigger": {"kind": "evidence"}, "on": "2025-12-17",
                                     "evidence": ev(risk_profile_score=25)})
    (w,) = unknown.history[-1].warnings
    assert not w.certain and w.missing == ("last_plan",)


def test_guard_false_names_failing_part(opened):
    (d,) = refused(opened, transition="raise-concern", on="2025-12-17", evidence=ev(risk_profile_score=12))
    assert d.code == "CP503" and "decision `tier` is one of tier_1, tier_2 (found none)" in d.message
    assert d.path == "ladder.transitions[0].guard" and "override" in d.hint


def test_guard_unknown_names_missing_inputs(opened):
    (d,) = refused(opened, transition="raise-concern", on="2025-12-17", evidence=ev())
    assert d.code == "CP504" and d.message.endswith("missing `score`")
    (d,) = refused(opened, transition="raise-concern", on="2025-12-17")
    assert d.code == "CP504" and "none was given" in d.message and "`score`" in d.message


def test_judgement_override_is_recorded(opened):
    case = advance(PACK, opened, {"transition": "raise-concern", "on": "2025-12-17", "override": "three safeguarding alerts"})
    entry = case.history[-1]
    assert (case.state, entry.guard, entry.override) == ("concern", "overridden", "three safeguarding alerts")


def test_override_refused_where_pack_leaves_no_judgement(concern):
    codes = [d.code for d in refused(concern, transition="concern-resolved", on="2026-01-02",
                                     evidence=ev(actions_outstanding=2), override="we think so")]
    assert codes == ["CP503", "CP509"]


def test_missing_approval_names_roles_and_deadline_not_yet_missed(concern):
    diags = refused(concern, transition="issue-notice", on="2026-01-05", approvals=[{"role": "lead", "by": "A"}])
    assert [d.code for d in diags] == ["CP505", "CP508"]
    assert "missing: `manager`" in diags[0].message and "missed only from 2026-01-06" in diags[1].message


def test_quorum_not_met_says_who_and_how_many(notice):
    (d,) = refused(notice, transition="refer-board", on="2026-03-04", attendees=["manager", "member"])
    assert d.code == "CP506" and "2 present, 3 needed" in d.message and "absent: `chair`" in d.message
    (d,) = refused(notice, transition="refer-board", on="2026-03-04", attendees=["chair", "manager"])
    assert "2 present, 3 needed" in d.message and "absent" not in d.message
    # enough people, but not the one who must be there: the message leads with the absent role
    (d,) = refused(notice, transition="refer-board", on="2026-03-04", attendees=["manager", "member", "member"])
    assert d.message.startswith("`refer-board`: quorum not met: `chair` must be present and is not (3 present, 3 needed)")
    ok = advance(PACK, notice, {"transition": "refer-board", "on": "2026-03-04", "attendees": ["chair", "manager", "member"]})
    assert ok.state == "final-warning" and ok.deadlines[0].due == D("2026-09-04")


def test_deadline_move_needs_the_deadline_missed(notice):
    fw = advance(PACK, notice, {"transition": "refer-board", "on": "2026-03-04", "attendees": ["chair", "manager", "member"]})
    quorum = ["chair", "manager", "member"]
    (d,) = refused(fw, transition="terminate", on="2026-09-04", attendees=quorum)
    assert d.code == "CP508" and "due on 2026-09-04" in d.message
    done = advance(PACK, fw, {"trigger": {"kind": "deadline", "name": "sustain"}, "on": "2026-09-05", "attendees": quorum})
    assert done.state == "terminated" and done.deadlines == ()
    assert done.history[-1].closed[0].outcome == "missed"
    (d,) = refused(done, trigger={"kind": "review_outcome"}, on="2026-09-06")
    assert d.code == "CP501" and "no way out" in d.hint


def test_walk_up_and_back_down(notice):
    down = advance(PACK, notice, {"trigger": {"kind": "review_outcome", "name": "complied"}, "on": "2026-02-20"})
    assert (down.state, down.deadlines[0].id, down.deadlines[0].due) == ("concern", "review", D("2026-04-03"))
    kept = advance(PACK, down, {"transition": "concern-review", "on": "2026-04-03"})
    assert kept.entered_on == down.entered_on and kept.deadlines[0].due == D("2026-05-15")
    assert kept.history[-1].closed[0].outcome == "superseded"
    home = advance(PACK, kept, {"transition": "concern-resolved", "on": "2026-05-01",
                                "evidence": ev(actions_outstanding=0)})
    assert (home.state, home.deadlines) == ("monitoring", ())
    closed = advance(PACK, home, {"transition": "close", "on": "2026-06-01", "approvals": [{"role": "manager", "by": "B"}]})
    assert closed.state == "closed"
    assert [h.to_state for h in closed.history] == ["monitoring", "concern", "notice", "concern", "concern", "monitoring", "closed"]


def test_other_refusals(concern, opened):
    assert refused(concern, transition="closee", on="2026-01-02")[0].hint == "did you mean `close`?"
    (d,) = refused(concern, transition="close", on="2026-01-02")
    assert d.code == "CP501" and "leaves `monitoring`" in d.message and "`concern-resolved`" in d.hint
    (d,) = refused(concern, trigger={"kind": "review_outcome"}, on="2026-01-02",
                   evidence=ev(actions_outstanding=0))
    assert d.code == "CP502" and "`concern-review`, `concern-resolved`" in d.message
    assert refused(concern, transition="concern-review", on="2025-12-16")[0].code == "CP507"
    assert refused(concern, transition="concern-review", on="2026-01-02",
                   approvals=[{"role": "leed", "by": "x"}])[0].hint == "did you mean `lead`?"
    other = {**PROVIDER, "id": "9-999"}
    assert refused(opened, transition="raise-concern", on="2025-12-17", evidence={"provider": other})[0].code == "CP509"
    foreign = opened.model_copy(update={"pack_id": "somewhere-else"})
    assert refused(foreign, transition="raise-concern", on="2025-12-17")[0].code == "CP510"


def test_event_names_exactly_one_move():
    with pytest.raises(ValueError):
        CaseEvent(on=D("2026-01-01"))
    with pytest.raises(ValueError):
        CaseEvent(on=D("2026-01-01"), transition="a", trigger={"kind": "evidence"})


def test_nothing_mutates_and_json_round_trips(notice):
    before = notice.model_dump_json()
    after = advance(PACK, notice, {"transition": "refer-board", "on": "2026-03-04", "attendees": ["chair", "manager", "member"]})
    assert notice.model_dump_json() == before and len(after.history) == len(notice.history) + 1
    assert after.history[:-1] == notice.history
    with pytest.raises(Exception):
        after.state = "closed"  # frozen
    assert Case.model_validate_json(after.model_dump_json()) == after


def test_due_report_dates(concern):
    report = due(PACK, concern, "2026-01-05")
    assert [(i.deadline.id, i.status, i.days) for i in report.items] == [("plan-agreed", "due", 0), ("review", "upcoming", 23)]
    assert report.available == () and report.next.deadline.id == "plan-agreed"
    late = due(PACK, concern, "2026-01-06")
    assert [i.status for i in late.overdue] == ["overdue"] and late.available == ("issue-notice",)
    assert late.items[0].on_miss_to == "notice" and "OVERDUE by 1 day(s)" in late.text()


EVENTS = json.loads((DATA / "example.events.json").read_text())


def test_simulate_replays_moves_misses_and_refusals():
    t = simulate(PACK, "1-101", EVENTS["events"], "2026-12-31", opened_on="2025-12-01")
    days = {d.on.isoformat(): d for d in t.days}
    assert days["2026-01-05"].refused[0].codes == ("CP505", "CP508")
    assert [m.deadline.id for m in days["2026-01-06"].missed] == ["plan-agreed"]
    assert days["2026-01-06"].missed[0].on_miss == "issue-notice"
    assert days["2026-03-04"].refused[0].codes == ("CP506",)
    assert [m.deadline.id for m in days["2026-09-12"].missed] == ["sustain"]
    assert t.case.state == "terminated" and t.state_on("2026-02-01") == "notice" and t.state_on("2025-11-01") is None
    assert t.report.items == () and "REFUSED trigger `role_decision: board`" in t.text()


def test_simulate_is_deterministic_and_round_trips():
    a = simulate(PACK, "1-101", EVENTS["events"], D("2026-12-31"))
    b = simulate(PACK, "1-101", list(reversed(EVENTS["events"])), D("2026-12-31"))
    assert a == b and a.model_dump_json() == b.model_dump_json()
    assert type(a).model_validate_json(a.model_dump_json()) == a


def test_simulate_until_cuts_off_and_early_events_are_refused():
    t = simulate(PACK, "1-101", EVENTS["events"], "2026-01-31", opened_on="2025-12-18")
    assert len(t.ignored) == 3 and t.case.state == "monitoring"
    assert t.days[0].on == D("2025-12-18") and t.days[0].refused[0].codes == ("CP507",)


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_timeline_command(tmp_path):
    pack, events = str(DATA / "example.yaml"), str(DATA / "example.events.json")
    code, out, _ = _cli("timeline", pack, events, "--until", "2026-12-31")
    assert code == 0 and "MISSED `plan-agreed`" in out and "terminated" in out.splitlines()[-2]
    code, out, _ = _cli("timeline", pack, events, "--until", "2026-12-31", "--format", "json")
    assert code == 0 and json.loads(out)["case"]["state"] == "terminated"
    assert _cli("timeline", pack, events, "--until", "31/12/2026")[0] == 2
    assert _cli("timeline", pack, str(tmp_path / "none.json"), "--until", "2026-12-31")[0] == 2
    bad = tmp_path / "bad.json"
    bad.write_text('[{"on": "2026-01-01"}]')
    code, _, err = _cli("timeline", pack, str(bad), "--until", "2026-12-31")
    assert code == 1 and "exactly one of `transition` or `trigger`" in err
    code, _, err = _cli("timeline", str(Path(__file__).parent / "data/ladders/CP304_trap.yaml"), events, "--until", "2026-12-31")
    assert code == 1 and "CP304" in err


# ----------------------------------------------------------------- deadlines from an evidence date, and `meets`
# The example ladder, with the progress review counted from the day the concern was raised
# (a date in the evidence) and a lateral "review held" move that meets it.
ANCHORED = PACK.model.model_dump(mode="json", by_alias=True, exclude_none=True)
ANCHORED["inputs"].append({"id": "concern_on", "path": "local.concern_raised_on", "type": "date", "source": "§4.2"})
_raise = next(t for t in ANCHORED["ladder"]["transitions"] if t["id"] == "raise-concern")
_raise["starts"][1]["from"] = "concern_on"
ANCHORED["ladder"]["transitions"] += [
    {"id": "review-held", "from": "concern", "to": "concern", "direction": "lateral",
     "trigger": {"kind": "review_outcome", "name": "held"}, "meets": ["review"], "source": "§4.2"},
    {"id": "review-held-again", "from": "concern", "to": "concern", "direction": "lateral",
     "trigger": {"kind": "review_outcome", "name": "held_again"}, "meets": ["review"],
     "starts": [{"id": "review", "text": "Progress review", "after": "6 weeks", "source": "§4.2"}], "source": "§4.2"},
]


def _anchored():
    return loads_pack(json.dumps(ANCHORED), "anchored.yaml")  # JSON is YAML


def test_deadline_runs_from_an_evidence_date():
    pack = _anchored()
    start = open_case(pack, "1-101", "2025-12-01")
    case = advance(pack, start, {"transition": "raise-concern", "on": "2025-12-17",
                                 "evidence": ev(risk_profile_score=25, concern_raised_on="2025-12-10")})
    plan, review = case.deadlines
    assert (plan.id, plan.started_on, plan.runs_from, plan.due) == ("plan-agreed", D("2025-12-17"), None, D("2026-01-05"))
    assert (review.id, review.started_on, review.runs_from, review.due) == ("review", D("2025-12-10"), "concern_on", D("2026-01-21"))
    assert "6 weeks from 2025-12-10 (`concern_on`)" in due(pack, case, "2026-01-02").text()
    assert Case.model_validate_json(case.model_dump_json()) == case


def test_deadline_from_a_missing_or_later_date_is_refused():
    pack = _anchored()
    start = open_case(pack, "1-101", "2025-12-01")
    with pytest.raises(TransitionError) as info:
        advance(pack, start, {"transition": "raise-concern", "on": "2025-12-17", "evidence": ev(risk_profile_score=25)})
    (d,) = info.value.diagnostics
    assert d.code == "CP504" and "runs from `concern_on`" in d.message and d.path == "ladder.transitions[0].starts[1].from"
    with pytest.raises(TransitionError) as info:
        advance(pack, start, {"transition": "raise-concern", "on": "2025-12-17", "override": "judged"})
    assert [d.code for d in info.value.diagnostics] == ["CP504"] and "none was given" in info.value.diagnostics[0].message
    with pytest.raises(TransitionError) as info:
        advance(pack, start, {"transition": "raise-concern", "on": "2025-12-17",
                              "evidence": ev(risk_profile_score=25, concern_raised_on="2025-12-18")})
    (d,) = info.value.diagnostics
    assert d.code == "CP509" and "2025-12-18, after the move on 2025-12-17" in d.message


def test_meets_closes_the_deadline_as_met_and_keeps_the_others():
    pack = _anchored()
    case = advance(pack, open_case(pack, "1-101", "2025-12-01"), {
        "transition": "raise-concern", "on": "2025-12-17",
        "evidence": ev(risk_profile_score=25, concern_raised_on="2025-12-17")})
    held = advance(pack, case, {"trigger": {"kind": "review_outcome", "name": "held"}, "on": "2026-01-28"})
    assert [(c.id, c.outcome) for c in held.history[-1].closed] == [("review", "met")]
    assert [d.id for d in held.deadlines] == ["plan-agreed"] and held.entered_on == case.entered_on
    with pytest.raises(TransitionError) as info:
        advance(pack, held, {"transition": "review-held", "on": "2026-02-02"})
    (d,) = info.value.diagnostics
    assert d.code == "CP508" and "no such deadline is running" in d.message and d.hint == "running: `plan-agreed`"
    late = advance(pack, case, {"transition": "review-held", "on": "2026-01-29"})
    assert [(c.id, c.outcome) for c in late.history[-1].closed] == [("review", "missed")]
    # met and started again: closed as met, not superseded (which a restart alone records)
    again = advance(pack, case, {"transition": "review-held-again", "on": "2026-01-20"})
    assert [(c.id, c.outcome) for c in again.history[-1].closed] == [("review", "met")]
    assert [(d.id, d.due) for d in again.deadlines] == [("plan-agreed", D("2026-01-05")), ("review", D("2026-03-03"))]


def test_simulate_reports_a_deadline_already_past_when_started_as_missed_the_next_day():
    pack = _anchored()
    events = [{"transition": "raise-concern", "on": "2025-12-17",
               "evidence": ev(risk_profile_score=25, concern_raised_on="2025-10-01")}]
    t = simulate(pack, "1-101", events, "2026-01-31", opened_on="2025-12-01")
    days = {d.on.isoformat(): d for d in t.days}
    assert [(m.deadline.id, m.deadline.due) for m in days["2025-12-18"].missed] == [("review", D("2025-11-12"))]
    assert [m.deadline.id for m in days["2026-01-06"].missed] == ["plan-agreed"]
    assert "started `review`: Progress review, due 2025-11-12 (6 weeks from 2025-10-01 (`concern_on`); §4.2)" in t.text()
