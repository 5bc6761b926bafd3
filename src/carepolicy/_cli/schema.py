"""``carepolicy schema``: the JSON Schemas of packs, tests files, evidence (shared or for given packs) and decisions."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_OK, load_library


def add_parser(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of packs, their tests files, evidence or decisions")
    p.add_argument("which", choices=["pack", "tests", "evidence", "decision"])
    p.add_argument("--packs", default=None,
                   help="with `evidence`: the schema of a record for these packs (a file or a directory), "
                        "with the local findings they declare (default: the shared facts only)")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if args.which == "pack":
        from ..loader import pack_json_schema

        schema = pack_json_schema()
    elif args.which == "tests":
        from ..policytest import tests_json_schema

        schema = tests_json_schema()
    elif args.which == "evidence":
        from ..evidence import evidence_json_schema

        packs = getattr(args, "packs", None)
        schema = load_library(packs).evidence_schema() if packs else evidence_json_schema()
    else:
        from ..decision import decision_json_schema

        schema = decision_json_schema()
    json.dump(schema, stdout, indent=2, sort_keys=True)
    stdout.write("\n")
    return EXIT_OK
