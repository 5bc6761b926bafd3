"""The evidence burden of a pack: for each headline value, the fewest inputs that decide it.

A council needs to know how much it must record before a pack can decide: Oxfordshire's RED
needs one red standard, its GREEN every standard and more. For each value of the headline
scale this finds records that decide it, then drops inputs one at a time while the value
stands, so what is left is a minimal set: knowing only those inputs, with those values,
decides the headline. It is a search (seeded, so the same pack gives the same report), not a
proof that no smaller set exists; the report says how many records it tried.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ._time import subtract
from .engine import PolicyPack

__all__ = ["Witness", "burden"]

TRIES = 400
"""Random records tried per headline value to find ones that decide it."""
WITNESSES = 8
"""Records, per value, reduced to a minimal set of inputs."""


@dataclass(frozen=True)
class Witness:
    """A minimal set of inputs (with their values) that decides the headline to ``value``."""

    value: str
    inputs: tuple[tuple[str, Any], ...]


def burden(pack: PolicyPack, as_of: date, *, seed: int = 0) -> tuple[dict[str, list[Witness]], int]:
    """For each headline value: the smallest sets found that decide it (smallest first); and records tried."""
    head = pack.model.decision(pack.model.pack.headline)
    assert head.scale is not None
    values = [v.id for v in pack.model.scale(head.scale).values]
    rng = random.Random(seed)
    domains = {name: dom for name, spec in pack.inputs.items()
               if spec.kind != "derived" and (dom := _domain(pack, name, as_of)) is not None}
    found: dict[str, list[Witness]] = {v: [] for v in values}
    tried = 0
    pools: dict[str, list[dict[str, Any]]] = {v: [] for v in values}
    best = {name: _best(pack, name, dom) for name, dom in domains.items()}
    names = sorted(domains)
    for attempt in range(TRIES * len(values)):
        if all(len(pools[v]) >= WITNESSES for v in values):
            break
        if attempt % 2:  # a record at random
            assignment = {name: rng.choice(dom) for name, dom in domains.items()}
        else:  # the best record the pack's `worse:` directions describe, with a few inputs made otherwise
            assignment = dict(best)
            for name in rng.sample(names, k=min(len(names), rng.randint(0, 3))):
                assignment[name] = rng.choice(domains[name])
        tried += 1
        got = _headline(pack, assignment, as_of)
        if got in pools and len(pools[got]) < WITNESSES:
            pools[got].append(assignment)
    for value, pool in pools.items():
        sets = {}
        for assignment in pool:
            kept = _reduce(pack, assignment, value, as_of, rng)
            sets[tuple(sorted(kept))] = Witness(value, tuple(sorted(kept.items(), key=lambda kv: kv[0])))
        found[value] = sorted(sets.values(), key=lambda w: (len(w.inputs), w.inputs))
    return found, tried


def _best(pack: PolicyPack, name: str, domain: list[Any]) -> Any:
    """The value of an input its `worse:` direction calls best (the first one tried, without a direction)."""
    worse = pack.inputs[name].worse
    if worse == "higher":
        return domain[0]
    if worse == "lower":
        return domain[-1]
    if worse == "true":
        return False if False in domain else domain[0]
    if worse == "false":
        return True if True in domain else domain[0]
    if worse == "more":
        return domain[0]  # no events
    return domain[0]


def _reduce(pack: PolicyPack, assignment: dict[str, Any], value: str, as_of: date, rng: random.Random) -> dict[str, Any]:
    kept = dict(assignment)
    order = list(kept)
    rng.shuffle(order)
    for name in order:
        trial = {k: v for k, v in kept.items() if k != name}
        if _headline(pack, trial, as_of) == value:
            kept = trial
    return kept


def _headline(pack: PolicyPack, assignment: dict[str, Any], as_of: date) -> str | None:
    record: dict[str, Any] = {"provider": {"id": "burden", "name": "Burden", "service_type": "residential"}}
    for name, value in assignment.items():
        _put(record, pack.inputs[name].evidence_path, value)
    d = pack.evaluate(record, as_of, analyse=False)
    return d.headline.value if d.status == "decided" and isinstance(d.headline.value, str) else None


def _put(record: dict[str, Any], path: str, value: Any) -> None:
    node = record
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value.isoformat() if isinstance(value, date) else value


def _domain(pack: PolicyPack, name: str, as_of: date) -> list[Any] | None:
    """Values worth trying for an input: every value of a finite domain, numbers and dates either side
    of each of the pack's own edges, no events or a burst of every kind the pack counts."""
    vt = pack.inputs[name].type
    if vt.base in ("boolean", "enum", "scale"):
        return list(vt.values or ())
    facts = pack._facts
    if vt.base in ("integer", "number"):
        lo = vt.lo if vt.lo is not None and vt.lo > -10**6 else 0
        hi = vt.hi if vt.hi is not None and vt.hi < 10**6 else 1000
        points = {lo, hi} | {t + d for t in facts.thresholds.get(name, ()) for d in (-1, 0, 1)}
        kind = int if vt.base == "integer" else float
        return sorted({kind(p) for p in points if lo <= p <= hi})
    if vt.base == "date":
        days = {as_of, as_of - timedelta(days=400), as_of + timedelta(days=30)}
        for duration in facts.windows.get(name, ()):
            limit = subtract(as_of, duration, pack.calendar)
            days |= {limit - timedelta(days=1), limit + timedelta(days=1)}
        return sorted(days)
    if vt.base == "events":
        return [[], _burst(pack, name, as_of)]
    return None


def _burst(pack: PolicyPack, name: str, as_of: date) -> list[dict[str, Any]]:
    """Enough events of every kind the pack counts on ``name`` to pass each count it makes."""
    from ._check import pack_conditions, walk_conditions
    from .models import CountEvents

    out: list[dict[str, Any]] = []
    for cond, _, _ in pack_conditions(pack.model):
        for leaf, _ in walk_conditions(cond, ()):
            if isinstance(leaf, CountEvents) and leaf.count_events.input == name and leaf.at_least is not None:
                q = leaf.count_events
                event: dict[str, Any] = {}
                for t in q.where:
                    event[t.field] = t.is_ if t.is_ is not None else (t.in_[0] if t.in_ else t.at_least)
                if q.group_by:
                    event[q.group_by] = "same"
                for kind in q.kinds:
                    out += [{**event, "kind": kind, "date": as_of.isoformat()}] * max(leaf.at_least, 1)
    return out[:2000]
