"""Events per second through the stream, and through the core re-evaluating the accumulated history.

For each shipped pack (and all five in one stream), at 10, 100 and 1,000 events per provider,
the same dated events go two ways in one run:

* **stream**: ``carepolicy.stream`` (durable-rules counting, the core's closures deciding): open
  the provider, post each event as of its date, close it; after each event it has every
  decision and trigger, and the changes;
* **core** (the baseline): after each event, ``PolicyPack.evaluate(..., analyse=False)`` (every
  decision, outcome and trace, without the bounds of open decisions, which the stream does not
  give either) over the provider's evidence with every event so far; the events are validated
  once beforehand and added without re-validation, the core's best case.

The last decisions of both are compared for every provider before anything is reported
(a mismatch stops the run). Every speed is a median of repeats, with the ratio to the core in
the same run (``x baseline``: the core's time an event over the stream's, higher is better).

    .venv/bin/python benchmarks/stream.py              # the table alone (benchmarks/run.py --only stream)
    .venv/bin/python benchmarks/stream.py --quick      # 10 and 100 events, one repeat
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

import carepolicy  # noqa: E402
from carepolicy import stream  # noqa: E402
from carepolicy._stream_rules import event_queries  # noqa: E402

Row = tuple[str, str, str, str, str]  # figure, value, baseline, ratio, note (as benchmarks/run.py)

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
SIZES = ((10, 50), (100, 5), (1000, 1))  # events a provider, providers: 500 or 1,000 events a row


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
        for e in events:
            s.post(key, e)  # as of the later of the event's date and the provider's
        last[key] = s.decisions(key)
        s.close(key)
    return time.perf_counter() - t, last


def through_core(packs: list[carepolicy.PolicyPack], histories: list[list[dict[str, Any]]]) -> tuple[float, Any]:
    library = carepolicy.PackLibrary(packs)
    parsed = [library.parse_evidence({**RECORD, "events": events}) for events in histories]  # validated once
    last: dict[str, Any] = {}
    t = time.perf_counter()
    for i, record in enumerate(parsed):
        day = START
        events = record.events or []
        decisions: dict[str, Any] = {}
        for k, e in enumerate(events, 1):
            day = max(day, e.date)
            so_far = record.model_copy(update={"events": events[:k]})
            decisions = {p.id: p.evaluate(so_far, day, analyse=False) for p in packs if p.in_force(day)}
        last[f"p{i}"] = decisions
    return time.perf_counter() - t, last


def mismatches(stream_last: Any, core_last: Any) -> int:
    """Providers whose last decisions differ between the stream and the core."""
    bad = 0
    for key, by_pack in core_last.items():
        for pid, d in by_pack.items():
            got = stream_last[key][pid]
            if any((got[r.id].status, got[r.id].value, got[r.id].rules) != (r.status, r.value, tuple(r.rules))
                   for r in d.decisions):
                bad += 1
    return bad


def stream_rows(sizes: Sequence[tuple[int, int]] = SIZES, repeats: int = 3) -> list[Row]:
    """One row per pack (and all five) and size: the stream's time an event against the core's."""
    if not stream.available():
        from carepolicy._stream_host import backend_problem

        raise SystemExit(f"cannot run the stream benchmark: {backend_problem()}")
    library = carepolicy.load_packs(ROOT / "policies")
    shipped = [library[pid][-1] for pid in library]
    cases: list[tuple[str, list[carepolicy.PolicyPack]]] = [(p.id, [p]) for p in shipped] + [("all five packs", shipped)]
    rows: list[Row] = []
    for label, packs in cases:
        for n, providers in sizes:
            histories = [history(packs, n, seed=1000 * n + i) for i in range(providers)]
            events = n * providers
            s_times, c_times = [], []
            for _ in range(repeats):
                t_stream, s_last = through_stream(packs, histories)
                t_core, c_last = through_core(packs, histories)
                bad = mismatches(s_last, c_last)
                if bad:
                    raise SystemExit(f"{label}, {n} events a provider: {bad} providers decided differently")
                s_times.append(t_stream)
                c_times.append(t_core)
            ts, tc = statistics.median(s_times), statistics.median(c_times)
            spread = (max(s_times) - min(s_times)) / ts if ts else 0.0
            rows.append((f"stream, {label}: {n:,} events a provider x {providers} (baseline: the core re-evaluating)",
                         f"{ts / events * 1e6:,.0f} µs an event", f"{tc / events * 1e6:,.0f} µs",
                         f"{tc / ts:.2f}", f"{events / ts:,.0f} events/s against {events / tc:,.0f}; same decisions; "
                                           f"spread {spread:.0%}"))
            print(f"  {rows[-1][0]}: x{rows[-1][3]}", file=sys.stderr, flush=True)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 and 100 events per provider, one repeat")
    parser.add_argument("--repeats", type=int, default=None, help="repeats of each row (default 3; quick 1)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from run import table

    sizes = SIZES[:2] if args.quick else SIZES
    repeats = args.repeats or (1 if args.quick else 3)
    print(f"carepolicy {carepolicy.__version__}, Python {sys.version.split()[0]}; repeats {repeats}", flush=True)
    print(table(stream_rows(sizes, repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
