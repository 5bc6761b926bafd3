"""``carepolicy stream``: dated events in as JSON Lines, triggers and decision changes out as JSON Lines.

Each input line is one JSON object about one provider (``provider`` is the caller's key for it):

* ``{"provider": "1-101", "evidence": {...}, "as_of": "2026-01-05"}`` opens the provider with its
  evidence (everything but its events), or replaces the evidence of an open one;
* ``{"provider": "1-101", "event": {"kind": "complaint", "date": "2026-01-10", ...}}`` posts one
  event, as of ``as_of`` if given, else the later of the event's date and the provider's as-of date;
* ``{"provider": "1-101", "as_of": "2026-03-01"}`` moves the provider's as-of date;
* ``{"provider": "1-101", "close": true}`` forgets the provider.

Every change is written as it happens, one JSON object a line, with the input line that caused
it. A bad line is reported on stderr (``file:line: ...``) and skipped; the rest go on. Lines are
read one at a time (:func:`carepolicy._bulk.read_json_lines`: a line over the evidence limit is
refused without being held), so memory is bounded by the providers open at once, not by the
length of the input: close providers you are done with (all are closed at the end). Exit codes:
0 clean, 1 some line refused, 2 usage (or no streaming backend here).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import IO, TYPE_CHECKING, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, add_pin_arguments, check_pins, load_library

if TYPE_CHECKING:
    from ..errors import PolicyError
    from ..stream import Change, Stream

KEYS = ("provider", "evidence", "event", "as_of", "close")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("stream", help="stream dated events (JSON Lines) through packs; triggers and decision "
                                      "changes out as JSON Lines (needs the `durable` extra)")
    p.add_argument("events", help="JSON Lines of evidence, events, as-of moves and closes ('-': standard input)")
    p.add_argument("--packs", default="policies", help="a pack file or a directory of packs (default: policies)")
    p.add_argument("--rulesets", action="store_true",
                   help="print the durable-rules rulesets (JSON data) the packs translate to, and stop")
    add_pin_arguments(p)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .. import stream

    try:
        library = load_library(args.packs)
    except FileNotFoundError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    packs = [p for pid in library for p in library[pid]]
    check_pins(packs, args)
    if args.rulesets:
        out: dict[str, Any] = {}
        for p in packs:
            out.update(stream.ruleset(p))
        json.dump(out, stdout, indent=2, sort_keys=True)
        stdout.write("\n")
        return EXIT_OK
    try:
        s = stream.open_stream(packs)
    except stream.StreamUnavailable as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    name = "<stdin>" if args.events == "-" else args.events
    try:
        source: IO[bytes] = (getattr(args, "stdin", None) or sys.stdin.buffer) if args.events == "-" \
            else open(args.events, "rb")  # noqa: SIM115
    except OSError as exc:
        stderr.write(f"carepolicy: cannot read {args.events}: {exc.strerror or exc}\n")
        return EXIT_USAGE
    from .._bulk import read_json_lines
    from ..errors import PolicyError

    refused = 0
    try:
        with s:
            for number, line in read_json_lines(source, file=name):
                try:
                    for change in _apply(s, line):
                        record = change.to_dict()
                        record["line"] = number
                        stdout.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")
                    stdout.flush()
                except PolicyError as exc:  # this line is refused; the others go on
                    refused += 1
                    _report(exc, name, number, stderr)
    finally:
        if args.events != "-":
            source.close()
    return EXIT_INVALID if refused else EXIT_OK


def _apply(s: Stream, raw: Any) -> list[Change]:
    from .._time import parse_date
    from ..errors import EvidenceError
    from ..stream import StreamError

    if isinstance(raw, EvidenceError):  # a line over the limit, refused without being held
        raise raw
    try:
        item = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise StreamError(f"not valid JSON: {getattr(exc, 'msg', exc)}") from None
    if not isinstance(item, dict):
        raise StreamError("a line is a JSON object with `provider` and one of `evidence`, `event`, `as_of` or `close`")
    for key in item:
        if key not in KEYS:
            from .._suggest import did_you_mean

            hint = did_you_mean(str(key), list(KEYS))
            raise StreamError(f"unknown key `{key}`" + (f"; {hint}" if hint else ""))
    provider = item.get("provider")
    if not isinstance(provider, str) or not provider or len(provider) > 500:
        raise StreamError("`provider` is the provider's key: text of 1 to 500 characters")
    actions = [k for k in ("evidence", "event", "close") if k in item]
    if len(actions) > 1:
        raise StreamError("a line does one thing: give only one of `evidence`, `event` or `close`")
    as_of: date | None = None
    if item.get("as_of") is not None:
        if not isinstance(item["as_of"], str):
            raise StreamError("`as_of` is a date written YYYY-MM-DD")
        try:
            as_of = parse_date(item["as_of"])
        except ValueError:
            raise StreamError(f"`as_of` `{item['as_of']}` is not a date; write it as YYYY-MM-DD") from None
    if not actions:
        if as_of is None:
            raise StreamError("the line says nothing to do: give `evidence`, `event`, `as_of` or `close`")
        return s.advance(provider, as_of)
    action = actions[0]
    if action == "close":
        if item["close"] is not True:
            raise StreamError("`close` is `true`")
        s.close(provider)
        return []
    if action == "evidence":
        if provider in s.providers():
            return s.update(provider, item["evidence"], as_of)
        if as_of is None:
            raise StreamError(f"provider `{provider}` is not open: its first evidence line needs `as_of`")
        return s.open(provider, item["evidence"], as_of)
    return s.post(provider, item["event"], as_of)


def _report(exc: PolicyError, name: str, number: int, stderr: IO[str]) -> None:
    from dataclasses import replace

    if exc.diagnostics:
        for d in exc.diagnostics:
            stderr.write(str(replace(d, file=name, line=number, col=None)) + "\n")
    else:
        stderr.write(f"{name}:{number}: error: {str(exc).splitlines()[0]}\n")
