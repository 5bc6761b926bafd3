"""Strategies and edges for escalation ladders and deadlines, derived from a pack (see :mod:`carepolicy.testing`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import holidays
from dateutil.relativedelta import relativedelta
from hypothesis import strategies as st

from ._time import Duration, add
from .engine import PolicyPack
from .errors import TransitionError

# Anchors that exercise the calendar's edges: month ends (31st, leap February) and the days
# before England's Christmas, New Year, Easter and May bank holidays.
DEADLINE_ANCHORS = (
    date(2025, 12, 19), date(2025, 12, 24), date(2025, 12, 31), date(2026, 1, 31), date(2026, 4, 2),
    date(2026, 5, 1), date(2026, 8, 31), date(2027, 12, 24), date(2028, 1, 31), date(2028, 2, 29),
)


# Anchors for deadlines tied to the calendar: the year's turn, and months of 28, 29, 30 and 31 days.
CALENDAR_ANCHORS = (
    date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 30), date(2028, 1, 15), date(2026, 11, 30), date(2027, 2, 28),
)


def case_events(pack: PolicyPack, *, max_steps: int = 8) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Sequences of case events for ``pack``'s ladder, dated forward, with evidence from
    :func:`carepolicy.testing.evidence` and random approvals and attendees (sometimes enough,
    sometimes not), so both moves and refusals are exercised. An event names a transition,
    a trigger, or ``pick: k``: the k-th move out of whatever state the case is in when it is
    replayed (see :func:`resolve`)."""
    from .testing import evidence

    ladder = pack.model.ladder
    assert ladder is not None, f"pack `{pack.id}` has no ladder"
    transitions = [t.id for t in ladder.transitions]
    triggers = sorted({(t.trigger.kind, t.trigger.name) for t in ladder.transitions}, key=str)
    roles = sorted({r.id for r in pack.model.roles})

    @st.composite
    def one(draw: Any, day: date) -> dict[str, Any]:
        data, _ = draw(evidence(pack, gaps=True, as_of=day))
        event: dict[str, Any] = {"on": day.isoformat(), "evidence": data}
        choice = draw(st.integers(0, 9))
        if choice < 6:
            # most events ask for a move that leaves the current state: `pick` is resolved when replayed
            event["pick"] = draw(st.integers(0, 50))
        elif choice < 8 or not triggers:
            event["transition"] = draw(st.sampled_from(transitions))
        else:
            kind, name = draw(st.sampled_from(triggers))
            event["trigger"] = {"kind": kind, **({"name": name} if name else {})}
        if roles:
            given = draw(st.lists(st.sampled_from(roles), unique=True, max_size=len(roles)))
            if draw(st.booleans()):
                given = roles  # every role agrees: let the guard decide
            event["approvals"] = [{"role": r, "by": f"officer-{i}"} for i, r in enumerate(given)]
            event["attendees"] = draw(st.lists(st.sampled_from(roles), max_size=6))
        if draw(st.integers(0, 5)) == 0:
            event["override"] = "professional judgement recorded in testing"
        return event

    @st.composite
    def sequence(draw: Any) -> list[dict[str, Any]]:
        meta = pack.model.pack
        start = max(date(2024, 1, 1), meta.effective_from)
        day = draw(st.dates(start, start + timedelta(days=365)))
        out = []
        for _ in range(draw(st.integers(1, max_steps))):
            day = day + timedelta(days=draw(st.sampled_from([0, 1, 7, 29, 43, 85, 92, 184, 200])))
            out.append(draw(one(day)))
        return out

    return sequence()


def resolve(pack: PolicyPack, state: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event with ``pick: k`` replaced by the k-th transition leaving ``state`` (in pack order)."""
    if "pick" not in event:
        return event
    ladder = pack.model.ladder
    assert ladder is not None
    out = {k: v for k, v in event.items() if k != "pick"}
    leaving = [t.id for t in ladder.transitions if t.from_ == state]
    out["transition"] = leaving[event["pick"] % len(leaving)] if leaving else ladder.transitions[0].id
    return out


def ladder_violations(pack: PolicyPack, events: list[dict[str, Any]], provider_id: str = "test-provider") -> list[str]:
    """Replay ``events``; every way the case ends up where the graph forbids or its history is inconsistent."""
    from .lifecycle import Case, advance, open_case

    ladder = pack.model.ladder
    assert ladder is not None
    states = {s.id: s for s in ladder.states}
    edges = {t.id: (t.from_, t.to) for t in ladder.transitions}
    out: list[str] = []
    opened = events[0]["on"] if events else "2026-01-05"
    case = open_case(pack, provider_id, opened)
    for i, event in enumerate(events):
        event = resolve(pack, case.state, event)
        event = {**event, "evidence": {**event["evidence"], "provider": {**event["evidence"]["provider"], "id": provider_id}}}
        before = case
        try:
            case = advance(pack, case, event)
        except TransitionError as exc:
            if not exc.diagnostics:
                out.append(f"step {i}: a refusal must say why")
            if case != before:
                out.append(f"step {i}: a refused move changed the case")
            continue
        entry = case.history[-1]
        if entry.transition not in edges:
            out.append(f"step {i}: moved by `{entry.transition}`, which the ladder does not declare")
        elif edges[entry.transition] != (before.state, case.state):
            out.append(f"step {i}: `{entry.transition}` went {before.state} -> {case.state}, "
                       f"the graph says {edges[entry.transition]}")
        if case.state not in states:
            out.append(f"step {i}: reached undeclared state `{case.state}`")
        if states[before.state].kind == "exit" and states.get(case.state) and \
                states[case.state].rank > states[before.state].rank:
            out.append(f"step {i}: escalated out of exit state `{before.state}`")
        if [h.seq for h in case.history] != list(range(len(case.history))):
            out.append(f"step {i}: history is not numbered in order")
        if any(a.on > b.on for a, b in zip(case.history, case.history[1:])):
            out.append(f"step {i}: history goes back in time")
        if case.history[: len(before.history)] != before.history:
            out.append(f"step {i}: history was rewritten, not appended to")
        if any(d.state != case.state for d in case.deadlines):
            out.append(f"step {i}: a deadline of another state is still running")
        if Case.model_validate_json(case.model_dump_json()) != case:
            out.append(f"step {i}: the case does not round-trip through JSON")
    return out


@dataclass(frozen=True)
class DeadlineEdge:
    """A deadline of the pack counted from an anchor date, with the date a plain calendar gives.

    ``duration`` for `after`/`before`/ladder deadlines; ``due`` for a deadline tied to the
    calendar (a day of the month, a window of months), whose window start, if any, is
    ``expected_from``.
    """

    where: str
    duration: Duration | None
    anchor: date
    expected: date
    due: Any = None
    expected_from: date | None = None

    def check(self, pack: PolicyPack) -> str | None:
        if self.due is not None:
            from ._compile import due_date

            start, got = due_date(self.anchor, None, self.due, pack.calendar)
            if (start, got) != (self.expected_from, self.expected):
                return (f"{self.where}: {self.due.describe(self.anchor.isoformat())} is {start} to {got}, "
                        f"expected {self.expected_from} to {self.expected}")
            return None
        assert self.duration is not None
        got = add(self.anchor, self.duration, pack.calendar)
        if got != self.expected:
            return f"{self.where}: {self.duration} after {self.anchor} is {got}, expected {self.expected}"
        return None


def _pack_durations(pack: PolicyPack) -> Iterator[tuple[str, Duration]]:
    for o in pack.model.outcomes:
        if o.due is not None and (o.due.after or o.due.before) is not None:
            yield f"outcome `{o.id}`", (o.due.after or o.due.before)  # type: ignore[misc]
    if pack.model.ladder is not None:
        for t in pack.model.ladder.transitions:
            for d in t.starts:
                yield f"deadline `{d.id}` of `{t.id}`", d.after


_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december")


def _calendar_reference(anchor: date, due: Any) -> tuple[date | None, date]:
    """A second reading of a calendar deadline, with relativedelta's own clamping to the month end."""
    if due.day is not None:
        return None, anchor + relativedelta(months=1 if due.month == "next" else 0, day=due.day)
    first, last = _MONTHS.index(due.months[0]) + 1, _MONTHS.index(due.months[-1]) + 1
    start = date(anchor.year, 1, 1) + relativedelta(years=1 if due.year == "next" else 0, month=first)
    end = start + relativedelta(years=1 if last < first else 0, month=last, day=31)
    return start, end


def _reference(anchor: date, duration: Duration, region: str, closures: set[date]) -> date:
    """A second, independent reading of a duration: relativedelta and the holidays calendar directly."""
    return calendar_shift(anchor, duration, region, closures)


def calendar_shift(anchor: date, duration: Duration, region: str = "ENG", closures: Iterable[date] = (),
                   count_from: str = "next_working_day", sign: int = 1) -> date:
    """``anchor`` moved ``duration`` forward (``sign=-1``: back), read independently of the engine's
    calendar code: relativedelta for months and years, the holidays package for working days."""
    unit, n = duration.unit, duration.amount
    if unit == "days":
        return anchor + timedelta(days=sign * n)
    if unit == "weeks":
        return anchor + timedelta(weeks=sign * n)
    if unit == "months":
        return anchor + relativedelta(months=sign * n)
    if unit == "years":
        return anchor + relativedelta(years=sign * n)
    span = 2 + n // 200
    off = holidays.country_holidays("GB", subdiv=region, years=range(anchor.year - span, anchor.year + span + 1))
    shut = set(closures)

    def working(day: date) -> bool:
        return day.weekday() < 5 and day not in off and day not in shut

    day = anchor
    if n and count_from == "same_day" and working(day):
        n -= 1
    while n:
        day += timedelta(days=sign)
        if working(day):
            n -= 1
    return day


def window_first_day(as_of: date, duration: Duration, spec: Any) -> date:
    """The first day inside a look-back window ending on ``as_of``, read independently of the engine."""
    return calendar_shift(as_of, duration, spec.region, spec.closures, spec.count_from, -1) + timedelta(days=1)


def deadline_edges(pack: PolicyPack, anchors: tuple[date, ...] = DEADLINE_ANCHORS) -> list[DeadlineEdge]:
    """Every deadline of the pack from month ends, the year's turn and the days before bank holidays."""
    cal = pack.model.calendar
    closures = set(cal.closures)
    seen: set[tuple[Duration, date]] = set()
    out = []
    for where, dur in _pack_durations(pack):
        if cal.count_from != "next_working_day" and dur.unit == "working_days":
            continue  # the reference reads the default convention only
        for anchor in anchors:
            if (dur, anchor) in seen:
                continue
            seen.add((dur, anchor))
            out.append(DeadlineEdge(where, dur, anchor, _reference(anchor, dur, cal.region, closures)))
    for o in pack.model.outcomes:
        if o.due is None or (o.due.day is None and o.due.months is None):
            continue
        for anchor in (*anchors, *CALENDAR_ANCHORS):
            start, end = _calendar_reference(anchor, o.due)
            out.append(DeadlineEdge(f"outcome `{o.id}`", None, anchor, end, o.due, start))
    return out


def due_status_edges(pack: PolicyPack) -> list[str]:
    """For each ladder deadline: upcoming the day before it is due, due on the day, overdue the day after."""
    from .lifecycle import Case, HistoryEntry, OpenDeadline, due

    ladder = pack.model.ladder
    if ladder is None:
        return []
    problems = []
    for t in ladder.transitions:
        for d in t.starts:
            start = date(2026, 1, 31)
            when = add(start, d.after, pack.calendar)
            opened = HistoryEntry(seq=0, on=start, kind="opened", to_state=t.to, pack_version=pack.version,
                                  pack_sha256=pack.sha256)
            deadline = OpenDeadline(id=d.id, text=d.text, due=when, started_on=start, after=str(d.after),
                                    state=t.to, set_by=t.id, on_miss=d.on_miss, source=d.source)
            case = Case(pack_id=pack.id, pack_version=pack.version, pack_sha256=pack.sha256, provider_id="p",
                        state=t.to, entered_on=start, deadlines=(deadline,), history=(opened,))
            for offset, want in ((-1, "upcoming"), (0, "due"), (1, "overdue")):
                item = due(pack, case, when + timedelta(days=offset)).items[0]
                if item.status != want:
                    problems.append(f"`{d.id}` of `{t.id}` due {when}: on {when + timedelta(days=offset)} "
                                    f"it is {item.status}, expected {want}")
                if want == "overdue" and d.on_miss and not item.available:
                    problems.append(f"`{d.id}` overdue on {when + timedelta(days=1)} but `{d.on_miss}` is not available")
    return problems
