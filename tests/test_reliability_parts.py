"""The battery's generators and checks, one at a time: each must be able to fail."""

from __future__ import annotations

import copy
import json
import random
from datetime import date
from pathlib import Path

import pytest

from carepolicy import evaluate, load_pack, loads_pack
from carepolicy._reliability import (
    DUPLICATE_KEYS,
    _duplicate_one_key,
    _raw_pack,
    add_unread,
    classify_evidence,
    classify_pack_bytes,
    essence,
    extreme_mutants,
    fuzz_input,
    has_duplicate_keys,
    is_date_text,
    order_variants,
    read_paths,
    walk_leaves,
)

ROOT = Path(__file__).resolve().parent.parent
EVERYTHING = ROOT / "tests/data/packs/valid/everything.yaml"
PACK = load_pack(EVERYTHING)
EVIDENCE = {
    "provider": {"id": "p1", "name": "Acme Care", "service_type": "nursing"},
    "authorities": {"example": {"registered_office_in_area": True}},
    "local": {"example": {"risk_profile_score": 22, "approach_to_personalisation": "red",
                          "first_meeting_on": "2026-01-20", "last_qpip_ended_on": "2025-03-01"}},
    "cqc": {"overall": "requires_improvement", "special_measures": False},
    "events": [{"kind": "medication_error", "date": "2026-01-02", "harm": "moderate"},
               {"kind": "medication_error", "date": "2025-12-20", "harm": "severe"}],
}
AS_OF = date(2026, 1, 5)


def test_classify_pack_bytes() -> None:
    good = EVERYTHING.read_bytes()
    assert classify_pack_bytes(good) == ("accepted", None)
    assert classify_pack_bytes(good, must_fail=True) == ("mismatch", "a pack that must be refused loaded")
    assert classify_pack_bytes(good[:200]) == ("located", None)
    assert classify_pack_bytes(b"") == ("located", None)  # CP110 is file-level


def test_classify_evidence() -> None:
    assert classify_evidence(PACK, EVIDENCE, AS_OF) == ("accepted", None)
    assert classify_evidence(PACK, {"provider": 1}, AS_OF) == ("located", None)
    assert classify_evidence(PACK, EVIDENCE, date(2023, 1, 1)) == ("located", None)  # not in force: names the date
    assert classify_evidence(PACK, EVIDENCE, AS_OF, must_fail="why") == ("mismatch", "why")


def test_order_variants_keep_first_tables_in_order_and_never_copy_unique_rows() -> None:
    raw = _raw_pack(EVERYTHING)
    tables = {d["id"]: d for d in raw["decisions"] if d["kind"] == "table"}
    for what, clone, renames in order_variants(raw, random.Random(1), 20):
        for d in clone["decisions"]:
            if d["kind"] != "table":
                continue
            ids = [r["id"] for r in d["rows"]]
            originals = [renames.get(i, i) for i in ids]
            before = [r["id"] for r in tables[d["id"]]["rows"]]
            assert sorted(set(originals)) == sorted(before), what
            if d["hit"] == "first":
                assert [i for i in ids if i not in renames] == before
                assert all(ids.index(renames[i]) < ids.index(i) for i in ids if i in renames)
            if d["hit"] == "unique":
                assert not any(i in renames for i in ids)
        loads_pack(json.dumps(clone), "variant.yaml")  # every variant is a valid pack


def test_essence_ignores_row_order_and_copies_but_not_values() -> None:
    raw = _raw_pack(EVERYTHING)
    for _, clone, renames in order_variants(raw, random.Random(2), 5):
        variant = loads_pack(json.dumps(clone), "variant.yaml")
        assert essence(evaluate(variant, EVIDENCE, AS_OF), renames) == essence(evaluate(PACK, EVIDENCE, AS_OF))
    worse = copy.deepcopy(EVIDENCE)
    worse["local"]["example"]["risk_profile_score"] = 30
    assert essence(evaluate(PACK, worse, AS_OF)) != essence(evaluate(PACK, EVIDENCE, AS_OF))


def test_add_unread_adds_only_what_no_input_reads() -> None:
    reads = read_paths(PACK)
    assert ("local", "example", "risk_profile_score") in reads and ("events",) in reads
    donor = {"provider": {"id": "x", "name": "X", "service_type": "domiciliary", "beds": 12},
             "local": {"example": {"risk_profile_score": 999}, "wirral": {"pamms_rating": "poor"},
                       "bolton": {"kpis": "many_not_met"}}, "events": []}
    more, added = add_unread(EVIDENCE, donor, reads)
    assert added == 3
    assert more["provider"]["beds"] == 12 and more["local"]["wirral"]["pamms_rating"] == "poor"
    assert more["local"]["bolton"] == donor["local"]["bolton"]
    assert more["local"]["example"]["risk_profile_score"] == 22 and more["events"] == EVIDENCE["events"]
    assert more["provider"]["service_type"] == "nursing" and more["provider"]["name"] == "Acme Care"


def test_duplicate_keys_are_written_and_detected() -> None:
    text = _duplicate_one_key(EVIDENCE, random.Random(3))
    assert text is not None and has_duplicate_keys(text) and not has_duplicate_keys(json.dumps(EVIDENCE))
    assert json.loads(text) == EVIDENCE  # the real value comes last, so it is what a lax reader keeps
    assert not has_duplicate_keys(b"{not json")


def test_extreme_mutants_change_leaves_by_type_only() -> None:
    mutants = {m.what: m for m in extreme_mutants(EVIDENCE, AS_OF, PACK, random.Random(4), huge=True)}
    far = mutants["every date 9999-12-31"].evidence
    assert [v for _, v in walk_leaves(far) if is_date_text(v)] == ["9999-12-31"] * 4
    assert [v for _, v in walk_leaves(far) if not is_date_text(v)] == [
        v for _, v in walk_leaves(EVIDENCE) if not is_date_text(v)]
    assert len(mutants["events: 10,000 items"].evidence["events"]) == 10_000
    assert mutants["a key written twice (JSON text)"].must_fail == DUPLICATE_KEYS
    assert any(w.startswith("every number") for w in mutants) and any(w.startswith("every text like") for w in mutants)


@pytest.mark.parametrize("number", [0, 1, 2**40, 12345678901])
def test_fuzz_inputs_are_reproducible_from_their_number(number: int) -> None:
    seeds = [("a.yaml", b"a: 1\nb: [1, 2]\n"), ("b.yaml", b"c: {d: e}\n")]
    assert fuzz_input(number, seeds, "ab:") == fuzz_input(number, seeds, "ab:")
    assert fuzz_input(number, seeds, "ab:")[1].startswith(f"#{number} ")
