"""Checks on a parsed pack that the schema alone cannot make: references, types, bands.

Every check returns diagnostics (never stops at the first) with the path of the
offending node, which the loader turns into file:line:column.
"""

from __future__ import annotations

import math

from collections.abc import Iterator
from typing import Any

from ._suggest import did_you_mean
from ._vocabulary import InputSpec, event_field_type, resolve_inputs
from ._vocabulary import ValueType as _ValueType
from .evidence import EVENT_KINDS
from .models import (
    AllOf,
    AnyOf,
    BandsDecision,
    CountEvents,
    InputRef,
    NotOf,
    Pack,
    Scalar,
    TableDecision,
    Test,
)

Path = tuple[str | int, ...]
Problem = tuple[str, str, Path, str | None]  # code, message, path, hint

NUMERIC_OPS = {"at_least", "at_most", "above", "below"}
SCALE_OPS = {"worse_than", "no_better_than", "better_than", "no_worse_than"}
DATE_OPS = {"within", "older_than"}
REF_OPS = {"is", "is_not"} | NUMERIC_OPS | SCALE_OPS


def walk_conditions(cond: Any, path: Path) -> Iterator[tuple[Any, Path]]:
    """Every leaf (``Test`` or ``CountEvents``) of a condition, with its path."""
    if isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from walk_conditions(c, path + ("all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from walk_conditions(c, path + ("any", i))
    elif isinstance(cond, NotOf):
        yield from walk_conditions(cond.not_, path + ("not",))
    else:
        yield cond, path


def pack_conditions(pack: Pack) -> Iterator[tuple[Any, Path, str | None]]:
    """Every condition in the pack with its path and, for decision rows, the decision it belongs to."""
    for i, s in enumerate(pack.scope):
        yield s.when, ("scope", i, "when"), None
    for i, d in enumerate(pack.decisions):
        if isinstance(d, TableDecision):
            for j, r in enumerate(d.rows):
                yield r.when, ("decisions", i, "rows", j, "when"), d.id
    for i, o in enumerate(pack.outcomes):
        yield o.when, ("outcomes", i, "when"), None
    for i, c in enumerate(pack.consistency):
        yield c.when, ("consistency", i, "when"), None
    if pack.ladder:
        for i, t in enumerate(pack.ladder.transitions):
            if t.guard is not None:
                yield t.guard, ("ladder", "transitions", i, "guard"), None
            for j, w in enumerate(t.warnings):
                yield w.when, ("ladder", "transitions", i, "warnings", j, "when"), None


def input_tests(pack: Pack) -> Iterator[tuple[list[str], str, Any, Path]]:
    """Every test of inputs in the pack's conditions: the inputs it reads, its operator and argument, and
    the path of the condition it is part of (decision tests are left out)."""
    for cond, path, _ in pack_conditions(pack):
        for leaf, _ in walk_conditions(cond, ()):
            if not isinstance(leaf, Test):
                continue
            kind, subject = leaf.subject
            if kind == "decision":
                continue
            op, arg = leaf.operator
            yield ([subject] if kind == "input" else list(subject)), op, arg, path


def check_pack(pack: Pack) -> list[Problem]:
    """All semantic problems of a pack (empty when it is sound)."""
    problems: list[Problem] = []
    add = lambda code, msg, path, hint=None: problems.append((code, msg, path, hint))  # noqa: E731

    scales = {s.id: s for s in pack.scales}
    inputs = {i.id: i for i in pack.inputs}
    roles = {r.id for r in pack.roles}
    decision_ids = [d.id for d in pack.decisions]

    # -- ids are unique ----------------------------------------------------
    def unique(items: list[tuple[str, Path]], what: str) -> None:
        seen: dict[str, Path] = {}
        for ident, path in items:
            if ident in seen:
                add("CP202", f"duplicate {what} id `{ident}`", path, "give every " + what + " its own id")
            else:
                seen[ident] = path

    unique([(s.id, ("scales", i, "id")) for i, s in enumerate(pack.scales)], "scale")
    unique([(x.id, ("inputs", i, "id")) for i, x in enumerate(pack.inputs)], "input")
    unique([(r.id, ("roles", i, "id")) for i, r in enumerate(pack.roles)], "role")
    unique([(d.id, ("decisions", i, "id")) for i, d in enumerate(pack.decisions)], "decision")
    for i, s in enumerate(pack.scales):
        unique([(v.id, ("scales", i, "values", j, "id")) for j, v in enumerate(s.values)], f"value of scale `{s.id}`")
    rule_ids: list[tuple[str, Path]] = [(s.id, ("scope", i, "id")) for i, s in enumerate(pack.scope)]
    for i, d in enumerate(pack.decisions):
        if isinstance(d, BandsDecision):
            rule_ids += [(b.id, ("decisions", i, "bands", j, "id")) for j, b in enumerate(d.bands)]
        else:
            rule_ids += [(r.id, ("decisions", i, "rows", j, "id")) for j, r in enumerate(d.rows)]
    rule_ids += [(o.id, ("outcomes", i, "id")) for i, o in enumerate(pack.outcomes)]
    rule_ids += [(c.id, ("consistency", i, "id")) for i, c in enumerate(pack.consistency)]
    unique(rule_ids, "rule")

    # -- inputs: shared facts, per-authority facts, local findings, derived ------
    specs, input_problems = resolve_inputs(pack)
    problems.extend(input_problems)
    # inputs already reported: checks that read them would only echo the problem
    broken: set[str] = {i.id for i in pack.inputs} - set(specs)
    unique([(k.id, ("event_kinds", i, "id")) for i, k in enumerate(pack.event_kinds)], "event kind")
    for i, k in enumerate(pack.event_kinds):
        if k.id in EVENT_KINDS:
            add("CP202", f"event kind `{k.id}` is already a shared kind of event", ("event_kinds", i, "id"),
                "remove it: every pack may count the shared kinds")
    event_kinds = set(EVENT_KINDS) | {k.id for k in pack.event_kinds}
    for i, inp in enumerate(pack.inputs):
        spec = specs.get(inp.id)
        if spec is not None and spec.kind == "derived" and inp.derive is not None and inp.derive.form == "count":
            problems.extend(_check_count(inp.derive.count, ("inputs", i, "derive", "count"), specs, scales))
        if spec is not None and inp.derive is not None and inp.derive.form == "count_events":
            problems.extend(_check_query(inp.derive.count_events, ("inputs", i, "derive", "count_events"), specs,
                                         event_kinds))

    # -- scales, bands, tables ----------------------------------------------
    for i, d in enumerate(pack.decisions):
        dpath: Path = ("decisions", i)
        if d.scale is not None and d.scale not in scales:
            add("CP203", f"decision `{d.id}`: unknown scale `{d.scale}`", dpath + ("scale",), did_you_mean(d.scale, scales))
            continue
        allowed = {v.id for v in scales[d.scale].values} if d.scale else None

        def check_value(value: Any, path: Path, allowed: set[str] | None = allowed, d: Any = d) -> None:
            if allowed is not None and value not in allowed:
                add("CP207", f"decision `{d.id}`: `{value}` is not a value of scale `{d.scale}`", path,
                    did_you_mean(str(value), allowed))
            if allowed is None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                add("CP207", f"decision `{d.id}` has no scale, so its values must be numbers (got `{value}`)", path,
                    "add `scale:` naming the scale of its values")

        if isinstance(d, BandsDecision):
            band_input = specs.get(d.input)
            if d.input not in inputs:
                add("CP203", f"decision `{d.id}`: unknown input `{d.input}`", dpath + ("input",), did_you_mean(d.input, inputs))
            elif band_input is not None and band_input.type.base not in ("integer", "number"):
                add("CP206", f"decision `{d.id}`: bands need a number, but input `{d.input}` is `{band_input.type.base}`",
                    dpath + ("input",))
            for j, b in enumerate(d.bands):
                check_value(b.value, dpath + ("bands", j, "value"))
            integer = band_input is not None and band_input.type.base == "integer"
            if d.input not in broken:
                problems.extend(_check_bands(d, dpath, integer))
        else:
            for j, r in enumerate(d.rows):
                check_value(r.value, dpath + ("rows", j, "value"))
            if d.default is not None:
                check_value(d.default.value, dpath + ("default", "value"))
            if d.hit == "worst" and d.scale and not scales[d.scale].ordered:
                add("CP216", f"decision `{d.id}`: `hit: worst` needs an ordered scale, `{d.scale}` is unordered",
                    dpath + ("hit",), "use `hit: collect`, or make the scale ordered (best to worst)")

    # -- headline -----------------------------------------------------------
    if pack.pack.headline not in decision_ids:
        add("CP203", f"headline decision `{pack.pack.headline}` is not a decision of this pack",
            ("pack", "headline"), did_you_mean(pack.pack.headline, decision_ids))
    else:
        head = pack.decision(pack.pack.headline)
        if head.scale is None or head.scale not in scales:
            add("CP212", f"headline decision `{head.id}` needs a scale whose values carry a `severity`", ("pack", "headline"))
        else:
            si = [s.id for s in pack.scales].index(head.scale)
            for j, v in enumerate(scales[head.scale].values):
                if v.severity is None:
                    add("CP212", f"value `{v.id}` of headline scale `{head.scale}` has no common `severity`",
                        ("scales", si, "values", j), "add `severity:` 0 none, 1 low, 2 moderate, 3 high or 4 critical")

    # -- conditions ---------------------------------------------------------
    order = {d: k for k, d in enumerate(decision_ids)}
    for cond, cpath, owner in pack_conditions(pack):
        for leaf, lpath in walk_conditions(cond, cpath):
            if isinstance(leaf, CountEvents):
                if leaf.count_events.input not in broken:
                    problems.extend(_check_query(leaf.count_events, lpath + ("count_events",), specs, event_kinds))
            elif not (set(_subject_inputs(leaf)) & broken):
                problems.extend(_check_test(leaf, lpath, specs, scales, pack, order, owner, broken))

    # -- outcomes -----------------------------------------------------------
    for i, o in enumerate(pack.outcomes):
        for j, role in enumerate(o.roles):
            if role not in roles:
                add("CP203", f"outcome `{o.id}`: unknown role `{role}`", ("outcomes", i, "roles", j), did_you_mean(role, roles) or "declare it under `roles:`")
        if o.quorum:
            for j, role in enumerate(o.quorum.including):
                if role not in roles:
                    add("CP203", f"outcome `{o.id}`: unknown role `{role}` in quorum", ("outcomes", i, "quorum", "including", j), did_you_mean(role, roles))
        if o.due is not None and o.due.from_ != "as_of":
            src = inputs.get(o.due.from_)
            if src is None:
                add("CP203", f"outcome `{o.id}`: `due.from` names unknown input `{o.due.from_}`", ("outcomes", i, "due", "from"),
                    did_you_mean(o.due.from_, inputs) or "use `as_of` or the id of a date input")
            elif src.type != "date":
                add("CP213", f"outcome `{o.id}`: `due.from` input `{src.id}` is `{src.type}`, not a date", ("outcomes", i, "due", "from"))


    # -- ladder deadlines that run from a date in the evidence ---------------
    for i, t in enumerate(pack.ladder.transitions if pack.ladder else []):
        for j, dl in enumerate(t.starts):
            if dl.from_ is None:
                continue
            fpath: Path = ("ladder", "transitions", i, "starts", j, "from")
            src = inputs.get(dl.from_)
            if src is None:
                add("CP203", f"deadline `{dl.id}` of transition `{t.id}`: `from` names unknown input `{dl.from_}`", fpath,
                    did_you_mean(dl.from_, [k for k, v in inputs.items() if v.type == "date"]) or "name a `date` input, or omit `from` to count from the move")
            elif src.type != "date":
                add("CP213", f"deadline `{dl.id}` of transition `{t.id}`: `from` input `{src.id}` is `{src.type}`, not a date", fpath,
                    "name a `date` input, or omit `from` to count from the move")
    return problems


def _subject_inputs(test: Test) -> list[str]:
    kind, subject = test.subject
    if kind == "decision":
        return []
    return [subject] if kind == "input" else list(subject)


def _check_bands(d: BandsDecision, dpath: Path, integer: bool) -> list[Problem]:
    out: list[Problem] = []

    def lower(b: Any) -> float:
        return float("-inf") if b.min is None else b.min

    def covered_earlier(j: int, start: float) -> bool:
        """Under `allow_overlaps`, whether a band listed before the previous one reaches ``start``."""
        for e in d.bands[: j - 1] if d.allow_overlaps else ():
            if e.max is None and e.below is None:
                return True
            if e.max is not None and ((e.max + 1 if integer else e.max) >= start):
                return True
            if e.below is not None and e.below >= start:
                return True
        return False

    for j in range(1, len(d.bands)):
        prev, cur = d.bands[j - 1], d.bands[j]
        if lower(cur) < lower(prev):
            out.append(("CP210", f"decision `{d.id}`: band `{cur.id}` starts below band `{prev.id}`",
                        dpath + ("bands", j, "min"), "list bands from the lowest numbers to the highest"))
            return out
    for j in range(1, len(d.bands)):
        prev, cur = d.bands[j - 1], d.bands[j]
        if prev.max is None and prev.below is None:
            out.append(("CP209", f"decision `{d.id}`: band `{prev.id}` has no upper bound, so it overlaps band `{cur.id}`",
                        dpath + ("bands", j - 1), "give it `max:` (inclusive) or `below:` (exclusive)"))
            continue
        if cur.min is None:
            out.append(("CP209", f"decision `{d.id}`: band `{cur.id}` has no lower bound, so it overlaps band `{prev.id}`",
                        dpath + ("bands", j), "give it `min:`"))
            continue
        if prev.max is not None:
            if cur.min <= prev.max:
                if not d.allow_overlaps:
                    both = (f"{_fmt(cur.min)} falls" if cur.min == prev.max else f"{_fmt(cur.min)} to {_fmt(prev.max)} fall")
                    out.append(("CP209", f"decision `{d.id}`: bands `{prev.id}` and `{cur.id}` overlap: "
                                f"{both} in both", dpath + ("bands", j, "min"),
                                f"start `{cur.id}` at {_fmt(prev.max + 1) if integer else 'a number above ' + _fmt(prev.max)}, "
                                "or set `allow_overlaps: true` (the first band wins)"))
                continue
            gap = (cur.min > prev.max + 1) if integer else (cur.min > prev.max)
            if gap and not d.allow_gaps and not covered_earlier(j, cur.min):
                lo, hi = (prev.max + 1, cur.min - 1) if integer else (prev.max, cur.min)
                what = (f"{_fmt(lo)} falls" if integer and lo == hi else f"{_fmt(lo)} to {_fmt(hi)} fall" if integer else
                        f"numbers between {_fmt(lo)} and {_fmt(hi)} (e.g. {_fmt((lo + hi) / 2)}) fall")
                hint = (f"start `{cur.id}` at {_fmt(prev.max + 1)}" if integer else
                        f"end `{prev.id}` with `below: {_fmt(cur.min)}` instead of `max`")
                out.append(("CP208", f"decision `{d.id}`: gap between bands `{prev.id}` and `{cur.id}`: {what} in no band",
                            dpath + ("bands", j, "min"), hint + ", or set `allow_gaps: true`"))
        else:
            assert prev.below is not None
            if cur.min < prev.below and not d.allow_overlaps:
                out.append(("CP209", f"decision `{d.id}`: bands `{prev.id}` and `{cur.id}` overlap below {_fmt(prev.below)}",
                            dpath + ("bands", j, "min"), f"start `{cur.id}` at {_fmt(prev.below)}"))
            elif cur.min > prev.below and not d.allow_gaps and not covered_earlier(j, cur.min):
                out.append(("CP208", f"decision `{d.id}`: gap between bands `{prev.id}` and `{cur.id}`: "
                            f"{_fmt(prev.below)} up to {_fmt(cur.min)} fall in no band",
                            dpath + ("bands", j, "min"), f"start `{cur.id}` at {_fmt(prev.below)}, or set `allow_gaps: true`"))
    return out


def _fmt(x: float) -> str:
    if isinstance(x, int):
        # a bound past the float range (or past Python's digit limit) must not crash the message
        if abs(x) < 10**21:
            return str(x)
        return f"{'-' if x < 0 else ''}about 10^{math.floor(math.log10(abs(x)))}"
    return str(int(x)) if x.is_integer() and abs(x) < 1e21 else str(x)


def _check_query(q: Any, qpath: Path, specs: dict[str, InputSpec], event_kinds: set[str]) -> list[Problem]:
    out: list[Problem] = []
    spec = specs.get(q.input)
    if spec is None:
        out.append(("CP203", f"unknown input `{q.input}`", qpath + ("input",), did_you_mean(q.input, specs)))
    elif spec.type.base != "events":
        out.append(("CP206", f"`count_events` needs an `events` input, `{q.input}` is `{spec.type.base}`", qpath + ("input",), None))
    for j, k in enumerate(q.kinds):
        if k not in event_kinds:
            out.append(("CP207", f"`{k}` is not a kind of event", qpath + ("kinds", j),
                        did_you_mean(k, event_kinds) or "declare a kind of your own under `event_kinds:`"))
    for j, t in enumerate(q.where):
        vt = event_field_type(t.field)
        # The model holds exactly one of `is`, `in` (non-empty) or `at_least`.
        values: list[Scalar | None]
        if t.is_ is not None:
            values = [t.is_]
        elif t.in_:
            values = list(t.in_)
        else:
            values = [t.at_least]
        for v in values:
            if vt.values is not None and v not in vt.values:
                out.append(("CP207", f"event field `{t.field}` cannot be `{v}`", qpath + ("where", j),
                            did_you_mean(str(v), [str(a) for a in vt.values])))
            elif vt.values is None and not _fits(v, vt.base):
                out.append(("CP206", f"event field `{t.field}` is {vt.describe()}, not `{v}`", qpath + ("where", j), None))
    return out


def _fits(value: Any, base: str) -> bool:
    if base == "boolean":
        return isinstance(value, bool)
    if base == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if base == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, str)


def _check_count(count: Any, path: Path, specs: dict[str, InputSpec], scales: dict[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    op, arg = count.operator
    names = []
    for k, n in enumerate(count.of):
        spec = specs.get(n)
        if spec is None:
            continue  # reported with the derived input itself
        names.append((n, spec))
    for n, spec in names:
        out.extend(_check_op(n, spec, op, arg, path + (op,), scales, specs))
    return out


def _check_test(test: Test, path: Path, specs: dict[str, InputSpec], scales: dict[str, Any], pack: Pack,
                order: dict[str, int], owner: str | None, broken: set[str]) -> list[Problem]:
    out: list[Problem] = []
    kind, subject = test.subject
    op, arg = test.operator
    names: list[tuple[str, InputSpec]] = []
    if kind == "decision":
        if subject not in order:
            return [("CP203", f"unknown decision `{subject}`", path + ("decision",), did_you_mean(subject, order))]
        if owner is not None and order[subject] >= order[owner]:
            return [("CP211", f"decision `{owner}` reads decision `{subject}`, which is not decided before it",
                     path + ("decision",), "a decision may only read decisions listed above it")]
        d = pack.decision(subject)
        if d.scale and d.scale in scales:
            vt = _ValueType("scale", tuple(v.id for v in scales[d.scale].values))
        else:
            vt = _ValueType("number")
        names.append((subject, InputSpec(subject, "derived", vt, "", "", scale=d.scale)))
        if isinstance(arg, InputRef):
            return [("CP206", "a decision is compared with values, not with another input", path + (op,), None)]
    else:
        for k, n in enumerate([subject] if kind == "input" else subject):
            spath = path + (kind,) if kind == "input" else path + (kind, k)
            spec = specs.get(n)
            if spec is None:
                if n not in {i.id for i in pack.inputs}:
                    out.append(("CP203", f"unknown input `{n}`", spath, did_you_mean(n, specs) or "declare it under `inputs:`"))
                continue
            names.append((n, spec))
    opath = path + (op,)
    for n, spec in names:
        if op == "known":
            continue
        out.extend(_check_op(n, spec, op, arg, opath, scales, specs, broken))
    return out


def _check_op(n: str, spec: InputSpec, op: str, arg: Any, opath: Path, scales: dict[str, Any],
              specs: dict[str, InputSpec], broken: set[str] = frozenset()) -> list[Problem]:  # type: ignore[assignment]
    type_ = spec.type.base
    scale = spec.scale
    if type_ == "events":
        return [("CP206", f"`{n}` is a list of events: test it with `count_events`", opath, None)]
    if type_ == "list":
        return [("CP206", f"`{n}` is a list: count its items with `derive: {{count: ...}}` or test it with `known`", opath, None)]
    if isinstance(arg, InputRef):
        return _check_ref(n, spec, op, arg, opath, specs, broken)
    if op in NUMERIC_OPS and type_ not in ("integer", "number"):
        hint = "use `worse_than`, `no_better_than`, `better_than` or `no_worse_than` on a scale" if type_ == "scale" else (
            "compare two dates with `{input: other}` as the operand, or use `within` / `older_than`" if type_ == "date" else None)
        return [("CP206", f"`{op}` compares numbers, but `{n}` is `{type_}`", opath, hint)]
    if op in SCALE_OPS and type_ != "scale":
        hint = "use `at_least`, `at_most`, `above` or `below` on numbers" if type_ in ("integer", "number") else None
        return [("CP206", f"`{op}` compares positions on a scale, but `{n}` is `{type_}`", opath, hint)]
    if op in SCALE_OPS and scale in scales and not scales[scale].ordered:
        return [("CP216", f"`{op}` needs an ordered scale, `{scale}` is unordered", opath, None)]
    if op in NUMERIC_OPS and (not isinstance(arg, (int, float)) or isinstance(arg, bool)):
        return [("CP206", f"`{op}` compares numbers, so give it a number, not `{arg}`", opath, None)]
    if op in DATE_OPS:
        if type_ != "date":
            return [("CP206", f"`{op}` compares dates, but `{n}` is `{type_}`", opath, None)]
        return []
    return _check_operand(n, spec, arg, opath, scales)


def _check_ref(n: str, spec: InputSpec, op: str, ref: InputRef, opath: Path, specs: dict[str, InputSpec],
               broken: set[str]) -> list[Problem]:
    other = specs.get(ref.input)
    if other is None:
        if ref.input in broken:
            return []
        return [("CP203", f"unknown input `{ref.input}`", opath + ("input",), did_you_mean(ref.input, specs))]
    if op not in REF_OPS:
        return [("CP206", f"`{op}` does not compare two inputs", opath,
                 "compare inputs with `is`, `is_not`, `at_least`, `at_most`, `above`, `below` or a scale comparison")]
    a, b = spec.type.base, other.type.base
    numeric = {"integer", "number"}
    same = (a == b) or (a in numeric and b in numeric)
    if a in ("scale", "enum") and same:
        same = spec.type.values == other.type.values and (a != "scale" or spec.scale == other.scale)
    if not same:
        return [("CP206", f"`{n}` ({a}) and `{ref.input}` ({b}) cannot be compared", opath, "compare inputs of one type")]
    if op in NUMERIC_OPS and a not in numeric | {"date"}:
        return [("CP206", f"`{op}` compares numbers or dates, but `{n}` is `{a}`", opath, None)]
    if op in SCALE_OPS and a != "scale":
        return [("CP206", f"`{op}` compares positions on a scale, but `{n}` is `{a}`", opath, None)]
    return []


def _check_operand(name: str, spec: InputSpec, arg: Any, path: Path, scales: dict[str, Any]) -> list[Problem]:
    values = arg if isinstance(arg, list) else [arg]
    out: list[Problem] = []
    type_ = spec.type.base
    for v in values:
        if type_ in ("scale", "enum"):
            allowed = list(spec.type.values or ())
            if v not in allowed:
                what = f"a value of scale `{spec.scale}` (read by `{name}`)" if type_ == "scale" else f"a value `{name}` can take"
                out.append(("CP207", f"`{v}` is not {what}", path, did_you_mean(str(v), [str(a) for a in allowed])))
        elif type_ in ("integer", "number") and (isinstance(v, bool) or not isinstance(v, (int, float))):
            out.append(("CP206", f"`{name}` is a number, so compare it with a number, not `{v}`", path, None))
        elif type_ == "boolean" and not isinstance(v, bool):
            out.append(("CP206", f"`{name}` is true or false, not `{v}`", path, "write `true` or `false`"))
        elif type_ == "date":
            out.append(("CP206", f"compare date `{name}` with `within` or `older_than`, or with another date input",
                        path, "e.g. `{input: " + name + ", at_most: {input: other_date}}`"))
        elif type_ == "text" and not isinstance(v, str):
            out.append(("CP206", f"`{name}` is text, so compare it with text, not `{v}`", path, f"write `\"{v}\"`"))
    return out
