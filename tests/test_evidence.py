"""Provider evidence: shared facts, pack-declared local findings, strict types, located errors, schemas."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from carepolicy import Evidence, EvidenceError, PolicyPack, evidence_json_schema, load_packs, loads_pack, parse_evidence

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
PROVIDER = {"id": "p1", "name": "Acme Care", "service_type": "nursing"}

# A pack that declares one local finding of every type the format has.
FINDINGS = """\
carepolicy: 2
pack:
  id: findings
  authority: {id: exampleshire, name: Exampleshire Council}
  title: Every kind of local finding
  version: "1.0.0"
  effective_from: "2024-01-01"
  source_document: {title: Test}
  headline: result
scales:
  - id: rag
    values: [{id: green, label: Green, severity: 0}, {id: amber, label: Amber, severity: 2}, {id: red, label: Red, severity: 3}]
inputs:
  - {id: score, path: local.quality_score, type: integer, min: 0, max: 100, worse: lower, description: "0-100 quality score", source: "§3"}
  - {id: share, path: local.share_met, type: number, min: 0, max: 1}
  - {id: submitted, path: local.self_assessment_submitted, type: boolean}
  - {id: poor_since, path: local.rating_poor_since, type: date}
  - {id: route, path: local.route, type: enum, values: [informal, formal]}
  - {id: rag, path: local.standards_rag, type: scale, scale: rag}
  - {id: note, path: local.officer_note, type: text, max_length: 20}
  - {id: themes, path: local.themes, type: list, items: {type: enum, values: [falls, medication]}, max_length: 3}
  - {id: in_area, path: authority.in_area, type: boolean}
  - {id: overall, path: cqc.overall, type: enum}
  - {id: events, path: events, type: events}
decisions:
  - id: result
    kind: bands
    input: score
    scale: rag
    source: "§3"
    bands:
      - {id: low, value: red, max: 49, source: "§3"}
      - {id: mid, value: amber, min: 50, max: 79, source: "§3"}
      - {id: high, value: green, min: 80, source: "§3"}
"""


@pytest.fixture(scope="module")
def pack() -> PolicyPack:
    return loads_pack(FINDINGS, "findings.yaml")


def local(**findings: Any) -> dict[str, Any]:
    return {"provider": dict(PROVIDER), "local": {"exampleshire": findings}}


def with_(**sections: Any) -> dict[str, Any]:
    return {"provider": dict(PROVIDER), **sections}


def errors(data: Any, pack: PolicyPack | None = None, source: str | None = None) -> list[tuple[str, str, str | None]]:
    with pytest.raises(EvidenceError) as info:
        if pack is None:
            parse_evidence(data, source=source)
        else:
            pack.parse_evidence(data, source=source)
    for d in info.value.diagnostics:
        assert d.code.startswith("CP4") and d.severity == "error" and d.file == source
        assert "\n" not in d.message
    return [(d.path, d.message, d.hint) for d in info.value.diagnostics]


def both(data: dict[str, Any], pack: PolicyPack | None = None) -> list[tuple[str, str, str | None]]:
    """The errors from the dict and from its JSON text (they must agree)."""
    from_dict = errors(data, pack)
    assert errors(json.dumps(data), pack) == from_dict
    return from_dict


# =========================================================================== shared facts


def test_minimal_evidence_is_just_the_provider() -> None:
    ev = parse_evidence({"provider": PROVIDER})
    assert ev.provider.id == "p1" and ev.cqc is None and ev.events is None and ev.local is None


def test_unknown_shared_fields_with_did_you_mean() -> None:
    assert errors(with_(cqc={"overal": "good"})) == [("cqc.overal", "unknown field `overal`", "did you mean `overall`?")]
    got = errors(with_(events=[{"kind": "complaint", "date": "2026-01-01", "staff_membr": "x"}]))
    assert got == [("events[0].staff_membr", "unknown field `staff_membr`", "did you mean `staff_member`?")]
    [(path, message, hint)] = errors(with_(quality_score=3))
    assert (path, message) == ("quality_score", "unknown field `quality_score`")
    assert hint == "an authority's own finding goes under `local.<authority_id>`, declared by its pack"


@pytest.mark.parametrize("value", ["true", 1, 0, "yes"])
def test_booleans_are_strict(value: Any) -> None:
    [(path, message, _)] = both(with_(cqc={"special_measures": value}))
    assert (path, message) == ("cqc.special_measures", "input should be a valid boolean")


def test_shared_numbers_keep_their_bounds_and_enumerations_are_exact() -> None:
    assert errors({"provider": {**PROVIDER, "beds": -1}})[0][0] == "provider.beds"
    got = errors({"provider": {**PROVIDER, "service_type": "Nursing"}})
    assert got[0][0] == "provider.service_type" and "'nursing'" in got[0][1]
    assert errors(with_(cqc={"overall": "Good"}))[0][0] == "cqc.overall"


def test_provider_identity_is_required() -> None:
    assert errors({}) == [("provider", "field required", None)]
    got = errors({"provider": {"id": "p1"}})
    assert [p for p, _, _ in got] == ["provider.name", "provider.service_type"]


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


def test_per_authority_facts_are_keyed_by_authority() -> None:
    ev = parse_evidence(with_(authorities={"wirral": {"in_area": True}, "bolton": {"addresses_in_area": 2}}))
    assert ev.authorities is not None and ev.authorities["wirral"].in_area is True
    assert errors(with_(authorities={"wirral": {"in_aera": True}}))[0][:2] == (
        "authorities.wirral.in_aera", "unknown field `in_aera`")
    assert errors(with_(authorities={"Wirral": {}}))[0][0] == "authorities.Wirral.[key]"


# =========================================================================== JSON text


def test_duplicate_keys_in_json_are_refused_not_last_wins() -> None:
    text = '{"provider": {"id": "p1", "name": "A", "service_type": "nursing", "name": "B"}}'
    with pytest.raises(EvidenceError) as info:
        parse_evidence(text)
    [d] = info.value.diagnostics
    assert (d.code, d.message) == ("CP403", "duplicate key `name` in the evidence json")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_that_are_not_numbers_are_refused(constant: str) -> None:
    with pytest.raises(EvidenceError) as info:
        parse_evidence('{"provider": {"id": "p1", "name": "A", "service_type": "nursing", "beds": %s}}' % constant)
    assert info.value.diagnostics[0].code == "CP404"


def test_json_syntax_errors_are_located() -> None:
    with pytest.raises(EvidenceError) as info:
        parse_evidence('{"provider":\n  {"id": "p1",}}', source="acme.json")
    [d] = info.value.diagnostics
    assert (d.code, d.file, d.line) == ("CP404", "acme.json", 2)


# =========================================================================== dates


def test_dates_from_a_dict_as_iso_text_or_date_objects(pack: PolicyPack) -> None:
    a = pack.parse_evidence({**local(rating_poor_since="2024-01-02"), "events": [{"kind": "complaint", "date": "2026-03-04"}]})
    b = pack.parse_evidence({**local(rating_poor_since=date(2024, 1, 2)), "events": [{"kind": "complaint", "date": date(2026, 3, 4)}]})
    assert a == b
    assert pack.read("poor_since", a, date(2026, 1, 1)) == date(2024, 1, 2)
    assert a.events is not None and a.events[0].date == date(2026, 3, 4)


@pytest.mark.parametrize("bad", ["2024-02-30", "2024-13-01", "02/01/2024", "yesterday", "2024-01-02T10:00:00", "20240102", "2024-W01-2"])
def test_bad_dates_are_refused(bad: str) -> None:
    [(path, message, _)] = both(with_(cqc={"inspection_date": bad}))
    assert path == "cqc.inspection_date"
    assert message == f"`{bad}` is not a date; write it as YYYY-MM-DD, e.g. `2026-01-05`"


def test_dates_that_are_not_text_are_refused() -> None:
    assert errors(with_(cqc={"inspection_date": 20240102}))[0][1] == "input should be a valid date"
    assert errors(with_(cqc={"inspection_date": datetime(2024, 1, 2, 3, 4)}))[0][1] == "input should be a valid date"


@pytest.mark.parametrize("placeholder", ["9999-12-31", "0001-01-01", "2900-01-01", "1899-12-31"])
def test_dates_outside_the_calendar_are_a_located_error_not_a_crash(placeholder: str, pack: PolicyPack) -> None:
    [(path, message, _)] = both(local(rating_poor_since=placeholder), pack)
    assert path == "local.exampleshire.rating_poor_since"
    assert message.startswith(f"`{placeholder}` is outside 1900-01-01 to 2899-12-31")
    assert "leave the field out" in message


# =========================================================================== local findings


def test_every_kind_of_local_finding_validates(pack: PolicyPack) -> None:
    ev = pack.parse_evidence(local(quality_score=85, share_met=0.5, self_assessment_submitted=True,
                                   rating_poor_since="2025-05-01", route="formal", standards_rag="amber",
                                   officer_note="fine", themes=["falls", "medication"]))
    on = date(2026, 1, 1)
    assert [pack.read(i, ev, on) for i in ("score", "share", "submitted", "route", "rag", "note", "themes")] == [
        85, 0.5, True, "formal", "amber", "fine", ["falls", "medication"]]
    assert pack.evaluate(ev, on).headline.value == "green"


@pytest.mark.parametrize(
    ("findings", "path", "message"),
    [
        ({"quality_score": 101}, "local.exampleshire.quality_score", "input should be less than or equal to 100"),
        ({"quality_score": "85"}, "local.exampleshire.quality_score", "input should be a valid integer"),
        ({"quality_score": 85.0}, "local.exampleshire.quality_score", "input should be a valid integer"),
        ({"share_met": 1.5}, "local.exampleshire.share_met", "input should be less than or equal to 1"),
        ({"self_assessment_submitted": "yes"}, "local.exampleshire.self_assessment_submitted", "input should be a valid boolean"),
        ({"route": "Formal"}, "local.exampleshire.route", "input should be 'informal' or 'formal'"),
        ({"standards_rag": "purple"}, "local.exampleshire.standards_rag", "input should be 'green', 'amber' or 'red'"),
        ({"officer_note": "x" * 21}, "local.exampleshire.officer_note", "string should have at most 20 characters"),
        ({"themes": ["falls", "nutrition"]}, "local.exampleshire.themes[1]", "input should be 'falls' or 'medication'"),
        ({"themes": ["falls"] * 4}, "local.exampleshire.themes", "list should have at most 3 items after validation, not 4"),
    ],
)
def test_local_findings_are_strict_by_their_declaration(pack: PolicyPack, findings: dict[str, Any], path: str, message: str) -> None:
    assert both(local(**findings), pack) == [(path, message, None)]


def test_an_undeclared_finding_of_this_authority_is_refused_with_did_you_mean(pack: PolicyPack) -> None:
    [(path, message, hint)] = both(local(quality_scor=3), pack)
    assert (path, message, hint) == ("local.exampleshire.quality_scor", "unknown field `quality_scor`",
                                     "did you mean `quality_score`?")
    [(_, _, hint)] = both(local(risk_profile_score=3), pack)
    assert hint == ("`risk_profile_score` is not a finding the packs of `exampleshire` declare; declare it in the pack "
                    "(`path: local.risk_profile_score` with its `type`)")


def test_a_pack_ignores_other_authorities_findings_and_a_library_checks_them(pack: PolicyPack) -> None:
    record = {**local(quality_score=85), "local": {"exampleshire": {"quality_score": 85},
                                                   "lancashire": {"risk_profile_score": "not checked by this pack"}}}
    assert pack.evaluate(record, "2026-01-01").headline.value == "green"
    library = load_packs(ROOT / "policies")
    # the shared-facts model leaves local findings to the packs that declare them
    assert parse_evidence({"provider": PROVIDER, "local": {"lancashire": {"risk_profile_score": "30"}}}).local
    with pytest.raises(EvidenceError) as info:
        library.parse_evidence({"provider": PROVIDER, "local": {"lancashire": {"risk_profile_score": "30"}}})
    assert [d.path for d in info.value.diagnostics] == ["local.lancashire.risk_profile_score"]
    with pytest.raises(EvidenceError) as info:
        library.parse_evidence({"provider": PROVIDER, "local": {"lancashir": {}}})
    [d] = info.value.diagnostics
    assert (d.path, d.hint) == ("local.lancashir", "did you mean `lancashire`?")


def test_layout_1_records_get_one_error_per_field_naming_where_it_moved() -> None:
    library = load_packs(ROOT / "policies")
    old = {"provider": {**PROVIDER, "addresses_in_area": 2},
           "assessment": {"risk_profile_score": 22, "pamms_rating": "good"}, "flags": {"kpis": "met"}}
    with pytest.raises(EvidenceError) as info:
        library.parse_evidence(old)
    got = {(d.code, d.path, d.message) for d in info.value.diagnostics}
    assert got == {
        ("CP402", "assessment.risk_profile_score",
         "`assessment.risk_profile_score` has moved to `local.lancashire.risk_profile_score` (evidence layout 2)"),
        ("CP402", "assessment.pamms_rating",
         "`assessment.pamms_rating` has moved to `local.wirral.pamms_rating` (evidence layout 2)"),
        ("CP402", "flags.kpis", "`flags.kpis` has moved to `local.bolton.kpis` (evidence layout 2)"),
        ("CP402", "provider.addresses_in_area",
         "`provider.addresses_in_area` has moved to `authorities.bolton.addresses_in_area` (evidence layout 2)"),
    }


def test_event_kinds_declared_by_a_pack_are_accepted_and_others_refused() -> None:
    text = FINDINGS.replace("scales:", "event_kinds:\n  - {id: self_assessment_missed, description: a missed self-assessment}\nscales:")
    declared = loads_pack(text, "kinds.yaml")
    ev = declared.parse_evidence(with_(events=[{"kind": "self_assessment_missed", "date": "2026-01-01"}]))
    assert ev.events is not None and ev.events[0].kind == "self_assessment_missed"
    [(path, message, _)] = errors(with_(events=[{"kind": "self_assessment_missed", "date": "2026-01-01"}]),
                                  loads_pack(FINDINGS, "findings.yaml"))
    assert (path, message) == ("events[0].kind", "`self_assessment_missed` is not a kind of event any pack here counts")


# =========================================================================== JSON schemas


def test_shared_schema_covers_every_model_field() -> None:
    schema = evidence_json_schema()
    assert set(schema["properties"]) == set(Evidence.model_fields)
    assert schema["required"] == ["provider"]
    assert schema["additionalProperties"] is False


@pytest.fixture(scope="module")
def library_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads((ROOT / "schema/evidence.schema.json").read_text(encoding="utf-8"))
    assert schema == load_packs(ROOT / "policies").evidence_schema(), (
        "regenerate with `.venv/bin/carepolicy schema evidence --packs policies/ > schema/evidence.schema.json`")
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_there_are_examples() -> None:
    assert any(p.name == "meadowbank-house.json" for p in EXAMPLES)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_validate_against_the_shipped_packs_schema(path: Path, library_validator: jsonschema.Draft202012Validator) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in library_validator.iter_errors(data)]
    assert problems == []
    load_packs(ROOT / "policies").parse_evidence(path.read_bytes(), source=str(path))


@pytest.mark.parametrize(
    "bad",
    [
        {"provider": PROVIDER, "local": {"lancashire": {"risk_profile_scor": 3}}},
        {"provider": PROVIDER, "local": {"lancashire": {"risk_profile_score": "3"}}},
        {"provider": PROVIDER, "local": {"lancashire": {"risk_profile_score": 1001}}},
        {"provider": PROVIDER, "local": {"lancashire": {"last_qpip_ended_on": "2024-02-30"}}},
        {"provider": PROVIDER, "cqc": {"overall": "great"}},
        {"provider": PROVIDER, "events": [{"kind": "complaint"}]},
        {"provider": PROVIDER, "assessment": {"risk_profile_score": 3}},
        {"provider": {"id": "p1"}},
    ],
)
def test_schema_and_model_agree_on_bad_evidence(bad: dict[str, Any], library_validator: jsonschema.Draft202012Validator) -> None:
    assert list(library_validator.iter_errors(bad)), "the schema accepts it"
    with pytest.raises(EvidenceError):
        load_packs(ROOT / "policies").parse_evidence(json.dumps(bad))


def test_a_pack_schema_describes_its_findings_with_their_clauses(pack: PolicyPack) -> None:
    schema = pack.evidence_schema()
    text = json.dumps(schema)
    assert "0-100 quality score (source: \\u00a73)" in text or "0-100 quality score (source: §3)" in text
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(local(quality_score=50)))
    assert list(validator.iter_errors(local(quality_score=500)))
