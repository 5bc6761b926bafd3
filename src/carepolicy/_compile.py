"""Compile a validated pack into plain closures, once; evaluation then only calls them.

Conditions use Kleene's three-valued logic: ``True``, ``False`` or ``None`` (not
known, because evidence is missing). ``all`` is false as soon as one part is false,
``any`` true as soon as one part is true, whatever else is missing. Each evaluation
keeps a list of the inputs found missing; a part that is settled despite gaps drops
the gaps it met, so what is left names exactly the evidence the outcome depends on.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel

from ._time import Calendar, Duration, add, subtract, window_start
from .evidence import Evidence
from .models import (
    AllOf,
    AnyOf,
    BandsDecision,
    CountEvents,
    EventTest,
    NotOf,
    Pack,
    TableDecision,
    Test,
)

Tri = bool | None


@dataclass(slots=True)
class Ctx:
    """Per-evaluation state; never shared between calls, so evaluation is thread-safe."""

    evidence: Evidence
    as_of: date
    calendar: Calendar
    missing: list[str] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    unsettled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    partial: dict[str, list[Any]] = field(default_factory=dict)
    trace: list[tuple[str, str, Tri]] = field(default_factory=list)
    windows: dict[Duration, date] = field(default_factory=dict)


Cond = Callable[[Ctx], Tri]
Getter = Callable[[Evidence], Any]


def make_getter(path: str) -> Getter:
    """Read a dotted path of declared model fields; ``None`` anywhere on the way means not known."""
    steps = [operator.attrgetter(p) for p in path.split(".")]
    if len(steps) == 1:
        return steps[0]
    if len(steps) == 2:
        a, b = steps

        def get2(ev: Any) -> Any:
            v = a(ev)
            return None if v is None else b(v)

        return get2

    def get(ev: Any) -> Any:
        v = ev
        for step in steps:
            v = step(v)
            if v is None:
                return None
        return v

    return get


class Compiler:
    """Turns pack conditions into closures. Assumes the pack passed :mod:`carepolicy._check`."""

    def __init__(self, pack: Pack, calendar: Calendar) -> None:
        self.pack = pack
        self.calendar = calendar
        self.inputs = {i.id: i for i in pack.inputs}
        self.scales = {s.id: s for s in pack.scales}
        self.getters: dict[str, Getter] = {i.id: make_getter(i.path) for i in pack.inputs}
        self.decision_scale = {d.id: d.scale for d in pack.decisions}

    # -- ranks -----------------------------------------------------------
    def rank_of(self, scale_id: str | None) -> dict[Any, int] | None:
        if scale_id is None:
            return None
        return {v.id: i for i, v in enumerate(self.scales[scale_id].values)}

    def subject_scale(self, test: Test) -> str | None:
        kind, subject = test.subject
        if kind == "decision":
            return self.decision_scale[subject]
        first = subject if kind == "input" else subject[0]
        return self.inputs[first].scale

    # -- conditions ------------------------------------------------------
    def condition(self, cond: Any) -> Cond:
        if isinstance(cond, AllOf):
            return _all([self.condition(c) for c in cond.all])
        if isinstance(cond, AnyOf):
            return _any([self.condition(c) for c in cond.any])
        if isinstance(cond, NotOf):
            inner = self.condition(cond.not_)
            return lambda ctx: None if (r := inner(ctx)) is None else not r
        if isinstance(cond, CountEvents):
            return self.count_events(cond)
        if isinstance(cond, Test):
            return self.test(cond)
        raise TypeError(f"unknown condition {type(cond).__name__}")  # pragma: no cover - models are closed

    def predicate(self, test: Test) -> Callable[[Any], bool]:
        """The operator as a two-valued function of a known value."""
        op, arg = test.operator
        rank = self.rank_of(self.subject_scale(test))
        if op == "is":
            return lambda v: v == arg
        if op == "is_not":
            return lambda v: v != arg
        if op == "in":
            members = frozenset(arg)
            return lambda v: v in members
        if op == "not_in":
            members = frozenset(arg)
            return lambda v: v not in members
        if op in ("at_least", "at_most", "above", "below"):
            cmp = {"at_least": operator.ge, "at_most": operator.le, "above": operator.gt, "below": operator.lt}[op]
            return lambda v: cmp(v, arg)
        if op in ("worse_than", "no_better_than", "better_than", "no_worse_than"):
            assert rank is not None
            bound = rank[arg]
            cmp = {"worse_than": operator.gt, "no_better_than": operator.ge, "better_than": operator.lt,
                   "no_worse_than": operator.le}[op]
            return lambda v: cmp(rank[v], bound)
        raise AssertionError(op)  # pragma: no cover

    def test(self, test: Test) -> Cond:
        kind, subject = test.subject
        op, arg = test.operator
        if kind == "decision":
            return self._decision_test(subject, test)
        if kind == "input":
            names = [subject]
        else:
            names = list(subject)
        getters = [self.getters[n] for n in names]
        if op == "known":
            want = bool(arg)
            leaf_known: list[Cond] = [
                (lambda g: (lambda ctx: (g(ctx.evidence) is not None) == want))(g) for g in getters
            ]
            return _quantify(kind, leaf_known)
        if op in ("within", "older_than"):
            duration: Duration = arg
            leaves = [self._date_test(n, g, duration, op == "within") for n, g in zip(names, getters)]
            return _quantify(kind, leaves)
        pred = self.predicate(test)
        leaves = [_leaf(n, g, pred) for n, g in zip(names, getters)]
        return _quantify(kind, leaves)

    def _date_test(self, name: str, get: Getter, duration: Duration, within: bool) -> Cond:
        calendar = self.calendar

        def check(ctx: Ctx) -> Tri:
            v = get(ctx.evidence)
            if v is None:
                ctx.missing.append(name)
                return None
            limit = subtract(ctx.as_of, duration, calendar)
            return (v > limit) if within else (v <= limit)

        return check

    def _decision_test(self, decision_id: str, test: Test) -> Cond:
        op, arg = test.operator
        if op == "known":
            want = bool(arg)
            return lambda ctx: (ctx.values.get(decision_id) is not None) == want
        pred = self.predicate(test)
        # A collected decision only gains values as evidence arrives, so a value already
        # collected settles `is`/`in` even while other rows are open.
        positive = op in ("is", "in")

        def check(ctx: Ctx) -> Tri:
            v = ctx.values.get(decision_id)
            if v is None:
                if positive and any(pred(x) for x in ctx.partial.get(decision_id, ())):
                    return True
                if decision_id in ctx.unsettled:
                    ctx.missing.extend(ctx.unsettled[decision_id])
                    return None
                return False  # decided, but gave no value: no value satisfies a test
            if isinstance(v, list):  # a collected decision: does any collected value pass?
                return any(pred(x) for x in v)
            return pred(v)

        return check

    def count_events(self, cond: CountEvents) -> Cond:
        q = cond.count_events
        name = q.input
        get = self.getters[name]
        kinds = frozenset(q.kinds)
        within = q.within
        calendar = self.calendar
        filters = [self._event_filter(t) for t in q.where]
        group = operator.attrgetter(q.group_by) if q.group_by else None
        at_least, at_most = cond.at_least, cond.at_most

        def check(ctx: Ctx) -> Tri:
            events = get(ctx.evidence)
            if events is None:
                ctx.missing.append(name)
                return None
            start = None
            if within is not None:
                start = ctx.windows.get(within)
                if start is None:
                    start = ctx.windows[within] = window_start(ctx.as_of, within, calendar)
            as_of = ctx.as_of
            known: dict[Any, int] = {}
            maybe: dict[Any, int] = {}
            for e in events:
                if e.kind not in kinds or e.date > as_of or (start is not None and e.date < start):
                    continue
                verdict: Tri = True
                for f in filters:
                    r = f(e)
                    if r is False:
                        verdict = False
                        break
                    if r is None:
                        verdict = None
                if verdict is False:
                    continue
                key = group(e) if group else 0
                if verdict is True and key is not None:
                    known[key] = known.get(key, 0) + 1
                else:
                    maybe[key] = maybe.get(key, 0) + 1
            floating = maybe.pop(None, 0)  # events whose group is not known could join any group
            lo = max(known.values(), default=0)
            hi = max((known.get(k, 0) + maybe.get(k, 0) for k in set(known) | set(maybe)), default=0) + floating
            if at_least is not None:
                if lo >= at_least:
                    return True
                if hi < at_least:
                    return False
            else:
                assert at_most is not None
                if hi <= at_most:
                    return True
                if lo > at_most:
                    return False
            ctx.missing.append(f"{name}[{'/'.join(sorted(kinds))}]")
            return None

        return check

    def _event_filter(self, t: EventTest) -> Callable[[Any], Tri]:
        get = operator.attrgetter(t.field)
        if t.is_ is not None:
            want = t.is_
            return lambda e: None if (v := get(e)) is None else v == want
        if t.in_ is not None:
            members = frozenset(t.in_)
            return lambda e: None if (v := get(e)) is None else v in members
        order = _event_field_order(t.field)
        if order is not None:
            bound = order.index(t.at_least)
            return lambda e: None if (v := get(e)) is None else order.index(v) >= bound
        threshold = t.at_least
        return lambda e: None if (v := get(e)) is None else v >= threshold


def _event_field_order(field_name: str) -> list[Any] | None:
    from typing import get_args

    from .evidence import Event

    annotation = Event.model_fields[field_name].annotation
    for arg in get_args(annotation):
        values = get_args(arg)
        if values and all(isinstance(v, str) for v in values):
            return list(values)
    return None


def _leaf(name: str, get: Getter, pred: Callable[[Any], bool]) -> Cond:
    def leaf(ctx: Ctx) -> Tri:
        v = get(ctx.evidence)
        if v is None:
            ctx.missing.append(name)
            return None
        return pred(v)

    return leaf


def _quantify(kind: str, leaves: list[Cond]) -> Cond:
    if len(leaves) == 1:
        return leaves[0]
    return _all(leaves) if kind == "all_of" else _any(leaves)


def _all(parts: Sequence[Cond]) -> Cond:
    parts = tuple(parts)

    def all_(ctx: Ctx) -> Tri:
        mark = len(ctx.missing)
        unknown = False
        for p in parts:
            r = p(ctx)
            if r is False:
                del ctx.missing[mark:]
                return False
            if r is None:
                unknown = True
        return None if unknown else True

    return all_


def _any(parts: Sequence[Cond]) -> Cond:
    parts = tuple(parts)

    def any_(ctx: Ctx) -> Tri:
        mark = len(ctx.missing)
        unknown = False
        for p in parts:
            r = p(ctx)
            if r is True:
                del ctx.missing[mark:]
                return True
            if r is None:
                unknown = True
        return None if unknown else False

    return any_


# ----------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a compiled decision produced, before it is dressed as a public result."""

    status: str  # decided | insufficient_evidence | no_value | conflict
    value: Any
    rules: tuple[str, ...]
    undetermined: tuple[str, ...]
    missing: tuple[str, ...]
    judgements: tuple[tuple[str, str], ...] = ()


DecisionFn = Callable[[Ctx], Outcome]


def compile_bands(c: Compiler, d: BandsDecision) -> DecisionFn:
    get = c.getters[d.input]
    name = d.input
    bands = tuple(
        (b.id, b.value, b.min, b.max, b.below, ((b.id, b.judgement),) if b.judgement else ())
        for b in d.bands
    )
    first_only = d.allow_overlaps
    decision_judgement = ((d.id, d.judgement),) if d.judgement else ()

    def run(ctx: Ctx) -> Outcome:
        v = get(ctx.evidence)
        if v is None:
            ctx.trace.append((d.id, name, None))
            return Outcome("insufficient_evidence", None, (), tuple(b[0] for b in bands), (name,), decision_judgement)
        for bid, value, lo, hi, below, judg in bands:
            if (lo is None or v >= lo) and (hi is None or v <= hi) and (below is None or v < below):
                ctx.trace.append((d.id, bid, True))
                return Outcome("decided", value, (bid,), (), (), decision_judgement + judg)
            if not first_only:
                continue
        ctx.trace.append((d.id, name, False))
        return Outcome("no_value", None, (), (), (), decision_judgement)

    return run


def compile_table(c: Compiler, d: TableDecision) -> DecisionFn:
    rows = tuple(
        (r.id, c.condition(r.when), r.value, ((r.id, r.judgement),) if r.judgement else ()) for r in d.rows
    )
    default = d.default
    default_value = default.value if default else None
    default_j = (("default", default.judgement),) if default and default.judgement else ()
    dj = ((d.id, d.judgement),) if d.judgement else ()
    rank = c.rank_of(d.scale)
    key: Callable[[Any], Any] = (lambda v: rank[v]) if rank is not None else (lambda v: v)
    did = d.id
    hit = d.hit

    def evaluate_rows(ctx: Ctx, stop_at_first: bool) -> tuple[list[tuple[str, Any, tuple]], list[tuple[str, Any, tuple[str, ...]]]]:
        """Rows that hold, and rows that could not be checked with the inputs each one lacked."""
        hits: list[tuple[str, Any, tuple]] = []
        unknown: list[tuple[str, Any, tuple[str, ...]]] = []
        for rid, cond, value, judg in rows:
            mark = len(ctx.missing)
            r = cond(ctx)
            ctx.trace.append((did, rid, r))
            if r is True:
                hits.append((rid, value, judg))
                if stop_at_first:
                    break
            elif r is None:
                unknown.append((rid, value, tuple(ctx.missing[mark:])))
                if stop_at_first:
                    break
        return hits, unknown

    def lacking(rows_open: list[tuple[str, Any, tuple[str, ...]]]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for u in rows_open for m in u[2]))

    def run_first(ctx: Ctx) -> Outcome:
        hits, unknown = evaluate_rows(ctx, True)
        if unknown:
            return Outcome("insufficient_evidence", None, (), (unknown[0][0],), lacking(unknown), dj)
        if hits:
            rid, value, judg = hits[0]
            return Outcome("decided", value, (rid,), (), (), dj + judg)
        return _default(ctx)

    def _default(ctx: Ctx) -> Outcome:
        if default is None:
            return Outcome("no_value", None, (), (), (), dj)
        return Outcome("decided", default_value, ("default",), (), (), dj + default_j)

    def run_unique(ctx: Ctx) -> Outcome:
        hits, unknown = evaluate_rows(ctx, False)
        if len(hits) > 1:
            return Outcome("conflict", None, tuple(h[0] for h in hits), tuple(u[0] for u in unknown), (), dj)
        if hits:
            rid, value, judg = hits[0]
            return Outcome("decided", value, (rid,), tuple(u[0] for u in unknown), (), dj + judg)
        if unknown:
            return Outcome("insufficient_evidence", None, (), tuple(u[0] for u in unknown), lacking(unknown), dj)
        return _default(ctx)

    def run_worst(ctx: Ctx) -> Outcome:
        hits, unknown = evaluate_rows(ctx, False)
        if hits:
            worst = max(key(h[1]) for h in hits)
            chosen = [h for h in hits if key(h[1]) == worst]
            value = chosen[0][1]
            floor = worst
        else:
            chosen = []
            value = default_value
            floor = key(default_value) if default is not None else None
        # A row we could not check matters if it could change the result: when some row
        # holds, only if it is worse; when none holds, if its value differs from the default.
        if chosen:
            pending = [u for u in unknown if key(u[1]) > floor]
        else:
            pending = [u for u in unknown if floor is None or key(u[1]) != floor]
        if pending:
            return Outcome(
                "insufficient_evidence", None, tuple(h[0] for h in chosen),
                tuple(u[0] for u in pending), lacking(pending), dj,
            )
        if not chosen:
            return _default(ctx)
        judg = tuple(j for h in chosen for j in h[2])
        return Outcome("decided", value, tuple(h[0] for h in chosen), (), (), dj + judg)

    def run_collect(ctx: Ctx) -> Outcome:
        hits, unknown = evaluate_rows(ctx, False)
        values = list(dict.fromkeys(h[1] for h in hits))
        values.sort(key=key)
        judg = tuple(j for h in hits for j in h[2])
        if unknown:
            return Outcome("insufficient_evidence", values, tuple(h[0] for h in hits),
                           tuple(u[0] for u in unknown), lacking(unknown), dj + judg)
        if not hits and default is not None:
            return Outcome("decided", [default_value], ("default",), (), (), dj + default_j)
        return Outcome("decided", values, tuple(h[0] for h in hits), (), (), dj + judg)

    return {"first": run_first, "unique": run_unique, "worst": run_worst, "collect": run_collect}[hit]


def compile_decision(c: Compiler, d: BandsDecision | TableDecision) -> DecisionFn:
    if isinstance(d, BandsDecision):
        return compile_bands(c, d)
    return compile_table(c, d)


def due_date(as_of: date, anchor: date | None, after: Duration | None, before: Duration | None, calendar: Calendar) -> date | None:
    base = as_of if anchor is None else anchor
    if after is not None:
        return add(base, after, calendar)
    assert before is not None
    return subtract(base, before, calendar)


def model_path_type(model: type[BaseModel], path: str) -> Any:
    """The annotation at a dotted path of a pydantic model, or raise KeyError naming the bad part."""

    current: Any = model
    annotation: Any = None
    for part in path.split("."):
        target = _model_in(current)
        if target is None or part not in target.model_fields:
            raise KeyError(part)
        annotation = target.model_fields[part].annotation
        current = annotation
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    from typing import get_args

    stack = [annotation]
    while stack:
        t = stack.pop()
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
        stack.extend(get_args(t))
    return None
