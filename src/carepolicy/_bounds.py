"""What the known evidence already proves about a decision it cannot settle.

For a decision over an ordered scale that the evidence leaves open, the engine works out
the values still possible (so its bounds: "at least AMBER"), and for each missing input
which of its values would settle the decision, and to what. Two ways, both sound:

* **exactly**, by deciding the pack again for every completion of the missing inputs over
  their finite domains (booleans, enums, scales) and, for numbers and dates, one point in
  every interval the pack's own thresholds cut the line into; used when every missing
  input is of those kinds and the completions number at most ``COMPLETIONS``;
* otherwise **by the rows**: a row that cannot be checked may hold or not, whatever the
  other rows do. The bounds still contain every value the decision can take, but the
  extreme ones may not be reachable; ``exact`` says which reading was used.

Cost: at most ``COMPLETIONS`` re-evaluations of the pack's decisions for the bounds and
``SETTLE_POINTS`` for what would settle it, per undecided decision.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ._compile import Ctx, Outcome, Range, _Table, feed
from ._time import subtract
from .models import BandsDecision, Test

__all__ = ["Analysis", "Settling", "Facts", "Budget", "analyse", "prepare", "COMPLETIONS", "SETTLE_POINTS",
           "EVALUATION_BUDGET", "NO_VALUE"]

COMPLETIONS = 64
"""The most completions of the missing inputs tried for exact bounds, per decision."""
SETTLE_POINTS = 64
"""The most values tried, over all missing inputs, to say what would settle a decision."""
EVALUATION_BUDGET = 48
"""The most re-decisions one evaluation spends on analysis, the headline decision first."""


class Budget:
    """Re-decisions left for the analysis of one evaluation (not shared between threads)."""

    __slots__ = ("left",)

    def __init__(self, left: int = EVALUATION_BUDGET) -> None:
        self.left = left

    def take(self, n: int) -> bool:
        if n > self.left:
            return False
        self.left -= n
        return True


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()
"""Stands for "no rule applies" among the possible results of a decision."""


@dataclass(frozen=True)
class Settling:
    """What one missing input would do to an open decision, value by value (or interval by interval)."""

    input: str
    cases: tuple[tuple[str, Any], ...]
    """``(the input's value or range in words, the decision's value then, or NO_VALUE)``."""


@dataclass(frozen=True)
class Analysis:
    possible: tuple[Any, ...]
    """Values still possible, best to worst; ``NO_VALUE`` last when no rule may apply."""
    exact: bool
    """True when every listed value is reached by some completion of the missing inputs."""
    settle: tuple[Settling, ...]


def analyse(pack: Any, ctx: Ctx, index: int, outcome: Outcome, budget: Budget | None = None, *,
            settle: bool = True) -> Analysis | None:
    """The analysis of decision ``index`` (open in ``ctx``), or ``None`` when it has no ordered scale.

    ``settle=False`` stops after the bounds (what would settle it is then empty): the settling
    comes after the bounds and from the same budget, so the bounds are the same either way.
    """
    budget = budget if budget is not None else Budget()
    d, fn = pack._decisions[index]
    if d.scale is None or not pack.model.scale(d.scale).ordered or getattr(fn, "hit", None) == "collect":
        return None
    order = [v.id for v in pack.model.scale(d.scale).values]
    missing = [m for m in dict.fromkeys(outcome.missing)]
    domains = {m: _domain(pack, m, ctx) for m in missing}
    enumerable = {m: dom for m, dom in domains.items() if dom is not None}
    possible: set[Any] = set()
    exact = len(enumerable) == len(missing) and all(_exact_domain(pack, m) for m in missing)
    sizes = 1
    for dom in enumerable.values():
        sizes *= len(dom)
    if exact and sizes <= COMPLETIONS and budget.take(sizes):
        names = list(enumerable)
        for combo in itertools.product(*(enumerable[n] for n in names)):
            o, sub = _rerun(pack, ctx, index, dict(zip(names, (v for v, _ in combo))))
            if o.status == "decided":
                possible.add(o.value)
            elif o.status == "no_value":
                possible.add(NO_VALUE)
            else:
                possible |= _by_rows(pack, d, fn, sub, o)
                exact = False
    else:
        possible = _by_rows(pack, d, fn, ctx, outcome)
        exact = False
    settling = _settle(pack, ctx, index, enumerable, order, budget) if settle else ()
    ranked = tuple(v for v in order if v in possible) + ((NO_VALUE,) if NO_VALUE in possible else ())
    return Analysis(ranked, exact, settling)


# ----------------------------------------------------------------- completions


def _rerun(pack: Any, ctx: Ctx, index: int, overrides: dict[str, Any]) -> tuple[Outcome, Ctx]:
    """Decide ``index`` again with ``overrides`` in place of missing inputs (and only what it reads first)."""
    # What the evidence says does not change with the overrides (they stand in for inputs the evidence
    # lacks, after it is read), nor do event counts (no event list is ever overridden) or date windows:
    # the re-decision shares those of this evaluation instead of reading and counting them again.
    # Computed inputs may read an overridden input, so they are computed afresh.
    sub = Ctx(ctx.evidence, ctx.as_of, ctx.calendar, overrides=overrides, reads=ctx.reads, counts=ctx.counts,
              windows=ctx.windows, limits=ctx.limits, by_kind=ctx.by_kind)
    o: Outcome | None = None
    changed = set(overrides)
    reads = pack._facts.reads
    for k in pack._facts.needs[index]:
        d, fn = pack._decisions[k]
        if k != index and not (reads[k] & changed):
            _copy(ctx, sub, d.id)  # the overridden inputs cannot change it: keep what it already is
            continue
        del sub.missing[:]
        found: Outcome = fn(sub)
        feed(sub, d.id, found)
        o = found
    assert o is not None
    return o, sub


def _copy(src: Ctx, dst: Ctx, decision_id: str) -> None:
    for table in ("values", "unsettled", "judged", "partial"):
        found = getattr(src, table)
        if decision_id in found:
            getattr(dst, table)[decision_id] = found[decision_id]


def _by_rows(pack: Any, d: Any, fn: Any, ctx: Ctx, outcome: Outcome) -> set[Any]:
    """Every value a decision could take if each row that cannot be checked may hold or not."""
    if isinstance(d, BandsDecision):
        return _bands_possible(pack, d, ctx)
    assert isinstance(fn, _Table)
    results = []
    for rid, cond, value, _, _ in fn.rows:
        mark = len(ctx.missing)
        r = cond(ctx)
        del ctx.missing[mark:]
        results.append((r, value))
    fallback = fn.default_value if fn.has_default else NO_VALUE
    out: set[Any] = set()
    if fn.hit == "first":
        for r, value in results:
            if r is True:
                out.add(value)
                return out
            if r is None:
                out.add(value)
        out.add(fallback)
        return out
    held = [v for r, v in results if r is True]
    maybe = [v for r, v in results if r is None]
    if fn.hit == "unique":
        if len(held) > 1:
            return set()  # a conflict already: no value is possible
        out |= set(held) | set(maybe)
        if not held:
            out.add(fallback)
        return out
    # worst: the worst of the rows that hold; an unchecked row counts only if it is worse
    key = fn.key
    if held:
        floor = max(held, key=key)
        out.add(floor)
        out |= {v for v in maybe if key(v) > key(floor)}
    else:
        out.add(fallback)
        out |= set(maybe)
    return out


def _bands_possible(pack: Any, d: BandsDecision, ctx: Ctx) -> set[Any]:
    spec = pack.inputs[d.input]
    v = pack.reading(d.input, ctx)
    lo, hi = (v.lo, v.hi) if isinstance(v, Range) else (spec.type.lo, spec.type.hi)
    out: set[Any] = set()
    for b in d.bands:
        top = b.max if b.max is not None else b.below
        if (lo is None or top is None or top >= lo) and (hi is None or b.min is None or b.min <= hi):
            out.add(b.value)
    if d.allow_gaps or not out:
        out.add(NO_VALUE)
    return out


# ----------------------------------------------------------------- domains of missing inputs


def _domain(pack: Any, name: str, ctx: Ctx) -> list[tuple[Any, str]] | None:
    """The values to try for a missing input, each with its words; ``None`` when it cannot be enumerated."""
    spec = pack.inputs.get(name)
    if spec is None:
        return None  # an event query or a conflicted decision, not an input
    base = spec.type.base
    if base in ("boolean", "enum", "scale"):
        return [(v, f"= {str(v).lower() if isinstance(v, bool) else v}") for v in spec.type.values or ()]
    if base == "integer":
        points = _integer_points(pack, name, spec.type.lo, spec.type.hi)
        return [(p, str(p)) for p in points] if points else None
    if base == "date":
        days = _date_points(pack, name, ctx.as_of)
        return [(p, p.isoformat()) for p in days] if days else None
    return None


def _exact_domain(pack: Any, name: str) -> bool:
    """Whether trying the domain's points reaches every result the input can give."""
    spec = pack.inputs.get(name)
    if spec is None or spec.type.base not in ("boolean", "enum", "scale", "integer", "date"):
        return False
    # a number or date that feeds a computed input, or is compared with another input, has edges the
    # pack does not state as thresholds: the points may miss one
    return spec.type.base in ("boolean", "enum", "scale") or name not in pack._facts.refs


@dataclass(frozen=True)
class Facts:
    """What the analysis needs to know about a pack, worked out once when it loads."""

    refs: frozenset[str]
    """Inputs whose values reach a decision other than through a stated threshold."""
    thresholds: dict[str, tuple[float, ...]]
    """Every number an input is compared with, by input."""
    windows: dict[str, tuple[Any, ...]]
    """Every `within`/`older_than` duration a date input is tested against, by input."""
    needs: tuple[tuple[int, ...], ...]
    """For each decision (by position), the decisions it reads, directly or not, then itself."""
    reads: tuple[frozenset[str], ...]
    """For each decision, every input it depends on (through computed inputs and earlier decisions)."""


def prepare(model: Any, specs: dict[str, Any]) -> Facts:
    from ._check import input_tests, walk_conditions

    refs: set[str] = set()
    thresholds: dict[str, set[float]] = {}
    windows: dict[str, set[Any]] = {}
    for spec in specs.values():
        if spec.kind == "derived":
            refs.update(spec.operands)
    for d in model.decisions:
        if isinstance(d, BandsDecision):
            thresholds.setdefault(d.input, set()).update(x for b in d.bands for x in (b.min, b.max, b.below) if x is not None)
    for subjects, op, arg, _ in input_tests(model):
        if hasattr(arg, "input"):
            refs.add(arg.input)
            refs.update(subjects)
        elif op in ("within", "older_than"):
            for n in subjects:
                windows.setdefault(n, set()).add(arg)
        else:
            values = arg if isinstance(arg, list) else [arg]
            for n in subjects:
                thresholds.setdefault(n, set()).update(
                    v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool))
    order = {d.id: i for i, d in enumerate(model.decisions)}

    def expand(name: str, seen: set[str]) -> set[str]:
        spec = specs.get(name)
        if name in seen or spec is None:
            return set()
        seen.add(name)
        out = {name}
        for op in spec.operands:
            out |= expand(op, seen)
        return out

    direct: list[set[int]] = []
    inputs_read: list[set[str]] = []
    for d in model.decisions:
        reads: set[int] = set()
        names: set[str] = set()
        if isinstance(d, BandsDecision):
            names |= expand(d.input, set())
        for row in getattr(d, "rows", ()):
            for leaf, _ in walk_conditions(row.when, ()):
                if isinstance(leaf, Test):
                    kind, subject = leaf.subject
                    if kind == "decision":
                        if subject in order:
                            reads.add(order[subject])
                    else:
                        for n in ([subject] if kind == "input" else subject):
                            names |= expand(n, set())
                    arg = leaf.operator[1]
                    if hasattr(arg, "input"):
                        names |= expand(arg.input, set())
                else:
                    names |= expand(leaf.count_events.input, set())
        direct.append(reads)
        inputs_read.append(names)
    needs: list[tuple[int, ...]] = []
    for i in range(len(direct)):
        seen: set[int] = set()
        stack = list(direct[i])
        while stack:
            k = stack.pop()
            if k not in seen:
                seen.add(k)
                stack.extend(direct[k])
        needs.append(tuple(sorted(seen)) + (i,))
    reads_all = tuple(frozenset(set().union(inputs_read[i], *(inputs_read[k] for k in needs[i]))) for i in range(len(needs)))
    return Facts(frozenset(refs), {k: tuple(sorted(v)) for k, v in thresholds.items()},
                 {k: tuple(sorted(v, key=str)) for k, v in windows.items()}, tuple(needs), reads_all)


def _integer_points(pack: Any, name: str, lo: float | None, hi: float | None) -> list[int]:
    edges = pack._facts.thresholds.get(name, ())
    low = int(lo) if lo is not None else int(min(edges, default=0)) - 1
    high = int(hi) if hi is not None else int(max(edges, default=0)) + 1
    points = {low, high}
    for t in edges:
        for p in (int(t) - 1, int(t), int(t) + 1):
            if low <= p <= high:
                points.add(p)
    return sorted(points) if len(points) <= SETTLE_POINTS else []


def _date_points(pack: Any, name: str, as_of: date) -> list[date]:
    points = {as_of, as_of + timedelta(days=1)}
    for duration in pack._facts.windows.get(name, ()):
        limit = subtract(as_of, duration, pack.calendar)
        points |= {limit - timedelta(days=1), limit, limit + timedelta(days=1)}
    return sorted(points) if len(points) <= SETTLE_POINTS else []


# ----------------------------------------------------------------- what would settle it


def _settle(pack: Any, ctx: Ctx, index: int, enumerable: dict[str, list[tuple[Any, str]]],
            order: list[str], budget: Budget) -> tuple[Settling, ...]:
    out = []
    points = SETTLE_POINTS
    for name, domain in enumerable.items():
        if len(domain) > points or not budget.take(len(domain)):
            break
        points -= len(domain)
        results = []
        for value, words in domain:
            o, _ = _rerun(pack, ctx, index, {name: value})
            results.append((value, words, o.value if o.status == "decided" else NO_VALUE if o.status == "no_value" else None))
        if not any(r is not None for _, _, r in results):
            continue
        spec = pack.inputs[name]
        if spec.type.base in ("integer", "date"):
            cases = _intervals(results)
        else:
            cases = tuple((words, r) for _, words, r in results if r is not None)
        out.append(Settling(name, cases))
    return tuple(out)


def _word(x: Any) -> str:
    return x.isoformat() if isinstance(x, date) else str(x)


def _intervals(results: list[tuple[Any, str, Any]]) -> tuple[tuple[str, Any], ...]:
    """Consecutive points with one result become one range: ``20 to 27 -> qpip_1``."""
    groups: list[list[Any]] = []
    for value, _, result in results:
        if groups and groups[-1][2] == result:
            groups[-1][1] = value
        else:
            groups.append([value, value, result])
    out = []
    for first, last, result in groups:
        if result is None:
            continue
        words = _word(first) if first == last else f"{_word(first)} to {_word(last)}"
        out.append((words, result))
    return tuple(out)
