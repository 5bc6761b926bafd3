"""The lean headline: what ``--detail headline`` writes, without building the explained Decision.

A bulk run at headline detail writes, for each pack, the headline decision's value, status,
label and severity, its missing evidence and bounds, and whether any part of the decision is
left to professional judgement. :func:`headline` computes exactly those fields, and nothing
else: the scope rules, then only the decisions the headline reads (``Facts.needs``), the
headline's bounds when it is open (without "what would settle it", which the line does not
carry), and the judgement flag from what the pack says statically where it can. No trace is
kept, no explanation written, no pydantic model built.

It is the same computation as :meth:`PolicyPack.evaluate` followed by the headline projection
(``StreamResult.to_dict``), field for field; ``tests/test_lean.py`` checks the two equal over a
synthetic market. Where skipping a decision could skip an error ``evaluate`` would raise (a
computed input dividing by zero with no ``if_zero``), the pack has no lean plan and the caller
uses the full path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._bounds import NO_VALUE, Budget
from ._bounds import analyse as _analyse
from ._compile import Ctx, _decisions_read, feed
from .models import Arithmetic, BandsDecision, Pack

__all__ = ["Plan", "plan", "headline"]


@dataclass(frozen=True)
class Plan:
    """What the lean headline evaluates, worked out once when a pack loads."""

    head: int
    """The headline decision's position."""
    head_needs: tuple[int, ...]
    """The decisions the headline reads, directly or not, then the headline itself, in pack order."""
    always_judged: bool
    """A decision of the pack is left to judgement as a whole: every decision in scope carries it."""
    judge_needs: tuple[int, ...]
    """When ``always_judged`` is false: the decisions to evaluate to know the headline and the judgement flag
    (the headline's, those that may be left to judgement, those the judged outcomes and checks read, and
    what each of these reads), in pack order. A decision left out can carry no judgement."""
    judged_outcomes: tuple[int, ...]
    """Outcomes that carry a judgement when they may apply (when ``always_judged`` is false)."""
    judged_checks: tuple[int, ...]
    """Consistency checks, every one of which carries a judgement when it holds."""
    ordered: bool
    """The headline is on an ordered scale and not a collected list: open, it has bounds."""
    head_id: str
    scale_labels: dict[str, str | None] | None
    scale_severity: dict[str, int | None] | None


def plan(pack: Any) -> Plan | None:
    """The lean plan of a compiled pack, or ``None`` when a skipped part could raise an error the full path raises."""
    model: Pack = pack.model
    if any(_may_divide_by_zero(inp.derive) for inp in model.inputs if inp.derive is not None):
        return None
    head_id = model.pack.headline
    head = next(i for i, d in enumerate(model.decisions) if d.id == head_id)
    d = model.decisions[head]
    scale = model.scale(d.scale) if d.scale is not None else None
    hit = getattr(d, "hit", None)
    order = {x.id: i for i, x in enumerate(model.decisions)}
    judged_outcomes = tuple(i for i, o in enumerate(model.outcomes) if o.judgement)
    wanted = {head} | {i for i, judged in enumerate(may_judge(model)) if judged}
    for cond in [model.outcomes[i].when for i in judged_outcomes] + [c.when for c in model.consistency]:
        wanted |= {order[ref] for ref in _decisions_read(cond) if ref in order}
    needs = pack._facts.needs
    return Plan(
        head=head,
        head_needs=tuple(sorted(needs[head])),
        always_judged=any(x.judgement for x in model.decisions),
        judge_needs=tuple(sorted({k for i in wanted for k in needs[i]})),
        judged_outcomes=judged_outcomes,
        # a consistency check that holds is a warning whose judgement is its own or its message: never empty
        judged_checks=tuple(i for i, c in enumerate(model.consistency) if c.judgement or c.message),
        ordered=scale is not None and scale.ordered and hit != "collect",
        head_id=head_id,
        scale_labels=None if scale is None else {v.id: v.label for v in scale.values},
        scale_severity=None if scale is None else {v.id: v.severity for v in scale.values},
    )


def _may_divide_by_zero(node: Any) -> bool:
    """Whether a computed input has a quotient without ``if_zero`` anywhere in it (a located evaluation error)."""
    arithmetic = node.arithmetic() if not isinstance(node, Arithmetic) else node
    if arithmetic is None:
        return False
    form, operands = arithmetic.form
    if form == "quotient" and arithmetic.if_zero is None:
        return True
    return any(isinstance(op, Arithmetic) and _may_divide_by_zero(op) for op in operands)


def may_judge(model: Pack) -> list[bool]:
    """For each decision, whether an evaluation can leave it to judgement: a rule of its own says so, or a
    row reads a decision that may be (a value built on a decision left to judgement is left to judgement)."""
    order = {d.id: i for i, d in enumerate(model.decisions)}
    out = [False] * len(model.decisions)
    changed = True
    while changed:
        changed = False
        for i, d in enumerate(model.decisions):
            if out[i]:
                continue
            if isinstance(d, BandsDecision):
                found = bool(d.judgement) or any(b.judgement for b in d.bands)
            else:
                found = (bool(d.judgement) or any(r.judgement for r in d.rows) or bool(d.default and d.default.judgement)
                         or any(out[order[ref]] for r in d.rows for ref in _decisions_read(r.when) if ref in order))
            if found:
                out[i] = changed = True
    return out


def headline(pack: Any, p: Plan, ctx: Ctx) -> dict[str, Any]:
    """The headline line's fields for a validated record (``ctx`` fresh), in the order they are written."""
    decisions = pack._decisions
    for _, cond in pack._scope:
        del ctx.missing[:]
        if cond(ctx) is True:  # out of scope: no decision is made
            return _line(pack, ctx, "out_of_scope", None, None, None, False, [], None, None)
    judged = p.always_judged
    head = None
    for k in p.head_needs if judged else p.judge_needs:  # in pack order, as evaluate decides them
        d, fn = decisions[k]
        del ctx.missing[:]
        o = fn(ctx)
        feed(ctx, d.id, o)
        if o.judgements:
            judged = True
        if k == p.head:
            head = o
    if not judged:  # whether an outcome or a check leaves it to judgement
        outcomes = pack._outcomes
        for k in p.judged_outcomes if not judged else ():
            del ctx.missing[:]
            if outcomes[k][1](ctx) is not False:
                judged = True
                break
        checks = pack._consistency
        for k in p.judged_checks if not judged else ():
            del ctx.missing[:]
            if checks[k][1](ctx) is True:
                judged = True
                break
    assert head is not None
    status = head.status
    value = head.value
    label = severity = None
    if status == "decided" and p.scale_labels is not None and not isinstance(value, list):
        label = p.scale_labels.get(value)
        assert p.scale_severity is not None
        severity = p.scale_severity.get(value)
    least = most = None
    if status == "insufficient_evidence" and p.ordered and not isinstance(value, list):
        # the headline is analysed first in evaluate, within a fresh budget: the same bounds
        analysis = _analyse(pack, ctx, p.head, head, Budget(), settle=False)
        if analysis is not None:
            possible = [v for v in analysis.possible if v is not NO_VALUE]
            if possible:
                least, most = possible[0], possible[-1]
    return _line(pack, ctx, status, list(value) if isinstance(value, list) else value, label, severity, judged,
                 list(dict.fromkeys(head.missing)), least, most)


def _line(pack: Any, ctx: Ctx, status: str, value: Any, label: str | None, severity: int | None, judged: bool,
          missing: list[str], least: Any, most: Any) -> dict[str, Any]:
    ref = pack._ref
    return {"provider_id": ctx.evidence.provider.id, "pack": ref.id, "version": ref.version,
            "as_of": ctx.as_of.isoformat(), "status": status, "headline": pack.model.pack.headline, "value": value,
            "label": label, "severity": severity, "judgement": judged, "missing": missing, "at_least": least,
            "at_most": most}
