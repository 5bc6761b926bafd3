"""``carepolicy diff``: what a policy edit does to real providers before it is published.

Two forms:

* ``carepolicy diff OLD.yaml NEW.yaml --evidence market.jsonl [--as-of D]`` evaluates both
  versions over every record as of one date (an edit in progress); with ``--from-date D1
  --to-date D2`` the old one as of D1 and the new one as of D2.
* ``carepolicy diff PACKS --evidence market.jsonl --from-date D1 --to-date D2 [--pack ID]``
  takes the versions of one pack in force on D1 and on D2 from a directory (or file) of
  packs, each evaluated as of its own date: the comparison then shows what changes for
  each provider between the two dates, including what the passing of time does (events
  leaving a window).

The report says how many providers change outcome, which, from what to what (the
headline's value and severity, every decision), the rules and clauses behind each side,
and the actions that start or stop applying: a table (default), or ``--format json`` /
``jsonl`` (one line per changed or refused provider, then the summary).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, load_library, parse_as_of, print_diagnostics
from .evaluate import Progress, quiet, records_of, resolve_inputs, total_bytes

if TYPE_CHECKING:
    from .._diff import DecisionChange, PolicyDiff, ProviderChange, Side


def add_parser(sub: Any) -> None:
    p = sub.add_parser("diff", help="the impact of a policy edit: which providers change outcome, how, and why")
    p.add_argument("packs", nargs="+", metavar="PACK",
                   help="OLD and NEW pack files; or one directory (or file) of packs with --from-date and --to-date")
    p.add_argument("--evidence", nargs="+", required=True,
                   help="the population: JSON Lines files (.jsonl), - for standard input, or JSON files or directories")
    p.add_argument("--as-of", default=None, help="evaluate both versions as of this date (default: today)")
    p.add_argument("--from-date", default=None, help="evaluate the old version (the one in force then) as of this date")
    p.add_argument("--to-date", default=None, help="evaluate the new version (the one in force then) as of this date")
    p.add_argument("--pack", default=None, help="with one directory of packs: the pack id to compare")
    p.add_argument("--format", choices=["table", "json", "jsonl"], default="table")
    p.add_argument("--limit", type=int, default=20, help="with the table: how many changed providers to list (default 20)")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._diff import PolicyDiff, _compare
    from ..loader import load_pack

    def fail(message: str) -> int:
        stderr.write(f"carepolicy: {message}\n")
        return EXIT_USAGE

    if len(args.packs) > 2:
        return fail("give OLD and NEW pack files, or one directory of packs with --from-date and --to-date")
    if args.as_of is not None and (args.from_date or args.to_date):
        return fail("give --as-of, or --from-date and --to-date, not both")
    if bool(args.from_date) != bool(args.to_date):
        return fail("--from-date and --to-date go together")
    if len(args.packs) == 1 and not args.from_date:
        return fail("with one directory of packs, say which dates to compare: --from-date D1 --to-date D2")
    if args.limit < 0:
        return fail("--limit is a number of providers, 0 or more")
    if args.from_date:
        d1, d2 = parse_as_of(args.from_date, stderr), parse_as_of(args.to_date, stderr)
    else:
        d1 = d2 = parse_as_of(args.as_of, stderr)
    if d1 is None or d2 is None:
        return EXIT_USAGE
    try:
        if len(args.packs) == 2:
            for p in args.packs:
                if Path(p).is_dir():
                    return fail(f"`{p}` is a directory: give two pack files, or one directory with --from-date and --to-date")
            old, new = load_pack(args.packs[0]), load_pack(args.packs[1])
        else:
            library = load_library(args.packs[0])
            ids = list(library)
            if args.pack is None and len(ids) != 1:
                return fail(f"`{args.packs[0]}` holds {len(ids)} packs: name one with --pack ({', '.join(ids)})")
            pid = args.pack or ids[0]
            if pid not in library:
                return fail(f"no pack `{pid}` in `{args.packs[0]}`; have: {', '.join(ids)}")
            old, new = library.in_force(pid, d1), library.in_force(pid, d2)
        inputs = resolve_inputs(args.evidence)
    except FileNotFoundError as exc:
        return fail(str(exc))
    except ValueError as exc:
        return fail(str(exc))
    for pack, day, which in ((old, d1, "old"), (new, d2, "new")):
        if not pack.in_force(day):
            meta = pack.model.pack
            stderr.write(f"carepolicy: the {which} pack `{pack.id}` v{pack.version} is not in force on {day.isoformat()} "
                         f"(in force {meta.effective_from.isoformat()} to "
                         f"{meta.effective_to.isoformat() if meta.effective_to else 'now'}); "
                         "compare versions in force on different dates with --from-date and --to-date\n")
            return EXIT_INVALID
    if old.id != new.id:
        stderr.write(f"carepolicy: note: comparing two different packs, `{old.id}` and `{new.id}`\n")

    progress = Progress(stderr, total_bytes(inputs))
    stdin = getattr(args, "stdin", None) or sys.stdin.buffer
    report = PolicyDiff(old, new, d1, d2)

    def changes() -> Iterator[ProviderChange]:
        for file, records in records_of(inputs, stdin, progress):
            for change in _compare(old, new, records, d1, d2, file):
                report.add(change, keep=False)
                progress.tick_one(change.refused)
                yield change

    try:
        if args.format == "table":
            _change_table(changes(), report, args.limit, stdout, stderr)
        else:
            _stream(changes(), report, args.format, stdout)
    except BrokenPipeError:
        quiet(stdout)
        return EXIT_OK
    finally:
        progress.close()
    return EXIT_INVALID if report.refused else EXIT_OK


def _stream(changes: Iterator[ProviderChange], report: PolicyDiff, fmt: str, stdout: IO[str]) -> None:
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    first = True
    for c in changes:
        if not (c.changed or c.refused):
            continue
        if fmt == "jsonl":
            stdout.write(dumps(c.to_dict()) + "\n")
        else:
            stdout.write(('{"changes": [\n' if first else ",\n") + dumps(c.to_dict()))
        first = False
    if fmt == "jsonl":
        stdout.write(dumps({"summary": report.summary()}) + "\n")
    else:
        stdout.write(('{"changes": [' if first else "\n") + '],\n"summary": ' + dumps(report.summary()) + "}\n")


def _rules(side: Side | None) -> str:
    if side is None:
        return "-"
    if side.rules and len(side.rules) == len(side.sources):
        return "; ".join(f"{r} [{s}]" for r, s in zip(side.rules, side.sources))
    return "; ".join([*side.rules, *(f"[{s}]" for s in side.sources)]) or "-"


def _shown(c: DecisionChange) -> str:
    a, b = c.transition
    sev = ""
    if c.before and c.after and c.before.severity != c.after.severity:
        sev = f" (severity {c.before.severity} -> {c.after.severity})"
    return f"{a} -> {b}{sev}"


def _change_table(changes: Iterator[ProviderChange], report: PolicyDiff, limit: int, stdout: IO[str], stderr: IO[str]) -> None:
    from rich.console import Console
    from rich.table import Table


    listed: list[ProviderChange] = []
    refusals = 0
    for c in changes:
        if c.refused:
            refusals += 1
            if refusals <= limit:
                for err in dict.fromkeys(e for e in (c.refused_before, c.refused_after) if e is not None):
                    print_diagnostics(err, stderr)
        elif c.changed and len(listed) < limit:
            listed.append(c)
    if refusals > limit:
        stderr.write(f"carepolicy: {refusals - limit:,} more refused record(s) not shown\n")

    old, new = report.old, report.new
    console = Console(file=stdout, width=160, force_terminal=False,
                      color_system=None if not getattr(stdout, "isatty", lambda: False)() else "auto")
    dates = (f"as of {report.old_as_of.isoformat()}" if report.old_as_of == report.new_as_of
             else f"as of {report.old_as_of.isoformat()} -> {report.new_as_of.isoformat()}")
    out = [f"Impact of `{old.id}` v{old.version} (sha256 {old.sha256[:12]}) -> "
           + (f"`{new.id}` " if new.id != old.id else "") + f"v{new.version} (sha256 {new.sha256[:12]}), {dates}",
           f"{report.records:,} providers: {report.compared:,} compared, {report.refused:,} refused; "
           f"{report.changed:,} change outcome ({_pct(report.changed, report.compared)}), "
           f"the headline for {report.headline_changed:,} ({_pct(report.headline_changed, report.compared)})"]
    console.print("\n".join(out), highlight=False, markup=False)
    if report.headline_transitions:
        t = Table(title=f"Headline `{new.model.pack.headline}`")
        for col in ("from", "to", "providers"):
            t.add_column(col, justify="right" if col == "providers" else "left")
        for (a, b), n in sorted(report.headline_transitions.items(), key=lambda kv: (-kv[1], kv[0])):
            t.add_row(a, b, f"{n:,}")
        console.print(t)
    if report.decision_transitions:
        t = Table(title="Every decision that changes")
        for col in ("decision", "from", "to", "providers"):
            t.add_column(col, justify="right" if col == "providers" else "left", overflow="fold")
        for decision, counter in sorted(report.decision_transitions.items()):
            for (a, b), n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
                t.add_row(decision, a, b, f"{n:,}")
        console.print(t)
    if report.actions_added or report.actions_removed:
        t = Table(title="Actions that start or stop applying")
        for col in ("action", "starts for", "stops for"):
            t.add_column(col, justify="left" if col == "action" else "right")
        for a in sorted(set(report.actions_added) | set(report.actions_removed)):
            t.add_row(a, f"{report.actions_added[a]:,}", f"{report.actions_removed[a]:,}")
        console.print(t)
    if listed:
        t = Table(title=f"Providers that change (first {len(listed):,} of {report.changed:,}), with the rules and clauses "
                        "behind each side")
        for col in ("line", "provider", "decision", "from -> to", "before", "after"):
            t.add_column(col, overflow="fold")
        for c in listed:
            for k, d in enumerate(c.decisions):
                t.add_row(str(c.line) if k == 0 and c.line is not None else "", (c.provider_id or "") if k == 0 else "",
                          d.decision, _shown(d), _rules(d.before), _rules(d.after))
            if c.actions_added or c.actions_removed:
                t.add_row("" if c.decisions else str(c.line or ""), "" if c.decisions else (c.provider_id or ""),
                          "(actions)", "", "stops: " + (", ".join(c.actions_removed) or "-"),
                          "starts: " + (", ".join(c.actions_added) or "-"))
        console.print(t)
    elif report.compared:
        console.print("No provider changes outcome.", highlight=False)


def _pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}%" if d else "-"
