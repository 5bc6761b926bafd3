"""``carepolicy migrate``: move evidence records from layout 1 to layout 2 with the packs as the map.

Each pack input that moved says where it was (``was:``). A value read by several
authorities is copied to each; a field no pack reads is listed, not carried over.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, print_diagnostics, read_evidence_file

if TYPE_CHECKING:
    from ..engine import PackLibrary, PolicyPack


def add_parser(sub: Any) -> None:
    p = sub.add_parser("migrate", help="move evidence records from layout 1 to layout 2 (the packs say where each field went)")
    p.add_argument("records", nargs="+", help="evidence JSON files in layout 1")
    p.add_argument("--packs", default="policies", help="a pack file or a directory of packs (default: policies)")
    p.add_argument("--in-place", action="store_true", help="rewrite each file (default: print the migrated record)")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._migrate import migrate_record
    from .._vocabulary import read_json
    from ..errors import EvidenceError, PackLoadError
    from ..loader import load_pack, load_packs

    if not args.in_place and len(args.records) != 1:
        stderr.write("carepolicy: name one record to print, or use --in-place\n")
        return EXIT_USAGE
    where = Path(args.packs)
    packs: PackLibrary | list[PolicyPack] = load_packs(where) if where.is_dir() else [load_pack(where)]
    status = EXIT_OK
    for name in args.records:  # one record that cannot be read or is not JSON is reported, and the rest go on
        try:
            record = read_json(read_evidence_file(name), source=name)
        except PackLoadError as exc:
            print_diagnostics(exc, stderr)
            status = EXIT_USAGE
            continue
        except EvidenceError as exc:
            print_diagnostics(exc, stderr)
            status = max(status, EXIT_INVALID)
            continue
        if not isinstance(record, dict):
            stderr.write(f"carepolicy: {name}: an evidence record is a JSON object\n")
            status = max(status, EXIT_INVALID)
            continue
        result = migrate_record(record, packs)
        for old, new in result.moved:
            stderr.write(f"{name}: moved `{old}` to `{new}`\n")
        for old in result.dropped:
            stderr.write(f"{name}: dropped `{old}`: no pack here reads it\n")
        for new in result.conflicts:
            stderr.write(f"{name}: kept `{new}`: it already held a different value\n")
        text = json.dumps(result.record, indent=2, ensure_ascii=False) + "\n"
        if args.in_place:
            Path(name).write_text(text, encoding="utf-8")
        else:
            stdout.write(text)
    return status
