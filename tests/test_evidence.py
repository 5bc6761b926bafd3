"""Provider evidence: strict types, ISO dates from dicts and JSON, located errors, and the JSON schema."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from carepolicy import Evidence, EvidenceError, evidence_json_schema, parse_evidence

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
PROVIDER = {"id": "p1", "name": "Acme Care", "service_type": "nursing"}


def with_(**sections: Any) -> dict[str, Any]:
    return {"provider": dict(PROVIDER), **sections}


def errors(data: Any, source: str | None = None) -> list[tuple[str, str, str | None]]:
    with pytest.raises(EvidenceError) as info:
        parse_evidence(data, source=source)
    for d in info.value.diagnostics:
        assert d.code == "CP401" and d.severity == "error" and d.file == source
        assert "\n" not in d.message
    return [(d.path, d.message, d.hint) for d in info.value.diagnostics]


def both(data: dict[str, Any]) -> list[list[tuple[str, str, str | None]]]:
    """The errors from the dict and from its JSON text (they must agree)."""
    from_dict = errors(data)
    from_json = errors(json.dumps(data))
    assert from_dict == from_json
    return [from_dict]


# =========================================================================== strictness


def test_minimal_evidence_is_just_the_provider() -> None:
    ev = parse_evidence({"provider": PROVIDER})
    assert ev.provider.id == "p1" and ev.cqc is None and ev.events is None and ev.assessment is None


def test_unknown_field_with_did_you_mean() -> None:
    [[(path, message, hint)]] = both(with_(assessment={"risk_profile_scor": 3}))
    assert (path, message, hint) == ("assessment.risk_profile_scor", "unknown field `risk_profile_scor`",
                                     "did you mean `risk_profile_score`?")


def test_unknown_top_level_and_nested_fields() -> None:
    assert errors(with_(histroy={})) == [("histroy", "unknown field `histroy`", "did you mean `history`?")]
    far = errors(with_(cqc_ratings={}))
    assert far == [("cqc_ratings", "unknown field `cqc_ratings`",
                    "expected one of `assessment`, `cqc`, `events`, `flags`, `history`, `improvement_plan`, `provider`")]
    got = errors(with_(assessment={"quality_standards": {"safeguard": "red"}}))
    assert got == [("assessment.quality_standards.safeguard", "unknown field `safeguard`", "did you mean `safeguarding`?")]
    got = errors(with_(events=[{"kind": "complaint", "date": "2026-01-01", "staff_membr": "x"}]))
    assert got == [("events[0].staff_membr", "unknown field `staff_membr`", "did you mean `staff_member`?")]


@pytest.mark.parametrize(
    ("value", "what"),
    [("3", "text"), (True, "a boolean"), (3.0, "a float"), (3.5, "a fraction"), (None, "null is fine")],
)
def test_integers_are_strict(value: Any, what: str) -> None:
    data = with_(assessment={"risk_profile_score": value})
    if value is None:
        assert parse_evidence(data).assessment.risk_profile_score is None  # type: ignore[union-attr]
        return
    [[(path, message, _)]] = both(data)
    assert path == "assessment.risk_profile_score"
    assert message == "input should be a valid integer", what


@pytest.mark.parametrize("value", ["true", 1, 0, "yes"])
def test_booleans_are_strict(value: Any) -> None:
    [[(path, message, _)]] = both(with_(cqc={"special_measures": value}))
    assert (path, message) == ("cqc.special_measures", "input should be a valid boolean")


def test_numbers_keep_their_bounds() -> None:
    assert errors(with_(assessment={"risk_profile_score": 1001}))[0][1] == "input should be less than or equal to 1000"
    assert errors({"provider": {**PROVIDER, "beds": -1}})[0][0] == "provider.beds"
    assert errors(with_(assessment={"provider_quality_rating": 0}))[0][0] == "assessment.provider_quality_rating"


def test_enumerations_are_exact() -> None:
    got = errors({"provider": {**PROVIDER, "service_type": "Nursing"}})
    assert got[0][0] == "provider.service_type" and "'nursing'" in got[0][1]
    assert errors(with_(cqc={"overall": "Good"}))[0][0] == "cqc.overall"


def test_provider_identity_is_required() -> None:
    assert errors({}) == [("provider", "field required", None)]
    got = errors({"provider": {"id": "p1"}})
    assert [p for p, _, _ in got] == ["provider.name", "provider.service_type"]
    assert errors({"provider": {**PROVIDER, "name": ""}})[0][1] == "string should have at least 1 character"


def test_every_problem_is_reported_and_the_source_named() -> None:
    data = with_(assessment={"risk_profile_score": "3", "pamms_ratng": "good"}, cqc={"overall": "great"},
                 events=[{"kind": "complaint"}])
    got = errors(data, source="providers/acme.json")
    assert sorted(p for p, _, _ in got) == [
        "assessment.pamms_ratng", "assessment.risk_profile_score", "cqc.overall", "events[0].date",
    ]
    with pytest.raises(EvidenceError) as info:
        parse_evidence(data, source="providers/acme.json")
    assert str(info.value).startswith("evidence in providers/acme.json is not valid (4 problem(s))")
    assert "providers/acme.json: error[CP401]" in str(info.value)


@pytest.mark.parametrize("data", [None, 5, "x", [PROVIDER], b"{", "[]"])
def test_not_an_object_is_an_evidence_error(data: Any) -> None:
    [(path, _, _)] = errors(data)
    assert path == "$"


def test_evidence_is_frozen() -> None:
    ev = parse_evidence({"provider": PROVIDER})
    with pytest.raises(ValidationError):
        ev.provider.name = "Other"  # type: ignore[misc]


def test_events_empty_list_is_known_none_and_absent_is_unknown() -> None:
    assert parse_evidence(with_(events=[])).events == []
    assert parse_evidence({"provider": PROVIDER}).events is None


# =========================================================================== dates


def test_dates_from_a_dict_as_iso_text_or_date_objects() -> None:
    a = parse_evidence(with_(history={"last_qpip_ended_on": "2024-01-02"}, events=[{"kind": "complaint", "date": "2026-03-04"}]))
    b = parse_evidence(with_(history={"last_qpip_ended_on": date(2024, 1, 2)}, events=[{"kind": "complaint", "date": date(2026, 3, 4)}]))
    assert a == b
    assert a.history.last_qpip_ended_on == date(2024, 1, 2)  # type: ignore[union-attr]
    assert a.events[0].date == date(2026, 3, 4)  # type: ignore[index]


def test_dates_from_json() -> None:
    text = json.dumps(with_(history={"first_meeting_on": "2026-12-07"}, cqc={"inspection_date": "2026-08-14"}))
    ev = parse_evidence(text)
    assert ev.history.first_meeting_on == date(2026, 12, 7)  # type: ignore[union-attr]
    assert ev.cqc.inspection_date == date(2026, 8, 14)  # type: ignore[union-attr]
    assert parse_evidence(text.encode("utf-8")) == ev


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-13-01", "02/01/2024", "yesterday", "2024-01-02T10:00:00"])
def test_bad_dates_are_refused(bad: str) -> None:
    [[(path, message, _)]] = both(with_(history={"last_qpip_ended_on": bad}))
    assert path == "history.last_qpip_ended_on"
    assert f"`{bad}` is not a date; write it as YYYY-MM-DD" in message


def test_dates_that_are_not_text_are_refused() -> None:
    assert errors(with_(history={"last_qpip_ended_on": 20240102}))[0][1] == "input should be a valid date"
    assert errors(with_(history={"last_qpip_ended_on": datetime(2024, 1, 2, 3, 4)}))[0][1] == "input should be a valid date"


def test_bad_date_message_has_no_pydantic_prefix() -> None:
    [(_, message, _)] = errors(with_(history={"last_qpip_ended_on": "2024-02-30"}))
    assert message == "`2024-02-30` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`"


@pytest.mark.parametrize("odd", ["20240102", "2024-W01-2"])
def test_only_extended_iso_dates_are_accepted(odd: str) -> None:
    errors(with_(history={"last_qpip_ended_on": odd}))


# =========================================================================== JSON schema

@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schema/evidence.schema.json").read_text(encoding="utf-8"))
    assert schema == evidence_json_schema(), "regenerate with `.venv/bin/carepolicy schema evidence > schema/evidence.schema.json`"
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_there_are_examples() -> None:
    assert any(p.name == "meadowbank-house.json" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_against_the_evidence_schema(path: Path, schema_validator: jsonschema.Draft202012Validator) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in schema_validator.iter_errors(data)]
    assert problems == []
    parse_evidence(path.read_bytes(), source=str(path))


@pytest.mark.parametrize(
    "bad",
    [
        with_(assessment={"risk_profile_scor": 3}),
        with_(assessment={"risk_profile_score": "3"}),
        with_(assessment={"risk_profile_score": True}),
        with_(history={"last_qpip_ended_on": "2024-02-30"}),
        with_(cqc={"overall": "great"}),
        with_(events=[{"kind": "complaint"}]),
        {"provider": {"id": "p1"}},
    ],
)
def test_schema_and_model_agree_on_bad_evidence(bad: dict[str, Any], schema_validator: jsonschema.Draft202012Validator) -> None:
    assert list(schema_validator.iter_errors(bad)), "the schema accepts it"
    with pytest.raises(EvidenceError):
        parse_evidence(json.dumps(bad))


def test_schema_covers_every_model_field() -> None:
    schema = evidence_json_schema()
    assert set(schema["properties"]) == set(Evidence.model_fields)
    assert schema["required"] == ["provider"]
    assert schema["additionalProperties"] is False
