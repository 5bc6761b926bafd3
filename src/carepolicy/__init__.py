"""carepolicy: English councils' frameworks for monitoring and escalating concerns about
commissioned adult social care providers, written as declarative YAML policy packs
and evaluated over typed provider evidence.

Load a pack with :func:`load_pack` (or every pack in a folder with :func:`load_packs`),
then :func:`evaluate` it over an :class:`Evidence` as of a date to get a
:class:`Decision` that names every rule, clause, deadline and missing piece of evidence;
:func:`evaluate_stream` runs every pack over a stream of records in flat memory.
"""

from typing import TYPE_CHECKING, Any

from ._version import __version__

# The names below are imported when first used (PEP 562), so `import carepolicy` and the
# command line start without loading pydantic models they may not need.
_HOMES = {
    "StreamResult": "._bulk", "evaluate_stream": "._bulk",
    "PolicyDiff": "._diff", "ProviderChange": "._diff", "diff_packs": "._diff",
    "ActionItem": ".decision", "Decision": ".decision", "DecisionResult": ".decision",
    "PackLibrary": ".engine", "PolicyPack": ".engine", "evaluate": ".engine",
    "Diagnostic": ".errors", "EvaluationError": ".errors", "EvidenceError": ".errors", "PackLoadError": ".errors",
    "PolicyError": ".errors", "TransitionError": ".errors",
    "Evidence": ".evidence", "evidence_json_schema": ".evidence", "parse_evidence": "._vocabulary",
    "Case": ".lifecycle", "CaseEvent": ".lifecycle", "advance": ".lifecycle", "due": ".lifecycle",
    "open_case": ".lifecycle", "simulate": ".lifecycle",
    "load_pack": ".loader", "load_packs": ".loader", "loads_pack": ".loader", "pack_json_schema": ".loader",
}

if TYPE_CHECKING:
    from ._bulk import StreamResult, evaluate_stream
    from ._diff import PolicyDiff, ProviderChange, diff_packs
    from ._vocabulary import parse_evidence
    from .decision import ActionItem, Decision, DecisionResult
    from .engine import PackLibrary, PolicyPack, evaluate
    from .errors import Diagnostic, EvaluationError, EvidenceError, PackLoadError, PolicyError, TransitionError
    from .evidence import Evidence, evidence_json_schema
    from .lifecycle import Case, CaseEvent, advance, due, open_case, simulate
    from .loader import load_pack, load_packs, loads_pack, pack_json_schema


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'carepolicy' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "__version__",
    "load_pack",
    "loads_pack",
    "load_packs",
    "evaluate",
    "evaluate_stream",
    "StreamResult",
    "diff_packs",
    "PolicyDiff",
    "ProviderChange",
    "parse_evidence",
    "PolicyPack",
    "PackLibrary",
    "Evidence",
    "Decision",
    "DecisionResult",
    "ActionItem",
    "Diagnostic",
    "PolicyError",
    "PackLoadError",
    "EvidenceError",
    "EvaluationError",
    "TransitionError",
    "evidence_json_schema",
    "pack_json_schema",
    "Case",
    "CaseEvent",
    "open_case",
    "advance",
    "due",
    "simulate",
]
