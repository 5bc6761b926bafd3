"""Translate a pack's event conditions into a durable-rules ruleset, as JSON data.

Nothing here imports durable-rules or generates code: :func:`translate` returns plain
dicts, lists, strings, numbers and booleans (``json.dumps`` round-trips them) that
durable-rules' ``Host.set_rulesets`` reads. Actions are named by strings, which the
streaming host resolves to its own fixed functions.

A *matcher* is what a pack's event queries select: kinds, ``where`` filters and window
(queries that differ only in ``group_by`` or threshold share one). The ruleset holds:

* for each matcher, *arrival* rules: a new event fact matches (its kind, and each filter
  holds, ``sure``, or no filter fails but the event does not record some filtered field,
  ``maybe``: not known, as in the core's Kleene logic, so the event may count), dated on
  or before the provider's as-of date (``a``, carried by the fact) and, with a window, on
  or after the window's first day (``s<w>``). Each firing adds one to a count;
* for each window, a *leave* rule: the as-of date moved (a ``tick`` fact from ``a0``,
  when the window started on ``o<w>``, to ``a1``, when it starts on ``s<w>``), and an
  event fact still held is now before the window's first day. Each firing takes the
  event out of the counts it was in for that window;
* ``opened``, which a session's first fact fires (see below).

An event dated after the as-of date is not part of the history the core counts either;
the host holds it back and asserts it when the as-of date reaches it.

The traps of durable-rules 2.0.28 this avoids: those in shared/research/peer-engines.md,
and five found while writing this (the join after an ``$or`` and the alpha stack, pinned
in ``tests/test_stream_rules.py``; the read past a join's end, the uninitialised session
and the stale join frame, found with valgrind, which reports no error in durable-rules
for the stream's soak runs once the rules take these shapes):

* ``$or`` fires its action once per true disjunct; worse, a join condition that comes
  after an ``$or`` in the same ``$and`` is ignored, and every ``$or`` makes its own
  unshared chain of alpha nodes. So no rule uses ``$or``: a disjunction (one kind of
  several, one value of several, a value or an absent field) becomes one rule per
  alternative, and the alternatives of one condition are mutually exclusive, so one
  event fires at most one arrival rule per matcher and verdict.
* durable-rules walks its alpha network with a stack of 64 nodes and fails
  (``error code: 303``) past it. Alpha nodes are shared between rules only when their
  conditions come in the same order and are not comparisons with a fact (``$m`` or a
  join), so every rule lists its conditions in one canonical order (type, kind, filters
  by field name) and the comparisons with a fact last; :func:`translate` refuses a pack whose
  network could need more than :data:`MAX_ALPHA_STACK` nodes at once.
* When the last of a join's comparisons is false, durable-rules reads past the end of
  the rule's expressions (``reduceExpressionSequence`` in events.c skips one place too
  far after a false term) and, depending on what lies there, goes on, fires wrongly or
  crashes the process (a segmentation fault; valgrind shows the invalid read on every
  such join). Every join therefore ends with a comparison that always holds
  (``d <= k.z``, the tick carrying a ``z`` later than any date), so the false term is
  never the last one.
* durable-rules leaves a new session's action context uninitialised until an action has
  run in it, and deleting the session frees whatever pointers that memory held (valgrind
  shows the read; a reused heap makes it a crash). Every session therefore starts with an
  ``open`` fact that fires the ``opened`` rule once.
* When an action has run, durable-rules deletes its frame but leaves it in the list of
  places each matched fact is referenced from, and the slot is reused by later frames;
  retracting a fact then walks those stale places and can scan past a frame's end
  (valgrind: uninitialised reads in ``deleteMessageFromFrame``) and write there. So no
  fact is ever retracted: a tick joins only the facts asserted before it (``b < k.g``),
  a fact that no longer counts stays until the host compacts the session (deletes it,
  which frees everything without that walk, and asserts the facts still held again,
  marked ``p: kept``, which no arrival rule counts), as soon as the dead facts are at
  least as many as the live ones and at least 32.
* Each join (one per window) costs every session about 10 KB of durable-rules' memory,
  whether used or not, so there are no joins but these.
* Rules are made once per distinct set of conditions, and one rule's action counts for
  every matcher and verdict that shares it.
* ``$nex`` is used only on scalar fields of a flat fact, never on a list element.
* No empty list appears in a rule.
* Facts are deduplicated by content, so each carries a sequence number ``n``.
* A message that matches no rule raises; the host expects that for an event no query
  can ever count, and nothing of it is stored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from ._check import pack_conditions, walk_conditions
from ._time import Duration
from ._vocabulary import event_field_type
from .models import CountEvents, EventQuery, EventTest, Pack, TableDecision

__all__ = ["Matcher", "Query", "Translation", "TriggerRule", "translate", "query_key", "event_queries",
           "trigger_rules", "alpha_stack", "slot", "TRANSLATOR_VERSION", "MAX_ALPHA_STACK", "TICK_END", "TranslationError"]

# Bump when the shape of the generated rules changes: the ruleset name includes it, so a
# process never mixes two translations of the same pack under one name.
TRANSLATOR_VERSION = 8

# durable-rules' alpha stack has 64 places (MAX_STACK_SIZE in events.c); keep a margin.
MAX_ALPHA_STACK = 56

# `sure`: every filter holds; `maybe`: no filter fails but some field is absent. An event
# counts surely for a sure firing and possibly for either.
VERDICTS = ("sure", "maybe")

# A tick carries `z`, later than any date, and every join ends with this comparison, which
# always holds: durable-rules reads past a join's end when its last comparison is false.
TICK_END = 9_999_999
ALWAYS = {"$lte": {"d": {"k": "z"}}}
BEFORE_TICK = {"$lt": {"b": {"k": "g"}}}
NEW = {"p": "new"}
OPENED = "opened"


class TranslationError(ValueError):
    """The pack's event conditions cannot be given to durable-rules (the message says why)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """What some of a pack's event queries select: kinds, filters and window."""

    index: int
    kinds: tuple[str, ...]
    where: tuple[EventTest, ...]
    window: int | None  # index into Translation.windows, or None: all history up to the as-of date


@dataclass(frozen=True, slots=True)
class Query:
    """One distinct event query of a pack: what to count and how to group it, not the threshold."""

    index: int
    input: str
    matcher: int
    group_by: str | None


@dataclass(frozen=True, slots=True)
class TriggerRule:
    """A rule whose condition counts events: a decision row, a scope rule or an outcome."""

    owner: str  # the decision id, or `scope` / `outcomes`
    rule: str
    clause: str


@dataclass(frozen=True, slots=True)
class Translation:
    """A pack's event queries and the durable-rules ruleset that counts them."""

    name: str
    ruleset: dict[str, Any]
    matchers: tuple[Matcher, ...]
    queries: tuple[Query, ...]
    windows: tuple[Duration, ...]
    fields: tuple[str, ...]  # event fields a fact carries (those any query filters or groups on)
    actions: dict[str, tuple[tuple[int, str], ...]]  # arrival rule -> every (matcher, verdict) it counts for
    leaves: dict[str, int]  # leave rule -> the window it watches
    counted_by: tuple[tuple[Query, ...], ...]  # matcher index -> the queries that count its matches
    keys: dict[Any, int]  # query_key -> query index

    def query_for(self, q: EventQuery) -> Query:
        return self.queries[self.keys[query_key(q)]]


def query_key(q: EventQuery) -> tuple[Any, ...]:
    """Two count conditions with the same key count the same events (their thresholds may differ)."""
    return (_matcher_key(q), q.group_by)


def _matcher_key(q: EventQuery) -> tuple[Any, ...]:
    return (q.input, tuple(sorted(set(q.kinds))), tuple(sorted(_filter_key(t) for t in q.where)), q.within)


def _filter_key(t: EventTest) -> tuple[Any, ...]:
    if t.is_ is not None:
        return (t.field, "is", _typed(t.is_))
    if t.in_ is not None:
        return (t.field, "in", tuple(_typed(v) for v in t.in_))
    return (t.field, "at_least", _typed(t.at_least))


def _typed(v: Any) -> tuple[str, str]:
    # `True == 1` in Python; keep them apart in keys so two different filters never share.
    return (type(v).__name__, repr(v))


def _conditions(pack: Pack) -> list[tuple[Any, TriggerRule]]:
    """Every condition :meth:`PolicyPack.evaluate` reads, with the rule it belongs to (the pack's
    conditions as :func:`carepolicy._check.pack_conditions` walks them, less the ladder's, which
    case moves check and evaluation does not)."""
    out: list[tuple[Any, TriggerRule]] = []
    for cond, path, decision in pack_conditions(pack):
        where, i = path[0], path[1]
        if where == "scope":
            s = pack.scope[int(i)]
            out.append((cond, TriggerRule("scope", s.id, s.source)))
        elif where == "decisions":
            d = pack.decisions[int(i)]
            assert isinstance(d, TableDecision) and decision == d.id
            r = d.rows[int(path[3])]
            out.append((cond, TriggerRule(d.id, r.id, r.source)))
        elif where == "outcomes":
            o = pack.outcomes[int(i)]
            out.append((cond, TriggerRule("outcomes", o.id, o.source)))
        elif where == "consistency":
            c = pack.consistency[int(i)]
            out.append((cond, TriggerRule("consistency", c.id, c.source)))
    return out


def _counts(cond: Any) -> list[CountEvents]:
    return [leaf for leaf, _ in walk_conditions(cond, ()) if isinstance(leaf, CountEvents)]


def event_queries(pack: Pack) -> list[EventQuery]:
    """Every event query the pack's evaluation counts, in pack order: those of computed inputs
    (``derive: {count_events: ...}``), then those of scope rules, decision rows, outcomes and
    consistency checks."""
    derived = [i.derive.count_events for i in pack.inputs
               if i.derive is not None and i.derive.count_events is not None]
    return derived + [c.count_events for cond, _ in _conditions(pack) for c in _counts(cond)]


def trigger_rules(pack: Pack) -> list[TriggerRule]:
    """The rules whose conditions count events, in pack order: these are the stream's triggers."""
    return [rule for cond, rule in _conditions(pack) if _counts(cond)]


def slot(field: str) -> str:
    """The name an event field has in a fact: prefixed, so it never meets the fact's own keys."""
    return f"e_{field}"


def field_order(field: str) -> list[Any] | None:
    """The values of an event field whose type is an ordered list of words (e.g. harm), worst last:
    the order the core's ``at_least`` filter reads (:func:`carepolicy._vocabulary.event_field_type`)."""
    values = event_field_type(field).values
    return list(values) if values is not None and all(isinstance(v, str) for v in values) else None


def _holds(t: EventTest) -> list[dict[str, Any]]:
    """Mutually exclusive conditions, one of which matches exactly when the filter holds."""
    f = slot(t.field)
    if t.is_ is not None:
        return [{f: t.is_}]
    if t.in_ is not None:
        return [{f: v} for v in _distinct(t.in_)]
    order = field_order(t.field)
    if order is not None:
        return [{f: v} for v in order[order.index(t.at_least):]]
    return [{"$gte": {f: t.at_least}}]


def _distinct(values: list[Any]) -> list[Any]:
    # Values equal in Python and in durable-rules (true == 1) would both match one event.
    out: list[Any] = []
    for v in values:
        if not any(v == w for w in out):
            out.append(v)
    return out


def _alternatives(m: Matcher) -> list[tuple[str, list[dict[str, Any]]]]:
    """The conjunctions that match an event fact, one per combination of mutually exclusive
    alternatives, each with its verdict: ``sure`` when every filter holds, ``maybe`` when none
    fails but some field is absent. Each is in the canonical order (type, kind, filters by
    field) so that rules share alpha nodes."""
    options: list[list[dict[str, Any]]] = [[{"t": "ev"}], [{"kind": k} for k in m.kinds]]
    for t in sorted(m.where, key=_filter_key):
        options.append(_holds(t) + [{"$nex": {slot(t.field): 1}}])
    out = []
    for combo in itertools.product(*options):
        absent = any("$nex" in part for part in combo)
        out.append(("maybe" if absent else "sure", list(combo)))
    return out


def translate(pack: Pack, sha256: str) -> Translation:
    """The durable-rules ruleset (JSON data) that counts the pack's events, and how to read its firings.

    Raises :class:`TranslationError` if durable-rules could not hold it (see :data:`MAX_ALPHA_STACK`).
    """
    keys: dict[Any, int] = {}
    matcher_keys: dict[Any, int] = {}
    matchers: list[Matcher] = []
    queries: list[Query] = []
    windows: list[Duration] = []
    for q in event_queries(pack):
        key = query_key(q)
        if key in keys:
            continue
        mkey = _matcher_key(q)
        if mkey not in matcher_keys:
            window = None
            if q.within is not None:
                if q.within not in windows:
                    windows.append(q.within)
                window = windows.index(q.within)
            matcher_keys[mkey] = len(matchers)
            matchers.append(Matcher(len(matchers), tuple(sorted(set(q.kinds))), tuple(q.where), window))
        keys[key] = len(queries)
        queries.append(Query(len(queries), q.input, matcher_keys[mkey], q.group_by))

    ruleset: dict[str, Any] = {}
    targets: dict[str, list[tuple[int, str]]] = {}
    by_body: dict[str, str] = {}
    for m in matchers:
        # A new fact (`p`) carries the as-of date (`a`) and each window's first day (`s<w>`).
        dates: list[dict[str, Any]] = [{"$lte": {"d": {"$m": "a"}}}]
        if m.window is not None:
            dates.append({"$gte": {"d": {"$m": f"s{m.window}"}}})
        for verdict, conj in _alternatives(m):
            body = {"all": [{"m": {"$and": conj[:1] + [NEW] + conj[1:] + dates}}]}
            # One rule per distinct set of conditions; it counts for every matcher that shares it.
            text = json.dumps(body, sort_keys=True)
            name = by_body.get(text)
            if name is None:
                name = by_body[text] = f"r{len(ruleset)}"
                ruleset[name] = {**body, "run": name}
                targets[name] = []
            targets[name].append((m.index, verdict))
    # The as-of date moved from `a0` (the window started on `o<w>`) to `a1` (it starts on `s<w>`): a
    # held event that counted and is now before the window leaves it. A tick joins only the facts
    # asserted before it (`b`, the ticks there had been, below the tick's own number `g`), and the
    # join ends with ALWAYS.
    leaves: dict[str, int] = {}
    for w in range(len(windows)):
        name = f"leave{w}"
        ruleset[name] = {"all": [{"k": {"t": "tick"}}, {"m": {"$and": [
            {"t": "ev"}, {"$gte": {"d": {"k": f"o{w}"}}}, {"$lt": {"d": {"k": f"s{w}"}}},
            {"$lte": {"d": {"k": "a0"}}}, BEFORE_TICK, ALWAYS]}}], "run": name}
        leaves[name] = w
    # A session's first fact fires this rule once: durable-rules leaves a new session's action
    # context uninitialised until some action has run, and deleting a session frees it.
    ruleset[OPENED] = {"all": [{"m": {"t": "open"}}], "run": OPENED}
    actions = {name: tuple(t) for name, t in targets.items()}

    stack = alpha_stack(ruleset)
    if stack > MAX_ALPHA_STACK:
        raise TranslationError(
            f"pack `{pack.pack.id}` counts events in too many ways for durable-rules: its rules could need "
            f"{stack} places on durable-rules' alpha stack, which has 64; split its event conditions "
            f"across fewer kinds and filters"
        )
    fields = tuple(sorted({t.field for m in matchers for t in m.where} | {q.group_by for q in queries if q.group_by}))
    counted_by = tuple(tuple(q for q in queries if q.matcher == m.index) for m in matchers)
    digest = hashlib.sha256(
        json.dumps([TRANSLATOR_VERSION, sha256, ruleset], sort_keys=True, default=str).encode()
    ).hexdigest()
    label = re.sub(r"[^a-z0-9]+", "_", f"{pack.pack.id} {pack.pack.version}".lower())
    name = f"carepolicy_{label}_{digest[:16]}"
    return Translation(name=name, ruleset=ruleset, matchers=tuple(matchers), queries=tuple(queries),
                       windows=tuple(windows), fields=fields, actions=actions, leaves=leaves,
                       counted_by=counted_by, keys=keys)


def alpha_stack(ruleset: dict[str, Any]) -> int:
    """An upper bound of the places durable-rules' alpha walk needs for any fact, for this ruleset.

    durable-rules builds one chain of alpha nodes per pattern, sharing a node between
    rules when it has the same parent and the same condition; a condition that compares
    with a fact (``$m`` or a join) is never shared. Walking a fact, it pushes every
    child of the current node that matches (every comparison with a fact, unevaluated)
    and pops one at a time. At most one equality or ``$nex`` on one field matches, but
    every ``$gte`` may. The bound is the deepest stack that walk could build.
    """
    root: dict[str, Any] = {}
    unshared = itertools.count()
    for rule in ruleset.values():
        for pattern in rule["all"]:
            (cond,) = pattern.values()
            parts = cond["$and"] if "$and" in cond else [cond]
            node = root
            for part in parts:
                text = json.dumps(part, sort_keys=True)
                key = f"{text}#{next(unshared)}" if _is_reference(part) else text
                node = node.setdefault(key, {})

    def width(children: dict[str, Any]) -> int:
        exclusive: set[str] = set()
        other = 0
        for key in children:
            part = json.loads(key.split("#")[0])
            (op, arg), = part.items()
            if op == "$nex":
                exclusive.add(next(iter(arg)))
            elif not op.startswith("$"):
                exclusive.add(op)
            else:
                other += 1
        return len(exclusive) + other

    def deepest(children: dict[str, Any]) -> int:
        if not children:
            return 0
        w = width(children)
        return max([w] + [w - 1 + deepest(grand) for grand in children.values()])

    return deepest(root)


def _is_reference(part: dict[str, Any]) -> bool:
    (op, arg), = part.items()
    if not op.startswith("$") or op in ("$nex", "$ex"):
        return False
    (value,) = arg.values()
    return isinstance(value, dict)
