"""``carepolicy explain``: a pack in plain words, or one decision with the rule-by-rule trace."""

from __future__ import annotations

import argparse
from datetime import date
from typing import IO, Any

from .loader import load_pack
from .models import AllOf, AnyOf, BandsDecision, CountEvents, NotOf, Pack, Test


def add_parser(sub: Any) -> None:
    p = sub.add_parser("explain", help="describe a pack in plain words, or explain its decision for evidence")
    p.add_argument("pack", help="a pack file")
    p.add_argument("evidence", nargs="?", help="evidence JSON: explain the decision for it")
    p.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
    p.add_argument("--explain", choices=["fails", "full"], default="full",
                   help="with evidence: `full` lists every rule checked, `fails` only those that did not hold")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    pack = load_pack(args.pack)
    if args.evidence is None:
        stdout.write(describe(pack.model) + "\n")
        return 0
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else date.today()
    except ValueError:
        stderr.write(f"carepolicy: --as-of `{args.as_of}` is not a date; write it as YYYY-MM-DD\n")
        return 2
    with open(args.evidence, "rb") as fh:
        decision = pack.evaluate(fh.read(), as_of)
    stdout.write(decision.explain() + "\n")
    stdout.write("trace:\n")
    for step in decision.trace:
        if args.explain == "fails" and step.result == "true":
            continue
        stdout.write(f"  {step.decision:24} {step.rule:32} {step.result}\n")
    return 0


def condition_text(c: Any) -> str:
    """A condition in words."""
    if isinstance(c, AllOf):
        return "(" + " and ".join(condition_text(x) for x in c.all) + ")"
    if isinstance(c, AnyOf):
        return "(" + " or ".join(condition_text(x) for x in c.any) + ")"
    if isinstance(c, NotOf):
        return "not " + condition_text(c.not_)
    if isinstance(c, CountEvents):
        q = c.count_events
        bound = f"at least {c.at_least}" if c.at_least is not None else f"at most {c.at_most}"
        text = f"{bound} {'/'.join(q.kinds)} event(s)"
        if q.within:
            text += f" in the last {q.within}"
        if q.where:
            text += " where " + ", ".join(f"{w.field} {_op_words(w)}" for w in q.where)
        if q.group_by:
            text += f" with the same {q.group_by}"
        return text
    if isinstance(c, Test):
        kind, subject = c.subject
        op, arg = c.operator
        who = {"input": f"`{subject}`", "decision": f"decision `{subject}`"}.get(kind)
        if who is None:
            who = ("any of " if kind == "any_of" else "all of ") + ", ".join(f"`{s}`" for s in subject)
        words = {"is": "is", "is_not": "is not", "in": "is one of", "not_in": "is none of", "at_least": "is at least",
                 "at_most": "is at most", "above": "is above", "below": "is below", "worse_than": "is worse than",
                 "no_better_than": "is no better than", "better_than": "is better than", "no_worse_than": "is no worse than",
                 "within": "is within the last", "older_than": "is older than"}
        if op == "known":
            return f"{who} is {'known' if arg else 'missing'}"
        value = ", ".join(map(str, arg)) if isinstance(arg, list) else str(arg).lower() if isinstance(arg, bool) else str(arg)
        return f"{who} {words[op]} {value}"
    return str(c)


def _op_words(w: Any) -> str:
    if w.is_ is not None:
        return f"is {w.is_}"
    if w.in_ is not None:
        return "is one of " + ", ".join(map(str, w.in_))
    return f"is at least {w.at_least}"


def describe(pack: Pack) -> str:
    m = pack.pack
    lines = [f"{m.authority}: {m.title}", f"pack `{m.id}` v{m.version}, in force from {m.effective_from}"
             + (f" to {m.effective_to}" if m.effective_to else ""),
             f"source: {m.source_document.title}" + (f" ({m.source_document.version})" if m.source_document.version else ""),
             f"headline: `{m.headline}`", ""]
    for s in pack.scope:
        lines.append(f"out of scope when {condition_text(s.when)}: {s.reason} [{s.source}]")
    for d in pack.decisions:
        lines.append(f"decision `{d.id}`{' — ' + d.title if d.title else ''} [{d.source}]")
        if d.judgement:
            lines.append(f"  professional judgement: {d.judgement}")
        if isinstance(d, BandsDecision):
            for b in d.bands:
                lo = "" if b.min is None else f"from {b.min} "
                hi = f"to {b.max}" if b.max is not None else (f"below {b.below}" if b.below is not None else "upwards")
                lines.append(f"  `{d.input}` {lo}{hi}: {b.value} [{b.source}]")
        else:
            lines.append(f"  hit policy: {d.hit}")
            for r in d.rows:
                lines.append(f"  {r.value} when {condition_text(r.when)} [{r.source}]" + (" (judgement)" if r.judgement else ""))
            if d.default is not None:
                lines.append(f"  otherwise {d.default.value} [{d.default.source}]")
    if pack.outcomes:
        lines.append("")
    for o in pack.outcomes:
        due = ""
        if o.due is not None:
            due = f", due {o.due.after} after" if o.due.after else f", due {o.due.before} before"
            due += " the as-of date" if o.due.from_ == "as_of" else f" `{o.due.from_}`"
        roles = f" ({', '.join(o.roles)})" if o.roles else ""
        lines.append(f"{o.kind} `{o.id}`{roles}: {o.text}{due} — when {condition_text(o.when)} [{o.source}]")
    if pack.ladder:
        lines.append("")
        lines.append("ladder: " + " / ".join(f"{s.id} (rank {s.rank})" for s in sorted(pack.ladder.states, key=lambda s: s.rank)))
        for t in pack.ladder.transitions:
            lines.append(f"  {t.from_} -> {t.to} ({t.direction}) on {t.trigger.kind}"
                         + (f" `{t.trigger.name}`" if t.trigger.name else "") + f" [{t.source}]")
    return "\n".join(lines)
