"""``carepolicy reliability``: run the reliability battery and print its figures (a table, or JSON)."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE


def add_parser(sub: Any) -> None:
    p = sub.add_parser("reliability", help="run the reliability battery (hostile packs and evidence, fuzzing, "
                                           "properties, concurrency, pins) and print its figures")
    p.add_argument("--deep", action="store_true", help="the deep tier: far more cases, a fresh seed unless --seed")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--only", nargs="+", metavar="CLASS", help="run only these classes, or prefixes such as `packs/`")
    p.add_argument("--examples", type=int, metavar="N", help="the size of each chosen class (e.g. fuzz examples)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every class's size (0.1 for a smoke run)")
    p.add_argument("--seed", type=int, help="the seed (the fast tier always uses the same one)")
    p.add_argument("--jobs", type=int, help="worker processes at once (default: the CPUs, at most 4)")
    p.add_argument("--root", default=".", help="the repository root, with policies/, tests/data/ and examples/")
    p.add_argument("--list", action="store_true", help="list the classes with their sizes and bounds, and exit")
    p.add_argument("-v", "--verbose", action="store_true", help="report each finished job on stderr")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._reliability import SPECS, render_table, run_battery

    tier = "deep" if args.deep else "fast"
    if args.list:
        for s in SPECS.values():
            stdout.write(f"{s.name:22} {s.size[tier]:>8,} {s.unit}; each case within {s.bound_ms / 1000:g} s "
                         f"and {s.bound_mib:g} MiB, killed after {s.timeout_s:g} s\n    {s.what}\n")
        return EXIT_OK
    try:
        import hypothesis  # noqa: F401
    except ImportError:
        stderr.write("carepolicy: the reliability battery needs the dev extra: pip install 'carepolicy[dev]'\n")
        return EXIT_USAGE
    names = list(args.only or SPECS)
    sizes = {n: args.examples for n in SPECS if args.examples is not None and any(
        n == o or n.startswith(o) for o in names)} or None
    def progress(message: str) -> None:
        stderr.write(message + "\n")

    try:
        report = run_battery(tier, root=args.root, only=args.only, jobs=args.jobs, seed=args.seed, sizes=sizes,
                             scale=args.scale, progress=progress if args.verbose else None)
    except (FileNotFoundError, ValueError) as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    if args.format == "json":
        json.dump(report, stdout, indent=2, sort_keys=True)
        stdout.write("\n")
    else:
        stdout.write(render_table(report) + "\n")
    return EXIT_OK if all(c["ok"] for c in report["classes"]) else EXIT_INVALID
