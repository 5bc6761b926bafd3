"""What an evaluation returns: a decision traceable to the pack version, its hash and each clause.

Every field is plain JSON; ``Decision.model_validate_json(d.model_dump_json())``
gives back an equal decision, so a council system can store it anywhere.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, TypeVar, Union

from pydantic import BaseModel, ConfigDict, Field

from ._jsonschema import finish_schema

__all__ = [
    "decision_json_schema",
    "Decision",
    "DecisionResult",
    "ActionItem",
    "MissingEvidence",
    "Bounds",
    "Settle",
    "SettleCase",
    "Margin",
    "PackRef",
    "TraceStep",
    "Judgement",
    "SEVERITY_LABELS",
]

SEVERITY_LABELS = {0: "none", 1: "low", 2: "moderate", 3: "high", 4: "critical"}

Status = Literal["decided", "insufficient_evidence", "no_value", "conflict", "out_of_scope"]
Value = Union[bool, int, float, str, list[Union[bool, int, float, str]], None]


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PackRef(_Result):
    """Which pack, exactly, made the decision."""

    id: str
    authority: str
    version: str
    sha256: str = Field(description="hash of the pack file's bytes")
    effective_from: date
    effective_to: date | None = None
    source_document: str
    file: str | None = None


class Judgement(_Result):
    """The document leaves this to professional judgement; the reason it gives."""

    rule: str
    reason: str


class Bounds(_Result):
    """The values a decision can still take, given the evidence that is known."""

    at_least: str | None = Field(description="the best value still possible: the decision is this or worse")
    at_most: str | None = Field(description="the worst value still possible")
    possible: list[str] = Field(description="every value still possible, best to worst")
    labels: list[str] = Field(default_factory=list, description="the scale's labels of `possible`, in the same order")
    no_value_possible: bool = Field(default=False, description="the evidence may yet leave no rule applying")
    severity_min: int | None = None
    severity_max: int | None = None
    exact: bool = Field(description="true: every value listed is reached by some completion of the missing evidence; "
                                    "false: a sound range whose ends may not be reachable")


class SettleCase(_Result):
    when: str = Field(description="the missing input's value (`= none`) or range (`20 to 27`)")
    value: Value = Field(default=None, description="what the decision would then be (null: no rule would apply)")
    label: str | None = None


class Settle(_Result):
    """What one missing input would make of an open decision."""

    input: str
    path: str
    cases: list[SettleCase]


class Margin(_Result):
    """How far a number decided by bands is from the neighbouring bands."""

    input: str
    value: float
    band: str
    next_up: str | None = Field(default=None, description="the band of higher numbers next to this one")
    up_at: float | None = Field(default=None, description="where it starts")
    up_distance: float | None = Field(default=None, description="how far the value is from it")
    next_down: str | None = Field(default=None, description="the band of lower numbers next to this one")
    down_at: float | None = Field(default=None, description="where it ends (below `down_at` when it has `below:`)")
    down_distance: float | None = None

    def words(self) -> str:
        parts = []
        if self.next_up is not None:
            parts.append(f"{_num(self.up_distance)} below `{self.next_up}` (from {_num(self.up_at)})")
        if self.next_down is not None:
            parts.append(f"{_num(self.down_distance)} above `{self.next_down}` (to {_num(self.down_at)})")
        return f"`{self.input}` = {_num(self.value)}: " + ", ".join(parts) if parts else ""


def _num(x: float | None) -> str:
    return "?" if x is None else (str(int(x)) if float(x).is_integer() else str(x))


class DecisionResult(_Result):
    """One decision of the pack (a tier, a rating, a list of activities...)."""

    id: str
    title: str | None = None
    status: Status
    value: Value = None
    label: str | None = Field(default=None, description="the scale's label for the value")
    severity: int | None = Field(default=None, description="common severity 0 none .. 4 critical, where the scale gives one")
    rules: list[str] = Field(default_factory=list, description="ids of the rules (bands, rows) that produced the value")
    sources: list[str] = Field(default_factory=list, description="the clauses those rules cite")
    judgement: bool = False
    judgements: list[Judgement] = Field(default_factory=list)
    undetermined: list[str] = Field(default_factory=list, description="rules that could not be checked for lack of evidence")
    missing: list[str] = Field(default_factory=list, description="inputs whose absence leaves this decision open")
    bounds: Bounds | None = Field(default=None, description="for a decision on an ordered scale: the values still possible")
    settle: list[Settle] = Field(default_factory=list, description="for an open decision: what each missing input would make of it")
    margin: Margin | None = Field(default=None, description="for a number decided by bands: how far it is from the next")
    explanation: str = ""


class ActionItem(_Result):
    """Something that must happen: an action, review, notification, approval, recommendation or warning."""

    id: str
    kind: str
    text: str
    roles: list[str] = Field(default_factory=list)
    due: date | None = Field(default=None, description="the date it is due by")
    due_from: date | None = Field(default=None, description="for a window in the calendar: the first day it counts")
    due_rule: str | None = Field(default=None, description="how the due date was set, e.g. `6 weeks after 2026-01-05`")
    quorum: dict[str, Any] | None = None
    source: str
    judgement: str | None = None
    certain: bool = Field(default=True, description="false when missing evidence means it may or may not apply")
    missing: list[str] = Field(default_factory=list)


class MissingEvidence(_Result):
    input: str
    path: str
    needed_by: list[str]


class TraceStep(_Result):
    decision: str
    rule: str
    result: Literal["true", "false", "unknown"]


class Decision(_Result):
    """The full, explained result of evaluating one pack over one provider's evidence."""

    pack: PackRef
    provider_id: str
    provider_name: str
    as_of: date
    status: Status = Field(description="the headline decision's status: `decided` when settled, `insufficient_evidence`, "
                                       "`no_value` (no rule applies, e.g. a number in a declared gap), `conflict` "
                                       "(rows that may not both hold do) or `out_of_scope`")
    headline: DecisionResult
    severity: int | None = Field(default=None, description="the headline's common severity, 0 none .. 4 critical")
    severity_label: str | None = None
    decisions: list[DecisionResult]
    actions: list[ActionItem] = Field(default_factory=list)
    approvals: list[ActionItem] = Field(default_factory=list)
    warnings: list[ActionItem] = Field(
        default_factory=list, description="the pack's own warnings (kind `warning`) and contradictions between findings "
                                          "(kind `consistency`), each with its clause")
    notes: list[str] = Field(default_factory=list, description="what the engine noticed: a scope rule it could not "
                                                                "check, a due date it could not set")
    missing: list[MissingEvidence] = Field(default_factory=list)
    judgement: bool = Field(default=False, description="some part of this decision is left to professional judgement")
    judgement_matters: bool = Field(
        default=False, description="the headline rests on a band or row the document leaves to judgement and the "
                                   "evidence sits at its edge, or on a rule flagged judgement itself, or on findings "
                                   "that contradict each other: worth a professional's look")
    judgement_why: str | None = Field(default=None, description="why `judgement_matters`, in words")
    out_of_scope: list[str] = Field(default_factory=list)
    calendar: str
    engine: str
    trace: list[TraceStep] = Field(default_factory=list)

    def decision(self, decision_id: str) -> DecisionResult:
        for d in self.decisions:
            if d.id == decision_id:
                return d
        raise KeyError(decision_id)

    def to_json(self, *, indent: int | None = 2) -> str:
        """Canonical JSON (sorted keys) so identical decisions have identical text."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=indent)

    def explain(self) -> str:
        """A readable account of the decision for a person."""
        lines = [
            f"{self.pack.authority} — {self.pack.id} v{self.pack.version} (sha256 {self.pack.sha256[:12]}) "
            f"as of {self.as_of.isoformat()}",
            f"provider {self.provider_name} ({self.provider_id}): {self.status.replace('_', ' ')}",
        ]
        if self.out_of_scope:
            lines += [f"  out of scope: {r}" for r in self.out_of_scope]
        for d in self.decisions:
            lines.append(f"  {d.id}: {d.explanation}")
        for a in self.actions:
            if not a.certain:
                continue
            due = f" (due {a.due.isoformat()}: {a.due_rule})" if a.due else ""
            roles = f" -> {', '.join(a.roles)}" if a.roles else ""
            lines.append(f"  {a.kind}: {a.text}{roles}{due} [{a.source}]")
        # what may apply, grouped by the missing input that holds it: a few causes, not dozens of lines
        held: dict[str, list[str]] = {}
        for a in self.actions:
            if not a.certain:
                held.setdefault(", ".join(f"`{m}`" for m in a.missing) or "evidence", []).append(f"`{a.id}`")
        for missing, ids in sorted(held.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            lines.append(f"  may apply once {missing} {'is' if ',' not in missing else 'are'} known: "
                         f"{len(ids)} item{'s' if len(ids) != 1 else ''} ({', '.join(ids)})")
        for w in self.warnings:
            maybe = " [may apply: missing " + ", ".join(w.missing) + "]" if not w.certain else ""
            lines.append(f"  {w.kind}: {w.text} [{w.source}]{maybe}")
        for n in self.notes:
            lines.append(f"  note: {n}")
        if self.missing:
            lines.append("  missing evidence: " + ", ".join(f"{m.input} ({m.path})" for m in self.missing))
        return "\n".join(lines)


_M = TypeVar("_M", bound=BaseModel)
_FIELDS: dict[type[BaseModel], tuple[tuple[str, ...], tuple[tuple[str, Any, Any], ...]]] = {}


def _fields(cls: type[BaseModel]) -> tuple[tuple[str, ...], tuple[tuple[str, Any, Any], ...]]:
    found = _FIELDS.get(cls)
    if found is None:  # the same for every caller, so a race only computes it twice
        fields = cls.model_fields
        found = _FIELDS[cls] = (tuple(fields), tuple((name, f.default, f.default_factory) for name, f in fields.items()))
    return found


def _construct(cls: type[_M], **values: Any) -> _M:
    """A result model made from values the engine already made of the field types, without validating them again.

    The instance is the one ``cls(**values)`` gives (the same fields in the same order, defaults filled in,
    the same fields set), for the result models whose fields are plain (no coercion: str, bool, int, dates,
    lists, other result models). ``tests/test_lean.py`` checks decisions made so equal to their validated copies.
    """
    names, fields = _fields(cls)
    if tuple(values) == names:  # every field given, in order (the engine's usual call)
        data = values
    else:
        data = {}
        for name, default, factory in fields:
            if name in values:
                data[name] = values[name]
            else:
                data[name] = factory() if factory is not None else default
    m = cls.__new__(cls)
    object.__setattr__(m, "__dict__", data)
    object.__setattr__(m, "__pydantic_fields_set__", set(values))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


def decision_json_schema() -> dict[str, Any]:
    """JSON Schema of a :class:`Decision` as ``to_json()`` writes it."""
    return finish_schema(Decision.model_json_schema(), "carepolicy decision")
