"""Escalation-ladder well-formedness checks (networkx), run by the loader after :mod:`carepolicy._check`.

A ladder is a state machine a provider climbs and descends. A broken one strands a
provider (a state with no way out), hides a step (unreachable), or lets a case
escalate forever. Each check returns ``(code, message, path, hint)`` problems; the
loader turns the path into file:line:column. Codes: CP301 entry, CP302 unknown
state, CP303 unreachable, CP304 trap, CP305 direction vs rank, CP306 escalation
cycle, CP307 unknown role, CP308 duplicate id, CP309 escalation out of an exit,
CP310 ``on_miss``, CP311 a deadline trigger whose deadline never runs in its state,
CP312 ``meets`` naming a deadline that never runs in the state the move leaves.
"""

from __future__ import annotations

import networkx as nx

from ._suggest import did_you_mean
from .models import Ladder, Pack

Path = tuple[str | int, ...]
Problem = tuple[str, str, Path, str | None]

_RANK_RULE = {"escalate": ("an escalation must raise", lambda a, b: b > a),
              "de-escalate": ("a de-escalation must lower", lambda a, b: b < a),
              "lateral": ("a lateral move must keep", lambda a, b: b == a)}


def ladder_graph(ladder: Ladder) -> nx.MultiDiGraph:
    """States as nodes, transitions as keyed edges (key = transition id), for checks and drawing."""
    g = nx.MultiDiGraph()
    for s in ladder.states:
        g.add_node(s.id, state=s)
    for i, t in enumerate(ladder.transitions):
        if t.from_ in g and t.to in g:
            g.add_edge(t.from_, t.to, key=t.id, transition=t, index=i)
    return g


def check_ladder(pack: Pack) -> list[Problem]:
    """Problems with the pack's escalation graph (none when it has no ladder)."""
    ladder = pack.ladder
    if ladder is None:
        return []
    out: list[Problem] = []
    out += _duplicates(ladder)
    out += _entry(ladder)
    unknown = _unknown_states(ladder)
    out += unknown
    out += _roles(pack)
    out += _deadlines(ladder)
    if unknown or any(p[0] in ("CP301", "CP308") for p in out):
        return out  # the graph is not well defined: topology checks would only echo these
    out += _topology(ladder)
    return out


def _duplicates(ladder: Ladder) -> list[Problem]:
    out: list[Problem] = []

    def unique(items: list[tuple[str, Path]], what: str) -> None:
        seen: dict[str, Path] = {}
        for ident, path in items:
            if ident in seen:
                out.append(("CP308", f"duplicate {what} id `{ident}`", path, f"give every {what} its own id"))
            else:
                seen[ident] = path

    unique([(s.id, ("ladder", "states", i, "id")) for i, s in enumerate(ladder.states)], "state")
    unique([(t.id, ("ladder", "transitions", i, "id")) for i, t in enumerate(ladder.transitions)], "transition")
    for i, t in enumerate(ladder.transitions):
        unique([(d.id, ("ladder", "transitions", i, "starts", j, "id")) for j, d in enumerate(t.starts)],
               f"deadline of transition `{t.id}`")
    return out


def _entry(ladder: Ladder) -> list[Problem]:
    entries = [i for i, s in enumerate(ladder.states) if s.entry]
    if not entries:
        return [("CP301", "the ladder has no entry state", ("ladder", "states"),
                 f"mark the state where every case starts with `entry: true`, e.g. `{ladder.states[0].id}`")]
    first = ladder.states[entries[0]].id
    return [("CP301", f"the ladder has more than one entry state: `{ladder.states[i].id}` and `{first}`",
             ("ladder", "states", i, "entry"), "a case starts in exactly one state; keep `entry: true` on one")
            for i in entries[1:]]


def _unknown_states(ladder: Ladder) -> list[Problem]:
    ids = [s.id for s in ladder.states]
    out: list[Problem] = []
    for i, t in enumerate(ladder.transitions):
        for key, ref in (("from", t.from_), ("to", t.to)):
            if ref not in ids:
                out.append(("CP302", f"transition `{t.id}`: unknown state `{ref}` in `{key}`",
                            ("ladder", "transitions", i, key), did_you_mean(ref, ids) or "declare it under `ladder.states`"))
    return out


def _roles(pack: Pack) -> list[Problem]:
    assert pack.ladder is not None
    roles = {r.id for r in pack.roles}
    out: list[Problem] = []

    def need(role: str, path: Path, where: str) -> None:
        if role not in roles:
            out.append(("CP307", f"{where}: unknown role `{role}`", path, did_you_mean(role, roles) or "declare it under `roles:`"))

    for i, t in enumerate(pack.ladder.transitions):
        base: Path = ("ladder", "transitions", i)
        for j, a in enumerate(t.approvals):
            for k, r in enumerate(a.roles):
                need(r, base + ("approvals", j, "roles", k), f"approval of transition `{t.id}`")
            if a.quorum is not None:
                for k, r in enumerate(a.quorum.including):
                    need(r, base + ("approvals", j, "quorum", "including", k), f"quorum of transition `{t.id}`")
            if not a.roles and a.quorum is None:
                out.append(("CP307", f"an approval of transition `{t.id}` names no role and no quorum",
                            base + ("approvals", j), "list the `roles` who must agree, or give a `quorum`"))
        for j, d in enumerate(t.starts):
            for k, r in enumerate(d.roles):
                need(r, base + ("starts", j, "roles", k), f"deadline `{d.id}`")
    return out


def _deadlines(ladder: Ladder) -> list[Problem]:
    """``on_miss`` must leave the state the deadline runs in; a deadline trigger, and ``meets``, must name one running there."""
    out: list[Problem] = []
    by_id = {t.id: t for t in ladder.transitions}
    leaving: dict[str, list[str]] = {}
    for t in ladder.transitions:
        leaving.setdefault(t.from_, []).append(t.id)
    started = {d.id for t in ladder.transitions for d in t.starts}
    runs_in: dict[str, set[str]] = {}  # state -> deadlines started on entering it
    for t in ladder.transitions:
        runs_in.setdefault(t.to, set()).update(d.id for d in t.starts)
    missed_by = {d.on_miss for t in ladder.transitions for d in t.starts if d.on_miss}
    for i, t in enumerate(ladder.transitions):
        for j, d in enumerate(t.starts):
            if d.on_miss is None:
                continue
            path: Path = ("ladder", "transitions", i, "starts", j, "on_miss")
            options = leaving.get(t.to, [])
            target = by_id.get(d.on_miss)
            if target is None:
                out.append(("CP310", f"deadline `{d.id}`: `on_miss` names unknown transition `{d.on_miss}`", path,
                            did_you_mean(d.on_miss, options) or _leaving_hint(t.to, options)))
            elif target.from_ != t.to:
                out.append(("CP310", f"deadline `{d.id}` runs in state `{t.to}`, but its `on_miss` transition "
                            f"`{d.on_miss}` leaves `{target.from_}`", path, _leaving_hint(t.to, options)))
        if t.trigger.kind != "deadline":
            continue
        name, here = t.trigger.name, runs_in.get(t.from_, set())
        if name is None and t.id not in missed_by:
            out.append(("CP311", f"transition `{t.id}` is triggered by a deadline, but names none and no `on_miss` names it",
                        ("ladder", "transitions", i, "trigger"), "give the deadline id: `trigger: {kind: deadline, name: <id>}`"))
        elif name is not None and name not in here:
            where = f"is never running in `{t.from_}`" if name in started else "is started by no transition"
            out.append(("CP311", f"transition `{t.id}` is triggered by deadline `{name}`, which {where}",
                        ("ladder", "transitions", i, "trigger", "name"),
                        did_you_mean(name, here) or f"start it in `starts` of a transition entering `{t.from_}`"))
    for i, t in enumerate(ladder.transitions):
        here = runs_in.get(t.from_, set())
        for k, name in enumerate(t.meets):
            if name not in here:
                where = f"is never running in `{t.from_}`" if name in started else "is started by no transition"
                out.append(("CP312", f"transition `{t.id}` meets deadline `{name}`, which {where}",
                            ("ladder", "transitions", i, "meets", k),
                            did_you_mean(name, here) or f"start it in `starts` of a transition entering `{t.from_}`"))
    return out


def _leaving_hint(state: str, options: list[str]) -> str:
    if options:
        return f"name a transition leaving `{state}`: " + ", ".join(f"`{o}`" for o in options)
    return f"add a transition leaving `{state}` for a missed deadline to trigger"


def _topology(ladder: Ladder) -> list[Problem]:
    out: list[Problem] = []
    g = ladder_graph(ladder)
    states = {s.id: (i, s) for i, s in enumerate(ladder.states)}
    entry = next(s.id for s in ladder.states if s.entry)
    reached = nx.descendants(g, entry) | {entry}
    for sid, (i, s) in states.items():
        if sid not in reached:
            out.append(("CP303", f"state `{sid}` cannot be reached from the entry state `{entry}`",
                        ("ladder", "states", i, "id"), f"add a transition into `{sid}`, or remove the state"))
    exits = [sid for sid, (_, s) in states.items() if s.kind == "exit"]
    if not exits:
        out.append(("CP304", "the ladder has no exit state, so no case can ever end", ("ladder", "states"),
                    "add a state with `kind: exit` (e.g. closed, or contract terminated)"))
    else:
        can_end = set(exits).union(*(nx.ancestors(g, e) for e in exits))
        for sid, (i, s) in states.items():
            if sid not in can_end:
                out.append(("CP304", f"state `{sid}` is a trap: no sequence of transitions leads from it to an exit state",
                            ("ladder", "states", i, "id"),
                            "add a transition towards an exit: " + ", ".join(f"`{e}`" for e in exits)))
    for i, t in enumerate(ladder.transitions):
        a, b = states[t.from_][1].rank, states[t.to][1].rank
        verb, ok = _RANK_RULE[t.direction]
        if not ok(a, b):
            right = "escalate" if b > a else "de-escalate" if b < a else "lateral"
            out.append(("CP305", f"transition `{t.id}` is `{t.direction}` but goes from `{t.from_}` (rank {a}) "
                        f"to `{t.to}` (rank {b}); {verb} the rank",
                        ("ladder", "transitions", i, "direction"), f"make it `direction: {right}`, or fix the ranks"))
        if t.direction == "escalate" and states[t.from_][1].kind == "exit":
            out.append(("CP309", f"exit state `{t.from_}` has an escalation `{t.id}` leaving it",
                        ("ladder", "transitions", i, "from"), "an exit ends the case; start a new case instead"))
    up = nx.DiGraph()
    index: dict[tuple[str, str], int] = {}
    for i, t in enumerate(ladder.transitions):
        if t.direction == "escalate":
            up.add_edge(t.from_, t.to)
            index.setdefault((t.from_, t.to), i)
    for comp in nx.strongly_connected_components(up):
        if len(comp) == 1 and not any(up.has_edge(n, n) for n in comp):
            continue
        cycle = nx.find_cycle(up.subgraph(comp))
        first = min(index[e[:2]] for e in cycle)
        names = " -> ".join([cycle[0][0]] + [e[1] for e in cycle])
        out.append(("CP306", f"escalations go round in a cycle: {names}", ("ladder", "transitions", first),
                    "a case must not escalate forever; make one step `de-escalate` or `lateral`"))
    return out
