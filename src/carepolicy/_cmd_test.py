"""``carepolicy test``: run the YAML policy tests beside packs, like ``opa test``."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .policytest import report, run_paths


def add_parser(sub: Any) -> None:
    p = sub.add_parser("test", help="run policy tests (<pack>.tests.yaml) and report passes and failures")
    p.add_argument("paths", nargs="*", default=["policies"], help="tests files, packs or directories (default: policies)")
    p.add_argument("-v", "--verbose", action="store_true", help="list every case, not only failures")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    results = run_paths(args.paths)
    if args.format == "json":
        json.dump([{"file": r.file, "name": r.name, "outcome": r.outcome, "failures": r.failures} for r in results],
                  stdout, indent=2)
        stdout.write("\n")
    else:
        stdout.write(report(results, verbose=args.verbose) + "\n")
    if not results:
        stderr.write("carepolicy: no policy tests found\n")
        return 1
    return 0 if all(r.ok for r in results) else 1
