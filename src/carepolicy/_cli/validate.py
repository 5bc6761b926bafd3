"""``carepolicy validate``: load and check packs and their tests files, reporting every problem located."""

from __future__ import annotations

import argparse
import json
from typing import IO, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, add_pin_arguments, expand, pin_source, problem_count


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="check packs and their tests files; every problem is reported with file:line:column")
    p.add_argument("packs", nargs="+", help="pack files (YAML) or directories of packs")
    p.add_argument("--format", choices=["text", "json"], default="text")
    add_pin_arguments(p)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ..errors import Diagnostic, PackLoadError, limit_diagnostics
    from ..loader import load_pack, pin_diagnostics
    from ..policytest import check_file, load_tests

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
            try:
                spec, pack_path = load_tests(f)
                _, _, problems = check_file(f)
            except PackLoadError as exc:
                unreadable = unreadable or any(d.code == "CP100" for d in exc.diagnostics)
                diagnostics.extend(exc.diagnostics)
                results.append({"file": str(f), "ok": False, "errors": problem_count(exc)})
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
            results.append({"file": str(f), "ok": False, "errors": problem_count(exc)})
            continue
        loaded.append(pack)
        m = pack.model
        foreign = [f"`{spec.evidence_path}` (input `{spec.id}`)" for spec in pack.inputs.values()
                   if spec.kind == "local" and spec.namespace != m.pack.authority.id]
        results.append({"file": str(f), "ok": True, "id": pack.id, "version": pack.version,
                        "decisions": len(m.decisions), "outcomes": len(m.outcomes),
                        "states": len(m.ladder.states) if m.ladder else 0, "sha256": pack.sha256,
                        "reads_other_authorities": foreign})
    for d in pin_diagnostics(loaded, args.pinned, pin_source(args)):
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
