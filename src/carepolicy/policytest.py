"""Policy tests written in YAML beside each pack, run by ``carepolicy test`` and by pytest.

A tests file (``policies/<name>.tests.yaml``) names its pack, an optional
``base_evidence`` merged under every case, and ``cases``: evidence, an as-of date
and what is expected. Only what a case states is checked, so a case reads like
the sentence of the policy it proves. Results are data; reporters render them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ._jsonschema import finish_schema
from ._suggest import did_you_mean
from ._yaml import format_path, read_yaml
from .decision import Decision
from .engine import PolicyPack
from .errors import Diagnostic, EvaluationError, EvidenceError, PackLoadError, PolicyError, TransitionError
from .lifecycle import ApprovalGiven, TriggerRef, advance, open_case
from .loader import load_pack, read_file, schema_diagnostics
from .models import PackDate

__all__ = ["TestCase", "TestFile", "CaseResult", "load_tests", "run_tests", "run_file", "tests_json_schema"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, populate_by_name=True)


# Every list and text of a tests file is bounded, generously (the largest shipped file has 95 cases).
Words = Annotated[str, Field(min_length=1, max_length=2000)]
Names = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=500)]


class DecisionExpect(_Spec):
    """What to expect of one decision; a bare value is short for ``{value: ...}``."""

    value: Any = None
    status: Literal["decided", "insufficient_evidence", "no_value", "conflict", "out_of_scope"] | None = None
    rules: Names | None = Field(default=None, description="rule ids that must have produced the value (exactly)")
    judgement: bool | None = None
    missing: Names | None = Field(default=None, description="inputs that must be named as missing (exactly)")
    severity: int | None = None
    at_least: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="the best value still possible (the bounds of an open decision)")
    at_most: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="the worst value still possible")
    possible: Names | None = Field(default=None, description="every value still possible, best to worst (exactly)")


class Expect(_Spec):
    status: Literal["decided", "insufficient_evidence", "no_value", "conflict", "out_of_scope"] | None = None
    severity: int | None = None
    decisions: dict[str, Any] = Field(default_factory=dict)
    actions: Names | None = Field(default=None, description="outcome ids that must apply (others may too)")
    not_actions: Names | None = Field(default=None, description="outcome ids that must not apply")
    uncertain_actions: Names | None = Field(default=None, description="outcome ids that may apply, for lack of evidence")
    due: dict[str, PackDate] = Field(default_factory=dict, description="outcome id -> its due date")
    due_from: dict[str, PackDate] = Field(default_factory=dict,
                                          description="outcome id -> the first day of its window (calendar windows)")
    judgement: bool | None = None
    judgement_actions: Names | None = Field(default=None, description="outcome ids that must apply flagged as professional judgement")
    missing: Names | None = Field(default=None, description="inputs that must be reported missing (exactly)")
    warnings_contain: Annotated[list[Words], Field(max_length=100)] | None = None


class TestCase(_Spec):
    __test__: ClassVar[bool] = False
    name: Words
    as_of: PackDate
    evidence: dict[str, Any] = Field(default_factory=dict)
    expect: Expect
    todo: bool = Field(default=False, description="a case not yet expected to pass: reported as skipped")
    source: Words | None = None


class WalkStep(_Spec):
    """One move on the ladder: a transition id or a trigger, with what the move needs."""

    on: PackDate
    transition: Annotated[str, Field(max_length=200)] | None = None
    trigger: TriggerRef | None = Field(default=None, description="`{kind, name}`: let the ladder pick the move")
    evidence: dict[str, Any] = Field(default_factory=dict, description="merged over the walk's evidence")
    approvals: Annotated[list[ApprovalGiven], Field(max_length=100)] = Field(default_factory=list,
                                                                             description="`[{role, by}]`")
    attendees: Names = Field(default_factory=list)
    override: Words | None = None
    note: Words | None = None
    refused: Annotated[str, Field(max_length=20)] | None = Field(
        default=None, description="the move must be refused with this code, e.g. CP506")
    state: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="the state the case must be in after the step (after a refusal: "
                                                "the state it stayed in)")
    warnings_contain: Annotated[list[Words], Field(max_length=100)] | None = Field(
        default=None, description="texts each found in a warning that certainly holds")
    uncertain_warnings_contain: Annotated[list[Words], Field(max_length=100)] | None = Field(
        default=None, description="texts each found in a warning recorded as not checked, for lack of evidence")


class Walk(_Spec):
    """A provider's case walked along the ladder, step by step."""

    __test__: ClassVar[bool] = False
    name: Words
    opened_on: PackDate
    evidence: dict[str, Any] = Field(default_factory=dict, description="merged over `base_evidence`")
    steps: Annotated[list[WalkStep], Field(min_length=1, max_length=500)]
    due: dict[str, PackDate] | None = Field(
        default=None, description="every deadline running at the end, id -> due date (exactly: `{}` means none is running)")
    todo: bool = False


class TestFile(_Spec):
    __test__: ClassVar[bool] = False
    pack: Annotated[str, Field(min_length=1, max_length=400, description="the pack's file, relative to this file")]
    base_evidence: dict[str, Any] = Field(default_factory=dict)
    cases: Annotated[list[TestCase], Field(min_length=1, max_length=5000)]
    walks: Annotated[list[Walk], Field(max_length=1000)] = Field(default_factory=list)


def tests_json_schema() -> dict[str, Any]:
    """JSON Schema of a tests file (``<pack>.tests.yaml``), for editors; ``carepolicy schema tests`` prints it."""
    return finish_schema(TestFile.model_json_schema(by_alias=True), "carepolicy policy tests")


@dataclass
class CaseResult:
    file: str
    name: str
    outcome: Literal["passed", "failed", "skipped", "error"]
    failures: list[str] = field(default_factory=list)
    decision: Decision | None = None
    evidence: dict[str, Any] | None = None
    transitions: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("passed", "skipped")


def merge(base: Any, over: Any) -> Any:
    """Deep-merge ``over`` onto ``base``: mappings merge, anything else replaces (``null`` removes)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


def load_tests(path: str | os.PathLike[str]) -> tuple[TestFile, Path]:
    """Parse a tests file (strict YAML, located errors) and return it with its pack's path."""
    spec, pack_path, _ = _read_tests(path)
    return spec, pack_path


def check_file(path: str | os.PathLike[str], pack: PolicyPack | None = None) -> tuple[TestFile, PolicyPack, list[Diagnostic]]:
    """Read a tests file and its pack, and check the one against the other (see :func:`check_tests`)."""
    spec, pack_path, positions = _read_tests(path)
    if pack is None:
        pack = load_pack(pack_path)
    return spec, pack, check_tests(spec, pack, os.fspath(path), positions)


def _read_tests(path: str | os.PathLike[str]) -> tuple[TestFile, Path, Any]:
    name = os.fspath(path)
    raw = read_file(name)  # a regular file within the size limit, or a located CP100/CP102
    data, positions = read_yaml(raw, name)
    try:
        spec = TestFile.model_validate(data)
    except ValidationError as exc:
        raise PackLoadError(f"{name}: not a valid tests file",
                            schema_diagnostics(exc, data, positions, name, raw.decode("utf-8", "replace"))) from None
    return spec, (Path(name).parent / spec.pack), positions


def run_file(path: str | os.PathLike[str], pack: PolicyPack | None = None) -> list[CaseResult]:
    spec, pack, problems = check_file(path, pack)
    problems = [d for d in problems if d.code != "CP232"]  # bad evidence fails its own case when it runs
    if problems:
        raise PackLoadError(f"{os.fspath(path)}: the tests do not fit pack `{pack.id}`", problems)
    return [run_case(pack, spec, case, os.fspath(path)) for case in spec.cases] + [
        run_walk(pack, spec, walk, os.fspath(path)) for walk in spec.walks]


def run_tests(paths: Iterable[str | os.PathLike[str]]) -> list[CaseResult]:
    results: list[CaseResult] = []
    for p in paths:
        results.extend(run_file(p))
    return results


def run_case(pack: PolicyPack, spec: TestFile, case: TestCase, file: str) -> CaseResult:
    evidence = merge(spec.base_evidence, case.evidence)
    try:
        decision = pack.evaluate(evidence, case.as_of)
    except (EvidenceError, EvaluationError) as exc:
        outcome: Literal["skipped", "error"] = "skipped" if case.todo else "error"
        return CaseResult(file, case.name, outcome, [str(exc)])
    failures = check(decision, case.expect)
    if case.todo:
        return CaseResult(file, case.name, "skipped", failures, decision, evidence)
    return CaseResult(file, case.name, "failed" if failures else "passed", failures, decision, evidence)


def run_walk(pack: PolicyPack, spec: TestFile, walk: Walk, file: str) -> CaseResult:
    """Walk a case along the ladder; every step is checked, refusals included.

    A refused step leaves the case where it was, so its ``state`` is checked against the
    unchanged state. A step that cannot even be read as a move (invalid evidence, say)
    fails the walk at that step.
    """
    base = merge(spec.base_evidence, walk.evidence)
    name = f"walk: {walk.name}"
    failures: list[str] = []
    taken: list[str] = []
    try:
        case = open_case(pack, base.get("provider", {}).get("id", "provider"), walk.opened_on)
    except PolicyError as exc:
        return CaseResult(file, name, "error", [str(exc)])
    for i, step in enumerate(walk.steps, 1):
        event: dict[str, Any] = {"on": step.on, "evidence": merge(base, step.evidence),
                                 "approvals": step.approvals, "attendees": step.attendees}
        for key in ("transition", "trigger", "override", "note"):
            if getattr(step, key) is not None:
                event[key] = getattr(step, key)
        what = step.transition or (step.trigger.name or step.trigger.kind if step.trigger else None) or "move"
        try:
            after = advance(pack, case, event)
        except TransitionError as exc:
            codes = [d.code for d in exc.diagnostics]
            if step.refused is None:
                failures.append(f"step {i} `{what}` on {step.on}: refused: " + "; ".join(d.message for d in exc.diagnostics))
                break
            if step.refused not in codes:
                failures.append(f"step {i} `{what}`: expected refusal {step.refused}, got {', '.join(codes)}")
            if step.state is not None and case.state != step.state:
                failures.append(f"step {i} `{what}`: refused, so the case stayed at `{case.state}`, not `{step.state}`")
            continue
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}"
                                 for e in exc.errors(include_url=False))
            failures.append(f"step {i} `{what}` on {step.on}: not a valid move: {problems}")
            break
        except EvidenceError as exc:
            problems = "; ".join(f"{d.path}: {d.message}" for d in exc.diagnostics)
            failures.append(f"step {i} `{what}` on {step.on}: not a valid move: {problems}")
            break
        except PolicyError as exc:
            failures.append(f"step {i} `{what}`: {exc}")
            break
        if step.refused is not None:
            failures.append(f"step {i} `{what}`: expected refusal {step.refused}, but the case moved to `{after.state}`")
        case = after
        entry = case.history[-1]
        if entry.transition:
            taken.append(entry.transition)
        if step.state is not None and case.state != step.state:
            failures.append(f"step {i} `{what}`: expected state `{step.state}`, got `{case.state}`")
        for text in step.warnings_contain or []:
            if not any(text in w.message for w in entry.warnings if w.certain):
                maybe = any(text in w.message for w in entry.warnings)
                failures.append(f"step {i} `{what}`: no warning that holds contains {text!r}"
                                + (" (one does, but it could not be checked: use `uncertain_warnings_contain`)" if maybe else ""))
        for text in step.uncertain_warnings_contain or []:
            if not any(text in w.message for w in entry.warnings if not w.certain):
                failures.append(f"step {i} `{what}`: no unchecked warning contains {text!r}")
    if walk.due is not None:
        running = {d.id: d.due for d in case.deadlines}
        for deadline, when in walk.due.items():
            if deadline not in running:
                failures.append(f"deadline `{deadline}`: expected due {when.isoformat()}, but it is not running")
            elif running[deadline] != when:
                failures.append(f"deadline `{deadline}`: expected due {when.isoformat()}, got {running[deadline].isoformat()}")
        for deadline in sorted(running.keys() - walk.due.keys()):
            failures.append(f"deadline `{deadline}` (due {running[deadline].isoformat()}) is running, but `due` does not list it")
    outcome: Literal["passed", "failed", "skipped"] = "skipped" if walk.todo else ("failed" if failures else "passed")
    return CaseResult(file, name, outcome, failures, transitions=taken)


def check(d: Decision, e: Expect) -> list[str]:
    """Every way the decision differs from what the case expects."""
    out: list[str] = []

    def same(what: str, expected: Any, got: Any) -> None:
        if expected is not None and expected != got:
            out.append(f"{what}: expected {expected!r}, got {got!r}")

    same("status", e.status, d.status)
    same("severity", e.severity, d.severity)
    same("judgement", e.judgement, d.judgement)
    if e.missing is not None:
        same("missing", sorted(e.missing), sorted(m.input for m in d.missing))
    for did, want in e.decisions.items():
        try:
            got = d.decision(did)
        except KeyError:
            out.append(f"decision `{did}`: no such decision in the pack")
            continue
        exp = DecisionExpect.model_validate(want) if isinstance(want, dict) else DecisionExpect(value=want)
        if exp.value is not None:
            want_value = sorted(exp.value, key=str) if isinstance(exp.value, list) else exp.value
            got_value = sorted(got.value, key=str) if isinstance(got.value, list) else got.value
            if want_value != got_value or (exp.status is None and got.status != "decided"):
                out.append(f"decision `{did}`: expected {exp.value!r}, got {got.value!r} ({got.status}: {got.explanation})")
        same(f"decision `{did}` status", exp.status, got.status)
        same(f"decision `{did}` rules", exp.rules, got.rules)
        same(f"decision `{did}` judgement", exp.judgement, got.judgement)
        same(f"decision `{did}` severity", exp.severity, got.severity)
        if exp.missing is not None:
            same(f"decision `{did}` missing", sorted(exp.missing), sorted(set(m.split("[")[0] for m in got.missing)))
        bounds = got.bounds
        same(f"decision `{did}` at_least", exp.at_least, bounds.at_least if bounds else None)
        same(f"decision `{did}` at_most", exp.at_most, bounds.at_most if bounds else None)
        same(f"decision `{did}` possible", exp.possible, bounds.possible if bounds else None)
    fired = {a.id: a for a in [*d.actions, *d.approvals, *d.warnings]}
    certain = {k for k, a in fired.items() if a.certain}
    for a in e.actions or []:
        if a not in certain:
            why = " (only possibly: missing " + ", ".join(fired[a].missing) + ")" if a in fired else ""
            out.append(f"outcome `{a}`: expected it to apply, it did not{why}")
    for a in e.not_actions or []:
        if a in fired:
            out.append(f"outcome `{a}`: expected it not to apply, it did")
    for a in e.uncertain_actions or []:
        if a not in fired or fired[a].certain:
            out.append(f"outcome `{a}`: expected it to be uncertain for lack of evidence")
    for a in e.judgement_actions or []:
        if a not in fired or not fired[a].judgement:
            out.append(f"outcome `{a}`: expected it to apply flagged as professional judgement")
    for a, when in e.due.items():
        if a not in fired:
            out.append(f"outcome `{a}`: expected due {when}, but it did not apply")
        elif fired[a].due != when:
            due_on = fired[a].due
            got_due = due_on.isoformat() if due_on else None
            out.append(f"outcome `{a}`: expected due {when.isoformat()}, got {got_due} ({fired[a].due_rule})")
    for a, when in e.due_from.items():
        if a not in fired:
            out.append(f"outcome `{a}`: expected a window from {when}, but it did not apply")
        elif fired[a].due_from != when:
            start = fired[a].due_from
            out.append(f"outcome `{a}`: expected a window from {when.isoformat()}, "
                       f"got {start.isoformat() if start else None} ({fired[a].due_rule})")
    for text in e.warnings_contain or []:
        if not any(text in w for w in [*(x.text for x in d.warnings), *d.notes]):
            out.append(f"warnings: none contains {text!r}")
    return out


def report(results: list[CaseResult], *, verbose: bool = False) -> str:
    """OPA/cedar style: a line per failure (or per case with ``verbose``), then totals."""
    lines = []
    for r in results:
        if r.outcome == "passed" and not verbose:
            continue
        mark = {"passed": "ok", "failed": "FAIL", "skipped": "todo", "error": "ERROR"}[r.outcome]
        lines.append(f"{mark:5} {r.file}: {r.name}")
        if r.outcome in ("failed", "error"):
            lines.extend(f"      {f}" for f in r.failures)
    passed = sum(r.outcome == "passed" for r in results)
    failed = sum(r.outcome in ("failed", "error") for r in results)
    skipped = sum(r.outcome == "skipped" for r in results)
    lines.append(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return "\n".join(lines)


def discover(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(path.glob("*.tests.yaml")))
        elif path.name.endswith(".yaml") and not path.name.endswith(".tests.yaml"):
            sibling = path.with_name(path.name[: -len(".yaml")] + ".tests.yaml")
            if sibling.exists():
                out.append(sibling)
        else:
            out.append(path)
    return out


def run_paths(paths: Iterable[str | os.PathLike[str]]) -> list[CaseResult]:
    """Run every tests file found under ``paths``; a pack that fails to load fails its file's cases."""
    return [r for _, results in run_paths_by_pack(paths) for r in results]


def run_paths_by_pack(paths: Iterable[str | os.PathLike[str]]) -> list[tuple[PolicyPack | None, list[CaseResult]]]:
    """Like :func:`run_paths`, keeping each file's results with the pack they ran against."""
    out: list[tuple[PolicyPack | None, list[CaseResult]]] = []
    for f in discover(paths):
        try:
            pack, results = _run_checked(f)
            out.append((pack, results))
        except PolicyError as exc:
            out.append((None, [CaseResult(os.fspath(f), "(loading)", "error", [str(exc)])]))
    return out


def _run_checked(f: Path) -> tuple[PolicyPack, list[CaseResult]]:
    spec, pack, problems = check_file(f)
    # evidence a case cannot use fails that case when it runs; what the file cannot mean stops it
    problems = [d for d in problems if d.code != "CP232"]
    if problems:
        raise PackLoadError(f"{os.fspath(f)}: the tests do not fit pack `{pack.id}`", problems)
    results = [run_case(pack, spec, case, os.fspath(f)) for case in spec.cases]
    results += [run_walk(pack, spec, walk, os.fspath(f)) for walk in spec.walks]
    return pack, results


# ----------------------------------------------------------------- checking a tests file against its pack


def check_tests(spec: TestFile, pack: PolicyPack, file: str, positions: Any = None) -> list[Diagnostic]:
    """Everything a tests file says that its pack cannot mean, located: unknown decision,
    outcome and transition ids, expectations that are not expectations, dates outside the
    pack's period, and evidence that is not valid for the pack."""
    out: list[Diagnostic] = []
    decisions = [d.id for d in pack.model.decisions]
    outcomes = [o.id for o in pack.model.outcomes] + [c.id for c in pack.model.consistency]
    transitions = [t.id for t in pack.model.ladder.transitions] if pack.model.ladder else []
    meta = pack.model.pack

    def add(code: str, message: str, path: tuple[Any, ...], hint: str | None = None) -> None:
        mark = positions.value(path) if positions is not None else None
        out.append(Diagnostic(code=code, message=message, file=file, line=mark.line if mark else None,
                              col=mark.col if mark else None, path=format_path(path), hint=hint))

    def dated(day: Any, path: tuple[Any, ...]) -> None:
        if not pack.in_force(day):
            add("CP231", f"{day.isoformat()} is outside the period pack `{pack.id}` v{pack.version} is in force "
                f"({meta.effective_from.isoformat()} to {meta.effective_to.isoformat() if meta.effective_to else 'now'})",
                path, "test a date the pack is in force, or the version in force that day")

    def evidence(record: Any, path: tuple[Any, ...]) -> None:
        try:
            pack.parse_evidence(record)
        except EvidenceError as exc:
            for d in exc.diagnostics:
                inner = tuple(int(p) if p.isdigit() else p for p in d.path.replace("[", ".").replace("]", "").split(".")
                              if p and p != "$")
                where = path + inner if _has(positions, path + inner) else path
                add("CP232", f"evidence at `{d.path}`: {d.message}", where, d.hint)

    for i, case in enumerate(spec.cases):
        cpath: tuple[Any, ...] = ("cases", i)
        dated(case.as_of, cpath + ("as_of",))
        evidence(merge(spec.base_evidence, case.evidence), cpath + ("evidence",))
        e = case.expect
        for name, want in e.decisions.items():
            if name not in decisions:
                add("CP230", f"`{name}` is not a decision of pack `{pack.id}`", cpath + ("expect", "decisions", name),
                    did_you_mean(name, decisions))
            elif isinstance(want, dict):
                try:
                    DecisionExpect.model_validate(want)
                except ValidationError as exc:
                    for err in exc.errors(include_url=False, include_input=False):
                        loc = tuple(err["loc"])
                        message = str(err["msg"])
                        add("CP230", f"expectation of `{name}`: {message[:1].lower() + message[1:]}",
                            cpath + ("expect", "decisions", name) + loc)
        for key in ("actions", "not_actions", "uncertain_actions", "judgement_actions"):
            for j, oid in enumerate(getattr(e, key) or []):
                if oid not in outcomes:
                    add("CP230", f"`{oid}` is not an outcome of pack `{pack.id}`", cpath + ("expect", key, j),
                        did_you_mean(oid, outcomes))
        for key in ("due", "due_from"):
            for oid in getattr(e, key):
                if oid not in outcomes:
                    add("CP230", f"`{oid}` is not an outcome of pack `{pack.id}`", cpath + ("expect", key, oid),
                        did_you_mean(oid, outcomes))
    for i, walk in enumerate(spec.walks):
        wpath: tuple[Any, ...] = ("walks", i)
        dated(walk.opened_on, wpath + ("opened_on",))
        base = merge(spec.base_evidence, walk.evidence)
        for j, step in enumerate(walk.steps):
            spath = wpath + ("steps", j)
            dated(step.on, spath + ("on",))
            if step.transition is not None and step.transition not in transitions:
                add("CP230", f"`{step.transition}` is not a transition of pack `{pack.id}`", spath + ("transition",),
                    did_you_mean(step.transition, transitions))
            if step.evidence:
                evidence(merge(base, step.evidence), spath + ("evidence",))
    return out


def _has(positions: Any, path: tuple[Any, ...]) -> bool:
    return positions is not None and positions.has(path)
