"""Evaluate a compiled pack over provider evidence as of a date.

A :class:`PolicyPack` is immutable and holds the closures compiled once at load
time; evaluation builds a fresh context per call, reads no clock and keeps no
global state, so one pack may be shared by any number of threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from ._version import __version__
from ._bounds import NO_VALUE, Analysis, Budget, prepare
from ._bounds import analyse as _analyse
from ._check import pack_conditions
from ._lean import headline as _lean_headline
from ._lean import plan as _lean_plan
from ._compile import Compiler, Cond, Ctx, Tri, compile_decision, due_date, feed
from ._time import Calendar, parse_date
from ._vocabulary import EvidenceModels, InputSpec, resolve_inputs
from .decision import (
    SEVERITY_LABELS,
    ActionItem,
    Bounds,
    Decision,
    DecisionResult,
    Judgement,
    Margin,
    MissingEvidence,
    PackRef,
    Settle,
    SettleCase,
    TraceStep,
    _construct,
)
from .errors import Diagnostic, EvaluationError, PackLoadError
from .evidence import EARLIEST, LATEST, Evidence
from .models import AllOf, AnyOf, BandsDecision, NotOf, Pack, Test

__all__ = ["PolicyPack", "PackLibrary", "evaluate"]

_TRI = {True: "true", False: "false", None: "unknown"}



def _fmt(x: Any) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


class PolicyPack:
    """A loaded, checked and compiled policy pack. Create it with :func:`carepolicy.load_pack`."""

    __slots__ = ("model", "sha256", "file", "calendar", "inputs", "_ref", "_decisions", "_outcomes", "_scope",
                 "_rule_source", "_rule_text", "_labels", "_severity", "_input_paths", "_compiler", "_vocabulary",
                 "_facts", "_consistency", "_conditions", "_lean", "_covered", "_steps", "_witness")

    def __init__(self, model: Pack, sha256: str, file: str | None = None) -> None:
        self.model = model
        self.sha256 = sha256
        self.file = file
        spec = model.calendar
        self.calendar = Calendar(region=spec.region, closures=tuple(spec.closures), count_from=spec.count_from)
        meta = model.pack
        self._ref = PackRef(
            id=meta.id, authority=meta.authority.name, version=meta.version, sha256=sha256,
            effective_from=meta.effective_from, effective_to=meta.effective_to,
            source_document=meta.source_document.title + (f" ({meta.source_document.version})" if meta.source_document.version else ""),
            file=file,
        )
        specs, problems = resolve_inputs(model)
        if problems:  # the loader checks packs first; a model built by hand gets the same refusal
            raise PackLoadError(f"pack `{meta.id}` reads evidence it does not declare", [
                Diagnostic(code=code, message=message, file=file, path=".".join(map(str, path)), hint=hint)
                for code, message, path, hint in problems])
        self.inputs: dict[str, InputSpec] = specs
        """What the pack reads: every input resolved to its place in evidence (or its formula) and its type."""
        self._vocabulary = _vocabulary([self], name=_model_name(meta.id))
        c = Compiler(model, self.calendar, specs)
        self._compiler = c
        self._facts = prepare(model, specs)
        self._scope = tuple((s, c.condition(s.when)) for s in model.scope)
        self._decisions = tuple((d, compile_decision(c, d)) for d in model.decisions)
        self._outcomes = tuple((o, c.condition(o.when)) for o in model.outcomes)
        self._consistency = tuple((r, c.condition(r.when)) for r in model.consistency)
        self._lean = _lean_plan(self)
        # what naming a contradiction's findings checks, compiled once: each alternative of an `any`, and
        # each input of a test on several, alone (by the node's identity in this pack's immutable model)
        self._witness: dict[tuple[int, str | None], Cond] = {}
        for check in model.consistency:
            self._compile_witnesses(check.when)
        self._covered: type[Evidence] | None = None
        """The last record model found to hold what this pack reads (so a bulk run checks it once, not per record)."""
        self._steps: dict[tuple[str, str, Tri], TraceStep] = {}
        """Trace steps made so far, each made once: immutable, and as many as the pack has rules, so shared."""
        # every condition of the pack, and every part of one, compiled once and found by its path
        # (`ladder.transitions[2].guard`, `decisions[1].rows[0].when.all[1]`): ladder guards and
        # warnings are checked through these, never compiled again
        self._conditions: dict[str, Cond] = {
            where: c.condition(node) for cond, path, _ in pack_conditions(model) for node, where in _nodes(cond, path)}
        self._input_paths = {k: v.evidence_path for k, v in specs.items()}
        self._rule_source: dict[tuple[str, str], str] = {}
        self._rule_text: dict[tuple[str, str], str] = {}
        for d in model.decisions:
            if isinstance(d, BandsDecision):
                for b in d.bands:
                    self._rule_source[(d.id, b.id)] = b.source
                    self._rule_text[(d.id, b.id)] = f"`{d.input}` in band `{b.id}` ({_band_text(b)})"
            else:
                for r in d.rows:
                    self._rule_source[(d.id, r.id)] = r.source
                    self._rule_text[(d.id, r.id)] = f"row `{r.id}` holds"
                if d.default is not None:
                    self._rule_source[(d.id, "default")] = d.default.source
                    self._rule_text[(d.id, "default")] = "no row holds, so the default applies"
        self._labels = {s.id: {v.id: v.label for v in s.values} for s in model.scales}
        self._severity = {s.id: {v.id: v.severity for v in s.values} for s in model.scales}

    # -- identity -------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.model.pack.id

    @property
    def version(self) -> str:
        return self.model.pack.version

    @property
    def authority(self) -> str:
        return self.model.pack.authority.name

    def in_force(self, on: date) -> bool:
        meta = self.model.pack
        return meta.effective_from <= on and (meta.effective_to is None or on <= meta.effective_to)

    def __repr__(self) -> str:
        return f"<PolicyPack {self.id} v{self.version} sha256:{self.sha256[:12]}>"

    # -- evidence -------------------------------------------------------------
    @property
    def evidence_model(self) -> type[Evidence]:
        """The strict model of a record for this pack: the shared facts plus the local findings it declares."""
        return self._vocabulary.model

    def parse_evidence(self, evidence: Evidence | Mapping[str, Any] | str | bytes, *, source: str | None = None) -> Evidence:
        """Validate a record for this pack (a dict, JSON text or a record another model validated).

        Raises :class:`~carepolicy.EvidenceError` with one located diagnostic per problem.
        """
        if isinstance(evidence, Evidence):
            model = type(evidence)
            if model is self._covered:  # models are immutable: one found to cover this pack's still does
                return evidence
            if _covers(model, self._vocabulary):
                self._covered = model
                return evidence
        return self._vocabulary.validate(evidence, source=source)

    def evidence_schema(self) -> dict[str, Any]:
        """JSON Schema of a record for this pack."""
        return self._vocabulary.json_schema(f"carepolicy evidence for {self.id}")

    def read(self, input_id: str, evidence: Evidence, as_of: date) -> Any:
        """The value of one input (read or derived) for a validated record; ``None`` when not known."""
        return self._compiler.value(input_id, Ctx(evidence, as_of, self.calendar))

    # -- evaluation -----------------------------------------------------------
    def evaluate(self, evidence: Evidence | Mapping[str, Any] | str | bytes, as_of: date | str, *,
                 analyse: bool = True) -> Decision:
        """Evaluate this pack over ``evidence`` as of ``as_of``; see :func:`carepolicy.evaluate`.

        ``analyse=False`` skips the bounds and "what would settle it" of open decisions (a
        bounded but real cost where much evidence is missing), for bulk runs that do not show them.
        """
        ev = self.parse_evidence(evidence)
        on = _as_date(as_of)
        self._refuse_out_of_force(on)
        ctx = Ctx(ev, on, self.calendar)
        notes: list[str] = []
        needed: dict[str, list[str]] = {}
        out_of_scope = self._check_scope(ctx, notes)

        results: list[DecisionResult] = []
        if not out_of_scope:
            outcomes = []
            for d, fn in self._decisions:
                del ctx.missing[:]
                o = fn(ctx)
                missing = feed(ctx, d.id, o)
                for m in (missing if o.status == "insufficient_evidence" else ()):
                    needed.setdefault(m, []).append(d.id)
                outcomes.append(o)
            # what the known evidence proves about open decisions: the headline first, within one budget
            budget = Budget()
            head = next(i for i, (d, _) in enumerate(self._decisions) if d.id == self.model.pack.headline)
            analyses: dict[int, Analysis | None] = {}
            for i in [head, *(k for k in range(len(outcomes)) if k != head)] if analyse else ():
                if outcomes[i].status == "insufficient_evidence":
                    analyses[i] = _analyse(self, ctx, i, outcomes[i], budget)
            for i, ((d, _), o) in enumerate(zip(self._decisions, outcomes)):
                results.append(self._result(d, o, analyses.get(i), ctx))
        else:
            for d, _ in self._decisions:
                results.append(_construct(DecisionResult,
                    id=d.id, title=d.title, status="out_of_scope", value=None, label=None, severity=None, rules=[],
                    sources=[], judgement=False, judgements=[], undetermined=[], missing=[],
                    explanation="not decided: the provider is out of scope"))

        actions: list[ActionItem] = []
        if not out_of_scope:
            for spec, cond in self._outcomes:
                del ctx.missing[:]
                held = cond(ctx)
                ctx.trace.append(("outcomes", spec.id, held))
                if held is False:
                    continue
                lacking = sorted(set(ctx.missing)) if held is None else []
                for m in lacking:
                    needed.setdefault(m, []).append(spec.id)
                due_from, due, due_rule = self._due(spec, ctx, notes)
                actions.append(_construct(ActionItem,
                    id=spec.id, kind=spec.kind, text=spec.text, roles=list(spec.roles), due=due, due_from=due_from,
                    due_rule=due_rule,
                    quorum=spec.quorum.model_dump(exclude_none=True, by_alias=True) if spec.quorum else None,
                    source=spec.source, judgement=spec.judgement, certain=held is True, missing=lacking,
                ))
            for check, test in self._consistency:
                del ctx.missing[:]
                held = test(ctx)
                ctx.trace.append(("consistency", check.id, held))
                if held is True:
                    found = "; ".join(f"`{n}` = {_show_value(v)}" for n, v in self._witnesses(check.when, ctx))
                    actions.append(_construct(ActionItem,
                        id=check.id, kind="consistency", text=f"{check.message} ({found})" if found else check.message,
                        source=check.source, judgement=check.judgement or check.message, certain=True))

        headline = next(r for r in results if r.id == self.model.pack.headline)
        contradictions = [a for a in actions if a.kind == "consistency"]
        if contradictions:  # a decision resting on findings that contradict each other is left to judgement
            headline = headline.model_copy(update={"judgement": True, "judgements": [*headline.judgements, *(
                Judgement(rule=a.id, reason=f"{a.text} [{a.source}]") for a in contradictions)]})
            results = [headline if r.id == headline.id else r for r in results]
        missing_list = [
            _construct(MissingEvidence, input=name, path=self._input_paths.get(name.split("[")[0], name), needed_by=sorted(set(by)))
            for name, by in sorted(needed.items())
            if name.split("[")[0] in self.inputs  # a decision in conflict is not evidence to give
        ]
        judgement = any(r.judgement for r in results) or any(a.judgement for a in actions)
        matters, why = self._judgement_matters(headline, contradictions) if not out_of_scope else (False, None)
        status = "out_of_scope" if out_of_scope else headline.status
        return _construct(Decision,
            pack=self._ref,
            provider_id=ev.provider.id,
            provider_name=ev.provider.name,
            as_of=on,
            status=status,
            headline=headline,
            severity=headline.severity,
            severity_label=SEVERITY_LABELS.get(headline.severity) if headline.severity is not None else None,
            decisions=results,
            actions=[a for a in actions if a.kind not in ("approval", "warning", "consistency")],
            approvals=[a for a in actions if a.kind == "approval"],
            warnings=[a for a in actions if a.kind in ("warning", "consistency")],
            notes=notes,
            missing=missing_list,
            judgement=judgement,
            judgement_matters=matters,
            judgement_why=why,
            out_of_scope=out_of_scope,
            calendar=self.calendar.description,
            engine=f"carepolicy {__version__}",
            trace=self._trace(ctx),
        )

    def _trace(self, ctx: Ctx) -> list[TraceStep]:
        steps = self._steps
        out = []
        for key in ctx.trace:
            step = steps.get(key)
            if step is None:
                a, b, c = key
                step = steps.setdefault(key, TraceStep(decision=a, rule=b, result=_TRI[c]))  # type: ignore[arg-type]
            out.append(step)
        return out

    def _headline_line(self, evidence: Evidence, on: date) -> dict[str, Any] | None:
        """The fields of the headline line ``evaluate`` followed by ``StreamResult.to_dict`` gives at detail
        ``headline``, computed leanly (``carepolicy._lean``); ``None`` when this pack has no lean plan.

        ``evidence`` is validated for this pack and ``on`` a date it is in force (the bulk pipeline checks both).
        """
        if self._lean is None:
            return None
        return _lean_headline(self, self._lean, Ctx(evidence, on, self.calendar))

    def decide(self, evidence: Evidence, as_of: date) -> dict[str, Any]:
        """Only the decisions' values (``None`` where not decided): the lean path for bulk runs.

        No explanation, trace, outcomes or scope checks; use :meth:`evaluate` for decisions
        that must be explained.
        """
        ctx = Ctx(evidence, as_of, self.calendar)
        for d, fn in self._decisions:
            del ctx.missing[:]
            feed(ctx, d.id, fn(ctx))
        return {d.id: ctx.values.get(d.id) for d, _ in self._decisions}

    def context(self, evidence: Evidence | Mapping[str, Any] | str | bytes, as_of: date | str, *,
                decisions: bool = True) -> Ctx:
        """The state :meth:`evaluate` reaches before its outcomes: scope checked and every decision
        fed forward exactly as ``evaluate`` feeds it (``decisions=False``: inputs only).

        For checking a pack's other conditions (ladder guards and warnings) with :meth:`check`.
        When a scope rule holds, no decision is made and each is left open, named as out of scope.
        """
        ev = self.parse_evidence(evidence)
        on = _as_date(as_of)
        self._refuse_out_of_force(on)
        ctx = Ctx(ev, on, self.calendar)
        if not decisions:
            return ctx
        ctx.out_of_scope = self._check_scope(ctx, [])
        for d, fn in self._decisions:
            del ctx.missing[:]
            if ctx.out_of_scope:
                ctx.unsettled[d.id] = (f"{d.id} (out of scope)",)
            else:
                feed(ctx, d.id, fn(ctx))
        del ctx.missing[:]
        return ctx

    def check(self, where: str, ctx: Ctx) -> tuple[Tri, list[str]]:
        """The compiled condition at ``where`` (a pack path such as ``ladder.transitions[2].guard``,
        or a part of one, ``...guard.all[1]``) over ``ctx``: true, false or ``None`` (not known),
        with the missing evidence it met. Conditions were compiled when the pack loaded."""
        cond = self._conditions.get(where)
        if cond is None:
            raise KeyError(f"pack `{self.id}` has no condition at `{where}`")
        mark = len(ctx.missing)
        result = cond(ctx)
        missing = list(dict.fromkeys(ctx.missing[mark:]))
        del ctx.missing[mark:]
        return result, missing

    def reading(self, input_id: str, ctx: Ctx) -> Any:
        """An input's value in ``ctx`` as the rows read it: the value, ``None`` when not known, or a
        :class:`~carepolicy._compile.Range` for a count known only between two numbers. Nothing is
        recorded as missing."""
        mark = len(ctx.missing)
        v = self._compiler.read[input_id](ctx)
        del ctx.missing[mark:]
        return v

    def _check_scope(self, ctx: Ctx, notes: list[str]) -> list[str]:
        out_of_scope: list[str] = []
        for rule, cond in self._scope:
            del ctx.missing[:]
            r = cond(ctx)
            ctx.trace.append(("scope", rule.id, r))
            if r is True:
                out_of_scope.append(f"{rule.reason} [{rule.id}: {rule.source}]")
            elif r is None:
                notes.append(f"could not check scope rule `{rule.id}` ({rule.reason}): missing {', '.join(sorted(set(ctx.missing)))}")
        return out_of_scope

    def _refuse_out_of_force(self, on: date) -> None:
        if not self.in_force(on):
            meta = self.model.pack
            raise EvaluationError(
                f"pack `{self.id}` v{self.version} is not in force on {on.isoformat()} "
                f"(in force {meta.effective_from.isoformat()} to {meta.effective_to.isoformat() if meta.effective_to else 'now'})"
            )

    def _due(self, o: Any, ctx: Ctx, notes: list[str]) -> tuple[date | None, date | None, str | None]:
        if o.due is None:
            return None, None, None
        anchor = None
        origin = "the as-of date"
        if o.due.from_ != "as_of":
            anchor = self._compiler.value(o.due.from_, ctx)
            if anchor is None:
                notes.append(f"`{o.id}`: due date unknown, `{o.due.from_}` ({self._input_paths[o.due.from_]}) is missing")
                return None, None, None
            origin = f"`{o.due.from_}`"
        try:
            start, when = due_date(ctx.as_of, anchor, o.due, self.calendar)
        except (ValueError, OverflowError):
            raise EvaluationError(f"`{o.id}`: due date out of range", [Diagnostic(
                code="CP411", path=f"outcomes.{o.id}.due",
                message=f"outcome `{o.id}`: the due date counted from {(anchor or ctx.as_of).isoformat()} is outside the calendar",
            )]) from None
        rule = o.due.describe(f"{origin} ({(anchor or ctx.as_of).isoformat()})")
        return start, when, rule

    def _result(self, d: Any, o: Any, analysis: Analysis | None = None, ctx: Ctx | None = None) -> DecisionResult:
        scale = d.scale
        value = o.value
        label = severity = None
        if scale is not None and o.status == "decided" and not isinstance(value, list):
            label = self._labels[scale].get(value)
            severity = self._severity[scale].get(value)
        bounds = self._bounds(d, o, analysis)
        settle = [_construct(Settle, input=s.input, path=self._input_paths.get(s.input, s.input), cases=[
            _construct(SettleCase, when=when, value=None if v is NO_VALUE else v,
                       label=None if v is NO_VALUE or scale is None else self._labels[scale].get(v))
            for when, v in s.cases]) for s in (analysis.settle if analysis else ())]
        margin = self._margin(d, o, ctx) if ctx is not None and o.status == "decided" else None
        sources = [self._rule_source[(d.id, r)] for r in o.rules if (d.id, r) in self._rule_source]
        if not sources and o.status == "decided":
            sources = [d.source]
        judgements = [Judgement(rule=rule, reason=reason) for rule, reason in dict.fromkeys(o.judgements)]
        return _construct(DecisionResult,
            id=d.id, title=d.title, status=o.status, value=value, label=label, severity=severity,
            rules=list(o.rules), sources=sources, judgement=bool(judgements), judgements=judgements,
            undetermined=list(o.undetermined), missing=list(dict.fromkeys(o.missing)),
            bounds=bounds, settle=settle, margin=margin,
            explanation=self._explain(d, o, label, bounds, settle, margin),
        )

    def _judgement_matters(self, head: DecisionResult, contradictions: list[ActionItem]) -> tuple[bool, str | None]:
        """Whether the headline's judgement is worth a reader's attention, and why (not merely that bands are guidance)."""
        if contradictions:
            return True, "findings contradict each other: " + "; ".join(a.id for a in contradictions)
        if head.status != "decided":
            return False, None
        d = self.model.decision(head.id)
        chosen = set(head.rules)
        own = [j for j in head.judgements if j.rule in chosen or "/" in j.rule]
        if own:
            return True, "the value rests on a rule left to judgement: " + ", ".join(f"`{j.rule}`" for j in own)
        m = head.margin
        if d.judgement and m is not None:
            step = 1 if self.inputs[m.input].type.base == "integer" else 0
            near = [x for x in (m.up_distance, m.down_distance) if x is not None and x <= step]
            if near:
                return True, f"`{m.input}` = {_fmt(m.value)} is at the edge of band `{m.band}`, and the bands are guidance"
        return False, None

    def _compile_witnesses(self, cond: Any) -> None:
        if isinstance(cond, AllOf):
            for c in cond.all:
                self._compile_witnesses(c)
        elif isinstance(cond, AnyOf):
            for c in cond.any:
                self._witness[(id(c), None)] = self._compiler.condition(c)
                self._compile_witnesses(c)
        elif isinstance(cond, Test) and cond.decision is None:
            kind, subject = cond.subject
            if kind == "any_of":
                op, arg = cond.operator
                for n in subject:
                    single = Test.model_validate({"input": n, ("is" if op == "is" else "in" if op == "in" else op): arg})
                    self._witness[(id(cond), n)] = self._compiler.test(single)

    def _witnesses(self, cond: Any, ctx: Ctx) -> list[tuple[str, Any]]:
        """The inputs that make a condition that holds hold, with their values (to name findings in a message)."""
        out: list[tuple[str, Any]] = []
        if isinstance(cond, AllOf):
            for c in cond.all:
                out += [w for w in self._witnesses(c, ctx) if w not in out]
        elif isinstance(cond, AnyOf):
            for c in cond.any:
                if self._witness[(id(c), None)](ctx) is True:
                    return self._witnesses(c, ctx)
        elif isinstance(cond, Test) and cond.decision is None:
            kind, subject = cond.subject
            names = [subject] if kind == "input" else list(subject)
            for n in names:
                if kind != "any_of" or self._witness[(id(cond), n)](ctx) is True:
                    value = self._compiler.value(n, ctx)
                    if value is not None:
                        out.append((n, value))
        return out

    def _bounds(self, d: Any, o: Any, analysis: Analysis | None) -> Bounds | None:
        if d.scale is None or not self.model.scale(d.scale).ordered or isinstance(o.value, list):
            return None
        if o.status == "decided":
            possible: tuple[Any, ...] = (o.value,)
            exact, no_value = True, False
        elif o.status == "no_value":
            possible, exact, no_value = (), True, True
        elif analysis is not None:
            possible = tuple(v for v in analysis.possible if v is not NO_VALUE)
            exact, no_value = analysis.exact, NO_VALUE in analysis.possible
        else:
            return None
        severities = [s for s in (self._severity[d.scale].get(v) for v in possible) if s is not None]
        labels = self._labels[d.scale]
        return _construct(Bounds, at_least=possible[0] if possible else None, at_most=possible[-1] if possible else None,
                      possible=list(possible), labels=[labels.get(v, v) for v in possible], no_value_possible=no_value,
                      severity_min=min(severities, default=None), severity_max=max(severities, default=None),
                      exact=exact)

    def _margin(self, d: Any, o: Any, ctx: Ctx) -> Margin | None:
        if not isinstance(d, BandsDecision) or not o.rules:
            return None
        v = self._compiler.value(d.input, ctx)
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None
        i = next((k for k, b in enumerate(d.bands) if b.id == o.rules[0]), None)
        if i is None:
            return None
        fields: dict[str, Any] = {}
        nxt = d.bands[i + 1] if i + 1 < len(d.bands) else None
        if nxt is not None and nxt.min is not None:
            fields.update(next_up=nxt.id, up_at=nxt.min, up_distance=nxt.min - v)
        if i > 0:
            prev = d.bands[i - 1]
            end = prev.max if prev.max is not None else prev.below
            if end is not None:
                fields.update(next_down=prev.id, down_at=end, down_distance=v - end)
        return Margin(input=d.input, value=v, band=o.rules[0], **fields)

    def _explain(self, d: Any, o: Any, label: str | None, bounds: Bounds | None = None,
                 settle: list[Settle] | None = None, margin: Margin | None = None) -> str:
        shown = label or (", ".join(map(str, o.value)) if isinstance(o.value, list) else _fmt(o.value))
        why = "; ".join(f"{self._rule_text.get((d.id, r), r)} [{self._rule_source.get((d.id, r), d.source)}]" for r in o.rules)
        if o.status == "decided":
            text = f"{shown}" + (f" because {why}" if why else "")
            if isinstance(o.value, list) and not o.value:
                text = "none apply"
            if margin is not None and margin.words():
                text += f" ({margin.words()})"
        elif o.status == "insufficient_evidence":
            text = "insufficient evidence"
            if bounds is not None and bounds.possible:
                labels = self._labels[d.scale]
                names = [labels.get(v, v) for v in bounds.possible] + (["no value"] if bounds.no_value_possible else [])
                if len(bounds.possible) == 1 and not bounds.no_value_possible:
                    text += f", but it can only be {names[0]}"
                else:
                    least = bounds.at_least or ""
                    text += f": at least {labels.get(least, least)} (one of {', '.join(names)})"
            if o.undetermined:
                text += ": could not check " + ", ".join(f"`{r}`" for r in o.undetermined)
            if o.missing:
                text += "; missing " + ", ".join(f"`{m}`" for m in dict.fromkeys(o.missing))
            if isinstance(o.value, list) and o.value:
                text += "; so far: " + ", ".join(map(str, o.value))
            for st in settle or ():
                text += f"; `{st.input}` " + ", ".join(
                    f"{c.when} -> {c.label or ('no value' if c.value is None else c.value)}" for c in st.cases)
        elif o.status == "conflict":
            text = "conflict: rows " + ", ".join(f"`{r}`" for r in o.rules) + " all hold under `hit: unique`"
        else:
            text = "no value: no rule applies"
        if o.judgements:
            text += " (professional judgement: " + "; ".join(reason for _, reason in o.judgements) + ")"
        return text


def _show_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    return _fmt(v) if isinstance(v, (int, float)) else str(v)


def rule_inputs(cond: Any) -> list[str]:
    """The inputs a condition reads, in the order written (for naming findings in messages)."""
    from ._check import walk_conditions

    out: list[str] = []
    for leaf, _ in walk_conditions(cond, ()):
        if isinstance(leaf, Test):
            kind, subject = leaf.subject
            if kind != "decision":
                out.extend(n for n in ([subject] if kind == "input" else subject) if n not in out)
            arg = leaf.operator[1]
            if hasattr(arg, "input") and arg.input not in out:
                out.append(arg.input)
    return out


def path_text(path: tuple[str | int, ...]) -> str:
    """A pack path as text: ``("ladder", "transitions", 2, "guard")`` is ``ladder.transitions[2].guard``."""
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


def _nodes(cond: Any, path: tuple[str | int, ...]) -> Iterator[tuple[Any, str]]:
    """A condition and every part of it, each with its path as text."""
    yield cond, path_text(path)
    if isinstance(cond, AllOf):
        for i, c in enumerate(cond.all):
            yield from _nodes(c, path + ("all", i))
    elif isinstance(cond, AnyOf):
        for i, c in enumerate(cond.any):
            yield from _nodes(c, path + ("any", i))
    elif isinstance(cond, NotOf):
        yield from _nodes(cond.not_, path + ("not",))


def _band_text(b: Any) -> str:
    if b.min is not None and b.max is not None:
        return f"{_fmt(b.min)} to {_fmt(b.max)}"
    if b.min is not None and b.below is not None:
        return f"{_fmt(b.min)} up to but not including {_fmt(b.below)}"
    if b.min is not None:
        return f"{_fmt(b.min)} or more"
    if b.max is not None:
        return f"{_fmt(b.max)} or less"
    if b.below is not None:
        return f"below {_fmt(b.below)}"
    return "any value"


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        raise EvaluationError(f"as-of `{value}` is a date and time; pass a date (`.date()`)")
    if isinstance(value, date):
        if not EARLIEST <= value <= LATEST:
            raise EvaluationError(f"as-of date {value.isoformat()} is outside {EARLIEST.year}-{LATEST.year}")
        return value
    try:
        return _as_date(parse_date(value))
    except (TypeError, ValueError):
        raise EvaluationError(f"as-of date `{value}` is not a date; write it as YYYY-MM-DD") from None


class PackLibrary(Mapping[str, tuple[PolicyPack, ...]]):
    """Several packs, possibly several versions of each; picks the version in force on a date."""

    def __init__(self, packs: Iterable[PolicyPack]) -> None:
        grouped: dict[str, list[PolicyPack]] = {}
        for p in packs:
            grouped.setdefault(p.id, []).append(p)
        self._packs = {k: tuple(sorted(v, key=lambda p: p.model.pack.effective_from)) for k, v in sorted(grouped.items())}
        everything = [p for versions in self._packs.values() for p in versions]
        self._vocabulary = _vocabulary(everything, name="LibraryEvidence")
        self._covered: type[Evidence] | None = None

    @property
    def evidence_model(self) -> type[Evidence]:
        """The strict model of a record for every pack here: shared facts plus every declared local finding."""
        return self._vocabulary.model

    def parse_evidence(self, evidence: Evidence | Mapping[str, Any] | str | bytes, *, source: str | None = None) -> Evidence:
        """Validate a record for every pack here; raises :class:`~carepolicy.EvidenceError`."""
        if isinstance(evidence, Evidence):
            model = type(evidence)
            if model is self._covered:  # models are immutable: one found to cover these packs' still does
                return evidence
            if _covers(model, self._vocabulary):
                self._covered = model
                return evidence
        return self._vocabulary.validate(evidence, source=source)

    def evidence_schema(self) -> dict[str, Any]:
        """JSON Schema of a record for every pack here."""
        return self._vocabulary.json_schema("carepolicy provider evidence")

    def __getitem__(self, pack_id: str) -> tuple[PolicyPack, ...]:
        return self._packs[pack_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._packs)

    def __len__(self) -> int:
        return len(self._packs)

    def in_force(self, pack_id: str, on: date | str) -> PolicyPack:
        """The version of ``pack_id`` in force on ``on``."""
        day = _as_date(on)
        if pack_id not in self._packs:
            raise EvaluationError(f"no pack `{pack_id}`; have: {', '.join(self._packs) or 'none'}")
        for p in self._packs[pack_id]:
            if p.in_force(day):
                return p
        raise EvaluationError(f"no version of pack `{pack_id}` is in force on {day.isoformat()}")

    def evaluate_all(self, evidence: Evidence | Mapping[str, Any] | str | bytes, as_of: date | str, *,
                     analyse: bool = True) -> list[Decision]:
        """Evaluate every pack that has a version in force on ``as_of`` (``analyse``: see :meth:`PolicyPack.evaluate`)."""
        ev = self.parse_evidence(evidence)
        day = _as_date(as_of)
        out = []
        for pack_id in self._packs:
            try:
                pack = self.in_force(pack_id, day)
            except EvaluationError:
                continue
            out.append(pack.evaluate(ev, day, analyse=analyse))
        return out


def evaluate(
    pack: PolicyPack | PackLibrary | Iterable[PolicyPack],
    evidence: Evidence | Mapping[str, Any] | str | bytes,
    as_of: date | str,
    *,
    pack_id: str | None = None,
    analyse: bool = True,
) -> Decision:
    """Evaluate a pack over one provider's evidence as of a date.

    ``pack`` is a :class:`PolicyPack`, or several versions of one pack (or a
    :class:`PackLibrary` with ``pack_id``), in which case the version in force on
    ``as_of`` is used. ``evidence`` is an :class:`~carepolicy.Evidence`, a dict or JSON
    text. Raises :class:`~carepolicy.EvidenceError` for invalid evidence and
    :class:`~carepolicy.EvaluationError` when no version is in force. An open decision on
    an ordered scale comes with its bounds and what would settle it unless ``analyse=False``.
    """
    if isinstance(pack, PolicyPack):
        return pack.evaluate(evidence, as_of, analyse=analyse)
    library = pack if isinstance(pack, PackLibrary) else PackLibrary(pack)
    if pack_id is None:
        if len(library) != 1:
            raise EvaluationError("several packs given: name the one to evaluate with `pack_id=`")
        pack_id = next(iter(library))
    return library.in_force(pack_id, as_of).evaluate(evidence, as_of, analyse=analyse)


# ----------------------------------------------------------------- evidence models from declarations


def _model_name(pack_id: str) -> str:
    return "Evidence_" + "".join(part.capitalize() for part in pack_id.replace("-", "_").split("_"))


def _vocabulary(packs: list[PolicyPack], *, name: str) -> EvidenceModels:
    """The evidence model for ``packs``: every finding they declare, each declared one way only."""
    findings = []
    seen: dict[tuple[str, str], tuple[Any, str]] = {}
    problems: list[Diagnostic] = []
    owned: set[str] = set()
    moved: dict[str, str] = {}
    kinds: set[str] = set()
    for p in packs:
        owned.add(p.model.pack.authority.id)
        kinds.update(k.id for k in p.model.event_kinds)
        for inp in p.model.inputs:
            spec = p.inputs.get(inp.id)
            if spec is None:
                continue
            if inp.was is not None and inp.was != spec.evidence_path:
                moved.setdefault(inp.was, spec.evidence_path)
            f = spec.finding
            if f is None:
                continue
            key = (f.namespace, f.name)
            if key in seen and seen[key][0] != f.type.signature():
                problems.append(Diagnostic(
                    code="CP218", file=p.file, path=f"inputs.{inp.id}",
                    message=f"local finding `local.{f.namespace}.{f.name}` is declared as {f.type.describe()} here "
                            f"but differently by pack `{seen[key][1]}`",
                    hint="declare a finding one way in every pack that reads it"))
                continue
            seen.setdefault(key, (f.type.signature(), p.id))
            findings.append(f)
    if problems:
        raise PackLoadError(f"{len(problems)} finding(s) declared two ways", problems)
    return EvidenceModels(findings, kinds, owned, moved, name)


def _covers(model: type[Evidence], vocabulary: EvidenceModels) -> bool:
    found = EvidenceModels.of(model)
    return found is not None and found.covers(vocabulary)
