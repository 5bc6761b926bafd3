"""The lean headline (``--detail headline``) writes exactly what the full explained Decision projects to.

At headline detail the bulk pipeline skips the explained :class:`Decision`: it decides only what
the headline reads and bounds only the headline. These tests prove the shortcut equal to the
long way, byte for byte, over a synthetic market (complete records and records with evidence
taken away, so headlines are open and bounded), the example providers, other packs, several
as-of dates, and a pack where the shortcut must not be taken.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import carepolicy
from carepolicy import StreamResult, evaluate_stream, load_pack, load_packs, loads_pack
from carepolicy._market import generate

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 23)
EXAMPLES = sorted((ROOT / "examples").glob("*.json"))
VALID = ROOT / "tests" / "data" / "packs" / "valid"


@pytest.fixture(scope="module")
def library() -> carepolicy.PackLibrary:
    return load_packs(ROOT / "policies")


def _thinned(record: dict[str, Any], rng: random.Random, share: float) -> dict[str, Any]:
    """The record with about ``share`` of its facts taken away (never the provider's id, name and kind)."""

    keep = {"id", "name", "service_type", "kind", "date"}  # a provider's identity, an event's kind and date

    def thin(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: thin(v) for k, v in node.items() if k in keep or rng.random() >= share}
        if isinstance(node, list):
            return [thin(v) for v in node]
        return node

    out = thin(record)
    out["provider"] = {**out.get("provider", {}), **{k: record["provider"][k] for k in ("id", "name", "service_type")}}
    return out


def _market(packs: list[carepolicy.PolicyPack], n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    full = list(generate(packs, n, seed, AS_OF))
    return full + [_thinned(r, rng, share) for r, share in zip(full, [0.1, 0.3, 0.6] * n)]


def _lines_equal(library: carepolicy.PackLibrary, records: Iterable[Any], as_of: date) -> int:
    """Check each headline line against the full decision's projection; the number of lines compared."""
    records = list(records)
    lean = list(evaluate_stream(library, records, as_of, detail="headline"))
    full = list(evaluate_stream(library, records, as_of, detail="full"))
    assert [(r.line, r.pack_id, r.ok) for r in lean] == [(r.line, r.pack_id, r.ok) for r in full]
    for a, b in zip(lean, full):
        projected = StreamResult(b.line, b.provider_id, b.pack_id, b.decision, b.error, b.file, "headline")
        assert a.to_json() == projected.to_json(), f"line {a.line}, pack {a.pack_id}"
        assert a.to_dict() == projected.to_dict()
    return len(lean)


def test_lean_headlines_equal_the_full_decisions_over_a_market(library: carepolicy.PackLibrary) -> None:
    packs = [p for pid in library for p in library[pid]]
    records = _market(packs, 150, 11)
    assert _lines_equal(library, records, AS_OF) == len(records) * len(library)
    # the comparison covers what the shortcut skips: open headlines with bounds, every status, judgement both ways
    lines = [r.to_dict() for r in evaluate_stream(library, records, AS_OF, detail="headline")]
    assert {x["status"] for x in lines} >= {"decided", "insufficient_evidence", "out_of_scope"}
    assert any(x["at_least"] is not None for x in lines)
    assert {x["judgement"] for x in lines} == {True, False}


def test_lean_headlines_on_other_dates_and_the_examples(library: carepolicy.PackLibrary) -> None:
    examples = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    packs = [p for pid in library for p in library[pid]]
    records = examples + list(generate(packs, 40, 3, AS_OF))
    for as_of in (date(2026, 1, 5), AS_OF, date(2027, 6, 30)):
        _lines_equal(library, records, as_of)


@pytest.mark.parametrize("name", ["exampleshire.yaml", "everything.yaml"])
def test_lean_headlines_for_other_packs(name: str) -> None:
    pack = load_pack(VALID / name)
    library = carepolicy.PackLibrary([pack])
    records = _market([pack], 60, 5)
    if name == "everything.yaml":
        records.append(json.loads((VALID / "everything.evidence.json").read_text(encoding="utf-8")))
    _lines_equal(library, records, pack.model.pack.effective_from)


def test_a_pack_that_may_divide_by_zero_takes_the_full_path(library: carepolicy.PackLibrary) -> None:
    """Skipping a decision must not skip the error it raises: such a pack is evaluated in full."""
    lancashire = library.in_force("lancashire-qpip", AS_OF)
    assert lancashire.file is not None
    text = Path(lancashire.file).read_text(encoding="utf-8").replace(", if_zero: 0}", "}")
    pack = loads_pack(text, "lancashire-no-if-zero.yaml")
    assert pack._lean is None and lancashire._lean is not None
    no_actions = {"provider": {"id": "p0", "name": "Zero", "service_type": "residential"},
                  "local": {"lancashire": {"high_risk_actions": 0, "high_risk_little_progress": 0,
                                           "high_risk_good_progress": 0, "risk_profile_score": 22}}}
    one = carepolicy.PackLibrary([pack])
    [r] = evaluate_stream(one, [no_actions], AS_OF, detail="headline")
    [f] = evaluate_stream(one, [no_actions], AS_OF, detail="full")
    assert r.ok == f.ok and r.to_json() == StreamResult(f.line, f.provider_id, f.pack_id, f.decision, f.error, f.file,
                                                        "headline").to_json()
    _lines_equal(one, _market([pack], 40, 9), AS_OF)


def test_a_lean_result_still_gives_the_full_decision(library: carepolicy.PackLibrary) -> None:
    record = json.loads(EXAMPLES[0].read_text(encoding="utf-8"))
    for r in evaluate_stream(library, [record], AS_OF, detail="headline"):
        assert r.decision == library.in_force(r.pack_id or "", AS_OF).evaluate(record, AS_OF)
        with pytest.raises(AttributeError):
            r.line = 2  # type: ignore[misc]


def test_decisions_built_without_revalidation_equal_their_validated_copies(library: carepolicy.PackLibrary) -> None:
    """The engine builds result models from values it made (no second validation): each must be exactly the
    model validation gives, field types included, so its JSON and equality are unchanged."""
    packs = [p for pid in library for p in library[pid]]
    records = _market(packs, 40, 21) + [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLES]
    seen: set[str] = set()
    for r in evaluate_stream(library, records, AS_OF, detail="full"):
        if not r.ok:
            continue
        d = r.decision
        assert d is not None
        copy = carepolicy.Decision.model_validate(d.model_dump())
        assert copy == d
        assert copy.model_dump_json() == d.model_dump_json()
        for res in d.decisions:
            seen.add(res.status)
            seen.update(("bounds",) * (res.bounds is not None) + ("settle",) * bool(res.settle))
        seen.update(("actions",) * bool(d.actions) + ("warnings",) * bool(d.warnings) + ("missing",) * bool(d.missing))
    assert seen >= {"decided", "insufficient_evidence", "out_of_scope", "bounds", "settle", "actions", "warnings",
                    "missing"}
