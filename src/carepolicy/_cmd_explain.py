"""``carepolicy explain``: a pack in plain words, or one decision with the rule-by-rule trace."""

from __future__ import annotations

import argparse
from typing import IO, Any

from .loader import load_pack, read_file
from .lifecycle import describe as condition_text
from ._vocabulary import resolve_inputs
from .models import BandsDecision, Pack


def add_parser(sub: Any) -> None:
    p = sub.add_parser("explain", help="describe a pack in plain words, or explain its decision for evidence")
    p.add_argument("pack", help="a pack file")
    p.add_argument("evidence", nargs="?", help="evidence JSON: explain the decision for it")
    p.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
    p.add_argument("--explain", choices=["fails", "full"], default="full",
                   help="with evidence: `full` lists every rule checked, `fails` only those that did not hold")
    from .cli import add_pin_arguments

    add_pin_arguments(p)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .cli import check_pins

    pack = load_pack(args.pack)
    check_pins([pack], args)
    if args.evidence is None:
        stdout.write(describe(pack.model) + "\n")
        return 0
    from .cli import parse_as_of

    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return 2
    decision = pack.evaluate(read_file(args.evidence, max_bytes=None), as_of)  # a fifo or a device is refused
    stdout.write(decision.explain() + "\n")
    stdout.write("trace:\n")
    for step in decision.trace:
        if args.explain == "fails" and step.result == "true":
            continue
        stdout.write(f"  {step.decision:24} {step.rule:32} {step.result}\n")
    return 0


def describe(pack: Pack) -> str:
    m = pack.pack
    lines = [f"{m.authority.name}: {m.title}", f"pack `{m.id}` v{m.version}, in force from {m.effective_from}"
             + (f" to {m.effective_to}" if m.effective_to else ""),
             f"source: {m.source_document.title}" + (f" ({m.source_document.version})" if m.source_document.version else ""),
             f"headline: `{m.headline}`", "", "reads:"]
    specs, _ = resolve_inputs(pack)
    for inp in pack.inputs:
        spec = specs.get(inp.id)
        if spec is None:
            continue
        where = {"shared": "shared fact", "authority": "this authority's fact", "local": "finding",
                 "derived": "computed:"}[spec.kind]
        if spec.kind == "local" and spec.namespace != m.authority.id:
            where = f"finding of authority `{spec.namespace}`"
        kind = spec.type.describe() + (f" {_range(spec.type.lo, spec.type.hi)}" if spec.type.base in ("integer", "number") else "")
        lines.append(f"  `{inp.id}`: {where} {spec.evidence_path} ({kind})" + (f" [{inp.source}]" if inp.source else ""))
    lines.append("")
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
        due = f", due {o.due.describe()}" if o.due is not None else ""
        roles = f" ({', '.join(o.roles)})" if o.roles else ""
        lines.append(f"{o.kind} `{o.id}`{roles}: {o.text}{due} — when {condition_text(o.when)} [{o.source}]")
    if pack.ladder:
        lines.append("")
        lines.append("ladder: " + " / ".join(f"{s.id} (rank {s.rank})" for s in sorted(pack.ladder.states, key=lambda s: s.rank)))
        for t in pack.ladder.transitions:
            lines.append(f"  {t.from_} -> {t.to} ({t.direction}) on {t.trigger.kind}"
                         + (f" `{t.trigger.name}`" if t.trigger.name else "") + f" [{t.source}]")
    return "\n".join(lines)


def _range(lo: float | None, hi: float | None) -> str:
    if lo is None and hi is None:
        return ""
    return f"{_num(lo) if lo is not None else '...'} to {_num(hi) if hi is not None else '...'}".strip()


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
