"""Errors and diagnostics: every failure a policy author or a council system can meet.

Errors are data (after jsonschema and OPA): a :class:`Diagnostic` carries a stable
code, a one-line lowercase message, where it happened (file, line, column and the
path inside the pack or evidence), what was expected and a hint that says how to
fix it. Exceptions carry every diagnostic found, not just the first.

Diagnostic code families (stable, never reused):

* ``CP1xx`` reading YAML (encoding, syntax, the strict pack profile)
* ``CP2xx`` the pack's structure and meaning (schema, references, bands, tables)
* ``CP3xx`` the escalation graph
* ``CP4xx`` evidence and evaluation
* ``CP5xx`` escalation cases (moves that are not allowed)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from ._text import escape

__all__ = [
    "Diagnostic",
    "MoreProblems",
    "MAX_DIAGNOSTICS",
    "limit_diagnostics",
    "PolicyError",
    "PackLoadError",
    "EvidenceError",
    "EvaluationError",
    "TransitionError",
]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a pack, in evidence or in a case move."""

    code: str
    """Stable identifier such as ``CP108``; safe to match on in code and tests."""
    message: str
    """One lowercase line saying what is wrong; identifiers in backticks."""
    file: str | None = None
    """The file the problem is in, as given to the loader."""
    line: int | None = None
    """1-based line, or ``None`` where the problem has no position (e.g. bad bytes)."""
    col: int | None = None
    """1-based column."""
    path: str = ""
    """Where inside the document, e.g. ``decisions[0].bands[1].min`` (``$`` is the root)."""
    expected: str | None = None
    """What the loader expected to find, in words."""
    hint: str | None = None
    """How to fix it, e.g. ``did you mean `standards`?``."""
    severity: Literal["error", "warning"] = "error"

    def __post_init__(self) -> None:
        # Text echoed from a pack, evidence or a file name never reaches a terminal raw (see _text).
        for name in ("message", "path", "expected", "hint"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, escape(value))

    @property
    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known)."""
        parts = [escape(self.file) if self.file else "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def __str__(self) -> str:
        text = f"{self.location}: {self.severity}[{self.code}] {self.message}"
        if self.path:
            text += f"\n  = at: {self.path}"
        if self.expected:
            text += f"\n  = expected: {self.expected}"
        if self.hint:
            text += f"\n  = help: {self.hint}"
        return text

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file or "", self.line or 0, self.col or 0, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_DIAGNOSTICS = 100
"""At most this many problems are listed for one pack (or one ``carepolicy validate`` run); one more says how many are left."""

MORE_CODE = "CP112"


@dataclass(frozen=True, slots=True)
class MoreProblems(Diagnostic):
    """The last diagnostic of a capped list: how many problems were found but not listed (``omitted``)."""

    omitted: int = 0


def more_problems(anchor: Diagnostic, omitted: int) -> MoreProblems:
    """The summary for ``omitted`` problems not listed, placed where the first of them is."""
    return MoreProblems(
        code=MORE_CODE,
        message=f"{omitted:,} more problem{'s' if omitted != 1 else ''} not shown",
        file=anchor.file,
        line=anchor.line,
        col=anchor.col,
        path=anchor.path,
        hint=f"only the first {MAX_DIAGNOSTICS} problems are listed; fix them and check again",
        omitted=omitted,
    )


def limit_diagnostics(diagnostics: Iterable[Diagnostic], limit: int = MAX_DIAGNOSTICS) -> list[Diagnostic]:
    """The first ``limit`` diagnostics by position, then one :class:`MoreProblems` counting all the rest.

    Summaries already in ``diagnostics`` (from a capped list merged into a bigger one)
    are folded into the new one, so the count stays exact.
    """
    real: list[Diagnostic] = []
    summaries: list[MoreProblems] = []
    for d in diagnostics:
        if isinstance(d, MoreProblems):
            summaries.append(d)
        else:
            real.append(d)
    real.sort(key=Diagnostic.sort_key)
    hidden = real[limit:]
    omitted = len(hidden) + sum(m.omitted for m in summaries)
    if omitted == 0:
        return real
    anchor = min([*hidden[:1], *summaries], key=Diagnostic.sort_key)  # the first problem not listed
    return real[:limit] + [more_problems(anchor, omitted)]


class PolicyError(Exception):
    """Base of every error carepolicy raises on purpose."""

    exit_code = 1
    _limit: int | None = None

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        if self._limit is not None:
            self.diagnostics: list[Diagnostic] = limit_diagnostics(diagnostics or [], self._limit)
        else:
            self.diagnostics = sorted(diagnostics or [], key=Diagnostic.sort_key)
        super().__init__(message)

    @property
    def omitted(self) -> int:
        """How many problems were found beyond those listed (0 when all are listed)."""
        last = self.diagnostics[-1] if self.diagnostics else None
        return last.omitted if isinstance(last, MoreProblems) else 0

    def __str__(self) -> str:
        head = escape(super().__str__())
        if not self.diagnostics:
            return head
        return head + "\n" + "\n".join(str(d) for d in self.diagnostics)


class PackLoadError(PolicyError):
    """A pack could not be read, parsed or validated.

    ``diagnostics`` lists the problems found in position order: all of them, or the first
    :data:`MAX_DIAGNOSTICS` and a last :class:`MoreProblems` (code ``CP112``) saying how many more.
    """

    _limit = MAX_DIAGNOSTICS


class EvidenceError(PolicyError):
    """Evidence does not match the evidence model (unknown field, wrong type, bad date...)."""


class EvaluationError(PolicyError):
    """A valid pack could not be evaluated (e.g. no version of the pack is in force on the date)."""


class TransitionError(PolicyError):
    """A move on an escalation case is not allowed: the diagnostics say which guard, approval or quorum failed."""
