"""carepolicy's benchmarks: one command, one table, every speed a ratio to a baseline measured in the same run.

    .venv/bin/pip install -e '.[bench]'      # zen-engine, rule-engine, cedarpy (and '.[durable]' for durable-rules)
    .venv/bin/python benchmarks/run.py       # the full run (about half an hour on 2 cores)
    .venv/bin/python benchmarks/run.py --quick

Every figure is the median of several repeats (``--repeats``, ``--market-repeats``). Speeds
are given with a ratio to a baseline from the same run (higher is better: 1.0 is as fast as
the baseline), because a shared machine's absolute numbers drift from run to run:

* **paths per pack**: each pack's headline hand-written in plain Python (``floor.py``) is the
  baseline for the headline detail (``evaluate_stream(..., detail="headline")`` over validated
  evidence, what ``carepolicy evaluate --detail headline`` computes), ``PolicyPack.decide``
  (validated evidence, and from a dict),
  ``PolicyPack.evaluate`` (validated evidence) and ``carepolicy.evaluate`` (from a dict). The
  floor is checked equal to carepolicy's headline on every record of the market first.
* **peers**: the three-rule subset (QPIP band; red among standards 4-7, else amber if any
  standard is not green; the worst PQR indicator, default 1) in plain Python, carepolicy
  (``subset.yaml``), zen-engine, rule-engine, cedarpy and durable-rules where installed; each
  engine's output is checked equal to plain Python on every record before it is timed.
* **the national market**: ``carepolicy evaluate market.jsonl`` (JSON Lines in and out) at
  3,000 and 30,000 providers, headline and full detail, in a subprocess whose peak memory
  (``ru_maxrss``) is read; the baseline is ``floor_pipeline.py`` doing the same reading and
  writing with the hand-written headlines.
* **start-up**: ``carepolicy --help`` against ``python -c pass``; loading and checking the five
  packs against ``yaml.safe_load`` of the same files.
* **streaming** (``stream.py``, needs the ``durable`` extra): events per second through
  ``carepolicy.stream`` against the core re-evaluating the accumulated history after each event,
  per pack and all five, at 10, 100 and 1,000 events a provider; the decisions are checked equal.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import carepolicy  # noqa: E402
from floor import FLOORS  # noqa: E402

AS_OF = date(2026, 11, 23)
BIN = Path(sys.executable).parent
Row = tuple[str, str, str, str, str]  # figure, value, baseline, ratio, note


# ----------------------------------------------------------------- timing


def median_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """The median wall time of ``fn`` over ``repeats`` runs (after one warm-up), and the spread (max-min)/median."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return med, (max(times) - min(times)) / med if med else 0.0


_MEASURE = """
import os, subprocess, sys, time
start = time.perf_counter()
with open(os.devnull, "wb") as sink:
    proc = subprocess.Popen(sys.argv[1:], stdout=sink, stderr=subprocess.PIPE)
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
print(time.perf_counter() - start, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
sys.stderr.write(err.decode(errors="replace")[-2000:])
"""


def run_child(argv: Sequence[str]) -> tuple[float, float, int]:
    """Wall seconds, peak resident memory in MB (the command's own ru_maxrss) and the exit code of one command.

    The command is started by a small fresh interpreter, so the memory it reports is the command's,
    not the pages a fork of this (large) process would carry until exec.
    """
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True, text=True, cwd=ROOT)
    wall, maxrss, code = done.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({code}): {done.stderr}")
    return float(wall), int(maxrss) / 1024, int(code)


def median_child(argv: Sequence[str], repeats: int) -> tuple[float, float, float]:
    runs = [run_child(argv) for _ in range(repeats)]
    walls = [r[0] for r in runs]
    med = statistics.median(walls)
    return med, max(r[1] for r in runs), (max(walls) - min(walls)) / med if med else 0.0


def ratio(baseline: float, this: float) -> str:
    return f"{baseline / this:.3f}" if this else "-"


def per(seconds: float, n: int) -> str:
    micro = seconds / n * 1e6
    return f"{micro:,.1f} µs" if micro < 10_000 else f"{micro / 1000:,.1f} ms"


# ----------------------------------------------------------------- the market


def make_market(packs: list[carepolicy.PolicyPack], providers: int, folder: Path) -> Path:
    path = folder / f"market-{providers}.jsonl"
    if not path.exists():
        subprocess.run([str(BIN / "carepolicy"), "population", "--providers", str(providers), "--seed", "1",
                        "--as-of", AS_OF.isoformat(), "--out", str(path)], check=True, cwd=ROOT)
    return path


def paths_per_pack(library: carepolicy.PackLibrary, records: list[dict[str, Any]], timed: int, repeats: int) -> list[Row]:
    rows: list[Row] = []
    validated = [library.parse_evidence(r) for r in records]
    for pid, floor in FLOORS.items():
        pack = library.in_force(pid, AS_OF)
        alone = carepolicy.PackLibrary([pack])
        headline = pack.model.pack.headline
        lines = [r.to_dict() for r in carepolicy.evaluate_stream(alone, validated, AS_OF, detail="headline")]
        # the floor is checked equal to carepolicy on every record first
        for n, (record, ev, line) in enumerate(zip(records, validated, lines), 1):
            d = pack.evaluate(ev, AS_OF)
            want = (d.status, d.headline.value if d.status == "decided" else None)
            got = floor(record, AS_OF)
            if got != want:
                raise SystemExit(f"{pid}: the plain-Python floor disagrees with carepolicy on record {n}: {got} != {want}")
            if (line["status"], line["value"] if line["status"] == "decided" else None) != want:
                raise SystemExit(f"{pid}: the headline detail disagrees with evaluate() on record {n}")
            if d.status != "out_of_scope" and pack.decide(ev, AS_OF)[headline] != want[1]:
                raise SystemExit(f"{pid}: decide() disagrees with evaluate() on record {n}")
        recs, evs = records[:timed], validated[:timed]
        n = len(recs)

        def floor_run(floor: Any = floor) -> None:
            for r in recs:
                floor(r, AS_OF)

        def headline_detail(alone: Any = alone) -> None:
            for r in carepolicy.evaluate_stream(alone, evs, AS_OF, detail="headline"):
                r.to_dict()

        def decide_validated(pack: Any = pack) -> None:
            for e in evs:
                pack.decide(e, AS_OF)

        def decide_dict(pack: Any = pack) -> None:
            for r in recs:
                pack.decide(pack.parse_evidence(r), AS_OF)

        def evaluate_validated(pack: Any = pack) -> None:
            for e in evs:
                pack.evaluate(e, AS_OF)

        def evaluate_dict(pack: Any = pack) -> None:
            for r in recs:
                carepolicy.evaluate(pack, r, AS_OF)

        base, spread = median_seconds(floor_run, repeats)
        rows.append((f"{pid}: headline in plain Python (floor)", per(base, n), "-", "1.000",
                     f"checked equal on {len(records):,} records; spread {spread:.0%}"))
        for name, fn in (("headline detail (evaluate_stream, detail='headline'), validated evidence", headline_detail),
                         ("PolicyPack.decide, validated evidence", decide_validated),
                         ("PolicyPack.decide from a dict (validating)", decide_dict),
                         ("PolicyPack.evaluate, validated evidence (explained)", evaluate_validated),
                         ("carepolicy.evaluate from a dict (explained)", evaluate_dict)):
            t, spread = median_seconds(fn, repeats)
            rows.append((f"{pid}: {name}", per(t, n), per(base, n), ratio(base, t), f"spread {spread:.0%}"))
    return rows


# ----------------------------------------------------------------- peers on the three-rule subset

CORE = ("s4", "s5", "s6", "s7")
STANDARDS = tuple(f"s{i}" for i in range(1, 11))


def subset_records(n: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    out = []
    for _ in range(n):
        rec: dict[str, Any] = {"risk_score": rng.randint(0, 40)}
        for s in STANDARDS:
            rec[s] = rng.choices(("green", "amber", "red"), (0.8, 0.16, 0.04))[0]
        rec["pqr_indicators"] = sorted(k for k in (2, 3, 4, 5) if rng.random() < 0.12)
        out.append(rec)
    return out


def plain(rec: dict[str, Any]) -> tuple[str, str, int]:
    s = rec["risk_score"]
    tier = "none" if s < 20 else "qpip_1" if s <= 27 else "qpip_2"
    if any(rec[k] == "red" for k in CORE):
        overall = "red"
    elif any(rec[k] != "green" for k in STANDARDS):
        overall = "amber"
    else:
        overall = "green"
    return tier, overall, max(rec["pqr_indicators"], default=1)


def peers(records: list[dict[str, Any]], repeats: int) -> tuple[list[Row], list[str]]:
    n = len(records)
    expected = [plain(r) for r in records]
    engines: list[tuple[str, Callable[[dict[str, Any]], tuple[str, str, int]], str, list[Any] | None]] = []
    skipped: list[str] = []

    # carepolicy: the same rules as a pack; evidence is the subset's record as local findings
    pack = carepolicy.load_pack(HERE / "subset.yaml")

    def evidence(rec: dict[str, Any]) -> dict[str, Any]:
        local = {"risk_score": rec["risk_score"], **{s: rec[s] for s in STANDARDS},
                 **{f"ind_{k}": k in rec["pqr_indicators"] for k in (2, 3, 4, 5)}}
        return {"provider": {"id": "p", "name": "P", "service_type": "residential"}, "local": {"bench": local}}

    as_dicts = [evidence(r) for r in records]
    as_models = [pack.parse_evidence(d) for d in as_dicts]

    def cp_out(values: dict[str, Any]) -> tuple[str, str, int]:
        return values["tier"], values["overall"], int(values["pqr"].removeprefix("pqr_"))

    engines.append(("carepolicy PolicyPack.decide, validated evidence",
                    lambda m: cp_out(pack.decide(m, AS_OF)), f"carepolicy {carepolicy.__version__}", as_models))
    engines.append(("carepolicy PolicyPack.decide from a dict (validating)",
                    lambda d: cp_out(pack.decide(pack.parse_evidence(d), AS_OF)), "", as_dicts))
    engines.append(("carepolicy.evaluate from a dict (explained)",
                    lambda d: cp_out({r.id: r.value for r in carepolicy.evaluate(pack, d, AS_OF).decisions}), "", as_dicts))

    core_z = " or ".join(f'{k} == "red"' for k in CORE)
    any_z = " or ".join(f'{k} != "green"' for k in STANDARDS)
    expressions = {"tier": 'risk_score < 20 ? "none" : (risk_score <= 27 ? "qpip_1" : "qpip_2")',
                   "overall": f'({core_z}) ? "red" : (({any_z}) ? "amber" : "green")',
                   "pqr": "len(pqr_indicators) > 0 ? max(pqr_indicators) : 1"}
    try:
        import zen
        from importlib.metadata import version

        compiled = {k: zen.compile_expression(v) for k, v in expressions.items()}
        engines.append(("zen-engine, 3 compiled expressions",
                        lambda r: (compiled["tier"].evaluate(r), compiled["overall"].evaluate(r), int(compiled["pqr"].evaluate(r))),
                        f"zen-engine {version('zen-engine')}", None))
        content = {"nodes": [
            {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}},
            {"id": "ex", "type": "expressionNode", "name": "rules", "position": {"x": 200, "y": 0},
             "content": {"expressions": [{"id": k, "key": k, "value": v} for k, v in expressions.items()]}},
            {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 400, "y": 0}}],
            "edges": [{"id": "e1", "sourceId": "in", "targetId": "ex", "type": "edge"},
                      {"id": "e2", "sourceId": "ex", "targetId": "out", "type": "edge"}]}
        graph = zen.ZenEngine().create_decision(json.dumps(content))

        def zen_graph(r: dict[str, Any]) -> tuple[str, str, int]:
            out = graph.evaluate(r)["result"]
            return out["tier"], out["overall"], int(out["pqr"])

        engines.append(("zen-engine, decision graph (expression node)", zen_graph, "", None))
    except ImportError:
        skipped.append("zen-engine (not installed: pip install -e '.[bench]')")

    try:
        import rule_engine

        core_r = " or ".join(f'{k} == "red"' for k in CORE)
        any_r = " or ".join(f'{k} != "green"' for k in STANDARDS)
        rule = rule_engine.Rule(
            f'{{"tier": (risk_score < 20 ? "none" : (risk_score <= 27 ? "qpip_1" : "qpip_2")), '
            f'"overall": (({core_r}) ? "red" : (({any_r}) ? "amber" : "green")), '
            f'"pqr": (pqr_indicators ? $max(pqr_indicators) : 1)}}')

        def rule_engine_run(r: dict[str, Any]) -> tuple[str, str, int]:
            out = rule.evaluate(r)
            return out["tier"], out["overall"], int(out["pqr"])

        engines.append(("rule-engine, one rule returning a mapping", rule_engine_run, f"rule-engine {rule_engine.__version__}", None))
    except ImportError:
        skipped.append("rule-engine (not installed: pip install -e '.[bench]')")

    try:
        import cedarpy
        from importlib.metadata import version

        core_c = " || ".join(f'context.{k} == "red"' for k in CORE)
        any_c = " || ".join(f'context.{k} != "green"' for k in STANDARDS)
        policies = [
            ("tier", "none", "context.risk_score < 20"),
            ("tier", "qpip_1", "context.risk_score >= 20 && context.risk_score <= 27"),
            ("tier", "qpip_2", "context.risk_score >= 28"),
            ("overall", "red", core_c),
            ("overall", "amber", f"!({core_c}) && ({any_c})"),
            ("overall", "green", f"!({any_c})"),
            ("pqr", 5, "context.pqr_indicators.contains(5)"),
            ("pqr", 4, "context.pqr_indicators.contains(4) && !context.pqr_indicators.contains(5)"),
            ("pqr", 3, "context.pqr_indicators.contains(3) && !context.pqr_indicators.containsAny([4, 5])"),
            ("pqr", 2, "context.pqr_indicators.contains(2) && !context.pqr_indicators.containsAny([3, 4, 5])"),
            ("pqr", 1, "!context.pqr_indicators.containsAny([2, 3, 4, 5])"),
        ]
        text = "\n".join(f"permit(principal, action, resource) when {{ {cond} }};" for _, _, cond in policies)
        meaning = {f"policy{i}": (field, value) for i, (field, value, _) in enumerate(policies)}
        policy_set = cedarpy.PolicySet.from_str(text)  # parsed once, reused for every call
        entities = cedarpy.Entities.from_json_str("[]")

        def cedar(r: dict[str, Any]) -> tuple[str, str, int]:
            request = {"principal": 'User::"council"', "action": 'Action::"decide"', "resource": 'Provider::"p"', "context": r}
            out = dict(meaning[p] for p in cedarpy.is_authorized(request, policy_set, entities).diagnostics.reasons)
            return out["tier"], out["overall"], out["pqr"]

        engines.append(("cedarpy, 11 permit policies (satisfied ids decoded)", cedar, f"cedarpy {version('cedarpy')}", None))
    except ImportError:
        skipped.append("cedarpy (not installed: pip install -e '.[bench]')")

    try:
        engines.append(durable_rules_engine())
    except ImportError:
        skipped.append("durable-rules (not installed, or Python 3.13+: pip install -e '.[durable]')")

    def plain_run() -> None:
        for r in records:
            plain(r)

    base, spread = median_seconds(plain_run, repeats)
    rows: list[Row] = [("subset: plain Python", per(base, n), "-", "1.000", f"{n:,} records; spread {spread:.0%}")]
    for name, fn, note, inputs in engines:
        data = inputs if inputs is not None else records
        for k, (item, want) in enumerate(zip(data, expected), 1):
            got = fn(item)
            if got != want:
                raise SystemExit(f"{name}: disagrees with plain Python on subset record {k}: {got} != {want}")

        def timed(fn: Any = fn, data: Any = data) -> None:
            for item in data:
                fn(item)

        t, spread = median_seconds(timed, repeats)
        rows.append((f"subset: {name}", per(t, n), per(base, n), ratio(base, t),
                     "; ".join(x for x in (note, f"checked equal on {n:,}", f"spread {spread:.0%}") if x)))
    return rows, skipped


def durable_rules_engine() -> tuple[str, Callable[[dict[str, Any]], tuple[str, str, int]], str, None]:
    """durable-rules: one ruleset of plain-JSON rules, each fact asserted then retracted (research/peer-engines.md)."""
    from importlib.metadata import version

    from durable.lang import get_host as host  # ImportError when not installed

    out: dict[str, Any] = {}

    def setter(field: str, value: Any) -> Callable[[Any], None]:
        def action(c: Any) -> None:
            out[field] = value
        return action

    core = [{"s4": "red"}, {"s5": "red"}, {"s6": "red"}, {"s7": "red"}]
    not_green = [{"$neq": {k: "green"}} for k in STANDARDS]
    rules: dict[str, Any] = {
        "tier_none": {"all": [{"m": {"$lt": {"risk_score": 20}}}], "run": setter("tier", "none")},
        "tier_1": {"all": [{"m": {"$and": [{"$gte": {"risk_score": 20}}, {"$lte": {"risk_score": 27}}]}}], "run": setter("tier", "qpip_1")},
        "tier_2": {"all": [{"m": {"$gte": {"risk_score": 28}}}], "run": setter("tier", "qpip_2")},
        "overall_red": {"all": [{"m": {"$or": core}}], "run": setter("overall", "red")},
        "overall_amber": {"all": [{"m": {"$and": [*({"$neq": {k: "red"}} for k in CORE), {"$or": not_green}]}}],
                          "run": setter("overall", "amber")},
        "overall_green": {"all": [{"m": {"$and": [{k: "green"} for k in STANDARDS]}}], "run": setter("overall", "green")},
    }
    for k in (5, 4, 3, 2):
        higher = [{f"ind_{j}": False} for j in range(k + 1, 6)]
        rules[f"pqr_{k}"] = {"all": [{"m": {"$and": [{f"ind_{k}": True}, *higher]}}], "run": setter("pqr", k)}
    name = f"carepolicy_bench_{os.getpid()}"
    host().set_rulesets({name: rules})

    def run(r: dict[str, Any]) -> tuple[str, str, int]:
        out.clear()
        fact = {k: v for k, v in r.items() if k != "pqr_indicators"}
        for k in (2, 3, 4, 5):
            fact[f"ind_{k}"] = k in r["pqr_indicators"]
        host().assert_fact(name, fact)
        host().retract_fact(name, fact)
        return out["tier"], out["overall"], out.get("pqr", 1)  # no indicator fires no rule: 1 is the default

    return ("durable-rules, facts asserted and retracted", run, f"durable-rules {version('durable-rules')}", None)


# ----------------------------------------------------------------- the pipeline and start-up


def market_rows(packs: list[carepolicy.PolicyPack], sizes: list[int], repeats: int, folder: Path) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        market = make_market(packs, size, folder)
        base, base_mem, spread = median_child([sys.executable, str(HERE / "floor_pipeline.py"), str(market), AS_OF.isoformat()],
                                              repeats)
        rows.append((f"market {size:,} x 5 packs: plain-Python floor pipeline", f"{base:,.2f} s", "-", "1.000",
                     f"peak {base_mem:,.0f} MB; spread {spread:.0%}"))
        for detail in ("headline", "full"):
            t, mem, spread = median_child([str(BIN / "carepolicy"), "evaluate", str(market), "--packs", "policies",
                                           "--as-of", AS_OF.isoformat(), "--detail", detail], repeats)
            rows.append((f"market {size:,} x 5 packs: carepolicy evaluate --detail {detail} (JSON Lines)", f"{t:,.2f} s",
                         f"{base:,.2f} s", ratio(base, t),
                         f"peak {mem:,.0f} MB; {t / size * 1000:,.2f} ms a provider; spread {spread:.0%}"))
    return rows


def startup_rows(repeats: int) -> list[Row]:
    rows: list[Row] = []
    base, _, _ = median_child([sys.executable, "-c", "pass"], repeats)
    rows.append(("start-up: python -c pass (baseline)", f"{base * 1000:,.0f} ms", "-", "1.000", ""))
    for name, argv in (("start-up: carepolicy --help", [str(BIN / "carepolicy"), "--help"]),
                       ("start-up: python -c 'import carepolicy'", [sys.executable, "-c", "import carepolicy"])):
        t, mem, _ = median_child(argv, repeats)
        rows.append((name, f"{t * 1000:,.0f} ms", f"{base * 1000:,.0f} ms", ratio(base, t), f"peak {mem:,.0f} MB"))
    import yaml

    files = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def parse_only() -> None:
        for f in files:
            yaml.load(f.read_bytes(), Loader=loader)

    def load() -> None:
        carepolicy.load_packs(ROOT / "policies")

    base, _ = median_seconds(parse_only, repeats)
    t, spread = median_seconds(load, repeats)
    rows.append(("pack load: yaml.safe_load of the five packs (baseline)", f"{base * 1000:,.0f} ms", "-", "1.000", ""))
    rows.append(("pack load: carepolicy.load_packs('policies'), read, checked, compiled", f"{t * 1000:,.0f} ms",
                 f"{base * 1000:,.0f} ms", ratio(base, t), f"spread {spread:.0%}"))
    return rows


def table(rows: list[Row]) -> str:
    head = ("figure", "median", "baseline", "x baseline", "notes")
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats, to try the command")
    parser.add_argument("--repeats", type=int, default=None, help="repeats of each in-process figure (default 5; quick 3)")
    parser.add_argument("--market", default=None, help="market sizes, comma-separated (default 3000,30000; quick 300,3000)")
    parser.add_argument("--market-repeats", type=int, default=None, help="repeats of each market run (default 3; quick 1)")
    parser.add_argument("--records", type=int, default=None,
                        help="records timed per pack and path (default 600; quick 200); all are checked")
    parser.add_argument("--subset", type=int, default=None, help="records of the peers' subset (default 20000; quick 2000)")
    parser.add_argument("--only", default="paths,peers,market,startup,stream",
                        help="which sections to run (stream needs the durable extra; left out where it is absent)")
    args = parser.parse_args(argv)
    quick = args.quick
    repeats = args.repeats or (3 if quick else 5)
    sizes = [int(x) for x in (args.market or ("300,3000" if quick else "3000,30000")).split(",")]
    market_repeats = args.market_repeats or (1 if quick else 3)
    timed = args.records or (200 if quick else 600)
    subset = args.subset or (2000 if quick else 20000)
    sections = set(args.only.split(","))

    library = carepolicy.load_packs(ROOT / "policies")
    packs = [p for pid in library for p in library[pid]]
    print(f"carepolicy {carepolicy.__version__}, Python {sys.version.split()[0]}, {os.cpu_count()} cores; "
          f"as of {AS_OF.isoformat()}; repeats {repeats} (market {market_repeats})", flush=True)
    rows: list[Row] = []
    skipped: list[str] = []
    with tempfile.TemporaryDirectory(prefix="carepolicy-bench-") as tmp:
        folder = Path(tmp)
        if "paths" in sections:
            market = make_market(packs, 3000, folder)
            records = [json.loads(line) for line in market.read_text(encoding="utf-8").splitlines()]
            rows += paths_per_pack(library, records, timed, repeats)
            print(table(rows), "\n", flush=True)
        if "peers" in sections:
            found, skipped = peers(subset_records(subset), repeats)
            rows += found
        if "market" in sections:
            rows += market_rows(packs, sizes, market_repeats, folder)
        if "startup" in sections:
            rows += startup_rows(max(repeats, 5))
        if "stream" in sections:
            from stream import SIZES, stream_rows

            if carepolicy.stream.available():
                rows += stream_rows(SIZES[:2] if quick else SIZES, 1 if quick else 3)
            else:
                skipped.append("stream: durable-rules cannot run here (install the durable extra, Python < 3.13)")
    print(table(rows))
    for s in skipped:
        print(f"skipped: {s}")


if __name__ == "__main__":
    main()
