"""A reference evaluator for policy packs: plain, slow and written from policies/README.md.

It reads the pack as the YAML reader returns it (plain dicts and lists) and the evidence
as a plain JSON-like dict. It shares no code with carepolicy's loader, models, compiler or
engine (carepolicy is used only to read YAML safely), and computes every date itself
(reference/calendar.py). Where the README is silent, the comment says which reading is
taken. Unknown is ``None`` throughout; a number known only to lie in a range is a
:class:`Between`, and a test on it is settled only when every number in the range agrees.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from carepolicy._yaml import read_yaml  # only to read YAML as the packs are written (YAML 1.2, safe)

from .calendar import Calendar, days_in_month

ROOT = Path(__file__).resolve().parents[2]
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]


def _event_field_orders() -> dict[str, list[str]]:
    """The order of each event field that has one (harm: none ... severe), from the committed evidence schema."""
    schema = json.loads((ROOT / "schema" / "evidence-shared.schema.json").read_text())
    out = {}
    for name, prop in schema["$defs"]["Event"]["properties"].items():
        for alt in prop.get("anyOf", [prop]):
            if "enum" in alt:
                out[name] = list(alt["enum"])
    return out


EVENT_ORDERS = _event_field_orders()


class ReferenceError(Exception):
    """An evaluation the pack cannot complete (e.g. a division by zero with no `if_zero`)."""


@dataclass(frozen=True)
class Between:
    """A whole number known only to be one of lo..hi (a count with unknown members)."""

    lo: int
    hi: int

    def values(self) -> range:
        return range(self.lo, self.hi + 1)


def load(path: Path | str) -> dict:
    data, _ = read_yaml(Path(path).read_bytes(), str(path))
    return data


def node(pack: dict, path: str) -> Any:
    """The part of a pack at a path such as ``decisions[2].rows[0].when.all[1]``."""
    out: Any = pack
    for name, index in re.findall(r"(\w+)|\[(\d+)\]", path):
        out = out[int(index)] if index else out[name]
    return out


def kleene_all(results: list[bool | None]) -> bool | None:
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def kleene_any(results: list[bool | None]) -> bool | None:
    if any(r is True for r in results):
        return True
    return None if any(r is None for r in results) else False


def settled(results: list[bool]) -> bool | None:
    """True or false when every possibility agrees, else unknown."""
    if all(results):
        return True
    if not any(results):
        return False
    return None


@dataclass
class DecisionResult:
    status: str  # decided | insufficient_evidence | no_value | conflict | out_of_scope
    value: Any = None
    rules: list[str] = field(default_factory=list)
    partial: list[Any] = field(default_factory=list)  # a collect decision's values so far, while open


class Reference:
    """One pack, read from its YAML."""

    def __init__(self, pack: dict) -> None:
        self.pack = pack
        self.authority = pack["pack"]["authority"]["id"]
        self.calendar = Calendar(pack.get("calendar"))
        self.scales = {s["id"]: [v["id"] for v in s["values"]] for s in pack["scales"]}
        self.inputs = {i["id"]: i for i in pack["inputs"]}
        self.decisions = pack["decisions"]

    # ------------------------------------------------------------- one evaluation

    def evaluate(self, evidence: dict, as_of: date) -> dict:
        run = _Run(self, evidence, as_of)
        out_of_scope = [s["id"] for s in self.pack.get("scope", []) if run.condition(s["when"]) is True]
        decisions: dict[str, DecisionResult] = {}
        if out_of_scope:
            decisions = {d["id"]: DecisionResult("out_of_scope") for d in self.decisions}
        else:
            for d in self.decisions:
                decisions[d["id"]] = run.decisions[d["id"]] = run.decide(d)
        outcomes = {}
        if not out_of_scope:
            for o in self.pack.get("outcomes", []):
                held = run.condition(o["when"])
                if held is False:
                    continue
                due_from, due = run.due(o.get("due"))
                outcomes[o["id"]] = {"certain": held is True, "due": due, "due_from": due_from}
        headline = decisions[self.pack["pack"]["headline"]]
        return {"status": "out_of_scope" if out_of_scope else headline.status, "out_of_scope": out_of_scope,
                "decisions": decisions, "outcomes": outcomes}

    def condition(self, cond: dict, evidence: dict, as_of: date) -> bool | None:
        """One condition of the pack (that reads no decision) over the evidence."""
        return _Run(self, evidence, as_of).condition(cond)


class _Run:
    def __init__(self, ref: Reference, evidence: dict, as_of: date) -> None:
        self.ref = ref
        self.evidence = evidence
        self.as_of = as_of
        self.decisions: dict[str, DecisionResult] = {}
        self.cache: dict[str, Any] = {}

    # ------------------------------------------------------------- reading inputs

    def where(self, path: str) -> list[str]:
        """Where a record gives an input: `local.x` is `local.<authority>.x`, `authority.x` is `authorities.<authority>.x`."""
        parts = path.split(".")
        if parts[0] == "local" and len(parts) == 2:
            return ["local", self.ref.authority, parts[1]]
        if parts[0] == "authority":
            return ["authorities", self.ref.authority, *parts[1:]]
        return parts

    def value(self, name: str) -> Any:
        """An input's value: a value, ``None`` (not known) or a :class:`Between`."""
        if name not in self.cache:
            self.cache[name] = self._value(self.ref.inputs[name])
        return self.cache[name]

    def _value(self, spec: dict) -> Any:
        if "derive" in spec:
            return self.derive(spec["derive"], spec["id"])
        node: Any = self.evidence
        for part in self.where(spec["path"]):
            if not isinstance(node, dict) or node.get(part) is None:
                return None
            node = node[part]
        if spec["type"] == "date":
            return date.fromisoformat(node)
        if spec["type"] == "events":
            return [{**e, "date": date.fromisoformat(e["date"])} for e in node]
        return node

    def known(self, name: str) -> Any:
        v = self.value(name)
        return None if isinstance(v, Between) else v

    def derive(self, d: dict, name: str) -> Any:
        if "count" in d:
            spec = d["count"]
            op = next(k for k in spec if k != "of")
            yes = maybe = 0
            for member in spec["of"]:
                r = self.test_value(self.value(member), op, spec[op], self.scale_of_input(member))
                if r is True:
                    yes += 1
                elif r is None:
                    maybe += 1
            return yes if maybe == 0 else Between(yes, yes + maybe)
        if "count_events" in d:
            bounds = self.count_events(d["count_events"])
            if bounds is None:
                return None
            lo, hi = bounds
            return lo if lo == hi else Between(lo, hi)
        if "days_between" in d:
            a, b = (self.known(x) for x in d["days_between"])
            return None if a is None or b is None else (b - a).days
        if "date" in d:
            base = self.known(d["date"])
            if base is None:
                return None
            return self.ref.calendar.shift(base, d["plus"], 1) if "plus" in d else self.ref.calendar.shift(base, d["minus"], -1)
        exact = self.arithmetic(d, name)
        if exact is None:
            return None
        return self.rounded(exact, d.get("round"), d.get("places", 0))

    def arithmetic(self, node: dict, name: str) -> Fraction | None:
        form = next(k for k in ("sum", "difference", "product", "quotient") if k in node)
        values = []
        for op in node[form]:
            if isinstance(op, str):
                v = self.value(op)
                # a missing operand makes the result missing; so does a count known only as a range
                values.append(None if v is None or isinstance(v, Between) else Fraction(v))
            elif isinstance(op, dict):
                values.append(self.arithmetic(op, name))
            else:
                values.append(Fraction(op))
        if any(v is None for v in values):
            return None
        if form == "sum":
            return sum(values, Fraction(0))
        if form == "difference":
            return values[0] - values[1]
        if form == "product":
            out = Fraction(1)
            for v in values:
                out *= v
            return out
        if values[1] == 0:
            if "if_zero" in node:
                return Fraction(node["if_zero"])
            raise ReferenceError(f"`{name}`: division by zero")
        return values[0] / values[1]

    @staticmethod
    def rounded(x: Fraction, mode: str | None, places: int) -> Any:
        if mode is None:
            return x
        scaled = x * 10 ** places
        floor = scaled.numerator // scaled.denominator
        if mode == "down":
            n = floor
        elif mode == "up":
            n = floor if floor == scaled else floor + 1
        elif mode == "half_up":  # halves away from zero
            n = int(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1)
        else:  # half_even
            rest = scaled - floor
            n = floor + 1 if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and floor % 2 == 1) else floor
        return Fraction(n, 10 ** places)

    def scale_of_input(self, name: str) -> list[str] | None:
        spec = self.ref.inputs[name]
        return self.ref.scales.get(spec.get("scale")) if spec.get("type") == "scale" else None

    # ------------------------------------------------------------- conditions

    def condition(self, cond: dict) -> bool | None:
        if "all" in cond:
            return kleene_all([self.condition(c) for c in cond["all"]])
        if "any" in cond:
            return kleene_any([self.condition(c) for c in cond["any"]])
        if "not" in cond:
            r = self.condition(cond["not"])
            return None if r is None else not r
        if "count_events" in cond:
            bounds = self.count_events(cond["count_events"])
            if bounds is None:
                return None
            lo, hi = bounds
            if "at_least" in cond:
                return settled([n >= cond["at_least"] for n in range(lo, hi + 1)])
            return settled([n <= cond["at_most"] for n in range(lo, hi + 1)])
        op = next(k for k in cond if k not in ("input", "decision", "any_of", "all_of"))
        arg = cond[op]
        if "decision" in cond:
            return self.decision_test(cond["decision"], op, arg)
        names = [cond["input"]] if "input" in cond else cond.get("any_of") or cond["all_of"]
        results = [self.input_test(n, op, arg) for n in names]
        return kleene_all(results) if "all_of" in cond else kleene_any(results)

    def input_test(self, name: str, op: str, arg: Any) -> bool | None:
        v = self.value(name)
        if op == "known":
            return (v is not None and not isinstance(v, Between)) == arg
        if op in ("within", "older_than"):
            if v is None:
                return None
            limit = self.ref.calendar.shift(self.as_of, arg, -1)
            # README: `within: 1 month` as of 15 March covers 16 February to 15 March
            return limit < v <= self.as_of if op == "within" else v <= limit
        scale = self.scale_of_input(name)
        if isinstance(arg, dict):  # another input
            w = self.value(arg["input"])
            if v is None or w is None:
                return None
            lefts = list(v.values()) if isinstance(v, Between) else [v]
            rights = list(w.values()) if isinstance(w, Between) else [w]
            return settled([self.compare(a, op, b, scale) for a in lefts for b in rights])
        return self.test_value(v, op, arg, scale)

    def test_value(self, v: Any, op: str, arg: Any, scale: list[str] | None) -> bool | None:
        if v is None:
            return None
        if isinstance(v, Between):
            return settled([self.compare(x, op, arg, scale) for x in v.values()])
        return self.compare(v, op, arg, scale)

    @staticmethod
    def compare(v: Any, op: str, arg: Any, scale: list[str] | None) -> bool:
        if op == "is":
            return v == arg and isinstance(v, bool) == isinstance(arg, bool)
        if op == "is_not":
            return not (v == arg and isinstance(v, bool) == isinstance(arg, bool))
        if op == "in":
            return any(v == a and isinstance(v, bool) == isinstance(a, bool) for a in arg)
        if op == "not_in":
            return not any(v == a and isinstance(v, bool) == isinstance(a, bool) for a in arg)
        if op == "at_least":
            return v >= arg
        if op == "at_most":
            return v <= arg
        if op == "above":
            return v > arg
        if op == "below":
            return v < arg
        assert scale is not None, op  # scales are listed best to worst: worse is further down the list
        a, b = scale.index(v), scale.index(arg)
        return {"worse_than": a > b, "no_better_than": a >= b, "better_than": a < b, "no_worse_than": a <= b}[op]

    def decision_test(self, decision_id: str, op: str, arg: Any) -> bool | None:
        r = self.decisions[decision_id]
        spec = next(d for d in self.ref.decisions if d["id"] == decision_id)
        scale = self.ref.scales.get(spec.get("scale"))
        if op == "known":  # the decision has a value (reading taken: a decided `collect`, even empty, has one)
            return (r.status == "decided" and r.value is not None) == arg

        def passes(x: Any) -> bool:
            return self.compare(x, op, arg, scale)

        if r.status == "decided":
            # a collected decision passes when one of its values does (the README is silent; this reading is taken)
            return any(passes(x) for x in r.value) if isinstance(r.value, list) else passes(r.value)
        if r.status == "no_value":
            return False  # no value satisfies a test
        # open: a collected value already found stays collected, whatever the missing evidence says
        if any(passes(x) for x in r.partial):
            return True
        return None

    # ------------------------------------------------------------- events

    def count_events(self, q: dict) -> tuple[int, int] | None:
        """How many matching events there are, at least and at most; ``None`` when the events are not known."""
        events = self.known(q["input"])
        if events is None:
            return None
        first = self.ref.calendar.shift(self.as_of, q["within"], -1) + timedelta(days=1) if "within" in q else None
        sure: dict[Any, int] = {}   # events that surely match, by group (None: group not known)
        maybe: dict[Any, int] = {}  # events that may match
        for e in events:
            if e["kind"] not in q["kinds"] or e["date"] > self.as_of or (first is not None and e["date"] < first):
                continue
            verdict = kleene_all([self.event_filter(e, f) for f in q.get("where", [])])
            if verdict is False:
                continue
            key = e.get(q["group_by"]) if "group_by" in q else "all"
            bucket = sure if verdict else maybe
            bucket[key] = bucket.get(key, 0) + 1
        floating_sure, floating_maybe = sure.pop(None, 0), maybe.pop(None, 0)
        groups = set(sure) | set(maybe)
        # fewest: nothing uncertain matches and each event of an unknown group is alone in a group of its own
        lo = max([sure.get(k, 0) for k in groups] + [1 if floating_sure else 0])
        # most: everything uncertain matches and every event of an unknown group joins the largest group
        hi = max([sure.get(k, 0) + maybe.get(k, 0) for k in groups] + [0]) + floating_sure + floating_maybe
        return lo, hi

    @staticmethod
    def event_filter(e: dict, f: dict) -> bool | None:
        v = e.get(f["field"])
        if v is None:
            return None
        if "is" in f:
            return v == f["is"]
        if "in" in f:
            return v in f["in"]
        order = EVENT_ORDERS.get(f["field"])
        if order is not None:
            return order.index(v) >= order.index(f["at_least"])
        return v >= f["at_least"]

    # ------------------------------------------------------------- decisions

    def decide(self, d: dict) -> DecisionResult:
        if d["kind"] == "bands":
            return self.bands(d)
        rows = [(r, self.condition(r["when"])) for r in d["rows"]]
        return getattr(self, "hit_" + d["hit"])(d, rows)

    def bands(self, d: dict) -> DecisionResult:
        v = self.value(d["input"])
        if v is None:
            return DecisionResult("insufficient_evidence")
        possible = {id(self.band_of(d, x)): self.band_of(d, x) for x in (v.values() if isinstance(v, Between) else [v])}
        if len(possible) > 1:
            return DecisionResult("insufficient_evidence")
        (band,) = possible.values()
        if band is None:
            return DecisionResult("no_value")
        return DecisionResult("decided", band["value"], [band["id"]])

    @staticmethod
    def band_of(d: dict, x: Any) -> dict | None:
        """The first band listed whose bounds hold the number (`min`, `max` inclusive, `below` exclusive)."""
        for b in d["bands"]:
            if ("min" not in b or x >= b["min"]) and ("max" not in b or x <= b["max"]) and ("below" not in b or x < b["below"]):
                return b
        return None

    def default(self, d: dict) -> DecisionResult:
        if "default" not in d:
            return DecisionResult("no_value")
        return DecisionResult("decided", d["default"]["value"], ["default"])

    def hit_first(self, d: dict, rows: list) -> DecisionResult:
        for r, held in rows:
            if held is None:
                return DecisionResult("insufficient_evidence")  # an earlier row that may hold comes first
            if held:
                return DecisionResult("decided", r["value"], [r["id"]])
        return self.default(d)

    def hit_unique(self, d: dict, rows: list) -> DecisionResult:
        hits = [r for r, held in rows if held is True]
        if len(hits) > 1:
            return DecisionResult("conflict", None, [r["id"] for r in hits])
        if hits:
            # "only one row may hold": the pack promises it, so a row that holds settles the decision
            # whatever the rows that cannot be checked say (two that hold are a conflict)
            return DecisionResult("decided", hits[0]["value"], [hits[0]["id"]])
        if any(held is None for _, held in rows):
            return DecisionResult("insufficient_evidence")
        return self.default(d)

    def rank(self, d: dict, value: Any) -> Any:
        scale = self.ref.scales.get(d.get("scale"))
        return scale.index(value) if scale is not None else value

    def hit_worst(self, d: dict, rows: list) -> DecisionResult:
        hits = [r for r, held in rows if held is True]
        open_rows = [r for r, held in rows if held is None]
        # every way the rows that cannot be checked could go, and the value each gives
        if hits:
            worst = max(self.rank(d, r["value"]) for r in hits)
            # a row that cannot be checked matters only if it could make the result worse
            if any(self.rank(d, r["value"]) > worst for r in open_rows):
                return DecisionResult("insufficient_evidence")
            return DecisionResult("decided", next(r["value"] for r in hits if self.rank(d, r["value"]) == worst),
                                  [r["id"] for r in hits if self.rank(d, r["value"]) == worst])
        fallback = self.default(d)
        # no row holds for certain: any open row that holds gives its own value instead of the default
        if any(fallback.status != "decided" or r["value"] != fallback.value for r in open_rows):
            return DecisionResult("insufficient_evidence")
        return fallback

    def hit_collect(self, d: dict, rows: list) -> DecisionResult:
        hits = [r for r, held in rows if held is True]
        values = sorted({r["value"] for r in hits}, key=lambda v: self.rank(d, v))
        if any(held is None for _, held in rows):
            return DecisionResult("insufficient_evidence", partial=values)
        if not hits and "default" in d:
            return DecisionResult("decided", [d["default"]["value"]], ["default"])
        return DecisionResult("decided", values, [r["id"] for r in hits])

    # ------------------------------------------------------------- outcomes

    def due(self, due: dict | None) -> tuple[date | None, date | None]:
        if due is None:
            return None, None
        source = due.get("from", "as_of")
        base = self.as_of if source == "as_of" else self.known(source)
        if base is None:
            return None, None
        if "after" in due:
            return None, self.ref.calendar.shift(base, due["after"], 1)
        if "before" in due:
            return None, self.ref.calendar.shift(base, due["before"], -1)
        if "day" in due:
            year, month = base.year, base.month
            if due["month"] == "next":
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            return None, date(year, month, min(due["day"], days_in_month(year, month)))
        first, last = MONTHS.index(due["months"][0]) + 1, MONTHS.index(due["months"][-1]) + 1
        year = base.year + (1 if due["year"] == "next" else 0)
        end_year = year + 1 if last < first else year  # a window across the new year ends in the next
        return date(year, first, 1), date(end_year, last, days_in_month(end_year, last))
