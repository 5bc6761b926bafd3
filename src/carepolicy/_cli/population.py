"""``carepolicy population``: a seeded synthetic market of fictional providers, as JSON Lines."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_OK, EXIT_USAGE, load_library, parse_as_of
from .evaluate import quiet


def add_parser(sub: Any) -> None:
    p = sub.add_parser("population",
                       help="write a seeded synthetic market of fictional providers (JSON Lines), shaped like England's")
    p.add_argument("--providers", type=int, default=1000, help="how many providers (default: 1000)")
    p.add_argument("--seed", type=int, default=1, help="the seed: the same seed, packs and date give the same records")
    p.add_argument("--packs", default="policies",
                   help="a pack file or a directory of packs whose local findings to generate (default: policies)")
    p.add_argument("--as-of", default=None, help="records are dated up to this date, YYYY-MM-DD (default: today)")
    p.add_argument("--out", default=None, help="write to this file instead of standard output")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._market import MAX_PROVIDERS, generate

    if not 0 <= args.providers <= MAX_PROVIDERS:
        stderr.write(f"carepolicy: --providers {args.providers:,} is outside 0 to {MAX_PROVIDERS:,}\n")
        return EXIT_USAGE
    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return EXIT_USAGE
    try:
        library = load_library(args.packs)
    except FileNotFoundError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    packs = [p for pid in library for p in library[pid]]
    out = open(args.out, "w", encoding="utf-8") if args.out else stdout
    try:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        for record in generate(packs, args.providers, args.seed, as_of):
            out.write(dumps(record) + "\n")
    except BrokenPipeError:
        quiet(out)
    finally:
        if out is not stdout:
            out.close()
    return EXIT_OK
