"""Which rules, band edges, table rows, outcomes and ladder transitions the policy tests exercise.

Grouped by the clause of the council's document each item cites, so an author sees
which parts of the document are proven by a test and which are not. Thresholds are
compared on counts (``covered * 100 >= threshold * total``), never on a rounded
percentage, so 1 uncovered item in 1,000 fails ``--threshold 100``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .engine import PolicyPack
from .models import BandsDecision, TableDecision

__all__ = ["Item", "Coverage", "coverage"]


@dataclass(frozen=True)
class Item:
    kind: str  # band | row | default | scope | outcome | edge | transition
    id: str
    source: str
    covered: bool


@dataclass
class Coverage:
    pack: str
    items: list[Item] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def covered(self) -> int:
        return sum(i.covered for i in self.items)

    def meets(self, threshold: float | str) -> bool:
        return self.covered * 100 >= Fraction(str(threshold)) * self.total

    def by_clause(self) -> dict[str, list[Item]]:
        out: dict[str, list[Item]] = {}
        for i in self.items:
            out.setdefault(i.source, []).append(i)
        return dict(sorted(out.items(), key=lambda kv: _natural(kv[0])))

    def render(self, *, all_items: bool = False) -> str:
        lines = [f"coverage of `{self.pack}`: {self.covered}/{self.total} items exercised"]
        for clause, items in self.by_clause().items():
            done = sum(i.covered for i in items)
            lines.append(f"  {done}/{len(items)}  {clause}")
            for i in items:
                if all_items or not i.covered:
                    lines.append(f"        {'ok  ' if i.covered else 'MISS'} {i.kind} `{i.id}`")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"pack": self.pack, "covered": self.covered, "total": self.total,
                "uncovered": [{"kind": i.kind, "id": i.id, "source": i.source} for i in self.items if not i.covered]}


def _natural(text: str) -> list[Any]:
    """Sort `§2` before `§10`."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def coverage(pack: PolicyPack, cases: Iterable[tuple[dict[str, Any] | None, Any]], transitions: Iterable[str] = ()) -> Coverage:
    """Coverage of ``pack`` by ``cases``: pairs of (evidence dict, Decision) from its policy tests.

    ``transitions`` are the ladder transition ids that lifecycle tests walked.
    """
    hit: set[tuple[str, str]] = set()
    values: dict[str, set[Any]] = {}
    inputs = {i.id: i for i in pack.model.inputs}
    for evidence, decision in cases:
        if decision is None or evidence is None:
            continue
        for step in decision.trace:
            if step.result == "true":
                hit.add((step.decision, step.rule))
        for d in decision.decisions:
            if "default" in d.rules:
                hit.add((d.id, "default"))
        for a in [*decision.actions, *decision.approvals]:
            if a.certain:
                hit.add(("outcomes", a.id))
        record = pack.parse_evidence(evidence)
        for name in inputs:
            v = pack.read(name, record, decision.as_of)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                values.setdefault(name, set()).add(v)
    walked = set(transitions)
    cov = Coverage(pack.id)
    m = pack.model
    for s in m.scope:
        cov.items.append(Item("scope", s.id, s.source, ("scope", s.id) in hit))
    for d in m.decisions:
        if isinstance(d, BandsDecision):
            seen = values.get(d.input, set())
            integer = inputs[d.input].type == "integer"
            for b in d.bands:
                cov.items.append(Item("band", f"{d.id}/{b.id}", b.source, (d.id, b.id) in hit))
                edges = []
                if b.min is not None:
                    edges += [(f"min {b.min}", b.min)] + ([(f"below min {b.min - 1}", b.min - 1)] if integer else [])
                if b.max is not None:
                    edges += [(f"max {b.max}", b.max)] + ([(f"above max {b.max + 1}", b.max + 1)] if integer else [])
                if b.below is not None:
                    edges += [(f"below {b.below}", b.below)]
                for label, v in edges:
                    cov.items.append(Item("edge", f"{d.id}/{b.id} {label}", b.source, v in seen))
        elif isinstance(d, TableDecision):
            for r in d.rows:
                cov.items.append(Item("row", f"{d.id}/{r.id}", r.source, (d.id, r.id) in hit))
            if d.default is not None:
                cov.items.append(Item("default", f"{d.id}/default", d.default.source, (d.id, "default") in hit))
    for o in m.outcomes:
        cov.items.append(Item("outcome", o.id, o.source, ("outcomes", o.id) in hit))
    if m.ladder is not None:
        for t in m.ladder.transitions:
            cov.items.append(Item("transition", t.id, t.source, t.id in walked))
    return cov
