"""Move evidence records from layout 1 (one closed model) to layout 2 (shared facts + local findings).

Where each field went is data: every pack input that moved says where it was (``was:``),
so the packs a council uses are the whole migration table. A field no pack reads is
reported, never silently dropped or guessed at.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .engine import PackLibrary, PolicyPack
from .evidence import CqcRatings, Evidence, Provider

__all__ = ["Migration", "migrate_record", "moves"]

# Top-level groups of layout 1 that layout 2 no longer has.
LAYOUT_1_GROUPS = ("assessment", "flags", "improvement_plan", "history")


@dataclass
class Migration:
    """A migrated record and what happened to each field of the old layout."""

    record: dict[str, Any]
    moved: list[tuple[str, str]] = field(default_factory=list)
    """``(old path, new path)`` for every value moved (a value read by several authorities moves to each)."""
    dropped: list[str] = field(default_factory=list)
    """Old paths that no pack reads: not carried over."""
    conflicts: list[str] = field(default_factory=list)
    """New paths that already held a different value, which was kept."""


def moves(packs: PolicyPack | PackLibrary | Iterable[PolicyPack]) -> dict[str, list[str]]:
    """Old path -> the new paths the given packs read it from (from their inputs' ``was:``)."""
    if isinstance(packs, PolicyPack):
        packs = [packs]
    elif isinstance(packs, PackLibrary):
        packs = [p for versions in packs.values() for p in versions]
    out: dict[str, list[str]] = {}
    for p in packs:
        for inp in p.model.inputs:
            spec = p.inputs.get(inp.id)
            if inp.was is None or spec is None or spec.kind == "derived":
                continue
            targets = out.setdefault(inp.was, [])
            if spec.evidence_path not in targets:
                targets.append(spec.evidence_path)
    return {k: sorted(v) for k, v in sorted(out.items())}


def _is_current(path: str) -> bool:
    head, _, rest = path.partition(".")
    models: Mapping[str, Any] = {"provider": Provider, "cqc": CqcRatings}
    if head in models:
        return rest in models[head].model_fields
    return head in Evidence.model_fields and head not in models


def migrate_record(record: Mapping[str, Any], packs: PolicyPack | PackLibrary | Iterable[PolicyPack]) -> Migration:
    """The record in layout 2, with every value of layout 1 moved where the packs now read it."""
    table = moves(packs)
    out: dict[str, Any] = {}
    old: list[tuple[str, Any]] = []
    for key, value in record.items():
        if key in LAYOUT_1_GROUPS and isinstance(value, Mapping):
            old.extend(_leaves(value, key))
        elif key in LAYOUT_1_GROUPS and value is None:
            # the whole group not known: every field the packs read from it is not known
            old.extend((path, None) for path in table if path.startswith(key + "."))
        elif key in ("provider", "cqc") and isinstance(value, Mapping):
            keep = {}
            for k, v in value.items():
                path = f"{key}.{k}"
                if _is_current(path) or path not in table:
                    keep[k] = copy.deepcopy(v)
                else:
                    old.append((path, v))
            out[key] = keep
        else:
            out[key] = copy.deepcopy(value)
    result = Migration(out)
    for path, value in old:
        targets = table.get(path)
        if not targets:
            result.dropped.append(path)
            continue
        for target in targets:
            if _put(out, target, value):
                result.moved.append((path, target))
            else:
                result.conflicts.append(target)
    return result


def _leaves(node: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for k, v in node.items():
        path = f"{prefix}.{k}"
        if isinstance(v, Mapping):
            out.extend(_leaves(v, path))
        else:
            out.append((path, v))
    return out


def _put(record: dict[str, Any], path: str, value: Any) -> bool:
    parts = path.split(".")
    node = record
    for p in parts[:-1]:
        nxt = node.setdefault(p, {})
        if not isinstance(nxt, dict):
            return False
        node = nxt
    last = parts[-1]
    if last in node and node[last] != value:
        return False
    node[last] = copy.deepcopy(value)
    return True

