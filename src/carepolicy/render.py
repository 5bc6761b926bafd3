"""Draw a pack's escalation ladder as Mermaid or Graphviz DOT text, and as SVG/PNG when Graphviz is installed.

The text formats need nothing but Python, so every pack can be drawn anywhere (GitHub
renders Mermaid in Markdown). States are coloured by common severity (or by rank when
a state has none); escalations are red, de-escalations green, lateral moves grey;
edges name their trigger, guard, approvals, quorum and the deadlines they start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import textwrap
from typing import Any

from .engine import PolicyPack
from .lifecycle import describe
from .models import Ladder, State, Transition

__all__ = ["to_mermaid", "to_dot", "to_markdown", "render_image", "RenderError", "graphviz_available"]

FILL = {0: "#c8e6c9", 1: "#fff9c4", 2: "#ffe0b2", 3: "#ffcdd2", 4: "#e57373"}
STROKE = {0: "#2e7d32", 1: "#f9a825", 2: "#ef6c00", 3: "#c62828", 4: "#8e0000"}
EDGE = {"escalate": "#c62828", "de-escalate": "#2e7d32", "lateral": "#757575"}
_GUARD_CHARS = 60
_WRAP = 36  # keeps wide ladders legible


class RenderError(RuntimeError):
    """A picture could not be drawn (Graphviz missing or failed)."""


def _ladder(pack: PolicyPack) -> Ladder:
    if pack.model.ladder is None:
        raise RenderError(f"pack `{pack.id}` has no ladder to draw")
    return pack.model.ladder


def level(state: State, ladder: Ladder) -> int:
    """The 0-4 colour level: the state's common severity, else its rank scaled to 0-4."""
    if state.severity is not None:
        return state.severity
    top = max(s.rank for s in ladder.states) or 1
    return round(4 * state.rank / top)


def state_lines(s: State) -> list[str]:
    return textwrap.wrap(s.label, _WRAP, break_on_hyphens=False) + [f"{s.kind} · rank {s.rank}" + (f" · severity {s.severity}" if s.severity is not None else "")]


def edge_lines(t: Transition) -> list[str]:
    """What a reader needs on an arrow: the move, its trigger, guard, approvals and deadlines."""
    trig = t.trigger
    when = {"deadline": f"deadline {trig.name or ''} missed".replace("  ", " "),
            "role_decision": "decision" + (f": {trig.name}" if trig.name else ""),
            "review_outcome": "review" + (f": {trig.name}" if trig.name else ""),
            "evidence": "evidence" + (f": {trig.name}" if trig.name else ""),
            "event": "event" + (f": {trig.name}" if trig.name else "")}[trig.kind]
    lines = [t.id, f"on {when}"]
    if t.guard is not None:
        lines.append("if " + _short(describe(t.guard).replace("`", "")))
    for a in t.approvals:
        if a.roles:
            lines.append("approval: " + (" or " if a.any else " + ").join(a.roles))
        if a.quorum is not None:
            lines.append(f"quorum ≥{a.quorum.at_least}" + (" incl. " + ", ".join(a.quorum.including) if a.quorum.including else ""))
    for d in t.starts:
        origin = f" from {d.from_}" if getattr(d, "from_", None) else ""
        lines.append(f"starts {d.id} ({d.after}{origin})" + (f" → {d.on_miss}" if d.on_miss else ""))
    if getattr(t, "meets", None):
        lines.append("meets " + ", ".join(t.meets))
    if t.warnings:
        lines.append("warns: " + _short("; ".join(w.message for w in t.warnings)))
    if t.judgement:
        lines.append("judgement may override")
    return [part for line in lines for part in textwrap.wrap(line, _WRAP, subsequent_indent="  ", break_on_hyphens=False, break_long_words=False)]


def _short(text: str) -> str:
    return textwrap.shorten(text, width=_GUARD_CHARS, placeholder=" …")


# ----------------------------------------------------------------- Mermaid


def _mermaid_ids(ladder: Ladder) -> dict[str, str]:
    """Mermaid-safe node ids (``s_`` + id with ``-`` as ``_``), kept distinct."""
    out: dict[str, str] = {}
    for s in ladder.states:
        base = mid = "s_" + s.id.replace("-", "_")
        n = 1
        while mid in out.values():
            n += 1
            mid = f"{base}_{n}"
        out[s.id] = mid
    return out


def _mtext(lines: list[str]) -> str:
    return "<br/>".join(x.replace("&", "&amp;").replace('"', "#quot;").replace("<", "&lt;").replace(">", "&gt;") for x in lines)


def to_mermaid(pack: PolicyPack) -> str:
    """A Mermaid flowchart of the ladder (paste into Markdown inside a ```mermaid block)."""
    ladder = _ladder(pack)
    mid = _mermaid_ids(ladder)
    out = ["flowchart LR", f"    %% {pack.authority}: {pack.model.pack.title} ({pack.id} v{pack.version}, sha256 {pack.sha256[:12]})"]
    out.append('    start((" ")):::start')
    for s in ladder.states:
        text = _mtext(state_lines(s))
        out.append(f'    {mid[s.id]}(["{text}"])' if s.kind == "exit" else f'    {mid[s.id]}["{text}"]')
    entry = next(s for s in ladder.states if s.entry)
    out.append(f"    start --> {mid[entry.id]}")
    for t in ladder.transitions:
        arrow = "==>" if t.approvals else "-.->" if t.direction == "lateral" else "-->"
        out.append(f'    {mid[t.from_]} {arrow}|"{_mtext(edge_lines(t))}"| {mid[t.to]}')
    for n in range(5):
        out.append(f"    classDef sev{n} fill:{FILL[n]},stroke:{STROKE[n]},color:#000")
    out.append("    classDef start fill:#000,stroke:#000")
    for n in range(5):
        members = [mid[s.id] for s in ladder.states if level(s, ladder) == n]
        if members:
            out.append(f"    class {','.join(members)} sev{n}")
    for i, t in enumerate(ladder.transitions, start=1):  # link 0 is the start arrow
        out.append(f"    linkStyle {i} stroke:{EDGE[t.direction]},color:{EDGE[t.direction]}")
    return "\n".join(out) + "\n"


def to_markdown(pack: PolicyPack) -> str:
    """The Mermaid diagram in a Markdown page, which GitHub and most editors draw."""
    return (f"# {pack.authority}: {pack.model.pack.title}\n\n`{pack.id}` v{pack.version}, escalation ladder. "
            "Red arrows escalate, green de-escalate, grey dotted are lateral; thick arrows need approval.\n\n"
            f"```mermaid\n{to_mermaid(pack)}```\n")


# ----------------------------------------------------------------- Graphviz DOT


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw: Any) -> str:
    return "[" + ", ".join(f"{k}={v if isinstance(v, (int, float)) else _q(str(v))}" for k, v in kw.items()) + "]"


def to_dot(pack: PolicyPack) -> str:
    """Graphviz DOT text of the ladder; draw it with ``dot -Tsvg`` or :func:`render_image`."""
    ladder = _ladder(pack)
    title = f"{pack.authority}: {pack.model.pack.title}\n{pack.id} v{pack.version}"
    out = [f"digraph {_q(pack.id)} {{",
           f"  graph {_attrs(rankdir='LR', label=title, labelloc='t', fontname='Helvetica', nodesep=0.5, ranksep=1.0)};",
           f"  node {_attrs(shape='box', style='rounded,filled', fontname='Helvetica', fontsize=11)};",
           f"  edge {_attrs(fontname='Helvetica', fontsize=9)};",
           f"  __start {_attrs(shape='point', width=0.15, label='')};"]
    for s in ladder.states:
        n = level(s, ladder)
        extra = {"peripheries": 2} if s.kind == "exit" else {}
        out.append(f"  {_q(s.id)} {_attrs(label=chr(10).join(state_lines(s)), fillcolor=FILL[n], color=STROKE[n], tooltip=s.source, **extra)};")
    entry = next(s for s in ladder.states if s.entry)
    out.append(f"  __start -> {_q(entry.id)};")
    for t in ladder.transitions:
        style = "bold" if t.approvals else "dashed" if t.direction == "lateral" else "solid"
        tip = t.source + (f"; if {describe(t.guard)}" if t.guard is not None else "")
        out.append(f"  {_q(t.from_)} -> {_q(t.to)} {_attrs(label=chr(10).join(edge_lines(t)), color=EDGE[t.direction], fontcolor=EDGE[t.direction], style=style, tooltip=tip)};")
    out.append("}")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------- images


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render_image(dot_text: str, fmt: str = "svg", timeout: float = 60) -> bytes:
    """SVG or PNG bytes from DOT text by running Graphviz's ``dot``; :class:`RenderError` if it is not installed."""
    if not re.fullmatch(r"svg|png", fmt):
        raise ValueError(f"format must be svg or png, not {fmt!r}")
    dot = shutil.which("dot")
    if dot is None:
        raise RenderError("the Graphviz `dot` program is not installed, so svg/png cannot be drawn; install Graphviz "
                          "(e.g. `apt install graphviz` or `brew install graphviz`), or use --format mermaid or dot")
    try:
        done = subprocess.run([dot, f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"running `dot` failed: {exc}") from None
    if done.returncode != 0:
        raise RenderError("`dot` failed: " + done.stderr.decode("utf-8", "replace").strip())
    return done.stdout
