"""Typed provider evidence: everything the five councils' frameworks read about a provider.

One model serves every pack: a pack declares which fields it reads (its ``inputs``)
and the loader checks those paths against this model. Every field except the
provider's identity is optional, because missing evidence is normal and must be
reported as missing, never read as good news: ``None`` means "not known", an empty
list of events means "known: there were none".

Evidence is strict: unknown fields are rejected, numbers are not parsed from
strings and booleans are not numbers. Dates are ISO ``YYYY-MM-DD`` strings in JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._jsonschema import finish_schema
from ._time import parse_date
from .errors import Diagnostic, EvidenceError

__all__ = [
    "Evidence",
    "Provider",
    "CqcRatings",
    "Assessments",
    "QualityStandards",
    "Event",
    "RiskFlags",
    "ImprovementPlan",
    "History",
    "parse_evidence",
    "evidence_json_schema",
]

ServiceType = Literal[
    "nursing",
    "residential",
    "domiciliary",
    "supported_living",
    "extra_care",
    "day_care",
    "public_health",
    "social_inclusion",
    "pharmacy",
    "grant_funded",
    "gp_larc",
]
CqcRating = Literal["outstanding", "good", "requires_improvement", "inadequate", "not_rated"]
Rag = Literal["green", "amber", "red"]
PammsRating = Literal["excellent", "good", "requires_improvement", "poor"]
Level = Literal["low", "medium", "high"]
Harm = Literal["none", "low", "moderate", "significant", "severe"]

EventKind = Literal[
    "safeguarding_alert",
    "safeguarding_strategy_meeting",
    "s42_enquiry",
    "organisational_abuse",
    "complaint",
    "whistleblowing",
    "medication_error",
    "incident",
    "injury_or_deterioration",
    "serious_crime",
    "recording_failure",
    "health_and_safety_concern",
    "admission_needs_not_met",
    "fraud_concern",
    "care_concern",
    "service_user_review_concern",
    "service_quality_feedback",
    "missed_return",
    "kpi_shortfall",
    "contract_breach",
    "regulator_warning",
    "market_exit_notice",
    "new_cause_for_concern",
    "safeguarding_outcome_improvement_needed",  # outcome of a safeguarding concern identifies a need for the service to improve
]

Count = Annotated[int, Field(ge=0, le=1_000_000)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class _Strict(BaseModel):
    """Frozen, strict, closed: a typo in evidence is an error, not a silently ignored field."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )

    @field_validator("*", mode="before")
    @classmethod
    def _iso_dates(cls, value: Any, info: Any) -> Any:
        # Strict mode refuses date strings from Python dicts; evidence always writes them as ISO text.
        field = cls.model_fields.get(info.field_name)
        if isinstance(value, str) and field is not None and _is_date_annotation(field.annotation):
            return parse_date(value)
        return value


def _is_date_annotation(annotation: Any) -> bool:
    return annotation is date or (getattr(annotation, "__args__", None) is not None and date in annotation.__args__)


class Provider(_Strict):
    """Who the provider is and what service it runs."""

    id: Text
    name: Text
    proprietor: Text | None = None
    service_type: ServiceType
    cqc_regulated: bool | None = None
    beds: Count | None = None
    people_served: Count | None = None
    addresses_in_area: Count | None = Field(default=None, description="service addresses inside the authority's area")
    registered_office_in_area: bool | None = Field(default=None, description="registered office (office base) inside the authority's area")
    pamms_assessed_by_other_authority: bool | None = None
    chc_funded_residents: bool | None = Field(default=None, description="residents funded by NHS Continuing Health Care")
    market_risk: bool | None = Field(default=None, description="strategically important: block or specialist provider, or many people in one setting")
    nursing_contract_with_health: bool | None = None
    client_group: Literal["adults", "children"] | None = Field(default=None, description="who the service supports: adults' or children's services (decides e.g. which safeguarding lead approves)")
    previously_commissioned: bool | None = Field(default=None, description="the authority has commissioned this service before (false: a new service needing pre-service checks)")
    commissioned_by_authority: bool | None = Field(default=None, description="the council or its NHS partner holds a contract with the provider for the service (false: no contract, or only direct payments / personal budgets)")


class CqcRatings(_Strict):
    """The regulator's latest published ratings."""

    overall: CqcRating | None = None
    safe: CqcRating | None = None
    effective: CqcRating | None = None
    caring: CqcRating | None = None
    responsive: CqcRating | None = None
    well_led: CqcRating | None = None
    special_measures: bool | None = None
    inspection_date: date | None = None
    consecutive_below_good: Count | None = Field(default=None, description="inspections in a row rated below Good overall")
    compliance_fluctuating: bool | None = Field(default=None, description="compliance has fluctuated between inspections")


class QualityStandards(_Strict):
    """Oxfordshire's ten quality standards of good care, each red, amber or green."""

    leadership_and_management: Rag | None = None
    staffing_levels_and_recruitment: Rag | None = None
    staff_skills_and_training: Rag | None = None
    approach_to_personalisation: Rag | None = None
    care_plans_and_risk_assessments: Rag | None = None
    health_and_safety: Rag | None = None
    safeguarding: Rag | None = None
    service_quality_and_assurance: Rag | None = None
    involvement_and_engagement: Rag | None = None
    partnership_working: Rag | None = None


class Assessments(_Strict):
    """Results of the councils' own assessment tools."""

    risk_profile_score: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None, description="QPIP risk profile tool score"
    )
    risk_extremely_high: bool | None = Field(default=None, description="partners judge the risk extremely high")
    concerns_nature: Literal["social_care", "clinical", "mixed"] | None = Field(
        default=None, description="where the main concerns lie"
    )
    quality_standards: QualityStandards | None = None
    pamms_rating: PammsRating | None = None
    pamms_assessed_on: date | None = None
    pamms_improvements_identified: bool | None = None
    pamms_scheduled: bool | None = Field(default=None, description="assessment agreed through the schedule or the PRIG")
    questionnaire_rag: Rag | None = None
    questionnaire_issued_on: date | None = None
    quality_review_outcome: Literal["good", "requires_improvement", "inadequate"] | None = None
    quality_review_on: date | None = None
    service_risk_level: Level | None = Field(default=None, description="risk from contract value and service criticality")
    standards_of_care_threshold_met: bool | None = None
    serious_concerns_threshold_met: bool | None = None
    all_areas_adequate: bool | None = None
    provider_quality_rating: Annotated[int, Field(ge=1, le=5)] | None = Field(
        default=None, description="a rating already given, e.g. by a QA team"
    )
    concerns_identified: Literal["none", "minor", "may_impact_safety", "impacting_safety"] | None = Field(
        default=None, description="concerns identified (at the monitoring meeting, by the QA officer, service manager, another professional or the regulator) by their effect on safety: none; minor, no effect on safety; may affect safety (risk of harm if not dealt with); affect or have affected safety (significant risk of further harm)"
    )
    standards_breach: Literal["none", "easily_resolved", "not_easily_resolved"] | None = Field(
        default=None, description="evidence that standards or regulations are not being met: none; not met but easily resolved (or being resolved) without effect on safety; not met and not easily resolved"
    )


class Event(_Strict):
    """One dated thing that happened: an alert, a complaint, an error, a notice..."""

    kind: EventKind
    date: date
    id: Text | None = None
    staff_member: Text | None = Field(default=None, description="the staff member involved or alleged")
    people_affected: Count | None = None
    harm: Harm | None = None
    level: Level | None = Field(default=None, description="level of concern or risk")
    substantiated: bool | None = None
    open: bool | None = None
    remedied: bool | None = None
    learning_evidenced: bool | None = None
    police_involved: bool | None = None
    theme: Text | None = None
    note: Annotated[str, Field(max_length=2000)] | None = None


class RiskFlags(_Strict):
    """Financial, workforce, contract and market flags."""

    financial_distress: Literal["none", "may_struggle_to_pay_staff", "struggling", "close_to_failure"] | None = None
    financial_risk_score: Level | None = None
    market_exit_notice: bool | None = None
    regulator_closure_warning: bool | None = None
    whole_service_concern: bool | None = None
    registered_manager_in_post: bool | None = None
    high_staff_turnover: bool | None = None
    recruitment: Literal["ok", "struggling_with_plans", "struggling_without_plans"] | None = None
    kpis: Literal["met", "at_risk", "some_not_met", "many_not_met"] | None = None
    productivity_targets: Literal["met", "at_risk", "some_not_met", "many_not_met"] | None = Field(
        default=None, description="productivity targets, graded as `kpis` (`met` also when none are set)"
    )
    at_risk_of_failure: bool | None = Field(
        default=None, description="other issues mean the provider is at risk of failing or closing if action is not taken"
    )
    contract_compliance: Literal["met", "minor_gaps", "gaps_affecting_delivery", "significant_breach"] | None = None
    paperwork_in_order: bool | None = Field(default=None, description="insurances, registrations and paperwork in place")
    customer_experience: Literal["good", "mixed", "poor", "very_poor"] | None = None
    placements_suspended: bool | None = None
    management_instability: bool | None = None
    poor_partner_relationships: bool | None = None
    positive_feedback: bool | None = None
    engaging_with_council: bool | None = None
    placement_restrictions: bool | None = Field(default=None, description="new placements are made only with restrictions (not a full suspension)")


class ImprovementPlan(_Strict):
    """Progress on the provider's improvement (action) plan."""

    agreed_on: date | None = None
    target_date: date | None = None
    high_risk_actions: Count | None = None
    high_risk_actions_little_progress: Count | None = None
    high_risk_actions_good_progress: Count | None = None
    moving_to_developmental_actions: bool | None = None
    actions_outstanding: Count | None = None
    improvement_sustained: bool | None = None
    within_sight_of_completion: bool | None = None
    little_progress_share: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="percentage (0-100, rounded down) of high-risk actions showing little progress: 100 * high_risk_actions_little_progress / high_risk_actions"
    )
    good_progress_share: Annotated[int, Field(ge=0, le=100)] | None = Field(
        default=None, description="percentage (0-100, rounded down) of high-risk actions showing good progress: 100 * high_risk_actions_good_progress / high_risk_actions"
    )


class History(_Strict):
    """What happened to this provider before."""

    last_qpip_ended_on: date | None = None
    last_qpip_same_proprietor: bool | None = None
    qpip1_supported_on: date | None = Field(default=None, description="when support under QPIP 1 began")
    qpip_level: Literal["none", "qpip_1", "qpip_2"] | None = Field(
        default=None, description="the QPIP level the provider is supported under on the as-of date (`none`: not in QPIP)"
    )
    qpip_started_on: date | None = Field(default=None, description="when the current QPIP (level 1 or 2) began")
    last_contract_visit_on: date | None = None
    first_meeting_on: date | None = None
    concern_raised_on: date | None = None
    board_referred_on: date | None = Field(default=None, description="when the provider was last referred to the authority's commissioning/quality board")
    final_warning_issued_on: date | None = Field(default=None, description="when the current final warning notice was issued")
    final_warning_lifted_on: date | None = Field(default=None, description="when the provider came out of the final-warning route because improvement was evidenced")


class Evidence(_Strict):
    """Everything known about one provider on one date. Only ``provider`` is required."""

    provider: Provider
    cqc: CqcRatings | None = None
    assessment: Assessments | None = None
    events: Annotated[list[Event], Field(max_length=10_000)] | None = Field(
        default=None, description="dated events; omit if not known, [] if known to be none"
    )
    flags: RiskFlags | None = None
    improvement_plan: ImprovementPlan | None = None
    history: History | None = None


def parse_evidence(data: Evidence | Mapping[str, Any] | str | bytes, *, source: str | None = None) -> Evidence:
    """Validate evidence from a model, a dict or JSON text; raise :class:`EvidenceError` listing every problem."""
    if isinstance(data, Evidence):
        return data
    try:
        if isinstance(data, (str, bytes)):
            return Evidence.model_validate_json(data)
        return Evidence.model_validate(data)
    except ValidationError as exc:
        raise EvidenceError(
            f"evidence{' in ' + source if source else ''} is not valid ({exc.error_count()} problem(s))",
            [_diagnostic(err, source) for err in exc.errors(include_url=False, include_input=False)],
        ) from None


def _diagnostic(err: Any, source: str | None) -> Diagnostic:
    from ._suggest import did_you_mean

    loc = tuple(err["loc"])
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".") or "$"
    hint = None
    if err["type"] == "extra_forbidden":
        model = _model_at(loc[:-1])
        hint = did_you_mean(str(loc[-1]), list(model.model_fields) if model else [])
        message = f"unknown field `{loc[-1]}`"
    else:
        message = err["msg"].removeprefix("Value error, ")
        message = message[0].lower() + message[1:]
    return Diagnostic(code="CP401", message=message, file=source, path=path, hint=hint)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that owns the field at ``loc`` (for "did you mean" hints)."""
    from typing import get_args

    model: type[BaseModel] = Evidence
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        nxt = None
        stack = [field.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                nxt = t
                break
            stack.extend(get_args(t))
        if nxt is None:
            return None
        model = nxt
    return model


def evidence_json_schema() -> dict[str, Any]:
    """JSON Schema of the evidence model, for council systems that produce evidence."""
    return finish_schema(Evidence.model_json_schema(), "carepolicy provider evidence")


def _dump(evidence: Evidence) -> str:
    return json.dumps(evidence.model_dump(mode="json", exclude_none=True), sort_keys=True)
