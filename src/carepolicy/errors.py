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

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = [
    "Diagnostic",
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

    @property
    def location(self) -> str:
        """``file:line:col`` (or as much of it as is known)."""
        parts = [self.file or "<input>"]
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


class PolicyError(Exception):
    """Base of every error carepolicy raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        self.diagnostics: list[Diagnostic] = sorted(diagnostics or [], key=Diagnostic.sort_key)
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.diagnostics:
            return head
        return head + "\n" + "\n".join(str(d) for d in self.diagnostics)


class PackLoadError(PolicyError):
    """A pack could not be read, parsed or validated; ``diagnostics`` lists every problem found."""


class EvidenceError(PolicyError):
    """Evidence does not match the evidence model (unknown field, wrong type, bad date...)."""


class EvaluationError(PolicyError):
    """A valid pack could not be evaluated (e.g. no version of the pack is in force on the date)."""


class TransitionError(PolicyError):
    """A move on an escalation case is not allowed: the diagnostics say which guard, approval or quorum failed."""
