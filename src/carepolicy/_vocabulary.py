"""What packs read: each input resolved against the shared facts or declared as a local finding,
and the strict evidence models built from those declarations.

One home for "what type is this input, which values can it take, where does evidence
give it": the checker, the compiler, the strategies and the schemas all ask here.
"""

from __future__ import annotations

import difflib
import json
import threading
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ._suggest import closest, did_you_mean
from .errors import Diagnostic, EvidenceError
from .evidence import (
    EVENT_KINDS,
    MAX_EVENTS,
    AuthorityFacts,
    CqcRatings,
    Event,
    Evidence,
    IsoDate,
    Provider,
)

__all__ = [
    "ValueType",
    "InputSpec",
    "Finding",
    "resolve_inputs",
    "shared_fields",
    "event_field_type",
    "EvidenceModels",
    "validate_record",
]

Kind = Literal["shared", "authority", "local", "derived"]
Problem = tuple[str, str, tuple[str | int, ...], str | None]

NUMBER_LIMIT = 1_000_000_000
"""Local numbers without a declared ``min``/``max`` stay within plus or minus this."""
TEXT_LIMIT = 500
LIST_LIMIT = 1_000
MAX_JSON_BYTES = 16 * 1024 * 1024
"""The largest evidence record read as JSON text (10,000 events fit in a few MB)."""


@dataclass(frozen=True)
class ValueType:
    """The type of the values an input takes, whatever its origin."""

    base: str
    """``integer``, ``number``, ``boolean``, ``date``, ``text``, ``enum``, ``scale``, ``events`` or ``list``."""
    values: tuple[Any, ...] | None = None
    """The finite set of values (enums, scales, booleans), in the order declared."""
    lo: float | None = None
    hi: float | None = None
    max_length: int | None = None
    items: ValueType | None = None

    def describe(self) -> str:
        if self.values is not None and self.base in ("enum", "scale"):
            return "one of " + ", ".join(f"`{v}`" for v in self.values)
        words = {"integer": "a whole number", "number": "a number", "boolean": "true or false", "date": "a date",
                 "text": "text", "events": "a list of events", "list": "a list"}
        return words.get(self.base, self.base)

    def signature(self) -> tuple[Any, ...]:
        return (self.base, self.values, self.lo, self.hi, self.max_length,
                self.items.signature() if self.items else None)


@dataclass(frozen=True)
class Finding:
    """One local finding of one authority, as a pack declares it."""

    namespace: str
    name: str
    type: ValueType
    description: str | None
    source: str | None
    pack: str


@dataclass(frozen=True)
class InputSpec:
    """A resolved input: where evidence gives it (or how it is computed) and its type."""

    id: str
    kind: Kind
    type: ValueType
    path: str
    """As written in the pack (``local.score``), or ``derived`` for computed inputs."""
    evidence_path: str
    """Where the value is in a record (``local.lancashire.score``); for derived inputs, the formula."""
    namespace: str | None = None
    name: str | None = None
    operands: tuple[str, ...] = ()
    """For derived inputs, the inputs they are computed from (direct operands)."""
    finding: Finding | None = None
    worse: str = "none"
    scale: str | None = None
    """The pack scale of a ``scale`` input."""


# ----------------------------------------------------------------- the shared facts


def _unwrap(annotation: Any) -> list[Any]:
    """The alternatives of an annotation, with Optional and Annotated peeled off."""
    out: list[Any] = []
    stack = [annotation]
    while stack:
        t = stack.pop()
        if t is type(None):
            continue
        origin = get_origin(t)
        if origin is Annotated:
            stack.append(get_args(t)[0])
        elif origin is Union or (origin is not None and str(origin) == "types.UnionType"):
            stack.extend(reversed(get_args(t)))
        elif type(t).__name__ == "UnionType":
            stack.extend(reversed(get_args(t)))
        else:
            out.append(t)
    return out


def _bounds(annotation: Any) -> tuple[float | None, float | None]:
    lo = hi = None
    stack = [annotation]
    while stack:
        t = stack.pop()
        for meta in getattr(t, "__metadata__", ()):
            for m in (meta, *getattr(meta, "metadata", ())):
                if getattr(m, "ge", None) is not None:
                    lo = m.ge
                if getattr(m, "le", None) is not None:
                    hi = m.le
        stack.extend(a for a in get_args(t) if a is not type(None))
    return lo, hi


def _value_type(annotation: Any) -> ValueType | None:
    alts = _unwrap(annotation)
    if len(alts) != 1:
        return None
    t = alts[0]
    if get_origin(t) is Literal:
        return ValueType("enum", tuple(get_args(t)))
    if t is bool:
        return ValueType("boolean", (False, True))
    if t is int:
        lo, hi = _bounds(annotation)
        return ValueType("integer", None, lo, hi)
    if t is float:
        lo, hi = _bounds(annotation)
        return ValueType("number", None, lo, hi)
    if t is date:
        return ValueType("date")
    if t is str:
        return ValueType("text")
    if get_origin(t) is list and get_args(t) and get_args(t)[0] is Event:
        return ValueType("events")
    return None


_SHARED_LOCK = threading.Lock()
_SHARED: dict[str, ValueType] = {}


def shared_fields() -> Mapping[str, ValueType]:
    """Every shared fact a pack may read, by path (``provider.beds``, ``cqc.safe``, ``events``, ``authority.in_area``)."""
    with _SHARED_LOCK:
        if not _SHARED:
            groups: tuple[tuple[str, type[BaseModel]], ...] = (
                ("provider", Provider), ("cqc", CqcRatings), ("authority", AuthorityFacts))
            for prefix, model in groups:
                for name, info in model.model_fields.items():
                    vt = _value_type(info.annotation)
                    if vt is not None:
                        _SHARED[f"{prefix}.{name}"] = vt
            _SHARED["events"] = ValueType("events")
        return _SHARED


def event_field_type(name: str) -> ValueType:
    """The type of one attribute of an event (for ``where`` and ``group_by``)."""
    vt = _value_type(Event.model_fields[name].annotation)
    assert vt is not None
    return vt


def _shared_group_fields(prefix: str) -> list[str]:
    return sorted(p.split(".", 1)[1] for p in shared_fields() if p.startswith(prefix + "."))


# ----------------------------------------------------------------- resolving a pack's inputs


def _local_type(inp: Any, scales: Mapping[str, Any]) -> tuple[ValueType | None, list[tuple[str, str, str | None]]]:
    """The type a pack declares for a local finding, with problems as (field, message, hint)."""
    problems: list[tuple[str, str, str | None]] = []
    t = inp.type

    def values_of(spec: Any, where: str) -> tuple[Any, ...] | None:
        if spec.type == "scale":
            if spec.scale is None:
                problems.append((where or "type", "a local `scale` finding names its scale: add `scale: <scale id>`", None))
                return None
            if spec.scale not in scales:
                problems.append((where + ("." if where else "") + "scale", f"unknown scale `{spec.scale}`",
                                 did_you_mean(spec.scale, scales) or "declare it under `scales:`"))
                return None
            return tuple(v.id for v in scales[spec.scale].values)
        if spec.type == "enum":
            if spec.values is None:
                problems.append((where or "type", "a local `enum` finding lists its `values`",
                                 "add `values: [a, b, c]`, or use `type: scale` with a declared scale"))
                return None
            if len(set(spec.values)) != len(spec.values):
                problems.append((where + ("." if where else "") + "values", "`values` lists a value twice", None))
            return tuple(spec.values)
        if spec.type == "boolean":
            return (False, True)
        return None

    def numeric(spec: Any, base: str) -> tuple[float | None, float | None]:
        lo = spec.min if spec.min is not None else -NUMBER_LIMIT
        hi = spec.max if spec.max is not None else NUMBER_LIMIT
        if lo > hi:
            problems.append(("min", f"`min` {lo} is above `max` {hi}", None))
        if base == "integer":
            for name, v in (("min", spec.min), ("max", spec.max)):
                if v is not None and not float(v).is_integer():
                    problems.append((name, f"`{name}` of an integer finding must be a whole number, not `{v}`", None))
        return lo, hi

    def misplaced(spec: Any, base: str, where: str) -> None:
        allowed = {"integer": {"min", "max"}, "number": {"min", "max"}, "enum": {"values"}, "scale": {"scale"},
                   "text": {"max_length"}, "list": {"items", "max_length"}}.get(base, set())
        for name in ("min", "max", "values", "scale", "max_length", "items"):
            if getattr(spec, name, None) is not None and name not in allowed:
                problems.append((where + ("." if where else "") + name, f"`{name}` does not apply to a `{base}` finding", None))

    if t == "events":
        return None, [("type", "`events` are shared facts: read them with `path: events`",
                       "declare extra kinds of event under `event_kinds:`")]
    misplaced(inp, t, "")
    if t in ("integer", "number"):
        lo, hi = numeric(inp, t)
        return ValueType(t, None, lo, hi), problems
    if t == "text":
        return ValueType("text", None, None, None, inp.max_length or TEXT_LIMIT), problems
    if t == "date":
        return ValueType("date"), problems
    if t in ("boolean", "enum", "scale"):
        return ValueType(t, values_of(inp, "")), problems
    # list
    if inp.items is None:
        return None, problems + [("type", "a local `list` finding says what its `items` are", "add `items: {type: text}`")]
    it = inp.items
    misplaced(it, it.type, "items")
    if it.type in ("integer", "number"):
        lo, hi = numeric(it, it.type)
        item = ValueType(it.type, None, lo, hi)
    elif it.type == "text":
        item = ValueType("text", None, None, None, it.max_length or TEXT_LIMIT)
    elif it.type == "date":
        item = ValueType("date")
    else:
        item = ValueType(it.type, values_of(it, "items"))
    return ValueType("list", None, None, None, inp.max_length or LIST_LIMIT, item), problems


def resolve_inputs(pack: Any) -> tuple[dict[str, InputSpec], list[Problem]]:
    """Resolve every input of a (schema-valid) pack model: where it is read and what type it has."""
    ns = pack.pack.authority.id
    scales = {s.id: s for s in pack.scales}
    shared = shared_fields()
    specs: dict[str, InputSpec] = {}
    problems: list[Problem] = []
    declared = {i.id: i for i in pack.inputs}

    for i, inp in enumerate(pack.inputs):
        where: tuple[str | int, ...] = ("inputs", i)
        if inp.derive is not None:
            continue  # resolved below, once every read input is known
        path = inp.path
        parts = path.split(".")
        head = parts[0]
        if head == "local":
            if len(parts) == 2:
                namespace, name = ns, parts[1]
            elif len(parts) == 3:
                namespace, name = parts[1], parts[2]
            else:
                problems.append(("CP204", f"input `{inp.id}`: `{path}` is not a local finding",
                                 where + ("path",), "write `local.<finding>` for this authority's own finding, or "
                                 "`local.<authority_id>.<finding>` to read another authority's"))
                continue
            vt, issues = _local_type(inp, scales)
            for fld, message, hint in issues:
                code = "CP203" if message.startswith("unknown ") else "CP205"
                problems.append((code, f"input `{inp.id}`: {message}", where + tuple(fld.split(".")), hint))
            if vt is None or issues:
                continue
            finding = Finding(namespace, name, vt, inp.description, inp.source, pack.pack.id)
            specs[inp.id] = InputSpec(inp.id, "local", vt, path, f"local.{namespace}.{name}", namespace, name,
                                      finding=finding, worse=inp.worse, scale=inp.scale)
            continue
        # a shared or per-authority fact: its type comes from the shared model, not the pack
        for extra in ("min", "max", "values", "items", "max_length"):
            if getattr(inp, extra) is not None:
                problems.append(("CP205", f"input `{inp.id}`: `{extra}` declares a local finding, but `{path}` is a shared fact",
                                 where + (extra,), "shared facts take their types from the shared evidence model; "
                                 "remove it, or read the authority's own finding with `path: local.<finding>`"))
        if head == "authorities" and len(parts) == 3:
            key, namespace, lookup = f"authority.{parts[2]}", parts[1], f"authorities.{parts[1]}.{parts[2]}"
        elif head == "authority":
            key, namespace, lookup = path, ns, f"authorities.{ns}." + ".".join(parts[1:])
        else:
            key, namespace, lookup = path, None, path
        vt = shared.get(key)
        if vt is None:
            problems.append(_unknown_path(inp, path, where))
            continue
        if not _declared_type_fits(inp.type, vt):
            problems.append(("CP205", f"input `{inp.id}` is declared `{inp.type}` but evidence `{path}` is {vt.describe()}",
                             where + ("type",), f"declare it as `{_suggest_type(vt)}`"))
            continue
        if inp.type == "scale":
            if inp.scale is None:
                problems.append(("CP205", f"input `{inp.id}` has `type: scale` but names no `scale`", where, "add `scale: <scale id>`"))
                continue
            if inp.scale not in scales:
                problems.append(("CP203", f"input `{inp.id}`: unknown scale `{inp.scale}`", where + ("scale",),
                                 did_you_mean(inp.scale, scales)))
                continue
            scale_values = tuple(v.id for v in scales[inp.scale].values)
            extra_values = [v for v in (vt.values or ()) if v not in scale_values]
            if extra_values:
                problems.append(("CP207", f"input `{inp.id}`: evidence can be {', '.join(f'`{v}`' for v in extra_values)}, "
                                 f"which scale `{inp.scale}` does not list", where + ("scale",),
                                 "add those values to the scale (best to worst)"))
                continue
            vt = ValueType("scale", scale_values)
        elif inp.scale is not None:
            problems.append(("CP205", f"input `{inp.id}` names a scale but is not `type: scale`", where + ("scale",), None))
            continue
        kind: Kind = "authority" if namespace is not None else "shared"
        specs[inp.id] = InputSpec(inp.id, kind, vt, path, lookup, namespace, parts[-1], worse=inp.worse, scale=inp.scale)

    # derived inputs, in dependency order (a cycle is an error)
    pending = {inp.id: (i, inp) for i, inp in enumerate(pack.inputs) if inp.derive is not None}
    progress = True
    while pending and progress:
        progress = False
        for ident, (i, inp) in list(pending.items()):
            deps = derive_operands(inp.derive)
            waiting = [d for d in deps if d in pending and d != ident]
            if waiting:
                continue
            del pending[ident]
            progress = True
            spec, found = _resolve_derived(inp, i, specs, declared, scales, pack)
            problems.extend(found)
            if spec is not None:
                specs[ident] = spec
    for ident, (i, inp) in pending.items():
        problems.append(("CP214", f"input `{ident}` is derived from itself (through "
                         + ", ".join(f"`{d}`" for d in derive_operands(inp.derive) if d in pending) + ")",
                         ("inputs", i, "derive"), "derive each input from inputs that do not depend on it"))
    return specs, problems


def derive_operands(derive: Any) -> list[str]:
    """The inputs a ``derive`` reads, in the order written."""
    form = derive.form
    if form == "count":
        return list(derive.count.of)
    if form == "count_events":
        return [derive.count_events.input]
    if form == "days_between":
        return list(derive.days_between)
    if form == "date":
        return [derive.date]
    out: list[str] = []

    def walk(operands: Iterable[Any]) -> None:
        for op in operands:
            if isinstance(op, str):
                out.append(op)
            elif not isinstance(op, (int, float)):
                walk(op.form[1])

    walk(getattr(derive, form))
    return out


def _resolve_derived(inp: Any, i: int, specs: dict[str, InputSpec], declared: Mapping[str, Any],
                     scales: Mapping[str, Any], pack: Any) -> tuple[InputSpec | None, list[Problem]]:
    d = inp.derive
    where: tuple[str | int, ...] = ("inputs", i, "derive")
    problems: list[Problem] = []
    operands = derive_operands(d)
    for extra in ("min", "max", "values", "items", "max_length"):
        if getattr(inp, extra) is not None:
            problems.append(("CP205", f"input `{inp.id}`: `{extra}` declares a local finding; a derived input has none",
                             ("inputs", i, extra), "remove it"))
    for op in dict.fromkeys(operands):
        if op not in declared:
            problems.append(("CP203", f"input `{inp.id}`: derived from unknown input `{op}`", where,
                             did_you_mean(op, declared) or "declare it under `inputs:`"))
    if problems or any(op not in specs for op in operands):
        return None, problems  # an operand is unknown or itself broken (reported where it is)
    form = d.form

    def need(ids: Iterable[str], bases: tuple[str, ...], what: str) -> bool:
        ok = True
        for op in ids:
            if specs[op].type.base not in bases:
                problems.append(("CP206", f"input `{inp.id}`: {what} needs {' or '.join(bases)} inputs, "
                                 f"but `{op}` is `{specs[op].type.base}`", where, None))
                ok = False
        return ok

    result: ValueType
    if form in ("sum", "difference", "product", "quotient"):
        if not need(operands, ("integer", "number"), f"`{form}`"):
            return None, problems
        whole = all(specs[o].type.base == "integer" for o in operands) and _all_whole_numbers(getattr(d, form))
        integer = (whole and not _has_quotient(d)) or (d.round is not None and d.places == 0)
        if _has_quotient(d) and d.round is None and inp.type == "integer":
            problems.append(("CP215", f"input `{inp.id}`: a quotient of whole numbers need not be whole; say how it is rounded",
                             where, "add `round: down` (or `up`, `half_up`, `half_even`)"))
            return None, problems
        result = ValueType("integer" if integer else "number")
    elif form == "count":
        result = ValueType("integer", None, 0, len(d.count.of))
    elif form == "count_events":
        if not need(operands, ("events",), "`count_events`"):
            return None, problems
        result = ValueType("integer", None, 0, MAX_EVENTS)
    elif form == "days_between":
        if not need(operands, ("date",), "`days_between`"):
            return None, problems
        result = ValueType("integer")
    else:
        if not need(operands, ("date",), "`date`"):
            return None, problems
        result = ValueType("date")
    if inp.type != result.base and not (inp.type == "number" and result.base == "integer"):
        problems.append(("CP205", f"input `{inp.id}` is declared `{inp.type}` but its `derive` gives {result.describe()}",
                         ("inputs", i, "type"), f"declare it as `{result.base}`"))
        return None, problems
    if inp.scale is not None:
        problems.append(("CP205", f"input `{inp.id}` names a scale but is derived", ("inputs", i, "scale"), None))
        return None, problems
    if inp.type == "number":
        result = ValueType("number", None, result.lo, result.hi)
    text = _formula(d)
    return InputSpec(inp.id, "derived", result, "derived", text, operands=tuple(dict.fromkeys(operands)),
                     worse=inp.worse), problems


def _has_quotient(d: Any) -> bool:
    if getattr(d, "quotient", None) is not None:
        return True
    form = getattr(d, "form", None)
    operands = getattr(d, form, None) if isinstance(form, str) and form in ("sum", "difference", "product") else None
    if operands is None and not isinstance(form, str):
        operands = form[1] if form else None
    for op in operands or ():
        if not isinstance(op, (str, int, float)) and _has_quotient(op):
            return True
    return False


def _all_whole_numbers(operands: Iterable[Any]) -> bool:
    for op in operands:
        if isinstance(op, float) and not op.is_integer():
            return False
        if not isinstance(op, (str, int, float)) and not _all_whole_numbers(op.form[1]):
            return False
    return True


def _formula(d: Any) -> str:
    form = d.form
    if form == "count":
        op, arg = d.count.operator
        words = {"is": "that are", "is_not": "that are not", "in": "that are one of", "not_in": "that are none of",
                 "known": "that are known" if arg else "that are not known"}.get(op, f"that are {op.replace('_', ' ')}")
        shown = "" if op == "known" else " " + (", ".join(map(str, arg)) if isinstance(arg, list) else str(arg))
        return f"how many of {', '.join(d.count.of)} {words}{shown}"
    if form == "count_events":
        q = d.count_events
        return f"count of {'/'.join(q.kinds)} events" + (f" within {q.within}" if q.within else "")
    if form == "days_between":
        return f"days from {d.days_between[0]} to {d.days_between[1]}"
    if form == "date":
        return f"{d.date} {'plus ' + str(d.plus) if d.plus else 'minus ' + str(d.minus)}"
    symbol = {"sum": " + ", "difference": " - ", "product": " x ", "quotient": " / "}

    def show(f: str, ops: Iterable[Any]) -> str:
        parts = []
        for op in ops:
            if isinstance(op, (str, int, float)):
                parts.append(str(op))
            else:
                parts.append("(" + show(*op.form) + ")")
        return symbol[f].join(parts)

    text = show(form, getattr(d, form))
    if d.round is not None:
        text += f", rounded {d.round.replace('_', ' ')}" + (f" to {d.places} places" if d.places else "")
    return text


def _declared_type_fits(declared: str, vt: ValueType) -> bool:
    if declared in ("scale", "enum"):
        return vt.base == "enum"
    if declared == "number":
        return vt.base in ("integer", "number")
    return declared == vt.base


def _suggest_type(vt: ValueType) -> str:
    return "scale` or `enum" if vt.base == "enum" else vt.base


def _unknown_path(inp: Any, path: str, where: tuple[str | int, ...]) -> Problem:
    parts = path.split(".")
    head = parts[0]
    groups = ("provider", "cqc", "authority")
    if head in groups and len(parts) == 2:
        return ("CP204", f"input `{inp.id}`: `{path}` is not a shared fact (no `{parts[1]}` in `{head}`)",
                where + ("path",), did_you_mean(parts[1], _shared_group_fields(head))
                or f"an authority's own finding is declared in its pack: `path: local.{parts[-1]}` with its `type`")
    if head in groups or head == "events":
        return ("CP205", f"input `{inp.id}`: `{path}` is not a value of the shared evidence", where + ("path",),
                f"name a field of `{head}`, e.g. " + ", ".join(f"`{head}.{f}`" for f in _shared_group_fields(head)[:3])
                if head in groups else "read the list itself: `path: events`")
    if head == "authorities":
        return ("CP204", f"input `{inp.id}`: `{path}` is not a per-authority fact", where + ("path",),
                "write `authority.<fact>` for this authority's facts or `authorities.<authority_id>.<fact>` for another's")
    return ("CP204", f"input `{inp.id}`: `{path}` is not in the evidence: shared facts are under `provider`, `cqc`, "
            f"`events` and `authority`, and this authority's own findings under `local`", where + ("path",),
            closest(head, ["provider", "cqc", "events", "authority", "authorities", "local"])
            or f"declare it as this authority's finding: `path: local.{parts[-1]}` with its `type` "
               "(and `min`/`max`, `values` or `scale`)")


# ----------------------------------------------------------------- evidence models from declarations


def _literal(values: Iterable[Any]) -> Any:
    """``Literal[a, b, ...]`` of values known only when a pack loads."""
    return Literal.__getitem__(tuple(values))


def _annotation(vt: ValueType, description: str | None) -> Any:
    if vt.base == "integer":
        base: Any = Annotated[int, Field(ge=int(vt.lo) if vt.lo is not None else None,
                                         le=int(vt.hi) if vt.hi is not None else None)]
    elif vt.base == "number":
        base = Annotated[Union[int, float], Field(ge=vt.lo, le=vt.hi, allow_inf_nan=False)]
    elif vt.base == "boolean":
        base = bool
    elif vt.base == "date":
        base = IsoDate
    elif vt.base in ("enum", "scale"):
        base = _literal(vt.values or ())
    elif vt.base == "text":
        base = Annotated[str, Field(min_length=1, max_length=vt.max_length or TEXT_LIMIT)]
    else:  # list
        assert vt.items is not None
        base = Annotated[list[_annotation(vt.items, None)], Field(max_length=vt.max_length or LIST_LIMIT)]  # type: ignore[misc]
    return base


_REGISTRY: weakref.WeakKeyDictionary[type, EvidenceModels] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()
_CONFIG = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False, hide_input_in_errors=True)
_LENIENT = ConfigDict(extra="ignore", frozen=True, strict=True, allow_inf_nan=False, hide_input_in_errors=True)


class EvidenceModels:
    """The strict evidence model for a set of packs: shared facts plus their declared local findings.

    ``own`` namespaces are closed (an undeclared finding is an error); other namespaces a
    pack reads explicitly are checked for what it declares and otherwise ignored. Findings
    of an authority no pack here reads are not read, so not checked; a name one letter
    off a known authority is refused as the typo it almost certainly is.
    """

    def __init__(self, findings: Iterable[Finding], event_kinds: Iterable[str], own: Iterable[str],
                 moved: Mapping[str, str], name: str) -> None:
        by_ns: dict[str, dict[str, Finding]] = {}
        for f in findings:
            by_ns.setdefault(f.namespace, {}).setdefault(f.name, f)
        self.findings = {ns: dict(sorted(v.items())) for ns, v in sorted(by_ns.items())}
        self.own = frozenset(own)
        self.event_kinds = tuple(sorted(set(EVENT_KINDS) | set(event_kinds)))
        self.moved = dict(moved)
        self.model = self._build(name)
        with _REGISTRY_LOCK:
            _REGISTRY[self.model] = self

    @staticmethod
    def of(model: type[Evidence]) -> EvidenceModels | None:
        """The declarations a model was built from (``None`` for the shared-facts model)."""
        return _REGISTRY.get(model)

    def covers(self, other: EvidenceModels) -> bool:
        """Whether a record valid under ``self`` holds everything ``other`` reads, checked alike."""
        for ns, fs in other.findings.items():
            mine = self.findings.get(ns, {})
            for name, f in fs.items():
                if name not in mine or mine[name].type.signature() != f.type.signature():
                    return False
        return set(other.event_kinds) <= set(self.event_kinds)

    def _build(self, name: str) -> type[Evidence]:
        fields: dict[str, Any] = {}
        for ns, fs in self.findings.items():
            inner: dict[str, Any] = {}
            for fname, f in fs.items():
                desc = " ".join(x for x in (f.description, f"(source: {f.source})" if f.source else None) if x) or None
                inner[fname] = (Union[_annotation(f.type, desc), None], Field(default=None, description=desc))
            config = _CONFIG if ns in self.own else _LENIENT
            sub = create_model(f"{name}_{ns}", __config__=config, **inner)
            fields[ns] = (Union[sub, None], Field(default=None, description=f"findings of authority `{ns}`"))
        local_model = create_model(f"{name}_local", __config__=_LENIENT, **fields)
        kinds = _literal(self.event_kinds)
        event_model = create_model(f"{name}_event", __base__=Event, kind=(kinds, ...))
        events_type = Annotated[list[event_model], Field(max_length=MAX_EVENTS)]  # type: ignore[valid-type]
        model = create_model(
            name,
            __base__=Evidence,
            events=(Union[events_type, None], Field(default=None, description="dated events; omit if not known, [] if known to be none")),
            local=(Union[local_model, None], Field(default=None, description="each authority's own findings, keyed by its id")),
        )
        return model

    def json_schema(self, title: str) -> dict[str, Any]:
        from ._jsonschema import finish_schema

        return finish_schema(self.model.model_json_schema(), title)

    def validate(self, data: Any, *, source: str | None = None) -> Evidence:
        return validate_record(self.model, data, source=source, vocabulary=self)


# ----------------------------------------------------------------- reading and validating records


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _no_constants(name: str) -> Any:
    raise ValueError(f"`{name}` is not a JSON number")


def read_json(text: str | bytes, source: str | None = None) -> Any:
    """Strict JSON: duplicate keys, NaN/Infinity and over-long text are located errors, not last-wins."""
    size = len(text)
    if size > MAX_JSON_BYTES:
        raise EvidenceError(f"evidence{' in ' + source if source else ''} is too large", [Diagnostic(
            code="CP405", message=f"evidence is {size:,} bytes, larger than the {MAX_JSON_BYTES:,}-byte limit",
            file=source, path="$", hint="send one provider's record at a time")])
    try:
        return json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constants)
    except _DuplicateKey as exc:
        raise EvidenceError(f"evidence{' in ' + source if source else ''} repeats a key", [Diagnostic(
            code="CP403", message=f"duplicate key `{_show(exc.key)}` in the evidence json", file=source, path="$",
            hint="keep one entry for each key; json readers disagree on which duplicate wins")]) from None
    except (ValueError, RecursionError) as exc:
        line = getattr(exc, "lineno", None)
        col = getattr(exc, "colno", None)
        msg = getattr(exc, "msg", None) or str(exc)
        raise EvidenceError(f"evidence{' in ' + source if source else ''} is not json", [Diagnostic(
            code="CP404", message=f"evidence is not valid json: {_show(msg).lower()}", file=source, line=line, col=col,
            path="$", hint="evidence is one json object per provider")]) from None


def validate_record(model: type[Evidence], data: Any, *, source: str | None = None,
                    vocabulary: EvidenceModels | None = None) -> Evidence:
    """Validate one record with ``model``; every problem becomes one located CP4xx diagnostic."""
    if isinstance(data, model):
        return data
    if isinstance(data, Evidence):
        data = data.model_dump(mode="json", exclude_none=True)
    elif isinstance(data, (str, bytes, bytearray)):
        data = read_json(bytes(data) if isinstance(data, bytearray) else data, source)
    typos = _namespace_typos(data, vocabulary, source)
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        try:
            diags = typos + _diagnostics(exc, data, source, vocabulary)
        except RecursionError:  # a value nested beyond reason: name the problem, not each of its levels
            diags = typos + [Diagnostic(code="CP401", message="evidence nests too deeply", file=source, path="$")]
        raise EvidenceError(
            f"evidence{' in ' + source if source else ''} is not valid ({len(diags)} problem(s))", diags
        ) from None
    except RecursionError:
        raise EvidenceError("evidence nests too deeply", [Diagnostic(
            code="CP401", message="evidence nests too deeply", file=source, path="$")]) from None
    if typos:
        raise EvidenceError(f"evidence{' in ' + source if source else ''} is not valid ({len(typos)} problem(s))", typos)
    return record


def parse_evidence(data: Evidence | Mapping[str, Any] | str | bytes, *, source: str | None = None) -> Evidence:
    """Validate the shared facts of a record (local findings unchecked); raise :class:`EvidenceError`.

    Packs validate records with their own models (:meth:`carepolicy.PolicyPack.parse_evidence`).
    """
    return validate_record(Evidence, data, source=source)


def _namespace_typos(data: Any, vocabulary: EvidenceModels | None, source: str | None) -> list[Diagnostic]:
    """Findings under an authority no pack here knows, whose name is close to one it does."""
    if vocabulary is None or not isinstance(data, dict) or not isinstance(data.get("local"), dict):
        return []
    out = []
    known = list(vocabulary.findings)
    for key in list(data["local"])[:MAX_DIAGNOSTICS]:
        if isinstance(key, str) and key not in vocabulary.findings:
            # a near miss only (one or two letters): another council's name that merely looks alike is not a typo
            near = [k for k in known if abs(len(k) - len(key)) <= 2
                    and difflib.SequenceMatcher(None, k, key).ratio() >= 0.85]
            hint = closest(key, near) if near else None
            if hint is not None:
                out.append(Diagnostic(code="CP401", file=source, path=f"local.{_show(key)}",
                                      message=f"no pack here reads findings of `{_show(key)}`", hint=hint))
    return out


MAX_DIAGNOSTICS = 100


def _diagnostics(exc: ValidationError, data: Any, source: str | None,
                 vocabulary: EvidenceModels | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    errors = exc.errors(include_url=False, include_input=False)
    moved = vocabulary.moved if vocabulary is not None else {}
    reported_moves: set[str] = set()
    for err in errors:
        if len(out) >= MAX_DIAGNOSTICS:
            out.append(Diagnostic(code="CP401", file=source, path="$",
                                  message=f"{len(errors) - MAX_DIAGNOSTICS:,} more problems not shown"))
            break
        loc = tuple(err["loc"])
        path = _path(loc)
        if err["type"] == "extra_forbidden":
            old = [p for p in _leaf_paths(_at(data, loc), ".".join(str(x) for x in loc if not isinstance(x, int)))]
            hits = [(p, moved[p]) for p in old if p in moved]
            if hits or (len(loc) == 1 and loc[0] in _LAYOUT_1_GROUPS):
                for p, new in hits:
                    if p not in reported_moves:
                        reported_moves.add(p)
                        out.append(Diagnostic(code="CP402", file=source, path=p,
                                              message=f"`{p}` has moved to `{new}` (evidence layout 2)",
                                              hint="run `carepolicy migrate` on the record, or move the field by hand"))
                if not hits:
                    out.append(Diagnostic(code="CP402", file=source, path=path,
                                          message=f"`{loc[0]}` is evidence layout 1: local findings now live under "
                                                  "`local.<authority_id>`, declared by each pack",
                                          hint="run `carepolicy migrate --packs DIR` on the record"))
                continue
            out.append(Diagnostic(code="CP401", file=source, path=path, message=f"unknown field `{_show(str(loc[-1]))}`",
                                  hint=_hint_unknown(loc, vocabulary)))
            continue
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "literal_error" and len(loc) >= 2 and loc[-1] == "kind" and "events" in loc:
            kind = _at(data, loc)
            shown = _show(kind) if isinstance(kind, str) else f"a {type(kind).__name__}"
            message = f"`{shown}` is not a kind of event any pack here counts"
        out.append(Diagnostic(code="CP401", file=source, path=path, message=message[:1].lower() + message[1:]))
    return out


_LAYOUT_1_GROUPS = frozenset({"assessment", "flags", "improvement_plan", "history"})


def _hint_unknown(loc: tuple[Any, ...], vocabulary: EvidenceModels | None) -> str | None:
    names = [str(x) for x in loc if not isinstance(x, int)]
    last = names[-1]
    if len(names) >= 2 and names[0] == "local":
        if len(names) == 2:
            known = list(vocabulary.findings) if vocabulary else []
            return closest(last, known) or (
                f"no pack here reads findings of `{last}`; evaluate with the library of packs that declares them")
        known = list(vocabulary.findings.get(names[1], {})) if vocabulary else []
        return closest(last, known) or (
            f"`{last}` is not a finding the packs of `{names[1]}` declare; declare it in the pack (`path: local.{last}` "
            "with its `type`)")
    groups: dict[str, list[str]] = {
        "": list(Evidence.model_fields), "provider": list(Provider.model_fields), "cqc": list(CqcRatings.model_fields),
        "events": list(Event.model_fields), "authorities": list(AuthorityFacts.model_fields),
    }
    parent = names[0] if len(names) > 1 else ""
    hint = closest(last, groups.get(parent, []))
    if hint is None and parent in ("", "provider", "cqc"):
        hint = "an authority's own finding goes under `local.<authority_id>`, declared by its pack"
    return hint


def _path(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "$"


def _at(data: Any, loc: tuple[Any, ...]) -> Any:
    node = data
    for part in loc:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return None
    return node


def _leaf_paths(node: Any, prefix: str, limit: int = 200) -> list[str]:
    """Dotted paths of the leaves under ``node`` (bounded: a hostile record cannot make this costly)."""
    out: list[str] = []
    stack = [(prefix, node, 0)]
    while stack and len(out) < limit:
        p, n, depth = stack.pop()
        if isinstance(n, dict) and n and depth < 8:
            for k in list(n)[:limit]:
                stack.append((f"{p}.{k}", n[k], depth + 1))
        else:
            out.append(p)
    return sorted(out)


def _show(text: str, limit: int = 60) -> str:
    text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text[: limit + 1])
    return text if len(text) <= limit else text[: limit - 1] + "…"

