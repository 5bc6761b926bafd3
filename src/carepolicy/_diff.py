"""The impact of a policy edit: two versions of a pack over the same providers, compared decision by decision.

:func:`diff_packs` evaluates an old and a new version of a pack over each record and
reports which providers change outcome, from what to what (the headline's value,
status and severity, and every other decision), with the rules and clauses behind
each side, and the actions that start or stop applying. The two versions may be
evaluated as of one date (an edit in progress) or each as of its own date (two
versions in force on different dates: the comparison then also shows what the
passing of time changes, such as events leaving a window).

Records are read one at a time: :func:`compare` is a generator, so the command line
streams its report in flat memory; :class:`PolicyDiff` accumulates the counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ._bulk import Record, _at_line, _provider_id
from ._vocabulary import read_json
from .decision import Decision, DecisionResult
from .engine import PolicyPack, _as_date
from .errors import EvaluationError, EvidenceError, PolicyError
from .evidence import Evidence

__all__ = ["Side", "DecisionChange", "ProviderChange", "PolicyDiff", "diff_packs", "compare"]


@dataclass(frozen=True, slots=True)
class Side:
    """One decision's result under one version: its status, value and severity, and the rules and clauses behind it."""

    status: str
    value: Any
    severity: int | None
    rules: tuple[str, ...]
    sources: tuple[str, ...]

    @staticmethod
    def of(r: DecisionResult) -> Side:
        value = tuple(r.value) if isinstance(r.value, list) else r.value
        return Side(r.status, value, r.severity, tuple(r.rules), tuple(r.sources))

    @property
    def outcome(self) -> str:
        """The value as text when decided, otherwise the status (``insufficient evidence``, ``out of scope``...)."""
        if self.status != "decided":
            return self.status.replace("_", " ")
        if isinstance(self.value, tuple):
            return ", ".join(map(str, self.value)) if self.value else "none"
        return str(self.value)

    def key(self) -> tuple[Any, ...]:
        return (self.status, self.value, self.severity)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "value": list(self.value) if isinstance(self.value, tuple) else self.value,
                "severity": self.severity, "rules": list(self.rules), "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class DecisionChange:
    """One decision that differs between the versions (``None``: the decision does not exist in that version)."""

    decision: str
    before: Side | None
    after: Side | None

    @property
    def transition(self) -> tuple[str, str]:
        return (self.before.outcome if self.before else "(absent)", self.after.outcome if self.after else "(absent)")

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "before": self.before.to_dict() if self.before else None,
                "after": self.after.to_dict() if self.after else None}


@dataclass(frozen=True, slots=True)
class ProviderChange:
    """What the edit does to one provider: nothing, a change of decisions and actions, or a refusal on one side."""

    line: int | None
    provider_id: str | None
    headline: DecisionChange | None = None
    """The headline (its value, status or severity), when it changes."""
    decisions: tuple[DecisionChange, ...] = ()
    """Every decision whose value, status or severity changes (the headline among them)."""
    actions_added: tuple[str, ...] = ()
    actions_removed: tuple[str, ...] = ()
    refused_before: PolicyError | None = None
    refused_after: PolicyError | None = None
    file: str | None = None

    @property
    def changed(self) -> bool:
        """Any decision, action or refusal differs between the versions."""
        return bool(self.decisions or self.actions_added or self.actions_removed
                    or (self.refused_before is None) != (self.refused_after is None))

    @property
    def refused(self) -> bool:
        return self.refused_before is not None or self.refused_after is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file} if self.file is not None else {}
        out.update({"line": self.line, "provider_id": self.provider_id})
        if self.refused:
            out["refused"] = {side: None if e is None else {
                "message": str(e.args[0] if e.args else e), "diagnostics": [d.to_dict() for d in e.diagnostics]}
                for side, e in (("before", self.refused_before), ("after", self.refused_after))}
            return out
        out["headline"] = self.headline.to_dict() if self.headline else None
        out["decisions"] = [c.to_dict() for c in self.decisions]
        out["actions_added"] = list(self.actions_added)
        out["actions_removed"] = list(self.actions_removed)
        return out


@dataclass
class PolicyDiff:
    """The impact of moving from ``old`` to ``new`` over a population, and the changes (when kept)."""

    old: PolicyPack
    new: PolicyPack
    old_as_of: date
    new_as_of: date
    records: int = 0
    compared: int = 0
    """Records both versions decided (evidence valid for both, no evaluation error)."""
    refused: int = 0
    changed: int = 0
    """Providers for whom any decision, or the actions that apply, differ."""
    headline_changed: int = 0
    headline_transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    decision_transitions: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    actions_added: Counter[str] = field(default_factory=Counter)
    actions_removed: Counter[str] = field(default_factory=Counter)
    changes: list[ProviderChange] = field(default_factory=list)
    """Every provider that changes or was refused, in input order (``diff_packs(..., keep=False)`` keeps none)."""

    def add(self, change: ProviderChange, *, keep: bool = True) -> None:
        self.records += 1
        if change.refused:
            self.refused += 1
        else:
            self.compared += 1
        if change.changed and not change.refused:
            self.changed += 1
            if change.headline is not None:
                self.headline_changed += 1
                self.headline_transitions[change.headline.transition] += 1
            for c in change.decisions:
                self.decision_transitions.setdefault(c.decision, Counter())[c.transition] += 1
            self.actions_added.update(change.actions_added)
            self.actions_removed.update(change.actions_removed)
        if keep and (change.changed or change.refused):
            self.changes.append(change)

    def summary(self) -> dict[str, Any]:
        """The counts as plain JSON data."""
        def pairs(counter: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
            return [{"from": a, "to": b, "providers": n} for (a, b), n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]

        return {
            "old": _ref(self.old, self.old_as_of),
            "new": _ref(self.new, self.new_as_of),
            "records": self.records, "compared": self.compared, "refused": self.refused, "changed": self.changed,
            "headline_changed": self.headline_changed,
            "headline": pairs(self.headline_transitions),
            "decisions": {d: pairs(c) for d, c in sorted(self.decision_transitions.items())},
            "actions_added": dict(sorted(self.actions_added.items())),
            "actions_removed": dict(sorted(self.actions_removed.items())),
        }


def _ref(pack: PolicyPack, day: date) -> dict[str, Any]:
    return {"pack": pack.id, "version": pack.version, "sha256": pack.sha256, "file": pack.file, "as_of": day.isoformat()}


def compare(old: PolicyPack, new: PolicyPack, records: Iterable[Record | tuple[int, Record]],
            old_as_of: date | str, new_as_of: date | str) -> Iterator[ProviderChange]:
    """One :class:`ProviderChange` per record, lazily; refuses at once if a version is not in force on its date."""
    old_day, new_day = _as_date(old_as_of), _as_date(new_as_of)
    for pack, day, which in ((old, old_day, "old"), (new, new_day, "new")):
        if not pack.in_force(day):
            meta = pack.model.pack
            raise EvaluationError(
                f"the {which} pack `{pack.id}` v{pack.version} is not in force on {day.isoformat()} (in force "
                f"{meta.effective_from.isoformat()} to {meta.effective_to.isoformat() if meta.effective_to else 'now'})")
    numbered = (item if isinstance(item, tuple) else (n, item) for n, item in enumerate(records, 1))
    return _compare(old, new, numbered, old_day, new_day, None)


def _compare(old: PolicyPack, new: PolicyPack, records: Iterable[tuple[int | None, Any]], old_day: date, new_day: date,
             file: str | None) -> Iterator[ProviderChange]:
    for line, record in records:
        if isinstance(record, PolicyError):
            err = _at_line(record, file, line)
            yield ProviderChange(line, None, refused_before=err, refused_after=err, file=file)
            continue
        try:
            data = read_json(record, file) if isinstance(record, (str, bytes)) else record
        except EvidenceError as exc:
            err = _at_line(exc, file, line)
            yield ProviderChange(line, None, refused_before=err, refused_after=err, file=file)
            continue
        before, err_before = _decide(old, data, old_day, file, line)
        after, err_after = _decide(new, before.evidence if before else data, new_day, file, line)
        if err_after is not None and before is not None:  # refused by the new version: say so about the record itself
            after, err_after = _decide(new, data, new_day, file, line)
        provider = _provider_id(data)
        if before is None or after is None:
            yield ProviderChange(line, provider, refused_before=err_before, refused_after=err_after, file=file)
            continue
        yield _changes(line, provider, before.decision, after.decision, file)


@dataclass(frozen=True, slots=True)
class _Decided:
    evidence: Evidence
    decision: Decision


def _decide(pack: PolicyPack, data: Any, day: date, file: str | None,
            line: int | None) -> tuple[_Decided | None, PolicyError | None]:
    try:
        evidence = pack.parse_evidence(data, source=file)
        return _Decided(evidence, pack.evaluate(evidence, day)), None
    except (EvidenceError, EvaluationError) as exc:
        return None, _at_line(exc, file, line)


def _changes(line: int | None, provider: str | None, a: Decision, b: Decision, file: str | None) -> ProviderChange:
    old = {r.id: r for r in a.decisions}
    new = {r.id: r for r in b.decisions}
    changes = []
    for decision_id in [*old, *(k for k in new if k not in old)]:
        x = Side.of(old[decision_id]) if decision_id in old else None
        y = Side.of(new[decision_id]) if decision_id in new else None
        if x is None or y is None or x.key() != y.key():
            changes.append(DecisionChange(decision_id, x, y))
    hx, hy = Side.of(a.headline), Side.of(b.headline)
    headline = None
    if a.headline.id != b.headline.id or hx.key() != hy.key():
        headline = DecisionChange(b.headline.id if a.headline.id == b.headline.id else f"{a.headline.id} -> {b.headline.id}",
                                  hx, hy)
    acts_a = {x.id for x in (*a.actions, *a.approvals)}
    acts_b = {x.id for x in (*b.actions, *b.approvals)}
    return ProviderChange(line, provider, headline, tuple(changes), tuple(sorted(acts_b - acts_a)),
                          tuple(sorted(acts_a - acts_b)), file=file)


def diff_packs(
    old: PolicyPack,
    new: PolicyPack,
    records: Iterable[Evidence | Mapping[str, Any] | str | bytes | tuple[int, Record]],
    as_of: date | str | None = None,
    *,
    old_as_of: date | str | None = None,
    new_as_of: date | str | None = None,
    keep: bool = True,
) -> PolicyDiff:
    """The impact of replacing ``old`` by ``new`` over ``records``: which providers change, from what to what, and why.

    Both versions are evaluated as of ``as_of``; or ``old`` as of ``old_as_of`` and ``new``
    as of ``new_as_of`` (two versions in force on different dates). Each record is
    validated for each version: a record one version refuses is counted as refused, with
    the located error. ``keep=False`` keeps only the counts. Raises
    :class:`EvaluationError` when a version is not in force on its date.
    """
    d_old, d_new = old_as_of or as_of, new_as_of or as_of
    if d_old is None or d_new is None:
        raise EvaluationError("say as of when: give `as_of`, or both `old_as_of` and `new_as_of`")
    report = PolicyDiff(old, new, _as_date(d_old), _as_date(d_new))
    for change in compare(old, new, records, d_old, d_new):
        report.add(change, keep=keep)
    return report
