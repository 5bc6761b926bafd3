"""``carepolicy explain``: a pack in plain words, or one decision with the rule-by-rule trace."""

from __future__ import annotations

import argparse
from typing import IO, Any

from .common import EXIT_OK, EXIT_USAGE, add_pin_arguments, check_pins, parse_as_of, read_evidence_file


def add_parser(sub: Any) -> None:
    p = sub.add_parser("explain", help="describe a pack in plain words, or explain its decision for evidence")
    p.add_argument("pack", help="a pack file")
    p.add_argument("evidence", nargs="?", help="evidence JSON: explain the decision for it")
    p.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today)")
    p.add_argument("--explain", choices=["fails", "full"], default="full",
                   help="with evidence: `full` lists every rule checked, `fails` only those that did not hold")
    add_pin_arguments(p)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ..loader import load_pack

    pack = load_pack(args.pack)
    check_pins([pack], args)
    if args.evidence is None:
        from .._words import pack_in_words

        stdout.write(pack_in_words(pack.model) + "\n")
        return EXIT_OK
    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return EXIT_USAGE
    decision = pack.evaluate(read_evidence_file(args.evidence), as_of)  # a fifo or a device is refused
    stdout.write(decision.explain() + "\n")
    stdout.write("trace:\n")
    for step in decision.trace:
        if args.explain == "fails" and step.result == "true":
            continue
        stdout.write(f"  {step.decision:24} {step.rule:32} {step.result}\n")
    return EXIT_OK
