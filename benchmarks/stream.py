"""Events per second through the stream, and through the core re-evaluating the accumulated history.

For each shipped pack (and all five in one stream), at 10, 100 and 1,000 events per provider,
the same dated events go two ways in one run:

* **stream**: ``carepolicy.stream`` (durable-rules counting, the core's closures deciding): open
  the provider, post each event as of its date;
* **core**: after each event, ``PolicyPack.evaluate`` over the provider's evidence with every
  event so far (events parsed once, beforehand, and added without re-validation: the core's
  best case).

Both give every decision after every event; the stream also gives the changes and triggers.
The last decisions of both are compared (a mismatch is printed). Speeds are events per second,
wall clock, on whatever else the machine is doing: read the ratios, which come from one run.

    .venv/bin/python benchmarks/stream.py            # about a minute
    .venv/bin/python benchmarks/stream.py --quick    # 10 and 100 events only
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import carepolicy  # noqa: E402
from carepolicy import stream  # noqa: E402
from carepolicy._stream_rules import event_queries  # noqa: E402
from carepolicy.evidence import Event, Evidence  # noqa: E402

FIELDS = {
    "staff_member": ["s-1", "s-2", "s-3", "s-4"],
    "theme": ["falls", "medication", "nutrition"],
    "harm": ["none", "low", "moderate", "significant", "severe"],
    "level": ["low", "medium", "high"],
    "substantiated": [True, False],
    "remedied": [True, False],
    "learning_evidenced": [True, False],
    "open": [True, False],
    "people_affected": [0, 1, 2, 3],
}
RECORD = {"provider": {"id": "bench", "name": "Benchmark Care", "service_type": "residential"}}
START = date(2025, 1, 1)


def history(packs: list[carepolicy.PolicyPack], n: int, seed: int) -> list[dict[str, Any]]:
    """n dated events of the kinds the packs count, about one every other day, fields sometimes absent."""
    rnd = random.Random(seed)
    kinds = sorted({k for p in packs for q in event_queries(p.model) for k in q.kinds}) or ["complaint"]
    out, day = [], START
    for _ in range(n):
        day += timedelta(days=rnd.choice((0, 1, 1, 2, 3)))
        e: dict[str, Any] = {"kind": rnd.choice(kinds), "date": (day - timedelta(days=rnd.choice((0, 0, 1, 5)))).isoformat()}
        for name, values in FIELDS.items():
            if rnd.random() < 0.7:
                e[name] = rnd.choice(values)
        out.append(e)
    return out


def through_stream(packs: list[carepolicy.PolicyPack], histories: list[list[dict[str, Any]]]) -> tuple[float, Any]:
    s = stream.open_stream(packs)
    last: dict[str, Any] = {}
    t = time.perf_counter()
    for i, events in enumerate(histories):
        key = f"p{i}"
        s.open(key, RECORD, START)
        day = START
        for e in events:
            day = max(day, date.fromisoformat(e["date"]))
            s.post(key, e, day)
        last[key] = s.decisions(key)
        s.close(key)
    return time.perf_counter() - t, last


def through_core(packs: list[carepolicy.PolicyPack], histories: list[list[dict[str, Any]]]) -> tuple[float, Any]:
    base = Evidence.model_validate(RECORD | {"events": []})
    parsed = [[Event.model_validate(e) for e in events] for events in histories]
    last: dict[str, Any] = {}
    t = time.perf_counter()
    for i, events in enumerate(parsed):
        day = START
        so_far: list[Event] = []
        for e in events:
            day = max(day, e.date)
            so_far.append(e)
            evidence = base.model_copy(update={"events": list(so_far)})
            decisions = {p.id: p.evaluate(evidence, day) for p in packs if p.in_force(day)}
        last[f"p{i}"] = decisions
    return time.perf_counter() - t, last


def agree(stream_last: Any, core_last: Any) -> int:
    """Providers whose last decisions differ between the stream and the core."""
    bad = 0
    for key, by_pack in core_last.items():
        for pid, d in by_pack.items():
            got = stream_last[key][pid]
            if any((got[r.id].status, got[r.id].value) != (r.status, r.value) for r in d.decisions):
                bad += 1
    return bad


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 events per provider only")
    args = parser.parse_args(argv)
    if not stream.available():
        from carepolicy._stream_host import backend_problem

        print(f"cannot run: {backend_problem()}")
        return 2
    library = carepolicy.load_packs(ROOT / "policies")
    shipped = [library[pid][-1] for pid in library]
    cases: list[tuple[str, list[carepolicy.PolicyPack]]] = [(p.id, [p]) for p in shipped] + [("all five", shipped)]
    sizes = [(10, 50), (100, 5), (1000, 1)] if not args.quick else [(10, 50), (100, 5)]
    print(f"carepolicy {carepolicy.__version__}, Python {sys.version.split()[0]}; events per second (wall clock)")
    print(f"{'packs':<18}{'events/provider':>16}{'providers':>10}{'stream ev/s':>13}{'core ev/s':>11}"
          f"{'stream/core':>13}  check")
    for label, packs in cases:
        for n, providers in sizes:
            histories = [history(packs, n, seed=1000 * n + i) for i in range(providers)]
            events = n * providers
            t_stream, s_last = through_stream(packs, histories)
            t_core, c_last = through_core(packs, histories)
            bad = agree(s_last, c_last)
            print(f"{label:<18}{n:>16,}{providers:>10}{events / t_stream:>13,.0f}{events / t_core:>11,.0f}"
                  f"{t_core / t_stream:>12.1f}x  {'same decisions' if not bad else f'{bad} MISMATCHES'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
