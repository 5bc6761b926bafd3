"""Issue 13's findings, each held by a test: mutants that survived, behaviours checked by one test only,
and an option that had to be shown to do what it says (`allow_overlaps`)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from datetime import date

import pytest

from carepolicy import PackLoadError, TransitionError, advance, load_pack, loads_pack, open_case

HEAD = """\
carepolicy: 2
pack:
  id: findings
  authority: {{id: test, name: Test Council}}
  title: Findings
  version: "1.0.0"
  effective_from: "2024-01-01"
  source_document: {{title: Test document}}
  headline: result
calendar: {calendar}
scales:
  - id: rag
    values:
      - {{id: green, label: Green, severity: 0}}
      - {{id: amber, label: Amber, severity: 2}}
      - {{id: red, label: Red, severity: 3}}
inputs:
  - {{id: score, path: local.score, type: integer, min: 0, max: 100}}
  - {{id: ratio, path: local.ratio, type: number, min: 0, max: 100}}
  - {{id: seen, path: local.seen_on, type: date}}
  - {{id: events, path: events, type: events, worse: more}}
roles:
  - {{id: chair, title: Chair}}
  - {{id: member, title: Member}}
"""


def pack(body: str, calendar: str = "{region: ENG}"):
    return loads_pack(HEAD.format(calendar=calendar) + textwrap.dedent(body), "findings.yaml")


def ev(**local):
    return {"provider": {"id": "p1", "name": "Acme", "service_type": "nursing"}, "local": {"test": local}}


def bands(*rows: str, extra: str = "") -> str:
    return ("decisions:\n  - id: result\n    kind: bands\n    input: score\n    scale: rag\n    source: \"§1\"\n"
            + extra + "    bands:\n" + "".join(f"      - {r}\n" for r in rows))


# ----------------------------------------------------------------- CP208: a gap of one number


def test_a_gap_of_one_whole_number_is_refused_and_named_as_one_number():
    with pytest.raises(PackLoadError) as info:
        pack(bands('{id: low, value: green, max: 27, source: "§1"}', '{id: high, value: red, min: 29, source: "§1"}'))
    [d] = info.value.diagnostics
    assert d.code == "CP208" and d.path == "decisions[0].bands[1].min"
    assert d.message == "decision `result`: gap between bands `low` and `high`: 28 falls in no band"
    assert d.hint == "start `high` at 28, or set `allow_gaps: true`"


def test_adjacent_whole_number_bands_leave_no_gap():
    p = pack(bands('{id: low, value: green, max: 27, source: "§1"}', '{id: high, value: red, min: 28, source: "§1"}'))
    assert [p.evaluate(ev(score=s), "2026-01-05").headline.value for s in (27, 28)] == ["green", "red"]


def test_a_gap_of_two_numbers_is_named_as_a_range():
    with pytest.raises(PackLoadError) as info:
        pack(bands('{id: low, value: green, max: 27, source: "§1"}', '{id: high, value: red, min: 30, source: "§1"}'))
    assert "28 to 29 fall in no band" in info.value.diagnostics[0].message


# ----------------------------------------------------------------- allow_overlaps: the first band listed wins


OVERLAP = ('{id: low, value: green, max: 20, source: "§1"}', '{id: high, value: red, min: 10, source: "§1"}')


def test_overlapping_bands_are_refused_unless_allowed():
    with pytest.raises(PackLoadError) as info:
        pack(bands(*OVERLAP))
    [d] = info.value.diagnostics
    assert d.code == "CP209" and "10 to 20 fall in both" in d.message and "(the first band wins)" in d.hint


@pytest.mark.parametrize(("score", "band"), [(9, "low"), (10, "low"), (15, "low"), (20, "low"), (21, "high")])
def test_with_allow_overlaps_the_first_band_listed_wins_at_every_edge(score, band):
    p = pack(bands(*OVERLAP, extra="    allow_overlaps: true\n"))
    assert p.evaluate(ev(score=score), "2026-01-05").headline.rules == [band]


def test_allow_overlaps_is_what_lets_the_first_band_win_not_an_order_of_values():
    # the worse value listed second never wins in the overlap, even though it is worse
    p = pack(bands('{id: wide, value: green, min: 0, max: 50, source: "§1"}',
                   '{id: inner, value: red, min: 10, max: 60, source: "§1"}', extra="    allow_overlaps: true\n"))
    got = {s: p.evaluate(ev(score=s), "2026-01-05").headline.value for s in (10, 50, 51, 60)}
    assert got == {10: "green", 50: "green", 51: "red", 60: "red"}


def test_with_allow_overlaps_a_band_listed_earlier_closes_what_looks_like_a_gap():
    rows = ('{id: wide, value: green, min: 0, max: 50, source: "§1"}', '{id: inner, value: amber, min: 10, max: 20, source: "§1"}',
            '{id: top, value: red, min: 30, source: "§1"}')
    p = pack(bands(*rows, extra="    allow_overlaps: true\n"))  # 21 to 29 are in `wide`: no gap
    assert {s: p.evaluate(ev(score=s), "2026-01-05").headline.rules[0] for s in (15, 25, 29, 30, 51)} == {
        15: "wide", 25: "wide", 29: "wide", 30: "wide", 51: "top"}
    short = (rows[0].replace("max: 50", "max: 25"), rows[1], rows[2])
    with pytest.raises(PackLoadError) as info:  # a real gap stays one: 26 to 29
        pack(bands(*short, extra="    allow_overlaps: true\n"))
    assert [d.code for d in info.value.diagnostics] == ["CP208"]


def test_decimal_bands_ending_below_a_number_leave_a_gap_unless_an_earlier_band_covers_it():
    def decimal(*rows: str, extra: str = "") -> str:
        return bands(*rows, extra=extra).replace("input: score", "input: ratio")

    with pytest.raises(PackLoadError) as info:
        pack(decimal('{id: low, value: green, below: 10.5, source: "§1"}', '{id: high, value: red, min: 12, source: "§1"}'))
    [d] = info.value.diagnostics
    assert (d.code, d.message) == ("CP208", "decision `result`: gap between bands `low` and `high`: 10.5 up to 12 fall in no band")
    covered = pack(decimal('{id: wide, value: green, min: 0, below: 50, source: "§1"}',
                           '{id: inner, value: amber, min: 5, below: 10.5, source: "§1"}',
                           '{id: high, value: red, min: 12, source: "§1"}', extra="    allow_overlaps: true\n"))
    assert covered.evaluate(ev(ratio=11.0), "2026-01-05").headline.rules == ["wide"]


# ----------------------------------------------------------------- CP305: direction against equal ranks


LADDER = """\
decisions:
  - {{id: result, kind: bands, input: score, scale: rag, source: "§1", bands: [{{id: any, value: green, source: "§1"}}]}}
ladder:
  states:
    - {{id: a, label: A, kind: monitoring, rank: 0, entry: true, source: "§2"}}
    - {{id: b, label: B, kind: improvement, rank: 1, source: "§2"}}
    - {{id: c, label: C, kind: improvement, rank: 1, source: "§2"}}
    - {{id: end, label: End, kind: exit, rank: 0, source: "§2"}}
  transitions:
    - {{id: up, from: a, to: b, direction: escalate, trigger: {{kind: evidence}}, source: "§2"}}
    - {{id: across, from: b, to: c, direction: {direction}, trigger: {{kind: evidence}}, source: "§2"}}
    - {{id: close, from: c, to: end, direction: de-escalate, trigger: {{kind: evidence}}, source: "§2"}}
"""


@pytest.mark.parametrize("direction", ["escalate", "de-escalate"])
def test_a_move_between_equal_ranks_must_be_lateral(direction):
    with pytest.raises(PackLoadError) as info:
        pack(LADDER.format(direction=direction))
    [d] = [x for x in info.value.diagnostics if x.code == "CP305"]
    assert d.message == (f"transition `across` is `{direction}` but goes from `b` (rank 1) to `c` (rank 1); "
                         f"{'an escalation must raise' if direction == 'escalate' else 'a de-escalation must lower'} the rank")
    assert d.hint == "make it `direction: lateral`, or fix the ranks"
    assert pack(LADDER.format(direction="lateral")).model.ladder is not None


# ----------------------------------------------------------------- council closures, everywhere working days are counted

CLOSED = '{region: ENG, closures: ["2026-03-09", "2026-03-10"]}'  # a Monday and a Tuesday, no bank holiday near


def test_closures_move_an_outcome_due_in_working_days_and_shrink_a_window():
    body = bands('{id: any, value: green, source: "§1"}') + """
outcomes:
  - {id: meet, kind: action, when: {input: score, known: true}, text: Meet, due: {after: 3 working days}, source: "§3"}
  - {id: recent, kind: review, when: {input: seen, within: 3 working days}, text: Recent, source: "§3"}
"""
    open_, closed = pack(body), pack(body, CLOSED)
    # from Fri 6 March: Mon 9 (1), Tue 10 (2), Wed 11 (3); closed Mon and Tue: Wed 11 (1), Thu 12 (2), Fri 13 (3)
    due = {p: next(a.due for a in p.evaluate(ev(score=1), "2026-03-06").actions if a.id == "meet") for p in (open_, closed)}
    assert (due[open_], due[closed]) == (date(2026, 3, 11), date(2026, 3, 13))
    # as of Wed 11 March the window holds 3 working days: Mon 9, Tue 10, Wed 11 (it starts after Fri 6); with
    # Monday and Tuesday closed they are Thu 5, Fri 6, Wed 11 (it starts after Wed 4)
    for p, last_outside, first_inside in ((open_, "2026-03-06", "2026-03-07"), (closed, "2026-03-04", "2026-03-05")):
        inside = [a.id for a in p.evaluate(ev(score=1, seen_on=first_inside), "2026-03-11").actions]
        outside = [a.id for a in p.evaluate(ev(score=1, seen_on=last_outside), "2026-03-11").actions]
        assert ("recent" in inside, "recent" in outside) == (True, False), (p.calendar, first_inside)


def test_closures_move_a_ladder_deadline():
    body = bands('{id: any, value: green, source: "§1"}') + """
ladder:
  states:
    - {id: a, label: A, kind: monitoring, rank: 0, entry: true, source: "§2"}
    - {id: b, label: B, kind: improvement, rank: 1, source: "§2"}
    - {id: end, label: End, kind: exit, rank: 0, source: "§2"}
  transitions:
    - id: up
      from: a
      to: b
      direction: escalate
      trigger: {kind: evidence}
      starts: [{id: plan, text: Plan agreed, after: 2 working days, source: "§2"}]
      source: "§2"
    - {id: close, from: b, to: end, direction: de-escalate, trigger: {kind: evidence}, source: "§2"}
"""
    for calendar, due in (("{region: ENG}", date(2026, 3, 10)), (CLOSED, date(2026, 3, 12))):
        p = pack(body, calendar)
        case = advance(p, open_case(p, "p1", "2026-03-06"), {"transition": "up", "on": "2026-03-06"})
        assert case.deadlines[0].due == due, calendar


# ----------------------------------------------------------------- count_from: same_day


@pytest.mark.parametrize(("as_of", "next_day", "same_day"), [
    ("2026-03-11", date(2026, 3, 16), date(2026, 3, 13)),   # a Wednesday counts as day 1 under same_day
    ("2026-03-14", date(2026, 3, 18), date(2026, 3, 18)),   # a Saturday is no working day either way
    ("2026-04-03", date(2026, 4, 9), date(2026, 4, 9)),     # nor is Good Friday
])
def test_count_from_same_day_counts_a_working_as_of_day(as_of, next_day, same_day):
    body = bands('{id: any, value: green, source: "§1"}') + """
outcomes:
  - {id: meet, kind: action, when: {input: score, known: true}, text: Meet, due: {after: 3 working days}, source: "§3"}
"""
    got = [next(a.due for a in pack(body, cal).evaluate(ev(score=1), as_of).actions)
           for cal in ("{region: ENG}", "{region: ENG, count_from: same_day}")]
    assert got == [next_day, same_day]


def test_count_from_same_day_in_a_look_back_window():
    body = bands('{id: any, value: green, source: "§1"}') + """
outcomes:
  - {id: recent, kind: review, when: {input: seen, within: 2 working days}, text: Recent, source: "§3"}
"""
    same = pack(body, "{region: ENG, count_from: same_day}")
    usual = pack(body)
    # as of Wed 11 March: usually Mon 9 is out and Tue 10 in (limit Mon 9); counting Wednesday as day 1
    # the limit is Tue 10, so Tue 10 is out and only Wednesday itself is in
    def has(p, seen):
        return any(a.id == "recent" for a in p.evaluate(ev(score=1, seen_on=seen), "2026-03-11").actions)
    assert [has(usual, d) for d in ("2026-03-09", "2026-03-10", "2026-03-11")] == [False, True, True]
    assert [has(same, d) for d in ("2026-03-09", "2026-03-10", "2026-03-11")] == [False, False, True]


# ----------------------------------------------------------------- a quorum counts people, not roles


QUORUM = bands('{id: any, value: green, source: "§1"}') + """
ladder:
  states:
    - {id: a, label: A, kind: monitoring, rank: 0, entry: true, source: "§2"}
    - {id: end, label: End, kind: exit, rank: 1, source: "§2"}
  transitions:
    - id: decide
      from: a
      to: end
      direction: escalate
      trigger: {kind: role_decision}
      approvals: [{quorum: {at_least: 3, including: [chair]}}]
      source: "§2"
"""


@pytest.mark.parametrize(("attendees", "code"), [
    (["chair", "member"], "CP506"),                      # one member short
    (["member", "member", "member"], "CP506"),           # enough people, but not the chair
    (["chair", "member", "member"], None),               # three people: two of them members
    (["chair", "chair", "member", "member"], None),
])
def test_a_quorum_counts_each_person_present(attendees, code):
    p = pack(QUORUM)
    event = {"transition": "decide", "on": "2026-03-06", "attendees": attendees}
    if code is None:
        assert advance(p, open_case(p, "p1", "2026-03-06"), event).state == "end"
        return
    with pytest.raises(TransitionError) as info:
        advance(p, open_case(p, "p1", "2026-03-06"), event)
    [d] = info.value.diagnostics
    assert d.code == code and f"{len(attendees)} present, 3 needed" in d.message
    assert ("`chair` must be present and is not" in d.message) is ("chair" not in attendees)


# ----------------------------------------------------------------- found by the reference evaluator

EDGES = Path(__file__).parent / "reference" / "packs" / "edges.yaml"


def test_a_surely_matching_event_of_an_unknown_group_makes_a_group_of_one():
    p = load_pack(EDGES)
    alone = {"provider": {"id": "p1", "name": "Acme", "service_type": "nursing"}, "events": [
        {"kind": "complaint", "date": "2026-03-01"}]}  # no staff member recorded: still someone's
    d = p.evaluate(alone, "2026-03-11").decision("result")
    assert (d.status, d.value, d.rules) == ("decided", "red", ["same-staff"])
    maybe = {**alone, "events": [{"kind": "medication_error", "date": "2026-03-01"}]}  # harm not known: may not match
    assert p.evaluate(maybe, "2026-03-11").decision("result").status == "insufficient_evidence"


def test_a_value_already_collected_settles_any_test_on_an_open_collect_decision():
    p = load_pack(EDGES)
    evidence = {"provider": {"id": "p1", "name": "Acme", "service_type": "nursing"}, "cqc": {"overall": "inadequate"},
                "events": []}  # standards not known, so `visit-low` cannot be checked; `survey-rated` holds
    d = p.evaluate(evidence, "2026-03-11")
    acts, worst = d.decision("acts"), d.decision("worst_view")
    assert (acts.status, acts.value) == ("insufficient_evidence", ["survey"])
    # `{decision: acts, is_not: visit}` holds: `survey` is collected whatever the standards say
    assert (worst.status, worst.value, worst.rules) == ("decided", "red", ["w-red"])
