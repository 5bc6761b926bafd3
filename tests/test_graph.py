"""Escalation-graph checks: each broken ladder in tests/data/ladders/ fails with its expected, located diagnostic."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carepolicy import PackLoadError, loads_pack
from carepolicy._graph import check_ladder, ladder_graph

LADDERS = Path(__file__).parent / "data" / "ladders"
CORPUS = sorted(LADDERS.glob("*.yaml"))
UPDATE = os.environ.get("CAREPOLICY_UPDATE_GOLDEN") == "1"


def _diagnostics(path: Path) -> list:
    with pytest.raises(PackLoadError) as info:
        loads_pack(path.read_bytes(), path.name)
    return info.value.diagnostics


def test_corpus_has_one_file_per_check():
    codes = {p.name.split("_")[0] for p in CORPUS}
    assert codes >= {f"CP3{n:02d}" for n in range(1, 13)}


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_broken_ladder_is_refused_with_located_diagnostic(path):
    diags = _diagnostics(path)
    code = path.name.split("_")[0]
    first = next(d for d in diags if d.code == code)
    assert first.line is not None and first.col is not None and first.path.startswith("ladder")
    rendered = "\n".join(str(d) for d in diags) + "\n"
    golden = path.with_suffix(".expected.txt")
    if UPDATE:
        golden.write_text(rendered)
    assert golden.exists(), f"no golden {golden.name}: run with CAREPOLICY_UPDATE_GOLDEN=1 and review it"
    assert rendered == golden.read_text()


def test_only_the_intended_check_fires():
    for path in CORPUS:
        codes = {d.code for d in _diagnostics(path)}
        expected = {path.name.split("_")[0]} | ({"CP305"} if path.name.startswith("CP306") else set())
        assert codes == expected, path.name


def test_sound_ladder_passes_and_graph_has_every_edge():
    text = (LADDERS / "CP305_direction.yaml").read_text().replace("to: closed, direction: de-escalate", "to: closed, direction: lateral")
    pack = loads_pack(text)
    assert check_ladder(pack.model) == []
    g = ladder_graph(pack.model.ladder)
    assert set(g.nodes) == {s.id for s in pack.model.ladder.states}
    assert {k for _, _, k in g.edges(keys=True)} == {t.id for t in pack.model.ladder.transitions}


def test_pack_without_ladder_has_no_graph_problems():
    text = (LADDERS / "CP305_direction.yaml").read_text()
    pack = loads_pack(text[: text.index("ladder:")])
    assert pack.model.ladder is None and check_ladder(pack.model) == []


def test_meets_names_a_deadline_no_transition_starts():
    text = (LADDERS / "CP312_meets_not_running.yaml").read_text().replace("meets: [plan-due]", "meets: [plan-dew]")
    (d,) = _diagnostics_of(text)
    assert d.code == "CP312" and "`plan-dew`, which is started by no transition" in d.message and d.path == "ladder.transitions[2].meets[0]"


def test_meets_a_deadline_running_in_the_state_it_leaves_is_sound():
    text = (LADDERS / "CP312_meets_not_running.yaml").read_text().replace(
        "{id: plan-reviewed, from: notice, to: notice,", "{id: plan-reviewed, from: improvement, to: improvement,")
    assert check_ladder(loads_pack(text).model) == []


def _diagnostics_of(text: str) -> list:
    with pytest.raises(PackLoadError) as info:
        loads_pack(text)
    return info.value.diagnostics
