"""Load packs: strict YAML, then the pack schema, then semantic and graph checks, then compile.

Every failure on the way becomes a :class:`PackLoadError` whose diagnostics give
file:line:column, the path inside the pack, what was expected and a hint. All
problems found at one stage are reported together.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import models
from ._check import check_pack
from ._jsonschema import finish_schema
from ._suggest import did_you_mean
from ._yaml import Positions, format_path, read_yaml
from .engine import PackLibrary, PolicyPack
from .errors import Diagnostic, PackLoadError
from .models import CONDITION_TAGS, Pack

__all__ = ["load_pack", "loads_pack", "load_packs", "pack_json_schema"]

MAX_PACK_BYTES = 1_048_576
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SKIP_TAGS = set(CONDITION_TAGS) | {"bands", "table"}


def load_pack(path: str | os.PathLike[str], *, sha256: str | None = None) -> PolicyPack:
    """Read, check and compile one pack file. Raises :class:`PackLoadError` with every problem found.

    With ``sha256`` (the hex digest of the file's bytes) a file whose hash differs is refused
    before it is parsed (``CP112``), so a caller can prove which pack decided.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            data = fh.read(MAX_PACK_BYTES + 1)
    except OSError as exc:
        raise PackLoadError(f"cannot read pack {name}", [
            Diagnostic(code="CP100", message=f"cannot read the file: {exc.strerror or exc}".lower(), file=name,
                       hint="check the path and that the file is readable")
        ]) from None
    return loads_pack(data, name, sha256=sha256)


def loads_pack(data: bytes | str, filename: str = "<string>", *, sha256: str | None = None) -> PolicyPack:
    """Check and compile a pack from its text or bytes (the hash is of the UTF-8 bytes).

    With ``sha256``, bytes whose hash differs are refused before they are parsed (``CP112``).
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if sha256 is not None:
        pinned = normalise_sha256(sha256)
        actual = hashlib.sha256(raw).hexdigest()
        if actual != pinned:
            raise PackLoadError(f"{filename}: the pack is not the pinned one", [_pin_mismatch(filename, actual, pinned)])
    parsed, positions = read_yaml(raw, filename, max_bytes=MAX_PACK_BYTES)
    model = parse_pack(parsed, positions, filename, raw.decode("utf-8", errors="replace"))
    return PolicyPack(model, hashlib.sha256(raw).hexdigest(), filename)


def normalise_sha256(text: str) -> str:
    """A pinned hash as 64 lower-case hex digits (``sha256:`` prefix and case are forgiven); ValueError otherwise."""
    if not isinstance(text, str):
        raise TypeError(f"a sha256 pin is text, not {type(text).__name__}")
    value = text.strip().lower().removeprefix("sha256:")
    if not _SHA256.fullmatch(value):
        raise ValueError(f"`{text}` is not a sha256 digest (64 hex digits)")
    return value


def _pin_mismatch(filename: str | None, actual: str, pinned: str) -> Diagnostic:
    return Diagnostic(
        code="CP112", file=filename, path="$",
        message=f"the file's sha256 is `{actual}`, not the pinned `{pinned}`",
        expected=f"the pack whose sha256 is {pinned}",
        hint="the pack changed since it was pinned: check the change, then pin the new hash "
             "(`carepolicy validate --format json` prints it)",
    )


def pin_diagnostics(packs: Iterable[PolicyPack], pins: dict[str, str], source: str | None = None) -> list[Diagnostic]:
    """Problems with loaded packs against pins keyed by pack id or ``id@version`` (hashes already normalised).

    A pack whose hash differs from its pin gives ``CP112``; a pin that names no loaded pack
    gives ``CP113``, so a misspelt id never pins nothing in silence.
    """
    out: list[Diagnostic] = []
    used: set[str] = set()
    for pack in packs:
        for key in (f"{pack.id}@{pack.version}", pack.id):
            if key in pins:
                used.add(key)
                if pack.sha256 != pins[key]:
                    out.append(_pin_mismatch(pack.file, pack.sha256, pins[key]))
                break
    for key in sorted(set(pins) - used):
        out.append(Diagnostic(
            code="CP113", file=source, path="$", message=f"pinned pack `{key}` is not among the packs loaded",
            hint="check the pack id (and `@version`) in the pin, and the packs given",
        ))
    return out


def parse_pack(data: Any, positions: Positions, filename: str, text: str | None = None) -> Pack:
    """Validate plain data into a :class:`Pack` and run every static check on it."""
    try:
        model = Pack.model_validate(data)
    except ValidationError as exc:
        diags = schema_diagnostics(exc, data, positions, filename, text)
        raise PackLoadError(f"{filename}: the pack does not match the pack format", diags) from None
    except RecursionError:
        raise PackLoadError(f"{filename}: nesting too deep", [
            Diagnostic(code="CP107", message="conditions nest too deeply", file=filename, line=1, col=1)
        ]) from None
    problems = list(check_pack(model))
    if not problems:
        from ._graph import check_ladder

        problems = list(check_ladder(model))
    if problems:
        diags = []
        for code, message, path, *rest in problems:
            hint = rest[0] if rest else None
            mark = positions.value(path)
            diags.append(Diagnostic(code=code, message=_printable(message), file=filename,
                                    line=mark.line if mark else None, col=mark.col if mark else None,
                                    path=format_path(path), hint=hint))
        raise PackLoadError(f"{filename}: {len(diags)} problem(s) in the pack", _dedupe(diags))
    return model


def load_packs(directory: str | os.PathLike[str], pattern: str = "*.yaml") -> PackLibrary:
    """Load every pack in a directory (not its ``*.tests.yaml`` files); all errors are reported together."""
    root = Path(directory)
    if not root.is_dir():
        raise PackLoadError(f"{root} is not a directory", [
            Diagnostic(code="CP100", message="not a directory", file=str(root))
        ])
    files = sorted(p for p in root.glob(pattern) if not p.name.endswith(".tests.yaml"))
    return load_pack_files(files)


def load_pack_files(files: Iterable[str | os.PathLike[str]]) -> PackLibrary:
    packs: list[PolicyPack] = []
    diags: list[Diagnostic] = []
    for f in files:
        try:
            packs.append(load_pack(f))
        except PackLoadError as exc:
            diags.extend(exc.diagnostics)
    diags.extend(_overlapping_versions(packs))
    if diags:
        raise PackLoadError(f"{len(diags)} problem(s) loading packs", diags)
    return PackLibrary(packs)


def _overlapping_versions(packs: list[PolicyPack]) -> list[Diagnostic]:
    out = []
    by_id: dict[str, list[PolicyPack]] = {}
    for p in packs:
        by_id.setdefault(p.id, []).append(p)
    for pack_id, versions in by_id.items():
        versions.sort(key=lambda p: p.model.pack.effective_from)
        for a, b in zip(versions, versions[1:]):
            end = a.model.pack.effective_to
            if end is None or end >= b.model.pack.effective_from:
                mark = _mark_in_file(b.file, ("pack", "effective_from"))
                out.append(Diagnostic(
                    code="CP220", file=b.file, path="pack.effective_from",
                    line=mark.line if mark else None, col=mark.col if mark else None,
                    message=f"pack `{pack_id}` v{b.version} starts {b.model.pack.effective_from} while "
                            f"v{a.version} ({a.file}) is still in force",
                    hint=f"set `effective_to` on v{a.version} to the day before",
                ))
    return out


def _mark_in_file(file: str | None, path: tuple[Any, ...]) -> Any:
    """Where ``path`` is in a pack file that already loaded (for errors found across files)."""
    if file is None:
        return None
    try:
        _, positions = read_yaml(Path(file).read_bytes(), file, max_bytes=MAX_PACK_BYTES)
    except (OSError, PackLoadError):
        return None
    return positions.value(path)


# ----------------------------------------------------------------- pydantic errors -> located diagnostics

_MESSAGES = {
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "string_type": "expected text",
    "bool_type": "expected `true` or `false`",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys to values",
    "dict_type": "expected a mapping of keys to values",
    "finite_number": "numbers must be finite (no `.inf` or `.nan`)",
    "date_type": "expected a date written YYYY-MM-DD",
    "condition": "a condition must be a mapping such as `{input: risk_score, at_least: 20}`",
}


def _walk(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, bool]:
    """Follow a pydantic ``loc`` through the data, dropping union tags; return (path, node, found)."""
    path: list[Any] = []
    node = data
    items = list(loc)
    i = 0
    while i < len(items):
        part = items[i]
        if isinstance(node, dict):
            nxt = items[i + 1] if i + 1 < len(items) else None
            # pydantic puts the tag of a union member in `loc`; it is not a key of the document
            if part in _SKIP_TAGS and (part not in node or (isinstance(nxt, str) and nxt in node)):
                i += 1
                continue
            if part in node:
                path.append(part)
                node = node[part]
                i += 1
                continue
            return tuple(path) + tuple(items[i:]), node, False
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
            i += 1
            continue
        return tuple(path) + tuple(items[i:]), node, False
    return tuple(path), node, True


_MEMBERS = {"int", "float", "bool", "str", "date"}
_TAG_MODELS = {"test": "Test", "all": "AllOf", "any": "AnyOf", "not": "NotOf", "count_events": "CountEvents",
               "bands": "BandsDecision", "table": "TableDecision"}


def schema_diagnostics(exc: ValidationError, data: Any, positions: Positions, filename: str,
                       text: str | None = None) -> list[Diagnostic]:
    """pydantic's errors as located diagnostics, one per place (a union's members are merged)."""
    groups: dict[tuple[Any, ...], list[tuple[Any, list[str]]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        members: list[str] = []
        while loc and isinstance(loc[-1], str) and (loc[-1] in _MEMBERS or loc[-1].startswith("list[")):
            members.append(loc[-1])
            loc = loc[:-1]
        groups.setdefault(loc, []).append((err, members))
    lines = text.splitlines() if text is not None else None
    fits: dict[int, list[tuple[set[str], int, set[str]]]] = {}  # per parent mapping, so many unknown keys stay linear
    out = []
    for loc, items in groups.items():
        if any(m for _, m in items):
            out.append(_union_diagnostic(loc, items, data, positions, filename, lines))
        else:
            out.extend(_from_pydantic(err, data, positions, filename, lines, fits) for err, _ in items)
    return _dedupe(out)


def _source_text(lines: list[str] | None, mark: Any) -> str | None:
    """The scalar as written in the file at ``mark`` (so `1.10` is not shown as `1.1`)."""
    if lines is None or mark is None or not 0 < mark.line <= len(lines):
        return None
    rest = lines[mark.line - 1][mark.col - 1:]
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        return rest[: end + 1] if end > 0 else None
    for i, ch in enumerate(rest):
        if ch in ",}]" or (ch == "#" and i and rest[i - 1] == " "):
            rest = rest[:i]
            break
    return rest.strip() or None


def _locate(data: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], Any, tuple[Any, ...]]:
    """(path in the document, node there, deepest existing prefix)."""
    path, node, _ = _walk(data, loc)
    prefix: tuple[Any, ...] = ()
    probe = data
    for part in path:
        if isinstance(probe, dict) and part in probe:
            probe = probe[part]
        elif isinstance(probe, list) and isinstance(part, int) and 0 <= part < len(probe):
            probe = probe[part]
        else:
            break
        prefix += (part,)
    return path, node, prefix


def _union_diagnostic(loc: tuple[Any, ...], items: list[tuple[Any, list[str]]], data: Any, positions: Positions,
                      filename: str, lines: list[str] | None) -> Diagnostic:
    path, node, prefix = _locate(data, loc)
    mark = positions.value(prefix)
    shown = _source_text(lines, mark) or _show(node)
    members = {m for _, ms in items for m in ms}
    types = {err["type"] for err, _ in items}
    hint = None
    if "finite_number" in types:
        message = f"numbers must be finite, found `{shown}`"
    elif isinstance(node, list):
        message = "expected a single value, found a list"
        hint = "to test several values use `in:` (or `not_in:`)"
    elif isinstance(node, dict):
        message = "expected a single value, found a mapping"
    elif members <= {"int", "float"}:
        message = f"expected a number, found `{shown}`"
        if isinstance(node, str):
            hint = "write the number without quotes"
    else:
        message = f"expected text, a number or true/false, found `{shown}`"
    return Diagnostic(code="CP201", message=_printable(message), file=filename, line=mark.line if mark else None,
                      col=mark.col if mark else None, path=format_path(path), hint=hint)


def _from_pydantic(err: Any, data: Any, positions: Positions, filename: str, lines: list[str] | None = None,
                   fits: dict[int, list[tuple[set[str], int, set[str]]]] | None = None) -> Diagnostic:
    loc = tuple(err["loc"])
    path, node, prefix = _locate(data, loc)
    etype = err["type"]
    message = _MESSAGES.get(etype)
    expected = None
    hint = None
    key_name = path[-1] if path else "$"
    if etype == "invalid_key":
        # pydantic names the key in `loc` (as text when it was null): find the key node itself
        path, parent, _ = _locate(data, loc[:-1])
        key = loc[-1]
        if isinstance(parent, dict):
            key = next((k for k in parent if not isinstance(k, str) and (k == key or str(k) == str(key))), key)
        path = path + (key,)
        message = f"keys must be text, found `{_show(key)}`"
        mark = positions.key(path)
        hint = "put the key in quotes"
    elif etype == "missing":
        message = f"missing required key `{key_name}`"
        mark = positions.value(prefix)
        hint = _missing_hint(str(key_name))
    elif etype == "extra_forbidden":
        parent = _parent_node(data, prefix[:-1])
        tag = loc[-2] if len(loc) >= 2 and isinstance(loc[-2], str) and loc[-2] in _TAG_MODELS else None
        allowed = _allowed_keys(parent, str(key_name), tag, {} if fits is None else fits)
        message = f"unknown key `{_show(key_name)}`"
        hint = did_you_mean(str(key_name), allowed)
        mark = positions.key(prefix)
    else:
        mark = positions.value(prefix)
        shown = _source_text(lines, mark) if not isinstance(node, (dict, list)) else None
        shown = shown or _show(node)
        if etype == "literal_error":
            expected_text = err.get("ctx", {}).get("expected", "")
            message = f"`{shown}` is not allowed here"
            expected = f"one of {expected_text}"
            choices = [c.strip().strip("'") for c in expected_text.replace(" or ", ",").split(",") if c.strip()]
            hint = did_you_mean(str(node), choices)
        elif etype == "string_pattern_mismatch":
            message = f"`{shown}` is not in the right form"
            hint = _pattern_hint(path, node, shown)
        elif etype == "value_error":
            said = str(err["msg"]).removeprefix("Value error, ")
            message = said
            # point at the key the message names, when the node has it
            if isinstance(node, dict):
                for name in re.findall(r"`([a-z_]+)`", said):
                    if name in node:
                        mark = positions.value(prefix + (name,)) or mark
                        path = path + (name,)
                        break
        elif etype == "string_type" and node is not None:
            message = f"expected text, found `{shown}`"
            if not isinstance(node, (dict, list)):
                hint = f"put it in quotes: `\"{shown}\"`"
        elif etype == "string_type":
            message = "expected text, found `null`"
        elif etype in ("union_tag_invalid", "union_tag_not_found"):
            tag = err.get("ctx", {}).get("tag")
            if isinstance(node, dict) and "kind" in node:
                mark = positions.value(prefix + ("kind",)) or mark
                path = path + ("kind",)
            if etype == "union_tag_invalid":
                written = node.get("kind", tag) if isinstance(node, dict) else tag
                message = f"`kind: {_show(written)}` is not a kind of decision"
                hint = did_you_mean(str(tag), ["bands", "table"]) or "use `kind: bands` or `kind: table`"
            else:
                message = "a decision needs `kind: bands` or `kind: table`"
        elif message is None:
            message = err["msg"][:1].lower() + err["msg"][1:]
        elif etype in ("int_type", "float_type", "bool_type", "date_type"):
            message = f"{message}, found `{shown}`"
    if etype in ("too_short", "too_long"):
        message = err["msg"][:1].lower() + err["msg"][1:]
    return Diagnostic(
        code="CP201", message=_printable(message if message is not None else str(err["msg"])), file=filename,
        line=mark.line if mark else None, col=mark.col if mark else None,
        path=format_path(path), expected=expected, hint=hint,
    )


def _printable(text: str) -> str:
    """One printable line: a key or value holding a line break or a control character shows it escaped."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show(node: Any) -> str:
    text = "true" if node is True else "false" if node is False else "null" if node is None else str(node)
    return text if len(text) <= 40 else text[:37] + "..."


def _parent_node(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for p in path:
        node = node[p]
    return node


def _all_models() -> list[type[BaseModel]]:
    """The models a YAML mapping may stand for: the pack's, and those of tests files and walks once loaded."""
    import sys

    out = []
    for name in ("carepolicy.models", "carepolicy.policytest", "carepolicy.lifecycle"):
        module = sys.modules.get(name)
        if module is None:
            continue
        out += [m for m in vars(module).values() if isinstance(m, type) and issubclass(m, BaseModel)
                and m.__module__ == name and not m.__name__.startswith("_")]
    return out


def _aliases(model: type[BaseModel]) -> set[str]:
    return {f.alias or name for name, f in model.model_fields.items()}


def _allowed_keys(parent: Any, bad: str, tag: str | None = None,
                  fits: dict[int, list[tuple[set[str], int, set[str]]]] | None = None) -> list[str]:
    """The keys valid where ``bad`` was written: those of the model that best fits the other keys.

    Per parent mapping, each model's key names and the parent's keys it lacks are worked out once
    (``fits``), so a mapping with many unknown keys costs linear time, not quadratic.
    """
    if tag is not None:
        return sorted(_aliases(getattr(models, _TAG_MODELS[tag])))
    if not isinstance(parent, dict):
        return []
    cache = {} if fits is None else fits
    if id(parent) not in cache:
        keys = set(parent)
        # a model lacking two or more of the parent's keys can never fit once one bad key is set aside
        cache[id(parent)] = [(names, len(keys & names), strangers) for names in map(_aliases, _all_models())
                             if len(strangers := keys - names) <= 1]
    best: set[str] = set()
    best_score = -1
    for names, shared, strangers in cache[id(parent)]:
        # the other keys fit this model when the only key it lacks is (at most) the bad one
        if not strangers <= {bad}:
            continue
        score = (shared - (bad in names)) * 100 - len(names)
        if score > best_score:
            best, best_score = names, score
    return sorted(best)


def _missing_hint(key: str) -> str | None:
    if key == "source":
        return "cite the clause of the council's document this encodes, e.g. `source: \"§4.0 para 3\"`"
    if key == "id":
        return "give it a lower-case id such as `qpip-1`"
    return None


def _pattern_hint(path: tuple[Any, ...], node: Any = None, shown: str = "") -> str | None:
    last = path[-1] if path else ""
    if last == "version":
        return "write a version in quotes, e.g. `version: \"2.0.0\"`"
    if last == "path":
        return "a dotted path of evidence fields, e.g. `assessment.risk_profile_score`"
    if last == "from":
        return "`as_of` or the id of a date input"
    return "ids are lower-case letters, digits, `_` and `-`, starting with a letter, e.g. `qpip-1`"


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.line, d.col, d.code, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def pack_json_schema() -> dict[str, Any]:
    """JSON Schema of the pack format, for editors (`# yaml-language-server: $schema=...`)."""
    return finish_schema(Pack.model_json_schema(by_alias=True), "carepolicy policy pack")
