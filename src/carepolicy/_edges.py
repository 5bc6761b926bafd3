"""Pairs of complete evidence records either side of each threshold a decision rests on.

An off-by-one in a council system's own implementation of a pack (``>`` written for ``>=``,
a band starting one later) shows only on a record that sits exactly at the threshold *and*
holds every other input the decision needs, set so that the threshold is the one that
decides. Random records rarely are: most leave something missing, or another rule decides
first. So the records are searched for, from the pack's own conditions: start from a quiet
provider (every input at its best, by the pack's ``worse:`` directions), put the threshold's
input one step either side, and change other inputs one at a time, keeping each change that
brings the two sides' decisions further apart, until the decision itself differs.

Cost: at most ``_ROUNDS`` rounds per threshold, each trying every candidate value of every
input the decision reads once (a few hundred evaluations); the result is cached per pack.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ._check import walk_conditions
from ._ladder_testing import calendar_shift
from ._vocabulary import event_field_type
from .engine import PolicyPack, path_text
from .models import BandsDecision, CountEvents, InputRef, Test

__all__ = ["HeadlineEdge", "decision_edges", "default_as_of", "in_scope_record"]

_ROUNDS = 4
"""Rounds of one-input changes per threshold before it is reported as not reached."""


@dataclass(frozen=True)
class HeadlineEdge:
    """Two complete records that differ only at one threshold, and the decision each gets."""

    id: str
    """``<decision>/<where the threshold is>/<side pair>``, stable across runs."""
    decision: str
    """The decision observed (the headline unless asked otherwise)."""
    where: str
    """The threshold's place in the pack (``decisions[2].bands[1].min``)."""
    source: str
    """The clause the threshold cites."""
    description: str
    as_of: date
    below: dict[str, Any]
    """The record one step on the lower side (one event fewer, one day earlier, one less)."""
    at: dict[str, Any]
    """The same record at the threshold."""
    values: tuple[Any, Any]
    """The decision's value for ``below`` and for ``at``."""

    @property
    def cases(self) -> tuple[tuple[dict[str, Any], date], tuple[dict[str, Any], date]]:
        """Both records as ``(evidence, as_of)`` pairs, the form :func:`carepolicy.testing.evidence` draws."""
        return (self.below, self.as_of), (self.at, self.as_of)

    def check(self, pack: PolicyPack) -> str | None:
        """``None`` when ``pack`` decides both records as recorded; otherwise what differs."""
        got = (pack.evaluate(self.below, self.as_of, analyse=False).decision(self.decision).value,
               pack.evaluate(self.at, self.as_of, analyse=False).decision(self.decision).value)
        return None if got == self.values else f"{self.id}: expected {self.values!r}, got {got!r}"


def default_as_of(pack: PolicyPack) -> date:
    """A Monday inside the pack's time in force (5 January 2026 where it is in force then)."""
    meta = pack.model.pack
    day = max(date(2026, 1, 5), meta.effective_from)
    if meta.effective_to is not None and day > meta.effective_to:
        day = meta.effective_to
    return day


# ----------------------------------------------------------------- what can be set

Point = dict[str, Any]
"""A provider as the search sees it: each evidence input's value; an events input holds
``{query number: how many matching events}``."""


@dataclass(frozen=True)
class _Target:
    where: str
    source: str
    label: str
    sides: tuple[Any, Any]
    owns: frozenset[str]
    """Inputs the target sets, which the search leaves alone."""
    put: Callable[[Point, Any], Point]
    siblings: tuple[tuple[str, bool], ...] = ()
    """The other parts of the conditions around the threshold, each with the truth that lets the
    threshold's own test decide (true beside it in an `all`, false in an `any`)."""
    moved: tuple[PolicyPack | None, PolicyPack | None] | None = None
    """The pack with this threshold one step lower and one step higher (``None`` where the step
    would leave the format, as below ``at_most: 0``; ``None`` for both: a date window, where the
    two sides themselves are compared)."""


class _Space:
    """The inputs a pack's evidence carries, their candidate values, and how a point becomes a record."""

    def __init__(self, pack: PolicyPack, as_of: date) -> None:
        self.pack, self.as_of = pack, as_of
        self.specs = {k: s for k, s in pack.inputs.items() if s.kind != "derived"}
        self.queries: list[Any] = []
        for d in pack.model.decisions:
            for row in getattr(d, "rows", ()):
                for leaf, _ in walk_conditions(row.when, ()):
                    if isinstance(leaf, CountEvents) and leaf.count_events not in self.queries:
                        self.queries.append(leaf.count_events)
        for inp in pack.model.inputs:
            counted = inp.derive.count_events if inp.derive is not None else None
            if counted is not None and counted not in self.queries:
                self.queries.append(counted)
        self.filter_fields: dict[str, list[tuple[str, Any]]] = {}
        for q in self.queries:
            fields = self.filter_fields.setdefault(q.input, [])
            for name in [t.field for t in q.where] + ([q.group_by] if q.group_by else []):
                if name not in [f for f, _ in fields]:
                    fields.append((name, _default_field(name)))

    # -- values

    def quiet(self) -> Point:
        return {name: self._quiet(name) for name in self.specs}

    def _quiet(self, name: str) -> Any:
        spec = self.specs[name]
        base, worse = spec.type.base, spec.worse
        values = list(spec.type.values or ())
        if base == "events":
            return {}
        if base == "boolean":
            return worse != "true"
        if base in ("enum", "scale"):
            return values[-1] if worse == "lower" else values[0]
        if base in ("integer", "number"):
            edges = self.pack._facts.thresholds.get(name, ())
            if worse == "lower":
                hi = max(edges, default=0) + 1
                return int(hi) if base == "integer" else float(hi)
            lo = spec.type.lo if spec.type.lo is not None else 0
            return int(lo) if base == "integer" else float(lo)
        if base == "date":
            return self.as_of - timedelta(days=30)
        return "a"

    def candidates(self, name: str) -> list[Any]:
        """The values tried for an input: each of a finite domain, numbers about each threshold, dates about
        each window's edge, event counts about each query's; and ``None``, left out (a rule may ask
        whether a finding is known)."""
        return [*self._values(name), None]

    def _values(self, name: str) -> list[Any]:
        spec = self.specs[name]
        base = spec.type.base
        if base in ("boolean", "enum", "scale"):
            return list(spec.type.values or ())
        if base in ("integer", "number"):
            lo = spec.type.lo if spec.type.lo is not None else 0
            points = {lo}
            for t in self.pack._facts.thresholds.get(name, ()):
                points |= {t - 1, t, t + 1}
            hi = spec.type.hi
            numbers = sorted(p for p in points if p >= lo and (hi is None or p <= hi))
            return [int(p) for p in numbers] if base == "integer" else [float(p) for p in numbers]
        if base == "date":
            offsets = {1, 30, 100, 200, 400, 800, 1200, 2000}
            for dur in self.pack._facts.windows.get(name, ()):
                edge = (self.as_of - self.limit(dur)).days
                offsets |= {edge - 1, edge, edge + 1}
            return [self.as_of - timedelta(days=o) for o in sorted(offsets)]
        if base == "events":
            out: list[Any] = []
            for i, q in enumerate(self.queries):
                if q.input != name:
                    continue
                ns = {0, 1, 2}
                for leaf_n in self._thresholds_of(q):
                    ns |= {leaf_n - 1, leaf_n, leaf_n + 1}
                out += [(i, n) for n in sorted(ns) if n >= 0]
            for f, _ in self.filter_fields.get(name, []):
                out += [(f, v) for v in event_field_type(f).values or ()]
            return out
        return []

    def _thresholds_of(self, q: Any) -> set[int]:
        out: set[int] = set()
        for d in self.pack.model.decisions:
            for row in getattr(d, "rows", ()):
                for leaf, _ in walk_conditions(row.when, ()):
                    if isinstance(leaf, CountEvents) and leaf.count_events == q:
                        out.add(leaf.at_least if leaf.at_least is not None else leaf.at_most)  # type: ignore[arg-type]
        return out

    def limit(self, duration: Any) -> date:
        spec = self.pack.model.calendar
        return calendar_shift(self.as_of, duration, spec.region, spec.closures, spec.count_from, -1)

    # -- records

    def record(self, point: Point) -> dict[str, Any]:
        data: dict[str, Any] = {"provider": {"id": "test-provider", "name": "Test Provider"}}  # as testing.evidence
        for name, value in point.items():
            if value is None:
                continue
            spec = self.specs[name]
            if spec.type.base == "events":
                value = self._events(name, value)
            elif isinstance(value, date):
                value = value.isoformat()
            node = data
            parts = spec.evidence_path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = value
        data["provider"].setdefault("service_type", "residential")
        return data

    def _events(self, name: str, value: dict[Any, Any]) -> list[dict[str, Any]]:
        """Each query's matching events, on the as-of date; ``value`` holds a count per query (by
        number) and, by field name, the value of that field where no query asks for one."""
        out: list[dict[str, Any]] = []
        fields = [(f, value.get(f, default)) for f, default in self.filter_fields.get(name, [])]
        for i, n in sorted((k, v) for k, v in value.items() if isinstance(k, int)):
            q = self.queries[i]
            for k in range(n):
                e: dict[str, Any] = {"kind": q.kinds[0], "date": self.as_of.isoformat(), "id": f"q{i}-{k}"}
                for f, default in fields:  # every filtered field known, so no count is left a range
                    e[f] = f"other-{i}-{k}" if default is None else default
                for t in q.where:
                    e[t.field] = t.is_ if t.is_ is not None else t.in_[0] if t.in_ else t.at_least
                if q.group_by:
                    e[q.group_by] = f"same-{i}"
                out.append(e)
        return out

    def put_count(self, i: int, side: int, point: Point) -> Point:
        """``point`` with query ``i`` counting ``side`` events, less those other queries' events give it."""
        q = self.queries[i]
        value = {k: v for k, v in (point[q.input] or {}).items() if k != i}
        overlap = 0 if q.group_by else sum(_matches(q, e) for e in self._events(q.input, value))
        return {**point, q.input: {**value, i: max(side - overlap, 0)}}


def _matches(q: Any, e: dict[str, Any]) -> bool:
    """Whether a generated event (every field known) is one ``q`` counts."""
    if e["kind"] not in q.kinds:
        return False
    for t in q.where:
        v = e.get(t.field)
        if t.is_ is not None and v != t.is_ or t.in_ and v not in t.in_:
            return False
        if t.at_least is not None:
            order = list(event_field_type(t.field).values or ())
            if order and (v not in order or order.index(v) < order.index(t.at_least)):
                return False
            if not order and not (isinstance(v, (int, float)) and v >= t.at_least):
                return False
    return True


def _default_field(name: str) -> Any:
    """An event field's value where no query asks for one: false, the first value, the least; ``None``
    for text (each event then gets its own, so no two share a staff member by chance)."""
    vt = event_field_type(name)
    if vt.base == "boolean":
        return False
    if vt.values:
        return vt.values[0]
    if vt.base in ("integer", "number"):
        return int(vt.lo or 0)
    return None


# ----------------------------------------------------------------- the thresholds


def _targets(pack: PolicyPack, space: _Space, chain: tuple[int, ...]) -> Iterator[_Target]:
    model = pack.model
    for k in chain:
        d = model.decisions[k]
        if isinstance(d, BandsDecision):
            step = 1 if pack.inputs[d.input].type.base == "integer" else 0.01
            seen: set[tuple[Any, Any]] = set()
            for j, b in enumerate(d.bands):
                for name, bound in (("min", b.min), ("max", b.max), ("below", b.below)):
                    if bound is None:
                        continue
                    sides = (bound - step, bound) if name in ("min", "below") else (bound, bound + step)
                    sides = _round(sides, step)
                    if sides in seen:
                        continue
                    seen.add(sides)
                    setter = _number_setter(pack, space, d.input)
                    if setter is not None:
                        moved = (_moved_bands(pack, k, sides, -step), _moved_bands(pack, k, sides, step))
                        yield _Target(f"decisions[{k}].bands[{j}].{name}", b.source,
                                      f"`{d.input}` {sides[0]} | {sides[1]}", sides, *setter, moved=moved)
            continue
        for j, row in enumerate(d.rows):
            head = ("decisions", k, "rows", j, "when")
            for leaf, lpath in walk_conditions(row.when, head):
                where = path_text(lpath)
                target: _Target | None = None
                if isinstance(leaf, CountEvents):
                    n = leaf.at_least if leaf.at_least is not None else leaf.at_most
                    assert n is not None
                    sides = (n - 1, n) if leaf.at_least is not None else (n, n + 1)
                    if sides[0] < 0:
                        continue
                    i = space.queries.index(leaf.count_events)
                    q = leaf.count_events
                    target = _Target(where, row.source, f"{'/'.join(q.kinds)} events {sides[0]} | {sides[1]}", sides,
                                     frozenset(), _query_setter(space, i))
                elif isinstance(leaf, Test):
                    target = _test_target(pack, space, leaf, where, row.source)
                if target is not None:
                    tail = lpath[len(head):]
                    yield dataclasses.replace(target, siblings=_siblings(row.when, head, tail),
                                              moved=_moved_leaf(pack, k, j, tail, leaf))


def _moved_bands(pack: PolicyPack, k: int, sides: tuple[Any, Any], delta: float) -> PolicyPack:
    """The pack with the edge between ``sides`` moved by ``delta``: every bound at it, on both bands."""
    d = pack.model.decisions[k]
    assert isinstance(d, BandsDecision)
    lower, upper = sides

    def shift(v: Any, at: Any) -> Any:
        return v if v is None or v != at else _round((v + delta, 0), 1 if isinstance(v, int) else 0.01)[0]

    bands = [b.model_copy(update={"min": shift(b.min, upper), "below": shift(b.below, upper), "max": shift(b.max, lower)})
             for b in d.bands]
    return _with_decision(pack, k, d.model_copy(update={"bands": bands}))


def _moved_leaf(pack: PolicyPack, k: int, j: int, tail: tuple[Any, ...],
                leaf: Any) -> tuple[PolicyPack | None, PolicyPack | None] | None:
    """The pack with one test's number one step lower and one step higher."""
    changed: list[Any]
    if isinstance(leaf, CountEvents):
        attr = "at_least" if leaf.at_least is not None else "at_most"
        n = getattr(leaf, attr)
        changed = [leaf.model_copy(update={attr: n + delta}) if n + delta >= 0 else None for delta in (-1, 1)]
    else:
        op, arg = leaf.operator
        if op not in ("at_least", "at_most", "above", "below"):
            return None
        step = 1 if isinstance(arg, int) else 0.01
        changed = [leaf.model_copy(update={op: _round((arg + delta, 0), step)[0]}) for delta in (-step, step)]
    d = pack.model.decisions[k]
    out: list[PolicyPack | None] = []
    for new in changed:
        if new is None:
            out.append(None)
            continue
        rows = list(d.rows)  # type: ignore[union-attr]
        rows[j] = rows[j].model_copy(update={"when": _replace(rows[j].when, tail, new)})
        out.append(_with_decision(pack, k, d.model_copy(update={"rows": rows})))
    return out[0], out[1]


def _replace(cond: Any, tail: tuple[Any, ...], new: Any) -> Any:
    if not tail:
        return new
    if tail[0] == "not":
        return cond.model_copy(update={"not_": _replace(cond.not_, tail[1:], new)})
    parts = list(getattr(cond, tail[0]))
    parts[tail[1]] = _replace(parts[tail[1]], tail[2:], new)
    return cond.model_copy(update={tail[0]: parts})


def _with_decision(pack: PolicyPack, k: int, decision: Any) -> PolicyPack:
    decisions = list(pack.model.decisions)
    decisions[k] = decision
    return PolicyPack(pack.model.model_copy(update={"decisions": decisions}), f"{pack.sha256}~moved")


def _siblings(cond: Any, head: tuple[Any, ...], tail: tuple[Any, ...]) -> tuple[tuple[str, bool], ...]:
    """Each part beside the path to a leaf, with the truth it needs for the leaf to count."""
    out: list[tuple[str, bool]] = []
    at = head
    i = 0
    while i < len(tail):
        if tail[i] == "not":
            cond, at, i = cond.not_, at + ("not",), i + 1
            continue
        kind, index = tail[i], tail[i + 1]
        parts = cond.all if kind == "all" else cond.any
        out += [(path_text(at + (kind, m)), kind == "all") for m in range(len(parts)) if m != index]
        cond, at, i = parts[index], at + (kind, index), i + 2
    return tuple(out)


def _round(sides: tuple[Any, Any], step: float) -> tuple[Any, Any]:
    if step == 1:
        return int(sides[0]), int(sides[1])
    return round(float(sides[0]), 6), round(float(sides[1]), 6)


def _test_target(pack: PolicyPack, space: _Space, leaf: Test, where: str, source: str) -> _Target | None:
    kind, subject = leaf.subject
    op, arg = leaf.operator
    if kind != "input" or isinstance(arg, InputRef):
        return None
    base = pack.inputs[subject].type.base
    if op in ("at_least", "at_most", "above", "below") and base in ("integer", "number"):
        step = 1 if base == "integer" else 0.01
        sides = (arg - step, arg) if op in ("at_least", "below") else (arg, arg + step)
        setter = _number_setter(pack, space, subject)
        if setter is None:
            return None
        sides = _round(sides, step)
        return _Target(where, source, f"`{subject}` {sides[0]} | {sides[1]} against `{op}: {arg}`", sides, *setter)
    if op in ("within", "older_than") and base == "date" and subject in space.specs:
        limit = space.limit(arg)
        sides = (limit, limit + timedelta(days=1))
        return _Target(where, source, f"`{subject}` {sides[0]} | {sides[1]} against `{op}: {arg}`", sides,
                       frozenset({subject}), _plain_setter(subject))
    return None


def _plain_setter(name: str) -> Callable[[Point, Any], Point]:
    def put(point: Point, value: Any) -> Point:
        return {**point, name: value}
    return put


def _query_setter(space: _Space, i: int) -> Callable[[Point, Any], Point]:
    def put(point: Point, n: Any) -> Point:
        return space.put_count(i, int(n), point)
    return put


def _number_setter(pack: PolicyPack, space: _Space, name: str) -> tuple[frozenset[str], Callable[[Point, Any], Point]] | None:
    """How to give a number input a value: directly, or through what it counts."""
    if name in space.specs:
        return frozenset({name}), _plain_setter(name)
    derive = next(i.derive for i in pack.model.inputs if i.id == name)
    if derive is None:
        return None
    if derive.count is not None:
        of = [n for n in derive.count.of if n in space.specs]
        if len(of) != len(derive.count.of):
            return None
        yes: Any = derive.count.is_ if derive.count.is_ is not None else derive.count.in_[0] if derive.count.in_ else None
        if yes is None:
            return None
        others = [v for v in (pack.inputs[of[0]].type.values or ()) if v != yes] if of else []
        no = others[0] if others else (not yes if isinstance(yes, bool) else None)
        if no is None:
            return None

        def put(point: Point, n: Any) -> Point:
            out = dict(point)
            for i, op in enumerate(of):
                out[op] = yes if i < int(n) else no
            return out
        return frozenset(of), put
    if derive.count_events is not None:
        q = derive.count_events
        return frozenset(), _query_setter(space, space.queries.index(q))
    return None


# ----------------------------------------------------------------- the search


class _Search:
    def __init__(self, pack: PolicyPack, space: _Space, decision: str, chain: tuple[int, ...]) -> None:
        self.pack, self.space, self.decision = pack, space, decision
        self.chain = [pack.model.decisions[k].id for k in chain]
        reads = set(pack._facts.reads[chain[-1]])
        for rule in pack.model.scope:  # what puts a provider in scope is as free as what decides
            for leaf, _ in walk_conditions(rule.when, ()):
                if isinstance(leaf, Test) and leaf.subject[0] != "decision":
                    reads.update([leaf.subject[1]] if leaf.subject[0] == "input" else leaf.subject[1])
        self.free = [n for n in space.specs if n in reads or space.specs[n].evidence_path.startswith("provider.")]

    def values(self, record: dict[str, Any], siblings: tuple[tuple[str, bool], ...] = (),
               moved: PolicyPack | None = None) -> tuple[dict[str, Any], int, dict[str, Any] | None] | None:
        """The chain's decisions for a record; how many of ``siblings`` have the truth they need; and
        the chain's decisions in the ``moved`` pack (``None`` out of scope or refused)."""
        try:
            ev = self.pack.parse_evidence(record)
            ctx = self.pack.context(ev, self.space.as_of)
        except Exception:  # noqa: BLE001 - a combination the evidence refuses is just not a candidate
            return None
        if ctx.out_of_scope:
            return None
        ready = sum(self.pack.check(where, ctx)[0] is wanted for where, wanted in siblings)
        other = None
        if moved is not None:
            got = moved.decide(ev, self.space.as_of)
            other = {d: got.get(d) for d in self.chain}
        return {d: ctx.values.get(d) for d in self.chain}, ready, other

    def score(self, target: _Target, point: Point) -> tuple[tuple[int, int, int, int], tuple[Any, Any]] | None:
        """How close a point is to showing the threshold: (how many of the two one-step moves of the
        threshold change the decision, 2 at best; decisions of the chain they change; parts beside the
        threshold that let it count; decisions made). For a date window, whether the two sides differ."""
        down, up = target.moved if target.moved is not None else (None, None)
        got_a = self.values(self.space.record(target.put(point, target.sides[0])), target.siblings, down)
        got_b = self.values(self.space.record(target.put(point, target.sides[1])), (), up)
        if got_a is None or got_b is None:
            return None
        (a, ready, a2), (b, _, b2) = got_a, got_b
        name = self.decision
        if a2 is None and b2 is None:  # the two sides themselves: 2 when both are decided
            x, y = a[name], b[name]
            hit = 0 if x == y else 2 if x is not None and y is not None else 1
            differ = sum(a[d] != b[d] for d in self.chain)
        else:  # 2 when every move there is changes the decision
            pairs = [(mine, theirs) for mine, theirs in ((a, a2), (b, b2)) if theirs is not None]
            changed = sum(mine[name] != theirs[name] for mine, theirs in pairs)
            hit = 2 if changed == len(pairs) else changed
            differ = sum(mine[d] != theirs[d] for mine, theirs in pairs for d in self.chain)
        decided = sum((a[d] is not None) + (b[d] is not None) for d in self.chain)
        return (hit, differ, ready, decided), (a[name], b[name])

    def find(self, target: _Target, start: Point) -> tuple[Point, tuple[Any, Any]] | None:
        """Change one input at a time, keeping the first change that scores better, until the decision
        differs across the threshold with both sides decided (or ``_ROUNDS`` changes are made)."""
        point = start
        scored = self.score(target, point)
        best, found = scored if scored else ((-1, -1, -1, -1), (None, None))
        for _ in range(_ROUNDS):
            if best[0] == 2:
                break
            better = self._better(target, point, best)
            if better is None:
                break
            best, point, found = better
        return (point, found) if best[0] >= 1 else None

    def _better(self, target: _Target, point: Point, best: tuple[int, int, int, int]) -> tuple[Any, Point, Any] | None:
        for name in self.free:
            if name in target.owns:
                continue
            for value in self.space.candidates(name):
                if self.space.specs[name].type.base == "events" and value is not None:
                    key, v = value
                    current = point[name] or {}
                    if current.get(key, 0 if isinstance(key, int) else None) == v:
                        continue
                    trial = {**point, name: {**current, key: v}}
                elif point[name] == value:
                    continue
                else:
                    trial = {**point, name: value}
                s = self.score(target, trial)
                if s is not None and s[0] > best:
                    return s[0], trial, s[1]
        return None


_CACHE: dict[tuple[str, date, str | None], tuple[list[HeadlineEdge], list[str]]] = {}
_LOCK = threading.Lock()


def decision_edges(pack: PolicyPack, *, as_of: date | None = None, decision: str | None = None) -> tuple[list[HeadlineEdge], list[str]]:
    """Every threshold ``decision`` (default: the headline) rests on, as a pair of records either side
    of it that the decision tells apart; and the thresholds for which no such pair was found."""
    day = as_of or default_as_of(pack)
    key = (pack.sha256, day, decision)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    ids = [d.id for d in pack.model.decisions]
    name = decision or pack.model.pack.headline
    chain = pack._facts.needs[ids.index(name)]
    space = _Space(pack, day)
    search = _Search(pack, space, name, chain)
    quiet = space.quiet()
    edges: list[HeadlineEdge] = []
    missed: list[str] = []
    recent: list[Point] = []
    seen: set[str] = set()
    for target in _targets(pack, space, chain):
        ident = f"{name}/{target.where}/{target.sides[0]}|{target.sides[1]}"
        if ident in seen:
            continue
        seen.add(ident)
        # records found for earlier thresholds first, as they are: the conditions around one trigger
        # are often those around the next (a judgement left open, a scope met)
        found = None
        for point in recent:
            scored = search.score(target, point)
            if scored is not None and scored[0][0] == 2:
                found = point, scored[1]
                break
        for start in ([] if found else recent[:1] + [quiet]):
            found = search.find(target, start)
            if found is not None:
                recent = [found[0]] + [p for p in recent if p is not found[0]][:2]
                break
        if found is None:
            missed.append(f"{target.where} ({target.label})")
            continue
        point, values = found
        edges.append(HeadlineEdge(
            id=ident, decision=name, where=target.where, source=target.source,
            description=f"{target.label}: `{name}` {values[0]} | {values[1]}", as_of=day,
            below=space.record(target.put(point, target.sides[0])), at=space.record(target.put(point, target.sides[1])),
            values=values))
    result = (edges, missed)
    with _LOCK:
        _CACHE[key] = result
    return result


_SCOPE_CACHE: dict[tuple[str, date], dict[str, Any] | None] = {}


def in_scope_record(pack: PolicyPack, as_of: date) -> dict[str, Any] | None:
    """A quiet record the pack's scope rules keep in scope (``None`` if none was found), cached.

    From the quiet provider, each round changes the one scope input that leaves fewest scope
    rules holding, until none holds.
    """
    key = (pack.sha256, as_of)
    with _LOCK:
        if key in _SCOPE_CACHE:
            return _SCOPE_CACHE[key]
    space = _Space(pack, as_of)
    names: list[str] = []
    for rule in pack.model.scope:
        for leaf, _ in walk_conditions(rule.when, ()):
            if isinstance(leaf, Test) and leaf.subject[0] != "decision":
                names += [n for n in ([leaf.subject[1]] if leaf.subject[0] == "input" else leaf.subject[1])
                          if n in space.specs and n not in names]
    rules = [path_text(("scope", i, "when")) for i in range(len(pack.model.scope))]

    def holding(point: Point) -> int:
        try:
            ctx = pack.context(space.record(point), as_of, decisions=False)
        except Exception:  # noqa: BLE001 - refused: as bad as every rule holding
            return len(rules) + 1
        return sum(pack.check(r, ctx)[0] is not False for r in rules)

    point = space.quiet()
    found: dict[str, Any] | None = None
    for _ in range(len(names) + 1):
        now = holding(point)
        if now == 0:
            found = space.record(point)
            break
        trials = [{**point, n: v} for n in names for v in space.candidates(n) if v is not None and v != point[n]]
        best = min(trials, key=holding, default=None)
        if best is None or holding(best) >= now:
            break
        point = best
    with _LOCK:
        _SCOPE_CACHE[key] = found
    return found
