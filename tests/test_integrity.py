"""Pinned pack hashes: a council can prove which pack decided (``load_pack(sha256=...)``, ``--pin``, ``--pins``)."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import pytest

from carepolicy import PackLoadError, load_pack, loads_pack
from carepolicy.cli import parse_args, run

ROOT = Path(__file__).resolve().parent.parent
WIRRAL = "policies/wirral.yaml"
EVERYTHING = "tests/data/packs/valid/everything.yaml"
MEADOWBANK = "examples/meadowbank-house.json"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def sha(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def other(digest: str) -> str:
    """The same digest with its last hex digit changed."""
    return digest[:-1] + ("0" if digest[-1] != "0" else "1")


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda s: "sha256:" + s, lambda s: f"  {s}\n"])
def test_pinned_hash_that_matches_loads(spelling) -> None:  # type: ignore[no-untyped-def]
    pack = load_pack(WIRRAL, sha256=spelling(sha(WIRRAL)))
    assert pack.sha256 == sha(WIRRAL) and pack.id == "wirral-qip"


def test_pinned_hash_that_differs_is_a_located_cp112() -> None:
    with pytest.raises(PackLoadError) as info:
        load_pack(WIRRAL, sha256=other(sha(WIRRAL)))
    [d] = info.value.diagnostics
    assert (d.code, d.file, d.path, d.line, d.col) == ("CP114", WIRRAL, "$", None, None)
    assert d.message == f"the file's sha256 is `{sha(WIRRAL)}`, not the pinned `{other(sha(WIRRAL))}`"
    assert d.hint and "pin the new hash" in d.hint


def test_a_pin_is_checked_before_anything_is_parsed() -> None:
    text = b"pack: [unclosed\n"
    with pytest.raises(PackLoadError) as info:
        loads_pack(text, "bad.yaml", sha256="0" * 64)
    assert [d.code for d in info.value.diagnostics] == ["CP114"]
    with pytest.raises(PackLoadError) as info:  # the right pin lets the real problem through
        loads_pack(text, "bad.yaml", sha256=hashlib.sha256(text).hexdigest())
    assert [d.code for d in info.value.diagnostics] == ["CP103"]


def test_text_is_pinned_by_its_utf8_bytes() -> None:
    text = (ROOT / EVERYTHING).read_text(encoding="utf-8")
    assert loads_pack(text, sha256=sha(EVERYTHING)).sha256 == sha(EVERYTHING)


@pytest.mark.parametrize("bad", ["", "xyz", "0" * 63, "0" * 65, "g" * 64, "sha1:" + "0" * 64])
def test_a_malformed_pin_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a sha256 digest"):
        load_pack(WIRRAL, sha256=bad)


# --------------------------------------------------------------------------- command line


def test_validate_with_matching_pins() -> None:
    code, out, err = cli("validate", "policies/", "--pin", f"wirral-qip={sha(WIRRAL)}",
                         "--pin", f"bolton-qaf@1.0.0={sha('policies/bolton.yaml')}")
    assert (code, err) == (0, "")
    assert out.count("ok    ") == 5


def test_validate_with_a_differing_pin_fails_that_file_only() -> None:
    code, out, err = cli("validate", "policies/", "--pin", f"wirral-qip={other(sha(WIRRAL))}")
    assert code == 1
    assert f"FAIL  {WIRRAL}: 1 problem(s)\n" in out and out.count("ok    ") == 4
    assert err.startswith(f"{WIRRAL}: error[CP114] the file's sha256 is `{sha(WIRRAL)}`")


def test_validate_json_reports_the_pin_problem() -> None:
    code, out, _ = cli("validate", WIRRAL, "--format", "json", "--pin", f"wirral-qip={other(sha(WIRRAL))}")
    data = json.loads(out)
    assert code == 1
    assert [d["code"] for d in data["diagnostics"]] == ["CP114"]
    assert data["files"][0]["ok"] is False and data["files"][0]["sha256"] == sha(WIRRAL)


def test_evaluate_refuses_every_decision_when_a_pin_differs() -> None:
    ok = cli("evaluate", MEADOWBANK, "--packs", "policies/", "--as-of", "2026-11-23", "--format", "json",
             "--pin", f"wirral-qip={sha(WIRRAL)}")
    assert ok[0] == 0 and len(json.loads(ok[1])) == 5
    assert {d["pack"]["sha256"] for d in json.loads(ok[1]) if d["pack"]["id"] == "wirral-qip"} == {sha(WIRRAL)}
    code, out, err = cli("evaluate", MEADOWBANK, "--packs", "policies/", "--as-of", "2026-11-23",
                         "--pin", f"wirral-qip={other(sha(WIRRAL))}")
    assert (code, out) == (1, "")
    assert "error[CP114]" in err


def test_a_pin_naming_no_loaded_pack_is_cp113(tmp_path: Path) -> None:
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"wirral-qpi": sha(WIRRAL)}), encoding="utf-8")
    code, out, err = cli("evaluate", MEADOWBANK, "--packs", "policies/", "--as-of", "2026-11-23", "--pins", str(pins))
    assert (code, out) == (1, "")
    assert err.startswith(f"{pins}: error[CP115] pinned pack `wirral-qpi` is not among the packs loaded\n")


def test_explain_with_pins_file(tmp_path: Path) -> None:
    pins = tmp_path / "pins.json"
    pins.write_text(json.dumps({"example-everything": sha(EVERYTHING).upper()}), encoding="utf-8")
    code, out, err = cli("explain", EVERYTHING, "--pins", str(pins))
    assert (code, err) == (0, "") and out.startswith("Example Borough Council: ")
    pins.write_text(json.dumps({"example-everything": other(sha(EVERYTHING))}), encoding="utf-8")
    code, out, err = cli("explain", EVERYTHING, "--pins", str(pins))
    assert (code, out) == (1, "") and "error[CP114]" in err


@pytest.mark.parametrize("argv, message", [
    (["--pin", "wirral-qip"], "--pin `wirral-qip` is not PACK_ID=SHA256"),
    (["--pin", "wirral-qip=abc"], "`abc` is not a sha256 digest (64 hex digits)"),
    (["--pin", "=" + "0" * 64], "is not PACK_ID=SHA256"),
    (["--pin", "a=" + "0" * 64, "--pin", "a=" + "1" * 64], "pack `a` is pinned to two different hashes"),
    (["--pins", "no/such/pins.json"], "cannot read pins from no/such/pins.json"),
])
def test_malformed_pins_are_usage_errors(argv: list[str], message: str) -> None:
    code, out, err = cli("validate", WIRRAL, *argv)
    assert (code, out) == (2, "")
    assert err.startswith("carepolicy: ") and message in err


def test_a_pins_file_must_be_an_object_of_digests(tmp_path: Path) -> None:
    pins = tmp_path / "pins.json"
    for content in ("[1]", '{"a": 1}', "{not json"):
        pins.write_text(content, encoding="utf-8")
        code, _, err = cli("validate", WIRRAL, "--pins", str(pins))
        assert code == 2 and "carepolicy: " in err and str(pins) in err
