"""Typed provider evidence: the shared facts every framework reads the same way.

A record has two layers. The **shared facts** are defined here, once, for every
council: who the provider is (``provider``), the regulator's ratings with their dates
(``cqc``), dated ``events``, and the facts that are per authority by nature, keyed by
authority (``authorities.<authority_id>``: in this authority's area, commissioned by
it). Each authority's **local findings** (scores, standards, RAG ratings, meeting
outcomes, process dates) live under ``local.<authority_id>`` and are declared by the
packs themselves, never here: a pack's ``inputs:`` give each finding's type, range,
clause and description, and :meth:`carepolicy.PolicyPack.evidence_model` builds the
strict model for exactly what a pack (or a library of packs) reads.

Every field except the provider's identity is optional: ``None`` (or absent) means
*not known*, and missing evidence is reported as missing, never read as good news; an
empty list of events means *known: there were none*. Evidence is strict: unknown
fields are errors, numbers are not parsed from strings, booleans are not numbers, and
dates are ISO ``YYYY-MM-DD`` text between 1900 and 2899.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from ._jsonschema import finish_schema
from ._time import parse_date

__all__ = [
    "Evidence",
    "Provider",
    "CqcRatings",
    "Event",
    "AuthorityFacts",
    "EVENT_KINDS",
    "EVENT_FIELDS",
    "EARLIEST",
    "LATEST",
    "evidence_json_schema",
]

EARLIEST, LATEST = date(1900, 1, 1), date(2899, 12, 31)
"""The dates carepolicy reads: far enough apart for any record, near enough that a century's
deadline from either end is still a date (``9999-12-31`` placeholders are refused, not wrapped)."""


@lru_cache(maxsize=4096)
def _day(text: str) -> date:
    """``parse_date``, remembered: a market's records share most of their dates (pure, so safe to share)."""
    return parse_date(text)


def _iso_date(value: Any) -> Any:
    if type(value) is str:
        day = _day(value)
    elif isinstance(value, str):
        day = parse_date(value)
    elif isinstance(value, date) and type(value) is date:
        day = value
    else:
        return value  # pydantic's strict date check reports the wrong type
    if not EARLIEST <= day <= LATEST:
        raise ValueError(
            f"`{day.isoformat()}` is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}, the dates carepolicy reads; "
            "if it stands for 'no date' or 'no end date', leave the field out"
        )
    return day


IsoDate = Annotated[
    date,
    BeforeValidator(_iso_date),
    WithJsonSchema({"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$",
                    "description": "YYYY-MM-DD, 1900-01-01 to 2899-12-31"}),
]
AuthorityKey = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)]
_KEY_SCHEMA: dict[str, Any] = {"pattern": "^[a-z][a-z0-9_]*$", "maxLength": 60}

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
Level = Literal["low", "medium", "high"]
Harm = Literal["none", "low", "moderate", "significant", "severe"]

EVENT_KINDS: tuple[str, ...] = (
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
    "safeguarding_outcome_improvement_needed",
)
"""Kinds of dated event every pack may count; a pack may declare more (``event_kinds:``)."""

Count = Annotated[int, Field(ge=0, le=1_000_000)]
Text = Annotated[str, Field(min_length=1, max_length=500)]
MAX_EVENTS = 10_000
MAX_AUTHORITIES = 400


class _Strict(BaseModel):
    """Frozen, strict, closed: a typo in evidence is an error, not a silently ignored field."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )


class Provider(_Strict):
    """Who the provider is and what service it runs, as registered."""

    id: Text
    name: Text
    proprietor: Text | None = None
    service_type: ServiceType
    cqc_regulated: bool | None = None
    registered_manager_in_post: bool | None = Field(default=None, description="a registered manager is in post (CQC register)")
    beds: Count | None = None
    people_served: Count | None = None
    client_group: Literal["adults", "children"] | None = Field(
        default=None, description="who the service supports: adults' or children's services"
    )


class CqcRatings(_Strict):
    """The regulator's latest published ratings, with their dates."""

    overall: CqcRating | None = None
    safe: CqcRating | None = None
    effective: CqcRating | None = None
    caring: CqcRating | None = None
    responsive: CqcRating | None = None
    well_led: CqcRating | None = None
    special_measures: bool | None = None
    inspection_date: IsoDate | None = Field(default=None, description="date of the latest inspection")
    published_on: IsoDate | None = Field(default=None, description="date the latest ratings were published")
    overall_since: IsoDate | None = Field(default=None, description="date the current overall rating was first published")
    consecutive_below_good: Count | None = Field(default=None, description="inspections in a row rated below Good overall")


EVENT_FIELDS: tuple[str, ...] = (
    "staff_member", "people_affected", "harm", "level", "substantiated", "open", "remedied",
    "learning_evidenced", "police_involved", "theme",
)
"""The attributes of an event that a pack's ``count_events`` may filter or group by."""


class Event(_Strict):
    """One dated thing that happened: an alert, a complaint, an error, a notice..."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
    date: IsoDate
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


class AuthorityFacts(_Strict):
    """What one authority's relation to the provider is: per authority by nature, so keyed by authority."""

    in_area: bool | None = Field(default=None, description="the service, or one of its addresses, is in the authority's area")
    addresses_in_area: Count | None = Field(default=None, description="service addresses inside the authority's area")
    registered_office_in_area: bool | None = Field(default=None, description="registered office (office base) inside the authority's area")
    commissioned: bool | None = Field(
        default=None,
        description="the authority or its NHS partner holds a contract with the provider for the service "
                    "(false: no contract, or only direct payments / personal budgets)",
    )
    previously_commissioned: bool | None = Field(
        default=None, description="the authority has commissioned this service before (false: a new service)"
    )


class Evidence(_Strict):
    """Everything known about one provider on one date. Only ``provider`` is required.

    This base model reads the shared facts; ``local`` is left unchecked here. The model
    a pack or library builds (:meth:`carepolicy.PolicyPack.evidence_model`) checks each
    authority's local findings against the packs' declarations.
    """

    provider: Provider
    cqc: CqcRatings | None = None
    events: Annotated[list[Event], Field(max_length=MAX_EVENTS)] | None = Field(
        default=None, description="dated events; omit if not known, [] if known to be none"
    )
    authorities: Annotated[dict[AuthorityKey, AuthorityFacts], Field(max_length=MAX_AUTHORITIES)] | None = Field(
        default=None, description="facts per authority, keyed by the authority's id (e.g. `lancashire`)",
        json_schema_extra={"propertyNames": _KEY_SCHEMA},
    )
    local: dict[AuthorityKey, dict[str, Any]] | None = Field(
        default=None, description="each authority's own findings, keyed by its id; declared by its packs",
        json_schema_extra={"propertyNames": _KEY_SCHEMA},
    )


def evidence_json_schema() -> dict[str, Any]:
    """JSON Schema of the shared facts (local findings are described by the packs' own schemas)."""
    return finish_schema(Evidence.model_json_schema(), "carepolicy provider evidence (shared facts)")
