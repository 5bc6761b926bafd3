"""``carepolicy population``: a seeded synthetic market whose local findings come from the packs' declarations."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import carepolicy
from carepolicy import load_pack, load_packs
from carepolicy._market import KEY_QUESTIONS, generate

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "carepolicy"
AS_OF = date(2026, 11, 23)
SIXTH = ROOT / "tests" / "data" / "packs" / "valid" / "exampleshire.yaml"


@pytest.fixture(scope="module")
def packs() -> list[carepolicy.PolicyPack]:
    library = load_packs(ROOT / "policies")
    return [p for pid in library for p in library[pid]]


@pytest.fixture(scope="module")
def market(packs: list[carepolicy.PolicyPack]) -> list[dict[str, Any]]:
    return list(generate(packs, 1500, 7, AS_OF))


def test_every_record_is_valid_evidence_for_the_packs(packs: list[carepolicy.PolicyPack],
                                                      market: list[dict[str, Any]]) -> None:
    library = carepolicy.PackLibrary(packs)
    for record in market:
        library.parse_evidence(record)
    assert len({r["provider"]["id"] for r in market}) == len(market)


def test_the_same_seed_gives_the_same_market(packs: list[carepolicy.PolicyPack]) -> None:
    first = [json.dumps(r) for r in generate(packs, 40, 3, AS_OF)]
    assert first == [json.dumps(r) for r in generate(packs, 40, 3, AS_OF)]
    assert first != [json.dumps(r) for r in generate(packs, 40, 4, AS_OF)]
    # a prefix is the same whatever the size
    assert first[:10] == [json.dumps(r) for r in generate(packs, 10, 3, AS_OF)]


def test_each_council_gets_the_findings_its_pack_declares(packs: list[carepolicy.PolicyPack],
                                                          market: list[dict[str, Any]]) -> None:
    for pack in packs:
        declared = {s.name for s in pack.inputs.values() if s.kind == "local" and s.namespace == pack.model.pack.authority.id}
        seen = {name for r in market for name in r["local"].get(pack.model.pack.authority.id, {})}
        assert seen == declared, pack.id


def test_a_sixth_council_gets_its_findings_from_its_yaml_alone(packs: list[carepolicy.PolicyPack]) -> None:
    sixth = load_pack(SIXTH)
    authority = sixth.model.pack.authority.id
    records = list(generate([*packs, sixth], 300, 1, AS_OF))
    library = carepolicy.PackLibrary([*packs, sixth])
    for r in records:
        library.parse_evidence(r)
    specs = {s.name: s for s in sixth.inputs.values() if s.kind == "local"}
    found = collections.defaultdict(set)
    for r in records:
        for name, value in r["local"][authority].items():
            found[name].add(json.dumps(value))
    assert set(found) == set(specs)
    for name, spec in specs.items():
        if spec.type.values is not None:  # enums and booleans: only declared values, and more than one of them
            assert {json.loads(v) for v in found[name]} <= set(spec.type.values), name
            assert len(found[name]) > 1, name
    # adding the sixth council changes nothing of the other councils' records
    before = list(generate(packs, 300, 1, AS_OF))
    for a, b in zip(before, records):
        b = dict(b, local={k: v for k, v in b["local"].items() if k != authority},
                 authorities={k: v for k, v in b["authorities"].items() if k != authority})
        assert a == b
    # and its pack decides the records, mostly settled
    statuses = collections.Counter(sixth.evaluate(r, AS_OF).status for r in records)
    assert statuses["decided"] > len(records) / 2, statuses


def test_the_market_is_shaped_like_englands(market: list[dict[str, Any]]) -> None:
    kinds = collections.Counter(r["provider"]["service_type"] for r in market)
    homes = kinds["residential"] + kinds["nursing"]
    assert 0.4 < homes / len(market) < 0.6 and 0.25 < kinds["domiciliary"] / len(market) < 0.45
    assert 0.2 < kinds["nursing"] / homes < 0.4
    beds = [r["provider"]["beds"] for r in market if "beds" in r["provider"]]
    assert 20 < sum(beds) / len(beds) < 45
    rated = [r["cqc"] for r in market if r.get("cqc") and r["cqc"]["overall"] != "not_rated"]
    overall = collections.Counter(c["overall"] for c in rated)
    shares = {k: v / len(rated) for k, v in overall.items()}
    assert 0.72 < shares["good"] < 0.87 and 0.09 < shares["requires_improvement"] < 0.21
    assert 0.01 < shares["outstanding"] < 0.08 and shares.get("inadequate", 0) < 0.03
    for question, (_, good, ri, _) in KEY_QUESTIONS.items():
        got = sum(c[question] == "requires_improvement" for c in rated) / len(rated)
        assert abs(got - ri) < 0.05, question
    safe_ri = sum(c["safe"] == "requires_improvement" for c in rated)
    caring_ri = sum(c["caring"] == "requires_improvement" for c in rated)
    assert safe_ri > 3 * caring_ri, "safe is rated worse than caring"
    events = [len(r["events"]) for r in market]
    assert 1 < sum(events) / len(events) < 40 and min(events) == 0


def test_the_examples_market_is_the_command_output(tmp_path: Path) -> None:
    out = tmp_path / "m.jsonl"
    proc = subprocess.run([str(SCRIPT), "population", "--providers", "300", "--seed", "1", "--as-of", "2026-11-23",
                           "--out", str(out)], capture_output=True, cwd=ROOT, timeout=300)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert out.read_bytes() == (ROOT / "examples" / "market-300.jsonl").read_bytes(), \
        "examples/market-300.jsonl is regenerated by: carepolicy population --providers 300 --seed 1 --as-of 2026-11-23"


def test_population_usage_errors(tmp_path: Path) -> None:
    proc = subprocess.run([str(SCRIPT), "population", "--providers", "-1"], capture_output=True, cwd=ROOT, timeout=120)
    assert (proc.returncode, proc.stdout) == (2, b"")
    assert proc.stderr == b"carepolicy: --providers -1 is outside 0 to 1,000,000\n"
