"""The plain-Python floor: each pack's headline decision written by hand over the evidence dict.

This is what a programmer would write for one council without a rules engine: the same
rules as the pack (each function cites the rows it encodes), the same three-valued logic
(missing evidence makes a test unknown; ``all`` is false if one part is false, ``any``
true if one part is true), the same event counting (an event whose filtered field is
missing may or may not count), and the same hit policies. Each function returns the
headline's ``(status, value)``. ``run.py`` checks it equal to carepolicy on every record
before timing anything, so a drift in a pack shows up as a mismatch, not a wrong figure.

The packs are the source of truth: if one changes, this file is updated to match.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable

from dateutil.relativedelta import relativedelta

NO_DEFAULT = object()
HARM = {"none": 0, "low": 1, "moderate": 2, "significant": 3, "severe": 4}


def t_all(*parts: bool | None) -> bool | None:
    unknown = False
    for p in parts:
        if p is False:
            return False
        if p is None:
            unknown = True
    return None if unknown else True


def t_any(*parts: bool | None) -> bool | None:
    unknown = False
    for p in parts:
        if p is True:
            return True
        if p is None:
            unknown = True
    return None if unknown else False


def is_(v: Any, want: Any) -> bool | None:
    return None if v is None else v == want


def in_(v: Any, wants: Any) -> bool | None:
    return None if v is None else v in wants


def at_least(v: Any, n: int) -> bool | None:
    return None if v is None else v >= n


def count(events: list[dict[str, Any]] | None, kinds: frozenset[str], as_of: date, *, start: date | None = None,
          where: tuple[Callable[[dict[str, Any]], bool | None], ...] = (), group: str | None = None) -> tuple[int, int] | None:
    """How many events match, at least and at most (an event with a missing filtered field may or may not count)."""
    if events is None:
        return None
    known: dict[Any, int] = {}
    maybe: dict[Any, int] = {}
    iso_end = as_of.isoformat()
    iso_start = start.isoformat() if start else None
    for e in events:
        d = e["date"]  # ISO text compares as dates
        if e["kind"] not in kinds or d > iso_end or (iso_start is not None and d < iso_start):
            continue
        verdict: bool | None = True
        for f in where:
            r = f(e)
            if r is False:
                verdict = False
                break
            if r is None:
                verdict = None
        if verdict is False:
            continue
        key = e.get(group) if group else 0
        if verdict is True and key is not None:
            known[key] = known.get(key, 0) + 1
        else:
            maybe[key] = maybe.get(key, 0) + 1
    floating = maybe.pop(None, 0)
    lo = max(known.values(), default=0)
    hi = max((known.get(k, 0) + maybe.get(k, 0) for k in set(known) | set(maybe)), default=0) + floating
    return lo, hi


def count_at_least(bounds: tuple[int, int] | None, n: int) -> bool | None:
    if bounds is None:
        return None
    lo, hi = bounds
    return True if lo >= n else False if hi < n else None


def count_at_most(bounds: tuple[int, int] | None, n: int) -> bool | None:
    if bounds is None:
        return None
    lo, hi = bounds
    return True if hi <= n else False if lo > n else None


def field_is(name: str, want: Any) -> Callable[[dict[str, Any]], bool | None]:
    return lambda e: None if (v := e.get(name)) is None else v == want


def field_in(name: str, wants: frozenset[Any]) -> Callable[[dict[str, Any]], bool | None]:
    return lambda e: None if (v := e.get(name)) is None else v in wants


def harm_at_least(level: str) -> Callable[[dict[str, Any]], bool | None]:
    bound = HARM[level]
    return lambda e: None if (v := e.get("harm")) is None else HARM[v] >= bound


def worst(rows: list[tuple[bool | None, str]], rank: dict[str, int], default: Any = NO_DEFAULT) -> tuple[str, Any]:
    """``hit: worst``: the worst value of the rows that hold; an unchecked row matters only if it could change it."""
    hits = [v for t, v in rows if t is True]
    unknown = [v for t, v in rows if t is None]
    if hits:
        top = max(rank[v] for v in hits)
        value = next(v for v in hits if rank[v] == top)
        if any(rank[u] > top for u in unknown):
            return "insufficient_evidence", None
        return "decided", value
    floor = rank[default] if default is not NO_DEFAULT else None
    if any(floor is None or rank[u] != floor for u in unknown):
        return "insufficient_evidence", None
    return ("no_value", None) if default is NO_DEFAULT else ("decided", default)


def unique(rows: list[tuple[bool | None, str]], default: Any = NO_DEFAULT) -> tuple[str, Any]:
    """``hit: unique``: one row may hold."""
    hits = [v for t, v in rows if t is True]
    if len(hits) > 1:
        return "conflict", None
    if hits:
        return "decided", hits[0]
    if any(t is None for t, _ in rows):
        return "insufficient_evidence", None
    return ("no_value", None) if default is NO_DEFAULT else ("decided", default)


def decision_is(result: tuple[str, Any], wants: tuple[str, ...]) -> bool | None:
    """A test on an earlier decision: unknown while it is not settled, false when it gave no value."""
    status, value = result
    if status == "decided":
        return value in wants
    return False if status == "no_value" else None


def local(rec: dict[str, Any], authority: str) -> dict[str, Any]:
    return (rec.get("local") or {}).get(authority) or {}


def authority(rec: dict[str, Any], authority_id: str) -> dict[str, Any]:
    return (rec.get("authorities") or {}).get(authority_id) or {}


# ----------------------------------------------------------------- Lancashire: QPIP tier

NOT_CARE = frozenset({"public_health", "social_inclusion", "pharmacy", "grant_funded", "gp_larc"})


def lancashire(rec: dict[str, Any], as_of: date) -> tuple[str, Any]:
    """Scope `not-a-care-provider`; bands `no-qpip` (<= 19), `qpip-1` (20-27), `qpip-2` (28+) on the risk score."""
    if rec["provider"]["service_type"] in NOT_CARE:
        return "out_of_scope", None
    score = local(rec, "lancashire").get("risk_profile_score")
    if score is None:
        return "insufficient_evidence", None
    return "decided", "none" if score <= 19 else "qpip_1" if score <= 27 else "qpip_2"


# ----------------------------------------------------------------- Wirral: PAMMS quality

COMMUNITY = frozenset({"domiciliary", "supported_living", "extra_care", "day_care"})


def wirral(rec: dict[str, Any], as_of: date) -> tuple[str, Any]:
    """Scope rules `assessment-not-agreed`, `other-authority-assessing`, `office-not-on-wirral`; the PAMMS rating as is."""
    mine = local(rec, "wirral")
    community = rec["provider"]["service_type"] in COMMUNITY
    if (is_(mine.get("pamms_scheduled"), False) is True
            or (community and is_(mine.get("pamms_assessed_by_other_authority"), True) is True)
            or (community and is_(authority(rec, "wirral").get("registered_office_in_area"), False) is True)):
        return "out_of_scope", None
    rating = mine.get("pamms_rating")
    return ("insufficient_evidence", None) if rating is None else ("decided", rating)


# ----------------------------------------------------------------- Somerset: contract standing

BELOW = ("requires_improvement", "inadequate")
GOOD = ("outstanding", "good")
STANDING = {"routine": 0, "informal_concerns": 1, "quality_improvement": 2, "whole_service_concern": 3, "board_referral": 4}
DEFAULT_STATUS = {"no_default": 0, "default": 1}


def somerset(rec: dict[str, Any], as_of: date) -> tuple[str, Any]:
    """Scope, then `cqc_standard` (unique), `service_provider_default` and `rag`, then `contract_standing` (worst)."""
    facts = authority(rec, "somerset")
    addresses = facts.get("addresses_in_area")
    if is_(facts.get("commissioned"), False) is True or (addresses is not None and addresses <= 0):
        return "out_of_scope", None
    cqc = rec.get("cqc") or {}
    overall = cqc.get("overall")
    kq = [cqc.get(k) for k in ("safe", "effective", "caring", "responsive", "well_led")]
    any_below = t_any(*(in_(v, BELOW) for v in kq))
    standard = unique([
        (t_all(is_(rec["provider"].get("cqc_regulated"), False), overall is None), "not_applicable"),
        (t_all(is_(overall, "not_rated"), None if any_below is None else not any_below), "not_rated"),
        (in_(overall, BELOW), "below_overall"),
        (t_all(in_(overall, ("outstanding", "good", "not_rated")), any_below), "below_in_key_question"),
        (t_all(in_(overall, GOOD), t_all(*(in_(v, GOOD) for v in kq))), "meets"),
    ], "not_rated")
    mine = local(rec, "somerset")
    whole = is_(mine.get("whole_service_concern"), True)
    below_overall = decision_is(standard, ("below_overall",))
    default = worst([(below_overall, "default"), (whole, "default")], DEFAULT_STATUS, "no_default")
    q = mine.get("questionnaire_rag")
    rag = ("insufficient_evidence", None) if q is None else ("decided", q)
    in_default = decision_is(default, ("default",))
    return worst([
        (decision_is(rag, ("amber",)), "informal_concerns"),
        (decision_is(standard, ("below_in_key_question",)), "informal_concerns"),
        (decision_is(rag, ("red",)), "quality_improvement"),
        (in_default, "quality_improvement"),
        (whole, "whole_service_concern"),
        (t_all(below_overall, at_least(cqc.get("consecutive_below_good"), 2)), "board_referral"),
        (t_all(in_default, is_(mine.get("engaging_with_council"), False)), "board_referral"),
        (t_all(in_default, is_(mine.get("improvement_sustained"), False)), "board_referral"),
        (t_all(in_default, is_(mine.get("compliance_fluctuating"), True)), "board_referral"),
    ], STANDING, "routine")


# ----------------------------------------------------------------- Oxfordshire: traffic light

CONCERN = {"none": 0, "standards_of_care": 1, "serious_concerns": 2}
RAG = {"green": 0, "amber": 1, "red": 2}
CORE = ("approach_to_personalisation", "care_plans_and_risk_assessments", "health_and_safety", "safeguarding")
OTHER = ("leadership_and_management", "staffing_levels_and_recruitment", "staff_skills_and_training",
         "service_quality_and_assurance", "involvement_and_engagement", "partnership_working")
K = frozenset
_REMEDIED_FALSE = (field_is("remedied", False),)


def oxfordshire(rec: dict[str, Any], as_of: date) -> tuple[str, Any]:
    """Annex 1 triggers t01-t22 (worst), the concerns process (worst), then the traffic light (worst)."""
    ev = rec.get("events")
    mine = local(rec, "oxfordshire")
    cqc = rec.get("cqc") or {}
    three_months = as_of - relativedelta(months=3) + timedelta(days=1)
    target = mine.get("plan_target_date")
    annex1 = worst([
        (count_at_least(count(ev, K({"safeguarding_alert", "s42_enquiry"}), as_of, start=three_months,
                              where=_REMEDIED_FALSE), 2), "standards_of_care"),
        (count_at_least(count(ev, K({"care_concern"}), as_of, where=(field_is("open", True),)), 1), "standards_of_care"),
        (count_at_least(count(ev, K({"organisational_abuse"}), as_of,
                              where=(field_is("level", "high"), lambda e: None if (v := e.get("people_affected")) is None else v >= 2)),
                        1), "serious_concerns"),
        (count_at_least(count(ev, K({"safeguarding_alert"}), as_of, group="staff_member"), 2), "standards_of_care"),
        (t_all(count_at_least(count(ev, K({"safeguarding_strategy_meeting"}), as_of), 1),
               is_(mine.get("whole_service_concern"), True)), "standards_of_care"),
        (count_at_least(count(ev, K({"injury_or_deterioration"}), as_of), 1), "serious_concerns"),
        (t_any(count_at_least(count(ev, K({"medication_error"}), as_of, where=(harm_at_least("significant"),)), 2),
               count_at_least(count(ev, K({"medication_error"}), as_of, where=(field_is("level", "high"),)), 2)),
         "serious_concerns"),
        (count_at_least(count(ev, K({"complaint"}), as_of, where=(field_is("substantiated", True),)), 2), "standards_of_care"),
        (count_at_least(count(ev, K({"whistleblowing"}), as_of,
                              where=(field_in("level", K({"low", "medium"})), field_is("remedied", False))), 2),
         "standards_of_care"),
        (t_any(in_(cqc.get("overall"), BELOW), is_(cqc.get("special_measures"), True),
               count_at_least(count(ev, K({"regulator_warning"}), as_of), 1)), "standards_of_care"),
        (count_at_least(count(ev, K({"serious_crime"}), as_of, where=(field_is("police_involved", True),)), 1),
         "serious_concerns"),
        (count_at_least(count(ev, K({"service_user_review_concern"}), as_of), 2), "standards_of_care"),
        (t_all(None if target is None else date.fromisoformat(target) <= as_of - timedelta(days=1),
               at_least(mine.get("actions_outstanding"), 1)), "standards_of_care"),
        (count_at_least(count(ev, K({"care_concern"}), as_of), 2), "standards_of_care"),
        (count_at_least(count(ev, K({"recording_failure"}), as_of), 2), "standards_of_care"),
        (count_at_least(count(ev, K({"medication_error"}), as_of,
                              where=(field_in("harm", K({"low", "moderate"})), field_is("remedied", False))), 2),
         "standards_of_care"),
        (count_at_least(count(ev, K({"recording_failure"}), as_of, where=(harm_at_least("significant"),)), 2),
         "serious_concerns"),
        (is_(mine.get("management_instability"), True), "standards_of_care"),
        (count_at_least(count(ev, K({"health_and_safety_concern"}), as_of, where=_REMEDIED_FALSE), 1), "standards_of_care"),
        (count_at_least(count(ev, K({"admission_needs_not_met"}), as_of), 1), "standards_of_care"),
        (count_at_least(count(ev, K({"fraud_concern"}), as_of), 1), "standards_of_care"),
        (is_(mine.get("poor_partner_relationships"), True), "standards_of_care"),
    ], CONCERN, "none")
    sc, soc = mine.get("serious_concerns_threshold_met"), mine.get("standards_of_care_threshold_met")
    process = worst([
        (is_(sc, True), "serious_concerns"),
        (is_(soc, True), "standards_of_care"),
        (t_all(decision_is(annex1, ("serious_concerns",)), sc is None), "serious_concerns"),
        (t_all(decision_is(annex1, ("standards_of_care", "serious_concerns")), soc is None), "standards_of_care"),
    ], CONCERN, "none")
    core = [mine.get(k) for k in CORE]
    return worst([
        (t_any(*(is_(v, "red") for v in core)), "red"),
        (decision_is(process, ("serious_concerns",)), "red"),
        (decision_is(process, ("standards_of_care",)), "amber"),
        (t_any(*(is_(v, "amber") for v in core)), "amber"),
        (t_any(*(is_(mine.get(k), "red") for k in OTHER)), "amber"),
        (is_(mine.get("all_areas_adequate"), False), "amber"),
    ], RAG, "green")


# ----------------------------------------------------------------- Bolton: Provider Quality Rating

PQR = {"pqr_1": 1, "pqr_2": 2, "pqr_3": 3, "pqr_4": 4, "pqr_5": 5}
HARMED = K({"incident", "medication_error", "injury_or_deterioration"})
SAFEGUARDING = K({"safeguarding_alert", "s42_enquiry"})


def bolton(rec: dict[str, Any], as_of: date) -> tuple[str, Any]:
    """The PQR rows pqr1-no-concerns to pqr5-market-exit-notice (worst; no default)."""
    ev = rec.get("events")
    m = local(rec, "bolton")
    concerns, compliance, standards = m.get("concerns_identified"), m.get("contract_compliance"), m.get("standards_breach")
    distress, kpis, productivity = m.get("financial_distress"), m.get("kpis"), m.get("productivity_targets")
    recruitment, experience = m.get("recruitment"), m.get("customer_experience")
    complaints = count(ev, K({"complaint"}), as_of)
    serious_complaints = count(ev, K({"complaint"}), as_of, where=(field_in("level", K({"medium", "high"})),))
    complaint_themes = count(ev, K({"complaint"}), as_of, group="theme")
    provider = rec["provider"]
    return worst([
        (t_all(is_(concerns, "none"), is_(compliance, "met"), is_(standards, "none"), is_(distress, "none"),
               is_(m.get("paperwork_in_order"), True), is_(experience, "good"),
               count_at_most(count(ev, HARMED, as_of, where=(field_is("learning_evidenced", False),)), 0),
               count_at_most(complaints, 2), count_at_most(serious_complaints, 0), count_at_most(complaint_themes, 1),
               count_at_most(count(ev, SAFEGUARDING, as_of, where=(field_is("substantiated", True),)), 0),
               count_at_most(count(ev, K({"whistleblowing"}), as_of, where=(field_is("substantiated", True),)), 0)),
         "pqr_1"),
        (is_(concerns, "minor"), "pqr_2"),
        (is_(standards, "easily_resolved"), "pqr_2"),
        (is_(compliance, "minor_gaps"), "pqr_2"),
        (t_all(count_at_least(complaints, 1), count_at_most(complaints, 2), count_at_most(serious_complaints, 0),
               count_at_least(complaint_themes, 2)), "pqr_2"),
        (t_any(is_(kpis, "at_risk"), is_(productivity, "at_risk")), "pqr_2"),
        (count_at_least(count(ev, K({"missed_return"}), as_of), 1), "pqr_2"),
        (is_(concerns, "may_impact_safety"), "pqr_3"),
        (count_at_least(count(ev, HARMED, as_of, where=(harm_at_least("moderate"), field_is("learning_evidenced", False))), 1),
         "pqr_3"),
        (count_at_least(count(ev, HARMED, as_of, where=(harm_at_least("moderate"),), group="theme"), 2), "pqr_3"),
        (count_at_least(count(ev, K({"safeguarding_alert"}), as_of, where=(field_is("open", True),)), 2), "pqr_3"),
        (count_at_least(count(ev, K({"s42_enquiry"}), as_of, where=(field_is("open", True),)), 1), "pqr_3"),
        (count_at_least(count(ev, K({"whistleblowing"}), as_of, where=(field_is("substantiated", True),)), 1), "pqr_3"),
        (is_(compliance, "gaps_affecting_delivery"), "pqr_3"),
        (is_(kpis, "some_not_met"), "pqr_3"),
        (is_(productivity, "some_not_met"), "pqr_3"),
        (is_(distress, "may_struggle_to_pay_staff"), "pqr_3"),
        (is_(recruitment, "struggling_with_plans"), "pqr_3"),
        (t_all(is_(provider.get("cqc_regulated"), True), is_(provider.get("registered_manager_in_post"), False)), "pqr_3"),
        (is_(m.get("high_staff_turnover"), True), "pqr_3"),
        (is_(concerns, "impacting_safety"), "pqr_4"),
        (count_at_least(count(ev, HARMED, as_of, where=(harm_at_least("significant"), field_is("learning_evidenced", False))),
                        1), "pqr_4"),
        (is_(compliance, "significant_breach"), "pqr_4"),
        (t_all(count_at_least(count(ev, SAFEGUARDING, as_of), 2),
               count_at_least(count(ev, SAFEGUARDING, as_of, where=(field_is("substantiated", True),)), 1)), "pqr_4"),
        (t_any(is_(kpis, "many_not_met"), is_(productivity, "many_not_met")), "pqr_4"),
        (is_(recruitment, "struggling_without_plans"), "pqr_4"),
        (is_(experience, "very_poor"), "pqr_4"),
        (is_(m.get("at_risk_of_failure"), True), "pqr_4"),
        (is_(distress, "struggling"), "pqr_4"),
        (is_(distress, "close_to_failure"), "pqr_5"),
        (is_(m.get("regulator_closure_warning"), True), "pqr_5"),
        (count_at_least(count(ev, K({"market_exit_notice"}), as_of), 1), "pqr_5"),
    ], PQR)


FLOORS: dict[str, Callable[[dict[str, Any], date], tuple[str, Any]]] = {
    "lancashire-qpip": lancashire,
    "oxfordshire-qip": oxfordshire,
    "bolton-qaf": bolton,
    "somerset-cqrm": somerset,
    "wirral-qip": wirral,
}
"""Each shipped pack's headline, by pack id."""
