"""Escalation cases: one provider's journey through a pack's ladder, as pure values.

A :class:`Case` is frozen and carries its whole append-only history, so it can be
stored as JSON and replayed. :func:`advance` never mutates: it returns a new case or
raises :class:`~carepolicy.TransitionError` whose diagnostics say exactly what blocked
the move. Nothing reads a clock; every date comes from the caller.

Diagnostic codes: CP501 no such move from this state, CP502 ambiguous trigger,
CP503 guard false, CP504 guard unknown or a deadline's start date missing (evidence
missing), CP505 approval missing, CP506 quorum not met, CP507 event dated before the
last move, CP508 deadline not running or not missed (yet), CP509 invalid event,
CP510 case of another pack.

Deadlines: a move starts the deadlines in its ``starts``, each counted from the day of
the move or, with ``from: <date input>``, from that date in the move's evidence. A move
to another state closes every running deadline (met, or missed if past due). A move back
into the same state keeps them running, except those it restarts (closed as
superseded), names in ``meets`` (closed as met, or missed if past due) or consumes as its
missed-deadline trigger.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ._check import walk_conditions
from ._compile import Ctx
from ._suggest import did_you_mean
from ._time import add, parse_date
from .engine import PolicyPack, path_text
from .errors import Diagnostic, EvaluationError, EvidenceError, TransitionError
from .evidence import Evidence
from .models import AllOf, AnyOf, BandsDecision, CountEvents, Ladder, NotOf, Test, Transition

__all__ = [
    "Case", "CaseEvent", "TriggerRef", "ApprovalGiven", "OpenDeadline", "ClosedDeadline", "RecordedWarning",
    "HistoryEntry", "DueItem", "DueReport", "Timeline", "TimelineDay", "Refusal", "Missed",
    "open_case", "advance", "due", "simulate", "describe",
]

TriggerKind = Literal["review_outcome", "evidence", "deadline", "role_decision", "event"]
_GuardPass = Literal["none", "true", "overridden"]  # how a move's guard was passed (`HistoryEntry.guard`)


def _day(value: Any) -> Any:
    """A date as the engine reads one: ``YYYY-MM-DD`` text or a ``date`` (never a datetime, a number or a week date)."""
    if isinstance(value, str):
        return parse_date(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError(f"`{value}` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`")


Day = Annotated[date, BeforeValidator(_day)]
"""A date given to a case (a move's `on`): parsed like every date carepolicy reads (``_time.parse_date``)."""


def _as_day(value: date | str, what: str) -> date:
    try:
        return _day(value)
    except ValueError as exc:
        raise TransitionError(f"{what}: {exc}", [Diagnostic(code="CP509", message=f"{what}: {exc}", path=what,
                                                            hint="write it as YYYY-MM-DD, e.g. `2026-01-05`")]) from None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TriggerRef(_Frozen):
    """What happened, when the caller lets the ladder pick the transition: ``{kind: review_outcome, name: improved}``."""

    kind: TriggerKind
    name: str | None = None


class ApprovalGiven(_Frozen):
    role: str = Field(description="a role id of the pack")
    by: str = Field(description="who approved, e.g. a name or staff id")


class CaseEvent(_Frozen):
    """A move someone asks for: a transition id, or a trigger the ladder resolves from the current state."""

    transition: str | None = None
    trigger: TriggerRef | None = None
    on: Day
    evidence: Evidence | None = Field(default=None, description="evidence as of `on`, for guards and warnings")
    approvals: tuple[ApprovalGiven, ...] = ()
    attendees: tuple[str, ...] = Field(default=(), description="role ids of the members present, one per person (quorum)")
    note: str | None = None
    override: str | None = Field(default=None, description="professional-judgement reason to proceed although the guard fails")

    @model_validator(mode="after")
    def _names_a_move(self) -> CaseEvent:
        if (self.transition is None) == (self.trigger is None):
            raise ValueError("a case event names exactly one of `transition` or `trigger`")
        return self


class OpenDeadline(_Frozen):
    """A deadline running in a state, with the transition and clause that set it."""

    id: str
    text: str
    due: date = Field(description="the last day on which the expected move is on time")
    started_on: date = Field(description="the day the clock runs from: the move, or the `runs_from` date in its evidence")
    after: str
    runs_from: str | None = Field(default=None, description="the date input the clock runs from (none: the day of the move)")
    state: str
    set_by: str = Field(description="the transition that started it")
    roles: tuple[str, ...] = ()
    on_miss: str | None = None
    source: str


class ClosedDeadline(_Frozen):
    id: str
    due: date
    set_by: str
    outcome: Literal["met", "missed", "superseded"]


class RecordedWarning(_Frozen):
    """A transition warning that held (``certain``) or could not be checked (``missing`` names why)."""

    message: str
    source: str
    certain: bool = True
    missing: tuple[str, ...] = ()


class HistoryEntry(_Frozen):
    seq: int
    on: date
    kind: Literal["opened", "moved"]
    to_state: str
    from_state: str | None = None
    transition: str | None = None
    direction: str | None = None
    trigger: TriggerRef | None = None
    guard: Literal["none", "true", "overridden"] = "none"
    override: str | None = None
    approvals: tuple[ApprovalGiven, ...] = ()
    attendees: tuple[str, ...] = ()
    warnings: tuple[RecordedWarning, ...] = ()
    started: tuple[OpenDeadline, ...] = ()
    closed: tuple[ClosedDeadline, ...] = ()
    evidence_sha256: str | None = None
    note: str | None = None
    source: str | None = None
    pack_version: str
    pack_sha256: str


class Case(_Frozen):
    """One provider on one pack's ladder: where it stands, what is running, and everything that happened."""

    pack_id: str
    pack_version: str
    pack_sha256: str
    provider_id: str
    state: str
    entered_on: date
    deadlines: tuple[OpenDeadline, ...] = ()
    history: tuple[HistoryEntry, ...]


class DueItem(_Frozen):
    deadline: OpenDeadline
    status: Literal["overdue", "due", "upcoming"]
    days: int = Field(description="days from the as-of date to the due date (negative when overdue)")
    on_miss: str | None = None
    on_miss_to: str | None = None
    available: bool = Field(default=False, description="the deadline is missed, so its `on_miss` transition may be taken")


class DueReport(_Frozen):
    provider_id: str
    state: str
    as_of: date
    items: tuple[DueItem, ...] = ()
    available: tuple[str, ...] = Field(default=(), description="transitions open because a deadline was missed")

    @property
    def overdue(self) -> list[DueItem]:
        return [i for i in self.items if i.status == "overdue"]

    @property
    def due_today(self) -> list[DueItem]:
        return [i for i in self.items if i.status == "due"]

    @property
    def next(self) -> DueItem | None:
        return next((i for i in self.items if i.status != "overdue"), None)

    def text(self) -> str:
        lines = [f"{self.provider_id} at `{self.state}` as of {self.as_of.isoformat()}"]
        for i in self.items:
            d = i.deadline
            when = {"overdue": f"OVERDUE by {-i.days} day(s)", "due": "due today", "upcoming": f"due in {i.days} day(s)"}[i.status]
            anchor = f" (`{d.runs_from}`)" if d.runs_from else ""
            line = f"  {d.due.isoformat()}  {d.id}: {d.text} ({when}; {d.after} from {d.started_on.isoformat()}{anchor}, {d.source})"
            if i.on_miss:
                line += f"; if missed: `{i.on_miss}` -> `{i.on_miss_to}`" + (" (available now)" if i.available else "")
            lines.append(line)
        if not self.items:
            lines.append("  no deadlines running")
        return "\n".join(lines)


# ----------------------------------------------------------------- public functions


def open_case(pack: PolicyPack, provider_id: str, on: date | str) -> Case:
    """A new case for ``provider_id`` at the ladder's entry state on ``on``."""
    ladder = _ladder(pack)
    day = _as_day(on, "on")
    entry = next(s for s in ladder.states if s.entry)
    opened = HistoryEntry(seq=0, on=day, kind="opened", to_state=entry.id, source=entry.source,
                          pack_version=pack.version, pack_sha256=pack.sha256)
    return Case(pack_id=pack.id, pack_version=pack.version, pack_sha256=pack.sha256, provider_id=provider_id,
                state=entry.id, entered_on=day, history=(opened,))


def advance(pack: PolicyPack, case: Case, event: CaseEvent | Mapping[str, Any]) -> Case:
    """The case after ``event``; raises :class:`TransitionError` naming every reason the move is refused.

    Warnings never block: they are recorded in the new history entry.
    """
    ev = _event(event)
    ladder = _ladder(pack)
    head = f"cannot move the case of provider `{case.provider_id}` at `{case.state}` on {ev.on.isoformat()}"
    problems = _check_event(pack, case, ev)
    if problems:
        raise TransitionError(head, problems)
    candidates = _candidates(pack, ladder, case, ev, head)
    gate = _Gate(pack, ev)
    results = [(t, *_blockers(pack, case, ev, t, gate)) for t in candidates]
    ok = [r for r in results if not r[1]]
    if len(ok) > 1:
        names = ", ".join(f"`{t.id}`" for t, *_ in ok)
        raise TransitionError(head, [_diag(pack, "CP502", f"trigger `{_trigger_text(ev)}` allows several moves from "
                                           f"`{case.state}`: {names}", hint="name the transition with `transition:`")])
    if not ok:
        raise TransitionError(head, [d for _, blockers, _ in results for d in blockers])
    t, _, guard = ok[0]
    return _apply(pack, case, ev, t, guard, gate)


def due(pack: PolicyPack, case: Case, as_of: date | str) -> DueReport:
    """Running deadlines as of a date: overdue, due that day, upcoming, and the ``on_miss`` moves now open."""
    ladder = _ladder(pack)
    day = _as_day(as_of, "as_of")
    by_id = {t.id: t for t in ladder.transitions}
    items = []
    for d in sorted(case.deadlines, key=lambda d: (d.due, d.id)):
        days = (d.due - day).days
        status: Literal["overdue", "due", "upcoming"] = "overdue" if days < 0 else "due" if days == 0 else "upcoming"
        target = by_id.get(d.on_miss) if d.on_miss else None
        items.append(DueItem(deadline=d, status=status, days=days, on_miss=d.on_miss,
                             on_miss_to=target.to if target else None, available=status == "overdue" and target is not None))
    available = tuple(dict.fromkeys(i.on_miss for i in items if i.available and i.on_miss))
    return DueReport(provider_id=case.provider_id, state=case.state, as_of=day, items=tuple(items), available=available)


# ----------------------------------------------------------------- conditions in words

_OP_WORDS = {
    "is": "is", "is_not": "is not", "in": "is one of", "not_in": "is none of", "at_least": "is at least",
    "at_most": "is at most", "above": "is above", "below": "is below", "worse_than": "is worse than",
    "no_better_than": "is no better than", "better_than": "is better than", "no_worse_than": "is no worse than",
    "within": "is within the last", "older_than": "is older than",
}


def describe(cond: Any) -> str:
    """A condition in words, e.g. ``(`score` is at least 28 and decision `tier` is one of tier_1, tier_2)``."""
    if isinstance(cond, AllOf):
        return _join([describe(c) for c in cond.all], " and ")
    if isinstance(cond, AnyOf):
        return _join([describe(c) for c in cond.any], " or ")
    if isinstance(cond, NotOf):
        return f"not {describe(cond.not_)}"
    if isinstance(cond, CountEvents):
        q = cond.count_events
        bound = f"at least {cond.at_least}" if cond.at_least is not None else f"at most {cond.at_most}"
        text = f"{bound} `{q.input}` of kind {'/'.join(q.kinds)}"
        text += f" within {q.within}" if q.within else ""
        text += "".join(f", {w.field} {_show(w.is_ if w.is_ is not None else w.in_ or w.at_least)}" for w in q.where)
        return text + (f", for one {q.group_by}" if q.group_by else "")
    kind, subject = cond.subject
    who = {"input": f"`{subject}`", "decision": f"decision `{subject}`"}.get(kind) or (
        f"{kind.replace('_', ' ')} " + ", ".join(f"`{s}`" for s in subject))
    op, arg = cond.operator
    if op == "known":
        return f"{who} is {'known' if arg else 'not known'}"
    return f"{who} {_OP_WORDS[op]} {_show(arg)}"


def _join(parts: list[str], sep: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + sep.join(parts) + ")"


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ", ".join(_show(x) for x in v)
    return str(v)


# ----------------------------------------------------------------- checking a move


class _Gate:
    """Checks guards and warnings over the event's evidence with the conditions the pack compiled
    when it loaded (found by their path); the decisions are fed forward once, by the engine
    (:meth:`PolicyPack.context`), and only if a condition reads one."""

    def __init__(self, pack: PolicyPack, event: CaseEvent) -> None:
        self.pack = pack
        self.evidence = pack.parse_evidence(event.evidence) if event.evidence is not None else None
        self.on = event.on
        self._inputs: Ctx | None = None
        self._decided: Ctx | None = None

    @property
    def out_of_scope(self) -> list[str]:
        return list(self._decided.out_of_scope) if self._decided is not None else []

    def _ctx(self, decisions: bool) -> Ctx:
        assert self.evidence is not None
        if self._decided is None and decisions:
            self._decided = self.pack.context(self.evidence, self.on)
        if self._decided is not None:
            return self._decided
        if self._inputs is None:
            self._inputs = self.pack.context(self.evidence, self.on, decisions=False)
        return self._inputs

    def check(self, cond: Any, where: str) -> tuple[bool | None, list[str]]:
        """``cond`` is the pack's condition at ``where``; its compiled form is looked up, never rebuilt."""
        if self.evidence is None:
            return None, ["evidence (none was given; the condition reads " + ", ".join(f"`{i}`" for i in _reads(self.pack, cond)) + ")"]
        reads_decisions = any(isinstance(x, Test) and x.decision is not None for x, _ in walk_conditions(cond, ()))
        return self.pack.check(where, self._ctx(reads_decisions))

    def failing(self, cond: Any, where: str) -> list[str]:
        """The parts that made a false condition false, each with the value found."""
        if isinstance(cond, AllOf):
            return [x for i, c in enumerate(cond.all) if self.check(c, f"{where}.all[{i}]")[0] is False
                    for x in self.failing(c, f"{where}.all[{i}]")]
        if isinstance(cond, AnyOf):
            return [x for i, c in enumerate(cond.any) for x in self.failing(c, f"{where}.any[{i}]")]
        if isinstance(cond, NotOf):
            return [f"{describe(cond)} (it holds)"]
        if isinstance(cond, Test):
            kind, subject = cond.subject
            if kind == "decision":
                value = self._ctx(True).values.get(subject)
                return [f"{describe(cond)} (found {'no value' if value is None else _show(value)})"]
            names = [subject] if kind == "input" else subject
            ctx = self._ctx(False)
            found = [_show(v) if (v := self.pack.read(n, ctx.evidence, ctx.as_of)) is not None else "not known"
                     for n in names]
            return [f"{describe(cond)} (found {', '.join(found)})"]
        return [describe(cond)]


def _reads(pack: PolicyPack, cond: Any, seen: set[str] | None = None) -> list[str]:
    """Inputs a condition reads, through the decisions it reads."""
    seen = set() if seen is None else seen
    out: list[str] = []
    for leaf, _ in walk_conditions(cond, ()):
        if isinstance(leaf, CountEvents):
            out.append(leaf.count_events.input)
            continue
        kind, subject = leaf.subject
        if kind == "decision":
            if subject in seen:
                continue
            seen.add(subject)
            d = pack.model.decision(subject)
            if isinstance(d, BandsDecision):
                out.append(d.input)
            else:
                for r in d.rows:
                    out += _reads(pack, r.when, seen)
        else:
            out += [subject] if kind == "input" else list(subject)
    return list(dict.fromkeys(out))


def _ladder(pack: PolicyPack) -> Ladder:
    if pack.model.ladder is None:
        raise TransitionError(f"pack `{pack.id}` has no escalation ladder", [
            _diag(pack, "CP501", f"pack `{pack.id}` has no `ladder`", hint="add `ladder: {states: [...], transitions: [...]}`")])
    return pack.model.ladder


def _diag(pack: PolicyPack, code: str, message: str, path: str = "", hint: str | None = None,
          expected: str | None = None) -> Diagnostic:
    return Diagnostic(code=code, message=message, file=pack.file, path=path, hint=hint, expected=expected)


def _tpath(pack: PolicyPack, t: Transition, *rest: str | int) -> str:
    assert pack.model.ladder is not None
    i = next(i for i, x in enumerate(pack.model.ladder.transitions) if x.id == t.id)
    return path_text(("ladder", "transitions", i, *rest))


def _trigger_text(ev: CaseEvent) -> str:
    assert ev.trigger is not None
    return ev.trigger.kind + (f": {ev.trigger.name}" if ev.trigger.name else "")


def _check_event(pack: PolicyPack, case: Case, ev: CaseEvent) -> list[Diagnostic]:
    out = []
    if case.pack_id != pack.id:
        out.append(_diag(pack, "CP510", f"the case belongs to pack `{case.pack_id}`, not `{pack.id}`",
                         hint=f"advance it with pack `{case.pack_id}`"))
        return out
    if not pack.in_force(ev.on):
        meta = pack.model.pack
        out.append(_diag(pack, "CP511", f"pack `{pack.id}` v{pack.version} is not in force on {ev.on.isoformat()} "
                         f"(in force {meta.effective_from.isoformat()} to "
                         f"{meta.effective_to.isoformat() if meta.effective_to else 'now'})",
                         hint="move the case with the version of the pack in force that day"))
    last = case.history[-1].on
    if ev.on < last:
        out.append(_diag(pack, "CP507", f"the event is dated {ev.on.isoformat()}, before the case's last entry on "
                         f"{last.isoformat()}", hint="history is append-only: apply events in date order"))
    if ev.evidence is not None and ev.evidence.provider.id != case.provider_id:
        out.append(_diag(pack, "CP509", f"the evidence is about provider `{ev.evidence.provider.id}`, "
                         f"but the case is about `{case.provider_id}`"))
    roles = [r.id for r in pack.model.roles]
    for what, given in (("approval", [a.role for a in ev.approvals]), ("attendee", list(ev.attendees))):
        for r in given:
            if r not in roles:
                out.append(_diag(pack, "CP509", f"{what} role `{r}` is not a role of pack `{pack.id}`",
                                 hint=did_you_mean(r, roles)))
    return out


def _candidates(pack: PolicyPack, ladder: Ladder, case: Case, ev: CaseEvent, head: str) -> list[Transition]:
    leaving = [t for t in ladder.transitions if t.from_ == case.state]
    options = ", ".join(f"`{t.id}` ({t.trigger.kind}{': ' + t.trigger.name if t.trigger.name else ''})" for t in leaving)
    hint = f"from `{case.state}` the ladder allows: {options}" if leaving else f"`{case.state}` has no way out: the case is over"
    if ev.transition is not None:
        found = next((t for t in ladder.transitions if t.id == ev.transition), None)
        if found is None:
            raise TransitionError(head, [_diag(
                pack, "CP501", f"pack `{pack.id}` has no transition `{ev.transition}`",
                hint=did_you_mean(ev.transition, [t.id for t in ladder.transitions]) or hint)])
        if found.from_ != case.state:
            raise TransitionError(head, [_diag(
                pack, "CP501", f"transition `{found.id}` leaves `{found.from_}`, but the case is at `{case.state}`",
                path=_tpath(pack, found, "from"), hint=hint)])
        return [found]
    assert ev.trigger is not None
    kind, name = ev.trigger.kind, ev.trigger.name
    matches = [t for t in leaving if t.trigger.kind == kind and (name is None or t.trigger.name == name)]
    if not matches:
        raise TransitionError(head, [_diag(
            pack, "CP501", f"no transition leaves `{case.state}` on trigger `{_trigger_text(ev)}`", hint=hint)])
    return matches


def _blockers(pack: PolicyPack, case: Case, ev: CaseEvent, t: Transition, gate: _Gate) -> tuple[list[Diagnostic], _GuardPass]:
    """Every reason ``t`` cannot be taken now, and how its guard was passed (none, true, overridden)."""
    out: list[Diagnostic] = []
    if t.trigger.kind == "deadline":
        out += _deadline_blockers(pack, case, ev, t)
    out += _meets_blockers(pack, case, t)
    out += _anchor_blockers(pack, ev, t)
    guard: _GuardPass = "none"
    if t.guard is not None:
        try:
            result, missing = gate.check(t.guard, _tpath(pack, t, "guard"))
        except EvaluationError as exc:
            out.append(_diag(pack, "CP509", str(exc).lower(), path=_tpath(pack, t, "guard")))
            return out, guard
        guard = "true"
        if result is not True:
            if ev.override and t.judgement:
                guard = "overridden"
            else:
                if result is False:
                    parts = gate.failing(t.guard, _tpath(pack, t, "guard"))
                    out.append(_diag(pack, "CP503", f"`{t.id}`: the guard is false: " + "; ".join(parts),
                                     path=_tpath(pack, t, "guard"), expected=describe(t.guard), hint=_override_hint(t)))
                elif gate.out_of_scope:
                    out.append(_diag(pack, "CP509", f"`{t.id}`: the guard reads decisions, but the provider is out of "
                                     "the pack's scope: " + "; ".join(gate.out_of_scope), path=_tpath(pack, t, "guard")))
                else:
                    out.append(_diag(pack, "CP504", f"`{t.id}`: the guard cannot be checked: missing " + ", ".join(
                        f"`{m}`" if re.fullmatch(r"[\w\-\[\]/]+", m) else m for m in missing),
                        path=_tpath(pack, t, "guard"), expected=describe(t.guard), hint="give the missing evidence"))
                if ev.override and not t.judgement:
                    out.append(_diag(pack, "CP509", f"`{t.id}` leaves nothing to judgement, so its guard cannot be overridden",
                                     path=_tpath(pack, t, "guard"), hint="meet the guard, or ask the pack's authors"))
    given = {a.role for a in ev.approvals}
    for j, a in enumerate(t.approvals):
        src = f" ({a.source})" if a.source else ""
        if a.roles and a.any and not given & set(a.roles):
            out.append(_diag(pack, "CP505", f"`{t.id}` needs approval from one of " + ", ".join(f"`{r}`" for r in a.roles)
                             + src, path=_tpath(pack, t, "approvals", j), hint="record it under `approvals: [{role, by}]`"))
        elif a.roles and not a.any and (lacking := [r for r in a.roles if r not in given]):
            out.append(_diag(pack, "CP505", f"`{t.id}` needs approval from " + ", ".join(f"`{r}`" for r in a.roles)
                             + "; missing: " + ", ".join(f"`{r}`" for r in lacking) + src,
                             path=_tpath(pack, t, "approvals", j), hint="record it under `approvals: [{role, by}]`"))
        if a.quorum is not None:
            q = a.quorum
            absent = [r for r in q.including if r not in ev.attendees]
            if len(ev.attendees) < q.at_least or absent:
                short = len(ev.attendees) < q.at_least
                roles = ", ".join(f"`{r}`" for r in absent)
                if absent and not short:  # enough people, but not the ones who must be there
                    msg = (f"`{t.id}`: quorum not met: {roles} must be present and "
                           f"{'is' if len(absent) == 1 else 'are'} not ({len(ev.attendees)} present, {q.at_least} needed)")
                else:
                    msg = f"`{t.id}`: quorum not met: {len(ev.attendees)} present, {q.at_least} needed"
                    if absent:
                        msg += f"; required {'role' if len(absent) == 1 else 'roles'} absent: {roles}"
                qsrc = q.source or a.source
                out.append(_diag(pack, "CP506", msg + (f" ({qsrc})" if qsrc else ""), path=_tpath(pack, t, "approvals", j, "quorum"),
                                 expected=f"at least {q.at_least} members" + (" including " + ", ".join(f"`{r}`" for r in q.including) if q.including else ""),
                                 hint="a meeting without quorum may not decide; list those present under `attendees`"))
    return out, guard


def _override_hint(t: Transition) -> str | None:
    return f"the pack leaves this to judgement ({t.judgement}); give `override: <reason>` to proceed" if t.judgement else None


def _deadline_for(case: Case, t: Transition) -> OpenDeadline | None:
    for d in case.deadlines:
        if (t.trigger.name is not None and d.id == t.trigger.name) or (t.trigger.name is None and d.on_miss == t.id):
            return d
    return None


def _deadline_blockers(pack: PolicyPack, case: Case, ev: CaseEvent, t: Transition) -> list[Diagnostic]:
    d = _deadline_for(case, t)
    name = t.trigger.name or "(its deadline)"
    if d is None:
        return [_diag(pack, "CP508", f"`{t.id}` follows a missed deadline `{name}`, but no such deadline is running",
                      path=_tpath(pack, t, "trigger"))]
    if ev.on <= d.due:
        first = d.due + timedelta(days=1)
        return [_diag(pack, "CP508", f"`{t.id}` follows a missed deadline, but `{d.id}` is due on {d.due.isoformat()}: "
                      f"it is missed only from {first.isoformat()}", path=_tpath(pack, t, "trigger"),
                      hint=f"`{d.id}` was set by `{d.set_by}` on {d.started_on.isoformat()} ({d.after}, {d.source})")]
    return []


def _meets_blockers(pack: PolicyPack, case: Case, t: Transition) -> list[Diagnostic]:
    running = {d.id for d in case.deadlines}
    return [_diag(pack, "CP508", f"`{t.id}` meets deadline `{m}`, but no such deadline is running",
                  path=_tpath(pack, t, "meets", k),
                  hint="running: " + (", ".join(f"`{r}`" for r in sorted(running)) or "none"))
            for k, m in enumerate(t.meets) if m not in running]


def _anchor(pack: PolicyPack, ev: CaseEvent, input_id: str) -> date | None:
    if ev.evidence is None:
        return None
    value = pack.read(input_id, pack.parse_evidence(ev.evidence), ev.on)
    return value if isinstance(value, date) else None


def _anchor_blockers(pack: PolicyPack, ev: CaseEvent, t: Transition) -> list[Diagnostic]:
    """A deadline that runs from a date in the evidence needs that date, on or before the move."""
    out: list[Diagnostic] = []
    for j, s in enumerate(t.starts):
        if s.from_ is None:
            continue
        day = _anchor(pack, ev, s.from_)
        path = _tpath(pack, t, "starts", j, "from")
        if day is None:
            given = "none was given" if ev.evidence is None else "it does not give it"
            out.append(_diag(pack, "CP504", f"`{t.id}`: deadline `{s.id}` runs from `{s.from_}`, but the evidence does not "
                             f"give it ({given})", path=path, expected=f"{s.after} from `{s.from_}`",
                             hint=f"give `{s.from_}` in the evidence of the move"))
        elif day > ev.on:
            out.append(_diag(pack, "CP509", f"`{t.id}`: deadline `{s.id}` runs from `{s.from_}` {day.isoformat()}, "
                             f"after the move on {ev.on.isoformat()}", path=path,
                             hint="evidence is as of the move: record the move on or after that date"))
    return out


def _apply(pack: PolicyPack, case: Case, ev: CaseEvent, t: Transition, guard: _GuardPass, gate: _Gate) -> Case:
    same = t.from_ == t.to
    restarted = {s.id for s in t.starts}
    consumed = _deadline_for(case, t) if t.trigger.kind == "deadline" else None
    keep: list[OpenDeadline] = []
    closed: list[ClosedDeadline] = []
    for d in case.deadlines:
        if same and d is not consumed and d.id not in restarted and d.id not in t.meets:
            keep.append(d)
            continue
        outcome: Literal["met", "missed", "superseded"] = (
            "missed" if ev.on > d.due else "met" if d.id in t.meets or not same else "superseded"
        )
        closed.append(ClosedDeadline(id=d.id, due=d.due, set_by=d.set_by, outcome=outcome))
    started = []
    for s in t.starts:
        start = _anchor(pack, ev, s.from_) if s.from_ else ev.on
        assert start is not None  # checked by _anchor_blockers
        started.append(OpenDeadline(id=s.id, text=s.text, due=add(start, s.after, pack.calendar), started_on=start,
                                    after=str(s.after), runs_from=s.from_, state=t.to, set_by=t.id, roles=tuple(s.roles),
                                    on_miss=s.on_miss, source=s.source))
    warnings = []
    for j, w in enumerate(t.warnings):
        try:
            result, missing = gate.check(w.when, _tpath(pack, t, "warnings", j, "when"))
        except EvaluationError:
            result, missing = None, ["the pack is not in force on this date"]
        if result is not False:
            warnings.append(RecordedWarning(message=w.message, source=w.source, certain=result is True,
                                            missing=tuple(missing) if result is None else ()))
    entry = HistoryEntry(
        seq=len(case.history), on=ev.on, kind="moved", to_state=t.to, from_state=t.from_, transition=t.id,
        direction=t.direction, trigger=TriggerRef(kind=t.trigger.kind, name=t.trigger.name), guard=guard,
        override=ev.override, approvals=ev.approvals, attendees=ev.attendees, warnings=tuple(warnings),
        started=tuple(started), closed=tuple(closed), note=ev.note, source=t.source,
        evidence_sha256=hashlib.sha256(ev.evidence.model_dump_json().encode()).hexdigest() if ev.evidence else None,
        pack_version=pack.version, pack_sha256=pack.sha256,
    )
    return Case(
        pack_id=case.pack_id, pack_version=pack.version, pack_sha256=pack.sha256, provider_id=case.provider_id,
        state=t.to, entered_on=case.entered_on if same else ev.on,
        deadlines=tuple(sorted(keep + started, key=lambda d: (d.due, d.id))), history=case.history + (entry,),
    )


def _events(events: Iterable[CaseEvent | Mapping[str, Any]]) -> list[CaseEvent]:
    return [_event(e) for e in events]


# ----------------------------------------------------------------- timeline simulation


class Refusal(_Frozen):
    """A move the ladder refused during a simulation, with every reason."""

    event: CaseEvent
    codes: tuple[str, ...]
    reasons: tuple[str, ...]


class Missed(_Frozen):
    """A deadline whose due date passed while it was still running."""

    deadline: OpenDeadline
    on_miss: str | None = None


class TimelineDay(_Frozen):
    on: date
    state: str = Field(description="where the provider stood at the end of the day")
    moves: tuple[HistoryEntry, ...] = ()
    refused: tuple[Refusal, ...] = ()
    due: tuple[OpenDeadline, ...] = ()
    missed: tuple[Missed, ...] = ()


class Timeline(_Frozen):
    """A provider's replayed path: every day something happened, the final case and what is due at the end."""

    pack_id: str
    pack_version: str
    pack_sha256: str
    provider_id: str
    opened_on: date
    until: date
    days: tuple[TimelineDay, ...]
    ignored: tuple[CaseEvent, ...] = Field(default=(), description="events dated after `until`")
    case: Case
    report: DueReport

    def state_on(self, day: date | str) -> str | None:
        """Where the provider stood at the end of ``day`` (``None`` before the case was opened)."""
        when = _as_day(day, "day")
        state = None
        for h in self.case.history:
            if h.on > when:
                break
            state = h.to_state
        return state

    def text(self) -> str:
        lines = [f"provider `{self.provider_id}` on `{self.pack_id}` v{self.pack_version} "
                 f"(sha256 {self.pack_sha256[:12]}), {self.opened_on.isoformat()} to {self.until.isoformat()}"]
        pad = " " * 12
        for d in self.days:
            rows: list[str] = []
            for h in d.moves:
                if h.kind == "opened":
                    rows.append(f"opened at `{h.to_state}`")
                    continue
                how = " (guard overridden: " + (h.override or "") + ")" if h.guard == "overridden" else ""
                rows.append(f"moved `{h.transition}`: {h.from_state} -> {h.to_state} ({h.direction}){how}")
                rows += [f"  closed `{c.id}` ({c.outcome})" for c in h.closed]
                rows += [f"  started `{s.id}`: {s.text}, due {s.due.isoformat()} ({s.after}"
                         + (f" from {s.started_on.isoformat()} (`{s.runs_from}`)" if s.runs_from else "") + f"; {s.source})"
                         for s in h.started]
                rows += [f"  WARNING{'' if w.certain else ' (not checked: missing ' + ', '.join(w.missing) + ')'}: "
                         f"{w.message} ({w.source})" for w in h.warnings]
            rows += [f"due today: `{x.id}` {x.text}" for x in d.due]
            rows += [f"MISSED `{m.deadline.id}` (due {m.deadline.due.isoformat()})"
                     + (f"; `{m.on_miss}` is now open" if m.on_miss else "") for m in d.missed]
            for r in d.refused:
                move = f"`{r.event.transition}`" if r.event.transition else f"trigger `{_trigger_text(r.event)}`"
                rows.append(f"REFUSED {move}")
                rows += [f"  [{c}] {why}" for c, why in zip(r.codes, r.reasons)]
            for k, row in enumerate(rows):
                head = f"{d.on.isoformat()}  {d.state:<{max(len(d.state), 20)}}  " if k == 0 else pad + " " * 22
                lines.append(head + row)
        lines.append(f"at the end ({self.until.isoformat()}): " + self.report.text())
        if self.ignored:
            lines.append(f"ignored {len(self.ignored)} event(s) dated after {self.until.isoformat()}")
        return "\n".join(lines)


def simulate(pack: PolicyPack, provider_id: str, events: Iterable[CaseEvent | Mapping[str, Any]], until: date | str,
             *, opened_on: date | str | None = None) -> Timeline:
    """Replay dated events through the ladder up to ``until``: no timer, every deadline computed.

    The case opens on ``opened_on`` (default: the first event's date). Refused moves are
    recorded with their reasons, not raised; a deadline whose day passes with the case
    still in its state is recorded as missed on the following day.
    """
    end = _as_day(until, "until")
    ordered = [e for _, e in sorted(enumerate(_events(events)), key=lambda p: (p[1].on, p[0]))]
    kept = [e for e in ordered if e.on <= end]
    start = _as_day(opened_on, "opened_on") if opened_on is not None else (kept[0].on if kept else end)
    case = open_case(pack, provider_id, start)
    days: dict[date, dict[str, list[Any]]] = {}
    states: dict[date, str] = {}

    def day(d: date) -> dict[str, list[Any]]:
        return days.setdefault(d, {"moves": [], "refused": [], "due": [], "missed": []})

    day(start)["moves"].append(case.history[0])
    states[start] = case.state
    seen_due: set[tuple[str, str, date]] = set()
    seen_missed: set[tuple[str, str, date]] = set()
    key = lambda d: (d.id, d.set_by, d.started_on)  # noqa: E731
    i, current = 0, start
    while True:
        upcoming = [max(kept[i].on, current)] if i < len(kept) else []  # early events are refused, not lost
        for d in case.deadlines:
            upcoming += [d.due] if key(d) not in seen_due else []
            upcoming += [max(d.due + timedelta(days=1), current)] if key(d) not in seen_missed else []  # already past due when started
        upcoming = [u for u in upcoming if current <= u <= end]
        if not upcoming:
            break
        today = min(upcoming)
        running = case.deadlines
        for d in running:
            if d.due < today and key(d) not in seen_missed:
                seen_missed.add(key(d))
                day(today)["missed"].append(Missed(deadline=d, on_miss=d.on_miss))
        while i < len(kept) and kept[i].on <= today:
            try:
                case = advance(pack, case, kept[i])
                day(today)["moves"].append(case.history[-1])
            except TransitionError as exc:
                day(today)["refused"].append(Refusal(event=kept[i], codes=tuple(d.code for d in exc.diagnostics),
                                                     reasons=tuple(d.message for d in exc.diagnostics)))
            i += 1
        for d in running + case.deadlines:
            if d.due == today and key(d) not in seen_due:
                seen_due.add(key(d))
                day(today)["due"].append(d)
        states[today] = case.state
        current = today + timedelta(days=1)
    timeline_days = tuple(TimelineDay(on=d, state=states[d], **{k: tuple(v) for k, v in days[d].items()})
                          for d in sorted(days) if any(days[d].values()))
    return Timeline(pack_id=pack.id, pack_version=pack.version, pack_sha256=pack.sha256, provider_id=provider_id,
                    opened_on=start, until=end, days=timeline_days, ignored=tuple(e for e in ordered if e.on > end),
                    case=case, report=due(pack, case, end))


def _event(event: CaseEvent | Mapping[str, Any]) -> CaseEvent:
    """A case event from a mapping; what does not fit is one located diagnostic each, never a traceback."""
    if isinstance(event, CaseEvent):
        return event
    try:
        return CaseEvent.model_validate(event)
    except ValidationError as exc:
        problems = [Diagnostic(code="CP401" if e["loc"][:1] == ("evidence",) else "CP509",
                               message=str(e["msg"])[:1].lower() + str(e["msg"])[1:],
                               path=".".join(str(p) for p in e["loc"]) or "$")
                    for e in exc.errors(include_url=False, include_input=False)]
        if all(d.code == "CP401" for d in problems):
            raise EvidenceError(f"the event's evidence is not valid ({len(problems)} problem(s))", problems) from None
        raise TransitionError(f"not a case event ({len(problems)} problem(s))", problems) from None


class EventsFile(_Frozen):
    """A provider's case history as ``carepolicy timeline`` reads it: the events, and optionally who and when it opened."""

    provider_id: str | None = None
    opened_on: date | None = None
    events: list[CaseEvent]
