"""Strict, safe YAML reading for untrusted policy packs: plain data, positions and located errors."""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NoReturn

import yaml
from yaml.reader import Reader
from yaml.scanner import Scanner
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from ._text import char_name, unsafe_char
from .errors import MAX_DIAGNOSTICS, Diagnostic, PackLoadError, more_problems

__all__ = ["Mark", "Positions", "read_yaml", "format_path"]

Path = tuple[Any, ...]

# One parser for every read, so error marks and messages never depend on the call site.
# libyaml is ~20x faster; its messages differ from the pure-Python parser's, its marks
# mostly agree.
_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Characters YAML (and both parsers) refuse; we report them ourselves, with a position. U+0085,
# U+2028 and U+2029 are line breaks to YAML 1.1 parsers (ours) but not to YAML 1.2 ones, so a
# comment or a line would end in one tool and not in another: they are refused too, as are
# invisible format characters such as bidirectional overrides (see _text).
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Line breaks: with U+0085, U+2028 and U+2029 refused, every YAML version and every editor agree.
_BREAK = re.compile("\r\n|[\r\n]")
_OLD_BREAKS = frozenset("\x85\u2028\u2029")

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_MAYBE_TYPED = frozenset("0123456789+-.~nNtTfF")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_YAML_TAG = "tag:yaml.org,2002:"


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in the pack text."""

    line: int
    col: int


class Positions:
    """Where each value (and each mapping key) of a read document starts, by path."""

    __slots__ = ("filename", "_values", "_keys")

    def __init__(
        self,
        values: dict[Path, tuple[int, int]],
        keys: dict[Path, tuple[int, int]],
        filename: str | None = None,
    ) -> None:
        self.filename = filename
        self._values = values
        self._keys = keys

    def value(self, path: Path) -> Mark | None:
        """Mark of the value at ``path``, else of its deepest existing prefix (so errors always land somewhere)."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            found = self._values.get(path[:end])
            if found is not None:
                return Mark(*found)
        return None

    def key(self, path: Path) -> Mark | None:
        """Mark of the mapping key naming ``path[-1]``; falls back to :meth:`value` (list items have no key)."""
        path = tuple(path)
        found = self._keys.get(path)
        if found is not None:
            return Mark(*found)
        return self.value(path)

    def has(self, path: Path) -> bool:
        return tuple(path) in self._values

    def __repr__(self) -> str:
        return f"Positions({len(self._values)} values, filename={self.filename!r})"


def format_path(path: Path) -> str:
    """``('decisions', 0, 'bands', 1, 'min')`` -> ``decisions[0].bands[1].min``; ``()`` -> ``$``."""
    if not path:
        return "$"
    parts: list[str] = []
    for item in path:
        if isinstance(item, int) and not isinstance(item, bool):
            parts.append(f"[{item}]")
        elif isinstance(item, str) and _IDENT.fullmatch(item):
            parts.append(f".{item}" if parts else item)
        else:
            # Keys that are not simple names (dots, spaces, numbers as keys) stay unambiguous.
            parts.append(f"[{json.dumps(item, ensure_ascii=False)}]")
    return "".join(parts)


def read_yaml(
    data: bytes | str,
    filename: str | None = None,
    *,
    max_bytes: int = 1_048_576,
    max_depth: int = 64,
    max_values: int = 50_000,
) -> tuple[object, Positions]:
    """Read one pack document into dicts, lists and scalars (YAML 1.2 core schema) plus its positions.

    Every problem in the input raises :class:`PackLoadError`; nothing else escapes.
    Reading stops at the first value past ``max_values`` (CP113), so the time and memory
    spent on any input, whatever its shape, are bounded.
    Anchors, aliases, tags, merge keys and deep nesting are refused while streaming
    parser events, before any node is built, so hostile input costs almost nothing.
    """
    if max_depth < 1:
        raise ValueError("max_depth must be at least 1")
    if max_values < 1:
        raise ValueError("max_values must be at least 1")
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        size = len(raw)
    elif isinstance(data, str):
        raw = None
        size = len(data.encode("utf-8", "surrogatepass"))
    else:
        raise TypeError(f"read_yaml() needs bytes or str, not {type(data).__name__}")

    if size > max_bytes:
        raise_too_big(filename, size, max_bytes)

    text = _decode(raw, filename) if raw is not None else data
    assert isinstance(text, str)
    if text.startswith("\ufeff"):
        text = text[1:]
    bad = _first_refused(text)
    if bad is not None:
        line, col = _line_col(text, bad)
        _fail(filename, [_char_diagnostic(text[bad], filename, line, col)])

    builder = _Builder(text, filename, max_depth, max_values)
    try:
        builder.run()
    except yaml.MarkedYAMLError as exc:
        builder.diags.append(builder.own_depth_diagnostic(exc) or builder.syntax_diagnostic(exc))
    except yaml.reader.ReaderError as exc:  # pragma: no cover - the check above catches these first
        line, col = _line_col(text, min(exc.position, len(text)))
        builder.diags.append(
            Diagnostic(code="CP101", message=_one_line(str(exc)), file=filename, line=line, col=col)
        )
    except (RecursionError, MemoryError) as exc:
        builder.diags.append(builder.located("CP103", f"yaml is too complex to read (`{type(exc).__name__}`)"))
    except Exception as exc:  # noqa: BLE001 - the contract is that only PackLoadError escapes
        detail = f"`{type(exc).__name__}`: {_one_line(str(exc))}"
        builder.diags.append(builder.located("CP199", f"unexpected error while reading yaml: {detail}"))
    if builder.more_anchor is not None:
        builder.diags.append(more_problems(builder.more_anchor, builder.more))
    if builder.diags:
        _fail(filename, builder.diags)
    return builder.root, Positions(builder.values, builder.keys, filename)


# --------------------------------------------------------------------------- internals


class _Stop(Exception):
    """Raised inside the builder after a diagnostic that makes reading on pointless or unsafe."""


class _Frame:
    __slots__ = ("container", "path", "is_map", "key", "have_key", "dup", "seen", "record")

    def __init__(self, container: Any, path: Path, is_map: bool, record: bool) -> None:
        self.container = container
        self.path = path
        self.is_map = is_map
        self.key: Any = None
        self.have_key = False  # mapping only: a key has been read and waits for its value
        self.dup = False  # mapping only: the waiting key is a duplicate, so its value is dropped
        self.seen: dict[Any, tuple[int, str]] = {}  # mapping only: resolved key -> (line, text) first seen
        self.record = record  # False inside a dropped duplicate value: its paths belong to the first one


class _Builder:
    """Turns the parser's event stream into plain data, without ever composing nodes.

    Building from events (not ``yaml.compose``) keeps this iterative, so depth cannot
    crash the interpreter, and means aliases are never expanded.
    """

    def __init__(self, text: str, filename: str | None, max_depth: int, max_values: int = 50_000) -> None:
        self.text = text
        self.filename = filename
        self.max_depth = max_depth
        self.max_values = max_values
        self.count = 0  # values read so far (mapping keys not counted)
        self.diags: list[Diagnostic] = []
        self.values: dict[Path, tuple[int, int]] = {}
        self.keys: dict[Path, tuple[int, int]] = {}
        self.root: Any = None
        self.stack: list[_Frame] = []
        self.last: tuple[int, int] | None = None
        self.last_index = 0
        self.more = 0  # diagnostics found past MAX_DIAGNOSTICS, counted but not kept
        self.more_anchor: Diagnostic | None = None

    # ----------------------------------------------------------------- diagnostics

    def add(self, code: str, message: str, mark: tuple[int, int] | None, path: Path | None, **extra: Any) -> None:
        line, col = mark if mark is not None else (None, None)
        if len(self.diags) >= MAX_DIAGNOSTICS:  # count the rest; keep the first of them to place the summary
            self.more += 1
            if self.more > 1:
                return
        diag = Diagnostic(
            code=code,
            message=message,
            file=self.filename,
            line=line,
            col=col,
            path=format_path(path) if path is not None else "",
            **extra,
        )
        if self.more:
            self.more_anchor = diag
        else:
            self.diags.append(diag)

    def stop(self, code: str, message: str, mark: tuple[int, int] | None, path: Path | None, **extra: Any) -> NoReturn:
        self.add(code, message, mark, path, **extra)
        raise _Stop

    def located(self, code: str, message: str) -> Diagnostic:
        line, col = self.last if self.last is not None else (None, None)
        path = format_path(self.stack[-1].path) if self.stack else ""
        return Diagnostic(code=code, message=message, file=self.filename, line=line, col=col, path=path)

    def syntax_diagnostic(self, exc: yaml.MarkedYAMLError) -> Diagnostic:
        mark = exc.problem_mark or exc.context_mark
        line = col = None
        hint = None
        if mark is not None:
            line, col = mark.line + 1, mark.column + 1
            at = self.text[mark.index : mark.index + 1] if 0 <= mark.index < len(self.text) else ""
            if at == "\t":
                hint = "indent with spaces, not tabs"
            elif at in ("@", "`"):
                hint = "quote values that start with `@` or a backquote"
        elif self.last is not None:
            line, col = self.last
        problem = (exc.problem or "").lower()
        message = "invalid yaml: " + (problem or "cannot parse")
        if exc.context:
            message += f" {exc.context.lower()}"
            cm = exc.context_mark
            if cm is not None and (mark is None or (cm.line, cm.column) != (mark.line, mark.column)):
                message += f" started at line {cm.line + 1}, column {cm.column + 1}"
        if hint is None:
            if "mapping values are not allowed" in problem:
                hint = "quote text that contains `: `, e.g. `title: 'care: at home'`"
            elif "unknown escape" in problem:
                hint = "use single quotes, or write a backslash as `\\\\` inside double quotes"
            elif "end of stream" in problem and "quoted scalar" in (exc.context or ""):
                hint = "close the quote"
        return Diagnostic(
            code="CP103",
            message=_one_line(message),
            file=self.filename,
            line=line,
            col=col,
            path=format_path(self.stack[-1].path) if self.stack else "",
            hint=hint,
        )

    def own_depth_diagnostic(self, exc: yaml.MarkedYAMLError) -> Diagnostic | None:
        """Our CP107 where the parser refused text that already breaks our own depth limit.

        A parser scans ahead of the events it has handed over (about a line, up to ~1,024
        characters), so its own nesting limit (libyaml's, from PyYAML 6.0.4) can speak
        before our event-by-event check sees the 65th level. Whenever the refused stretch
        holds enough openers to break our limit, a guarded scan of the text up to the
        refusal finds where our limit is first passed, and a re-read of the text up to
        there gives the exact place and path. No parser message is ever read.
        """
        mark = exc.problem_mark or exc.context_mark
        end = min(mark.index + 1, len(self.text)) if mark is not None else len(self.text)
        start = min(self.last_index, end)
        if len(self.stack) + _openers(self.text, start, end) <= self.max_depth:
            return None
        at = _first_too_deep(self.text[:end], self.max_depth)
        if at is None:
            return None
        prefix = _Builder(self.text[: at + 1], self.filename, self.max_depth, self.max_values)
        try:
            prefix.run()
        except (yaml.YAMLError, RecursionError, MemoryError):
            pass
        for diag in prefix.diags:
            if diag.code == "CP107":
                return diag
        line, col = _line_col(self.text, at)  # pragma: no cover - the re-read finds the level itself
        return Diagnostic(
            code="CP107",
            message=f"nesting is deeper than the {self.max_depth}-level limit",
            file=self.filename,
            line=line,
            col=col,
            path=format_path(prefix.stack[-1].path) if prefix.stack else "",
            hint=_DEPTH_HINT,
        )

    # ----------------------------------------------------------------- event loop

    def run(self) -> None:
        loader = _LOADER(self.text)
        try:
            self._loop(loader)
        except _Stop:
            pass
        finally:
            loader.dispose()

    def _loop(self, loader: Any) -> None:
        documents = 0
        stack = self.stack
        while loader.check_event():
            event = loader.get_event()
            sm = event.start_mark
            mark = (sm.line + 1, sm.column + 1)
            self.last = mark
            self.last_index = sm.index
            cls = type(event)
            if cls is ScalarEvent or cls is MappingStartEvent or cls is SequenceStartEvent or cls is AliasEvent:
                self._node(event, cls, mark)
            elif cls is MappingEndEvent or cls is SequenceEndEvent:
                stack.pop()
            elif cls is DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.stop(
                        "CP110",
                        "a pack file must hold exactly one yaml document, found a second one",
                        mark,
                        (),
                        hint="put each pack in its own file and remove the `---` separator",
                    )
            elif cls is StreamEndEvent and documents == 0:
                self.stop(
                    "CP110",
                    "the file holds no yaml document (it is empty or only comments)",
                    None,
                    (),
                    expected="one yaml mapping of pack fields",
                )

    def _node(self, event: Any, cls: type, mark: tuple[int, int]) -> None:
        stack = self.stack
        frame = stack[-1] if stack else None
        key_slot = frame is not None and frame.is_map and not frame.have_key
        if frame is None:
            path: Path = ()
        elif key_slot:
            path = frame.path
        elif frame.is_map:
            path = frame.path + (frame.key,)
        else:
            path = frame.path + (len(frame.container),)

        if cls is AliasEvent:
            self.stop(
                "CP104",
                f"alias `*{event.anchor}` is not allowed",
                mark,
                path,
                hint="repeat the value; packs do not allow anchors or aliases",
            )
        if event.anchor is not None:
            self.stop(
                "CP104",
                f"anchor `&{event.anchor}` is not allowed",
                mark,
                path,
                hint="repeat the value; packs do not allow anchors or aliases",
            )
        if event.tag is not None:
            tag = _short_tag(event.tag)
            self.stop(
                "CP105",
                f"tag `{tag}` is not allowed",
                mark,
                path,
                hint=(
                    "quote the value instead"
                    if tag == "!!str"
                    else "remove the tag; packs hold only text, numbers, booleans, lists and mappings"
                ),
            )

        plain = cls is ScalarEvent and not event.style
        if frame is None:
            if cls is MappingStartEvent:
                self.root = {}
                self.values[()] = mark
                stack.append(_Frame(self.root, (), True, True))
                return
            if plain and event.value == "":
                self.stop("CP110", "the yaml document is empty", mark, (), expected="one yaml mapping of pack fields")
            found = "a list" if cls is SequenceStartEvent else _describe(self._scalar(event, plain, mark, ()))
            self.stop(
                "CP111",
                f"the top level of a pack must be a mapping, found {found}",
                mark,
                (),
                expected="`key: value` lines at the top level",
            )

        if key_slot:
            if cls is not ScalarEvent:
                kind = "a mapping" if cls is MappingStartEvent else "a list"
                self.stop(
                    "CP103",
                    f"mapping keys must be plain text, found {kind}",
                    mark,
                    path,
                    hint="use a plain text key",
                )
            if plain and event.value == "<<":
                self.stop(
                    "CP106",
                    "merge key `<<` is not allowed",
                    mark,
                    path,
                    hint="write the keys out in full; quote it as `'<<'` if you mean a key named `<<`",
                )
            key = self._scalar(event, plain, mark, path, is_key=True)
            norm = _NAN_KEY if key != key else key
            first = frame.seen.get(norm)
            frame.key = key
            frame.have_key = True
            if first is not None:
                frame.dup = True
                first_line, first_text = first
                same_as = f" (same as `{_show(first_text)}`)" if first_text != event.value else ""
                self.add(
                    "CP108",
                    f"duplicate key `{_show(event.value)}`{same_as}, first defined at line {first_line}",
                    mark,
                    path + (key,),
                    hint=f"keep one `{_show(event.value)}` entry and remove or rename the other",
                )
            else:
                frame.dup = False
                frame.seen[norm] = (mark[0], event.value)
                if frame.record:
                    self.keys[path + (key,)] = mark
            return

        record = frame.record and not (frame.is_map and frame.dup)
        self.count += 1
        if self.count > self.max_values:  # bounds time and memory whatever the shape (one giant list or many)
            self.stop(
                "CP113",
                f"the file holds more than {self.max_values:,} values",
                mark,
                path,
                hint="a pack or tests file never needs this many; look for a runaway list, or split the file",
            )
        if cls is ScalarEvent:
            value: Any = self._scalar(event, plain, mark, path)
        else:
            if len(stack) + 1 > self.max_depth:
                self.stop(
                    "CP107",
                    f"nesting is deeper than the {self.max_depth}-level limit",
                    mark,
                    path,
                    hint=_DEPTH_HINT,
                )
            value = {} if cls is MappingStartEvent else []
            stack.append(_Frame(value, path, cls is MappingStartEvent, record))
        if record:
            self.values[path] = mark
        if frame.is_map:
            if not frame.dup:
                frame.container[frame.key] = value
            frame.have_key = False
            frame.dup = False
        else:
            frame.container.append(value)

    def _scalar(self, event: Any, plain: bool, mark: tuple[int, int], path: Path, is_key: bool = False) -> Any:
        text = event.value
        if not plain:
            # Raw characters were checked in the whole text; escapes (`"\x1b"`, `"\u202e"`) bring them back.
            bad = unsafe_char(text, allow="\t\n")
            if bad is not None:
                ch = text[bad]
                self.add(
                    "CP101",
                    f"{'key' if is_key else 'text'} holds character {char_name(ch)}, written as an escape in double quotes",
                    mark,
                    path + (text,) if is_key else path,
                    expected="text with no control or invisible format characters (tabs and line breaks are fine)",
                    hint="remove the escape sequence from the quoted text",
                )
            return text
        try:
            return _resolve_plain(text)
        except (ValueError, OverflowError) as exc:
            self.add("CP109", _number_problem(text, exc), mark, path, hint="quote it if it is meant as text")
            return text


_DEPTH_HINT = "flatten the structure; a pack never needs this many levels"
# What can open a level: a flow bracket, a block indicator (`- `, `? `, `: `), a line start.
_OPENER = re.compile(r"[\[{]|[-?:](?=[ \t\r\n]|\Z)|\r\n|[\r\n]")


def _openers(text: str, start: int, end: int) -> int:
    """How many levels ``text[start:end]`` could open at most (an over-count, cheap at C speed)."""
    return len(_OPENER.findall(text, start, end)) + 1


class _TooDeep(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class _DepthScanner(Reader, Scanner):
    """PyYAML's pure-Python scanner with the project's own depth limit on every level it opens.

    Used only to locate a refusal: the levels it counts (flow brackets plus block indents)
    never exceed the nesting of the events built from them, so its verdict is sound.
    """

    def __init__(self, text: str, limit: int) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        self.limit = limit
        self.opened_at = 0

    def add_indent(self, column: int) -> bool:
        opened = bool(Scanner.add_indent(self, column))
        if opened and self.flow_level + len(self.indents) > self.limit:
            raise _TooDeep(self.opened_at)
        return opened

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        if self.flow_level + 1 + len(self.indents) > self.limit:
            raise _TooDeep(self.index)
        Scanner.fetch_flow_collection_start(self, TokenClass)

    def fetch_block_entry(self) -> None:
        self.opened_at = self.index
        Scanner.fetch_block_entry(self)

    def fetch_key(self) -> None:
        self.opened_at = self.index
        Scanner.fetch_key(self)

    def fetch_value(self) -> None:
        key = self.possible_simple_keys.get(self.flow_level)
        self.opened_at = key.index if key is not None else self.index
        Scanner.fetch_value(self)


def _first_too_deep(text: str, limit: int) -> int | None:
    """Index where ``text`` first opens a level past ``limit``, or None (also when it fails to scan first)."""
    scanner = _DepthScanner(text, limit)
    try:
        while scanner.check_token():
            scanner.get_token()
    except _TooDeep as exc:
        return exc.index
    except (yaml.YAMLError, RecursionError, MemoryError):
        return None
    return None


class _NanKey:
    """Stands in for NaN keys when checking duplicates (NaN never equals itself)."""


_NAN_KEY = _NanKey()


def _resolve_plain(text: str) -> Any:
    """Type a plain scalar by the YAML 1.2 core schema (so `NO` and `1:30` stay text, `010` is ten)."""
    if text in _NULLS:
        return None
    if text[0] not in _MAYBE_TYPED:
        return text
    if text in _BOOLS:
        return _BOOLS[text]
    if _INT.fullmatch(text):
        return int(text, 10)
    if _OCT.fullmatch(text):
        return _bounded(int(text[2:], 8))
    if _HEX.fullmatch(text):
        return _bounded(int(text[2:], 16))
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return float("-inf") if text[0] == "-" else float("inf")
    if _NAN.fullmatch(text):
        return float("nan")
    return text


def _bounded(value: int) -> int:
    """Octal and hex escape Python's limit on decimal digits; hold them to what a decimal could say."""
    limit = sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0
    if limit and abs(value) >= _power_of_ten(limit):
        raise ValueError(f"exceeds the limit ({limit} digits) for integer string conversion")
    return value


@lru_cache(maxsize=4)
def _power_of_ten(digits: int) -> int:
    return 10**digits


# --------------------------------------------------------------------------- helpers


def raise_too_big(filename: str | None, size: int, max_bytes: int) -> NoReturn:
    """CP102: the file (or text) is over the size limit; ``size`` is its real size."""
    _fail(
        filename,
        [
            Diagnostic(
                code="CP102",
                message=f"file is {size:,} bytes, larger than the {max_bytes:,}-byte limit",
                file=filename,
                path="$",
                hint="split the pack into smaller packs",
            )
        ],
    )


def encode_text(text: str, filename: str | None) -> bytes:
    """``text`` as UTF-8, or a located CP101 where it holds a lone surrogate (which UTF-8 cannot hold)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line, col = _line_col(text, exc.start)
        _fail(filename, [_char_diagnostic(text[exc.start], filename, line, col)])


def _first_refused(text: str) -> int | None:
    """Index of the first character a pack may not hold anywhere (even in a comment), or None."""
    bad = _NON_PRINTABLE.search(text)
    end = bad.start() if bad is not None else len(text)
    unsafe = unsafe_char(text[:end] if bad is not None else text, allow="\t\n\r")
    return unsafe if unsafe is not None else (bad.start() if bad is not None else None)


def _char_diagnostic(ch: str, filename: str | None, line: int, col: int) -> Diagnostic:
    if ch in _OLD_BREAKS:
        hint = ("end lines with a plain line break; YAML 1.1 tools (like ours) break lines at this character "
                "and YAML 1.2 tools do not, so the same file would read differently")
    elif "\ud800" <= ch <= "\udfff":
        hint = "a lone surrogate is half of a character; the text was decoded wrongly before it reached the loader"
    elif unicodedata.category(ch) == "Cf":
        hint = ("remove the character; invisible format characters such as bidirectional overrides "
                "make text read differently from what it holds")
    else:
        hint = "remove the character; control characters often come from copying out of other programs"
    return Diagnostic(
        code="CP101",
        message=f"character {char_name(ch)} is not allowed in yaml",
        file=filename,
        line=line,
        col=col,
        expected="printable utf-8 text (tabs and line breaks are fine)",
        hint=hint,
    )


def _fail(filename: str | None, diags: list[Diagnostic]) -> NoReturn:
    name = f"`{filename}`" if filename else "pack"
    count = f"{len(diags)} problem" + ("s" if len(diags) != 1 else "")
    raise PackLoadError(f"cannot read {name}: {count}", diags)


def _decode(raw: bytes, filename: str | None) -> str:
    """Strict UTF-8, located at the first bad byte (parsers' own errors carry no line)."""
    body = raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = body[: exc.start].decode("utf-8")
        line, col = _line_col(prefix, len(prefix))
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            message = "file is utf-16 (it starts with a utf-16 byte order mark), packs must be utf-8"
        else:
            byte = f"`0x{body[exc.start]:02x}`"
            message = f"file is not valid utf-8: cannot decode byte {byte} at byte offset {exc.start}"
        _fail(
            filename,
            [
                Diagnostic(
                    code="CP101",
                    message=message,
                    file=filename,
                    line=line,
                    col=col,
                    expected="utf-8 text",
                    hint="save the file as utf-8",
                )
            ],
        )


def _line_col(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``, counting line breaks as the parsers do."""
    line, start = 1, 0
    for match in _BREAK.finditer(text, 0, index):
        line += 1
        start = match.end()
    return line, index - start + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else tag


def _show(text: str, limit: int = 40) -> str:
    text = text.replace("\n", "\\n").replace("\r", "\\r").replace("`", "'")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return f"text `{_show(str(value))}`"


def _number_problem(text: str, exc: Exception) -> str:
    body = text.lstrip("+-")
    body = body[2:] if body[:2] in ("0x", "0o") else body
    digits = sum(ch.isalnum() for ch in body)
    if isinstance(exc, ValueError) and "limit" in str(exc):
        return f"number `{_show(text, 20)}` is too long ({digits:,} digits)"
    return f"cannot read number `{_show(text, 20)}`: {_one_line(str(exc)).lower()}"
