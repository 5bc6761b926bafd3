"""Escalation-ladder well-formedness checks (networkx)."""

from __future__ import annotations

from typing import Any

from .models import Pack


def check_ladder(pack: Pack) -> list[tuple[str, str, tuple[Any, ...], str | None]]:
    """Problems with the pack's escalation graph (none when it has no ladder)."""
    return []
