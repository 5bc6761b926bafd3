"""What every command shares: exit codes, safe output, file arguments, dates, pins.

Only the standard library is imported at the top, so building the parser (and
``carepolicy --help``) never loads the engine; each helper imports what it needs.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .._text import escape

if TYPE_CHECKING:
    from ..engine import PackLibrary
    from ..errors import PolicyError

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
"""0 clean; 1 an invalid pack or evidence, or failed tests; 2 a usage or I/O error."""


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


def print_diagnostics(exc: PolicyError, stream: IO[str]) -> None:
    """Every located diagnostic of ``exc`` on its own line, or its message when it has none."""
    if exc.diagnostics:
        for d in exc.diagnostics:
            stream.write(str(d) + "\n")
    else:
        stream.write(f"error: {exc}\n")


def problem_count(exc: PolicyError) -> int:
    """Every problem found, listed or not."""
    return len(exc.diagnostics) - (1 if exc.omitted else 0) + exc.omitted


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
    from .._time import parse_date

    if text is None:
        return date.today()
    try:
        return parse_date(text)
    except ValueError:
        stderr.write(f"carepolicy: --as-of `{text}` is not a date; write it as YYYY-MM-DD\n")
        return None


def load_library(spec: str) -> PackLibrary:
    """The packs of a pack file or a directory of packs (every version of each)."""
    from ..loader import load_pack_files

    if not Path(spec).exists():
        raise FileNotFoundError(f"no such pack file or directory: {spec}")
    return load_pack_files(expand([spec], ".yaml"))


def read_evidence_file(name: str) -> bytes:
    """The bytes of one evidence file, never blocking on a fifo and never reading past the evidence limit.

    Raises a PackLoadError (CP100) when it is not a readable regular file, and an
    EvidenceError (CP405) when it is larger than one record may be.
    """
    from .._vocabulary import MAX_JSON_BYTES
    from ..errors import Diagnostic, EvidenceError, PackLoadError
    from ..loader import read_file

    try:
        return read_file(name, MAX_JSON_BYTES)
    except PackLoadError as exc:
        too_big = next((d for d in exc.diagnostics if d.code == "CP102"), None)
        if too_big is None:
            raise
        raise EvidenceError(f"evidence in {name} is too large", [Diagnostic(
            code="CP405", file=name, path="$", message=too_big.message.replace("file is", "evidence is", 1),
            hint="send one provider's record at a time")]) from None


# ----------------------------------------------------------------- pins


def add_pin_arguments(p: argparse.ArgumentParser) -> None:
    """``--pin``/``--pins``: refuse packs whose file hash is not the pinned one (CP114)."""
    p.add_argument("--pin", action="append", default=[], metavar="PACK_ID=SHA256",
                   help="refuse pack PACK_ID (or PACK_ID@VERSION) unless its file's sha256 is SHA256; repeatable")
    p.add_argument("--pins", metavar="FILE", help='a JSON file of pins: {"PACK_ID": "SHA256", ...}')


def read_pins(args: argparse.Namespace) -> dict[str, str]:
    """The pins given on the command line, hashes normalised; ValueError says what is wrong."""
    from ..loader import normalise_sha256

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


def pin_source(args: argparse.Namespace) -> str:
    """Where the pins came from, for the diagnostics: the pins file, or ``--pin``."""
    return getattr(args, "pins", None) or "--pin"


def check_pins(packs: Sequence[Any], args: argparse.Namespace) -> None:
    """Raise a PackLoadError (CP114/CP115) when loaded packs differ from the command line's pins."""
    from ..errors import PackLoadError
    from ..loader import pin_diagnostics

    diags = pin_diagnostics(packs, getattr(args, "pinned", None) or {}, pin_source(args))
    if diags:
        raise PackLoadError(f"{len(diags)} pinned pack(s) differ", diags)
