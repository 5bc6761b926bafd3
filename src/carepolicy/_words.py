"""A pack in plain words: what it reads, each decision's bands or rows, its outcomes and ladder, with clauses."""

from __future__ import annotations

from ._vocabulary import resolve_inputs
from .lifecycle import describe as condition_text
from .models import BandsDecision, Pack

__all__ = ["pack_in_words"]


def pack_in_words(pack: Pack) -> str:
    """What ``carepolicy explain PACK`` prints: the pack as its authors would read it aloud, clause by clause."""
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
