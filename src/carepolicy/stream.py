"""Streaming: decisions and triggers that change as dated events arrive, on durable-rules.

Open a stream over one or more packs, give each provider its evidence, then post its
dated events one by one; every call returns what changed: each decision whose status
or value changed, and each trigger (a rule whose condition counts events) that fired
or cleared, with its rule id and the clause of the council's document::

    with carepolicy.stream.open_stream(carepolicy.load_packs("policies")) as s:
        s.open("1-101", evidence_without_events, as_of="2026-01-05")
        for change in s.post("1-101", {"kind": "safeguarding_alert", "date": "2026-01-10"}):
            print(change.to_dict())
        s.close("1-101")                   # nothing of the provider remains

**Triggers.** A trigger is a rule whose condition counts events: a decision row, a scope
rule, an outcome or a consistency check (:func:`trigger_rules`). It *fires* when the core, evaluating the pack,
would find it holding (``true`` in :attr:`Decision.trace`; a row after the first that
holds in a ``first`` table is not evaluated, so it does not fire) and *clears* when it
stops holding.

**Who does what.** durable-rules counts the events; the core decides.

* Each pack's event queries (``count_events``: kinds, ``where`` filters, window,
  ``group_by``, in conditions and in computed inputs) are translated, as JSON data, into one durable-rules ruleset
  (:mod:`carepolicy._stream_rules`; :func:`ruleset` shows it). Every event is asserted
  as a fact in the provider's durable-rules session, and the ruleset decides which
  queries it counts for, *surely* (every filter holds) or *possibly* (no filter fails,
  some field unrecorded: Kleene's logic, as in the core), and whether it is inside
  each window and not after the as-of date. When the as-of date moves, a ``tick`` fact
  is joined with the events durable-rules still holds, and the ruleset decides which
  have left a window. Each firing adds one to, or takes one from, the tally of its query
  and group (the value of the ``group_by`` field, read from the matched fact).
* From those tallies the host takes the largest group's count, sure and possible, and
  compares it with the threshold (:meth:`Tally.bounds`); every other part of every
  condition (tests on the provider's evidence, ``all``/``any``/``not``, tests on
  earlier decisions, computed inputs), every hit policy, feeding decisions forward
  (:func:`carepolicy._compile.feed`) and the scope rules are the core's own compiled
  closures (:class:`carepolicy._compile.Compiler`, whose event counter alone reads the
  tallies instead of the event list, so a count is compared with its threshold, or read
  as a number or a range, by the core's code). Window first days come from the core's calendar
  (:func:`carepolicy._time.window_start`), with the pack's own working days. An event
  dated after the as-of date is held back by the host and asserted when the as-of date
  reaches it (the core does not count it before either).

Why this split: which events a query counts, in which window and group, is event
correlation, what durable-rules is for, and the part that changes with every event; the
rest depends on the evidence, which changes rarely, and re-using the core's closures for
it keeps one meaning of every operator. So the differential tests
(``tests/test_stream_differential.py``) check the durable-rules side against the core's
own ``count_events`` over the accumulated history: after every event, every decision
(status, value, rules, undetermined rows, missing evidence), every trigger and every
reported change agree.

**Dates.** Windows are evaluated against the events' dates and the as-of date given with
every call, never the clock. The as-of date never moves backwards for a provider.

**Resources and isolation.** One ruleset per pack version, registered once per process
under a name derived from the pack's content hash (durable-rules cannot unregister one);
one durable-rules session per provider and pack version, deleted when the provider is
closed. A session costs durable-rules about 0.1 to 1 MB (it allocates room for every rule)
and each fact it holds about 8 KB; an event fact counted for good is freed when the
session is next compacted, so a session holds the events still in a window and at most
as many others (and 32). At most 1,000 providers are
open per pack version in one process (durable-rules' session table holds 1,024) and
10,000 events per provider (the evidence model's limit). durable-rules is not
thread-safe: every call holds one process-wide lock and no durable-rules timer thread
runs, so a stream may be shared between threads.

**Python 3.13+.** durable-rules' compiled module does not load there; the rest of
carepolicy works, and :func:`open_stream` raises :class:`StreamUnavailable` saying so.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from ._compile import Compiler, Cond, Ctx, DecisionFn, compile_decision, feed
from ._stream_host import LOCK, MAX_SESSIONS_PER_RULESET, BackendUnavailable, Session, Tally, backend_problem, host
from ._stream_rules import Translation, TranslationError, TriggerRule, slot, translate
from ._time import window_start
from .engine import PackLibrary, PolicyPack, _as_date
from .errors import EvidenceError, PolicyError
from .evidence import MAX_EVENTS, Event, Evidence
from .models import Consistency, EventQuery, ScopeRule
from .models import Outcome as OutcomeSpec

__all__ = [
    "open_stream",
    "Stream",
    "DecisionState",
    "DecisionChange",
    "TriggerChange",
    "TriggerRule",
    "StreamStats",
    "StreamError",
    "StreamUnavailable",
    "available",
    "ruleset",
    "trigger_rules",
    "MAX_EVENTS_PER_PROVIDER",
    "MAX_OPEN_PROVIDERS",
]

MAX_EVENTS_PER_PROVIDER = MAX_EVENTS
MAX_OPEN_PROVIDERS = MAX_SESSIONS_PER_RULESET


class StreamError(PolicyError):
    """A stream call that cannot be done: unknown provider, as-of date moving back, a limit reached."""


class StreamUnavailable(StreamError):
    """durable-rules cannot run in this interpreter; the message says why and what to do."""


def available() -> bool:
    """Whether the streaming backend can run here (durable-rules installed and loadable)."""
    return backend_problem() is None


# ----------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class DecisionState:
    """One decision of one pack for one provider, as the core would report it."""

    status: str
    value: Any
    rules: tuple[str, ...] = ()
    undetermined: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "value": self.value, "rules": list(self.rules),
                "undetermined": list(self.undetermined), "missing": list(self.missing)}


Cause = Literal["open", "event", "evidence", "as_of"]


@dataclass(frozen=True, slots=True)
class DecisionChange:
    """A decision whose status or value changed (``before`` is ``None`` on the first evaluation,
    ``after`` is ``None`` when the pack stops being in force)."""

    provider: str
    pack: str
    version: str
    decision: str
    as_of: date
    cause: Cause
    before: DecisionState | None
    after: DecisionState | None
    event: int | None = None  # the provider's event number (1, 2, ...) when an event caused it

    def __str__(self) -> str:
        def shown(state: DecisionState | None) -> str:
            if state is None:
                return "(not in force)"
            if state.status == "decided":
                return ", ".join(map(str, state.value)) if isinstance(state.value, list) else str(state.value)
            return state.status.replace("_", " ")

        before = "" if self.before is None else f"{shown(self.before)} -> "
        return f"{self.as_of.isoformat()} {self.provider} {self.pack}: {self.decision} {before}{shown(self.after)}"

    def to_dict(self) -> dict[str, Any]:
        return {"type": "decision", "provider": self.provider, "pack": self.pack, "version": self.version,
                "decision": self.decision, "as_of": self.as_of.isoformat(), "cause": self.cause, "event": self.event,
                "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict() if self.after else None}


@dataclass(frozen=True, slots=True)
class TriggerChange:
    """A rule that counts events started to hold (``fired``) or stopped holding (``cleared``)."""

    provider: str
    pack: str
    version: str
    owner: str  # the decision the row belongs to, or `scope` / `outcomes`
    rule: str
    clause: str
    as_of: date
    cause: Cause
    fired: bool
    event: int | None = None

    def __str__(self) -> str:
        return (f"{self.as_of.isoformat()} {self.provider} {self.pack}: {'fired' if self.fired else 'cleared'} "
                f"`{self.rule}` ({self.clause})")

    def to_dict(self) -> dict[str, Any]:
        return {"type": "trigger", "provider": self.provider, "pack": self.pack, "version": self.version,
                "in": self.owner, "rule": self.rule, "clause": self.clause, "as_of": self.as_of.isoformat(),
                "state": "fired" if self.fired else "cleared", "cause": self.cause, "event": self.event}


Change = DecisionChange | TriggerChange


@dataclass(slots=True)
class StreamStats:
    """What a stream has done: providers opened and closed, events posted, durable-rules firings."""

    opened: int = 0
    closed: int = 0
    events: int = 0
    firings: int = 0
    evaluations: int = 0


# ----------------------------------------------------------------- evaluation


@dataclass(slots=True)
class _Ctx(Ctx):
    tallies: Sequence[Tally] = ()


class _Compiler(Compiler):
    """The core's compiler, with each event query counted from the stream's tallies.

    Everything else is the core's own: the comparison of a count with its threshold (in
    conditions) and a count as a number (``derive: {count_events: ...}``) go through
    :meth:`Compiler.count_events` and the computed inputs exactly as in evaluation; only
    where the count comes from differs (durable-rules' firings instead of the event list).
    """

    def __init__(self, policy: PolicyPack, translation: Translation) -> None:
        self.translation = translation  # the base constructor compiles computed inputs, which count events
        super().__init__(policy.model, policy.calendar, policy.inputs)

    def _event_counter(self, q: EventQuery) -> Callable[[Ctx], tuple[int, int] | None]:
        index = self.translation.query_for(q).index
        label = f"{q.input}[{'/'.join(sorted(q.kinds))}]"

        def count(ctx: Ctx) -> tuple[int, int] | None:
            assert isinstance(ctx, _Ctx)
            lo, hi = ctx.tallies[index].bounds()
            if hi != lo:  # as the core: a count known only as a range names the query as missing evidence
                ctx.missing.append(label)
            return lo, hi

        return count


@dataclass(slots=True)
class _Compiled:
    policy: PolicyPack
    translation: Translation
    scope: tuple[tuple[ScopeRule, Cond], ...]
    decisions: tuple[tuple[Any, DecisionFn], ...]
    outcomes: tuple[tuple[OutcomeSpec, Cond], ...]
    consistency: tuple[tuple[Consistency, Cond], ...]
    triggers: dict[tuple[str, str], TriggerRule]


_COMPILED: dict[tuple[str, str, str], _Compiled] = {}


def _compiled(policy: PolicyPack) -> _Compiled:
    key = (policy.sha256, policy.id, policy.version)
    found = _COMPILED.get(key)
    if found is None:
        translation = translate(policy.model, policy.sha256)
        c = _Compiler(policy, translation)
        m = policy.model
        found = _Compiled(
            policy=policy, translation=translation,
            scope=tuple((s, c.condition(s.when)) for s in m.scope),
            decisions=tuple((d, compile_decision(c, d)) for d in m.decisions),
            outcomes=tuple((o, c.condition(o.when)) for o in m.outcomes),
            consistency=tuple((r, c.condition(r.when)) for r in m.consistency),
            triggers={(t.owner, t.rule): t for t in trigger_rules(policy)},
        )
        _COMPILED[key] = found
    return found


_Snapshot = tuple[dict[str, DecisionState], frozenset[tuple[str, str]]]


def _evaluate(compiled: _Compiled, evidence: Evidence, as_of: date, counts: Sequence[Tally]) -> _Snapshot:
    """What :meth:`PolicyPack.evaluate` decides, with event counts from the tallies: scope, then every
    decision fed forward by the core's :func:`~carepolicy._compile.feed`, then outcomes and consistency
    checks, each traced as ``evaluate`` traces it."""
    ctx = _Ctx(evidence, as_of, compiled.policy.calendar, tallies=counts)
    out_of_scope = False
    for rule, cond in compiled.scope:
        del ctx.missing[:]
        r = cond(ctx)
        ctx.trace.append(("scope", rule.id, r))
        out_of_scope = out_of_scope or r is True
    decisions: dict[str, DecisionState] = {}
    if out_of_scope:
        for d, _ in compiled.decisions:
            decisions[d.id] = DecisionState("out_of_scope", None)
    else:
        for d, fn in compiled.decisions:
            del ctx.missing[:]
            o = fn(ctx)
            feed(ctx, d.id, o)
            decisions[d.id] = DecisionState(o.status, o.value, tuple(o.rules), tuple(o.undetermined),
                                            tuple(dict.fromkeys(o.missing)))
        for spec, cond in compiled.outcomes:
            del ctx.missing[:]
            ctx.trace.append(("outcomes", spec.id, cond(ctx)))
        for check, cond in compiled.consistency:
            del ctx.missing[:]
            ctx.trace.append(("consistency", check.id, cond(ctx)))
    held = frozenset((owner, rule) for owner, rule, r in ctx.trace if r is True and (owner, rule) in compiled.triggers)
    return decisions, held


# ----------------------------------------------------------------- the stream


@dataclass(slots=True)
class _Provider:
    key: str
    record: dict[str, Any]
    evidence: Evidence
    as_of: date
    sessions: dict[tuple[str, str, str], Session]
    snapshots: dict[str, tuple[str, _Snapshot]] = field(default_factory=dict)  # pack id -> (version, snapshot)
    firings: dict[str, int] = field(default_factory=dict)  # pack id -> firings when last evaluated
    events: int = 0


class Stream:
    """A stream of dated events and evidence updates per provider over one or more packs.

    Make one with :func:`open_stream`. Every method is safe to call from several threads.
    """

    def __init__(self, packs: Iterable[PolicyPack]) -> None:
        problem = backend_problem()
        if problem is not None:
            raise StreamUnavailable(problem)
        library = PackLibrary(packs)
        if not len(library):
            raise StreamError("a stream needs at least one pack")
        self._library = library
        try:
            self._compiled = {pid: tuple(_compiled(p) for p in library[pid]) for pid in library}
        except TranslationError as exc:
            raise StreamError(str(exc)) from None
        paths = {spec.evidence_path for pid in library for p in library[pid] for spec in p.inputs.values()
                 if spec.type.base == "events" and spec.kind != "derived"}
        if len(paths) > 1:
            raise StreamError("the packs read events from different evidence paths: "
                              + ", ".join(f"`{p}`" for p in sorted(paths)) + "; stream packs that share one")
        self._events_path = next(iter(paths), None)
        self._providers: dict[str, _Provider] = {}
        self._closed_firings = 0
        self._stats = StreamStats()
        with LOCK:
            h = host()
            for versions in self._compiled.values():
                for c in versions:
                    h.register(c.translation)

    # -- reading --------------------------------------------------------------
    @property
    def packs(self) -> PackLibrary:
        return self._library

    def providers(self) -> list[str]:
        """The providers open now."""
        with LOCK:
            return list(self._providers)

    def decisions(self, provider: str) -> dict[str, dict[str, DecisionState]]:
        """Every decision of every pack in force for the provider, by pack id and decision id."""
        with LOCK:
            p = self._get(provider)
            return {pid: dict(snap[0]) for pid, (_, snap) in p.snapshots.items()}

    def triggers(self, provider: str) -> dict[str, list[TriggerRule]]:
        """The triggers that hold now for the provider, by pack id (in pack order)."""
        with LOCK:
            p = self._get(provider)
            out: dict[str, list[TriggerRule]] = {}
            for pid, (version, (_, held)) in p.snapshots.items():
                c = self._version(pid, version)
                out[pid] = [t for key, t in c.triggers.items() if key in held]
            return out

    def as_of(self, provider: str) -> date:
        with LOCK:
            return self._get(provider).as_of

    # -- writing --------------------------------------------------------------
    def open(self, provider: str, evidence: Evidence | Mapping[str, Any] | str | bytes, as_of: date | str) -> list[Change]:
        """Start streaming a provider: its evidence without events, and the as-of date to start from."""
        day = _day(as_of)
        record, parsed = self._record(evidence)
        with LOCK:
            if provider in self._providers:
                raise StreamError(f"provider `{provider}` is already open; give new evidence with `update`")
            h = host()
            sessions: dict[tuple[str, str, str], Session] = {}
            try:
                for versions in self._compiled.values():
                    for c in versions:
                        session = h.open(c.translation)
                        sessions[_vkey(c)] = session
                        h.move(session, day.toordinal(), self._starts(c, day))
            except BaseException as exc:
                for session in sessions.values():  # nothing of a provider that could not open stays
                    h.close(session)
                if isinstance(exc, OverflowError):
                    raise StreamError(f"cannot open provider `{provider}`: {exc}") from None
                raise
            p = _Provider(provider, record, parsed, day, sessions)
            self._providers[provider] = p
            self._stats.opened += 1
            return self._changes(p, "open", None, force=True)

    def update(self, provider: str, evidence: Evidence | Mapping[str, Any] | str | bytes,
               as_of: date | str | None = None) -> list[Change]:
        """Replace the provider's evidence (everything but its events), optionally moving the as-of date."""
        record, parsed = self._record(evidence)
        with LOCK:
            p = self._get(provider)
            if as_of is not None:
                self._move(p, _day(as_of))
            p.record, p.evidence = record, parsed
            return self._changes(p, "evidence", None, force=True)

    def post(self, provider: str, event: Event | Mapping[str, Any] | str | bytes,
             as_of: date | str | None = None) -> list[Change]:
        """Post one dated event for the provider, as of a date (which may not move backwards; by default
        the later of the event's date and the provider's as-of date)."""
        e = self._event(event)
        given = None if as_of is None else _day(as_of)
        with LOCK:
            p = self._get(provider)
            day = given if given is not None else max(p.as_of, e.date)
            if p.events >= MAX_EVENTS_PER_PROVIDER:
                raise StreamError(f"provider `{provider}` already has {MAX_EVENTS_PER_PROVIDER:,} events, "
                                  f"the most the evidence model holds; close it and open it again with a summary")
            moved = day != p.as_of
            self._move(p, day)
            h = host()
            for versions in self._compiled.values():
                for c in versions:
                    fields: dict[str, Any] = {"kind": e.kind}
                    for f in c.translation.fields:
                        v = getattr(e, f)
                        if v is not None:
                            fields[slot(f)] = v
                    h.post(p.sessions[_vkey(c)], fields, e.date.toordinal())
            p.events += 1
            self._stats.events += 1
            return self._changes(p, "event", p.events, force=moved)

    def advance(self, provider: str, as_of: date | str) -> list[Change]:
        """Move the provider's as-of date: events may leave a window or reach their date."""
        day = _day(as_of)
        with LOCK:
            p = self._get(provider)
            changed = day != p.as_of
            self._move(p, day)
            return self._changes(p, "as_of", None, force=changed)

    def close(self, provider: str) -> None:
        """Forget the provider: its durable-rules sessions are deleted and nothing of it remains."""
        with LOCK:
            p = self._providers.pop(provider, None)
            if p is None:
                raise StreamError(f"provider `{provider}` is not open")
            h = host()
            for session in p.sessions.values():
                self._closed_firings += session.firings
                h.close(session)
            p.sessions.clear()
            p.snapshots.clear()
            self._stats.closed += 1

    def close_all(self) -> None:
        with LOCK:
            for key in list(self._providers):
                self.close(key)

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close_all()

    @property
    def stats(self) -> StreamStats:
        """Counts so far: providers opened and closed, events posted, durable-rules firings, evaluations."""
        with LOCK:
            firings = self._closed_firings + sum(s.firings for p in self._providers.values() for s in p.sessions.values())
            st = self._stats
            return StreamStats(st.opened, st.closed, st.events, firings, st.evaluations)

    # -- internals --------------------------------------------------------------
    def _get(self, provider: str) -> _Provider:
        p = self._providers.get(provider)
        if p is None:
            raise StreamError(f"provider `{provider}` is not open; open it with its evidence first")
        return p

    def _version(self, pid: str, version: str) -> _Compiled:
        return next(c for c in self._compiled[pid] if c.policy.version == version)

    def _record(self, evidence: Evidence | Mapping[str, Any] | str | bytes) -> tuple[dict[str, Any], Evidence]:
        """The evidence as a plain record without events, and parsed with an empty event list."""
        if isinstance(evidence, Evidence):
            record = evidence.model_dump(mode="json", exclude_none=True)
        elif isinstance(evidence, (str, bytes)):
            try:
                record = json.loads(evidence)
            except json.JSONDecodeError as exc:
                raise EvidenceError(f"evidence is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        else:
            record = copy.deepcopy(dict(evidence))
        if not isinstance(record, dict):
            raise EvidenceError("evidence is a JSON object (a mapping), not " + type(record).__name__)
        path = self._events_path
        if path is not None:
            if _get_path(record, path) is not None:
                raise StreamError(f"the evidence given to a stream carries events (at `{path}`): "
                                  f"post them one by one with `post`, or leave them out")
            full = copy.deepcopy(record)
            _set_path(full, path, [])
        else:
            full = record
        return record, self._library.parse_evidence(full)

    def _event(self, event: Event | Mapping[str, Any] | str | bytes) -> Event:
        """One event, validated as the stream's packs read it (their kinds of event included): as the
        only event of a record, so its problems are the core's own located diagnostics, at `event...`."""
        if isinstance(event, Event):
            event = event.model_dump(mode="json", exclude_none=True)
        elif isinstance(event, (str, bytes)):
            try:
                event = json.loads(event)
            except json.JSONDecodeError as exc:
                raise EvidenceError(f"event is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
        try:
            record = self._library.parse_evidence({"provider": _CARRIER, "events": [event]})
        except EvidenceError as exc:
            moved = [replace(d, path=_event_path(d.path or "$")) for d in exc.diagnostics]
            raise EvidenceError(f"event is not valid ({len(moved)} problem(s))", moved) from None
        assert record.events is not None
        return record.events[0]

    def _starts(self, c: _Compiled, day: date) -> tuple[int, ...]:
        cal = c.policy.calendar
        return tuple(window_start(day, w, cal).toordinal() for w in c.translation.windows)

    def _move(self, p: _Provider, day: date) -> None:
        if day < p.as_of:
            raise StreamError(f"as-of date {day.isoformat()} is before provider `{p.key}`'s as-of date "
                              f"{p.as_of.isoformat()}: a stream only moves forward")
        if day == p.as_of:
            return
        h = host()
        for versions in self._compiled.values():
            for c in versions:
                h.move(p.sessions[_vkey(c)], day.toordinal(), self._starts(c, day))
        p.as_of = day

    def _changes(self, p: _Provider, cause: Cause, event: int | None, force: bool = False) -> list[Change]:
        out: list[Change] = []
        for pid, versions in self._compiled.items():
            c = next((c for c in versions if c.policy.in_force(p.as_of)), None)
            before = p.snapshots.get(pid)
            if c is None:
                if before is not None:
                    del p.snapshots[pid]
                    out.extend(self._diff(p, pid, before[0], before[1], None, cause, event))
                continue
            session = p.sessions[_vkey(c)]
            fired = session.firings
            if not force and before is not None and before[0] == c.policy.version and p.firings.get(pid) == fired:
                continue  # nothing this pack counts changed, and neither did the evidence or the as-of date
            snap = _evaluate(c, p.evidence, p.as_of, session.tallies)
            self._stats.evaluations += 1
            p.firings[pid] = fired
            p.snapshots[pid] = (c.policy.version, snap)
            out.extend(self._diff(p, pid, before[0] if before else c.policy.version, before[1] if before else None,
                                  (c.policy.version, snap), cause, event))
        return out

    def _diff(self, p: _Provider, pid: str, old_version: str, old: _Snapshot | None,
              new: tuple[str, _Snapshot] | None, cause: Cause, event: int | None) -> list[Change]:
        out: list[Change] = []
        version = new[0] if new else old_version
        c = self._version(pid, version)
        old_decisions, old_held = old if old else ({}, frozenset())
        new_decisions, new_held = new[1] if new else ({}, frozenset())
        for key, t in c.triggers.items():
            if (key in new_held) != (key in old_held):
                out.append(TriggerChange(p.key, pid, version, t.owner, t.rule, t.clause, p.as_of, cause,
                                         key in new_held, event))
        for d in c.policy.model.decisions:
            a, b = old_decisions.get(d.id), new_decisions.get(d.id)
            if a is None and b is None:
                continue
            if a is None or b is None or (a.status, a.value) != (b.status, b.value):
                out.append(DecisionChange(p.key, pid, version, d.id, p.as_of, cause, a, b, event))
        return out


def _vkey(c: _Compiled) -> tuple[str, str, str]:
    return (c.policy.sha256, c.policy.id, c.policy.version)


def _day(value: date | str) -> date:
    return _as_date(value)


_CARRIER = {"id": "event", "name": "event", "service_type": "residential"}
"""The provider of the one-event record an event is validated in (only the event's problems can arise)."""


def _event_path(path: str) -> str:
    if not path.startswith("events"):
        return path
    rest = path.removeprefix("events").removeprefix("[0]")
    return "event" + rest if rest.startswith((".", "[")) or not rest else "event." + rest


def _get_path(data: Mapping[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


# ----------------------------------------------------------------- module functions


def open_stream(packs: PolicyPack | PackLibrary | Iterable[PolicyPack]) -> Stream:
    """Open a stream over one pack, a library or several packs (each version in force on the
    provider's as-of date decides). Raises :class:`StreamUnavailable` where durable-rules cannot run."""
    if isinstance(packs, PolicyPack):
        items: list[PolicyPack] = [packs]
    elif isinstance(packs, PackLibrary):
        items = [p for pid in packs for p in packs[pid]]
    else:
        items = list(packs)
    try:
        return Stream(items)
    except BackendUnavailable as exc:  # pragma: no cover - backend_problem() is checked first
        raise StreamUnavailable(str(exc)) from None


def ruleset(pack: PolicyPack) -> dict[str, Any]:
    """The durable-rules ruleset (plain JSON data) the stream registers for a pack, by its name."""
    tr = _compiled(pack).translation
    return {tr.name: copy.deepcopy(tr.ruleset)}


def trigger_rules(pack: PolicyPack) -> list[TriggerRule]:
    """The pack's triggers: the decision rows, scope rules and outcomes whose conditions count events."""
    from ._stream_rules import trigger_rules as rules

    return rules(pack.model)
