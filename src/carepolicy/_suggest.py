"""'Did you mean' suggestions for misspelt keys and ids."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest valid choice, or listing the few valid ones."""
    options = sorted({c for c in choices if isinstance(c, str)})
    if not options:
        return None
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean `{close[0]}`?"
    if len(options) <= 8:
        return "expected one of " + ", ".join(f"`{o}`" for o in options)
    return None


def closest(word: str, choices: Iterable[str]) -> str | None:
    """``did you mean `x`?`` for a near miss only (``None`` when nothing is close)."""
    close = difflib.get_close_matches(word, sorted({c for c in choices if isinstance(c, str)}), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None
