"""``carepolicy inputs``: the evidence burden of a pack, value by value of its headline."""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import IO, Any

from .common import EXIT_OK, EXIT_USAGE, parse_as_of


def add_parser(sub: Any) -> None:
    p = sub.add_parser("inputs", help="for each headline value, the fewest inputs that decide it (the evidence burden)")
    p.add_argument("pack", help="a pack file")
    p.add_argument("--as-of", default=None, help="YYYY-MM-DD (default: today, or the pack's first day in force)")
    p.add_argument("--seed", type=int, default=0, help="the search's seed (the same seed gives the same report)")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._burden import TRIES, WITNESSES, burden
    from ..loader import load_pack

    pack = load_pack(args.pack)
    meta = pack.model.pack
    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return EXIT_USAGE
    if not pack.in_force(as_of):
        as_of = max(meta.effective_from, min(as_of, meta.effective_to or date.max))
    found, tried = burden(pack, as_of, seed=args.seed)
    labels = {v.id: v.label for v in pack.model.scale(pack.model.decision(meta.headline).scale or "").values}
    if args.format == "json":
        json.dump({"pack": pack.id, "version": pack.version, "as_of": as_of.isoformat(), "records_tried": tried,
                   "values": {v: [{"inputs": [{"input": k, "value": _plain(x)} for k, x in w.inputs]} for w in ws]
                              for v, ws in found.items()}}, stdout, indent=2)
        stdout.write("\n")
        return EXIT_OK
    stdout.write(f"{meta.authority.name}: `{meta.headline}` of `{pack.id}` v{pack.version}, as of {as_of.isoformat()}\n"
                 f"fewest inputs found to decide each value ({tried} records tried, up to {WITNESSES} per value "
                 f"reduced; a search, not a proof)\n\n")
    for value, witnesses in found.items():
        if not witnesses:
            stdout.write(f"{labels.get(value, value)}: not reached in {TRIES * len(found)} records\n\n")
            continue
        best = witnesses[0]
        stdout.write(f"{labels.get(value, value)}: {len(best.inputs)} input{'s' if len(best.inputs) != 1 else ''}\n")
        for w in witnesses[:3]:
            stdout.write("  " + ", ".join(f"{k} = {_words(x)}" for k, x in w.inputs) + "\n")
        stdout.write("\n")
    return EXIT_OK


def _plain(x: Any) -> Any:
    return x.isoformat() if isinstance(x, date) else (f"{len(x)} events" if isinstance(x, list) else x)


def _words(x: Any) -> str:
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, list):
        return "none" if not x else f"{len(x)} events"
    return x.isoformat() if isinstance(x, date) else str(x)
