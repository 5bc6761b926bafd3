"""The ``carepolicy`` command: validate packs, evaluate evidence, export schemas.

``main()`` only parses arguments and exits with what :func:`run` returns; ``run``
takes its output streams as arguments so tests can check the exact text.
Exit codes: 0 clean, 1 invalid pack / evidence or failed tests, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Any, NoReturn, cast

from rich.console import Console
from rich.markup import escape as markup_escape
from rich.table import Table

from ._text import escape
from ._time import parse_date
from .decision import SEVERITY_LABELS, Decision, decision_json_schema
from .engine import PackLibrary
from .errors import Diagnostic, PackLoadError, PolicyError, limit_diagnostics
from .evidence import evidence_json_schema
from .loader import load_pack, load_pack_files, normalise_sha256, pack_json_schema, pin_diagnostics

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 on usage errors, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="carepolicy", description="Council care-provider quality frameworks as YAML policy packs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("validate", help="check packs; every problem is reported with file:line:column")
    p.add_argument("packs", nargs="+", help="pack files (YAML) or directories of packs")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_pin_arguments(p)

    p = sub.add_parser("schema", help="print the JSON Schema of packs, their tests files, evidence or decisions")
    p.add_argument("which", choices=["pack", "tests", "evidence", "decision"])
    p.add_argument("--packs", default=None,
                   help="with `evidence`: the schema of a record for these packs (a file or a directory), "
                        "with the local findings they declare (default: the shared facts only)")

    _add_extra_commands(sub)
    return parser.parse_args(argv)


# Commands that live in their own module `_cmd_<name>.py`, each with `add_parser(sub)` and
# `run(args, stdout, stderr) -> int`.
EXTRA_COMMANDS = ("evaluate", "test", "explain", "graph", "timeline", "migrate", "reliability", "inputs",
                  "population", "diff")


def _command_module(name: str) -> Any:
    import importlib

    try:
        return importlib.import_module(f"carepolicy._cmd_{name}")
    except ModuleNotFoundError:
        return None


def _add_extra_commands(sub: Any) -> None:
    for name in EXTRA_COMMANDS:
        module = _command_module(name)
        if module is not None:
            module.add_parser(sub)


def main(argv: Sequence[str] | None = None) -> None:
    sys.exit(run(parse_args(argv), sys.stdout, sys.stderr))


class SafeStream:
    """A text stream that writes every control, bidi-override or invisible format character as an escape.

    Wraps the output of every command, so text echoed from a pack, evidence or a file name
    never moves the cursor, clears the screen or retitles the window. Line breaks and tabs
    pass. ``raw`` is the wrapped stream, for writers (rich) that escape their own input.
    """

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        return self.raw.write(escape(text, keep="\n\t"))

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.raw, "isatty", lambda: False)())


def add_pin_arguments(p: argparse.ArgumentParser) -> None:
    """``--pin``/``--pins``: refuse packs whose file hash is not the pinned one (CP114)."""
    p.add_argument("--pin", action="append", default=[], metavar="PACK_ID=SHA256",
                   help="refuse pack PACK_ID (or PACK_ID@VERSION) unless its file's sha256 is SHA256; repeatable")
    p.add_argument("--pins", metavar="FILE", help='a JSON file of pins: {"PACK_ID": "SHA256", ...}')


def _read_pins(args: argparse.Namespace) -> dict[str, str]:
    """The pins given on the command line, hashes normalised; ValueError says what is wrong."""
    given: list[tuple[str, str]] = []
    if getattr(args, "pins", None):
        try:
            with open(args.pins, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read pins from {args.pins}: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ValueError(f"{args.pins} must hold a JSON object of pack ids to sha256 digests")
        given += list(data.items())
    for item in getattr(args, "pin", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--pin `{item}` is not PACK_ID=SHA256")
        given.append((key.strip(), value))
    pins: dict[str, str] = {}
    for key, value in given:
        digest = normalise_sha256(value)
        if pins.get(key, digest) != digest:
            raise ValueError(f"pack `{key}` is pinned to two different hashes")
        pins[key] = digest
    return pins


def _pin_source(args: argparse.Namespace) -> str:
    return getattr(args, "pins", None) or "--pin"


def check_pins(packs: Sequence[Any], args: argparse.Namespace) -> None:
    """Raise a PackLoadError (CP114/CP115) when loaded packs differ from the command line's pins."""
    diags = pin_diagnostics(packs, getattr(args, "pinned", None) or {}, _pin_source(args))
    if diags:
        raise PackLoadError(f"{len(diags)} pinned pack(s) differ", diags)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if not isinstance(stdout, SafeStream):
        stdout = cast(IO[str], SafeStream(stdout))
    if not isinstance(stderr, SafeStream):
        stderr = cast(IO[str], SafeStream(stderr))
    try:
        args.pinned = _read_pins(args)
    except (TypeError, ValueError) as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    try:
        if args.command == "validate":
            return _validate(args, stdout, stderr)
        if args.command == "schema":
            return _schema(args, stdout)
        return int(_command_module(args.command).run(args, stdout, stderr))
    except PolicyError as exc:
        _print_diagnostics(exc, stderr)
        return EXIT_USAGE if isinstance(exc, (OSError,)) else EXIT_INVALID
    except OSError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE


def _print_diagnostics(exc: PolicyError, stream: IO[str]) -> None:
    if exc.diagnostics:
        for d in exc.diagnostics:
            stream.write(str(d) + "\n")
    else:
        stream.write(f"error: {exc}\n")


def expand(paths: Sequence[str], suffix: str) -> list[Path]:
    """Files named, and the matching files inside directories named, in a stable order."""
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend(sorted(x for x in path.glob(f"*{suffix}") if not x.name.endswith(".tests.yaml")))
        elif path.exists():
            out.append(path)
        else:
            raise FileNotFoundError(f"no such file or directory: {p}")
    return out


def parse_as_of(text: str | None, stderr: IO[str]) -> date | None:
    """The --as-of date (today when not given), or ``None`` after saying what is wrong."""
    if text is None:
        return date.today()
    try:
        return parse_date(text)
    except ValueError:
        stderr.write(f"carepolicy: --as-of `{text}` is not a date; write it as YYYY-MM-DD\n")
        return None


def _validate(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        files = expand(args.packs, ".yaml")
    except FileNotFoundError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    results: list[dict[str, Any]] = []
    diagnostics: list[Diagnostic] = []
    unreadable = False  # a file that is not a readable regular file is a usage error (exit 2), after the rest
    loaded: list[Any] = []
    for f in files:
        if f.name.endswith(".tests.yaml"):  # a pack's tests file: check its format, not as a pack
            from .policytest import check_file, load_tests

            try:
                spec, pack_path = load_tests(f)
                _, _, problems = check_file(f)
            except PackLoadError as exc:
                unreadable = unreadable or any(d.code == "CP100" for d in exc.diagnostics)
                diagnostics.extend(exc.diagnostics)
                results.append({"file": str(f), "ok": False, "errors": _problem_count(exc)})
                continue
            if problems:
                diagnostics.extend(problems)
                results.append({"file": str(f), "ok": False, "errors": len(problems)})
                continue
            results.append({"file": str(f), "ok": True, "tests": True, "pack": str(pack_path),
                            "cases": len(spec.cases), "walks": len(spec.walks)})
            continue
        try:
            pack = load_pack(f)
        except PackLoadError as exc:
            unreadable = unreadable or any(d.code == "CP100" for d in exc.diagnostics)
            diagnostics.extend(exc.diagnostics)
            results.append({"file": str(f), "ok": False, "errors": _problem_count(exc)})
            continue
        loaded.append(pack)
        m = pack.model
        foreign = [f"`{spec.evidence_path}` (input `{spec.id}`)" for spec in pack.inputs.values()
                   if spec.kind == "local" and spec.namespace != m.pack.authority.id]
        results.append({"file": str(f), "ok": True, "id": pack.id, "version": pack.version,
                        "decisions": len(m.decisions), "outcomes": len(m.outcomes),
                        "states": len(m.ladder.states) if m.ladder else 0, "sha256": pack.sha256,
                        "reads_other_authorities": foreign})
    for d in pin_diagnostics(loaded, args.pinned, _pin_source(args)):
        diagnostics.append(d)
        for r in results:
            if r["file"] == d.file and r["ok"]:
                r.update(ok=False, errors=1)
    # however many files and problems, at most MAX_DIAGNOSTICS are listed, then how many more there are
    diagnostics = limit_diagnostics(diagnostics)
    if args.format == "json":
        json.dump({"files": results, "diagnostics": [d.to_dict() for d in diagnostics]}, stdout, indent=2, sort_keys=True)
        stdout.write("\n")
    else:
        for d in diagnostics:
            stderr.write(str(d) + "\n")
        for r in results:
            if r["ok"] and r.get("tests"):
                stdout.write(f"ok    {r['file']}: tests of {r['pack']}, {r['cases']} cases, {r['walks']} walks\n")
            elif r["ok"]:
                stdout.write(f"ok    {r['file']}: `{r['id']}` v{r['version']}, {r['decisions']} decisions, "
                             f"{r['outcomes']} outcomes, {r['states']} ladder states\n")
                for what in r["reads_other_authorities"]:
                    stdout.write(f"      reads another authority's finding: {what}\n")
            else:
                stdout.write(f"FAIL  {r['file']}: {r['errors']} problem(s)\n")
    return EXIT_USAGE if unreadable else EXIT_INVALID if diagnostics else EXIT_OK


def _problem_count(exc: PolicyError) -> int:
    """Every problem found, listed or not."""
    return len(exc.diagnostics) - (1 if exc.omitted else 0) + exc.omitted


def _load_library(spec: str) -> PackLibrary:
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"no such pack file or directory: {spec}")
    return load_pack_files(expand([spec], ".yaml"))


_COLOURS = {0: "green", 1: "cyan", 2: "yellow", 3: "red", 4: "bold red"}


def _table(decisions: list[Decision], as_of: date, stdout: IO[str]) -> None:
    """Providers down, authorities across: each headline with its common severity."""
    authorities = list(dict.fromkeys(d.pack.id for d in decisions))
    providers = list(dict.fromkeys((d.provider_id, d.provider_name) for d in decisions))
    table = Table(title=f"Headline decisions as of {as_of.isoformat()} (common severity 0 none .. 4 critical)")
    table.add_column("provider")
    for a in authorities:
        table.add_column(escape(a))
    cell = {(d.provider_id, d.pack.id): d for d in decisions}

    def shown(text: object) -> str:  # evidence and pack text: no terminal escapes, no rich markup
        return markup_escape(escape(str(text)))

    for pid, name in providers:
        row = [f"{shown(name)}\n({shown(pid)})"]
        for a in authorities:
            d = cell.get((pid, a))
            if d is None:
                row.append("-")
                continue
            if d.status == "out_of_scope":
                row.append("[dim]out of scope[/dim]")
                continue
            h = d.headline
            if h.status == "no_value":
                text = "[dim]no value[/dim]\nno rule of the pack applies"
            elif h.status == "conflict":
                text = "[magenta]conflict[/magenta]\nrows " + ", ".join(shown(r) for r in h.rules[:3]) + " all hold"
            elif h.status != "decided" and h.bounds is not None and h.bounds.possible:
                b = h.bounds
                colour = _COLOURS.get(b.severity_min or 0, "white")
                span = f"≥ {shown(b.labels[0])}" if len(b.possible) > 1 or b.no_value_possible else f"only {shown(b.labels[0])}"
                needs = ", ".join(shown(m) for m in h.missing[:3]) + (f" +{len(h.missing) - 3}" if len(h.missing) > 3 else "")
                text = (f"[{colour}]{span}[/{colour}]\nseverity {b.severity_min} to {b.severity_max}\n"
                        f"needs: {needs}")
            elif h.status != "decided":
                text = "[magenta]insufficient evidence[/magenta]\nmissing: " + ", ".join(shown(m) for m in h.missing[:3])
            else:
                sev = d.severity
                colour = _COLOURS.get(sev or 0, "white")
                text = f"[{colour}]{shown(h.label or h.value)}[/{colour}]\nseverity {sev} {SEVERITY_LABELS.get(sev, '') if sev is not None else ''}"
            if d.judgement_matters:
                text += "\n[italic]judgement[/italic]"
            row.append(text)
        table.add_row(*row)
    # rich writes its own colour codes: give it the stream itself (every cell above is already escaped)
    console = Console(file=getattr(stdout, "raw", stdout), width=max(100, 22 * (len(authorities) + 1)), force_terminal=False,
                      color_system=None if not getattr(stdout, "isatty", lambda: False)() else "auto")
    console.print(table)
    flagged = [d for d in decisions if d.judgement_matters]
    notes = ["≥ X: the evidence leaves the decision open, but it is X or worse; `needs` names the missing evidence."]
    if flagged:
        notes.append("judgement: the value rests on a rule the council's document leaves to professional judgement and "
                     "the evidence sits at its edge, or findings contradict each other "
                     "(`carepolicy evaluate --format text` gives the reasons).")
    for n in notes:
        console.print(n, highlight=False)


def _schema(args: argparse.Namespace, stdout: IO[str]) -> int:
    if args.which == "pack":
        schema = pack_json_schema()
    elif args.which == "tests":
        from .policytest import tests_json_schema

        schema = tests_json_schema()
    elif args.which == "evidence":
        packs = getattr(args, "packs", None)
        schema = _load_library(packs).evidence_schema() if packs else evidence_json_schema()
    else:
        schema = decision_json_schema()
    json.dump(schema, stdout, indent=2, sort_keys=True)
    stdout.write("\n")
    return EXIT_OK
