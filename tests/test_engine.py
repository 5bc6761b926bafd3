"""Evaluation semantics of every pack construct, written as small inline packs.

Each condition is checked through a one-row table (``red`` when the condition holds,
``green`` by default), so a condition's three-valued result reads straight off the
decision: ``true``, ``false`` or ``unknown`` (insufficient evidence).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from carepolicy import (
    Decision,
    EvaluationError,
    EvidenceError,
    PackLibrary,
    PackLoadError,
    PolicyPack,
    evaluate,
    load_pack,
    loads_pack,
    parse_evidence,
)

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = ROOT / "tests/data/packs/valid/everything.yaml"
MEADOWBANK = ROOT / "tests/data/packs/valid/everything.evidence.json"  # Meadowbank House as the example council records it

STANDARDS = [
    "leadership_and_management",
    "staffing_levels_and_recruitment",
    "staff_skills_and_training",
    "approach_to_personalisation",
    "care_plans_and_risk_assessments",
    "health_and_safety",
    "safeguarding",
    "service_quality_and_assurance",
    "involvement_and_engagement",
    "partnership_working",
]

HEAD = """\
carepolicy: 2
pack:
  id: test-pack
  authority: {{id: test, name: Test Council}}
  title: Test framework
  version: "{version}"
  effective_from: "{effective_from}"
  effective_to: {effective_to}
  source_document: {{title: Test document, version: v1}}
  headline: {headline}
calendar: {calendar}
scales:
  - id: rag
    values:
      - {{id: green, label: Green, severity: 0}}
      - {{id: amber, label: Amber, severity: 2}}
      - {{id: red, label: Red, severity: 3}}
  - id: cqc
    values:
      - {{id: outstanding, label: Outstanding, severity: 0}}
      - {{id: good, label: Good, severity: 0}}
      - {{id: requires_improvement, label: Requires improvement, severity: 2}}
      - {{id: inadequate, label: Inadequate, severity: 3}}
      - {{id: not_rated, label: Not rated, severity: 1}}
  - id: activity
    ordered: false
    values:
      - {{id: visit, label: Visit, severity: 1}}
      - {{id: survey, label: Survey, severity: 1}}
      - {{id: audit, label: Audit, severity: 2}}
roles:
  - {{id: lead, title: Quality lead}}
  - {{id: manager, title: Quality manager}}
  - {{id: chair, title: Chair}}
inputs:
  - {{id: score, path: local.risk_profile_score, type: integer, min: 0, max: 1000, worse: higher}}
  - {{id: rating, path: local.provider_quality_rating, type: number, min: 1, max: 5, worse: lower}}
  - {{id: cqc_overall, path: cqc.overall, type: scale, scale: cqc, worse: higher}}
  - {{id: special_measures, path: cqc.special_measures, type: boolean, worse: "true"}}
  - {{id: service_type, path: provider.service_type, type: enum}}
  - {{id: office_in_area, path: authority.registered_office_in_area, type: boolean, worse: "false"}}
  - {{id: name, path: provider.name, type: text}}
  - {{id: last_qpip, path: local.last_qpip_ended_on, type: date}}
  - {{id: first_meeting, path: local.first_meeting_on, type: date}}
  - {{id: events, path: events, type: events, worse: more}}
""" + "".join(
    f"  - {{{{id: std_{i}, path: local.{name}, type: scale, scale: rag, worse: higher}}}}\n"
    for i, name in enumerate(STANDARDS, 1)
)


def make_pack(
    body: str,
    *,
    headline: str = "result",
    version: str = "1.0.0",
    effective_from: str = "2024-01-01",
    effective_to: str | None = None,
    calendar: str = "{region: ENG}",
    filename: str = "test.yaml",
) -> PolicyPack:
    head = HEAD.format(
        version=version,
        effective_from=effective_from,
        effective_to=f'"{effective_to}"' if effective_to else "null",
        headline=headline,
        calendar=calendar,
    )
    return loads_pack(head + textwrap.dedent(body), filename)


def ev(**sections: Any) -> dict[str, Any]:
    """Evidence for provider p1: ``local={...}`` is the test council's findings, ``authority={...}``
    its per-authority facts; ``standards={4: "red"}`` sets quality standard 4."""
    provider = {"id": "p1", "name": "Acme Care", "service_type": "nursing"}
    provider.update(sections.pop("provider", {}))
    out: dict[str, Any] = {"provider": provider}
    local = dict(sections.pop("local", {}))
    standards = sections.pop("standards", None)
    if standards is not None:
        local.update({STANDARDS[i - 1]: v for i, v in standards.items()})
    if local:
        out["local"] = {"test": local}
    authority = sections.pop("authority", None)
    if authority is not None:
        out["authorities"] = {"test": authority}
    out.update(sections)
    return out


AS_OF = "2026-01-05"


@lru_cache(maxsize=None)
def condition_pack(cond: str) -> PolicyPack:
    return make_pack(
        f"""
        decisions:
          - id: result
            kind: table
            hit: first
            scale: rag
            source: "§1"
            rows:
              - {{id: holds, when: {cond}, value: red, source: "§1 row"}}
            default: {{value: green, source: "§1 default"}}
        """
    )


def truth(cond: str, evidence: dict[str, Any], as_of: str = AS_OF) -> str:
    """``true``, ``false`` or ``unknown``: the three-valued result of ``cond`` over ``evidence``."""
    d = condition_pack(cond).evaluate(evidence, as_of)
    h = d.headline
    if h.status == "insufficient_evidence":
        assert h.missing, "an unknown result must name what is missing"
        return "unknown"
    assert h.status == "decided", h
    return {"red": "true", "green": "false"}[h.value]


def missing_of(cond: str, evidence: dict[str, Any], as_of: str = AS_OF) -> list[str]:
    return condition_pack(cond).evaluate(evidence, as_of).headline.missing


# =========================================================================== bands

BANDS = """
decisions:
  - id: result
    kind: bands
    input: score
    scale: rag
    source: "§2"
    judgement: the score is only a guide
    bands:
      - {id: low, value: green, max: 19, source: "§2 a"}
      - {id: mid, value: amber, min: 20, max: 27, source: "§2 b", judgement: borderline scores need a visit}
      - {id: high, value: red, min: 28, source: "§2 c"}
"""


@pytest.mark.parametrize(
    ("score", "value", "band"),
    [(0, "green", "low"), (19, "green", "low"), (20, "amber", "mid"), (27, "amber", "mid"), (28, "red", "high"), (1000, "red", "high")],
)
def test_band_edges_on_both_sides(score: int, value: str, band: str) -> None:
    d = make_pack(BANDS).evaluate(ev(local={"risk_profile_score": score}), AS_OF)
    assert (d.headline.value, d.headline.rules, d.headline.status) == (value, [band], "decided")
    assert d.headline.sources == [{"low": "§2 a", "mid": "§2 b", "high": "§2 c"}[band]]


def test_band_judgement_flags_the_decision_and_carries_the_reasons() -> None:
    pack = make_pack(BANDS)
    mid = pack.evaluate(ev(local={"risk_profile_score": 24}), AS_OF)
    assert mid.judgement and mid.headline.judgement
    assert [(j.rule, j.reason) for j in mid.headline.judgements] == [
        ("result", "the score is only a guide"),
        ("mid", "borderline scores need a visit"),
    ]
    assert "professional judgement" in mid.headline.explanation
    low = pack.evaluate(ev(local={"risk_profile_score": 3}), AS_OF)
    assert [j.rule for j in low.headline.judgements] == ["result"]


def test_band_without_the_input_is_insufficient_evidence() -> None:
    d = make_pack(BANDS).evaluate(ev(), AS_OF)
    assert d.status == "insufficient_evidence"
    assert d.headline.missing == ["score"]
    assert d.headline.undetermined == ["low", "mid", "high"]
    assert [(m.input, m.path, m.needed_by) for m in d.missing] == [("score", "local.test.risk_profile_score", ["result"])]
    assert d.severity is None and d.severity_label is None


@pytest.mark.parametrize(("rating", "value"), [(1, "red"), (2, "red"), (3, "amber"), (4, "green"), (5, "green")])
def test_decimal_bands_with_exclusive_below(rating: int, value: str) -> None:
    pack = make_pack(
        """
        decisions:
          - id: result
            kind: bands
            input: rating
            scale: rag
            source: "§3"
            bands:
              - {id: poor, value: red, below: 2.5, source: "§3"}
              - {id: fair, value: amber, min: 2.5, below: 4, source: "§3"}
              - {id: fine, value: green, min: 4, source: "§3"}
        """
    )
    assert pack.evaluate(ev(local={"provider_quality_rating": rating}), AS_OF).headline.value == value


def test_decimal_below_is_exclusive_at_the_edge() -> None:
    pack = make_pack(
        """
        decisions:
          - id: result
            kind: bands
            input: rating
            scale: rag
            source: "§3"
            bands:
              - {id: poor, value: red, below: 3, source: "§3"}
              - {id: fine, value: green, min: 3, source: "§3"}
        """
    )
    assert pack.evaluate(ev(local={"provider_quality_rating": 2}), AS_OF).headline.rules == ["poor"]
    assert pack.evaluate(ev(local={"provider_quality_rating": 3}), AS_OF).headline.rules == ["fine"]


def test_allow_gaps_gives_no_value_in_the_gap() -> None:
    pack = make_pack(
        """
        decisions:
          - id: result
            kind: bands
            input: score
            scale: rag
            allow_gaps: true
            source: "§4"
            bands:
              - {id: low, value: green, max: 9, source: "§4"}
              - {id: high, value: red, min: 20, source: "§4"}
        """
    )
    gap = pack.evaluate(ev(local={"risk_profile_score": 15}), AS_OF)
    assert gap.headline.status == "no_value"
    assert gap.headline.value is None and gap.headline.rules == []
    assert gap.headline.explanation == "no value: no rule applies"
    # its own status, never "decided" with nothing decided
    assert gap.status == "no_value" and gap.severity is None and gap.missing == []
    assert pack.evaluate(ev(local={"risk_profile_score": 9}), AS_OF).headline.value == "green"
    assert pack.evaluate(ev(local={"risk_profile_score": 20}), AS_OF).headline.value == "red"


def test_allow_overlaps_first_band_wins() -> None:
    pack = make_pack(
        """
        decisions:
          - id: result
            kind: bands
            input: score
            scale: rag
            allow_overlaps: true
            source: "§4"
            bands:
              - {id: low, value: green, max: 10, source: "§4"}
              - {id: high, value: red, min: 8, source: "§4"}
        """
    )
    assert pack.evaluate(ev(local={"risk_profile_score": 9}), AS_OF).headline.rules == ["low"]
    assert pack.evaluate(ev(local={"risk_profile_score": 11}), AS_OF).headline.rules == ["high"]


# =========================================================================== hit policies


def table(hit: str, rows: str, default: str | None = "{value: green, source: \"§5 default\"}", scale: str = "rag") -> PolicyPack:
    default_line = f"    default: {default}\n" if default else ""
    return make_pack(
        f"""
decisions:
  - id: result
    kind: table
    hit: {hit}
    scale: {scale}
    source: "§5"
    rows:
{textwrap.indent(textwrap.dedent(rows).strip(), "      ")}
{default_line}"""
    )


ROWS = """
- {id: r-score, when: {input: score, at_least: 20}, value: amber, source: "§5 r1"}
- {id: r-measures, when: {input: special_measures, is: true}, value: red, source: "§5 r2"}
"""


def test_hit_first_takes_the_first_row_that_holds() -> None:
    pack = table("first", ROWS)
    both = pack.evaluate(ev(local={"risk_profile_score": 25}, cqc={"special_measures": True}), AS_OF)
    assert (both.headline.value, both.headline.rules) == ("amber", ["r-score"])
    second = pack.evaluate(ev(local={"risk_profile_score": 5}, cqc={"special_measures": True}), AS_OF)
    assert (second.headline.value, second.headline.rules) == ("red", ["r-measures"])
    neither = pack.evaluate(ev(local={"risk_profile_score": 5}, cqc={"special_measures": False}), AS_OF)
    assert (neither.headline.value, neither.headline.rules, neither.headline.sources) == ("green", ["default"], ["§5 default"])


def test_hit_first_stops_at_an_unknown_row_but_not_after_a_hit() -> None:
    pack = table("first", ROWS)
    unknown_first = pack.evaluate(ev(cqc={"special_measures": True}), AS_OF)
    assert unknown_first.headline.status == "insufficient_evidence"
    assert unknown_first.headline.undetermined == ["r-score"] and unknown_first.headline.missing == ["score"]
    hit_first = pack.evaluate(ev(local={"risk_profile_score": 20}), AS_OF)
    assert (hit_first.headline.status, hit_first.headline.value) == ("decided", "amber")
    assert hit_first.missing == []


def test_hit_first_without_default_gives_no_value() -> None:
    d = table("first", ROWS, default=None).evaluate(ev(local={"risk_profile_score": 1}, cqc={"special_measures": False}), AS_OF)
    assert (d.headline.status, d.headline.value) == ("no_value", None)


def test_hit_unique_conflict() -> None:
    pack = table("unique", ROWS)
    d = pack.evaluate(ev(local={"risk_profile_score": 25}, cqc={"special_measures": True}), AS_OF)
    assert d.headline.status == "conflict" and d.status == "conflict"
    assert d.headline.value is None
    assert d.headline.rules == ["r-score", "r-measures"]
    assert "`r-score`, `r-measures` all hold under `hit: unique`" in d.headline.explanation
    one = pack.evaluate(ev(local={"risk_profile_score": 25}, cqc={"special_measures": False}), AS_OF)
    assert (one.headline.status, one.headline.value) == ("decided", "amber")
    none = pack.evaluate(ev(local={"risk_profile_score": 2}, cqc={"special_measures": False}), AS_OF)
    assert (none.headline.value, none.headline.rules) == ("green", ["default"])
    unknown = pack.evaluate(ev(cqc={"special_measures": False}), AS_OF)
    assert unknown.headline.status == "insufficient_evidence" and unknown.headline.missing == ["score"]


def test_hit_worst_takes_the_worst_value_and_names_every_row_giving_it() -> None:
    pack = table(
        "worst",
        """
        - {id: a, when: {input: score, at_least: 20}, value: amber, source: "§5 a"}
        - {id: b, when: {input: special_measures, is: true}, value: red, source: "§5 b"}
        - {id: c, when: {input: std_1, is: red}, value: red, source: "§5 c"}
        """,
    )
    d = pack.evaluate(ev(local={"risk_profile_score": 25}, cqc={"special_measures": True}, standards={1: "red"}), AS_OF)
    assert (d.headline.value, d.headline.rules, d.headline.sources) == ("red", ["b", "c"], ["§5 b", "§5 c"])
    amber = pack.evaluate(ev(local={"risk_profile_score": 25}, cqc={"special_measures": False}, standards={1: "green"}), AS_OF)
    assert (amber.headline.value, amber.headline.rules) == ("amber", ["a"])
    default = pack.evaluate(ev(local={"risk_profile_score": 2}, cqc={"special_measures": False}, standards={1: "green"}), AS_OF)
    assert (default.headline.value, default.headline.rules) == ("green", ["default"])


def test_hit_worst_without_default_gives_no_value() -> None:
    d = table("worst", ROWS, default=None).evaluate(ev(local={"risk_profile_score": 1}, cqc={"special_measures": False}), AS_OF)
    assert d.headline.status == "no_value"


def test_hit_worst_ignores_unknown_rows_that_cannot_make_it_worse() -> None:
    pack = table("worst", ROWS)
    # red holds; the amber row cannot be checked but could not make red worse
    d = pack.evaluate(ev(cqc={"special_measures": True}), AS_OF)
    assert (d.headline.status, d.headline.value, d.headline.missing) == ("decided", "red", [])
    assert d.missing == [] and d.status == "decided"
    # amber holds; the red row cannot be checked and could make it worse
    d = pack.evaluate(ev(local={"risk_profile_score": 30}), AS_OF)
    assert d.headline.status == "insufficient_evidence"
    assert (d.headline.undetermined, d.headline.missing) == (["r-measures"], ["special_measures"])
    assert d.headline.rules == ["r-score"]


def test_hit_worst_with_no_row_holding_an_unknown_row_matters_if_it_differs_from_the_default() -> None:
    # the default applies only when no row holds: a row that might hold would replace it, better or worse
    better = table("worst", '- {id: a, when: {input: score, at_least: 20}, value: green, source: "§5 a"}',
                   default='{value: amber, source: "§5 default"}').evaluate(ev(), AS_OF)
    assert (better.headline.status, better.headline.undetermined, better.headline.missing) == (
        "insufficient_evidence", ["a"], ["score"])
    same = table("worst", '- {id: a, when: {input: score, at_least: 20}, value: amber, source: "§5 a"}',
                 default='{value: amber, source: "§5 default"}').evaluate(ev(), AS_OF)
    assert (same.headline.status, same.headline.value, same.missing) == ("decided", "amber", [])


def test_hit_worst_names_only_the_evidence_that_could_change_the_result() -> None:
    """Regression: the inputs of rows that could not make the result worse were listed as missing (fixed in dcf4ed8)."""
    pack = table(
        "worst",
        """
        - {id: a, when: {input: std_1, is: red}, value: amber, source: "§5 a"}
        - {id: b, when: {input: std_2, is: red}, value: amber, source: "§5 b"}
        - {id: c, when: {input: std_3, is: red}, value: red, source: "§5 c"}
        """,
    )
    d = pack.evaluate(ev(standards={1: "red"}), AS_OF)
    assert d.headline.status == "insufficient_evidence"
    assert d.headline.undetermined == ["c"]
    assert d.headline.missing == ["std_3"]  # not std_2: it could only give amber again
    assert [m.input for m in d.missing] == ["std_3"]


def test_hit_collect_gathers_every_value_in_scale_order() -> None:
    pack = table(
        "collect",
        """
        - {id: audit-all, when: {input: score, known: true}, value: audit, source: "§6 a"}
        - {id: visit-homes, when: {input: service_type, in: [nursing, residential]}, value: visit, source: "§6 b"}
        - {id: survey-measures, when: {input: special_measures, is: true}, value: survey, source: "§6 c"}
        """,
        default='{value: survey, source: "§6 default"}',
        scale="activity",
    ).evaluate
    got = pack(ev(local={"risk_profile_score": 3}, cqc={"special_measures": True}), AS_OF).headline
    assert (got.status, got.value, got.rules) == ("decided", ["visit", "survey", "audit"], ["audit-all", "visit-homes", "survey-measures"])
    none = pack(ev(provider={"service_type": "domiciliary"}, local={"risk_profile_score": 3}, cqc={"special_measures": False}), AS_OF)
    assert none.headline.value == ["audit"]


def test_hit_collect_default_when_nothing_holds_and_partial_values_when_unknown() -> None:
    pack = table(
        "collect",
        """
        - {id: visit-homes, when: {input: service_type, in: [nursing, residential]}, value: visit, source: "§6 b"}
        - {id: survey-measures, when: {input: special_measures, is: true}, value: survey, source: "§6 c"}
        """,
        default='{value: audit, source: "§6 default"}',
        scale="activity",
    )
    d = pack.evaluate(ev(provider={"service_type": "domiciliary"}, cqc={"special_measures": False}), AS_OF)
    assert (d.headline.value, d.headline.rules) == (["audit"], ["default"])
    partial = pack.evaluate(ev(), AS_OF)
    assert partial.headline.status == "insufficient_evidence"
    assert partial.headline.value == ["visit"] and partial.headline.missing == ["special_measures"]
    assert "so far: visit" in partial.headline.explanation


def test_hit_collect_without_default_and_no_rows_is_an_empty_list() -> None:
    pack = table(
        "collect",
        '- {id: survey-measures, when: {input: special_measures, is: true}, value: survey, source: "§6 c"}',
        default=None,
        scale="activity",
    )
    d = pack.evaluate(ev(cqc={"special_measures": False}), AS_OF)
    assert (d.headline.status, d.headline.value, d.headline.explanation) == ("decided", [], "none apply")


# =========================================================================== operators

CQC = "cqc_overall"


@pytest.mark.parametrize(
    ("cond", "evidence", "expected"),
    [
        # is / is_not on booleans, enums, text
        ("{input: special_measures, is: true}", ev(cqc={"special_measures": True}), "true"),
        ("{input: special_measures, is: true}", ev(cqc={"special_measures": False}), "false"),
        ("{input: special_measures, is: false}", ev(cqc={"special_measures": False}), "true"),
        ("{input: service_type, is: nursing}", ev(), "true"),
        ("{input: service_type, is_not: nursing}", ev(), "false"),
        ("{input: service_type, is_not: nursing}", ev(provider={"service_type": "residential"}), "true"),
        ("{input: name, is: Acme Care}", ev(), "true"),
        ("{input: name, is_not: Acme Care}", ev(), "false"),
        # in / not_in
        ("{input: service_type, in: [nursing, residential]}", ev(), "true"),
        ("{input: service_type, in: [nursing, residential]}", ev(provider={"service_type": "domiciliary"}), "false"),
        ("{input: service_type, not_in: [nursing, residential]}", ev(), "false"),
        ("{input: service_type, not_in: [nursing, residential]}", ev(provider={"service_type": "domiciliary"}), "true"),
        ("{input: std_1, in: [amber, red]}", ev(standards={1: "amber"}), "true"),
        ("{input: std_1, not_in: [amber, red]}", ev(standards={1: "green"}), "true"),
        # numbers: inclusive at_least / at_most, exclusive above / below
        ("{input: score, at_least: 20}", ev(local={"risk_profile_score": 20}), "true"),
        ("{input: score, at_least: 20}", ev(local={"risk_profile_score": 19}), "false"),
        ("{input: score, at_most: 20}", ev(local={"risk_profile_score": 20}), "true"),
        ("{input: score, at_most: 20}", ev(local={"risk_profile_score": 21}), "false"),
        ("{input: score, above: 20}", ev(local={"risk_profile_score": 20}), "false"),
        ("{input: score, above: 20}", ev(local={"risk_profile_score": 21}), "true"),
        ("{input: score, below: 20}", ev(local={"risk_profile_score": 19}), "true"),
        ("{input: score, below: 20}", ev(local={"risk_profile_score": 20}), "false"),
        ("{input: score, is: 0}", ev(local={"risk_profile_score": 0}), "true"),
        ("{input: rating, at_least: 2.5}", ev(local={"provider_quality_rating": 3}), "true"),
        ("{input: rating, at_least: 2.5}", ev(local={"provider_quality_rating": 2}), "false"),
        # scales, best to worst: outstanding, good, requires_improvement, inadequate, not_rated
        (f"{{input: {CQC}, worse_than: good}}", ev(cqc={"overall": "requires_improvement"}), "true"),
        (f"{{input: {CQC}, worse_than: good}}", ev(cqc={"overall": "good"}), "false"),
        (f"{{input: {CQC}, worse_than: good}}", ev(cqc={"overall": "outstanding"}), "false"),
        (f"{{input: {CQC}, no_better_than: good}}", ev(cqc={"overall": "good"}), "true"),
        (f"{{input: {CQC}, no_better_than: good}}", ev(cqc={"overall": "inadequate"}), "true"),
        (f"{{input: {CQC}, no_better_than: good}}", ev(cqc={"overall": "outstanding"}), "false"),
        (f"{{input: {CQC}, better_than: good}}", ev(cqc={"overall": "outstanding"}), "true"),
        (f"{{input: {CQC}, better_than: good}}", ev(cqc={"overall": "good"}), "false"),
        (f"{{input: {CQC}, no_worse_than: good}}", ev(cqc={"overall": "good"}), "true"),
        (f"{{input: {CQC}, no_worse_than: good}}", ev(cqc={"overall": "outstanding"}), "true"),
        (f"{{input: {CQC}, no_worse_than: good}}", ev(cqc={"overall": "requires_improvement"}), "false"),
        ("{input: std_1, worse_than: green}", ev(standards={1: "amber"}), "true"),
        ("{input: std_1, no_better_than: red}", ev(standards={1: "amber"}), "false"),
        # dates: within (no older than) and older_than, before the as-of date 2026-01-05
        ("{input: last_qpip, within: 2 years}", ev(local={"last_qpip_ended_on": "2026-01-05"}), "true"),
        ("{input: last_qpip, within: 2 years}", ev(local={"last_qpip_ended_on": "2024-01-06"}), "true"),
        ("{input: last_qpip, within: 2 years}", ev(local={"last_qpip_ended_on": "2024-01-05"}), "false"),
        ("{input: last_qpip, older_than: 2 years}", ev(local={"last_qpip_ended_on": "2024-01-05"}), "true"),
        ("{input: last_qpip, older_than: 2 years}", ev(local={"last_qpip_ended_on": "2024-01-06"}), "false"),
        ("{input: last_qpip, within: 28 days}", ev(local={"last_qpip_ended_on": "2025-12-09"}), "true"),
        ("{input: last_qpip, within: 28 days}", ev(local={"last_qpip_ended_on": "2025-12-08"}), "false"),
        ("{input: last_qpip, within: 10 working days}", ev(local={"last_qpip_ended_on": "2025-12-18"}), "true"),
        ("{input: last_qpip, within: 10 working days}", ev(local={"last_qpip_ended_on": "2025-12-17"}), "false"),
        # the window ends on the as-of date (README: `within: 1 month` as of 15 March covers 16 February to 15 March);
        # a date after it is neither within nor older than (found by the reference evaluator)
        ("{input: last_qpip, within: 2 years}", ev(local={"last_qpip_ended_on": "2026-01-06"}), "false"),
        ("{input: last_qpip, older_than: 2 years}", ev(local={"last_qpip_ended_on": "2026-01-06"}), "false"),
        ("{not: {input: last_qpip, within: 2 years}}", ev(local={"last_qpip_ended_on": "2027-06-01"}), "true"),
        # known: never unknown itself
        ("{input: score, known: true}", ev(local={"risk_profile_score": 0}), "true"),
        ("{input: score, known: true}", ev(), "false"),
        ("{input: score, known: false}", ev(), "true"),
        ("{input: score, known: false}", ev(local={"risk_profile_score": 0}), "false"),
        ("{any_of: [std_1, std_2], known: false}", ev(standards={1: "red"}), "true"),
        ("{all_of: [std_1, std_2], known: true}", ev(standards={1: "red"}), "false"),
        # any_of / all_of
        ("{any_of: [std_4, std_5, std_6, std_7], is: red}", ev(standards={4: "green", 5: "red", 6: "green", 7: "green"}), "true"),
        ("{any_of: [std_4, std_5, std_6, std_7], is: red}", ev(standards={4: "green", 5: "amber", 6: "green", 7: "green"}), "false"),
        ("{all_of: [std_4, std_5], in: [green, amber]}", ev(standards={4: "green", 5: "amber"}), "true"),
        ("{all_of: [std_4, std_5], in: [green, amber]}", ev(standards={4: "green", 5: "red"}), "false"),
        # combinators
        ("{all: [{input: score, at_least: 20}, {input: special_measures, is: true}]}",
         ev(local={"risk_profile_score": 20}, cqc={"special_measures": True}), "true"),
        ("{all: [{input: score, at_least: 20}, {input: special_measures, is: true}]}",
         ev(local={"risk_profile_score": 20}, cqc={"special_measures": False}), "false"),
        ("{any: [{input: score, at_least: 20}, {input: special_measures, is: true}]}",
         ev(local={"risk_profile_score": 2}, cqc={"special_measures": True}), "true"),
        ("{any: [{input: score, at_least: 20}, {input: special_measures, is: true}]}",
         ev(local={"risk_profile_score": 2}, cqc={"special_measures": False}), "false"),
        ("{not: {input: special_measures, is: true}}", ev(cqc={"special_measures": True}), "false"),
        ("{not: {input: special_measures, is: true}}", ev(cqc={"special_measures": False}), "true"),
        ("{not: {not: {input: special_measures, is: true}}}", ev(cqc={"special_measures": True}), "true"),
    ],
)
def test_operator(cond: str, evidence: dict[str, Any], expected: str) -> None:
    assert truth(cond, evidence) == expected


@pytest.mark.parametrize(
    "cond",
    [
        "{input: special_measures, is: true}",
        "{input: std_1, is_not: red}",
        "{input: std_1, in: [red]}",
        "{input: std_1, not_in: [red]}",
        "{input: score, at_least: 1}",
        "{input: score, at_most: 1}",
        "{input: score, above: 1}",
        "{input: score, below: 1}",
        "{input: cqc_overall, worse_than: good}",
        "{input: cqc_overall, no_better_than: good}",
        "{input: cqc_overall, better_than: good}",
        "{input: cqc_overall, no_worse_than: good}",
        "{input: last_qpip, within: 1 year}",
        "{input: last_qpip, older_than: 1 year}",
    ],
)
def test_every_operator_on_missing_evidence_is_unknown(cond: str) -> None:
    bare = {"provider": {"id": "p1", "name": "Acme Care", "service_type": "nursing"}}
    assert truth(cond, bare) == "unknown"
    name = cond.split("input: ")[1].split(",")[0]
    assert missing_of(cond, bare) == [name]


def test_missing_parent_section_is_missing_not_an_error() -> None:
    # `assessment` present without `quality_standards`: the standard is simply unknown
    assert truth("{input: std_1, is: red}", ev(local={"risk_profile_score": 3})) == "unknown"


# =========================================================================== three-valued logic at the edges

CORE = """
decisions:
  - id: result
    kind: table
    hit: worst
    scale: rag
    source: "§7"
    rows:
      - id: core-red
        when: {any_of: [std_4, std_5, std_6, std_7], is: red}
        value: red
        source: "§7 red"
      - id: core-amber
        when: {any_of: [std_4, std_5, std_6, std_7], is: amber}
        value: amber
        source: "§7 amber"
    default: {value: green, source: "§7 default"}
"""


def test_one_red_settles_red_despite_gaps() -> None:
    d = make_pack(CORE).evaluate(ev(standards={6: "red"}), AS_OF)
    assert (d.status, d.headline.value, d.headline.rules) == ("decided", "red", ["core-red"])
    assert d.headline.missing == [] and d.missing == [] and d.headline.undetermined == []


def test_all_unknown_is_insufficient_evidence_naming_exactly_what_is_missing() -> None:
    d = make_pack(CORE).evaluate(ev(), AS_OF)
    assert d.status == "insufficient_evidence"
    assert d.headline.missing == ["std_4", "std_5", "std_6", "std_7"]
    assert d.headline.undetermined == ["core-red", "core-amber"]
    assert [m.input for m in d.missing] == ["std_4", "std_5", "std_6", "std_7"]
    assert all(m.needed_by == ["result"] for m in d.missing)
    assert d.missing[0].path == "local.test.approach_to_personalisation"
    assert "insufficient evidence" in d.headline.explanation


def test_partly_known_names_only_the_gaps() -> None:
    d = make_pack(CORE).evaluate(ev(standards={4: "green", 7: "green"}), AS_OF)
    assert d.status == "insufficient_evidence"
    assert d.headline.missing == ["std_5", "std_6"]


def test_all_known_and_good_is_green() -> None:
    d = make_pack(CORE).evaluate(ev(standards={4: "green", 5: "green", 6: "green", 7: "green"}), AS_OF)
    assert (d.headline.value, d.headline.rules, d.severity, d.severity_label) == ("green", ["default"], 0, "none")


def test_amber_with_gaps_stays_open_because_a_gap_could_be_red() -> None:
    d = make_pack(CORE).evaluate(ev(standards={4: "amber"}), AS_OF)
    assert d.headline.status == "insufficient_evidence"
    assert d.headline.rules == ["core-amber"] and d.headline.undetermined == ["core-red"]
    assert d.headline.missing == ["std_5", "std_6", "std_7"]


def test_not_of_unknown_is_unknown() -> None:
    assert truth("{not: {input: score, at_least: 20}}", ev()) == "unknown"
    assert missing_of("{not: {input: score, at_least: 20}}", ev()) == ["score"]


def test_any_true_despite_unknown_drops_missing_from_the_report() -> None:
    cond = "{any: [{input: score, at_least: 20}, {input: special_measures, is: true}]}"
    pack = condition_pack(cond)
    d = pack.evaluate(ev(cqc={"special_measures": True}), AS_OF)
    assert d.headline.value == "red" and d.headline.missing == [] and d.missing == []
    assert truth(cond, ev(cqc={"special_measures": False})) == "unknown"
    assert missing_of(cond, ev(cqc={"special_measures": False})) == ["score"]


def test_all_false_despite_unknown_drops_missing_from_the_report() -> None:
    cond = "{all: [{input: score, at_least: 20}, {input: special_measures, is: true}]}"
    d = condition_pack(cond).evaluate(ev(cqc={"special_measures": False}), AS_OF)
    assert d.headline.value == "green" and d.missing == []
    assert truth(cond, ev(cqc={"special_measures": True})) == "unknown"


def test_all_of_false_despite_gaps_and_any_of_unknown_with_gaps() -> None:
    assert truth("{all_of: [std_1, std_2, std_3], is: green}", ev(standards={2: "red"})) == "false"
    assert truth("{all_of: [std_1, std_2, std_3], is: green}", ev(standards={2: "green"})) == "unknown"
    assert missing_of("{all_of: [std_1, std_2, std_3], is: green}", ev(standards={2: "green"})) == ["std_1", "std_3"]
    assert missing_of("{any_of: [std_1, std_2, std_3], is: red}", ev(standards={2: "green"})) == ["std_1", "std_3"]


def test_nested_unknowns_collapse_when_an_outer_part_settles() -> None:
    cond = "{any: [{all: [{input: score, at_least: 20}, {input: std_1, is: red}]}, {input: special_measures, is: true}]}"
    assert truth(cond, ev(cqc={"special_measures": True})) == "true"
    assert missing_of(cond, ev(cqc={"special_measures": False})) == ["score", "std_1"]
    assert missing_of(cond, ev(cqc={"special_measures": False}, standards={1: "green"})) == []
    assert truth(cond, ev(cqc={"special_measures": False}, standards={1: "green"})) == "false"


# =========================================================================== decision references

REFS = BANDS + """
  - id: visits
    kind: table
    hit: first
    unit: visits a year
    source: "§8"
    rows:
      - {id: visits-red, when: {decision: result, is: red}, value: 4, source: "§8 a"}
      - {id: visits-amber, when: {decision: result, worse_than: green}, value: 2, source: "§8 b"}
    default: {value: 1, source: "§8 c"}
  - id: many
    kind: table
    hit: first
    scale: rag
    source: "§9"
    rows:
      - {id: many-visits, when: {decision: visits, at_least: 2}, value: red, source: "§9"}
    default: {value: green, source: "§9 default"}
"""


@pytest.mark.parametrize(("score", "visits", "many"), [(3, 1, "green"), (20, 2, "red"), (30, 4, "red")])
def test_decision_reads_earlier_decisions(score: int, visits: int, many: str) -> None:
    d = make_pack(REFS).evaluate(ev(local={"risk_profile_score": score}), AS_OF)
    assert d.decision("visits").value == visits
    assert d.decision("many").value == many
    assert d.decision("visits").explanation.startswith(str(visits))


def test_missing_evidence_propagates_through_decision_references() -> None:
    d = make_pack(REFS).evaluate(ev(), AS_OF)
    for did in ("result", "visits", "many"):
        assert d.decision(did).status == "insufficient_evidence"
        assert d.decision(did).missing == ["score"]
    assert [(m.input, m.needed_by) for m in d.missing] == [("score", ["many", "result", "visits"])]


def test_decision_known_test_on_an_unsettled_decision() -> None:
    pack = make_pack(
        BANDS
        + """
  - id: gap
    kind: table
    hit: first
    scale: rag
    source: "§9"
    rows:
      - {id: no-result, when: {decision: result, known: false}, value: red, source: "§9"}
    default: {value: green, source: "§9"}
"""
    )
    assert pack.evaluate(ev(), AS_OF).decision("gap").value == "red"
    assert pack.evaluate(ev(local={"risk_profile_score": 3}), AS_OF).decision("gap").value == "green"


def test_test_on_a_collected_decision_asks_whether_any_value_passes() -> None:
    pack = make_pack(
        """
decisions:
  - id: acts
    kind: table
    hit: collect
    scale: activity
    source: "§6"
    rows:
      - {id: visit-homes, when: {input: service_type, in: [nursing]}, value: visit, source: "§6"}
      - {id: survey-all, when: {input: score, known: true}, value: survey, source: "§6"}
  - id: result
    kind: table
    hit: first
    scale: rag
    source: "§6"
    rows:
      - {id: visiting, when: {decision: acts, is: visit}, value: amber, source: "§6"}
    default: {value: green, source: "§6"}
"""
    )
    assert pack.evaluate(ev(local={"risk_profile_score": 1}), AS_OF).headline.value == "amber"
    assert pack.evaluate(ev(provider={"service_type": "domiciliary"}, local={"risk_profile_score": 1}), AS_OF).headline.value == "green"


def test_reading_a_conflicted_decision_does_not_blame_missing_evidence() -> None:
    pack = make_pack(
        """
decisions:
  - id: first
    kind: table
    hit: unique
    scale: rag
    source: "§1"
    rows:
      - {id: a, when: {input: score, at_least: 10}, value: red, source: "§1"}
      - {id: b, when: {input: score, at_least: 5}, value: amber, source: "§1"}
  - id: result
    kind: table
    hit: first
    scale: rag
    source: "§2"
    rows:
      - {id: follows, when: {decision: first, is: red}, value: red, source: "§2"}
    default: {value: green, source: "§2"}
"""
    )
    d = pack.evaluate(ev(local={"risk_profile_score": 12}), AS_OF)
    first = d.decision("first")
    assert (first.status, first.rules, first.missing) == ("conflict", ["a", "b"], [])
    r = d.decision("result")
    # the later decision waits on the conflict, and says so; it is not a piece of evidence to give
    assert (r.status, r.value, r.undetermined, r.missing) == ("insufficient_evidence", None, ["follows"], ["first (conflict)"])
    assert r.explanation == ("insufficient evidence: at least Green (one of Green, Red): could not check `follows`; "
                             "missing `first (conflict)`")
    assert d.missing == [] and d.status == "insufficient_evidence"
    # with no conflict the same evidence path is settled: 7 is amber only
    settled = pack.evaluate(ev(local={"risk_profile_score": 7}), AS_OF)
    assert (settled.decision("first").value, settled.headline.value, settled.missing) == ("amber", "green", [])


# =========================================================================== counting events

EVENTS_PACK = """
decisions:
  - id: result
    kind: table
    hit: first
    scale: rag
    source: "§10"
    rows:
      - id: counted
        when:
          count_events:
            input: events
            kinds: [{kinds}]
            {extra}
          {bound}
        value: red
        source: "§10"
    default: {{value: green, source: "§10"}}
"""


@lru_cache(maxsize=None)
def events_pack(kinds: str = "safeguarding_alert, s42_enquiry", within: str | None = "3 months", where: str | None = None,
                group_by: str | None = None, bound: str = "at_least: 2") -> PolicyPack:
    extra = []
    if within:
        extra.append(f"within: {within}")
    if where:
        extra.append(f"where: {where}")
    if group_by:
        extra.append(f"group_by: {group_by}")
    return make_pack(EVENTS_PACK.format(kinds=kinds, extra="\n            ".join(extra), bound=bound))


def count_truth(events: list[dict[str, Any]] | None, as_of: str = "2026-03-31", **query: Any) -> str:
    evidence = ev() if events is None else ev(events=events)
    h = events_pack(**query).evaluate(evidence, as_of).headline
    if h.status == "insufficient_evidence":
        return "unknown"
    return {"red": "true", "green": "false"}[h.value]


def e(kind: str, day: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "date": day, **fields}


def test_count_events_counts_only_the_named_kinds() -> None:
    two = [e("safeguarding_alert", "2026-03-01"), e("s42_enquiry", "2026-03-02")]
    assert count_truth(two) == "true"
    other = [e("safeguarding_alert", "2026-03-01"), e("complaint", "2026-03-02"), e("complaint", "2026-03-03")]
    assert count_truth(other) == "false"


def test_count_events_window_last_day_inside_and_first_day_outside() -> None:
    # 3 months ending 2026-03-31 (inclusive) is 2026-01-01 .. 2026-03-31
    inside = [e("safeguarding_alert", "2026-01-01"), e("safeguarding_alert", "2026-03-31")]
    outside = [e("safeguarding_alert", "2025-12-31"), e("safeguarding_alert", "2026-03-31")]
    assert count_truth(inside) == "true"
    assert count_truth(outside) == "false"
    # 28 days ending 2026-03-31 is 2026-03-04 .. 2026-03-31
    assert count_truth([e("safeguarding_alert", "2026-03-04"), e("safeguarding_alert", "2026-03-31")], within="28 days") == "true"
    assert count_truth([e("safeguarding_alert", "2026-03-03"), e("safeguarding_alert", "2026-03-31")], within="28 days") == "false"


def test_count_events_ignores_events_after_the_as_of_date() -> None:
    later = [e("safeguarding_alert", "2026-03-31"), e("safeguarding_alert", "2026-04-01")]
    assert count_truth(later) == "false"
    assert count_truth(later, as_of="2026-04-01") == "true"
    assert count_truth(later, within=None) == "false"


def test_count_events_without_window_counts_all_history() -> None:
    old = [e("safeguarding_alert", "2001-01-01"), e("safeguarding_alert", "2010-06-30")]
    assert count_truth(old, within=None) == "true"
    assert count_truth(old) == "false"


def test_count_events_empty_list_is_known_none_and_absent_list_is_unknown() -> None:
    assert count_truth([]) == "false"
    assert count_truth(None) == "unknown"
    d = events_pack().evaluate(ev(), "2026-03-31")
    assert d.headline.missing == ["events"]
    assert [(m.input, m.path) for m in d.missing] == [("events", "events")]
    assert count_truth([], bound="at_most: 0") == "true"
    assert count_truth(None, bound="at_most: 0") == "unknown"


def test_count_events_at_most() -> None:
    three = [e("safeguarding_alert", f"2026-03-0{i}") for i in (1, 2, 3)]
    assert count_truth(three[:2], bound="at_most: 2") == "true"
    assert count_truth(three, bound="at_most: 2") == "false"


HARM = "[{field: harm, at_least: moderate}]"


@pytest.mark.parametrize(
    ("harms", "expected"),
    [
        (["moderate", "severe"], "true"),
        (["significant", "moderate"], "true"),
        (["low", "moderate"], "false"),
        (["none", "low"], "false"),
        (["moderate", None], "unknown"),
        (["low", None], "false"),
        ([None, None], "unknown"),
        (["severe", "severe", None], "true"),
    ],
)
def test_count_events_where_filter_on_ordered_harm(harms: list[str | None], expected: str) -> None:
    events = [e("medication_error", "2026-03-10", **({"harm": h} if h else {})) for h in harms]
    assert count_truth(events, kinds="medication_error", within="28 days", where=HARM) == expected


def test_count_events_where_is_and_in_filters() -> None:
    events = [e("complaint", "2026-03-10", substantiated=True), e("complaint", "2026-03-11", substantiated=False),
              e("complaint", "2026-03-12", substantiated=True)]
    assert count_truth(events, kinds="complaint", where="[{field: substantiated, is: true}]") == "true"
    assert count_truth(events, kinds="complaint", where="[{field: substantiated, is: false}]") == "false"
    levels = [e("complaint", "2026-03-10", level="high"), e("complaint", "2026-03-11", level="medium")]
    assert count_truth(levels, kinds="complaint", where="[{field: level, in: [medium, high]}]") == "true"
    assert count_truth(levels, kinds="complaint", where="[{field: level, in: [high]}]") == "false"
    people = [e("incident", "2026-03-10", people_affected=3), e("incident", "2026-03-11", people_affected=5)]
    assert count_truth(people, kinds="incident", where="[{field: people_affected, at_least: 3}]") == "true"
    assert count_truth(people, kinds="incident", where="[{field: people_affected, at_least: 4}]") == "false"


def test_count_events_group_by_staff_member() -> None:
    kw = {"kinds": "safeguarding_alert", "group_by": "staff_member"}
    same = [e("safeguarding_alert", "2026-03-01", staff_member="s-17"), e("safeguarding_alert", "2026-03-20", staff_member="s-17"),
            e("safeguarding_alert", "2026-03-21", staff_member="s-02")]
    assert count_truth(same, **kw) == "true"
    different = [e("safeguarding_alert", "2026-03-01", staff_member="s-17"), e("safeguarding_alert", "2026-03-20", staff_member="s-02")]
    assert count_truth(different, **kw) == "false"
    # an alert whose staff member is not recorded could be the same person
    unrecorded = [e("safeguarding_alert", "2026-03-01", staff_member="s-17"), e("safeguarding_alert", "2026-03-20")]
    assert count_truth(unrecorded, **kw) == "unknown"
    # ...but cannot lift a group of none to two
    lone = [e("safeguarding_alert", "2026-03-20")]
    assert count_truth(lone, **kw) == "false"


def test_count_events_unknown_field_inside_an_event_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError) as info:
        events_pack().evaluate(ev(events=[e("safeguarding_alert", "2026-03-01", staf_member="s-1")]), "2026-03-31")
    [d] = info.value.diagnostics
    assert d.code == "CP401" and d.path == "events[0].staf_member"
    assert d.hint == "did you mean `staff_member`?"


def test_count_events_unknown_event_kind_is_an_evidence_error() -> None:
    with pytest.raises(EvidenceError) as info:
        events_pack().evaluate(ev(events=[e("safeguarding", "2026-03-01")]), "2026-03-31")
    assert info.value.diagnostics[0].path == "events[0].kind"


# =========================================================================== outcomes and deadlines

OUTCOMES = BANDS + """
outcomes:
  - id: review
    kind: review
    when: {decision: result, in: [amber, red]}
    text: Review progress
    roles: [lead]
    due: {after: 6 weeks}
    source: "§11 a"
  - id: plan
    kind: action
    when: {decision: result, is: amber}
    text: Submit a plan before the first meeting
    due: {before: 7 days, from: first_meeting}
    source: "§11 b"
  - id: meet
    kind: action
    when: {decision: result, is: red}
    text: Meet the provider
    roles: [lead, manager]
    due: {after: 10 working days}
    source: "§11 c"
    judgement: the meeting may be brought forward
  - id: sign-off
    kind: approval
    when: {decision: result, is: red}
    text: Board signs off the plan
    roles: [chair]
    quorum: {at_least: 3, including: [lead, manager], source: "§11 q"}
    source: "§11 d"
  - id: measures
    kind: notify
    when: {input: special_measures, is: true}
    text: Tell the commissioners
    due: {after: 6 months}
    source: "§11 e"
  - id: short
    kind: information
    when: {input: special_measures, is: true}
    text: One month on
    due: {after: 1 month}
    source: "§11 f"
  - id: next-year
    kind: recommendation
    when: {input: special_measures, is: true}
    text: A year on
    due: {after: 1 year}
    source: "§11 g"
"""


def outcome(d: Decision, oid: str) -> Any:
    found = [a for a in d.actions + d.approvals if a.id == oid]
    assert found, f"{oid} did not apply: {[a.id for a in d.actions + d.approvals]}"
    return found[0]


def test_due_after_weeks() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 22}), "2026-01-05")
    review = outcome(d, "review")
    assert review.due == date(2026, 2, 16)
    assert review.due_rule == "6 weeks after the as-of date (2026-01-05)"
    assert (review.kind, review.roles, review.source, review.certain, review.missing) == ("review", ["lead"], "§11 a", True, [])


def test_due_before_a_date_input() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 22, "first_meeting_on": "2026-12-07"}), "2026-11-23")
    plan = outcome(d, "plan")
    assert plan.due == date(2026, 11, 30)
    assert plan.due_rule == "7 days before `first_meeting` (2026-12-07)"


def test_due_from_a_missing_date_input_is_unknown_with_a_warning() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 22}), "2026-11-23")
    plan = outcome(d, "plan")
    assert plan.due is None and plan.due_rule is None and plan.certain
    assert any("`plan`: due date unknown, `first_meeting` (local.test.first_meeting_on) is missing" in w for w in d.notes)


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        ("2025-12-19", date(2026, 1, 7)),  # Christmas Day, Boxing Day and New Year's Day skipped
        ("2025-12-24", date(2026, 1, 12)),
        ("2026-03-31", date(2026, 4, 16)),  # Good Friday 3 April and Easter Monday 6 April 2026 skipped
        ("2026-11-23", date(2026, 12, 7)),  # no holidays: two plain weeks
    ],
)
def test_due_in_working_days_skips_bank_holidays(as_of: str, due: date) -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 30}), as_of)
    meet = outcome(d, "meet")
    assert meet.due == due
    assert meet.due_rule == f"10 working days after the as-of date ({as_of})"


def test_working_days_over_easter_2026_counted_by_hand() -> None:
    pack = make_pack(OUTCOMES.replace("10 working days", "3 working days"))
    # Wed 1 Apr -> Thu 2 (1), Good Friday 3, weekend, Easter Monday 6, Tue 7 (2), Wed 8 (3)
    assert outcome(pack.evaluate(ev(local={"risk_profile_score": 30}), "2026-04-01"), "meet").due == date(2026, 4, 8)
    # from Good Friday itself: Tue 7 (1), Wed 8 (2), Thu 9 (3)
    assert outcome(pack.evaluate(ev(local={"risk_profile_score": 30}), "2026-04-03"), "meet").due == date(2026, 4, 9)


def test_council_closures_are_not_working_days() -> None:
    pack = make_pack(OUTCOMES.replace("10 working days", "3 working days"),
                     calendar='{region: ENG, closures: ["2025-12-29", "2025-12-30", "2025-12-31"]}')
    # Wed 24 Dec -> 25, 26 holidays, 29-31 closed, 1 Jan holiday: Fri 2 (1), Mon 5 (2), Tue 6 (3)
    d = pack.evaluate(ev(local={"risk_profile_score": 30}), "2025-12-24")
    assert outcome(d, "meet").due == date(2026, 1, 6)
    assert "3 council closure days" in d.calendar


@pytest.mark.parametrize(
    ("as_of", "six_months", "one_month", "one_year"),
    [
        ("2025-08-31", date(2026, 2, 28), date(2025, 9, 30), date(2026, 8, 31)),
        ("2027-08-31", date(2028, 2, 29), date(2027, 9, 30), date(2028, 8, 31)),
        ("2026-01-31", date(2026, 7, 31), date(2026, 2, 28), date(2027, 1, 31)),
        ("2028-02-29", date(2028, 8, 29), date(2028, 3, 29), date(2029, 2, 28)),
    ],
)
def test_months_and_years_clamp_to_the_month_end(as_of: str, six_months: date, one_month: date, one_year: date) -> None:
    d = make_pack(OUTCOMES).evaluate(ev(cqc={"special_measures": True}), as_of)
    assert outcome(d, "measures").due == six_months
    assert outcome(d, "short").due == one_month
    assert outcome(d, "next-year").due == one_year


def test_uncertain_outcomes_say_what_is_missing() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 3}), AS_OF)
    measures = outcome(d, "measures")
    assert measures.certain is False and measures.missing == ["special_measures"]
    assert [(m.input, m.needed_by) for m in d.missing] == [("special_measures", ["measures", "next-year", "short"])]
    assert d.status == "decided"
    assert "may apply once `special_measures` is known: 3 items (`measures`, `short`, `next-year`)" in d.explain()
    assert "review" not in {a.id for a in d.actions}


def test_approvals_are_listed_apart_with_their_quorum() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 30}, cqc={"special_measures": False}), AS_OF)
    assert [a.id for a in d.approvals] == ["sign-off"]
    assert "sign-off" not in {a.id for a in d.actions}
    sign = d.approvals[0]
    assert sign.kind == "approval" and sign.roles == ["chair"]
    assert sign.quorum == {"at_least": 3, "including": ["lead", "manager"], "source": "§11 q"}
    assert [a.id for a in d.actions] == ["review", "meet"]
    assert outcome(d, "meet").judgement == "the meeting may be brought forward"
    assert d.judgement


def test_outcomes_keep_pack_order() -> None:
    d = make_pack(OUTCOMES).evaluate(ev(local={"risk_profile_score": 30}, cqc={"special_measures": True}), AS_OF)
    assert [a.id for a in d.actions] == ["review", "meet", "measures", "short", "next-year"]


def test_meadowbank_against_everything() -> None:
    d = load_pack(EVERYTHING).evaluate(MEADOWBANK.read_text(), "2026-11-23")
    assert (d.status, d.headline.id, d.headline.value, d.severity, d.severity_label) == ("decided", "overall", "red", 3, "high")
    assert d.headline.rules == ["core-red", "same-staff"]
    assert d.decision("tier").value == "tier_1" and d.decision("tier").judgement
    assert d.decision("activities").value == ["visit", "survey"]
    assert d.decision("visits").value == 1
    assert d.decision("single").status == "no_value"
    assert {a.id: a.due for a in d.actions} == {
        "review-6-weeks": date(2027, 1, 4),
        "plan-before-meeting": date(2026, 11, 30),
        "meeting-10-working-days": date(2026, 12, 7),
    }
    # a pack's own warning is a warning, not an action; it may apply (the date it reads is missing)
    assert [(w.id, w.kind, w.certain, w.missing) for w in d.warnings] == [("recent-qpip", "warning", False, ["last_qpip"])]
    assert [a.id for a in d.approvals] == ["approve-red-change"]
    assert [m.input for m in d.missing] == ["last_qpip"]
    assert d.provider_id == "1-000000001" and d.provider_name == "Meadowbank House"


# =========================================================================== scope

SCOPE = BANDS.replace(
    "decisions:",
    """scope:
  - id: office-elsewhere
    when: {input: office_in_area, is: false}
    reason: registered office is outside the area
    source: "§0 scope"
decisions:""",
) + """
outcomes:
  - {id: review, kind: review, when: {decision: result, is: red}, text: Review, source: "§11"}
"""


def test_out_of_scope_makes_no_decision_and_no_outcome() -> None:
    d = make_pack(SCOPE).evaluate(ev(authority={"registered_office_in_area": False}, local={"risk_profile_score": 30}), AS_OF)
    assert d.status == "out_of_scope"
    assert d.out_of_scope == ["registered office is outside the area [office-elsewhere: §0 scope]"]
    assert [r.status for r in d.decisions] == ["out_of_scope"]
    assert d.headline.value is None and d.severity is None
    assert d.actions == [] and d.approvals == [] and d.missing == []
    assert "out of scope: registered office is outside the area" in d.explain()


def test_in_scope_is_evaluated_normally() -> None:
    d = make_pack(SCOPE).evaluate(ev(authority={"registered_office_in_area": True}, local={"risk_profile_score": 30}), AS_OF)
    assert (d.status, d.headline.value, d.notes, d.out_of_scope) == ("decided", "red", [], [])
    assert [a.id for a in d.actions] == ["review"]


def test_unknown_scope_is_evaluated_with_a_warning() -> None:
    d = make_pack(SCOPE).evaluate(ev(local={"risk_profile_score": 30}), AS_OF)
    assert d.status == "decided" and d.headline.value == "red"
    assert d.notes == [
        "could not check scope rule `office-elsewhere` (registered office is outside the area): missing office_in_area"
    ]


# =========================================================================== versions in force


def two_versions() -> tuple[PolicyPack, PolicyPack]:
    v1 = make_pack(BANDS, version="1.0.0", effective_from="2024-01-01", effective_to="2024-12-31", filename="v1.yaml")
    v2 = make_pack(BANDS.replace("max: 19", "max: 20").replace("min: 20, max: 27", "min: 21, max: 27"),
                   version="2.0.0", effective_from="2025-01-01", filename="v2.yaml")
    return v1, v2


@pytest.mark.parametrize(("as_of", "version", "value"), [("2024-01-01", "1.0.0", "amber"), ("2024-12-31", "1.0.0", "amber"),
                                                         ("2025-01-01", "2.0.0", "green"), ("2030-06-01", "2.0.0", "green")])
def test_the_version_in_force_on_the_date_is_used(as_of: str, version: str, value: str) -> None:
    v1, v2 = two_versions()
    library = PackLibrary([v2, v1])
    evidence = ev(local={"risk_profile_score": 20})
    for d in (evaluate(library, evidence, as_of), evaluate([v1, v2], evidence, as_of),
              evaluate(library, evidence, as_of, pack_id="test-pack")):
        assert (d.pack.version, d.headline.value) == (version, value)
    assert library.in_force("test-pack", as_of).version == version


def test_pack_ref_records_the_version_and_its_dates() -> None:
    v1, _ = two_versions()
    d = v1.evaluate(ev(local={"risk_profile_score": 20}), "2024-06-01")
    ref = d.pack
    assert (ref.id, ref.authority, ref.version, ref.file) == ("test-pack", "Test Council", "1.0.0", "v1.yaml")
    assert (ref.effective_from, ref.effective_to) == (date(2024, 1, 1), date(2024, 12, 31))
    assert ref.source_document == "Test document (v1)"
    assert ref.sha256 == v1.sha256


def test_no_version_in_force_is_an_evaluation_error() -> None:
    v1, v2 = two_versions()
    library = PackLibrary([v1, v2])
    with pytest.raises(EvaluationError, match=r"no version of pack `test-pack` is in force on 2023-12-31"):
        evaluate(library, ev(), "2023-12-31")
    with pytest.raises(EvaluationError, match=r"v1.0.0 is not in force on 2025-01-01 \(in force 2024-01-01 to 2024-12-31\)"):
        v1.evaluate(ev(), "2025-01-01")
    with pytest.raises(EvaluationError, match="no pack `other`"):
        library.in_force("other", "2025-01-01")
    assert library.evaluate_all(ev(), "2023-12-31") == []
    assert [d.pack.version for d in library.evaluate_all(ev(), "2025-02-01")] == ["2.0.0"]


def test_several_packs_need_a_pack_id() -> None:
    other = loads_pack(EVERYTHING.read_bytes(), "everything.yaml")
    v1, _ = two_versions()
    library = PackLibrary([v1, other])
    assert sorted(library) == ["example-everything", "test-pack"] and len(library) == 2
    with pytest.raises(EvaluationError, match="name the one to evaluate with `pack_id=`"):
        evaluate(library, ev(), "2024-06-01")
    assert evaluate(library, ev(), "2024-06-01", pack_id="test-pack").pack.id == "test-pack"


@pytest.mark.parametrize("bad", ["2024-02-30", "yesterday", "", "2024-1-5"])
def test_bad_as_of_is_an_evaluation_error(bad: str) -> None:
    with pytest.raises(EvaluationError, match="is not a date"):
        make_pack(BANDS).evaluate(ev(), bad)


def test_datetime_as_of_is_not_a_type_error() -> None:
    with pytest.raises(EvaluationError, match=r"is a date and time; pass a date \(`.date\(\)`\)"):
        make_pack(BANDS).evaluate(ev(), datetime(2026, 1, 5, 9, 30))
    assert make_pack(BANDS).evaluate(ev(), datetime(2026, 1, 5, 9, 30).date()).as_of == date(2026, 1, 5)


def _far_pack(duration: str) -> PolicyPack:
    return make_pack(BANDS + f"""
outcomes:
  - {{id: far, kind: action, when: {{input: score, known: true}}, text: Far away, due: {{after: {duration}}}, source: "§1"}}
  - {{id: old, kind: action, when: {{input: last_qpip, within: {duration}}}, text: Long ago, source: "§1"}}
""")


@pytest.mark.parametrize(("duration", "longest"), [("99999 years", "100 years"), ("99999999999999999999 days", "36525 days"),
                                                   ("3000 years", "100 years"), ("101 years", "100 years"),
                                                   ("1201 months", "1200 months"), ("26001 working days", "26000 working days")])
def test_a_duration_too_long_for_the_calendar_is_refused_where_it_is_written(duration: str, longest: str) -> None:
    with pytest.raises(PackLoadError) as info:
        _far_pack(duration)
    assert [(d.code, d.path) for d in info.value.diagnostics] == [("CP201", "outcomes[0].due.after"), ("CP201", "outcomes[1].when.within")]
    assert all(d.message == f"`{duration}` is too long for a deadline or window" for d in info.value.diagnostics)
    assert all(d.hint == f"the longest is {longest} (100 years)" for d in info.value.diagnostics)


@pytest.mark.parametrize(("duration", "due", "first_inside", "last_outside"), [
    ("100 years", date(2999, 12, 31), "2800-01-01", "2799-12-31"),
    ("1200 months", date(2999, 12, 31), "2800-01-01", "2799-12-31"),
    ("36525 days", date(3000, 1, 1), "2800-01-01", "2799-12-31"),  # 2900 is not a leap year, 2800 is
    ("26000 working days", date(2999, 8, 29), None, None)])
def test_the_longest_durations_evaluate_from_the_last_date_carepolicy_reads(
        duration: str, due: date, first_inside: str | None, last_outside: str | None) -> None:
    """The limits keep every date in range: a century from 2899-12-31 is still a date, so no evaluation overflows."""
    pack = _far_pack(duration)
    d = pack.evaluate(ev(local={"risk_profile_score": 1, "last_qpip_ended_on": "1900-01-01"}), "2899-12-31")
    assert [(a.id, a.due) for a in d.actions] == [("far", due)]
    if first_inside is not None:  # the window's first day is inside, the day before it is not
        inside = pack.evaluate(ev(local={"risk_profile_score": 1, "last_qpip_ended_on": first_inside}), "2899-12-31")
        outside = pack.evaluate(ev(local={"risk_profile_score": 1, "last_qpip_ended_on": last_outside}), "2899-12-31")
        assert ([a.id for a in inside.actions], [a.id for a in outside.actions]) == (["far", "old"], ["far"])


# =========================================================================== evidence errors


def test_bad_evidence_is_an_evidence_error_with_did_you_mean() -> None:
    with pytest.raises(EvidenceError) as info:
        make_pack(BANDS).evaluate(ev(local={"risk_profile_scor": 3}), AS_OF)
    [d] = info.value.diagnostics
    assert (d.code, d.path, d.hint) == ("CP401", "local.test.risk_profile_scor", "did you mean `risk_profile_score`?")
    assert d.message == "unknown field `risk_profile_scor`"


def test_every_evidence_problem_is_reported() -> None:
    bad = {"provider": {"id": "p1", "name": "Acme", "service_type": "nursin"},
           "local": {"test": {"risk_profile_score": "3"}}, "cqc": {"overal": "good"}}
    with pytest.raises(EvidenceError) as info:
        make_pack(BANDS).evaluate(bad, AS_OF)
    paths = sorted(d.path for d in info.value.diagnostics)
    assert paths == ["cqc.overal", "local.test.risk_profile_score", "provider.service_type"]
    assert "3 problem(s)" in str(info.value)


@pytest.mark.parametrize("evidence", [None, 5, [1], "not json", b"\xff\xfe", "{}", {}])
def test_evidence_that_is_not_evidence_is_an_evidence_error(evidence: Any) -> None:
    with pytest.raises(EvidenceError):
        make_pack(BANDS).evaluate(evidence, AS_OF)


def test_evidence_diagnostic_without_a_file_does_not_claim_to_be_in_the_pack() -> None:
    with pytest.raises(EvidenceError) as info:
        make_pack(BANDS).evaluate(ev(local={"risk_profile_scor": 3}), AS_OF)
    assert "<pack>" not in str(info.value.diagnostics[0])


# =========================================================================== determinism, threads, JSON

EVIDENCE_SET = [
    json.loads(MEADOWBANK.read_text()),
    ev(),
    ev(local={"risk_profile_score": 28}, cqc={"special_measures": True, "overall": "inadequate"}),
    ev(standards={4: "amber", 5: "green"}, events=[e("safeguarding_alert", "2026-10-01", staff_member="a"),
                                                     e("safeguarding_alert", "2026-10-02")]),
    ev(authority={"registered_office_in_area": False}),
    ev(local={"risk_profile_score": 35, "last_qpip_ended_on": "2025-06-01", "first_meeting_on": "2026-12-01"},
       events=[e("medication_error", "2026-11-01", harm="severe"), e("medication_error", "2026-11-02", harm="moderate")]),
    ev(local={"risk_profile_score": 5}, cqc={"special_measures": False}),
]
DATES = ["2026-11-23", "2025-12-19", "2026-04-01"]


def all_decisions_json() -> list[str]:
    pack = load_pack(EVERYTHING)
    return [pack.evaluate(evidence, day).to_json() for evidence in EVIDENCE_SET for day in DATES]


def test_same_input_gives_the_same_json_twice() -> None:
    assert all_decisions_json() == all_decisions_json()
    pack = load_pack(EVERYTHING)
    assert pack.evaluate(EVIDENCE_SET[0], "2026-11-23") == load_pack(EVERYTHING).evaluate(EVIDENCE_SET[0], "2026-11-23")


def test_decisions_are_the_same_across_hash_seeds() -> None:
    script = textwrap.dedent(
        f"""
        import hashlib, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import test_engine
        print(hashlib.sha256("\\n".join(test_engine.all_decisions_json()).encode()).hexdigest())
        """
    )
    digests = set()
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
        assert out.returncode == 0, out.stderr
        digests.add(out.stdout.strip())
    digests.add(hashlib.sha256("\n".join(all_decisions_json()).encode()).hexdigest())
    assert len(digests) == 1


def test_thread_safety_8_threads_x_500_evaluations_match_serial() -> None:
    pack = load_pack(EVERYTHING)
    jobs = [(EVIDENCE_SET[i % len(EVIDENCE_SET)], DATES[i % len(DATES)]) for i in range(4000)]
    serial = [pack.evaluate(evidence, day).to_json() for evidence, day in jobs]
    barrier = threading.Barrier(8)

    def worker(k: int) -> list[tuple[int, str]]:
        barrier.wait()
        return [(i, pack.evaluate(*jobs[i]).to_json()) for i in range(k, len(jobs), 8)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [r for chunk in pool.map(worker, range(8)) for r in chunk]
    assert len(results) == 4000
    mismatches = [i for i, text in results if text != serial[i]]
    assert mismatches == []


@pytest.mark.parametrize("index", range(len(EVIDENCE_SET)))
def test_decision_json_round_trip(index: int) -> None:
    pack = load_pack(EVERYTHING)
    for day in DATES:
        d = pack.evaluate(EVIDENCE_SET[index], day)
        assert Decision.model_validate_json(d.model_dump_json()) == d
        assert Decision.model_validate(json.loads(d.to_json())) == d


def test_decision_json_round_trip_keeps_numeric_and_list_values() -> None:
    d = load_pack(EVERYTHING).evaluate(EVIDENCE_SET[0], "2026-11-23")
    back = Decision.model_validate_json(d.model_dump_json())
    assert back.decision("visits").value == 1 and type(back.decision("visits").value) is int
    assert back.decision("activities").value == ["visit", "survey"]
    assert json.loads(d.to_json()) == json.loads(back.to_json())


def test_to_json_is_canonical() -> None:
    d = load_pack(EVERYTHING).evaluate(EVIDENCE_SET[0], "2026-11-23")
    text = d.to_json()
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2)
    assert d.to_json(indent=None) == json.dumps(json.loads(text), sort_keys=True)


# =========================================================================== trace and hash


def test_trace_lists_every_rule_checked_in_order() -> None:
    d = load_pack(EVERYTHING).evaluate(EVIDENCE_SET[0], "2026-11-23")
    steps = [(t.decision, t.rule, t.result) for t in d.trace]
    assert steps[:2] == [("scope", "office-elsewhere", "false"), ("tier", "tier-1", "true")]
    assert ("overall", "core-red", "true") in steps and ("overall", "harmful-errors", "false") in steps
    assert [s for s in steps if s[0] == "overall"] == [
        ("overall", "core-red", "true"), ("overall", "core-amber", "false"), ("overall", "other-red", "false"),
        ("overall", "cqc-poor", "true"), ("overall", "same-staff", "true"), ("overall", "harmful-errors", "false"),
    ]
    assert ("outcomes", "recent-qpip", "unknown") in steps
    assert steps[-1] == ("outcomes", "board", "false")


def test_trace_records_unknown_rows_and_missing_band_input() -> None:
    d = make_pack(CORE).evaluate(ev(), AS_OF)
    assert [(t.rule, t.result) for t in d.trace] == [("core-red", "unknown"), ("core-amber", "unknown")]
    b = make_pack(BANDS).evaluate(ev(), AS_OF)
    assert [(t.decision, t.rule, t.result) for t in b.trace] == [("result", "score", "unknown")]


def test_pack_sha256_is_the_hash_of_the_file_bytes() -> None:
    data = EVERYTHING.read_bytes()
    pack = load_pack(EVERYTHING)
    assert pack.sha256 == hashlib.sha256(data).hexdigest()
    assert loads_pack(data, "x.yaml").sha256 == pack.sha256
    assert loads_pack(data.decode("utf-8"), "x.yaml").sha256 == pack.sha256
    d = pack.evaluate(EVIDENCE_SET[0], "2026-11-23")
    assert d.pack.sha256 == pack.sha256 and d.pack.file == str(EVERYTHING)
    assert pack.sha256[:12] in repr(pack) and pack.sha256[:12] in d.explain()


def test_a_one_byte_change_changes_the_hash() -> None:
    data = EVERYTHING.read_bytes()
    assert loads_pack(data + b"\n", "x.yaml").sha256 != loads_pack(data, "x.yaml").sha256


def test_decision_metadata() -> None:
    d = load_pack(EVERYTHING).evaluate(EVIDENCE_SET[0], date(2026, 11, 23))
    assert d.as_of == date(2026, 11, 23)
    assert d.engine.startswith("carepolicy ")
    assert d.calendar.startswith("England bank holidays plus 1 council closure day (holidays ")
    with pytest.raises(KeyError):
        d.decision("nope")


def test_parse_evidence_accepts_model_dict_json_text_and_bytes() -> None:
    text = MEADOWBANK.read_text()
    model = parse_evidence(text)
    assert parse_evidence(model) is model
    assert parse_evidence(json.loads(text)) == model == parse_evidence(text.encode())
    pack = load_pack(EVERYTHING)
    assert pack.evaluate(model, "2026-11-23") == pack.evaluate(text, "2026-11-23")
