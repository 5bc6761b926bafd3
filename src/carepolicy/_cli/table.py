"""The table of headline decisions that ``carepolicy evaluate`` prints by default."""

from __future__ import annotations

from datetime import date
from typing import IO, TYPE_CHECKING

from .._text import escape

if TYPE_CHECKING:
    from ..decision import Decision

_COLOURS = {0: "green", 1: "cyan", 2: "yellow", 3: "red", 4: "bold red"}


def headline_table(decisions: list[Decision], as_of: date, stdout: IO[str]) -> None:
    """Providers down, authorities across: each headline with its common severity, or what is known of it."""
    from rich.console import Console
    from rich.markup import escape as markup_escape
    from rich.table import Table

    from ..decision import SEVERITY_LABELS

    authorities = list(dict.fromkeys(d.pack.id for d in decisions))
    providers = list(dict.fromkeys((d.provider_id, d.provider_name) for d in decisions))
    table = Table(title=f"Headline decisions as of {as_of.isoformat()} (common severity 0 none .. 4 critical)")
    table.add_column("provider")
    for a in authorities:
        table.add_column(escape(a))
    cell = {(d.provider_id, d.pack.id): d for d in decisions}

    def shown(text: object) -> str:  # evidence and pack text: no terminal escapes, no rich markup
        return markup_escape(escape(str(text)))

    for pid, name in providers:
        row = [f"{shown(name)}\n({shown(pid)})"]
        for a in authorities:
            d = cell.get((pid, a))
            if d is None:
                row.append("-")
                continue
            if d.status == "out_of_scope":
                row.append("[dim]out of scope[/dim]")
                continue
            h = d.headline
            if h.status == "no_value":
                text = "[dim]no value[/dim]\nno rule of the pack applies"
            elif h.status == "conflict":
                text = "[magenta]conflict[/magenta]\nrows " + ", ".join(shown(r) for r in h.rules[:3]) + " all hold"
            elif h.status != "decided" and h.bounds is not None and h.bounds.possible:
                b = h.bounds
                colour = _COLOURS.get(b.severity_min or 0, "white")
                span = f"≥ {shown(b.labels[0])}" if len(b.possible) > 1 or b.no_value_possible else f"only {shown(b.labels[0])}"
                needs = ", ".join(shown(m) for m in h.missing[:3]) + (f" +{len(h.missing) - 3}" if len(h.missing) > 3 else "")
                text = (f"[{colour}]{span}[/{colour}]\nseverity {b.severity_min} to {b.severity_max}\n"
                        f"needs: {needs}")
            elif h.status != "decided":
                text = "[magenta]insufficient evidence[/magenta]\nmissing: " + ", ".join(shown(m) for m in h.missing[:3])
            else:
                sev = d.severity
                colour = _COLOURS.get(sev or 0, "white")
                text = f"[{colour}]{shown(h.label or h.value)}[/{colour}]\nseverity {sev} {SEVERITY_LABELS.get(sev, '') if sev is not None else ''}"
            if d.judgement_matters:
                text += "\n[italic]judgement[/italic]"
            row.append(text)
        table.add_row(*row)
    # rich writes its own colour codes: give it the stream itself (every cell above is already escaped)
    console = Console(file=getattr(stdout, "raw", stdout), width=max(100, 22 * (len(authorities) + 1)), force_terminal=False,
                      color_system=None if not getattr(stdout, "isatty", lambda: False)() else "auto")
    console.print(table)
    flagged = [d for d in decisions if d.judgement_matters]
    notes = ["≥ X: the evidence leaves the decision open, but it is X or worse; `needs` names the missing evidence."]
    if flagged:
        notes.append("judgement: the value rests on a rule the council's document leaves to professional judgement and "
                     "the evidence sits at its edge, or findings contradict each other "
                     "(`carepolicy evaluate --format text` gives the reasons).")
    for n in notes:
        console.print(n, highlight=False)
