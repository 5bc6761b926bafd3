"""carepolicy: English councils' frameworks for monitoring and escalating concerns about
commissioned adult social care providers, written as declarative YAML policy packs
and evaluated over typed provider evidence.

Load a pack with :func:`load_pack` (or every pack in a folder with :func:`load_packs`),
then :func:`evaluate` it over an :class:`Evidence` as of a date to get a
:class:`Decision` that names every rule, clause, deadline and missing piece of evidence;
:func:`evaluate_stream` runs every pack over a stream of records in flat memory.
"""

from ._version import __version__
from ._bulk import StreamResult, evaluate_stream
from ._diff import PolicyDiff, ProviderChange, diff_packs
from .decision import ActionItem, Decision, DecisionResult
from .engine import PackLibrary, PolicyPack, evaluate
from .errors import Diagnostic, EvaluationError, EvidenceError, PackLoadError, PolicyError, TransitionError
from .evidence import Evidence, evidence_json_schema, parse_evidence
from .lifecycle import Case, CaseEvent, advance, due, open_case, simulate
from .loader import load_pack, load_packs, loads_pack, pack_json_schema

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
