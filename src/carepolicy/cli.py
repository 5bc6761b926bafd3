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
from typing import IO, Any, NoReturn

from rich.console import Console
from rich.table import Table

from ._time import parse_date
from .decision import SEVERITY_LABELS, Decision, decision_json_schema
from .engine import PackLibrary
from .errors import Diagnostic, EvaluationError, EvidenceError, PackLoadError, PolicyError
from .evidence import evidence_json_schema, parse_evidence
from .loader import load_pack, load_pack_files, pack_json_schema

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

    p = sub.add_parser("evaluate", help="evaluate provider evidence against packs")
    p.add_argument("evidence", nargs="+", help="evidence JSON files (or directories of them)")
    p.add_argument("--packs", default="policies", help="a pack file or a directory of packs (default: policies)")
    p.add_argument("--as-of", default=None, help="the date to decide as of, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=["table", "text", "json"], default="table")

    p = sub.add_parser("schema", help="print the JSON Schema of packs, evidence or decisions")
    p.add_argument("which", choices=["pack", "evidence", "decision"])

    _add_extra_commands(sub)
    return parser.parse_args(argv)


# Commands that live in their own module `_cmd_<name>.py`, each with `add_parser(sub)` and
# `run(args, stdout, stderr) -> int`.
EXTRA_COMMANDS = ("test", "explain", "graph", "timeline", "edges", "stream")


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


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    try:
        if args.command == "validate":
            return _validate(args, stdout, stderr)
        if args.command == "evaluate":
            return _evaluate(args, stdout, stderr)
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
    for f in files:
        if f.name.endswith(".tests.yaml"):  # a pack's tests file: check its format, not as a pack
            from .policytest import load_tests

            try:
                spec, pack_path = load_tests(f)
            except PackLoadError as exc:
                diagnostics.extend(exc.diagnostics)
                results.append({"file": str(f), "ok": False, "errors": len(exc.diagnostics)})
                continue
            results.append({"file": str(f), "ok": True, "tests": True, "pack": str(pack_path),
                            "cases": len(spec.cases), "walks": len(spec.walks)})
            continue
        try:
            pack = load_pack(f)
        except PackLoadError as exc:
            if any(d.code == "CP100" for d in exc.diagnostics):
                _print_diagnostics(exc, stderr)
                return EXIT_USAGE
            diagnostics.extend(exc.diagnostics)
            results.append({"file": str(f), "ok": False, "errors": len(exc.diagnostics)})
            continue
        m = pack.model
        results.append({"file": str(f), "ok": True, "id": pack.id, "version": pack.version,
                        "decisions": len(m.decisions), "outcomes": len(m.outcomes),
                        "states": len(m.ladder.states) if m.ladder else 0, "sha256": pack.sha256})
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
            else:
                stdout.write(f"FAIL  {r['file']}: {r['errors']} problem(s)\n")
    return EXIT_INVALID if diagnostics else EXIT_OK


def _load_library(spec: str) -> PackLibrary:
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"no such pack file or directory: {spec}")
    return load_pack_files(expand([spec], ".yaml"))


def _evaluate(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return EXIT_USAGE
    try:
        library = _load_library(args.packs)
        files = expand(args.evidence, ".json")
    except FileNotFoundError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    decisions: list[Decision] = []
    status = EXIT_OK
    idle = [pid for pid in library if not any(p.in_force(as_of) for p in library[pid])]
    for pid in idle:
        stderr.write(f"carepolicy: pack `{pid}` has no version in force on {as_of.isoformat()}\n")
    if idle and len(idle) == len(library):
        return EXIT_INVALID
    for f in files:
        try:
            evidence = parse_evidence(f.read_bytes(), source=str(f))
        except EvidenceError as exc:
            _print_diagnostics(exc, stderr)
            status = EXIT_INVALID
            continue
        try:
            decisions.extend(library.evaluate_all(evidence, as_of))
        except EvaluationError as exc:
            stderr.write(f"error: {exc}\n")
            status = EXIT_INVALID
    if args.format == "json":
        json.dump([d.model_dump(mode="json") for d in decisions], stdout, indent=2, sort_keys=True)
        stdout.write("\n")
    elif args.format == "text":
        stdout.write("\n\n".join(d.explain() for d in decisions) + "\n")
    else:
        _table(decisions, as_of, stdout)
    return status


_COLOURS = {0: "green", 1: "cyan", 2: "yellow", 3: "red", 4: "bold red"}


def _table(decisions: list[Decision], as_of: date, stdout: IO[str]) -> None:
    """Providers down, authorities across: each headline with its common severity."""
    authorities = list(dict.fromkeys(d.pack.id for d in decisions))
    providers = list(dict.fromkeys((d.provider_id, d.provider_name) for d in decisions))
    table = Table(title=f"Headline decisions as of {as_of.isoformat()} (common severity 0 none .. 4 critical)")
    table.add_column("provider")
    for a in authorities:
        table.add_column(a)
    cell = {(d.provider_id, d.pack.id): d for d in decisions}
    for pid, name in providers:
        row = [f"{name}\n({pid})"]
        for a in authorities:
            d = cell.get((pid, a))
            if d is None:
                row.append("-")
                continue
            if d.status == "out_of_scope":
                row.append("[dim]out of scope[/dim]")
                continue
            h = d.headline
            if h.status != "decided":
                text = "[magenta]insufficient evidence[/magenta]\nmissing: " + ", ".join(h.missing[:3])
            else:
                sev = d.severity
                colour = _COLOURS.get(sev or 0, "white")
                text = f"[{colour}]{h.label or h.value}[/{colour}]\nseverity {sev} {SEVERITY_LABELS.get(sev, '') if sev is not None else ''}"
            if d.judgement:
                text += "\n[italic]judgement[/italic]"
            row.append(text)
        table.add_row(*row)
    console = Console(file=stdout, width=max(100, 22 * (len(authorities) + 1)), force_terminal=False,
                      color_system=None if not getattr(stdout, "isatty", lambda: False)() else "auto")
    console.print(table)


def _schema(args: argparse.Namespace, stdout: IO[str]) -> int:
    if args.which == "pack":
        schema = pack_json_schema()
    elif args.which == "evidence":
        schema = evidence_json_schema()
    else:
        schema = decision_json_schema()
    json.dump(schema, stdout, indent=2, sort_keys=True)
    stdout.write("\n")
    return EXIT_OK
