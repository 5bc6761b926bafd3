"""``carepolicy evaluate``: every pack in force over provider evidence, as a stream.

Evidence comes as JSON files (one record each, or directories of them) or JSON Lines
(``.jsonl``/``.ndjson`` files, or ``-`` for standard input), one record per line. Every
format but the table is written as it goes, so a national market runs in flat memory;
``--format jsonl`` writes one line per decision and one line per refused record
(``{"line": 17, "error": {...}}``) and carries on. The exit code is 1 when any record
was refused. A progress bar appears on standard error for runs longer than a second
when it is a terminal (never under ``NO_COLOR``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .common import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    add_pin_arguments,
    check_pins,
    expand,
    load_library,
    parse_as_of,
    print_diagnostics,
    read_evidence_file,
)

if TYPE_CHECKING:
    from .._bulk import Detail, StreamResult
    from ..errors import PolicyError

DETAILS = ("headline", "decisions", "full")

JSONL_SUFFIXES = (".jsonl", ".ndjson")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("evaluate", help="evaluate provider evidence against packs (JSON files or JSON Lines)")
    p.add_argument("evidence", nargs="+",
                   help="evidence: JSON files (or directories of them), JSON Lines files (.jsonl), or - for JSON Lines "
                        "on standard input")
    p.add_argument("--packs", default="policies", help="a pack file or a directory of packs (default: policies)")
    p.add_argument("--as-of", default=None, help="the date to decide as of, YYYY-MM-DD (default: today)")
    p.add_argument("--format", choices=["table", "text", "json", "jsonl"], default=None,
                   help="table (default for JSON files), text, json (an array), or jsonl (one line per decision; "
                        "default for JSON Lines input)")
    p.add_argument("--detail", choices=list(DETAILS), default=None,
                   help="with json or jsonl: how much of each decision to write: the headline, every decision's "
                        "value with its rules and clauses, or the full explained decision with its trace (default)")
    add_pin_arguments(p)


def _is_lines(name: str) -> bool:
    return name == "-" or name.endswith(JSONL_SUFFIXES)


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from .._bulk import _in_force, _stream

    fmt = args.format or ("jsonl" if any(_is_lines(e) for e in args.evidence) else "table")
    if args.detail is not None and fmt not in ("json", "jsonl"):
        stderr.write("carepolicy: --detail applies to --format json and jsonl\n")
        return EXIT_USAGE
    detail: Detail = args.detail or "full"
    as_of = parse_as_of(args.as_of, stderr)
    if as_of is None:
        return EXIT_USAGE
    try:
        library = load_library(args.packs)
        inputs = resolve_inputs(args.evidence)
    except (FileNotFoundError, ValueError) as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    check_pins([p for versions in library.values() for p in versions], args)
    active = _in_force(library, as_of)
    for pid in library:
        if not any(p.in_force(as_of) for p in library[pid]):
            stderr.write(f"carepolicy: pack `{pid}` has no version in force on {as_of.isoformat()}\n")
    if not active:
        return EXIT_INVALID

    progress = Progress(stderr, total_bytes(inputs))
    stdin = getattr(args, "stdin", None) or sys.stdin.buffer

    def results() -> Iterator[StreamResult]:
        for file, records in records_of(inputs, stdin, progress):
            yield from _stream(library, active, records, as_of, detail, file)

    failed = 0
    try:
        if fmt == "jsonl":
            failed = _write_lines(results(), stdout, progress)
        elif fmt == "json":
            failed = _write_array(results(), stdout, stderr, detail, progress)
        elif fmt == "text":
            failed = _write_text(results(), stdout, stderr, progress)
        else:
            failed = _write_table(results(), stdout, stderr, as_of, progress)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        quiet(stdout)
        return EXIT_OK
    finally:
        progress.close()
    if failed and fmt == "jsonl":
        stderr.write(f"carepolicy: {failed:,} record(s) or decision(s) failed; their lines carry an `error`\n")
    if progress.unreadable:  # a file named on the command line could not be read at all: a usage error
        return EXIT_USAGE
    return EXIT_INVALID if failed else EXIT_OK


def quiet(stdout: IO[str]) -> None:
    """After a broken pipe, send what is left in the buffer nowhere, so closing the stream cannot fail."""
    try:
        fd = stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


# ----------------------------------------------------------------- reading

Inputs = list[tuple[str, Path | None]]


def resolve_inputs(paths: list[str]) -> Inputs:
    """What to read, in order: ``("json", file)``, ``("lines", file)`` or ``("-", None)`` for standard input."""
    if sum(e == "-" for e in paths) > 1:
        raise ValueError("standard input (-) can be read once")
    inputs: Inputs = []
    for e in paths:
        if e == "-":
            inputs.append(("-", None))
        elif _is_lines(e) and not Path(e).is_dir():
            if not Path(e).exists():
                raise FileNotFoundError(f"no such file or directory: {e}")
            inputs.append(("lines", Path(e)))
        else:
            inputs.extend(("json", f) for f in expand([e], ".json"))
    return inputs


def records_of(inputs: Inputs, stdin: IO[bytes], progress: Progress) -> Iterator[tuple[str, Iterator[tuple[int | None, Any]]]]:
    """For each input, its name and its numbered records (JSON files: one record, no line number)."""
    from .._bulk import read_json_lines

    for kind, path in inputs:
        if kind == "json":
            assert path is not None
            yield str(path), iter([(None, _read_json_file(path, progress))])
        elif kind == "lines":
            assert path is not None
            with open(path, "rb") as fh:
                yield str(path), _counted(read_json_lines(fh, file=str(path)), progress)
        else:
            yield "<stdin>", _counted(read_json_lines(stdin, file="<stdin>"), progress)


def _read_json_file(path: Path, progress: Progress) -> bytes | PolicyError:
    """One record from a JSON file; one too large (CP405) or not a regular file (CP100) is an error result."""
    from ..errors import EvidenceError, PackLoadError

    try:
        data = read_evidence_file(str(path))
    except EvidenceError as exc:
        return exc
    except PackLoadError as exc:
        progress.unreadable += 1
        return exc
    progress.advance(len(data))
    return data


def _counted(lines: Iterator[tuple[int, Any]], progress: Progress) -> Iterator[tuple[int | None, Any]]:
    for number, line in lines:
        progress.advance(len(line) + 1 if isinstance(line, bytes) else 0)
        yield number, line


def total_bytes(inputs: Inputs) -> int | None:
    if any(kind == "-" for kind, _ in inputs):
        return None
    try:
        return sum(p.stat().st_size for _, p in inputs if p is not None)
    except OSError:
        return None


# ----------------------------------------------------------------- writing


def _print_error(r: StreamResult, stderr: IO[str]) -> None:
    assert r.error is not None
    if r.pack_id is not None:  # the record is valid; one pack could not evaluate it
        stderr.write(f"error: {r.error}\n")
    else:
        print_diagnostics(r.error, stderr)


def _write_lines(results: Iterator[StreamResult], stdout: IO[str], progress: Progress) -> int:
    failed = 0
    write = stdout.write
    for r in results:
        if r.error is not None:
            failed += 1
        write(r.to_json() + "\n")
        progress.tick(r)
    return failed


class _Decisions:
    """The decisions of a run, each error reported on stderr as it comes and counted in ``failed``."""

    def __init__(self, results: Iterator[StreamResult], stderr: IO[str], progress: Progress) -> None:
        self.failed = 0
        self._results, self._stderr, self._progress = results, stderr, progress

    def __iter__(self) -> Iterator[StreamResult]:
        for r in self._results:
            self._progress.tick(r)
            if r.error is not None:
                self.failed += 1
                _print_error(r, self._stderr)
                continue
            assert r.decision is not None
            yield r


def _write_array(results: Iterator[StreamResult], stdout: IO[str], stderr: IO[str], detail: str,
                 progress: Progress) -> int:
    """A JSON array written as it goes, the same text ``json.dump(..., indent=2, sort_keys=True)`` gives."""
    first = True
    decisions = _Decisions(results, stderr, progress)
    for r in decisions:
        data = r.decision.model_dump(mode="json") if detail == "full" and r.decision is not None else r.to_dict()
        text = json.dumps(data, indent=2, sort_keys=True).replace("\n", "\n  ")
        stdout.write(("[\n  " if first else ",\n  ") + text)
        first = False
    stdout.write("[]\n" if first else "\n]\n")
    return decisions.failed


def _write_text(results: Iterator[StreamResult], stdout: IO[str], stderr: IO[str], progress: Progress) -> int:
    decisions = _Decisions(results, stderr, progress)
    first = True
    for r in decisions:  # written as it goes
        assert r.decision is not None
        stdout.write(("" if first else "\n\n") + r.decision.explain())
        first = False
    stdout.write("\n")
    return decisions.failed


def _write_table(results: Iterator[StreamResult], stdout: IO[str], stderr: IO[str], as_of: date,
                 progress: Progress) -> int:
    from .table import headline_table

    decisions = _Decisions(results, stderr, progress)
    headline_table([r.decision for r in decisions if r.decision is not None], as_of, stdout)
    return decisions.failed


# ----------------------------------------------------------------- progress


class Progress:
    """A progress bar on standard error, shown only when it is a terminal, without NO_COLOR, after a second."""

    DELAY = 1.0

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self._enabled = bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ \
            and os.environ.get("TERM") != "dumb"
        self._stream = stream
        self._total = total
        self._done = 0
        self._records = 0
        self._failed = 0
        self._start = time.monotonic()
        self._bar: Any = None
        self._task: Any = None
        self._count = 0
        self.unreadable = 0
        """Files named on the command line that could not be read (not regular files, no permission)."""

    def advance(self, size: int) -> None:
        self._done += size

    def tick(self, r: StreamResult) -> None:
        self.tick_one(r.error is not None)

    def tick_one(self, failed: bool) -> None:
        if not self._enabled:
            return
        self._count += 1
        if failed:
            self._failed += 1
        if self._count & 63:
            return
        bar = self._bar
        if bar is None:
            if time.monotonic() - self._start < self.DELAY:
                return
            bar = self._open()
        bar.update(self._task, completed=self._done, description=f"{self._count:,} results, {self._failed:,} failed")

    def _open(self) -> Any:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

        console = Console(file=self._stream)
        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                             TimeElapsedColumn(), console=console, transient=True)
        self._task = self._bar.add_task("evaluating", total=self._total)
        self._bar.start()
        return self._bar

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
