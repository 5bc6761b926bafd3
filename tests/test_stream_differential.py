"""The streaming backend against the core: after every step of a generated stream, every decision and
every trigger agree with the core evaluating the accumulated history, and the changes the stream
reports are exactly the differences between consecutive core results.

Hypothesis generates the streams from each pack (its kinds, filter values and window edges), for
every shipped pack and the test packs; a disagreement fails with the shrunk stream. The `ci` profile
runs 40 streams per pack, `CAREPOLICY_PROFILE=deep` 10,000; the counts are printed in the terminal
summary (tests/conftest.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, note

from carepolicy import stream

from _stream_support import PACKS, SHIPPED, changes_seen, expected_changes, needs_stream, oracle, streams
from conftest import STREAM_EVENTS, STREAMED

pytestmark = needs_stream

def _replay(packs: list[Any], start: Any, record: dict[str, Any], ops: list[tuple[Any, ...]], counted: str) -> None:
    s = stream.open_stream(packs)
    try:
        day = start
        events: list[dict[str, Any]] = []
        changes = s.open("p", record, day)
        before: dict[str, Any] = {}
        steps = [("open",)] + ops
        for i, op in enumerate(steps):
            if op[0] == "post":
                day += timedelta(days=op[2])
                changes = s.post("p", op[1], day)
                events.append(op[1])
                STREAM_EVENTS[counted] += 1
            elif op[0] == "advance":
                day += timedelta(days=op[1])
                changes = s.advance("p", day)
            elif op[0] == "update":
                day += timedelta(days=op[2])
                record = op[1]
                changes = s.update("p", record, day)
            note(f"step {i}: {op[0]} as of {day}: {len(events)} events")
            decisions = s.decisions("p")
            triggers = s.triggers("p")
            for pack in packs:
                if not pack.in_force(day):
                    assert pack.id not in decisions
                    continue
                core = oracle(pack, record, events, day)
                got = (decisions[pack.id], {(t.owner, t.rule) for t in triggers[pack.id]})
                assert got[0] == core[0], f"{pack.id}: decisions differ at step {i}"
                assert got[1] == core[1], f"{pack.id}: triggers differ at step {i}"
                assert changes_seen(changes, pack.id) == expected_changes(before.get(pack.id), core), \
                    f"{pack.id}: reported changes differ at step {i}"
                before[pack.id] = core
        STREAMED[counted] += 1
    finally:
        s.close_all()


@pytest.mark.parametrize("name", sorted(PACKS))
def test_each_pack_streams_as_the_core_decides(name: str) -> None:
    pack = PACKS[name]

    @given(streams([pack]))
    def prop(case: Any) -> None:
        start, record, ops = case
        _replay([pack], start, record, ops, pack.id)

    prop()


def test_all_shipped_packs_in_one_stream_agree_with_the_core() -> None:
    @given(streams(SHIPPED, max_ops=16))
    def prop(case: Any) -> None:
        start, record, ops = case
        _replay(SHIPPED, start, record, ops, "all-shipped")

    prop()
