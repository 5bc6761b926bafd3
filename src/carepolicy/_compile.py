"""Compile a validated pack into plain closures, once; evaluation then only calls them.

Conditions use Kleene's three-valued logic: ``True``, ``False`` or ``None`` (not
known, because evidence is missing). ``all`` is false as soon as one part is false,
``any`` true as soon as one part is true, whatever else is missing. Each evaluation
keeps a list of the inputs found missing; a part that is settled despite gaps drops
the gaps it met, so what is left names exactly the evidence the outcome depends on.
"""

from __future__ import annotations

import calendar as _calendar
import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

from pydantic import BaseModel

from ._time import Calendar, Duration, add, subtract, window_start
from ._vocabulary import InputSpec, event_field_type, resolve_inputs
from .errors import Diagnostic, EvaluationError
from .evidence import Evidence
from .models import (
    MONTHS,
    AllOf,
    AnyOf,
    BandsDecision,
    CountEvents,
    EventTest,
    InputRef,
    NotOf,
    Pack,
    TableDecision,
    Test,
)

Tri = bool | None


@dataclass(frozen=True, slots=True)
class Range:
    """A whole number known only to lie between ``lo`` and ``hi`` (a count with unknown members)."""

    lo: int
    hi: int


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
    limits: dict[Duration, date] = field(default_factory=dict)
    derived: dict[str, tuple[Any, tuple[str, ...]]] = field(default_factory=dict)
    judged: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Professional-judgement flags of each decision decided so far, inherited by rows that read it."""
    overrides: dict[str, Any] | None = None
    """Values put in place of missing inputs, to ask what the evidence would decide if they were known."""
    reads: dict[str, Any] = field(default_factory=dict)
    """Each input read so far, as the evidence gives it (rows read the same inputs again and again)."""
    counts: dict[int, tuple[tuple[int, int] | None, tuple[str, ...]]] = field(default_factory=dict)
    """Each event query counted so far, with the missing evidence it recorded."""
    out_of_scope: list[str] = field(default_factory=list)
    """The scope rules that hold (each with its reason and clause): then no decision is made."""
    by_kind: dict[str, dict[str, list[Any]]] = field(default_factory=dict)
    """Each event list read so far (by input), its events grouped by kind, so a query looks only at its kinds."""


Cond = Callable[[Ctx], Tri]
_QUERY_IDS = itertools.count()
Reader = Callable[[Ctx], Any]
"""Reads one input: its value, ``None`` when not known (the missing inputs are then already
recorded in ``ctx.missing``) or a :class:`Range` (likewise recorded)."""


def _step(obj: Any, name: str) -> Any:
    if isinstance(obj, BaseModel):
        return getattr(obj, name, None)
    if isinstance(obj, dict):
        return obj.get(name)
    return None


def make_getter(path: str) -> Callable[[Any], Any]:
    """Read a dotted path of a record (models or plain mappings); ``None`` anywhere means not known."""
    steps = path.split(".")
    if len(steps) == 1:
        only = steps[0]
        return lambda ev: _step(ev, only)

    def get(ev: Any) -> Any:
        v = ev
        for name in steps:
            v = _step(v, name)
            if v is None:
                return None
        return v

    return get


def _round(value: Fraction, mode: str | None, places: int) -> int | float | Fraction:
    if mode is None:
        return value
    scale = 10 ** places
    x = value * scale
    if mode == "down":
        n = x.numerator // x.denominator
    elif mode == "up":
        n = -((-x.numerator) // x.denominator)
    elif mode == "half_up":  # nearest, halves away from zero
        y = abs(x) + Fraction(1, 2)
        n = y.numerator // y.denominator
        n = -n if x < 0 else n
    else:  # half_even
        n = round(x)
    return n if places == 0 else n / scale


def _number(value: Fraction | int | float) -> int | float:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    return value


class Compiler:
    """Turns pack conditions into closures. Assumes the pack passed :mod:`carepolicy._check`."""

    def __init__(self, pack: Pack, calendar: Calendar, specs: dict[str, InputSpec] | None = None) -> None:
        self.pack = pack
        self.calendar = calendar
        self.inputs = {i.id: i for i in pack.inputs}
        self.scales = {s.id: s for s in pack.scales}
        self.specs = specs if specs is not None else resolve_inputs(pack)[0]
        self.decision_scale = {d.id: d.scale for d in pack.decisions}
        self.read: dict[str, Reader] = {}
        for inp in pack.inputs:  # derived inputs come after what they read (the checker refused cycles)
            self._reader(inp.id)

    # -- reading inputs -----------------------------------------------------
    def _reader(self, name: str) -> Reader:
        found = self.read.get(name)
        if found is not None:
            return found
        spec = self.specs[name]
        if spec.kind == "derived":
            reader = self._derived(name, self.inputs[name].derive)
        else:
            get = make_getter(spec.evidence_path)

            def reader(ctx: Ctx, get: Callable[[Any], Any] = get, name: str = name) -> Any:
                reads = ctx.reads
                if name in reads:
                    v = reads[name]
                else:
                    v = reads[name] = get(ctx.evidence)
                if v is None:
                    over = ctx.overrides
                    if over is not None and name in over:
                        return over[name]
                    ctx.missing.append(name)
                return v

        self.read[name] = reader
        return reader

    def value(self, name: str, ctx: Ctx) -> Any:
        """The value of an input for a context, without recording anything as missing."""
        mark = len(ctx.missing)
        v = self.read[name](ctx)
        del ctx.missing[mark:]
        return None if isinstance(v, Range) else v

    def _derived(self, name: str, d: Any) -> Reader:
        compute = self._compute(name, d)

        def reader(ctx: Ctx) -> Any:
            hit = ctx.derived.get(name)
            if hit is None:
                mark = len(ctx.missing)
                v = compute(ctx)
                hit = ctx.derived[name] = (v, tuple(ctx.missing[mark:]))
                return v
            ctx.missing.extend(hit[1])
            return hit[0]

        return reader

    def _compute(self, name: str, d: Any) -> Reader:
        form = d.form
        if form == "count":
            return self._count_inputs(d.count)
        if form == "count_events":
            query = self._event_counter(d.count_events)

            def count_events(ctx: Ctx) -> Any:
                bounds = query(ctx)
                if bounds is None:
                    return None
                lo, hi = bounds
                return lo if lo == hi else Range(lo, hi)

            return count_events
        if form == "days_between":
            first, second = (self._reader(x) for x in d.days_between)

            def days(ctx: Ctx) -> Any:
                a, b = first(ctx), second(ctx)
                return None if a is None or b is None else (b - a).days

            return days
        if form == "date":
            base = self._reader(d.date)
            duration, sign = (d.plus, 1) if d.plus is not None else (d.minus, -1)
            shift = add if sign > 0 else subtract
            calendar = self.calendar

            def shifted(ctx: Ctx) -> Any:
                v = base(ctx)
                if v is None:
                    return None
                try:
                    return shift(v, duration, calendar)
                except (ValueError, OverflowError):
                    raise _evaluation_error(name, f"`{d.date}` {'plus' if sign > 0 else 'minus'} {duration} "
                                            f"from {v.isoformat()} is outside the calendar") from None

            return shifted
        arithmetic = d.arithmetic()
        assert arithmetic is not None
        calc = self._arithmetic(name, arithmetic)
        mode, places = d.round, d.places

        def arith(ctx: Ctx) -> Any:
            v = calc(ctx)
            return None if v is None else _number(_round(v, mode, places))

        return arith

    def _arithmetic(self, name: str, node: Any) -> Callable[[Ctx], Fraction | None]:
        form, operands = node.form
        parts: list[Callable[[Ctx], Fraction | None]] = []
        for op in operands:
            if isinstance(op, str):
                read = self._reader(op)

                def part(ctx: Ctx, read: Reader = read) -> Fraction | None:
                    v = read(ctx)
                    return None if v is None or isinstance(v, Range) else Fraction(v)

                parts.append(part)
            elif isinstance(op, (int, float)):
                parts.append(_constant(Fraction(op)))
            else:
                parts.append(self._arithmetic(name, op))
        if_zero = None if node.if_zero is None else Fraction(node.if_zero)

        def calc(ctx: Ctx) -> Fraction | None:
            values = [p(ctx) for p in parts]  # every operand is read, so every missing one is named
            if any(v is None for v in values):
                return None
            nums: list[Fraction] = values  # type: ignore[assignment]
            if form == "sum":
                return sum(nums, Fraction(0))
            if form == "difference":
                return nums[0] - nums[1]
            if form == "product":
                out = Fraction(1)
                for v in nums:
                    out *= v
                return out
            if nums[1] == 0:
                if if_zero is not None:
                    return if_zero
                raise _evaluation_error(name, "division by zero: the divisor is 0 for this provider",
                                        "declare `if_zero:` with the value the document implies")
            return nums[0] / nums[1]

        return calc

    def _count_inputs(self, count: Any) -> Reader:
        readers = [(n, self._reader(n)) for n in count.of]
        test = Test.model_validate({"input": count.of[0], **{("is" if k == "is" else "in" if k == "in" else k): v
                                                            for k, v in count.operators()}})
        pred = self.predicate(test)

        def counted(ctx: Ctx) -> Any:
            known = unknown = 0
            for _, read in readers:
                v = read(ctx)
                if v is None or isinstance(v, Range):
                    unknown += 1
                elif pred(v):
                    known += 1
            return known if unknown == 0 else Range(known, known + unknown)

        return counted

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
        names = [subject] if kind == "input" else list(subject)
        readers = [self.read[n] for n in names]
        if op == "known":
            want = bool(arg)

            def known_leaf(read: Reader) -> Cond:
                def check(ctx: Ctx) -> Tri:
                    mark = len(ctx.missing)
                    v = read(ctx)
                    del ctx.missing[mark:]
                    return (v is not None and not isinstance(v, Range)) == want

                return check

            return _quantify(kind, [known_leaf(r) for r in readers])
        if op in ("within", "older_than"):
            duration: Duration = arg
            leaves = [self._date_test(r, duration, op == "within") for r in readers]
            return _quantify(kind, leaves)
        if isinstance(arg, InputRef):
            other = self.read[arg.input]
            rank = self.rank_of(self.subject_scale(test))
            return _quantify(kind, [_compare_leaf(r, other, op, rank) for r in readers])
        pred = self.predicate(test)
        ranged = _range_predicate(op, arg)
        leaves = [_leaf(r, pred, ranged) for r in readers]
        return _quantify(kind, leaves)

    def _date_test(self, read: Reader, duration: Duration, within: bool) -> Cond:
        calendar = self.calendar

        def check(ctx: Ctx) -> Tri:
            v = read(ctx)
            if v is None:
                return None
            limit = ctx.limits.get(duration)
            if limit is None:
                limit = ctx.limits[duration] = subtract(ctx.as_of, duration, calendar)
            # a window ends on the as-of date: a date after it is not within the last `duration`
            return (limit < v <= ctx.as_of) if within else (v <= limit)

        return check

    def _decision_test(self, decision_id: str, test: Test) -> Cond:
        op, arg = test.operator
        if op == "known":
            want = bool(arg)
            return lambda ctx: (ctx.values.get(decision_id) is not None) == want
        pred = self.predicate(test)
        # A collected decision only gains values as evidence arrives, and a test on one holds
        # when a collected value passes it, so a value already collected settles the test
        # even while other rows are open (found by the reference evaluator: this was `is`/`in` only).

        def check(ctx: Ctx) -> Tri:
            v = ctx.values.get(decision_id)
            if v is None:
                if any(pred(x) for x in ctx.partial.get(decision_id, ())):
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
        counter = self._event_counter(cond.count_events)
        at_least, at_most = cond.at_least, cond.at_most
        q = cond.count_events
        label = f"{q.input}[{'/'.join(sorted(q.kinds))}]"

        def check(ctx: Ctx) -> Tri:
            mark = len(ctx.missing)
            bounds = counter(ctx)
            if bounds is None:
                return None
            lo, hi = bounds
            if at_least is not None:
                if lo >= at_least:
                    del ctx.missing[mark:]
                    return True
                if hi < at_least:
                    del ctx.missing[mark:]
                    return False
            else:
                assert at_most is not None
                if hi <= at_most:
                    del ctx.missing[mark:]
                    return True
                if lo > at_most:
                    del ctx.missing[mark:]
                    return False
            if len(ctx.missing) == mark:
                ctx.missing.append(label)
            return None

        return check

    def _event_counter(self, q: Any) -> Callable[[Ctx], tuple[int, int] | None]:
        """How many events match a query, at least and at most (unknown fields widen the range).

        Returns ``None`` when the events are not known at all; a range that is not a single
        number records the query as missing evidence.
        """
        name = q.input
        read = self.read[name]
        kinds = tuple(sorted(set(q.kinds)))
        within = q.within
        calendar = self.calendar
        filters = [self._event_filter(t) for t in q.where]
        group = operator.attrgetter(q.group_by) if q.group_by else None
        label = f"{name}[{'/'.join(sorted(kinds))}]"
        key = next(_QUERY_IDS)

        def count(ctx: Ctx) -> tuple[int, int] | None:
            memo = ctx.counts.get(key)
            if memo is not None:  # counted already in this evaluation: the same answer, the same gaps
                ctx.missing.extend(memo[1])
                return memo[0]
            mark = len(ctx.missing)
            found = tally(ctx)
            ctx.counts[key] = (found, tuple(ctx.missing[mark:]))
            return found

        def tally(ctx: Ctx) -> tuple[int, int] | None:
            events = read(ctx)
            if events is None:
                return None
            grouped = ctx.by_kind.get(name)
            if grouped is None:
                grouped = ctx.by_kind[name] = {}
                for e in events:
                    found = grouped.get(e.kind)
                    if found is None:
                        grouped[e.kind] = [e]
                    else:
                        found.append(e)
            candidates = [e for k in kinds for e in grouped.get(k, ())]  # in any order: they are counted
            if not candidates:  # no event of these kinds: surely none
                return 0, 0
            start = None
            if within is not None:
                start = ctx.windows.get(within)
                if start is None:
                    start = ctx.windows[within] = window_start(ctx.as_of, within, calendar)
            as_of = ctx.as_of
            known: dict[Any, int] = {}
            maybe: dict[Any, int] = {}
            sure_floating = 0  # events that surely match but whose group is not known
            for e in candidates:
                if e.date > as_of or (start is not None and e.date < start):
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
                    sure_floating += verdict is True
            floating = maybe.pop(None, 0)  # events whose group is not known could join any group
            # at fewest, each surely matching event of an unknown group is alone in a group of its own
            # (found by the reference evaluator: such events were left out of the lower bound)
            lo = max(max(known.values(), default=0), 1 if sure_floating else 0)
            hi = max((known.get(k, 0) + maybe.get(k, 0) for k in set(known) | set(maybe)), default=0) + floating
            if hi != lo:
                ctx.missing.append(label)
            return lo, hi

        return count

    def _event_filter(self, t: EventTest) -> Callable[[Any], Tri]:
        get = operator.attrgetter(t.field)
        if t.is_ is not None:
            want = t.is_
            return lambda e: None if (v := get(e)) is None else v == want
        if t.in_ is not None:
            members = frozenset(t.in_)
            return lambda e: None if (v := get(e)) is None else v in members
        values = event_field_type(t.field).values
        order = list(values) if values is not None and all(isinstance(v, str) for v in values) else None
        if order is not None:
            bound = order.index(t.at_least)
            return lambda e: None if (v := get(e)) is None else order.index(v) >= bound
        threshold = t.at_least
        return lambda e: None if (v := get(e)) is None else v >= threshold


def _leaf(read: Reader, pred: Callable[[Any], bool], ranged: Callable[[Range], Tri]) -> Cond:
    def leaf(ctx: Ctx) -> Tri:
        mark = len(ctx.missing)
        v = read(ctx)
        if v is None:
            return None
        if type(v) is Range:
            r = ranged(v)
            if r is not None:
                del ctx.missing[mark:]
            return r
        return pred(v)

    return leaf


def _range_predicate(op: str, arg: Any) -> Callable[[Range], Tri]:
    """A test on a number known only to lie in ``[lo, hi]``: settled when every value there agrees."""
    if op in ("at_least", "at_most", "above", "below"):
        cmp = {"at_least": operator.ge, "at_most": operator.le, "above": operator.gt, "below": operator.lt}[op]

        def monotone(r: Range) -> Tri:
            a, b = cmp(r.lo, arg), cmp(r.hi, arg)
            return a if a == b else None

        return monotone
    if op in ("is", "is_not", "in", "not_in"):
        members = {arg} if op in ("is", "is_not") else set(arg)
        positive = op in ("is", "in")

        def membership(r: Range) -> Tri:
            inside = [m for m in members if isinstance(m, (int, float)) and not isinstance(m, bool) and r.lo <= m <= r.hi]
            if not inside:
                return not positive
            if len(inside) == r.hi - r.lo + 1 and all(float(m).is_integer() for m in inside):
                return positive
            return None

        return membership
    return lambda r: None


def _interval(v: Any, rank: dict[Any, int] | None) -> tuple[Any, Any]:
    if isinstance(v, Range):
        return v.lo, v.hi
    if rank is not None:
        return rank[v], rank[v]
    return v, v


def _compare_leaf(read: Reader, other: Reader, op: str, rank: dict[Any, int] | None) -> Cond:
    """A test of one input against another (``{input: a, at_most: {input: b}}``)."""

    def check(ctx: Ctx) -> Tri:
        mark = len(ctx.missing)
        a, b = read(ctx), other(ctx)
        if a is None or b is None:
            return None
        (alo, ahi), (blo, bhi) = _interval(a, rank), _interval(b, rank)
        result: Tri
        if op in ("at_least", "no_better_than"):
            result = True if alo >= bhi else False if ahi < blo else None
        elif op in ("at_most", "no_worse_than"):
            result = True if ahi <= blo else False if alo > bhi else None
        elif op in ("above", "worse_than"):
            result = True if alo > bhi else False if ahi <= blo else None
        elif op in ("below", "better_than"):
            result = True if ahi < blo else False if alo >= bhi else None
        else:
            same = True if (alo == ahi == blo == bhi) else False if (ahi < blo or bhi < alo) else None
            result = same if op == "is" or same is None else not same
        if result is not None:
            del ctx.missing[mark:]
        return result

    return check


def _constant(value: Fraction) -> Callable[[Ctx], Fraction | None]:
    return lambda ctx: value


def _evaluation_error(input_id: str, message: str, hint: str | None = None) -> EvaluationError:
    return EvaluationError(f"input `{input_id}` cannot be computed", [Diagnostic(
        code="CP410", message=f"input `{input_id}`: {message}", path=f"inputs.{input_id}", hint=hint)])


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


def match_band(bands: Sequence[Any], x: Any) -> Any | None:
    """The first band listed whose bounds hold ``x`` (``min``/``max`` inclusive, ``below`` exclusive), or ``None``.

    The one reading of bands: evaluation and :func:`carepolicy.testing.boundaries` both use it
    (the first band wins where ``allow_overlaps`` lets bands overlap).
    """
    for b in bands:
        if (b.min is None or x >= b.min) and (b.max is None or x <= b.max) and (b.below is None or x < b.below):
            return b
    return None


def compile_bands(c: Compiler, d: BandsDecision) -> DecisionFn:
    read = c.read[d.input]
    bands = tuple(d.bands)
    judged = {b.id: ((b.id, b.judgement),) if b.judgement else () for b in bands}
    decision_judgement = ((d.id, d.judgement),) if d.judgement else ()
    name = d.input

    def band_of(v: Any) -> tuple[str, Any, tuple[tuple[str, str], ...]] | None:
        b = match_band(bands, v)
        return None if b is None else (b.id, b.value, judged[b.id])

    def run(ctx: Ctx) -> Outcome:
        mark = len(ctx.missing)
        v = read(ctx)
        if isinstance(v, Range):
            low, high = band_of(v.lo), band_of(v.hi)
            if low is not None and high is not None and low[0] == high[0]:
                del ctx.missing[mark:]
                v = v.lo
            else:
                ctx.trace.append((d.id, name, None))
                return Outcome("insufficient_evidence", None, (), tuple(b.id for b in bands),
                               tuple(ctx.missing[mark:]) or (name,), decision_judgement)
        if v is None:
            ctx.trace.append((d.id, name, None))
            return Outcome("insufficient_evidence", None, (), tuple(b.id for b in bands),
                           tuple(ctx.missing[mark:]) or (name,), decision_judgement)
        found = band_of(v)
        if found is not None:
            bid, value, judg = found
            ctx.trace.append((d.id, bid, True))
            return Outcome("decided", value, (bid,), (), (), decision_judgement + judg)
        ctx.trace.append((d.id, name, False))
        return Outcome("no_value", None, (), (), (), decision_judgement)

    return run


def compile_table(c: Compiler, d: TableDecision) -> DecisionFn:
    rows = tuple(
        (r.id, c.condition(r.when), r.value, ((r.id, r.judgement),) if r.judgement else (), _decisions_read(r.when))
        for r in d.rows
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
        for rid, cond, value, judg, reads in rows:
            mark = len(ctx.missing)
            r = cond(ctx)
            ctx.trace.append((did, rid, r))
            if r is True:
                # a value built on a decision left to judgement is left to judgement too
                inherited = tuple((f"{ref}/{rule}", reason) for ref in reads for rule, reason in ctx.judged.get(ref, ()))
                hits.append((rid, value, judg + inherited))
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

    chosen = {"first": run_first, "unique": run_unique, "worst": run_worst, "collect": run_collect}[hit]
    return _Table(chosen, rows, hit, default is not None, default_value, key)


class _Table:
    """A compiled decision table: callable like any decision, with its rows kept for analysis."""

    __slots__ = ("run", "rows", "hit", "has_default", "default_value", "key")

    def __init__(self, run: DecisionFn, rows: tuple[Any, ...], hit: str, has_default: bool, default_value: Any,
                 key: Callable[[Any], Any]) -> None:
        self.run, self.rows, self.hit = run, rows, hit
        self.has_default, self.default_value, self.key = has_default, default_value, key

    def __call__(self, ctx: Ctx) -> Outcome:
        return self.run(ctx)


def feed(ctx: Ctx, decision_id: str, o: Outcome) -> tuple[str, ...]:
    """Record a decision's outcome so later rows, outcomes and ladder guards read it.

    The one place where a decision is fed forward (``evaluate``, ``decide`` and case moves
    all come here). A decided value (or none) is recorded as such; an open decision records
    what it lacks, and a collected decision the values it has collected so far, since those
    hold whatever the missing evidence says. Returns what the decision lacks (empty when settled).
    """
    if o.judgements:
        ctx.judged[decision_id] = o.judgements
    if o.status == "decided":
        ctx.values[decision_id] = o.value
        return ()
    if o.status == "no_value":
        ctx.values[decision_id] = None
        return ()
    # a conflict is not missing evidence: downstream tests name the decision instead
    missing = tuple(dict.fromkeys(o.missing)) or (f"{decision_id} ({o.status.replace('_', ' ')})",)
    ctx.unsettled[decision_id] = missing
    if isinstance(o.value, list):
        ctx.partial[decision_id] = o.value
    return missing


def compile_decision(c: Compiler, d: BandsDecision | TableDecision) -> DecisionFn:
    if isinstance(d, BandsDecision):
        return compile_bands(c, d)
    return compile_table(c, d)


def due_date(as_of: date, anchor: date | None, due: Any, calendar: Calendar) -> tuple[date | None, date]:
    """When an outcome is due: ``(not before, by)``; the first is ``None`` except for month windows."""
    base = as_of if anchor is None else anchor
    if due.after is not None:
        return None, add(base, due.after, calendar)
    if due.before is not None:
        return None, subtract(base, due.before, calendar)
    if due.day is not None:
        year, month = base.year, base.month
        if due.month == "next":
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return None, date(year, month, min(due.day, _calendar.monthrange(year, month)[1]))
    first = MONTHS.index(due.months[0]) + 1
    last = MONTHS.index(due.months[-1]) + 1
    year = base.year + (1 if due.year == "next" else 0)
    end_year = year + (1 if last < first else 0)
    return date(year, first, 1), date(end_year, last, _calendar.monthrange(end_year, last)[1])


def _decisions_read(cond: Any) -> tuple[str, ...]:
    """The earlier decisions a condition reads, in the order written."""
    out: list[str] = []
    stack = [cond]
    while stack:
        c = stack.pop()
        if isinstance(c, AllOf):
            stack.extend(reversed(c.all))
        elif isinstance(c, AnyOf):
            stack.extend(reversed(c.any))
        elif isinstance(c, NotOf):
            stack.append(c.not_)
        elif isinstance(c, Test) and c.decision is not None and c.decision not in out:
            out.append(c.decision)
    return tuple(out)
