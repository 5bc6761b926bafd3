"""The benchmark's plain-Python floor (benchmarks/floor.py) still decides each headline as the packs do.

benchmarks/run.py refuses to time a floor that disagrees with carepolicy; this keeps the two in step
on the example market, so a pack edit that changes a headline says here which floor to update.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import carepolicy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from floor import FLOORS  # noqa: E402


def test_each_floor_agrees_with_carepolicy_on_the_example_market() -> None:
    library = carepolicy.load_packs(ROOT / "policies")
    day = date(2026, 11, 23)
    records = [json.loads(line) for line in (ROOT / "examples" / "market-300.jsonl").read_text(encoding="utf-8").splitlines()]
    assert set(FLOORS) == set(library), "benchmarks/floor.py has one headline per shipped pack"
    seen = set()
    for pack_id, floor in FLOORS.items():
        pack = library.in_force(pack_id, day)
        for n, record in enumerate(records, 1):
            d = pack.evaluate(record, day)
            want = (d.status, d.headline.value if d.status == "decided" else None)
            assert floor(record, day) == want, f"benchmarks/floor.py `{pack_id}` disagrees on line {n} of examples/market-300.jsonl"
            seen.add((pack_id, d.status))
    # the market exercises decided, undecided and out-of-scope headlines
    assert {s for _, s in seen} >= {"decided", "insufficient_evidence", "out_of_scope"}
