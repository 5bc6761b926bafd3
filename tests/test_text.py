"""Text echoed from packs, evidence and file names is escaped, never written raw to a terminal."""

from __future__ import annotations

import unicodedata

import pytest

from carepolicy._text import UNSAFE_CATEGORIES, char_name, escape, unsafe_char
from carepolicy.errors import Diagnostic, PackLoadError


def test_every_unsafe_bmp_character_is_escaped_and_no_other() -> None:
    """The helper's table agrees with this Python's Unicode database on every BMP character."""
    wrong = []
    for code in range(0x10000):
        ch = chr(code)
        unsafe = unicodedata.category(ch) in UNSAFE_CATEGORIES
        if (escape(ch) != ch) != unsafe or (unsafe_char(ch) is not None) != unsafe:
            wrong.append(f"U+{code:04X} {unicodedata.category(ch)}")
    assert wrong == [], f"update _text._CANDIDATES for Unicode {unicodedata.unidata_version}: {wrong[:20]}"


@pytest.mark.parametrize("code", [0xE0001, 0xE0041, 0xE007F, 0x1D173, 0x110BD, 0x13430])
def test_format_characters_outside_the_bmp_are_escaped(code: int) -> None:
    ch = chr(code)
    if unicodedata.category(ch) != "Cf":  # pragma: no cover - depends on the Unicode version
        pytest.skip(f"U+{code:X} is not a format character in Unicode {unicodedata.unidata_version}")
    assert escape(f"a{ch}b") == f"a\\U{code:08x}b"


def test_escapes_are_readable_and_idempotent() -> None:
    raw = "a\x1b[2J\x07\u202eb\n\tc\ud800\x85 d \\x1b 😀 é"
    once = escape(raw)
    assert once == "a\\x1b[2J\\x07\\u202eb\\n\\tc\\ud800\\x85 d \\x1b 😀 é"
    assert escape(once) == once
    assert escape(raw, keep="\n\t") == "a\\x1b[2J\\x07\\u202eb\n\tc\\ud800\\x85 d \\x1b 😀 é"
    assert escape("plain text") == "plain text"


def test_char_names() -> None:
    assert char_name("\u202e") == "`U+202E` (right-to-left override)"
    assert char_name("\x1b") == "`U+001B` (escape)"
    assert char_name("\udc80") == "`U+DC80` (lone surrogate)"
    assert char_name("\x9b") == "`U+009B`"  # controls have no Unicode name


def test_diagnostics_never_carry_raw_control_characters() -> None:
    """Regression: error messages echoed a raw right-to-left override and terminal escapes."""
    d = Diagnostic(code="CP201", message="unknown key `\u202eevil\x1b]0;title\x07`", file="x\x1b[2J.yaml", line=1, col=1,
                   path="a[\"\u202e\"]", hint="did you mean `\x1b[31mred`?", expected="\x00")
    text = str(d)
    assert not any(unicodedata.category(ch) in UNSAFE_CATEGORIES and ch != "\n" for ch in text), text
    assert d.message == "unknown key `\\u202eevil\\x1b]0;title\\x07`"
    assert text.startswith("x\\x1b[2J.yaml:1:1: error[CP201]")
    assert d.file == "x\x1b[2J.yaml"  # the name itself is kept: it is how the file is found
    err = PackLoadError("cannot read `\x1b[2J`", [d])
    assert "\x1b" not in str(err)



def test_text_left_raw_by_keep_takes_the_quick_path_and_the_rest_is_still_escaped() -> None:
    """Printable text (but for what `keep` leaves raw) is returned as it is; anything unsafe still is escaped."""
    assert escape("a\nb\tc § é", keep="\n\t") == "a\nb\tc § é"
    assert escape("a\nb\x1b", keep="\n") == "a\nb\\x1b"
    assert escape("a\tb", keep="\n") == "a\\tb"
    assert escape("a\u00a0b\u3000c") == "a\u00a0b\u3000c"  # non-printable to Python, but not unsafe: kept
