#!/usr/bin/env python3
"""Fuzz the pack loader or the evidence path for longer than CI does.

    python tools/fuzz.py loader --examples 1000000            # the battery's seeded fuzzer, in worker processes
    python tools/fuzz.py evidence --examples 1000000 --seed 7
    python tools/fuzz.py loader --atheris -- -max_total_time=3600   # coverage-guided (pip install atheris)

Without ``--atheris`` the inputs are the battery's (``carepolicy reliability --only fuzz/loader``):
random bytes and text, edge cases, stacked edits and splices of real packs (or evidence JSON),
each in a worker subprocess so a crash or a hang is counted, never fatal; the figures are printed
as the battery prints them and the exit status is 1 on any finding.

With ``--atheris`` the same target runs in-process under libFuzzer, guided by coverage of the
instrumented code: a target that raises (anything but an accepted pack or decision, or a located
``PolicyError``) stops the run and libFuzzer writes the input to ``crash-<hash>``. Arguments after
``--`` go to libFuzzer (``-max_total_time=``, ``-runs=``, ``-jobs=``...). Run from the repository root.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    own, _, passthrough = (argv[: argv.index("--")], None, argv[argv.index("--") + 1:]) if "--" in argv else (argv, None, [])
    parser = argparse.ArgumentParser(prog="tools/fuzz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("target", choices=["loader", "evidence"])
    parser.add_argument("--examples", type=int, default=100_000, help="inputs to try (default 100,000)")
    parser.add_argument("--seed", type=int, default=None, help="seed (default: a fresh one, printed)")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: the CPUs, at most 4)")
    parser.add_argument("--atheris", action="store_true", help="coverage-guided fuzzing with atheris (libFuzzer)")
    parser.add_argument("--ignore", action="append", default=[], metavar="REGEX",
                        help="with --atheris: findings to let pass (e.g. a known defect's message)")
    args = parser.parse_args(own)
    if args.atheris:
        return _atheris(args, passthrough)
    from carepolicy._reliability import SPECS, render_table, run_battery

    name = f"fuzz/{args.target}"
    shards = SPECS[name].shards["deep"]
    print(f"fuzzing {name}: {args.examples:,} examples in {shards} shards", file=sys.stderr)
    report = run_battery("deep", root=ROOT, only=[name], seed=args.seed, jobs=args.jobs, sizes={name: args.examples})
    print(render_table(report))
    return 0 if all(c["ok"] for c in report["classes"]) else 1


def _atheris(args: argparse.Namespace, passthrough: list[str]) -> int:
    try:
        import atheris
    except ImportError:
        print("tools/fuzz.py: --atheris needs atheris: pip install atheris (Linux; wheels for CPython 3.11-3.13)",
              file=sys.stderr)
        return 2
    from carepolicy import load_pack
    from carepolicy._reliability import fuzz_evidence_bytes, fuzz_loader_bytes, shipped_pack_files

    ignore = [re.compile(p) for p in args.ignore]
    corpus = Path(tempfile.mkdtemp(prefix=f"carepolicy-fuzz-{args.target}-"))
    if args.target == "loader":
        seeds = shipped_pack_files(ROOT) + sorted((ROOT / "tests/data/packs/invalid").glob("*.yaml"))
        for i, p in enumerate(seeds):
            (corpus / f"seed-{i:04d}").write_bytes(p.read_bytes())

        def target(data: bytes) -> None:
            try:
                fuzz_loader_bytes(data)
            except AssertionError as exc:
                if not any(p.search(str(exc)) for p in ignore):
                    raise
    else:
        packs = [load_pack(p) for p in shipped_pack_files(ROOT)]
        for i, p in enumerate(sorted((ROOT / "examples").glob("*.json"))):
            for k in range(len(packs)):
                (corpus / f"seed-{i:03d}-{k}").write_bytes(bytes([k]) + p.read_bytes())

        def target(data: bytes) -> None:
            try:
                fuzz_evidence_bytes(packs, data)
            except AssertionError as exc:
                if not any(p.search(str(exc)) for p in ignore):
                    raise

    atheris.instrument_all()
    libfuzzer = [sys.argv[0], str(corpus)] + (passthrough or ["-max_total_time=60"])
    if args.seed is not None:
        libfuzzer.append(f"-seed={args.seed}")
    print(f"atheris: {args.target} target, seed corpus {corpus}, libFuzzer {' '.join(libfuzzer[2:])}", file=sys.stderr)
    atheris.Setup(libfuzzer, target)
    atheris.Fuzz()
    return 0  # pragma: no cover - libFuzzer exits the process itself


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
