"""``carepolicy timeline``: replay a provider's dated case events through a pack's ladder, without a live timer.

EVENTS.json is a list of case events, or ``{"provider_id": ..., "opened_on": ..., "events": [...]}``;
each event is ``{"on": "2026-01-05", "transition": "raise-concern", ...}`` or names a
``trigger`` (see :class:`carepolicy.lifecycle.CaseEvent`).
"""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE


def add_parser(sub: Any) -> None:
    p = sub.add_parser("timeline", help="replay dated case events through a pack's ladder: states, deadlines due and missed, refusals")
    p.add_argument("pack", help="the pack file (YAML)")
    p.add_argument("events", help="case events as JSON: a list, or {provider_id, opened_on, events}")
    p.add_argument("--until", required=True, help="last day to simulate, YYYY-MM-DD")
    p.add_argument("--provider", default=None, help="provider id (default: from the events file or its evidence)")
    p.add_argument("--opened-on", default=None, help="the day the case opens (default: the first event's date)")
    p.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from pydantic import ValidationError

    from .._time import parse_date
    from ..errors import PackLoadError
    from ..lifecycle import EventsFile, simulate
    from ..loader import load_pack, read_file

    try:
        until = parse_date(args.until)
        opened = parse_date(args.opened_on) if args.opened_on else None
    except ValueError:
        stderr.write("carepolicy: --until and --opened-on take dates written YYYY-MM-DD\n")
        return EXIT_USAGE
    try:
        raw = read_file(args.events, max_bytes=None)  # a fifo or a device is refused, never waited on
    except PackLoadError as exc:
        stderr.write("".join(f"{d}\n" for d in exc.diagnostics))
        return EXIT_USAGE
    try:
        data = json.loads(raw)
        spec = EventsFile.model_validate({"events": data} if isinstance(data, list) else data)
    except json.JSONDecodeError as exc:
        stderr.write(f"{args.events}:{exc.lineno}:{exc.colno}: error: not valid JSON: {exc.msg}\n")
        return EXIT_INVALID
    except ValidationError as exc:
        for e in exc.errors(include_url=False, include_input=False):
            where = ".".join(str(p) for p in e["loc"])
            stderr.write(f"{args.events}: error: {where}: {e['msg'][:1].lower() + e['msg'][1:]}\n")
        return EXIT_INVALID
    pack = load_pack(args.pack)  # a PackLoadError is reported by cli.run with every diagnostic
    provider = args.provider or spec.provider_id or next(
        (e.evidence.provider.id for e in spec.events if e.evidence is not None), None)
    if provider is None:
        stderr.write("carepolicy: which provider? give --provider, `provider_id` in the events file, or evidence\n")
        return EXIT_USAGE
    timeline = simulate(pack, provider, spec.events, until, opened_on=opened or spec.opened_on)
    if args.format == "json":
        # ASCII JSON: evidence text cannot carry a raw control or bidi character through it
        stdout.write(json.dumps(timeline.model_dump(mode="json"), indent=2) + "\n")
    else:
        stdout.write(timeline.text() + "\n")
    return EXIT_OK
