"""The ``carepolicy`` command: validate, test, explain and draw packs; evaluate evidence; export schemas.

:func:`main` parses the arguments and exits with what :func:`run` returns; ``run`` takes
its output streams as arguments, so tests check the exact text. Each command lives in
its own module of :mod:`carepolicy._cli`. Exit codes: 0 clean, 1 invalid pack or
evidence or failed tests, 2 a usage or I/O error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import IO, NoReturn, cast

from ._cli import COMMANDS
from ._cli.common import EXIT_INVALID, EXIT_USAGE, SafeStream, print_diagnostics, read_pins
from ._version import PACK_FORMAT, __version__

__all__ = ["main", "parse_args", "run"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse exits 2 on usage errors, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (cheap: no command module imports the engine to build it)."""
    parser = _Parser(prog="carepolicy", description="Council care-provider quality frameworks as YAML policy packs.")
    parser.add_argument("--version", action="version", version=f"carepolicy {__version__} (pack format {PACK_FORMAT})")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse a command line (``None``: ``sys.argv[1:]``); a usage error exits 2 with the usage."""
    return build_parser().parse_args(argv)


def run(args: argparse.Namespace | Sequence[str], stdout: IO[str], stderr: IO[str]) -> int:
    """Run one command, parsed or as its arguments, writing to ``stdout`` and ``stderr``; the exit code.

    All output passes through :class:`SafeStream`: no control or bidi character from a pack,
    evidence or file name reaches the terminal raw. A located problem is printed with its
    file:line:column and gives exit code 1; an unreadable file gives 2.
    """
    if not isinstance(args, argparse.Namespace):
        args = parse_args(list(args))
    if not isinstance(stdout, SafeStream):
        stdout = cast(IO[str], SafeStream(stdout))
    if not isinstance(stderr, SafeStream):
        stderr = cast(IO[str], SafeStream(stderr))
    from .errors import PolicyError

    try:
        args.pinned = read_pins(args)
    except (TypeError, ValueError) as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    try:
        return int(COMMANDS[args.command].run(args, stdout, stderr))
    except PolicyError as exc:
        print_diagnostics(exc, stderr)
        return EXIT_USAGE if any(d.code == "CP100" for d in exc.diagnostics) else EXIT_INVALID
    except OSError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """The console script: run the command and exit with its code."""
    sys.exit(run(parse_args(argv), sys.stdout, sys.stderr))
