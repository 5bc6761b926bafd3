"""One spelling of each JSON Schema, whichever pydantic release generated it."""

from __future__ import annotations

from typing import Any

__all__ = ["finish_schema"]

_DRAFT = "https://json-schema.org/draft/2020-12/schema"


def finish_schema(schema: dict[str, Any], title: str) -> dict[str, Any]:
    """Stamp the draft and title, and drop what pydantic releases spell differently but mean alike.

    pydantic 2.7 writes a one-value ``enum`` beside ``const`` and wraps a described
    ``$ref`` in a one-item ``allOf``; 2.11+ writes ``additionalProperties: true`` on
    free-form mappings and a partial ``propertyNames``. Each is redundant or equivalent, so the
    committed schemas stay byte-identical across the dependency range we test.
    """
    out = _canonical(schema)
    assert isinstance(out, dict)
    out["$schema"] = _DRAFT
    out["title"] = title
    return out


def _canonical(node: Any) -> Any:
    if isinstance(node, list):
        return [_canonical(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _canonical(value) for key, value in node.items()}
    if "const" in out and out.get("enum") == [out["const"]]:
        del out["enum"]
    if out.get("additionalProperties") is True:
        del out["additionalProperties"]
    names = out.get("propertyNames")
    if isinstance(names, dict) and "pattern" not in names:
        del out["propertyNames"]  # newer pydantic states only the keys' length; the field states their grammar
    one = out.get("allOf")
    if isinstance(one, list) and len(one) == 1 and isinstance(one[0], dict) and set(one[0]) == {"$ref"} and "$ref" not in out:
        del out["allOf"]  # pydantic < 2.9 wraps a described $ref in allOf; 2020-12 allows it beside the description
        out["$ref"] = one[0]["$ref"]
    return out
