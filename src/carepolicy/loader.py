"""Load packs: strict YAML, then the pack schema, then semantic and graph checks, then compile.

Every failure on the way becomes a :class:`PackLoadError` whose diagnostics give
file:line:column, the path inside the pack, what was expected and a hint. All
problems found at one stage are reported together.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import models
from ._check import check_pack
from ._jsonschema import finish_schema
from ._suggest import did_you_mean
from ._yaml import Positions, encode_text, format_path, raise_too_big, read_yaml
from .engine import PackLibrary, PolicyPack
from .errors import MAX_DIAGNOSTICS, Diagnostic, PackLoadError, more_problems
from .models import CONDITION_TAGS, Pack

__all__ = ["load_pack", "loads_pack", "load_packs", "pack_json_schema"]

MAX_PACK_BYTES = 1_048_576
_SHA256 = re.compile(r"[0-9a-f]{64}")
_SKIP_TAGS = set(CONDITION_TAGS) | {"bands", "table", "scalar", "input_ref", "operand_input", "operand_number",
                                     "operand_arithmetic"}


def load_pack(path: str | os.PathLike[str], *, sha256: str | None = None) -> PolicyPack:
    """Read, check and compile one pack file. Raises :class:`PackLoadError` with every problem found.

    With ``sha256`` (the hex digest of the file's bytes) a file whose hash differs is refused
    before it is parsed (``CP114``), so a caller can prove which pack decided.
    """
    name = os.fspath(path)
    return loads_pack(read_file(name, MAX_PACK_BYTES), name, sha256=sha256)


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (fifo)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def read_file(name: str, max_bytes: int | None = MAX_PACK_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (None: any size); else a :class:`PackLoadError` (CP100, CP102).

    Never blocks and never reads more than ``max_bytes + 1`` bytes: the file is opened
    without waiting for a writer (a fifo), and what it is and how big it is come from
    ``fstat`` before any byte is read, so ``/dev/zero``, a fifo or a 10 GB file cost nothing.
    """
    def cannot(message: str, hint: str) -> PackLoadError:
        return PackLoadError(f"cannot read {name}", [Diagnostic(code="CP100", message=message, file=name, hint=hint)])

    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise cannot(f"cannot read the file: {exc.strerror or exc}".lower(),
                     "check the path and that the file is readable") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((what for test, what in _KINDS if test(info.st_mode)), "not a regular file")
            raise cannot(f"cannot read the file: it is {kind}, not a regular file",
                         "give the path of a pack file" if kind != "a directory" else
                         "give the path of a pack file (`carepolicy validate` also takes directories)")
        if max_bytes is None:
            with os.fdopen(os.dup(fd), "rb") as fh:
                return fh.read()
        if info.st_size > max_bytes:
            raise_too_big(name, info.st_size, max_bytes)
        chunks: list[bytes] = []
        got = 0
        while got <= max_bytes:
            chunk = os.read(fd, max_bytes + 1 - got)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > max_bytes:  # it grew after fstat: say how big it is now
            raise_too_big(name, max(os.fstat(fd).st_size, got), max_bytes)
        return b"".join(chunks)
    except OSError as exc:
        raise cannot(f"cannot read the file: {exc.strerror or exc}".lower(),
                     "check the path and that the file is readable") from None
    finally:
        os.close(fd)


def loads_pack(data: bytes | str, filename: str = "<string>", *, sha256: str | None = None) -> PolicyPack:
    """Check and compile a pack from its text or bytes (the hash is of the UTF-8 bytes).

    With ``sha256``, bytes whose hash differs are refused before they are parsed (``CP114``).
    """
    raw = encode_text(data, filename) if isinstance(data, str) else data
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
        code="CP114", file=filename, path="$",
        message=f"the file's sha256 is `{actual}`, not the pinned `{pinned}`",
        expected=f"the pack whose sha256 is {pinned}",
        hint="the pack changed since it was pinned: check the change, then pin the new hash "
             "(`carepolicy validate --format json` prints it)",
    )


def pin_diagnostics(packs: Iterable[PolicyPack], pins: dict[str, str], source: str | None = None) -> list[Diagnostic]:
    """Problems with loaded packs against pins keyed by pack id or ``id@version`` (hashes already normalised).

    A pack whose hash differs from its pin gives ``CP114``; a pin that names no loaded pack
    gives ``CP115``, so a misspelt id never pins nothing in silence.
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
            code="CP115", file=source, path="$", message=f"pinned pack `{key}` is not among the packs loaded",
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
        _, positions = read_yaml(read_file(file), file, max_bytes=MAX_PACK_BYTES)
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
    tag_skipped = False
    while i < len(items):
        part = items[i]
        if isinstance(part, str) and part in _SKIP_TAGS and not isinstance(node, dict):
            i += 1  # a union member's tag on a list or a scalar
            continue
        if isinstance(node, dict):
            # pydantic puts the tag of the union member it tried (`bands`, `all`, `test`...) in `loc`
            # right before that member's fields; it is not a key of the document, even where a field
            # has the same name (`bands` of a bands decision). The tag is the node's own.
            if not tag_skipped and part in _SKIP_TAGS and (part == node.get("kind") or part == models._condition_tag(node)):
                tag_skipped = True  # once: what follows is a field of the member, even `bands` itself
                i += 1
                continue
            if part in node:
                path.append(part)
                node = node[part]
                tag_skipped = False
                i += 1
                continue
            return tuple(path) + tuple(items[i:]), node, False
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
            tag_skipped = False
            i += 1
            continue
        return tuple(path) + tuple(items[i:]), node, False
    return tuple(path), node, True


_MEMBERS = {"int", "float", "bool", "str", "constrained-str", "date"}
_TAG_MODELS = {"test": "Test", "all": "AllOf", "any": "AnyOf", "not": "NotOf", "count_events": "CountEvents",
               "bands": "BandsDecision", "table": "TableDecision"}


def schema_diagnostics(exc: ValidationError, data: Any, positions: Positions, filename: str,
                       text: str | None = None) -> list[Diagnostic]:
    """pydantic's errors as located diagnostics, one per place (a union's members are merged).

    The cost is bounded however many errors there are (10,000 unknown keys, say): each is
    placed cheaply, and only the first :data:`MAX_DIAGNOSTICS` (by position) are worded;
    the rest are counted in one last :class:`~carepolicy.errors.MoreProblems`.
    """
    groups: dict[tuple[Any, ...], list[tuple[Any, list[str]]]] = {}
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        members: list[str] = []
        while loc and isinstance(loc[-1], str) and (loc[-1] in _MEMBERS or loc[-1].startswith("list[")):
            members.append(loc[-1])
            loc = loc[:-1]
        groups.setdefault(loc, []).append((err, members))
    ctx = _Context(data, positions, filename, text.splitlines() if text is not None else None)
    placed = []
    for loc, items in groups.items():
        path, _, prefix = _locate(data, loc)
        extra = not any(m for _, m in items) and all(err["type"] == "extra_forbidden" for err, _ in items)
        if extra:
            ctx.unknown.setdefault(prefix[:-1], set()).add(path[-1] if path else None)
        mark = positions.key(prefix) if extra else positions.value(prefix)
        placed.append(((mark.line, mark.col) if mark else (0, 0), loc, items))
    placed.sort(key=lambda p: p[0])
    out: list[Diagnostic] = []
    seen: set[tuple[Any, ...]] = set()
    for n, (_, loc, items) in enumerate(placed):
        if len(out) > MAX_DIAGNOSTICS:  # one more than are listed: it places the summary
            rest = sum(1 if any(m for _, m in its) else len(its) for _, _, its in placed[n:])
            out.append(more_problems(out[-1], rest))
            break
        if any(m for _, m in items):
            found = [_union_diagnostic(loc, items, ctx)]
        else:
            found = [_from_pydantic(err, ctx) for err, _ in items]
        for d in found:
            key = (d.line, d.col, d.code, d.message)
            if key not in seen:
                seen.add(key)
                out.append(d)
    return out


class _Context:
    """What wording pydantic's errors needs: the document, its positions and lines, and the unknown keys by mapping."""

    __slots__ = ("data", "positions", "filename", "lines", "unknown", "allowed")

    def __init__(self, data: Any, positions: Positions, filename: str, lines: list[str] | None) -> None:
        self.data = data
        self.positions = positions
        self.filename = filename
        self.lines = lines
        self.unknown: dict[tuple[Any, ...], set[Any]] = {}
        self.allowed: dict[tuple[tuple[Any, ...], str | None], list[str]] = {}


def _source_text(lines: list[str] | None, mark: Any) -> str | None:
    """The scalar as written in the file at ``mark`` (so `1.10` is not shown as `1.1`)."""
    if lines is None or mark is None or not 0 < mark.line <= len(lines):
        return None
    rest = lines[mark.line - 1][mark.col - 1: mark.col + 80]  # never more: a line may be a megabyte long
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        rest = rest[: end + 1] if end > 0 else ""
    else:
        for i, ch in enumerate(rest):
            if ch in ",}]" or (ch == "#" and i and rest[i - 1] == " "):
                rest = rest[:i]
                break
    rest = rest.strip()
    return rest if 0 < len(rest) <= 40 else None


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


def _union_diagnostic(loc: tuple[Any, ...], items: list[tuple[Any, list[str]]], ctx: _Context) -> Diagnostic:
    path, node, prefix = _locate(ctx.data, loc)
    mark = ctx.positions.value(prefix)
    shown = _source_text(ctx.lines, mark) or _show(node)
    members = {m for _, ms in items for m in ms}
    types = {err["type"] for err, _ in items}
    hint = None
    if "string_too_long" in types and isinstance(node, str):
        limit = next(err.get("ctx", {}).get("max_length", 0) for err, _ in items if err["type"] == "string_too_long")
        message = f"text is {len(node):,} characters, longer than the {limit:,} allowed"
        hint = f"shorten it to {limit:,} characters or fewer"
    elif "finite_number" in types:
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
    return Diagnostic(code="CP201", message=message, file=ctx.filename, line=mark.line if mark else None,
                      col=mark.col if mark else None, path=format_path(path), hint=hint)


def _from_pydantic(err: Any, ctx: _Context) -> Diagnostic:
    data, positions, lines = ctx.data, ctx.positions, ctx.lines
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
        tag = loc[-2] if len(loc) >= 2 and isinstance(loc[-2], str) and loc[-2] in _TAG_MODELS else None
        where = prefix[:-1]
        allowed = ctx.allowed.get((where, tag))
        if allowed is None:  # once per mapping, so 10,000 unknown keys cost 10,000 look-ups, not 10,000 scans
            parent = _parent_node(data, where)
            allowed = ctx.allowed[(where, tag)] = _allowed_keys(parent, ctx.unknown.get(where, set()), tag)
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
            said, _, advice = said.partition("; ")  # validators say "what is wrong; how to fix it"
            message = said
            hint = advice or None
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
    if etype == "too_long" and isinstance(node, list):
        limit = err.get("ctx", {}).get("max_length", 0)
        message = f"list has {len(node):,} items, more than the {limit:,} allowed"
        hint = "a pack never needs this many; check for a runaway copy and paste, or split the pack"
    elif etype == "string_too_long" and isinstance(node, str):
        limit = err.get("ctx", {}).get("max_length", 0)
        message = f"text is {len(node):,} characters, longer than the {limit:,} allowed"
        hint = f"shorten it to {limit:,} characters or fewer"
    elif etype in ("too_short", "too_long"):
        message = err["msg"][:1].lower() + err["msg"][1:]
    return Diagnostic(
        code="CP201", message=message if message is not None else str(err["msg"]), file=ctx.filename,
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


def _allowed_keys(parent: Any, unknown: set[Any], tag: str | None = None) -> list[str]:
    """The keys valid in the mapping ``parent``: those of the model that best fits its keys other than ``unknown``."""
    if tag is not None:
        return sorted(_aliases(getattr(models, _TAG_MODELS[tag])))
    if not isinstance(parent, dict):
        return []
    others = {k for k in parent if k not in unknown}
    best: set[str] = set()
    best_score = -1
    for model in _all_models():
        names = _aliases(model)
        if not others <= names:
            continue
        # the model whose keys hold the others and come closest to the misspelt one
        near = 50 if any(difflib.get_close_matches(str(u), sorted(names), n=1, cutoff=0.6) for u in unknown) else 0
        score = len(others & names) * 100 + near - len(names)
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
        return ("write the version in quotes: up to three numbers with dots, in ascii digits, and an optional "
                "suffix, e.g. `version: \"2.0.0\"` or `\"1.10-draft\"`")
    if last == "path":
        return "a dotted path into the evidence, e.g. `cqc.overall`, `authority.in_area` or `local.quality_score`"
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
    """JSON Schema of the pack format, for editors (`# yaml-language-server: $schema=...`).

    It says what the loader checks of each mapping on its own: types, patterns, lengths and
    the "exactly one of" rules of the models' validators. Unions are written as ``if``/``then``
    on the key that tags them (``kind`` of a decision, ``all``/``any``/``not``/``count_events``
    of a condition), as the loader picks the member, so a validator names the one problem
    instead of reporting every member it tried.
    """
    members = {tag: f"#/$defs/{_TAG_MODELS[tag]}" for tag in CONDITION_TAGS}
    schema = _tagged_unions(Pack.model_json_schema(by_alias=True), set(members.values()))
    defs = schema["$defs"]
    # the condition: the first of its tag keys present picks the member, else it is a test
    condition: dict[str, Any] = {"$ref": members["test"]}
    for tag in reversed([t for t in CONDITION_TAGS if t != "test"]):
        condition = {"if": {"required": [tag]}, "then": {"$ref": members[tag]}, "else": condition}
    defs["Condition"] = {
        "type": "object",
        "description": "a test (`{input: x, at_least: 3}`), `all`, `any`, `not` or `count_events`",
        **condition,
    }
    # "exactly one of": each key's "given" rule is a named definition, so a validator's message
    # reads "... is valid under each of {'$ref': '#/$defs/given-at_least'}, {'$ref': ...}"
    def given(key: str) -> dict[str, str]:
        # given with a value: an explicit `null` counts as not given, as it does to the loader
        defs[f"given-{key}"] = {"required": [key], "properties": {key: {"not": {"type": "null"}}}}
        return {"$ref": f"#/$defs/given-{key}"}

    for name, groups in _EXACTLY_ONE.items():
        defs[name]["allOf"] = [{"oneOf": [given(key) for key in keys]} for keys in groups]
    for name, keys in _NOT_BOTH.items():
        defs[name]["not"] = {"allOf": [given(key) for key in keys]}
    for name, pairs in _TOGETHER.items():
        defs[name]["dependentRequired"] = {a: [b] for x, y in pairs for a, b in ((x, y), (y, x))}
    return finish_schema(schema, "carepolicy policy pack")


# The "exactly one of" rules of the models' validators, for the JSON Schema (the loader checks them
# in models.py; the schema-and-loader agreement test holds the two to the same verdict).
_EXACTLY_ONE: dict[str, list[tuple[str, ...]]] = {
    "Test": [models.SUBJECTS, models.OPERATORS],
    "EventTest": [("is", "in", "at_least")],
    "CountEvents": [("at_least", "at_most")],
    "Due": [("after", "before", "day", "months")],
    "Input": [("path", "derive")],
    "Arithmetic": [("sum", "difference", "product", "quotient")],
    "Derive": [("sum", "difference", "product", "quotient", "count", "count_events", "days_between", "date")],
    "CountInputs": [models.OPERATORS],
}
# keys that go together ("`day` and `month` go together")
_TOGETHER = {"Due": (("day", "month"), ("months", "year"))}
_NOT_BOTH = {"Band": ("max", "below")}


def _tagged_unions(node: Any, conditions: set[str]) -> Any:
    """``oneOf`` unions rewritten: a condition's becomes a ``$ref`` to ``Condition``; a discriminated one, ``if``/``then``."""
    if isinstance(node, list):
        return [_tagged_unions(item, conditions) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _tagged_unions(value, conditions) for key, value in node.items()}
    refs = {m.get("$ref") for m in out.get("oneOf", []) if isinstance(m, dict)}
    if refs and refs == conditions:
        del out["oneOf"]
        out["$ref"] = "#/$defs/Condition"
    elif "discriminator" in out and "oneOf" in out:
        field = out["discriminator"]["propertyName"]
        mapping = out["discriminator"]["mapping"]
        del out["discriminator"], out["oneOf"]
        out["type"] = "object"
        out["required"] = [field]
        out["properties"] = {field: {"enum": sorted(mapping)}}
        out["allOf"] = [{"if": {"properties": {field: {"const": tag}}}, "then": {"$ref": ref}}
                        for tag, ref in sorted(mapping.items())]
    return out
