"""Shared by the stream tests: the packs, event strategies derived from each pack, and the oracle
(the core evaluating the accumulated history)."""

from __future__ import annotations

import copy
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st

import carepolicy as cp
from carepolicy import stream, testing
from carepolicy._stream_rules import event_queries, field_order
from carepolicy._time import window_start
from carepolicy._vocabulary import event_field_type
from carepolicy.evidence import EVENT_KINDS
from carepolicy.stream import DecisionChange, DecisionState, TriggerChange, trigger_rules

ROOT = Path(__file__).resolve().parent.parent
# every shipped pack, the valid test packs, the reference evaluator's edge pack and the stream's own
PACK_FILES = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
PACK_FILES += sorted(p for p in (ROOT / "tests/data/packs/valid").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
PACK_FILES += [ROOT / "tests/reference/packs/edges.yaml", ROOT / "tests/data/packs/stream/counting.yaml"]
PACKS = {p.stem: cp.load_pack(p) for p in PACK_FILES}
SHIPPED = [PACKS[p.stem] for p in PACK_FILES if p.parent.name == "policies"]

AVAILABLE = stream.available()
# Where durable-rules cannot run (Python 3.13+, or an environment without the extra) the stream tests
# are skipped as an absent optional extra (tests/conftest.py); CI requires it, so there a skip fails.
needs_stream = pytest.mark.skipif(
    not AVAILABLE, reason="optional durable absent: durable-rules cannot run here (see carepolicy.stream.available)")

TEXTS = ["s-1", "s-2", "é \"q\" \\ 中", "m", "n", "a", "zz"]


def events_path(pack: cp.PolicyPack) -> str | None:
    return next((s.evidence_path for s in pack.inputs.values() if s.type.base == "events" and s.kind != "derived"), None)


def without_events(pack: cp.PolicyPack, record: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    path = events_path(pack)
    if path is not None:
        *parents, last = path.split(".")
        node = out
        for p in parents:
            node = node.get(p, {})
        node.pop(last, None)
    return out


def with_events(pack: cp.PolicyPack, record: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    path = events_path(pack)
    if path is not None:
        *parents, last = path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = list(events)
    return out


# ----------------------------------------------------------------- strategies from the packs


def _values(field: str, packs: list[cp.PolicyPack]) -> list[Any]:
    """Values worth giving an event field: the ones the packs test, their neighbours, and others."""
    order = field_order(field)
    if order is not None:
        return order
    vt = event_field_type(field)
    if vt.base == "boolean":
        return [True, False]
    named = set()
    for pack in packs:
        for q in event_queries(pack.model):
            for t in q.where:
                if t.field == field:
                    named.update(t.in_ or [t.is_ if t.is_ is not None else t.at_least])
    if vt.base in ("integer", "number"):
        nums = {v for v in named if isinstance(v, int)}
        return sorted({0, 1, 2} | {n + d for n in nums for d in (-1, 0, 1) if n + d >= 0})
    return sorted({*TEXTS, *(v for v in named if isinstance(v, str))})


def event_fields(packs: list[cp.PolicyPack]) -> dict[str, list[Any]]:
    fields: set[str] = set()
    for pack in packs:
        for q in event_queries(pack.model):
            fields.update(t.field for t in q.where)
            if q.group_by:
                fields.add(q.group_by)
    return {f: _values(f, packs) for f in sorted(fields)}


def event_kinds(packs: list[cp.PolicyPack]) -> list[str]:
    counted = sorted({k for pack in packs for q in event_queries(pack.model) for k in q.kinds})
    uncounted = [k for k in EVENT_KINDS if k not in counted][:1]
    return counted + uncounted


def edges(packs: list[cp.PolicyPack], as_of: date) -> list[int]:
    """Day offsets before the as-of date at every window edge of the packs (negative: after it)."""
    offsets = {0, 1, 2, -1, -2, -30, 400}
    for pack in packs:
        for q in event_queries(pack.model):
            if q.within is not None:
                inside = (as_of - window_start(as_of, q.within, pack.calendar)).days
                offsets |= {inside - 1, inside, inside + 1}
    return sorted(offsets)


STEPS = [0, 1, 2, 3, 6, 7, 13, 14, 27, 28, 29, 30, 31, 41, 42, 43, 89, 90, 91, 92, 365, 366]


@st.composite
def event_at(draw: Any, packs: list[cp.PolicyPack], as_of: date, kinds: list[str],
             fields: dict[str, list[Any]]) -> dict[str, Any]:
    offset = draw(st.one_of(st.sampled_from(edges(packs, as_of)), st.integers(-10, 120)))
    e: dict[str, Any] = {"kind": draw(st.sampled_from(kinds)), "date": (as_of - timedelta(days=offset)).isoformat()}
    for name, values in fields.items():
        if draw(st.integers(0, 3)):  # a quarter of the time the event does not record it
            e[name] = draw(st.sampled_from(values))
    return e


@st.composite
def streams(draw: Any, packs: list[cp.PolicyPack], max_ops: int = 24) -> tuple[date, dict[str, Any], list[tuple[Any, ...]]]:
    """A start date, a first evidence record and a list of steps: ("post", event, days the as-of
    date moves first), ("advance", days) or ("update", record, days)."""
    start_lo = max(p.model.pack.effective_from for p in packs)
    start = draw(st.dates(max(start_lo, testing.AS_OF_RANGE[0]), max(start_lo, testing.AS_OF_RANGE[1])))
    kinds, fields = event_kinds(packs), event_fields(packs)

    def record() -> dict[str, Any]:
        """Evidence for every pack at once: each pack's draw, merged (the first pack's value wins)."""
        merged: dict[str, Any] = {}
        for pack in packs:
            data, _ = draw(testing.evidence(pack, gaps=True, as_of=start))
            _merge(merged, without_events(pack, data))
        return merged

    ops: list[tuple[Any, ...]] = []
    day = start
    for _ in range(draw(st.integers(0, max_ops))):
        choice = draw(st.integers(0, 9))
        step = draw(st.sampled_from(STEPS)) if draw(st.integers(0, 2)) == 0 else 0
        day += timedelta(days=step)
        if choice < 7:
            ops.append(("post", draw(event_at(packs, day, kinds, fields)), step))
        elif choice < 9:
            ops.append(("advance", max(step, 1)))
            day += timedelta(days=max(step, 1) - step)
        else:
            ops.append(("update", record(), step))
    return start, record(), ops


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into.setdefault(key, value)


# ----------------------------------------------------------------- the oracle


def oracle(pack: cp.PolicyPack, record: dict[str, Any], events: list[dict[str, Any]], as_of: date
           ) -> tuple[dict[str, DecisionState], set[tuple[str, str]]]:
    """The core's decisions and held triggers over the accumulated history."""
    d = pack.evaluate(with_events(pack, record, events), as_of)
    decisions = {r.id: DecisionState(r.status, r.value, tuple(r.rules), tuple(r.undetermined), tuple(r.missing))
                 for r in d.decisions}
    triggers = {(t.owner, t.rule) for t in trigger_rules(pack)}
    held = {(t.decision, t.rule) for t in d.trace if t.result == "true" and (t.decision, t.rule) in triggers}
    return decisions, held


def expected_changes(before: tuple[dict[str, DecisionState], set[tuple[str, str]]] | None,
                     after: tuple[dict[str, DecisionState], set[tuple[str, str]]]) -> tuple[set[Any], set[Any]]:
    old_decisions, old_held = before if before else ({}, set())
    new_decisions, new_held = after
    decisions = {(k, v.status, repr(v.value)) for k, v in new_decisions.items()
                 if k not in old_decisions or (old_decisions[k].status, old_decisions[k].value) != (v.status, v.value)}
    triggers = {(o, r, True) for o, r in new_held - old_held} | {(o, r, False) for o, r in old_held - new_held}
    return decisions, triggers


def changes_seen(changes: list[Any], pack_id: str) -> tuple[set[Any], set[Any]]:
    decisions = {(c.decision, c.after.status, repr(c.after.value)) for c in changes
                 if isinstance(c, DecisionChange) and c.pack == pack_id and c.after is not None}
    triggers = {(c.owner, c.rule, c.fired) for c in changes if isinstance(c, TriggerChange) and c.pack == pack_id}
    return decisions, triggers


__all__ = ["PACKS", "SHIPPED", "AVAILABLE", "needs_stream", "streams", "oracle",
           "expected_changes", "changes_seen", "with_events", "without_events", "event_at", "event_kinds",
           "event_fields", "sys"]
