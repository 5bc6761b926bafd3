"""Differential testing: the compiled engine against the reference evaluator (tests/reference/).

The reference is written from policies/README.md alone, reads the packs as plain YAML and
does its own date arithmetic, so a rule the engine gets wrong shows up as a disagreement on
evidence generated from the pack (carepolicy.testing.evidence). Every shipped pack and every
valid test pack is compared: each decision's status, value and rules, each outcome that
applies (certain or not) with its due dates, and the headline status. The number of cases
compared is printed at the end of the session; CAREPOLICY_PROFILE=deep compares thousands
per pack.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings

import carepolicy as cp
from carepolicy import testing

from conftest import COMPARED, PROFILE
from reference.evaluator import Reference, ReferenceError, load

ROOT = Path(__file__).resolve().parent.parent
PACK_FILES = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml")) + sorted(
    p for p in (ROOT / "tests/data/packs/valid").glob("*.yaml") if not p.name.endswith(".tests.yaml")) + [
    ROOT / "tests/reference/packs/edges.yaml"]  # what the shipped packs use rarely: ranges, open collects, groups
PACKS = {p.stem: (cp.load_pack(p), Reference(load(p))) for p in PACK_FILES}
EXAMPLES = {"ci": 60, "deep": 3_000, "mutation": 15}.get(PROFILE, 60)


def engine_view(decision: cp.Decision) -> dict:
    return {
        "status": decision.status,
        "decisions": {r.id: _decision(r.status, r.value, r.rules) for r in decision.decisions},
        "outcomes": {a.id: {"certain": a.certain, "due": a.due, "due_from": a.due_from}
                     for a in [*decision.actions, *decision.approvals, *decision.warnings]
                     if a.kind != "consistency"},  # pack outcomes only: consistency rules are not outcomes
    }


def reference_view(result: dict) -> dict:
    return {
        "status": result["status"],
        "decisions": {k: _decision(r.status, r.value if r.status == "decided" else (r.partial or None), r.rules)
                      for k, r in result["decisions"].items()},
        "outcomes": result["outcomes"],
    }


def _decision(status: str, value, rules) -> dict:
    # rules are compared where they say why a value was given (decided) or why none can be (conflict);
    # an open `collect` decision gives the values collected so far (none: no value)
    return {"status": status, "value": value if status == "decided" else (value or None),
            "rules": list(rules) if status in ("decided", "conflict") else None}


def differences(pack: cp.PolicyPack, ref: Reference, data: dict, day: date) -> list[str]:
    try:
        mine = engine_view(pack.evaluate(data, day))
    except cp.EvaluationError as exc:
        mine = {"error": [d.code for d in exc.diagnostics]}
    try:
        theirs = reference_view(ref.evaluate(data, day))
    except ReferenceError:
        theirs = {"error": ["CP410"]}
    COMPARED["cases"] += 1
    COMPARED["decisions"] += len(theirs.get("decisions", ()))
    COMPARED["outcomes"] += len(theirs.get("outcomes", ()))
    if mine == theirs:
        return []
    if "error" in mine or "error" in theirs:
        return [f"engine {mine.get('error', 'evaluates')}, reference {theirs.get('error', 'evaluates')}"]
    out = []
    if mine["status"] != theirs["status"]:
        out.append(f"status: engine {mine['status']}, reference {theirs['status']}")
    for k in mine["decisions"]:
        if mine["decisions"][k] != theirs["decisions"][k]:
            out.append(f"decision `{k}`: engine {mine['decisions'][k]}, reference {theirs['decisions'][k]}")
    for k in sorted(set(mine["outcomes"]) | set(theirs["outcomes"])):
        a, b = mine["outcomes"].get(k), theirs["outcomes"].get(k)
        if a != b:
            out.append(f"outcome `{k}`: engine {a}, reference {b}")
    return out


@pytest.mark.parametrize("gaps", [False, True], ids=["complete", "gaps"])
@pytest.mark.parametrize("name", sorted(PACKS))
def test_the_engine_agrees_with_the_reference_evaluator(name, gaps):
    pack, ref = PACKS[name]

    @settings(max_examples=EXAMPLES)
    @given(testing.evidence(pack, gaps=gaps))
    def prop(pair):
        data, day = pair
        assert differences(pack, ref, data, day) == [], (data, day)

    prop()


def test_the_differential_test_sees_every_kind_of_result():
    """Not a vacuous comparison: over the packs' generated evidence both sides meet every status and outcomes."""
    seen: Counter[str] = Counter()
    for name, (pack, ref) in sorted(PACKS.items()):
        @settings(max_examples=30, database=None)
        @given(testing.evidence(pack, gaps=True))
        def prop(pair):
            result = ref.evaluate(*pair)
            seen.update(r.status for r in result["decisions"].values())
            seen.update("certain outcome" if o["certain"] else "uncertain outcome" for o in result["outcomes"].values())
            seen.update("due" for o in result["outcomes"].values() if o["due"] is not None)

        prop()
    assert {"decided", "insufficient_evidence", "certain outcome", "uncertain outcome", "due"} <= set(seen), seen
