"""What an evaluation returns: a decision traceable to the pack version, its hash and each clause.

Every field is plain JSON; ``Decision.model_validate_json(d.model_dump_json())``
gives back an equal decision, so a council system can store it anywhere.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from ._jsonschema import finish_schema

__all__ = [
    "decision_json_schema",
    "Decision",
    "DecisionResult",
    "ActionItem",
    "MissingEvidence",
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
    warnings: list[str] = Field(default_factory=list)
    missing: list[MissingEvidence] = Field(default_factory=list)
    judgement: bool = Field(default=False, description="some part of this decision is left to professional judgement")
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
            due = f" (due {a.due.isoformat()}: {a.due_rule})" if a.due else ""
            maybe = " [may apply: missing " + ", ".join(a.missing) + "]" if not a.certain else ""
            roles = f" -> {', '.join(a.roles)}" if a.roles else ""
            lines.append(f"  {a.kind}: {a.text}{roles}{due} [{a.source}]{maybe}")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        if self.missing:
            lines.append("  missing evidence: " + ", ".join(f"{m.input} ({m.path})" for m in self.missing))
        return "\n".join(lines)


def decision_json_schema() -> dict[str, Any]:
    """JSON Schema of a :class:`Decision` as ``to_json()`` writes it."""
    return finish_schema(Decision.model_json_schema(), "carepolicy decision")
