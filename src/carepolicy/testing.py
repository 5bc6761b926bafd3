"""Test helpers derived from the packs themselves: hypothesis strategies and boundary cases.

The edges are in the YAML, so the tests come from the YAML: change a threshold
and the generated cases move with it, with no code change.

* :func:`evidence` — a hypothesis strategy of ``(evidence dict, as_of)`` valid for a pack,
  biased towards every threshold it declares; ``gaps=True`` leaves inputs out.
* :func:`boundaries` — every band bound, numeric threshold, event count, event window
  and date window of a pack as concrete cases with the result the pack's own text implies.
* :func:`worsen` — the same evidence made worse in one input, following the pack's
  declared ``worse:`` direction (for monotonicity properties).

Requires the ``dev`` extra (hypothesis).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from ._check import pack_conditions, walk_conditions
from ._compile import match_band
from ._ladder_testing import calendar_shift, window_first_day
from ._time import Duration
from ._vocabulary import event_field_type, shared_fields
from .engine import PolicyPack, path_text
from .evidence import EVENT_KINDS
from .models import BandsDecision, CountEvents, Input, InputRef, Test

__all__ = ["evidence", "boundaries", "Boundary", "worsen", "worsenings", "monotonicity_violations", "input_domain", "AS_OF_RANGE"]

AS_OF_RANGE = (date(2023, 1, 1), date(2027, 12, 31))


# ----------------------------------------------------------------- what the pack reads


def _field_bounds(pack: PolicyPack, input_id: str, near: Iterable[float] = ()) -> tuple[int, int]:
    """The range evidence may give an integer input, narrowed to a few hundred around its thresholds."""
    vt = pack.inputs[input_id].type
    near = [int(v) for v in near]
    lo = int(vt.lo) if vt.lo is not None and vt.lo > -10_000 else min([0, *near])
    hi = int(vt.hi) if vt.hi is not None and vt.hi < 1_000_000_000 else max([1000, *(2 * v + 10 for v in near)])
    return int(lo), int(hi)


def _numeric_thresholds(pack: PolicyPack) -> dict[str, set[float]]:
    """Every number an input is compared with, by input id."""
    out: dict[str, set[float]] = {}
    for d in pack.model.decisions:
        if isinstance(d, BandsDecision):
            for b in d.bands:
                for v in (b.min, b.max, b.below):
                    if v is not None:
                        out.setdefault(d.input, set()).add(v)
    for cond, _, _ in pack_conditions(pack.model):
        for leaf, _ in walk_conditions(cond, ()):
            if isinstance(leaf, Test):
                kind, subject = leaf.subject
                op, arg = leaf.operator
                if kind != "decision" and op in ("at_least", "at_most", "above", "below"):
                    for name in [subject] if kind == "input" else subject:
                        out.setdefault(name, set()).add(arg)
    return out


def _event_queries(pack: PolicyPack) -> list[Any]:
    return [leaf.count_events for cond, _, _ in pack_conditions(pack.model)
            for leaf, _ in walk_conditions(cond, ()) if isinstance(leaf, CountEvents)]


def _durations(pack: PolicyPack) -> dict[str, set[Duration]]:
    out: dict[str, set[Duration]] = {}
    for cond, _, _ in pack_conditions(pack.model):
        for leaf, _ in walk_conditions(cond, ()):
            if isinstance(leaf, Test) and leaf.operator[0] in ("within", "older_than"):
                kind, subject = leaf.subject
                for name in [subject] if kind == "input" else subject:
                    out.setdefault(name, set()).add(leaf.operator[1])
    return out


def input_domain(inp: Input, pack: PolicyPack) -> list[Any] | None:
    """The finite set of values an input can take, or ``None`` for numbers, dates and events."""
    vt = pack.inputs[inp.id].type
    if vt.base in ("boolean", "scale", "enum"):
        return list(vt.values or ())
    return None


def _where(pack: PolicyPack, inp: Input) -> str | None:
    """Where a record gives an input (``None`` for a derived input, which evidence never carries)."""
    spec = pack.inputs[inp.id]
    return None if spec.kind == "derived" else spec.evidence_path


def _set_path(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def _get_path(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for p in path.split("."):
        if not isinstance(node, dict) or p not in node:
            return None
        node = node[p]
    return node


def _limit(pack: PolicyPack, as_of: date, duration: Duration) -> date:
    """The day ``duration`` before ``as_of``: the edge of `within`/`older_than`, read independently of the engine."""
    spec = pack.model.calendar
    return calendar_shift(as_of, duration, spec.region, spec.closures, spec.count_from, -1)


def _base_provider(service_type: str = "residential") -> dict[str, Any]:
    return {"id": "test-provider", "name": "Test Provider", "service_type": service_type}


# ----------------------------------------------------------------- strategies


def _integer_strategy(pack: PolicyPack, inp: Input, thresholds: set[float]) -> st.SearchStrategy[int]:
    lo, hi = _field_bounds(pack, inp.id, thresholds)
    edges = sorted({int(v) + d for v in thresholds for d in (-1, 0, 1) if lo <= int(v) + d <= hi} | {lo})
    whole = st.integers(min_value=lo, max_value=min(hi, max(edges, default=lo) * 2 + 10))
    return st.one_of(st.sampled_from(edges), whole) if edges else whole


def _event_strategy(pack: PolicyPack, inp: Input, as_of: date) -> st.SearchStrategy[list[dict[str, Any]]]:
    queries = [q for q in _event_queries(pack) if q.input == inp.id]
    kinds = sorted({k for q in queries for k in q.kinds}) or sorted(EVENT_KINDS)[:3]
    offsets: set[int] = {0, 1, 30, 400}
    for q in queries:
        if q.within is not None:
            start = window_first_day(as_of, q.within, pack.model.calendar)
            inside = (as_of - start).days
            offsets |= {inside, inside + 1, max(inside - 1, 0)}
    staff = st.sampled_from(["staff-a", "staff-b", "staff-c"])
    themes = st.sampled_from(["medication", "falls", "nutrition"])
    harm = st.sampled_from(list(event_field_type("harm").values or ()))
    level = st.sampled_from(["low", "medium", "high"])

    @st.composite
    def one(draw: Any) -> dict[str, Any]:
        offset = draw(st.one_of(st.sampled_from(sorted(offsets)), st.integers(-5, 800)))
        e: dict[str, Any] = {"kind": draw(st.sampled_from(kinds)), "date": (as_of - timedelta(days=offset)).isoformat()}
        for name, strat in (("staff_member", staff), ("harm", harm), ("level", level), ("theme", themes),
                            ("substantiated", st.booleans()), ("remedied", st.booleans()),
                            ("learning_evidenced", st.booleans()), ("open", st.booleans()),
                            ("police_involved", st.booleans()),
                            ("people_affected", st.integers(0, 12))):
            if draw(st.booleans()):
                e[name] = draw(strat)
        return e

    return st.lists(one(), max_size=12)


@st.composite
def _evidence(draw: Any, pack: PolicyPack, gaps: bool, as_of: date | None) -> tuple[dict[str, Any], date]:
    meta = pack.model.pack
    lo = max(AS_OF_RANGE[0], meta.effective_from)
    hi = min(AS_OF_RANGE[1], meta.effective_to or AS_OF_RANGE[1])
    day = as_of or draw(st.dates(lo, max(lo, hi)))
    thresholds = _numeric_thresholds(pack)
    durations = _durations(pack)
    data: dict[str, Any] = {"provider": _base_provider()}
    service_types = list(shared_fields()["provider.service_type"].values or ("residential",))
    data["provider"]["service_type"] = draw(st.sampled_from(service_types))
    for inp in pack.model.inputs:
        where = _where(pack, inp)
        if where is None or where in ("provider.service_type", "provider.id", "provider.name"):
            continue
        if gaps and draw(st.integers(0, 3)) == 0:
            continue
        value: Any
        if inp.type == "events":
            value = draw(_event_strategy(pack, inp, day))
        elif inp.type in ("integer",):
            value = draw(_integer_strategy(pack, inp, thresholds.get(inp.id, set())))
        elif inp.type == "number":
            value = float(draw(_integer_strategy(pack, inp, thresholds.get(inp.id, set()))))
        elif inp.type == "date":
            offsets = {0, 1, 365}
            for dur in durations.get(inp.id, ()):
                edge = (day - _limit(pack, day, dur)).days
                offsets |= {edge - 1, edge, edge + 1}
            value = (day - timedelta(days=draw(st.one_of(st.sampled_from(sorted(offsets)), st.integers(-30, 2000))))).isoformat()
        elif inp.type == "text":
            value = draw(st.sampled_from(["a", "b"]))
        else:
            domain = input_domain(inp, pack)
            if not domain:
                continue
            value = draw(st.sampled_from(domain))
        _set_path(data, where, value)
    return data, day


def evidence(pack: PolicyPack, *, gaps: bool = False, as_of: date | None = None) -> st.SearchStrategy[tuple[dict[str, Any], date]]:
    """Valid ``(evidence, as_of)`` pairs for ``pack``; every declared input set (``gaps=False``) or some left out.

    Integers are drawn near every threshold the pack compares them with, dates near
    every ``within``/``older_than`` edge and events near every counting window edge.
    """
    return _evidence(pack, gaps, as_of)


# ----------------------------------------------------------------- worsening


def worsenings(pack: PolicyPack, data: dict[str, Any], as_of: date) -> Iterator[tuple[str, dict[str, Any]]]:
    """For each input with a declared direction, the evidence made one step worse in it."""
    for inp in pack.model.inputs:
        worse = worsen(pack, inp, data, as_of)
        if worse is not None:
            yield inp.id, worse


def worsen(pack: PolicyPack, inp: Input, data: dict[str, Any], as_of: date) -> dict[str, Any] | None:
    """``data`` made worse in one input, or ``None`` if it cannot be (already worst, missing, no direction)."""
    where = _where(pack, inp)
    current = _get_path(data, where) if where is not None else None
    if where is None or current is None or inp.worse == "none":
        return None
    out = copy.deepcopy(data)
    if inp.type in ("integer", "number"):
        lo, hi = _field_bounds(pack, inp.id, [current])
        step = 1 if inp.worse == "higher" else -1
        new = current + step
        if not lo <= new <= hi:
            return None
        _set_path(out, where, new if inp.type == "integer" else float(new))
        return out
    if inp.type == "boolean":
        target = inp.worse == "true"
        if current == target:
            return None
        _set_path(out, where, target)
        return out
    if inp.type == "scale" and inp.scale is not None:
        values = [v.id for v in pack.model.scale(inp.scale).values]
        i = values.index(current)
        step = 1 if inp.worse == "higher" else -1
        j = i + step
        allowed = set(input_domain(inp, pack) or [])
        while 0 <= j < len(values) and values[j] not in allowed:
            j += step
        if not 0 <= j < len(values):
            return None
        _set_path(out, where, values[j])
        return out
    if inp.type == "events" and inp.worse == "more":
        events = list(current)
        if not events:
            return None
        events.append(copy.deepcopy(events[-1]))
        _set_path(out, where, events)
        return out
    return None


# ----------------------------------------------------------------- boundary cases


@dataclass(frozen=True)
class Boundary:
    """One edge of a threshold with the result the pack's text implies."""

    id: str
    description: str
    evidence: dict[str, Any]
    as_of: date
    source: str
    decision: str | None = None
    expected_value: Any = None
    leaf: Any = field(default=None, repr=False, compare=False)
    expected_leaf: bool | None = None
    path: str | None = None
    """Where the tested condition is in the pack (``decisions[2].rows[0].when.all[1]``)."""

    def check(self, pack: PolicyPack) -> str | None:
        """``None`` when the pack's compiled evaluation agrees; otherwise what differs."""
        if self.decision is not None:
            d = pack.evaluate(self.evidence, self.as_of).decision(self.decision)
            if d.status != "decided" and self.expected_value is None:
                return None
            if d.value != self.expected_value:
                return f"{self.id}: {self.description}: expected {self.expected_value!r}, got {d.value!r} ({d.explanation})"
            return None
        assert self.path is not None
        got, _ = pack.check(self.path, pack.context(self.evidence, self.as_of, decisions=False))
        if got is not self.expected_leaf:
            return f"{self.id}: {self.description}: expected the test to be {self.expected_leaf}, got {got}"
        return None


def _band_value(d: BandsDecision, x: float) -> Any:
    """The value of the band ``x`` falls in, read as the engine reads bands (one implementation: ``match_band``)."""
    band = match_band(d.bands, x)
    return None if band is None else band.value


def boundaries(pack: PolicyPack, *, as_of: date = date(2026, 1, 5)) -> list[Boundary]:
    """Every edge a pack declares, as concrete cases.

    * each band bound: the value at it and one step either side (integers step by 1,
      decimals by 0.01), with the band value the bounds imply;
    * each numeric test threshold: at it and one step either side;
    * each ``count_events``: the count one below and at the threshold, and an event on
      the last day inside its window and on the first day outside;
    * each ``within``/``older_than``: a date on the limit and one day either side.
    """
    out: list[Boundary] = []
    m = pack.model
    inputs = {i.id: i for i in m.inputs}
    base = {"provider": _base_provider()}

    for d in m.decisions:
        if not isinstance(d, BandsDecision):
            continue
        inp = inputs[d.input]
        target = _where(pack, inp)
        if target is None:
            continue  # a derived number: its edges are its operands' (see the policy tests)
        lo, hi = _field_bounds(pack, inp.id, [v for b in d.bands for v in (b.min, b.max, b.below) if v is not None])
        step = 1 if inp.type == "integer" else 0.01
        for b in d.bands:
            for bound_name, bound in (("min", b.min), ("max", b.max), ("below", b.below)):
                if bound is None:
                    continue
                for delta, where in ((-step, "just below"), (0, "at"), (step, "just above")):
                    x = bound + delta
                    if inp.type == "integer":
                        x = int(round(x))
                    else:
                        x = round(float(x), 6)
                    if not lo <= x <= hi:
                        continue
                    ev = copy.deepcopy(base)
                    _set_path(ev, target, x)
                    out.append(Boundary(
                        id=f"{d.id}/{b.id}/{bound_name}/{where.replace(' ', '-')}",
                        description=f"`{inp.id}` = {x}, {where} the {bound_name} of band `{b.id}` ({bound})",
                        evidence=ev, as_of=as_of, source=b.source, decision=d.id, expected_value=_band_value(d, x),
                    ))

    for cond, path, _ in pack_conditions(m):
        for leaf, lpath in walk_conditions(cond, path):
            where = ".".join(map(str, lpath))
            if isinstance(leaf, Test):
                found = _test_edges(pack, leaf, where, inputs, base, as_of)
            elif isinstance(leaf, CountEvents):
                found = _count_edges(pack, leaf, where, inputs, base, as_of)
            out.extend(dataclasses.replace(b, path=path_text(lpath)) for b in found)
    return list({case.id: case for case in reversed(out)}.values())[::-1]


def _test_edges(pack: PolicyPack, leaf: Test, where: str, inputs: dict[str, Input], base: dict[str, Any], as_of: date) -> list[Boundary]:
    kind, subject = leaf.subject
    if kind != "input":
        return []
    inp = inputs[subject]
    op, arg = leaf.operator
    out: list[Boundary] = []
    where_in = _where(pack, inp)
    if where_in is None or isinstance(arg, InputRef):
        return out
    if op in ("at_least", "at_most", "above", "below") and inp.type in ("integer", "number"):
        lo, hi = _field_bounds(pack, inp.id, [arg])
        step = 1 if inp.type == "integer" else 0.01
        for delta, name in ((-step, "just-below"), (0, "at"), (step, "just-above")):
            x = arg + delta
            x = int(round(x)) if inp.type == "integer" else round(float(x), 6)
            if not lo <= x <= hi:
                continue
            expected = {"at_least": x >= arg, "at_most": x <= arg, "above": x > arg, "below": x < arg}[op]
            ev = copy.deepcopy(base)
            _set_path(ev, where_in, x)
            out.append(Boundary(id=f"{where}/{op}-{arg}/{name}", description=f"`{inp.id}` = {x} against `{op}: {arg}`",
                                evidence=ev, as_of=as_of, source=where, leaf=leaf, expected_leaf=expected))
    if op in ("within", "older_than") and inp.type == "date":
        limit = _limit(pack, as_of, arg)
        for delta, name in ((-1, "day-before-limit"), (0, "on-limit"), (1, "day-after-limit")):
            day = limit + timedelta(days=delta)
            expected = (day > limit) if op == "within" else (day <= limit)
            ev = copy.deepcopy(base)
            _set_path(ev, where_in, day.isoformat())
            out.append(Boundary(id=f"{where}/{op}-{arg}/{name}",
                                description=f"`{inp.id}` = {day} with as-of {as_of}, against `{op}: {arg}` (limit {limit})",
                                evidence=ev, as_of=as_of, source=where, leaf=leaf, expected_leaf=expected))
    return out


def _count_edges(pack: PolicyPack, leaf: CountEvents, where: str, inputs: dict[str, Input], base: dict[str, Any], as_of: date) -> list[Boundary]:
    q = leaf.count_events
    inp = inputs[q.input]
    threshold = leaf.at_least if leaf.at_least is not None else leaf.at_most
    assert threshold is not None
    event: dict[str, Any] = {"kind": q.kinds[0]}
    for t in q.where:
        if t.is_ is not None:
            event[t.field] = t.is_
        elif t.in_:
            event[t.field] = t.in_[0]
        else:
            event[t.field] = t.at_least
    if q.group_by:
        event[q.group_by] = "same-value"
    start = window_first_day(as_of, q.within, pack.model.calendar) if q.within else as_of - timedelta(days=30)
    out = []

    def events_on(days: list[date]) -> dict[str, Any]:
        ev = copy.deepcopy(base)
        _set_path(ev, _where(pack, inp) or "events", [{**event, "date": d.isoformat()} for d in days])
        return ev

    def expect(n: int) -> bool:
        return n >= threshold if leaf.at_least is not None else n <= threshold

    for n in sorted({max(threshold - 1, 0), threshold, threshold + 1}):
        out.append(Boundary(id=f"{where}/count-{n}", description=f"{n} matching `{'/'.join(q.kinds)}` events inside the window",
                            evidence=events_on([as_of] * n), as_of=as_of, source=where, leaf=leaf, expected_leaf=expect(n)))
    if q.within is not None and threshold >= 1:
        n_in = threshold if leaf.at_least is not None else threshold + 1
        inside = [as_of] * (n_in - 1)
        out.append(Boundary(id=f"{where}/window-first-day", description=f"the last needed event on {start}, the first day inside `{q.within}`",
                            evidence=events_on(inside + [start]), as_of=as_of, source=where, leaf=leaf, expected_leaf=expect(n_in)))
        out.append(Boundary(id=f"{where}/window-day-before", description=f"the last needed event on {start - timedelta(days=1)}, the day before `{q.within}` starts",
                            evidence=events_on(inside + [start - timedelta(days=1)]), as_of=as_of, source=where, leaf=leaf,
                            expected_leaf=expect(n_in - 1)))
        out.append(Boundary(id=f"{where}/after-as-of", description=f"the last needed event on {as_of + timedelta(days=1)}, after the as-of date (ignored)",
                            evidence=events_on(inside + [as_of + timedelta(days=1)]), as_of=as_of, source=where, leaf=leaf,
                            expected_leaf=expect(n_in - 1)))
    return out


# ----------------------------------------------------------------- invariants


def monotonicity_violations(pack: PolicyPack, data: dict[str, Any], as_of: date) -> list[str]:
    """Inputs whose one-step worsening lowered the headline's common severity (should be none)."""
    base = pack.evaluate(data, as_of)
    if base.severity is None:
        return []
    out = []
    for name, worse in worsenings(pack, data, as_of):
        d = pack.evaluate(worse, as_of)
        if d.severity is not None and d.severity < base.severity:
            out.append(f"worsening `{name}` lowered severity {base.severity} -> {d.severity} "
                       f"({base.headline.value} -> {d.headline.value})")
    return out


# ----------------------------------------------------------------- ladders and deadlines

from ._ladder_testing import (  # noqa: E402  (kept in their own module; part of this public API)
    DEADLINE_ANCHORS,
    DeadlineEdge,
    case_events,
    deadline_edges,
    due_status_edges,
    ladder_violations,
    resolve,
)

__all__ += ["case_events", "ladder_violations", "resolve", "deadline_edges", "DeadlineEdge", "due_status_edges",
            "DEADLINE_ANCHORS"]
