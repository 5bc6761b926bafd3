#!/usr/bin/env python3
"""Mutation testing of carepolicy's engine, checks and lifecycle: the share of mutants the suite kills.

    .venv/bin/python tools/mutate.py                  # every mutant, 2 workers, report in tools/mutants/
    .venv/bin/python tools/mutate.py --list           # the mutants, without running anything
    .venv/bin/python tools/mutate.py --only engine.py --jobs 1 --timeout 300
    .venv/bin/python tools/mutate.py --sample 10 --resume   # run again only what was not killed last time

Each mutant is one operator flipped in one of the modules below (``<`` to ``<=``, ``==`` to
``!=``, ``and`` to ``or``, ``not x`` to ``x``, ``True`` to ``False``, a whole number plus one,
``+`` to ``-``). It is written into a private copy of the repository and the tests that
exercise that module are run against it (``pytest -x``, stopping at the first failure) with a
time limit: a failing or timed-out run kills the mutant; a green run means it survived.
Mutants listed in tools/mutants/equivalent.txt (by id, with the reason they cannot be
killed) are counted apart. The report (tools/mutants/report.txt) gives the score and every
survivor with its line; tools/mutants/results.json keeps each mutant's verdict for ``--resume``.

Not part of the CI suite: it runs the relevant tests once per mutant.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "carepolicy"
OUT = ROOT / "tools" / "mutants"

# module -> the tests that exercise it, in stages: the quick unit tests first; only a mutant they
# leave alive meets the slower property and policy tests (each stage runs with pytest -x)
TARGETS = {
    "_compile.py": [["tests/test_engine.py", "tests/test_findings.py", "tests/test_vocabulary.py", "tests/test_mutants.py"],
                    ["tests/test_reference.py", "tests/test_policy_files.py"]],
    "engine.py": [["tests/test_engine.py", "tests/test_findings.py", "tests/test_mutants.py"],
                  ["tests/test_reference.py", "tests/test_policy_files.py", "tests/test_cli.py", "tests/test_evidence.py"]],
    "_check.py": [["tests/test_invalid_packs.py", "tests/test_loader.py", "tests/test_findings.py", "tests/test_mutants.py"],
                  ["tests/test_engine.py", "tests/test_vocabulary.py", "tests/test_policy_files.py"]],
    "_graph.py": [["tests/test_graph.py", "tests/test_invalid_packs.py", "tests/test_findings.py", "tests/test_mutants.py"],
                  ["tests/test_ladders.py", "tests/test_loader.py", "tests/test_lifecycle.py"]],
    "lifecycle.py": [["tests/test_lifecycle.py", "tests/test_findings.py", "tests/test_mutants.py"],
                     ["tests/test_ladders.py", "tests/test_one_rule.py", "tests/test_policy_files.py", "tests/test_cli.py"]],
    "_vocabulary.py": [["tests/test_vocabulary.py", "tests/test_evidence.py", "tests/test_mutants.py"],
                       ["tests/test_engine.py", "tests/test_loader.py", "tests/test_cli.py", "tests/test_policy_files.py"]],
}

# the few slow tests that check timing-free properties other tests also pin (threads, hash seeds, shrinking)
SLOW = ("thread_safety", "hash_seeds", "minimal_counter_example")

FLIPS = {ast.Lt: "<=", ast.LtE: "<", ast.Gt: ">=", ast.GtE: ">", ast.Eq: "!=", ast.NotEq: "==",
         ast.Is: "is not", ast.IsNot: "is", ast.In: "not in", ast.NotIn: "in"}
TOKENS = {ast.Lt: r"<(?!=)", ast.LtE: r"<=", ast.Gt: r">(?!=)", ast.GtE: r">=", ast.Eq: r"==", ast.NotEq: r"!=",
          ast.Is: r"\bis\b(?!\s+not\b)", ast.IsNot: r"\bis\s+not\b", ast.In: r"(?<!not )\bin\b", ast.NotIn: r"\bnot\s+in\b"}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    start: int  # offsets in the file's text
    end: int
    old: str
    new: str
    kind: str
    code: str  # the line as written, stripped
    column: int

    @property
    def id(self) -> str:
        """Stable while the line itself is unchanged, wherever edits elsewhere move it."""
        digest = hashlib.sha1(f"{self.code}|{self.column}|{self.old}>{self.new}".encode()).hexdigest()[:10]
        return f"{self.module}:{digest}"

    def describe(self) -> str:
        return f"{self.id} line {self.line} [{self.kind}] `{self.old}` -> `{self.new}`: {self.code[:90]}"


def _offsets(text: str) -> list[int]:
    out, pos = [0], 0
    for line in text.splitlines(keepends=True):
        pos += len(line)
        out.append(pos)
    return out


def _skipped_lines(tree: ast.AST) -> set[int]:
    """Docstrings, messages and type annotations: text, not behaviour."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
        if isinstance(node, ast.AnnAssign) and node.value is None:
            out.add(node.lineno)
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            out.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return out


def mutants_of(module: str) -> list[Mutant]:
    text = (SRC / module).read_text()
    tree = ast.parse(text)
    at = _offsets(text)
    skip = _skipped_lines(tree)

    def pos(line: int, col: int) -> int:
        return at[line - 1] + len(text.splitlines(keepends=True)[line - 1].encode()[:col].decode())

    out: list[Mutant] = []

    def add(node: ast.AST, start: int, end: int, new: str, kind: str) -> None:
        if node.lineno in skip:  # type: ignore[attr-defined]
            return
        line = text.count("\n", 0, start) + 1
        code = text.splitlines()[line - 1]
        out.append(Mutant(module, line, start, end, text[start:end], new, kind, code.strip(), start - at[line - 1]))

    in_fstring: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            in_fstring.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Diagnostic", "_diag"):
            in_fstring.update(id(n) for n in ast.walk(node))  # messages are text
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            for deco in node.decorator_list:  # @dataclass(frozen=True, slots=True), @lru_cache(maxsize=512)
                in_fstring.update(id(n) for n in ast.walk(deco))
    for node in ast.walk(tree):
        if id(node) in in_fstring:
            continue
        if isinstance(node, ast.Compare):
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                a = pos(left.end_lineno, left.end_col_offset)  # type: ignore[arg-type]
                b = pos(right.lineno, right.col_offset)
                m = re.search(TOKENS[type(op)], text[a:b])
                if m and type(op) in FLIPS:
                    add(node, a + m.start(), a + m.end(), FLIPS[type(op)], "compare")
                left = right
        elif isinstance(node, ast.BoolOp):
            word, other = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
            for x, y in zip(node.values, node.values[1:]):
                a = pos(x.end_lineno, x.end_col_offset)  # type: ignore[arg-type]
                b = pos(y.lineno, y.col_offset)
                m = re.search(rf"\b{word}\b", text[a:b])
                if m:
                    add(node, a + m.start(), a + m.end(), other, "boolean")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            a = pos(node.lineno, node.col_offset)
            b = pos(node.operand.lineno, node.operand.col_offset)
            add(node, a, b, "", "negation")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            a, b = pos(node.lineno, node.col_offset), pos(node.end_lineno, node.end_col_offset)  # type: ignore[arg-type]
            add(node, a, b, str(not node.value), "constant")
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            a, b = pos(node.lineno, node.col_offset), pos(node.end_lineno, node.end_col_offset)  # type: ignore[arg-type]
            add(node, a, b, str(node.value + 1), "number")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            a = pos(node.left.end_lineno, node.left.end_col_offset)  # type: ignore[arg-type]
            b = pos(node.right.lineno, node.right.col_offset)
            sign, other = ("+", "-") if isinstance(node.op, ast.Add) else ("-", "+")
            m = re.search(re.escape(sign), text[a:b])
            if m and not (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
                add(node, a + m.start(), a + m.end(), other, "arithmetic")
    out = sorted({(m.start, m.new): m for m in out}.values(), key=lambda m: m.start)
    seen: dict[str, int] = {}
    for i, m in enumerate(out):  # the same line written twice: number the later copies
        n = seen[m.id] = seen.get(m.id, 0) + 1
        if n > 1:
            out[i] = dataclasses.replace(m, code=f"{m.code} #{n}")
    return out


def _equivalent() -> dict[str, str]:
    path = OUT / "equivalent.txt"
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                ident, _, why = line.partition(" ")
                out[ident] = why.strip()
    return out


def _workspace() -> Path:
    """A private copy of what the tests read (sources, tests, packs, schemas, examples)."""
    root = Path(tempfile.mkdtemp(prefix="carepolicy-mutant-"))
    for name in ("src", "tests", "policies", "schema", "examples", "docs", "pyproject.toml", "README.md", ".ci"):
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".hypothesis"))
        elif path.exists():
            shutil.copy(path, root / name)
    return root


def run_one(m: Mutant, workspace: Path, timeout: float) -> tuple[str, float]:
    target = workspace / "src" / "carepolicy" / m.module
    original = target.read_text()  # the workspace's copy, taken when the run started
    target.write_text(original[: m.start] + m.new + original[m.end:])
    env = {**os.environ, "PYTHONPATH": str(workspace / "src"), "PYTHONDONTWRITEBYTECODE": "1",
           "CAREPOLICY_PROFILE": "mutation"}
    start = time.monotonic()
    verdict = "survived"
    try:
        for stage in TARGETS[m.module]:
            tests = [str(workspace / t) for t in stage]
            try:
                done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                       "-k", f"not ({' or '.join(SLOW)})", *tests],
                                      cwd=workspace, env=env, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                verdict = "timeout"
                break
            if done.returncode != 0:
                verdict = "killed"
                break
    finally:
        target.write_text(original)
    return verdict, time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", help="a module to mutate (repeatable); default: all")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=600, help="seconds per mutant before it counts as killed (hung)")
    ap.add_argument("--list", action="store_true", help="list the mutants and stop")
    ap.add_argument("--ids", help="a file of mutant ids to run (e.g. last run's survivors)")
    ap.add_argument("--resume", action="store_true",
                    help="keep the mutants tools/mutants/results.json records as killed; run the rest again")
    ap.add_argument("--sample", type=int, default=100, metavar="PERCENT",
                    help="run a fixed share of the mutants, chosen by their ids (stable from run to run)")
    args = ap.parse_args(argv)
    modules = args.only or list(TARGETS)
    everything = [m for mod in modules for m in mutants_of(mod)]
    mutants = [m for m in everything if int(hashlib.sha1(m.id.encode()).hexdigest(), 16) % 100 < args.sample]
    if args.ids:
        wanted = set(Path(args.ids).read_text().split())
        mutants = [m for m in mutants if m.id in wanted]
    if args.list:
        for m in mutants:
            print(m.describe())
        print(f"{len(mutants)} mutants")
        return 0
    equivalent = _equivalent()
    OUT.mkdir(parents=True, exist_ok=True)
    store = OUT / "results.json"
    earlier: dict[str, str] = json.loads(store.read_text()) if args.resume and store.exists() else {}
    kept = {m.id: (m, earlier[m.id], 0.0) for m in mutants
            if m.id not in equivalent and earlier.get(m.id) in ("killed", "timeout")}
    todo = [m for m in mutants if m.id not in equivalent and m.id not in kept]
    spaces = [_workspace() for _ in range(max(1, args.jobs))]
    free = list(spaces)
    results: dict[str, tuple[Mutant, str, float]] = dict(kept)
    started = time.monotonic()

    def save() -> None:
        recorded = {**earlier, **{k: v for k, (_, v, _) in results.items()}}
        store.write_text(json.dumps(dict(sorted(recorded.items())), indent=0) + "\n")

    def work(m: Mutant) -> None:
        ws = free.pop()
        try:
            verdict, took = run_one(m, ws, args.timeout)
        finally:
            free.append(ws)
        results[m.id] = (m, verdict, took)
        save()
        done = len(results) - len(kept)
        print(f"[{done}/{len(todo)}] {verdict:8} {took:5.1f}s {m.describe()}", flush=True)

    try:
        with ThreadPoolExecutor(max_workers=len(spaces)) as pool:
            list(pool.map(work, todo))
    finally:
        for ws in spaces:
            shutil.rmtree(ws, ignore_errors=True)
    elapsed = time.monotonic() - started
    killed = sum(v != "survived" for _, v, _ in results.values())
    survivors = sorted((m for m, v, _ in results.values() if v == "survived"), key=lambda m: (m.module, m.start))
    counted = len(results)
    save()
    lines = [
        f"carepolicy mutation testing, {time.strftime('%Y-%m-%d')}: {killed} of {counted} mutants killed "
        f"({100 * killed / max(counted, 1):.1f}%), {sum(m.id in equivalent for m in mutants)} "
        f"more listed as equivalent (tools/mutants/equivalent.txt); this run {elapsed / 60:.0f} min with {len(spaces)} worker(s)"
        + (f", {len(kept)} kept as killed from tools/mutants/results.json" if kept else ""),
        "modules: " + ", ".join(modules) + (f"; a {args.sample}% sample of {len(everything)} mutants, chosen by id"
                                              if args.sample < 100 else f"; all {len(everything)} mutants"),
        "",
        "by module:",
    ]
    for mod in modules:
        mine = [v for m, v, _ in results.values() if m.module == mod]
        if mine:
            k = sum(v != "survived" for v in mine)
            lines.append(f"  {mod:16} {k}/{len(mine)} killed")
    lines += ["", f"survivors ({len(survivors)}):"] + [f"  {m.describe()}" for m in survivors]
    report = "\n".join(lines) + "\n"
    (OUT / "report.txt").write_text(report)
    (OUT / "survivors.txt").write_text("".join(m.id + "\n" for m in survivors))
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
