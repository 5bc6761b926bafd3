"""The strict YAML reader: core-schema typing, the pack profile (CP101-CP111) and positions."""

from __future__ import annotations

import math
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepolicy import _yaml
from carepolicy._yaml import Mark, Positions, format_path, read_yaml
from carepolicy.errors import Diagnostic, PackLoadError

HAVE_LIBYAML = hasattr(yaml, "CSafeLoader")


def fail(data: bytes | str, **kwargs: object) -> list[Diagnostic]:
    with pytest.raises(PackLoadError) as info:
        read_yaml(data, "pack.yaml", **kwargs)  # type: ignore[arg-type]
    assert info.value.diagnostics, "a PackLoadError must carry diagnostics"
    for diag in info.value.diagnostics:
        assert diag.file == "pack.yaml"
        assert "\n" not in diag.message and not diag.message.endswith(".")
        assert diag.message[:1] == diag.message[:1].lower()
    return info.value.diagnostics


def only(data: bytes | str, **kwargs: object) -> Diagnostic:
    diags = fail(data, **kwargs)
    assert len(diags) == 1, diags
    return diags[0]


def at(diag: Diagnostic) -> tuple[str, int | None, int | None, str]:
    return diag.code, diag.line, diag.col, diag.path


def load(text: str) -> object:
    return read_yaml(text)[0]


# ------------------------------------------------------------------ format_path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ((), "$"),
        (("decisions", 0, "bands", 1, "min"), "decisions[0].bands[1].min"),
        ((0, "a"), "[0].a"),
        (("a", "x.y"), 'a["x.y"]'),
        (("a", "with space"), 'a["with space"]'),
        (("cqc-rating",), "cqc-rating"),
        (("a", True), "a[true]"),
    ],
)
def test_format_path(path: tuple, expected: str) -> None:
    assert format_path(path) == expected


# ------------------------------------------------------------------ YAML 1.2 core schema


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("Yes", "Yes"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("1:30", "1:30"),
        ("010", 10),
        ("'010'", "010"),
        ("1.10", 1.1),
        ("2024-02-30", "2024-02-30"),
        ("2024-01-02", "2024-01-02"),
        ("0o17", 15),
        ("0x1F", 31),
        ("0b101", "0b101"),
        ("+5", 5),
        ("-3", -3),
        ("1_000", "1_000"),
        ("1e3", 1000.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("-2.5E-1", -0.25),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("null", None),
        ("Null", None),
        ("NULL", None),
        ("~", None),
        ("", None),
        ("nULL", "nULL"),
        ("'true'", "true"),
        ('"null"', "null"),
        ("''", ""),
        ("'1.5'", "1.5"),
        ("+.inf", math.inf),
        ("-.INF", -math.inf),
        (".Inf", math.inf),
        ("٣", "٣"),  # Arabic-Indic digit: not [0-9]
    ],
)
def test_scalars_follow_the_core_schema(text: str, expected: object) -> None:
    value = load(f"v: {text}\n")["v"]  # type: ignore[index]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("text", [".nan", ".NaN", ".NAN"])
def test_nan_passes_through_as_a_float(text: str) -> None:
    value = load(f"v: {text}\n")["v"]  # type: ignore[index]
    assert isinstance(value, float) and math.isnan(value)


def test_norway_pack() -> None:
    data = load(
        "countries: [GB, NO, SE]\n"
        "opening: 1:30\n"
        "code: 010\n"
        "quoted: '010'\n"
        "version: 1.10\n"
        "date: 2024-02-30\n"
        "answers: {a: yes, b: on, c: NO}\n"
    )
    assert data == {
        "countries": ["GB", "NO", "SE"],
        "opening": "1:30",
        "code": 10,
        "quoted": "010",
        "version": 1.1,
        "date": "2024-02-30",
        "answers": {"a": "yes", "b": "on", "c": "NO"},
    }


def test_keys_are_resolved_and_block_text_is_str() -> None:
    data = load("1: one\n'2': two\nnull: x\nnote: |\n  line 1\n  line 2\nfolded: >\n  a\n  b\n")
    assert data == {1: "one", "2": "two", None: "x", "note": "line 1\nline 2\n", "folded": "a b\n"}


def test_plain_python_types_only() -> None:
    data = load("a: {b: [1, {c: d}]}\n")
    assert type(data) is dict
    assert type(data["a"]["b"]) is list  # type: ignore[index]


def test_utf8_bom_is_stripped_and_positions_ignore_it() -> None:
    data, pos = read_yaml(b"\xef\xbb\xbfa: 1\n")
    assert data == {"a": 1}
    assert pos.value(("a",)) == Mark(1, 4)
    assert load("\ufeffb: 2\n") == {"b": 2}


def test_crlf_and_accepted_unicode() -> None:
    data, pos = read_yaml("a: é\r\nb: 漢字\r\n".encode())
    assert data == {"a": "é", "b": "漢字"}
    assert pos.value(("b",)) == Mark(2, 4)


# ------------------------------------------------------------------ CP101 encoding


def test_cp101_bad_byte_is_located_by_line_and_column() -> None:
    diag = only(b"a: 1\nb: ok\nc: caf\xe9\n")
    assert at(diag) == ("CP101", 3, 7, "")
    assert "utf-8" in diag.message and "`0xe9`" in diag.message
    assert diag.hint == "save the file as utf-8"


def test_cp101_column_counts_characters_not_bytes() -> None:
    diag = only("a: 1\nnäme: ".encode() + b"\xff")
    assert at(diag)[:3] == ("CP101", 2, 7)


def test_cp101_utf16() -> None:
    diag = only("a: 1\n".encode("utf-16"))
    assert at(diag)[:3] == ("CP101", 1, 1)
    assert "utf-16" in diag.message


@pytest.mark.parametrize(
    ("text", "line", "col", "codepoint"),
    [
        ("a: b\x00c\n", 1, 5, "U+0000"),
        ("a: 1\nb: \x1b[31m\n", 2, 4, "U+001B"),
        ("a: 1\n  \x7f", 2, 3, "U+007F"),
        ("a: \ufffe\n", 1, 4, "U+FFFE"),
    ],
)
def test_cp101_control_characters(text: str, line: int, col: int, codepoint: str) -> None:
    for data in (text, text.encode()):
        diag = only(data)
        assert at(diag) == ("CP101", line, col, "")
        assert f"`{codepoint}`" in diag.message


def test_cp101_lone_surrogate_in_str_input() -> None:
    assert at(only("a: \ud800\n"))[:3] == ("CP101", 1, 4)


def test_tabs_inside_values_are_not_control_characters() -> None:
    assert load("a: 'x\ty'\n") == {"a": "x\ty"}


# ------------------------------------------------------------------ CP102 size


def test_cp102_too_large_is_checked_before_parsing() -> None:
    # Would be a syntax error if it were parsed.
    diag = only(b"a: [" * 100, max_bytes=100)
    assert diag.code == "CP102"
    assert "400" in diag.message and "100" in diag.message
    assert diag.line is None
    assert "split" in (diag.hint or "")


def test_cp102_counts_utf8_bytes_of_str_input() -> None:
    text = "a: " + "é" * 50  # 53 characters, 103 bytes
    assert only(text, max_bytes=100).code == "CP102"
    assert read_yaml(text, max_bytes=103)[0] == {"a": "é" * 50}


# ------------------------------------------------------------------ CP103 syntax


def test_cp103_tab_indentation() -> None:
    diag = only("policy:\n  id: x\n\tname: y\n")
    assert at(diag)[:3] == ("CP103", 3, 1)
    assert diag.message.startswith("invalid yaml: ")
    assert diag.hint == "indent with spaces, not tabs"


def test_cp103_unclosed_flow_sequence() -> None:
    diag = only("a: [1, 2\nb: 3\n")
    assert at(diag)[:3] == ("CP103", 2, 2)
    assert "flow sequence" in diag.message and "line 1, column 4" in diag.message


def test_cp103_unclosed_quote() -> None:
    diag = only("a: 'unterminated\nb: 1\n")
    assert at(diag)[:3] == ("CP103", 3, 1)
    assert "quoted scalar" in diag.message
    assert diag.hint == "close the quote"


def test_cp103_colon_in_plain_value() -> None:
    diag = only("title: care: at home\n")
    assert at(diag)[:3] == ("CP103", 1, 12)
    assert "mapping values are not allowed" in diag.message
    assert "quote" in (diag.hint or "")


def test_cp103_bad_indentation_and_path_of_enclosing_mapping() -> None:
    assert at(only("a:\n  b: 1\n c: 2\n")) == ("CP103", 3, 2, "$")
    assert at(only("a:\n  b: [1, 2\n  c: 3\n")) == ("CP103", 3, 4, "a.b")


@pytest.mark.parametrize(
    ("text", "line", "col", "kind"),
    [
        ("? [a, b]\n: 1\n", 1, 3, "a list"),
        ("x:\n  ? {a: 1}\n  : 2\n", 2, 5, "a mapping"),
        ("x: {[a]: 1}\n", 1, 5, "a list"),
    ],
)
def test_cp103_mapping_keys_must_be_scalars(text: str, line: int, col: int, kind: str) -> None:
    diag = only(text)
    assert at(diag)[:3] == ("CP103", line, col)
    assert diag.message == f"mapping keys must be plain text, found {kind}"


# ------------------------------------------------------------------ CP104 anchors and aliases


def test_cp104_anchor() -> None:
    diag = only("base: &b {min: 1}\nother: *b\n")
    assert at(diag) == ("CP104", 1, 7, "base")
    assert diag.message == "anchor `&b` is not allowed"
    assert diag.hint == "repeat the value; packs do not allow anchors or aliases"


def test_cp104_alias_without_anchor() -> None:
    diag = only("a:\n  - 1\n  - *missing\n")
    assert at(diag) == ("CP104", 3, 5, "a[1]")
    assert diag.message == "alias `*missing` is not allowed"


BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(
            f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]"
            for prev, name in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)


def test_cp104_alias_bomb_is_rejected_fast() -> None:
    assert BOMB.count("\n") == 8
    start = time.perf_counter()
    diag = only(BOMB)
    elapsed = time.perf_counter() - start
    assert at(diag) == ("CP104", 1, 4, "a")
    assert elapsed < 0.05


# ------------------------------------------------------------------ CP105 tags


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ("!!python/object/apply:os.system ['echo pwned']", "!!python/object/apply:os.system"),
        ("!!python/name:builtins.exit", "!!python/name:builtins.exit"),
        ("!!binary aGk=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!!str 010", "!!str"),
        ("!!int '3'", "!!int"),
        ("!custom x", "!custom"),
        ("! x", "!"),
        ("!<tag:example.com,2024:x> y", "tag:example.com,2024:x"),
    ],
)
def test_cp105_tags(value: str, tag: str) -> None:
    diag = only(f"id: p\nrule:\n  value: {value}\n")
    assert at(diag) == ("CP105", 3, 10, "rule.value")
    assert diag.message == f"tag `{tag}` is not allowed"


def test_cp105_tag_on_a_key_or_collection() -> None:
    assert at(only("!!str a: 1\n"))[:3] == ("CP105", 1, 1)
    assert at(only("a: !!seq [1]\n")) == ("CP105", 1, 4, "a")


# ------------------------------------------------------------------ CP106 merge keys


def test_cp106_merge_key() -> None:
    diag = only("base:\n  x: 1\nuse:\n  <<: {x: 2}\n  y: 3\n")
    assert at(diag) == ("CP106", 4, 3, "use")
    assert "`<<`" in diag.message


def test_quoted_merge_key_is_just_text() -> None:
    assert load("'<<': 1\n") == {"<<": 1}


# ------------------------------------------------------------------ CP107 depth


def nested_blocks(levels: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(levels - 1)) + "  " * (levels - 1) + "leaf: 1\n"


def test_cp107_depth_limit_is_inclusive() -> None:
    data = load(nested_blocks(64))
    for i in range(63):
        data = data[f"k{i}"]  # type: ignore[index]
    assert data == {"leaf": 1}
    diag = only(nested_blocks(65))
    assert at(diag)[:3] == ("CP107", 65, 129)
    assert diag.path == ".".join(f"k{i}" for i in range(64))
    assert "64" in diag.message


def test_cp107_custom_max_depth() -> None:
    assert read_yaml("a:\n  b:\n    c: 1\n", max_depth=3)[0] == {"a": {"b": {"c": 1}}}
    assert at(only("a:\n  b:\n    c:\n      - 1\n", max_depth=3)) == ("CP107", 4, 7, "a.b.c")


def test_cp107_hundred_thousand_brackets_in_process() -> None:
    text = "a: " + "[" * 100_000
    start = time.perf_counter()
    diag = only(text)
    elapsed = time.perf_counter() - start
    assert at(diag) == ("CP107", 1, 67, "a" + "[0]" * 63)
    # The pure-Python scanner looks ~1024 brackets ahead quadratically (a fixed ~0.3 s).
    assert elapsed < (0.2 if _yaml._LOADER is not yaml.SafeLoader else 2.0)


def test_cp107_hundred_thousand_braces() -> None:
    start = time.perf_counter()
    diag = only("{a: " * 100_000)
    assert diag.code == "CP107" and diag.line == 1
    assert time.perf_counter() - start < 0.2


# ------------------------------------------------------------------ CP108 duplicates


def test_cp108_plain_and_quoted_keys_are_the_same_key() -> None:
    diag = only("name: a\n'name': b\n")
    assert at(diag) == ("CP108", 2, 1, "name")
    assert diag.message == "duplicate key `name`, first defined at line 1"


def test_cp108_every_duplicate_is_reported() -> None:
    diags = fail(
        "id: p\n"
        "decisions:\n"
        "  - id: d1\n"
        "    bands:\n"
        "      - {min: 1, min: 2}\n"
        "    id: d2\n"
        "id: q\n"
    )
    assert [at(d) for d in diags] == [
        ("CP108", 5, 18, "decisions[0].bands[0].min"),
        ("CP108", 6, 5, "decisions[0].id"),
        ("CP108", 7, 1, "id"),
    ]
    assert diags[0].message == "duplicate key `min`, first defined at line 5"
    assert diags[1].message == "duplicate key `id`, first defined at line 3"
    assert diags[2].message == "duplicate key `id`, first defined at line 1"


def test_cp108_after_resolution() -> None:
    diag = only("1: a\n0x1: b\n")
    assert at(diag) == ("CP108", 2, 1, "[1]")
    assert diag.message == "duplicate key `0x1` (same as `1`), first defined at line 1"


def test_cp108_inside_a_duplicate_value_is_still_reported() -> None:
    diags = fail("a: {x: 1}\na: {y: 1, y: 2}\n")
    assert [at(d)[:3] for d in diags] == [("CP108", 2, 1), ("CP108", 2, 11)]


def test_cp108_with_other_errors() -> None:
    diags = fail("a: 1\na: 2\nb: [\n")
    assert [d.code for d in diags] == ["CP108", "CP103"]


# ------------------------------------------------------------------ CP109 scalars


def test_cp109_huge_integer() -> None:
    diag = only("id: p\nlimits:\n  max: " + "9" * 5000 + "\n")
    assert at(diag) == ("CP109", 3, 8, "limits.max")
    assert "5,000 digits" in diag.message


def test_cp109_huge_integer_key_and_every_bad_scalar() -> None:
    big = "1" * 4301
    # An implicit key is at most 1024 characters, so the long key needs `? `.
    diags = fail(f"? {big}\n: a\nb: [{big}, {big}]\n")
    assert [at(d) for d in diags] == [
        ("CP109", 1, 3, "$"),
        ("CP109", 3, 5, "b[0]"),
        ("CP109", 3, 4308, "b[1]"),
    ]


def test_large_but_allowed_numbers_pass() -> None:
    assert load("a: " + "7" * 4300)["a"] == int("7" * 4300)  # type: ignore[index]
    assert load("a: 1e400")["a"] == math.inf  # type: ignore[index]


# ------------------------------------------------------------------ CP110 / CP111 documents


@pytest.mark.parametrize("text", ["", "   \n\n", "# only a comment\n# another\n"])
def test_cp110_no_document(text: str) -> None:
    diag = only(text)
    assert at(diag) == ("CP110", None, None, "$")


def test_cp110_empty_document() -> None:
    assert only("---\n# nothing\n").code == "CP110"


def test_cp110_two_documents() -> None:
    diag = only("a: 1\n---\nb: 2\n")
    assert at(diag) == ("CP110", 2, 1, "$")
    assert "`---`" in (diag.hint or "")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("- a\n- b\n", "a list"),
        ("just text\n", "text `just text`"),
        ("42\n", "a number"),
        ("~\n", "null"),
        ("'quoted'\n", "text `quoted`"),
    ],
)
def test_cp111_top_level_must_be_a_mapping(text: str, found: str) -> None:
    diag = only(text)
    assert at(diag) == ("CP111", 1, 1, "$")
    assert diag.message == f"the top level of a pack must be a mapping, found {found}"


# ------------------------------------------------------------------ unexpected failures


def test_unexpected_exceptions_become_diagnostics(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str) -> object:
        raise RuntimeError("surprise")

    monkeypatch.setattr(_yaml, "_resolve_plain", boom)
    diag = only("a:\n  b: 1\n")
    assert diag.code == "CP199"
    assert "`RuntimeError`" in diag.message and diag.line is not None

    def deep(text: str) -> object:
        raise RecursionError

    monkeypatch.setattr(_yaml, "_resolve_plain", deep)
    assert only("a: 1\n").code == "CP103"


def test_error_message_names_file_and_count() -> None:
    with pytest.raises(PackLoadError) as info:
        read_yaml("a: 1\na: 2\na: 3\n", "policies/x.yaml")
    assert str(info.value).startswith("cannot read `policies/x.yaml`: 2 problems")
    assert "policies/x.yaml:2:1: error[CP108]" in str(info.value)


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(TypeError):
        read_yaml(123)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        read_yaml("a: 1", max_depth=0)


# ------------------------------------------------------------------ positions


PACK = """\
id: p1
decisions:
  - id: first
    bands:
      - {min: 0, max: 3}
      - min: 4
        max: 10
  - id: second
    bands: []
notes:
"""


def test_positions_for_nested_paths_and_list_indices() -> None:
    data, pos = read_yaml(PACK, "pack.yaml")
    assert isinstance(pos, Positions)
    assert pos.filename == "pack.yaml"
    assert data["decisions"][0]["bands"][1] == {"min": 4, "max": 10}  # type: ignore[index]
    assert data["notes"] is None  # type: ignore[index]

    assert pos.value(()) == Mark(1, 1)
    assert pos.value(("id",)) == Mark(1, 5)
    assert pos.key(("id",)) == Mark(1, 1)
    assert pos.value(("decisions",)) == Mark(3, 3)
    assert pos.key(("decisions",)) == Mark(2, 1)
    assert pos.value(("decisions", 0)) == Mark(3, 5)
    assert pos.key(("decisions", 0)) == Mark(3, 5)  # list items have no key
    assert pos.value(("decisions", 0, "bands", 0)) == Mark(5, 9)
    assert pos.value(("decisions", 0, "bands", 0, "max")) == Mark(5, 23)
    assert pos.key(("decisions", 0, "bands", 0, "max")) == Mark(5, 18)
    assert pos.value(("decisions", 0, "bands", 1, "max")) == Mark(7, 14)
    assert pos.key(("decisions", 0, "bands", 1, "max")) == Mark(7, 9)
    assert pos.value(("decisions", 1, "bands")) == Mark(9, 12)
    assert pos.key(("decisions", 1, "id")) == Mark(8, 5)


def test_positions_fall_back_to_deepest_existing_prefix() -> None:
    _, pos = read_yaml(PACK)
    assert not pos.has(("decisions", 1, "bands", 0))
    assert pos.value(("decisions", 1, "bands", 0, "min")) == Mark(9, 12)
    assert pos.key(("decisions", 1, "missing")) == Mark(8, 5)
    assert pos.value(("nope", "deeper")) == Mark(1, 1)
    assert pos.has(("decisions", 0, "bands", 1, "min"))
    assert pos.has(())
    assert pos.value(["decisions", 0]) == Mark(3, 5)  # any sequence works as a path


# ------------------------------------------------------------------ loaders and speed


@pytest.mark.skipif(not HAVE_LIBYAML, reason="optional libyaml absent: PyYAML was built without its C parser")
def test_sixty_kilobyte_pack_is_fast() -> None:
    lines = ["id: big", "decisions:"]
    i = 0
    while sum(len(line) + 1 for line in lines) < 60_000:
        lines += [
            f"  - id: d{i}",
            f"    title: 'decision {i}: text'",
            "    bands:",
            f"      - {{min: {i}, max: {i + 10}, label: amber}}",
            f"      - min: {i}.5",
            "        label: red",
        ]
        i += 1
    text = "\n".join(lines) + "\n"
    read_yaml(text)  # warm up
    start = time.perf_counter()
    data, _ = read_yaml(text)
    assert time.perf_counter() - start < 0.1
    assert len(data["decisions"]) == i  # type: ignore[index]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\n", ("CP104", 1, 4, "a")),
        ("a: !!str 1\n", ("CP105", 1, 4, "a")),
        ("a:\n  <<: {}\n", ("CP106", 2, 3, "a")),
        ("a: [[[1]]]\n", ("CP107", 1, 6, "a[0][0]")),
        ("a: 1\n'a': 2\n", ("CP108", 2, 1, "a")),
        ("a: 1\n---\n", ("CP110", 2, 1, "$")),
        ("- 1\n", ("CP111", 1, 1, "$")),
        ("a:\n\tb: 1\n", ("CP103", 2, 1, "a")),
    ],
)
def test_pure_python_loader_gives_the_same_codes_and_marks(
    monkeypatch: pytest.MonkeyPatch, text: str, expected: tuple
) -> None:
    """The pure parser is the fallback when libyaml is missing; the profile must not depend on which runs."""
    monkeypatch.setattr(_yaml, "_LOADER", yaml.SafeLoader)
    diag = only(text, max_depth=3)
    code, line, col, path = expected
    assert (diag.code, diag.line, diag.col) == (code, line, col)
    if code != "CP103":
        assert diag.path == path
    assert load("a: [1, {b: NO}]\n") == {"a": [1, {"b": "NO"}]}


# ------------------------------------------------------------------ fuzz


def read_or_pack_error(data: bytes | str) -> None:
    try:
        value, pos = read_yaml(data, "fuzz.yaml")
    except PackLoadError as exc:
        assert exc.diagnostics
        assert all(d.code.startswith("CP1") for d in exc.diagnostics)
    else:
        assert isinstance(value, dict)
        assert pos.has(())


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
YAMLISH = st.lists(
    st.sampled_from(list("ab1.:-[]{},'\"&*!|>#?%@`\n \t~<\\é\r") + ["\u2028", "---", "<<", "0x", ".inf", "  "]),
    max_size=60,
).map("".join)


@FUZZ
@given(st.binary())
def test_fuzz_bytes(data: bytes) -> None:
    read_or_pack_error(data)


@FUZZ
@given(st.text())
def test_fuzz_text(text: str) -> None:
    read_or_pack_error(text)


@FUZZ
@given(YAMLISH)
def test_fuzz_yaml_like_text(text: str) -> None:
    read_or_pack_error(text)


def _loader_with_nesting_limit(base: type, limit: int) -> type:
    """A parser that refuses nesting past ``limit`` while scanning ahead, as libyaml 0.2.6 does at 1,000."""

    class Limited(base):  # type: ignore[valid-type,misc]
        def _too_deep(self) -> None:
            mark = self.get_mark()
            raise yaml.scanner.ScannerError("while scanning", mark, "third-party nesting limit", mark)

        def add_indent(self, column: int) -> bool:
            if self.flow_level + len(self.indents) >= limit:
                self._too_deep()
            return bool(super().add_indent(column))

        def fetch_flow_collection_start(self, token_class: type) -> None:
            if self.flow_level + len(self.indents) >= limit:
                self._too_deep()
            super().fetch_flow_collection_start(token_class)

    return Limited


DEEP_TEXTS = {
    "flow brackets": ("a: " + "[" * 100_000, ("CP107", 1, 67, "a" + "[0]" * 63)),
    "flow braces": ("{a: " * 5_000, ("CP107", 1, 257, ".".join(["a"] * 64))),
    "compact block entries": ("a:\n" + "- " * 5_000 + "x", ("CP107", 2, 127, "a" + "[0]" * 63)),
    "indented blocks": (nested_blocks(200), ("CP107", 65, 129, ".".join(f"k{i}" for i in range(64)))),
    # refused for other reasons first; the verdict must not depend on the parser's limit
    "keys after keys": ("a: " * 3_000 + "x", None),
    "complex keys": ("a:\n  " + "? " * 3_000 + "x", None),
}


@pytest.mark.parametrize("limit", [66, 100, 1_000])
@pytest.mark.parametrize("name", sorted(DEEP_TEXTS))
def test_our_depth_limit_speaks_before_any_parser_limit(monkeypatch: pytest.MonkeyPatch, name: str, limit: int) -> None:
    """The 64-level promise holds whatever nesting limit (and look-ahead) the YAML parser has."""
    text, _ = DEEP_TEXTS[name]
    unlimited = only(text)
    monkeypatch.setattr(_yaml, "_LOADER", _loader_with_nesting_limit(yaml.SafeLoader, limit))
    limited = only(text)
    assert at(limited) == at(unlimited)
    expected = DEEP_TEXTS[name][1]
    if expected is not None:
        assert at(unlimited) == expected


# ------------------------------------------------------------------ CP101 line separators and invisible characters


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
@pytest.mark.parametrize(
    ("template", "line", "col"),
    [
        ("# a comment{c} x: [\na: 1\n", 1, 12),  # a YAML 1.1 line break would end the comment and open `[`
        ("a: 1\nb: one{c}two\n", 2, 7),
        ("a: 1\nb: 'one{c}two'\n", 2, 8),
        ("a: 1\n{c}b: 2\n", 2, 1),
    ],
)
def test_cp101_nel_and_unicode_line_separators_are_refused_where_they_are(
    char: str, template: str, line: int, col: int
) -> None:
    """Regression: U+0085/U+2028/U+2029 in a comment ended it, then "top level must be a mapping" at line 3."""
    text = template.format(c=char)
    for data in (text, text.encode()):
        diag = only(data)
        assert at(diag) == ("CP101", line, col, "")
        assert f"`U+{ord(char):04X}`" in diag.message
        assert "YAML 1.1" in (diag.hint or "")


def test_lines_are_counted_only_at_line_feeds_and_carriage_returns() -> None:
    """With the YAML 1.1 breaks refused, the reader, the parsers and every editor agree on line numbers."""
    diag = only("a: 1\r\nb: 2\rc: [\n")
    assert (diag.code, diag.line) == ("CP103", 4)
    assert _yaml._line_col("a\r\nb\rc\nd\u2028e", 9) == (4, 3)  # U+2028 is not a break to us


@pytest.mark.parametrize(
    ("char", "name"),
    [("\u202e", "right-to-left override"), ("\u2066", "left-to-right isolate"), ("\u200b", "zero width space"),
     ("\ufeff", "byte order mark"), ("\U000e0041", "tag latin capital letter a")],
)
def test_cp101_raw_bidi_and_invisible_format_characters_are_refused_even_in_comments(char: str, name: str) -> None:
    for text, line, col in ((f"a: 1 # note {char}\n", 1, 13), (f"a: 1\nb: x{char}y\n", 2, 5)):
        diag = only(text)
        assert at(diag) == ("CP101", line, col, "")
        assert f"({name})" in diag.message
        assert "format characters" in (diag.hint or "")


@pytest.mark.parametrize(
    ("escape", "codepoint"),
    [("\\0", "U+0000"), ("\\a", "U+0007"), ("\\x1b[2J", "U+001B"), ("\\e]0;title\\a", "U+001B"),
     ("\\u202e", "U+202E"), ("\\r", "U+000D"), ("\\b", "U+0008"), ("\\N", "U+0085"), ("\\L", "U+2028"),
     ("\\P", "U+2029"), ("\\u200b", "U+200B"), ("\\U000e0041", "U+E0041"), ("\\x9b", "U+009B")],
)
def test_cp101_control_characters_written_as_escapes_are_refused_at_their_scalar(escape: str, codepoint: str) -> None:
    """Regression: `"\\0 \\a \\x1b[2J \\u202e"` validated although a raw NUL is refused."""
    diag = only(f'a: 1\nb:\n  c: "x {escape} y"\n')
    assert at(diag) == ("CP101", 3, 6, "b.c")
    assert f"`{codepoint}`" in diag.message and "escape" in diag.message
    assert diag.hint
    key = only(f'a: 1\n"k{escape}": 2\n')
    assert at(key)[:3] == ("CP101", 2, 1)


def test_tabs_and_line_breaks_written_as_escapes_are_fine() -> None:
    assert load('a: "x\\ty\\nz"\nb: "\\_ \\/ \\\\ \\" \\u00e9"\n') == {"a": "x\ty\nz", "b": "\xa0 / \\ \" é"}


def test_the_reader_lists_at_most_a_hundred_problems_and_counts_the_rest() -> None:
    text = "".join(f'k{i}: "\\x1b"\n' for i in range(250))
    start = time.perf_counter()
    diags = fail(text)
    assert time.perf_counter() - start < 1.0
    assert len(diags) == 101
    assert [d.code for d in diags[:100]] == ["CP101"] * 100
    assert [d.line for d in diags[:100]] == list(range(1, 101))
    more = diags[-1]
    assert (more.code, more.line, more.col, more.message) == ("CP112", 101, 7, "150 more problems not shown")
