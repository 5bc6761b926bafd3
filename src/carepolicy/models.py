"""The policy-pack format: frozen pydantic models of a pack, parsed from strict YAML.

A pack is plain data. Conditions are small trees (``all`` / ``any`` / ``not``, tests
on declared inputs, counts of dated events) over a closed set of operators, so the
same pack can be compiled to Python closures, translated to another engine, drawn
or diffed. Nothing in a pack is ever executed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    Tag,
    WithJsonSchema,
    model_validator,
)

from ._time import Duration, parse_date, parse_duration

__all__ = [
    "Pack",
    "PackMeta",
    "SourceDocument",
    "CalendarSpec",
    "Scale",
    "ScaleValue",
    "Input",
    "Role",
    "Condition",
    "AllOf",
    "AnyOf",
    "NotOf",
    "Test",
    "CountEvents",
    "EventQuery",
    "EventTest",
    "Band",
    "BandsDecision",
    "TableDecision",
    "Row",
    "Default",
    "Decision",
    "Outcome",
    "Due",
    "Quorum",
    "ScopeRule",
    "Ladder",
    "State",
    "Transition",
    "Trigger",
    "Approval",
    "DeadlineSpec",
    "TransitionWarning",
    "CONDITION_TAGS",
    "OPERATORS",
]

FORMAT_VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
        populate_by_name=True,
    )


# Validators raise "what is wrong; how to fix it": the loader shows the first part as the message
# and the rest as the hint.


def _cut(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_date(value: Any) -> Any:
    if isinstance(value, str) and len(value) > 10:
        raise ValueError(f"`{_cut(value)}` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`")
    return parse_date(value) if isinstance(value, str) else value


# The one way a pack writes a duration, here and in the JSON Schema: ASCII digits, one space, a unit
# in lower case (singular or plural). The lenient parser of _time only words the error.
_DURATION_FORM = re.compile(r"[0-9]+ (?:day|week|month|year|working day)s?")
_DURATION_PATTERN = "^[0-9]+ (day|week|month|year|working day)s?$"
_DURATION_HOW = ("write a whole number, one space and a unit in lower case: "
                 "`6 weeks`, `28 days`, `6 months`, `1 year` or `10 working days`")


def _parse_duration(value: Any) -> Any:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise ValueError(f"a duration is text; {_DURATION_HOW}")
    if len(value) > 40:
        raise ValueError(f"`{_cut(value)}` is not a duration; {_DURATION_HOW}")
    if _DURATION_FORM.fullmatch(value):
        return parse_duration(value)  # still refuses an amount past 100 years, saying so
    try:
        understood = parse_duration(value)
    except ValueError as exc:
        what, *advice = str(exc).split("; ")
        # the parser's general advice becomes the one accepted form; its particular advice stays
        advice = [_DURATION_HOW if a.startswith("write a whole number and a unit") else a for a in advice]
        raise ValueError("; ".join([what] + (advice or [_DURATION_HOW]))) from None
    raise ValueError(f"`{value}` is not written the way packs write durations; write `{understood}`: a whole number, "
                     "one space and a unit in lower case (day, week, month, year or working day, singular or plural)")


PackDate = Annotated[
    date,
    BeforeValidator(_parse_date),
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "maxLength": 10,
                    "description": "YYYY-MM-DD"}),
]
DurationText = Annotated[
    Duration,
    BeforeValidator(_parse_duration),
    PlainSerializer(lambda v: str(v), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _DURATION_PATTERN,
            "maxLength": 40,
            "description": "a whole number, one space and a unit: `6 weeks`, `28 days`, `6 months`, `1 year`, "
                           "`10 working days`",
            "examples": ["6 weeks", "28 days", "6 months", "10 working days"],
        }
    ),
]
Id = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]*(-[a-z0-9_]+)*$",
        max_length=80,
        description="lower-case id: letters, digits, `_` and `-`, starting with a letter",
    ),
]
Source = Annotated[
    str,
    Field(min_length=1, max_length=400, description="the clause of the source document this encodes, e.g. `§4.0 para 3`"),
]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
Number = Annotated[Union[int, float], Field(description="a number; thresholds are inclusive unless named `below`/`above`")]
# Every list and every text of a pack is bounded (generously: about ten times the largest real pack),
# so no pack, however hostile, costs more than its size promises.
Scalar = Union[bool, int, float, Annotated[str, Field(max_length=2000)]]


# ----------------------------------------------------------------- metadata


class SourceDocument(_Model):
    """The council document the pack encodes."""

    title: Text
    version: Text | None = None
    date: PackDate | None = None
    file: Text | None = Field(default=None, description="file name of the document, e.g. in shared/sources/")
    url: Text | None = None


class PackMeta(_Model):
    """Who the pack belongs to, what it encodes and when it is in force."""

    id: Id
    authority: Text
    title: Text
    version: Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+){0,2}([.-][0-9A-Za-z.]+)?$", max_length=50,
                                  description="quote it: `\"1.10\"`")]
    effective_from: PackDate
    effective_to: PackDate | None = Field(default=None, description="last day in force; omit while current")
    source_document: SourceDocument
    headline: Id = Field(description="the decision whose value is mapped to the common severity scale")
    description: Text | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> PackMeta:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("`effective_to` is before `effective_from`")
        return self


class CalendarSpec(_Model):
    """How working days are counted for this authority."""

    region: Literal["ENG", "WLS", "SCT", "NIR"] = "ENG"
    closures: Annotated[list[PackDate], Field(max_length=1000)] = Field(default_factory=list, description="extra council closure days")
    count_from: Literal["next_working_day", "same_day"] = "next_working_day"


class ScaleValue(_Model):
    id: Id
    label: Text
    severity: Annotated[int, Field(ge=0, le=4)] | None = Field(
        default=None, description="common severity: 0 none, 1 low, 2 moderate, 3 high, 4 critical"
    )
    meaning: Text | None = None
    source: Source | None = None


class Scale(_Model):
    """An ordered set of values, listed from best to worst (or unordered labels)."""

    id: Id
    description: Text | None = None
    ordered: bool = True
    values: Annotated[list[ScaleValue], Field(min_length=1, max_length=200)]
    source: Source | None = None


InputType = Literal["integer", "number", "boolean", "scale", "enum", "date", "events", "text"]


class Input(_Model):
    """A piece of evidence the pack reads, and which way is worse."""

    id: Id
    path: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$", max_length=200)]
    type: InputType
    scale: Id | None = Field(default=None, description="for `type: scale`: the scale whose values the evidence takes")
    worse: Literal["higher", "lower", "true", "false", "more", "none"] = Field(
        default="none", description="which way is worse: drives the monotonicity checks"
    )
    description: Text | None = None
    source: Source | None = None


class Role(_Model):
    id: Id
    title: Text
    source: Source | None = None


# ----------------------------------------------------------------- conditions

OPERATORS = (
    "is",
    "is_not",
    "in",
    "not_in",
    "at_least",
    "at_most",
    "above",
    "below",
    "worse_than",
    "no_better_than",
    "better_than",
    "no_worse_than",
    "within",
    "older_than",
    "known",
)
SUBJECTS = ("input", "decision", "any_of", "all_of")


class Test(_Model):
    """A test on one input, one earlier decision, or each of several inputs (``any_of``/``all_of``)."""

    input: Id | None = None
    decision: Id | None = None
    any_of: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = None
    all_of: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = None
    is_: Scalar | None = Field(default=None, alias="is")
    is_not: Scalar | None = None
    in_: Annotated[list[Scalar], Field(min_length=1, max_length=200)] | None = Field(default=None, alias="in")
    not_in: Annotated[list[Scalar], Field(min_length=1, max_length=200)] | None = None
    # Operands are any single value here; the checker says which operator suits which input,
    # so a number given to `worse_than` is reported as the wrong operator, not as "expected text".
    at_least: Scalar | None = None
    at_most: Scalar | None = None
    above: Scalar | None = None
    below: Scalar | None = None
    worse_than: Scalar | None = None
    no_better_than: Scalar | None = None
    better_than: Scalar | None = None
    no_worse_than: Scalar | None = None
    within: DurationText | None = Field(default=None, description="a date no older than this before the as-of date")
    older_than: DurationText | None = None
    known: bool | None = Field(default=None, description="`true`: the evidence is present; `false`: it is missing")

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Test:
        subjects = [s for s in SUBJECTS if getattr(self, s) is not None]
        if len(subjects) != 1:
            raise ValueError(
                "a test names exactly one of `input`, `decision`, `any_of` or `all_of`"
                + (f" (found {', '.join(subjects)})" if subjects else "")
            )
        ops = self.operators()
        if len(ops) != 1:
            raise ValueError(
                "a test has exactly one operator, one of: " + ", ".join(f"`{o}`" for o in OPERATORS)
                + (f" (found {', '.join(o for o, _ in ops)})" if ops else "")
            )
        return self

    @property
    def subject(self) -> tuple[str, Any]:
        for s in SUBJECTS:
            v = getattr(self, s)
            if v is not None:
                return s, v
        raise AssertionError("validated")

    def operators(self) -> list[tuple[str, Any]]:
        out = []
        for op in OPERATORS:
            attr = op + "_" if op in ("is", "in") else op
            v = getattr(self, attr)
            if v is not None:
                out.append((op, v))
        return out

    @property
    def operator(self) -> tuple[str, Any]:
        return self.operators()[0]


EventField = Literal[
    "staff_member", "people_affected", "harm", "level", "substantiated", "open", "remedied",
    "learning_evidenced", "police_involved", "theme",
]


class EventTest(_Model):
    """A filter on one field of an event, e.g. ``{field: harm, at_least: moderate}``."""

    field: EventField
    is_: Scalar | None = Field(default=None, alias="is")
    in_: Annotated[list[Scalar], Field(min_length=1, max_length=200)] | None = Field(default=None, alias="in")
    at_least: Scalar | None = None

    @model_validator(mode="after")
    def _one_operator(self) -> EventTest:
        if sum(v is not None for v in (self.is_, self.in_, self.at_least)) != 1:
            raise ValueError("an event filter has exactly one of `is`, `in` or `at_least`")
        return self


class EventQuery(_Model):
    """Which events to count: their kinds, a window ending on the as-of date, filters and grouping."""

    input: Id = Field(description="the `events` input to read")
    kinds: Annotated[list[Id], Field(min_length=1, max_length=50)]
    within: DurationText | None = Field(default=None, description="only events no older than this (inclusive)")
    where: Annotated[list[EventTest], Field(max_length=20)] = Field(default_factory=list)
    group_by: EventField | None = Field(default=None, description="count per value of this field and test the largest group")


class CountEvents(_Model):
    """How many matching events there are, compared with a threshold."""

    count_events: EventQuery
    at_least: Annotated[int, Field(ge=0)] | None = None
    at_most: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> CountEvents:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("`count_events` needs exactly one of `at_least` or `at_most`")
        return self


class AllOf(_Model):
    all: Annotated[list["Condition"], Field(min_length=1, max_length=100)]


class AnyOf(_Model):
    any: Annotated[list["Condition"], Field(min_length=1, max_length=100)]


class NotOf(_Model):
    not_: "Condition" = Field(alias="not")


CONDITION_TAGS = ("all", "any", "not", "count_events", "test")


def _condition_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "count_events"):
            if key in value:
                return key
        return "test"
    tags: dict[type, str] = {AllOf: "all", AnyOf: "any", NotOf: "not", CountEvents: "count_events", Test: "test"}
    return tags.get(type(value))


Condition = Annotated[
    Union[
        Annotated[AllOf, Tag("all")],
        Annotated[AnyOf, Tag("any")],
        Annotated[NotOf, Tag("not")],
        Annotated[CountEvents, Tag("count_events")],
        Annotated[Test, Tag("test")],
    ],
    Discriminator(_condition_tag, custom_error_type="condition", custom_error_message="a condition must be a mapping"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# ----------------------------------------------------------------- decisions


class Band(_Model):
    """One band of a number: ``min`` and ``max`` are inclusive, ``below`` is an exclusive upper bound."""

    id: Id
    value: Scalar
    min: Number | None = Field(default=None, description="inclusive lower bound; omit for no lower bound")
    max: Number | None = Field(default=None, description="inclusive upper bound")
    below: Number | None = Field(default=None, description="exclusive upper bound (use for decimal inputs)")
    source: Source
    judgement: Text | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Band:
        if self.max is not None and self.below is not None:
            raise ValueError("give a band `max` (inclusive) or `below` (exclusive), not both")
        upper = self.max if self.max is not None else self.below
        if self.min is not None and upper is not None and (upper < self.min or (self.below is not None and upper <= self.min)):
            raise ValueError(f"band `{self.id}` is empty: its upper bound is not above its lower bound")
        return self


class _DecisionBase(_Model):
    id: Id
    title: Text | None = None
    scale: Id | None = Field(default=None, description="the scale of the decision's values; omit for numbers")
    unit: Text | None = Field(default=None, description="for numeric decisions, e.g. `visits a year`")
    source: Source
    judgement: Text | None = Field(
        default=None, description="where the document leaves this decision to professional judgement: say why"
    )
    description: Text | None = None


class BandsDecision(_DecisionBase):
    """A value from the band a number falls in."""

    kind: Literal["bands"]
    input: Id
    bands: Annotated[list[Band], Field(min_length=1, max_length=100)]
    allow_gaps: bool = Field(default=False, description="allow numbers that fall in no band (they get no value)")
    allow_overlaps: bool = Field(default=False, description="allow a number to fall in more than one band (the first wins)")


class Row(_Model):
    """One row of a decision table: when the condition holds, the decision takes the value."""

    id: Id
    when: Condition
    value: Scalar
    source: Source
    judgement: Text | None = None
    note: Text | None = None


class Default(_Model):
    value: Scalar
    source: Source
    judgement: Text | None = None
    note: Text | None = None


class TableDecision(_DecisionBase):
    """A decision table with a hit policy.

    ``first``: the first row that holds; ``unique``: exactly one row may hold;
    ``worst``: the worst value of the rows that hold; ``collect``: every value that holds.
    """

    kind: Literal["table"]
    hit: Literal["first", "unique", "worst", "collect"]
    rows: Annotated[list[Row], Field(min_length=1, max_length=500)]
    default: Default | None = Field(default=None, description="the value when no row holds")


Decision = Annotated[Union[BandsDecision, TableDecision], Field(discriminator="kind")]


# ----------------------------------------------------------------- outcomes


class Due(_Model):
    """When an action is due: a duration after (or before) the as-of date or a date input."""

    after: DurationText | None = None
    before: DurationText | None = None
    from_: Annotated[str, Field(pattern=r"^(as_of|[a-z][a-z0-9_-]*)$", max_length=80)] = Field(
        default="as_of", alias="from", description="`as_of` or the id of a `date` input"
    )

    @model_validator(mode="after")
    def _one(self) -> Due:
        if (self.after is None) == (self.before is None):
            raise ValueError("`due` needs exactly one of `after` or `before`")
        return self


class Quorum(_Model):
    """A meeting may decide only with enough members, including named roles."""

    at_least: Annotated[int, Field(ge=1, le=100)]
    including: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)
    source: Source | None = None


class Outcome(_Model):
    """Something that follows from the decisions: an action, a notification, an approval, a warning."""

    id: Id
    kind: Literal["action", "review", "notify", "approval", "recommendation", "warning", "information"]
    when: Condition
    text: Text
    roles: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)
    due: Due | None = None
    quorum: Quorum | None = None
    source: Source
    judgement: Text | None = None


class ScopeRule(_Model):
    """A case the framework does not cover: when it holds, the pack makes no decision."""

    id: Id
    when: Condition
    reason: Text
    source: Source


# ----------------------------------------------------------------- escalation ladder


class State(_Model):
    id: Id
    label: Text
    kind: Literal["monitoring", "improvement", "enforcement", "exit"]
    rank: Annotated[int, Field(ge=0, le=100)] = Field(description="severity rank: higher is further up the ladder")
    severity: Annotated[int, Field(ge=0, le=4)] | None = None
    entry: bool = False
    description: Text | None = None
    source: Source


class Trigger(_Model):
    kind: Literal["review_outcome", "evidence", "deadline", "role_decision", "event"]
    name: Id | None = Field(default=None, description="e.g. the review outcome or the deadline id")
    description: Text | None = None


class Approval(_Model):
    """Who must agree: all of ``roles`` (``any: true`` for any one of them), or a quorate meeting."""

    roles: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)
    any: bool = False
    quorum: Quorum | None = None
    source: Source | None = None


class DeadlineSpec(_Model):
    """A deadline a transition starts: ``after`` a duration from the move, or from a date in the evidence."""

    id: Id
    text: Text
    after: DurationText
    from_: Id | None = Field(
        default=None, alias="from",
        description="the id of a `date` input: the clock runs from that date in the move's evidence "
                    "(omit: from the day of the move); a move whose evidence lacks the date is refused",
    )
    roles: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)
    on_miss: Id | None = Field(default=None, description="the transition a missed deadline triggers, if any")
    source: Source


class TransitionWarning(_Model):
    when: Condition
    message: Text
    source: Source


class Transition(_Model):
    id: Id
    from_: Id = Field(alias="from")
    to: Id
    direction: Literal["escalate", "de-escalate", "lateral"]
    trigger: Trigger
    guard: Condition | None = None
    approvals: Annotated[list[Approval], Field(max_length=20)] = Field(default_factory=list)
    starts: Annotated[list[DeadlineSpec], Field(max_length=20)] = Field(default_factory=list)
    meets: Annotated[list[Id], Field(max_length=20)] = Field(
        default_factory=list,
        description="ids of deadlines running in `from` that this move closes as met (e.g. the review it records); "
                    "the move is refused if one is not running",
    )
    warnings: Annotated[list[TransitionWarning], Field(max_length=20)] = Field(default_factory=list)
    judgement: Text | None = None
    description: Text | None = None
    source: Source


class Ladder(_Model):
    states: Annotated[list[State], Field(min_length=1, max_length=100)]
    transitions: Annotated[list[Transition], Field(max_length=500)]
    source: Source | None = None


# ----------------------------------------------------------------- the pack


def _format_version(value: Any) -> Any:
    if value != FORMAT_VERSION or isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"`carepolicy:` is the pack format version, the number {FORMAT_VERSION} without quotes")
    return value


class Pack(_Model):
    """One authority's framework as data."""

    carepolicy: Annotated[int, BeforeValidator(_format_version)] = Field(
        description="pack format version", json_schema_extra={"const": FORMAT_VERSION})
    pack: PackMeta
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    scales: Annotated[list[Scale], Field(min_length=1, max_length=100)]
    inputs: Annotated[list[Input], Field(min_length=1, max_length=500)]
    roles: Annotated[list[Role], Field(max_length=200)] = Field(default_factory=list)
    scope: Annotated[list[ScopeRule], Field(max_length=100)] = Field(default_factory=list)
    decisions: Annotated[list[Decision], Field(min_length=1, max_length=200)]
    outcomes: Annotated[list[Outcome], Field(max_length=500)] = Field(default_factory=list)
    ladder: Ladder | None = None

    def decision(self, decision_id: str) -> BandsDecision | TableDecision:
        for d in self.decisions:
            if d.id == decision_id:
                return d
        raise KeyError(decision_id)

    def scale(self, scale_id: str) -> Scale:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(scale_id)
