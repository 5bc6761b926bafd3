"""``carepolicy graph``: draw each pack's escalation ladder (Mermaid, Markdown, DOT; SVG/PNG with Graphviz)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import IO, Any

from .common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, expand

SUFFIX = {"mermaid": ".mmd", "markdown": ".md", "dot": ".dot", "svg": ".svg", "png": ".png"}


def add_parser(sub: Any) -> None:
    p = sub.add_parser("graph", help="draw escalation ladders as Mermaid, Markdown, Graphviz DOT, SVG or PNG")
    p.add_argument("packs", nargs="+", help="pack files (YAML) or directories of packs")
    p.add_argument("--format", action="append", choices=list(SUFFIX), dest="formats",
                   help="repeat for several (default: mermaid to stdout; with --out, mermaid, markdown and dot); "
                        "svg and png need Graphviz's `dot`")
    p.add_argument("--out", default=None, help="directory to write <pack-id>.<ext> files into (default: print text to stdout)")


def run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from ..loader import load_pack
    from ..render import RenderError, graphviz_available, render_image, to_dot, to_markdown, to_mermaid

    text = {"mermaid": to_mermaid, "markdown": to_markdown, "dot": to_dot}
    formats = list(dict.fromkeys(args.formats or (["mermaid", "markdown", "dot"] if args.out else ["mermaid"])))
    images = [f for f in formats if f in ("svg", "png")]
    if images and args.out is None:
        stderr.write("carepolicy: --format svg/png writes files: give --out DIR\n")
        return EXIT_USAGE
    if images and not graphviz_available():
        stderr.write("carepolicy: the Graphviz `dot` program is not installed, so svg/png cannot be drawn; install "
                     "Graphviz (e.g. `apt install graphviz`), or use --format mermaid, markdown or dot\n")
        return EXIT_USAGE
    try:
        files = expand(args.packs, ".yaml")
    except FileNotFoundError as exc:
        stderr.write(f"carepolicy: {exc}\n")
        return EXIT_USAGE
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    drawn = 0
    for f in files:
        pack = load_pack(f)  # a PackLoadError is reported by cli.run with every diagnostic
        if pack.model.ladder is None:
            stderr.write(f"note: {f}: pack `{pack.id}` has no ladder; nothing to draw\n")
            continue
        drawn += 1
        dot = to_dot(pack)
        for fmt in formats:
            if out is None:
                stdout.write(text[fmt](pack))
                continue
            target = out / f"{pack.id}{SUFFIX[fmt]}"
            try:
                if fmt in text:
                    target.write_text(text[fmt](pack), encoding="utf-8")
                else:
                    target.write_bytes(render_image(dot, fmt))
            except RenderError as exc:
                stderr.write(f"carepolicy: {f}: {exc}\n")
                return EXIT_INVALID
            stdout.write(f"wrote {target}\n")
    if drawn == 0:
        stderr.write("carepolicy: no pack with a ladder was given\n")
        return EXIT_INVALID
    return EXIT_OK
