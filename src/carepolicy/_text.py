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
# characters). Kept as one regex so text with nothing to escape costs a single C-speed scan.
_CANDIDATES = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff"
    "\U00010000-\U0010ffff]"
)
_NAMES = {"\x00": "nul", "\x07": "bell", "\x08": "backspace", "\x0b": "vertical tab", "\x0c": "form feed",
          "\x0d": "carriage return", "\x1b": "escape", "\x7f": "delete", "\x85": "next line",
          "\u2028": "line separator", "\u2029": "paragraph separator", "\ufeff": "byte order mark"}
_SHORT = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _unsafe(ch: str) -> bool:
    return ch < "\U00010000" or unicodedata.category(ch) in UNSAFE_CATEGORIES


@lru_cache(maxsize=8)
def _candidates_except(allow: str) -> re.Pattern[str]:
    return re.compile(f"(?![{re.escape(allow)}])" + _CANDIDATES.pattern) if allow else _CANDIDATES


def unsafe_char(text: str, allow: str = "") -> int | None:
    """Index of the first character of ``text`` that is never shown raw (other than those in ``allow``), or None."""
    for match in _candidates_except(allow).finditer(text):
        if _unsafe(match.group()):
            return match.start()
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
    if _CANDIDATES.search(text) is None:
        return text
    return _CANDIDATES.sub(lambda m: m.group() if m.group() in keep or not _unsafe(m.group()) else _escape_one(m.group()),
                           text)


def char_name(ch: str) -> str:
    """```U+202E` (right-to-left override)``: how a diagnostic names a character."""
    if "\ud800" <= ch <= "\udfff":
        name = "lone surrogate"
    else:
        name = _NAMES.get(ch) or unicodedata.name(ch, "").lower()
    return f"`U+{ord(ch):04X}`" + (f" ({name})" if name else "")
