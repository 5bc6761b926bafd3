"""``carepolicy test``: run the YAML policy tests beside packs, like ``opa test``."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_INVALID, EXIT_OK


def add_parser(sub: Any) -> None:
    p = sub.add_parser("test", help="run policy tests (<pack>.tests.yaml) and report passes and failures")
    p.add_argument("paths", nargs="*", default=["policies"], help="tests files, packs or directories (default: policies)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case, not only failures")
    p.add_argument("--coverage", action="store_true",
                   help="report which rules, band edges, rows, outcomes and transitions the tests exercise, by clause")
    p.add_argument("--threshold", type=float, default=None, metavar="PERCENT",
                   help="with --coverage: fail when less than this share of items is exercised (computed from counts)")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ..coverage import coverage
    from ..policytest import report, run_paths_by_pack

    groups = run_paths_by_pack(args.paths)
    results = [r for _, rs in groups for r in rs]
    covs = []
    if args.coverage:
        for pack, rs in groups:
            if pack is not None:
                covs.append(coverage(pack, [(r.evidence, r.decision) for r in rs], [t for r in rs for t in r.transitions]))
    if args.format == "json":
        json.dump({"results": [{"file": r.file, "name": r.name, "outcome": r.outcome, "failures": r.failures} for r in results],
                   "coverage": [c.to_dict() for c in covs]}, stdout, indent=2)
        stdout.write("\n")
    else:
        for c in covs:
            stdout.write(c.render(all_items=args.verbose) + "\n")
        stdout.write(report(results, verbose=args.verbose) + "\n")
    if not results:
        stderr.write("carepolicy: no policy tests found\n")
        return EXIT_INVALID
    status = EXIT_OK if all(r.ok for r in results) else EXIT_INVALID
    if args.threshold is not None:
        for c in covs:
            if not c.meets(args.threshold):
                stderr.write(f"carepolicy: coverage of `{c.pack}` is {c.covered}/{c.total}, under the threshold of {args.threshold}%\n")
                status = EXIT_INVALID
    return status
