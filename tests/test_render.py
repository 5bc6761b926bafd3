"""Ladder pictures: every state and move is drawn; images only when Graphviz is installed; the graph command."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from carepolicy import load_pack
from carepolicy import render
from carepolicy.cli import parse_args, run
from carepolicy.render import RenderError, graphviz_available, render_image, to_dot, to_markdown, to_mermaid

DATA = Path(__file__).parent / "data" / "ladders" / "valid"
PACK = load_pack(DATA / "example.yaml")
LADDER = PACK.model.ladder
HAVE_DOT = graphviz_available()


def test_mermaid_has_every_state_edge_and_colour():
    text = to_mermaid(PACK)
    assert text.startswith("flowchart LR\n")
    for s in LADDER.states:
        assert f'{"s_" + s.id.replace("-", "_")}' in text and render.state_lines(s)[0] in text
    edges = re.findall(r"^    (s_\w+) (?:-->|==>|-\.->)\|\"([^\"]*)\"\| (s_\w+)$", text, re.M)
    assert [(a, label.split("<br/>")[0], b) for a, label, b in edges] == [
        ("s_" + t.from_.replace("-", "_"), t.id, "s_" + t.to.replace("-", "_")) for t in LADDER.transitions]
    assert "class s_final_warning,s_terminated sev4" in text and "start --> s_monitoring" in text
    assert "quorum ≥3 incl. chair, manager" in text and "starts plan-agreed (10 working days)<br/>  → issue-notice" in text
    assert text.count("linkStyle") == len(LADDER.transitions)


def test_dot_has_every_state_edge_and_marks():
    text = to_dot(PACK)
    for s in LADDER.states:
        assert re.search(rf'^  "{s.id}" \[label="{re.escape(render.state_lines(s)[0])}', text, re.M)
    for t in LADDER.transitions:
        assert re.search(rf'^  "{t.from_}" -> "{t.to}" \[label="{t.id}\\n', text, re.M), t.id
    assert 'peripheries=2' in text and 'style="bold"' in text and 'fillcolor="#e57373"' in text
    assert to_dot(PACK) == text  # deterministic


def test_markdown_wraps_mermaid():
    md = to_markdown(PACK)
    assert md.startswith("# Example Borough Council") and "```mermaid\nflowchart LR" in md and md.endswith("```\n")


def test_labels_are_escaped():
    assert render._q('a "b" \\ c\nd') == '"a \\"b\\" \\\\ c\\nd"'
    assert render._mtext(['say "hi" <b>']) == "say #quot;hi#quot; &lt;b&gt;"


NO_DOT = "optional graphviz absent: the `dot` program is not installed (CI installs it: .ci/run)"


def test_images_from_graphviz():
    if not HAVE_DOT:  # fails, not skips, where CAREPOLICY_REQUIRE names graphviz (CI; conftest.py)
        pytest.skip(NO_DOT)
    svg = render_image(to_dot(PACK), "svg").decode()
    assert svg.lstrip().startswith("<?xml") and all(render.state_lines(s)[0] in svg for s in LADDER.states)
    assert render_image(to_dot(PACK), "png")[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(RenderError, match="`dot` failed"):
        render_image("digraph {", "svg")


def test_images_without_graphviz_say_so(monkeypatch):
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.raises(RenderError, match="Graphviz `dot` program is not installed"):
        render_image(to_dot(PACK), "svg")


def _cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    return run(parse_args(list(argv)), out, err), out.getvalue(), err.getvalue()


def test_graph_command_writes_files(tmp_path):
    code, out, _ = _cli("graph", str(DATA), "--out", str(tmp_path / "g"))
    assert code == 0 and sorted(p.name for p in (tmp_path / "g").iterdir()) == [
        "example-ladder.dot", "example-ladder.md", "example-ladder.mmd"]
    assert (tmp_path / "g" / "example-ladder.dot").read_text() == to_dot(PACK)
    code, out, _ = _cli("graph", str(DATA / "example.yaml"))
    assert code == 0 and out == to_mermaid(PACK)


def test_graph_command_exit_codes(tmp_path, monkeypatch):
    valid = Path(__file__).parent / "data" / "packs" / "valid" / "everything.yaml"
    code, _, err = _cli("graph", str(valid))
    assert code == 1 and "has no ladder" in err
    assert _cli("graph", str(tmp_path / "missing.yaml"))[0] == 2
    code, _, err = _cli("graph", str(Path(__file__).parent / "data" / "ladders" / "CP302_unknown_state.yaml"))
    assert code == 1 and "CP302" in err
    assert _cli("graph", str(DATA), "--format", "svg")[0] == 2  # images need --out
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    code, _, err = _cli("graph", str(DATA), "--format", "png", "--out", str(tmp_path))
    assert code == 2 and "not installed" in err


def test_graph_command_svg(tmp_path):
    if not HAVE_DOT:
        pytest.skip(NO_DOT)
    code, out, _ = _cli("graph", str(DATA), "--format", "svg", "--format", "png", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "example-ladder.svg").exists() and (tmp_path / "example-ladder.png").exists()
    svg = (tmp_path / "example-ladder.svg").read_text()
    assert all(render.state_lines(s)[0] in svg for s in LADDER.states)
    assert (tmp_path / "example-ladder.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
