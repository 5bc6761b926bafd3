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
from ._version import PACK_FORMAT

__all__ = [
    "Pack",
    "PackMeta",
    "Authority",
    "SourceDocument",
    "CalendarSpec",
    "Scale",
    "ScaleValue",
    "Input",
    "InputRef",
    "ListItems",
    "Derive",
    "Arithmetic",
    "CountInputs",
    "EventKind",
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
    "Consistency",
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

FORMAT_VERSION = PACK_FORMAT


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
    publisher: Text | None = Field(default=None, description="who published it, e.g. the council and its NHS partner")
    url: Text | None = Field(default=None, description="where the public can find it")


class Authority(_Model):
    """The council (or partnership) whose framework this is."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60)] = Field(
        description="the authority's key in evidence, e.g. `lancashire`: its own findings are read from "
                    "`local.<id>` and its per-authority facts from `authorities.<id>`; every pack of one authority uses the same id",
    )
    name: Text


class PackMeta(_Model):
    """Who the pack belongs to, what it encodes and when it is in force."""

    id: Id
    authority: Authority = Field(description="`{id: lancashire, name: Lancashire County Council}`")
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


InputType = Literal["integer", "number", "boolean", "scale", "enum", "date", "events", "text", "list"]
ItemType = Literal["integer", "number", "boolean", "scale", "enum", "date", "text"]
Rounding = Literal["down", "up", "half_up", "half_even"]
Month = Literal[
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]
MONTHS: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)


class InputRef(_Model):
    """Another input as the operand of a test: ``{input: a, at_most: {input: b}}``."""

    input: Id


class ListItems(_Model):
    """The type of each item of a ``type: list`` local finding."""

    type: ItemType
    scale: Id | None = None
    values: Annotated[list[Id], Field(min_length=1, max_length=200)] | None = None
    min: Number | None = None
    max: Number | None = None
    max_length: Annotated[int, Field(ge=1, le=5000)] | None = None


def _scalar_or_ref(value: Any) -> str:
    return "input_ref" if isinstance(value, (dict, InputRef)) else "scalar"


# A value, or another input written `{input: <id>}`; the tags keep pydantic's errors to the branch meant.
ScalarOrRef = Annotated[
    Union[Annotated[Scalar, Tag("scalar")], Annotated[InputRef, Tag("input_ref")]],
    Discriminator(_scalar_or_ref),
]


class _Operators(_Model):
    """The closed set of operators a test may use; exactly one per test."""

    is_: "ScalarOrRef | None" = Field(default=None, alias="is")
    is_not: "ScalarOrRef | None" = None
    in_: Annotated[list[Scalar], Field(min_length=1, max_length=200)] | None = Field(default=None, alias="in")
    not_in: Annotated[list[Scalar], Field(min_length=1, max_length=200)] | None = None
    # Operands are any single value (or another input) here; the checker says which operator suits
    # which input, so a number given to `worse_than` is reported as the wrong operator.
    at_least: "ScalarOrRef | None" = None
    at_most: "ScalarOrRef | None" = None
    above: "ScalarOrRef | None" = None
    below: "ScalarOrRef | None" = None
    worse_than: "ScalarOrRef | None" = None
    no_better_than: "ScalarOrRef | None" = None
    better_than: "ScalarOrRef | None" = None
    no_worse_than: "ScalarOrRef | None" = None
    within: DurationText | None = Field(
        default=None, description="a date after the day this long before the as-of date, up to the as-of date: "
                                  "`within: 1 month` as of 15 March holds from 16 February to 15 March (15 February "
                                  "and 16 March are not within)")
    older_than: DurationText | None = Field(
        default=None, description="a date on or before the day this long before the as-of date: `older_than: 1 month` "
                                  "as of 15 March holds for 15 February and earlier")
    known: bool | None = Field(default=None, description="`true`: the evidence is present; `false`: it is missing")

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

    def _one_operator(self, what: str) -> None:
        ops = self.operators()
        if len(ops) != 1:
            raise ValueError(
                f"{what} has exactly one operator, one of: " + ", ".join(f"`{o}`" for o in OPERATORS)
                + (f" (found {', '.join(o for o, _ in ops)})" if ops else "")
            )


class CountInputs(_Operators):
    """How many of several inputs pass one test: ``{of: [a, b, c], is: green}``."""

    of: Annotated[list[Id], Field(min_length=1, max_length=100)]

    @model_validator(mode="after")
    def _one(self) -> CountInputs:
        self._one_operator("`count`")
        return self


def _operand_kind(value: Any) -> str:
    if isinstance(value, str):
        return "operand_input"
    if isinstance(value, (dict, BaseModel)):
        return "operand_arithmetic"
    return "operand_number"


Operand = Annotated[
    Union[
        Annotated[Id, Tag("operand_input")],
        Annotated[Union[int, float], Tag("operand_number")],
        Annotated["Arithmetic", Tag("operand_arithmetic")],
    ],
    Discriminator(_operand_kind),
]
_ARITHMETIC = ("sum", "difference", "product", "quotient")


class Arithmetic(_Model):
    """Exactly one of ``sum``, ``difference``, ``product``, ``quotient`` over inputs, numbers or nested arithmetic."""

    sum: Annotated[list[Operand], Field(min_length=2, max_length=50)] | None = None
    difference: Annotated[list[Operand], Field(min_length=2, max_length=2)] | None = None
    product: Annotated[list[Operand], Field(min_length=2, max_length=50)] | None = None
    quotient: Annotated[list[Operand], Field(min_length=2, max_length=2)] | None = None
    if_zero: Number | None = Field(
        default=None, description="the value of a `quotient` whose divisor is 0 (omit: a located evaluation error)"
    )

    @model_validator(mode="after")
    def _one_form(self) -> Arithmetic:
        forms = [f for f in _ARITHMETIC if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("arithmetic has exactly one of `sum`, `difference`, `product` or `quotient`"
                             + (f" (found {', '.join(forms)})" if forms else ""))
        if self.if_zero is not None and forms[0] != "quotient":
            raise ValueError("`if_zero` goes with `quotient`")
        return self

    @property
    def form(self) -> tuple[str, list[Any]]:
        for f in _ARITHMETIC:
            v = getattr(self, f)
            if v is not None:
                return f, v
        raise AssertionError("validated")


_DERIVE_FORMS = (*_ARITHMETIC, "count", "count_events", "days_between", "date")


class Derive(_Model):
    """How an input is computed from other inputs, so no evidence field carries a number the pack could compute.

    Exactly one form: arithmetic (``sum``, ``difference``, ``product``, ``quotient``, with
    ``round``/``places`` and ``if_zero``), ``count`` (how many inputs pass a test),
    ``count_events`` (how many events match), ``days_between`` (``[from, to]``: days from
    the first date to the second) or ``date`` shifted by ``plus``/``minus`` a duration.
    Missing operands make the result missing; a count with unknown members is a range.
    """

    sum: Annotated[list[Operand], Field(min_length=2, max_length=50)] | None = None
    difference: Annotated[list[Operand], Field(min_length=2, max_length=2)] | None = None
    product: Annotated[list[Operand], Field(min_length=2, max_length=50)] | None = None
    quotient: Annotated[list[Operand], Field(min_length=2, max_length=2)] | None = None
    if_zero: Number | None = Field(
        default=None, description="the value of a `quotient` whose divisor is 0 (omit: a located evaluation error)"
    )
    round: Rounding | None = Field(
        default=None, description="how a result is rounded to `places` decimals: down (floor), up (ceiling), "
                                  "half_up (nearest, halves away from zero) or half_even (nearest, halves to even); "
                                  "required where a quotient of whole numbers declared `integer` may not be whole"
    )
    places: Annotated[int, Field(ge=0, le=6)] = 0
    count: CountInputs | None = None
    count_events: "EventQuery | None" = None
    days_between: Annotated[list[Id], Field(min_length=2, max_length=2)] | None = Field(
        default=None, description="`[from, to]`: whole days from the first date to the second (negative if earlier)"
    )
    date: Id | None = Field(default=None, description="a date input, shifted by `plus` or `minus`")
    plus: DurationText | None = None
    minus: DurationText | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Derive:
        forms = [f for f in _DERIVE_FORMS if getattr(self, f) is not None]
        if len(forms) != 1:
            raise ValueError("`derive` has exactly one of " + ", ".join(f"`{f}`" for f in _DERIVE_FORMS)
                             + (f" (found {', '.join(forms)})" if forms else ""))
        form = forms[0]
        if form not in _ARITHMETIC and (self.round is not None or self.places or self.if_zero is not None):
            raise ValueError("`round`, `places` and `if_zero` go with arithmetic (`sum`, `difference`, `product`, `quotient`)")
        if self.if_zero is not None and form != "quotient":
            raise ValueError("`if_zero` goes with `quotient`")
        if form == "date":
            if (self.plus is None) == (self.minus is None):
                raise ValueError("`derive: {date: ...}` needs exactly one of `plus` or `minus`")
        elif self.plus is not None or self.minus is not None:
            raise ValueError("`plus` and `minus` go with `date`")
        return self

    @property
    def form(self) -> str:
        for f in _DERIVE_FORMS:
            if getattr(self, f) is not None:
                return f
        raise AssertionError("validated")

    def arithmetic(self) -> Arithmetic | None:
        """The top-level arithmetic as an :class:`Arithmetic` node (``None`` for other forms)."""
        if self.form not in _ARITHMETIC:
            return None
        return Arithmetic.model_validate({self.form: getattr(self, self.form), "if_zero": self.if_zero})


class Input(_Model):
    """A piece of evidence the pack reads (``path``) or computes (``derive``), and which way is worse.

    ``path`` is a shared fact (``provider.*``, ``cqc.*``, ``events``), a per-authority fact
    (``authority.*``: this authority's entry of ``authorities``), this authority's own local
    finding (``local.<finding>``, read from ``local.<authority id>.<finding>``) or, named
    explicitly, another authority's (``local.<authority id>.<finding>``). A local finding
    is declared here: its ``type`` and ``min``/``max``, ``values``, ``scale`` or ``items``.
    """

    id: Id
    path: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$", max_length=200)] | None = None
    derive: Derive | None = None
    type: InputType
    scale: Id | None = Field(default=None, description="for `type: scale`: the scale whose values the evidence takes")
    values: Annotated[list[Id], Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="for a local `type: enum` finding: the values it may take")
    min: Number | None = Field(default=None, description="for a local number: the smallest value evidence may give")
    max: Number | None = Field(default=None, description="for a local number: the largest value evidence may give")
    items: ListItems | None = Field(default=None, description="for a local `type: list` finding: the type of each item")
    max_length: Annotated[int, Field(ge=1, le=5000)] | None = Field(
        default=None, description="for local text (or a list): the most characters (items) evidence may give")
    worse: Literal["higher", "lower", "true", "false", "more", "none"] = Field(
        default="none", description="which way is worse: drives the monotonicity checks"
    )
    was: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$", max_length=200)] | None = Field(
        default=None, description="where this input was in evidence layout 1 (before local findings), "
                                  "so old records get an error naming the new place and `carepolicy migrate` can move it",
    )
    description: Text | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _read_or_derive(self) -> Input:
        if (self.path is None) == (self.derive is None):
            raise ValueError("an input has exactly one of `path` (where evidence gives it) or `derive` (how it is computed)")
        return self


class EventKind(_Model):
    """A kind of dated event this pack counts beyond the shared kinds."""

    id: Id
    description: Text
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


class Test(_Operators):
    """A test on one input, one earlier decision, or each of several inputs (``any_of``/``all_of``)."""

    input: Id | None = None
    decision: Id | None = None
    any_of: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = None
    all_of: Annotated[list[Id], Field(min_length=1, max_length=50)] | None = None

    @model_validator(mode="after")
    def _one_subject_one_operator(self) -> Test:
        subjects = [s for s in SUBJECTS if getattr(self, s) is not None]
        if len(subjects) != 1:
            raise ValueError(
                "a test names exactly one of `input`, `decision`, `any_of` or `all_of`"
                + (f" (found {', '.join(subjects)})" if subjects else "")
            )
        self._one_operator("a test")
        return self

    @property
    def subject(self) -> tuple[str, Any]:
        for s in SUBJECTS:
            v = getattr(self, s)
            if v is not None:
                return s, v
        raise AssertionError("validated")


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
    within: DurationText | None = Field(
        default=None, description="only events dated after the day this long before the as-of date, up to the as-of "
                                  "date: `within: 1 month` as of 15 March counts 16 February to 15 March (an event "
                                  "dated exactly one month before is outside)")
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
    """When an action is due, counted from the as-of date or a date input (``from``).

    Exactly one of: ``after``/``before`` a duration; ``day`` of the anchor's month
    (``month: same``) or of the next month (``month: next``), clamped to the month's last
    day; or a window of whole ``months`` in the anchor's year (``year: same``) or the next
    (``year: next``), due by the window's last day and not before its first.
    """

    after: DurationText | None = None
    before: DurationText | None = None
    day: Annotated[int, Field(ge=1, le=31)] | None = Field(default=None, description="a day of the month, e.g. `8`")
    month: Literal["same", "next"] | None = Field(default=None, description="with `day`: the anchor's month or the next")
    months: Annotated[list[Month], Field(min_length=1, max_length=12)] | None = Field(
        default=None, description="a window of consecutive months, e.g. `[november, december]`")
    year: Literal["same", "next"] | None = Field(default=None, description="with `months`: the anchor's year or the next")
    from_: Annotated[str, Field(pattern=r"^(as_of|[a-z][a-z0-9_-]*)$", max_length=80)] = Field(
        default="as_of", alias="from", description="`as_of` or the id of a `date` input"
    )

    @model_validator(mode="after")
    def _one(self) -> Due:
        forms = [name for name, v in (("after", self.after), ("before", self.before), ("day", self.day),
                                      ("months", self.months)) if v is not None]
        if len(forms) != 1:
            raise ValueError("`due` needs exactly one of `after`, `before`, `day` (with `month`) or `months` (with `year`)"
                             + (f" (found {', '.join(forms)})" if len(forms) > 1 else ""))
        if (self.day is None) != (self.month is None):
            raise ValueError("`day` and `month` go together: `{day: 8, month: next}`")
        if (self.months is None) != (self.year is None):
            raise ValueError("`months` and `year` go together: `{months: [november, december], year: same}`")
        if self.months is not None:
            idx = [MONTHS.index(m) for m in self.months]
            if any((b - a) % 12 != 1 for a, b in zip(idx, idx[1:])):
                raise ValueError("`months` must be consecutive months in calendar order, e.g. `[november, december]`")
        return self

    def describe(self, origin: str | None = None) -> str:
        """In words: ``6 weeks after the as-of date``, ``on day 8 of the month after `x` ``..."""
        anchor = origin or ("the as-of date" if self.from_ == "as_of" else f"`{self.from_}`")
        if self.after is not None:
            return f"{self.after} after {anchor}"
        if self.before is not None:
            return f"{self.before} before {anchor}"
        if self.day is not None:
            return f"on day {self.day} of {'the month of' if self.month == 'same' else 'the month after'} {anchor}"
        assert self.months is not None
        first, last = self.months[0].capitalize(), self.months[-1].capitalize()
        span = first if len(self.months) == 1 else f"{first} to {last}"
        return f"in {span} of {'the year of' if self.year == 'same' else 'the year after'} {anchor}"


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


class Consistency(_Model):
    """Two findings the document says cannot both be true: when ``when`` holds, the decision warns and is flagged."""

    id: Id
    when: Condition
    message: Text = Field(description="what contradicts what, in the document's terms")
    source: Source
    judgement: Text | None = Field(default=None, description="why resolving it is left to professionals (default: the message)")


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
    if value == 1 and type(value) is int:
        raise ValueError(
            "this pack is written for pack format 1, whose inputs read one closed evidence model; format 2 "
            "declares the authority's own findings in the pack (`authority: {id, name}`, `path: local.<finding>` with its type): "
            "see policies/README.md, 'From format 1 to format 2'"
        )
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
    event_kinds: Annotated[list[EventKind], Field(max_length=200)] = Field(
        default_factory=list, description="kinds of dated event this pack counts beyond the shared kinds")
    inputs: Annotated[list[Input], Field(min_length=1, max_length=500)]
    roles: Annotated[list[Role], Field(max_length=200)] = Field(default_factory=list)
    scope: Annotated[list[ScopeRule], Field(max_length=100)] = Field(default_factory=list)
    decisions: Annotated[list[Decision], Field(min_length=1, max_length=200)]
    outcomes: Annotated[list[Outcome], Field(max_length=500)] = Field(default_factory=list)
    consistency: Annotated[list[Consistency], Field(max_length=200)] = Field(
        default_factory=list, description="findings that contradict each other: each gives a warning and a judgement flag")
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


Arithmetic.model_rebuild()
Derive.model_rebuild()
Input.model_rebuild()
