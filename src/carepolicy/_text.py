"""Text from packs, evidence or file names made safe to show: no terminal escapes, no hidden reordering.

Whatever a person writes into a pack or evidence may reach a terminal through a
diagnostic, ``explain`` or ``evaluate --format text``. Control characters (escape
sequences clear the screen, recolour it or retitle the window), bidirectional
overrides and other invisible format characters, line and paragraph separators and
lone surrogates are shown as Python-style escapes instead (``\\x1b``, ``\\u202e``).
Backslashes are left alone, so escaping twice changes nothing.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["UNSAFE_CATEGORIES", "escape", "unsafe_char", "char_name"]

# Unicode categories never shown raw: controls, format characters (bidi overrides, zero-width
# characters, the byte order mark...), line and paragraph separators, surrogates.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})

# Every BMP character of those categories (checked against unicodedata by a test), plus every
# character outside the BMP as a candidate that unicodedata decides on (tags, musical format
# characters). Searched with one regex, so text with nothing to escape costs one C-speed scan.
_RANGES = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x600, 0x605), (0x61C, 0x61C), (0x6DD, 0x6DD), (0x70F, 0x70F),
    (0x890, 0x891), (0x8E2, 0x8E2), (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064),
    (0x2066, 0x206F), (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0xD800, 0xDFFF), (0x10000, 0x10FFFF),
)


def _char_class(allow: str) -> str:
    """The regex class of ``_RANGES`` less the characters in ``allow``."""
    parts = []
    for lo, hi in _RANGES:
        start = lo
        for code in sorted(ord(c) for c in allow if lo <= ord(c) <= hi):
            if start < code:
                parts.append((start, code - 1))
            start = code + 1
        if start <= hi:
            parts.append((start, hi))
    return "[" + "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in parts) + "]"


_CANDIDATES = re.compile(_char_class(""))
_NAMES = {"\x00": "nul", "\x07": "bell", "\x08": "backspace", "\x0b": "vertical tab", "\x0c": "form feed",
          "\x0d": "carriage return", "\x1b": "escape", "\x7f": "delete", "\x85": "next line",
          "\u2028": "line separator", "\u2029": "paragraph separator", "\ufeff": "byte order mark"}
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _unsafe(ch: str) -> bool:
    return ch < "\U00010000" or unicodedata.category(ch) in UNSAFE_CATEGORIES


@lru_cache(maxsize=8)
def _candidates_except(allow: str) -> re.Pattern[str]:
    return re.compile(_char_class(allow))


def unsafe_char(text: str, allow: str = "") -> int | None:
    """Index of the first character of ``text`` that is never shown raw (other than those in ``allow``), or None."""
    pattern = _candidates_except(allow)
    found = pattern.search(text)
    while found is not None:
        if _unsafe(found.group()):
            return found.start()
        found = pattern.search(text, found.end())
    return None


def _escape_one(ch: str) -> str:
    if ch in _SHORT:
        return _SHORT[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str, keep: str = "") -> str:
    """``text`` with every unsafe character (see the module) written as an escape; ``keep`` lists those left raw.

    ``escape(s)`` suits one-line messages (a newline shows as ``\\n``); multi-line reports
    pass ``keep="\\n\\t"``.
    """
    if not isinstance(text, str):
        text = str(text)
    # Every character escaped here is non-printable to str.isprintable (the same Unicode database): text
    # that is all printable, but for what ``keep`` leaves raw, has nothing to escape. A C-speed scan, some
    # three times faster than the regex on a decision's 20 KB of JSON.
    probe = text
    for k in keep:
        if k in probe:
            probe = probe.replace(k, " ")
    if probe.isprintable():
        return text
    pattern = _candidates_except(keep)
    if pattern.search(text) is None:
        return text
    return pattern.sub(lambda m: _escape_one(m.group()) if _unsafe(m.group()) else m.group(), text)


def char_name(ch: str) -> str:
    """```U+202E` (right-to-left override)``: how a diagnostic names a character."""
    if "\ud800" <= ch <= "\udfff":
        name = "lone surrogate"
    else:
        name = _NAMES.get(ch) or unicodedata.name(ch, "").lower()
    return f"`U+{ord(ch):04X}`" + (f" ({name})" if name else "")
