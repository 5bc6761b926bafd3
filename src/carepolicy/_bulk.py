"""Bulk runs: every pack in force over a stream of provider records, one result at a time.

:func:`evaluate_stream` is a generator end to end: it validates each record once (with
the library's model, so every pack reads the same validated record), evaluates every
pack in force on the as-of date, and yields each result as soon as it is made. Nothing
is held between records, so memory stays flat however many providers are run. A
record that is refused (bad JSON, invalid evidence, an evaluation error for one pack)
becomes one error result naming the record's line and the located problem, and the
run goes on.

JSON Lines are read with a bounded line reader: a line longer than the evidence size
limit is refused as CP405 without being held in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import date
from typing import IO, Any, Literal, Union

from ._vocabulary import MAX_JSON_BYTES
from .decision import Decision, DecisionResult
from .engine import PackLibrary, PolicyPack, _as_date
from .errors import Diagnostic, EvaluationError, EvidenceError, PolicyError
from .evidence import Evidence

__all__ = ["Detail", "DETAILS", "StreamResult", "evaluate_stream", "read_json_lines", "Record"]

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
Detail = Literal["headline", "decisions", "full"]
DETAILS: tuple[Detail, ...] = ("headline", "decisions", "full")
Record = Union[Evidence, Mapping[str, Any], str, bytes]


class StreamResult:
    """One result of a bulk run: one pack's decision for one record, or why a record (or one pack on it) failed.

    ``line`` is the record's line in its JSON Lines input (its position, counting from 1, when
    records come from Python); ``file`` the input it came from, where known.

    At detail ``headline`` the pipeline computes only what the headline line carries; the full
    explained :attr:`decision` is then made when it is first read (the same :class:`Decision`
    ``PolicyPack.evaluate`` gives), so a run that only writes lines never builds it.
    """

    __slots__ = ("line", "provider_id", "pack_id", "error", "file", "detail", "_decision", "_line", "_pending")

    line: int | None
    provider_id: str | None
    pack_id: str | None
    error: PolicyError | None
    file: str | None
    detail: Detail
    _decision: Decision | None
    _line: dict[str, Any] | None
    _pending: tuple[PolicyPack, Evidence, date] | None

    def __init__(self, line: int | None, provider_id: str | None, pack_id: str | None, decision: Decision | None = None,
                 error: PolicyError | None = None, file: str | None = None, detail: Detail = "full", *,
                 headline: dict[str, Any] | None = None, pending: tuple[PolicyPack, Evidence, date] | None = None) -> None:
        put = object.__setattr__
        put(self, "line", line)
        put(self, "provider_id", provider_id)
        put(self, "pack_id", pack_id)
        put(self, "error", error)
        put(self, "file", file)
        put(self, "detail", detail)
        put(self, "_decision", decision)
        put(self, "_line", headline)
        put(self, "_pending", pending)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"StreamResult is read-only: cannot set `{name}`")

    def __repr__(self) -> str:
        return (f"StreamResult(line={self.line!r}, provider_id={self.provider_id!r}, pack_id={self.pack_id!r}, "
                f"detail={self.detail!r}, ok={self.ok!r})")

    @property
    def decision(self) -> Decision | None:
        """The full explained decision (``None`` for an error result)."""
        if self._decision is None and self._pending is not None:
            pack, evidence, day = self._pending
            object.__setattr__(self, "_decision", pack.evaluate(evidence, day))
            object.__setattr__(self, "_pending", None)
        return self._decision

    @property
    def ok(self) -> bool:
        """True for a decision, false for a refused record or a pack that could not evaluate it."""
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        """This result as plain JSON data, at its detail (``full`` is the :class:`Decision` itself)."""
        if self.error is not None:
            return self._error_dict()
        if self.detail == "full":
            decision = self.decision
            assert decision is not None
            return decision.model_dump(mode="json")
        if self._line is not None and self.detail == "headline":
            out = self._where()
            out.update(self._line)
            return out
        return self._summary()

    def to_json(self) -> str:
        """One line of JSON (no newline): at detail ``full``, exactly ``Decision.model_dump_json()``."""
        if self.error is None and self.detail == "full":
            decision = self.decision
            assert decision is not None
            return decision.model_dump_json()
        return _ENCODE(self.to_dict())

    def _where(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.file is not None:
            out["file"] = self.file
        if self.line is not None:
            out["line"] = self.line
        return out

    def _error_dict(self) -> dict[str, Any]:
        assert self.error is not None
        out = self._where()
        out["provider_id"] = self.provider_id
        if self.pack_id is not None:
            out["pack"] = self.pack_id
        message = self.error.args[0] if self.error.args else str(self.error)
        out["error"] = {"message": str(message), "diagnostics": [d.to_dict() for d in self.error.diagnostics]}
        return out

    def _summary(self) -> dict[str, Any]:
        d = self.decision
        assert d is not None
        h = d.headline
        out = self._where()
        out.update({
            "provider_id": d.provider_id, "pack": d.pack.id, "version": d.pack.version, "as_of": d.as_of.isoformat(),
            "status": d.status, "headline": h.id, "value": h.value, "label": h.label, "severity": d.severity,
            "judgement": d.judgement, "missing": list(h.missing), "at_least": _bound(h, "at_least"),
            "at_most": _bound(h, "at_most"),
        })
        if self.detail == "decisions":
            out["decisions"] = [
                {"id": r.id, "status": r.status, "value": r.value, "label": r.label, "severity": r.severity,
                 "rules": list(r.rules), "sources": list(r.sources), "missing": list(r.missing),
                 "at_least": _bound(r, "at_least"), "at_most": _bound(r, "at_most")}
                for r in d.decisions
            ]
            out["actions"] = [
                {"id": a.id, "kind": a.kind, "due": a.due.isoformat() if a.due else None, "certain": a.certain}
                for a in (*d.actions, *d.approvals)
            ]
            out["out_of_scope"] = list(d.out_of_scope)
        return out


def _bound(result: DecisionResult, end: str) -> str | None:
    """An open decision's best (``at_least``) or worst (``at_most``) value still possible; None when decided."""
    if result.bounds is None or result.status == "decided":
        return None
    value: str | None = getattr(result.bounds, end)
    return value


def evaluate_stream(
    packs: PackLibrary | PolicyPack | Iterable[PolicyPack],
    records: Iterable[Record | tuple[int, Record]],
    as_of: date | str,
    *,
    detail: Detail = "full",
) -> Iterator[StreamResult]:
    """Evaluate every pack in force on ``as_of`` over each record, lazily, in order.

    ``records`` is any iterable (a generator reading a file is fine) of evidence records
    (an :class:`Evidence`, a dict, or JSON text or bytes), or of ``(line, record)`` pairs
    to number them yourself. Each record is validated once with the library's model and
    then read by every pack in force; for each record the generator yields one
    :class:`StreamResult` per pack, or a single error result when the record is refused.
    Nothing is kept between records, so memory does not grow with the number of records.

    ``detail`` says how much of each decision :meth:`StreamResult.to_json` writes: the
    ``headline`` (value, severity, status), every ``decisions``' value with the rules and
    clauses behind it, or the ``full`` explained :class:`Decision` with its trace.

    Raises :class:`EvaluationError` at once (before any record is read) when no pack has
    a version in force on ``as_of``, or when ``detail`` is not a known level.
    """
    library = packs if isinstance(packs, PackLibrary) else PackLibrary([packs] if isinstance(packs, PolicyPack) else packs)
    day = _as_date(as_of)
    active = _in_force(library, day)
    if not active:
        raise EvaluationError(f"no pack has a version in force on {day.isoformat()}")
    if detail not in DETAILS:
        raise EvaluationError(f"detail `{detail}` is not one of {', '.join(DETAILS)}")
    numbered = (item if isinstance(item, tuple) else (n, item) for n, item in enumerate(records, 1))
    return _stream(library, active, numbered, day, detail, None)


def _in_force(library: PackLibrary, day: date) -> list[PolicyPack]:
    out = []
    for pack_id in library:
        for p in library[pack_id]:
            if p.in_force(day):
                out.append(p)
                break
    return out


def _stream(library: PackLibrary, active: list[PolicyPack], records: Iterable[tuple[int | None, Any]], day: date,
            detail: Detail, file: str | None) -> Iterator[StreamResult]:
    """The pipeline: ``records`` may carry a :class:`PolicyError` in place of a record (a line refused while reading)."""
    parse = library.parse_evidence
    source = file
    lean = detail == "headline"
    for line, record in records:
        if isinstance(record, PolicyError):
            yield StreamResult(line, None, None, error=_at_line(record, file, line), file=file, detail=detail)
            continue
        try:
            evidence = parse(record, source=source)
        except EvidenceError as exc:
            yield StreamResult(line, _provider_id(record), None, error=_at_line(exc, file, line), file=file, detail=detail)
            continue
        provider_id = evidence.provider.id
        for pack in active:
            try:
                if lean:
                    line_data = pack._headline_line(evidence, day)
                    if line_data is not None:
                        yield StreamResult(line, provider_id, pack.id, file=file, detail=detail, headline=line_data,
                                           pending=(pack, evidence, day))
                        continue
                decision = pack.evaluate(evidence, day)
            except EvaluationError as exc:
                yield StreamResult(line, provider_id, pack.id, error=_at_line(exc, file, line), file=file, detail=detail)
                continue
            yield StreamResult(line, provider_id, pack.id, decision=decision, file=file, detail=detail)


def _at_line(exc: PolicyError, file: str | None, line: int | None) -> PolicyError:
    """The error with each diagnostic located at the record's line of its JSON Lines file."""
    if line is None:
        return exc
    moved = [replace(d, file=d.file or file, line=line, col=d.col if d.line == 1 else None) for d in exc.diagnostics]
    message = exc.args[0] if exc.args else str(exc)
    return type(exc)(f"line {line}: {message}", moved)


def _provider_id(record: Any) -> str | None:
    """The provider id of a refused record, where it can be read (for the error line)."""
    data = record
    if isinstance(record, (bytes, str)):
        try:
            data = json.loads(record)
        except (ValueError, RecursionError):
            return None
    if isinstance(data, Evidence):
        return data.provider.id
    if isinstance(data, Mapping):
        provider = data.get("provider")
        if isinstance(provider, Mapping) and isinstance(provider.get("id"), str):
            return str(provider["id"])[:500]
    return None


# ----------------------------------------------------------------- reading JSON Lines


def read_json_lines(stream: IO[bytes], *, file: str | None = None,
                    limit: int = MAX_JSON_BYTES) -> Iterator[tuple[int, bytes | EvidenceError]]:
    """Each non-blank line of a JSON Lines stream with its line number, never holding more than ``limit`` bytes.

    A line longer than ``limit`` is skipped to its end and given as a located CP405 error instead.
    """
    number = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            size = len(line)
            while True:  # skip the rest of the line, a chunk at a time
                chunk = stream.readline(1 << 20)
                size += len(chunk)
                if not chunk or chunk.endswith(b"\n"):
                    break
            yield number, EvidenceError("evidence line is too large", [Diagnostic(
                code="CP405", file=file, line=number, path="$",
                message=f"the line is {size:,} bytes, larger than the {limit:,}-byte limit for one record",
                hint="write one provider's record per line")])
            continue
        if line.strip():
            yield number, line
