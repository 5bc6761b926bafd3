"""The streaming backend's behaviour: what it reports, its dates, errors and limits, isolation between
providers, packs and streams, closing, thread safety and the packaging promise on Python 3.13."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import date, timedelta
from typing import Any

import pytest

import carepolicy as cp
from carepolicy import stream
from carepolicy.stream import DecisionChange, StreamError, StreamUnavailable, TriggerChange

from _stream_support import AVAILABLE, PACKS, ROOT, needs_stream, oracle, with_events, without_events

OXF = PACKS["oxfordshire"]
COUNTING = PACKS["counting"]


def _record(pack: cp.PolicyPack = OXF) -> dict[str, Any]:
    """A provider's evidence without its events: the Oxfordshire example's."""
    data = json.loads((ROOT / "examples" / "oxfordshire-windrush-meadows.json").read_text(encoding="utf-8"))
    return without_events(pack, data)


def alert(day: str, staff: str | None = "s-17", **fields: Any) -> dict[str, Any]:
    e = {"kind": "safeguarding_alert", "date": day, **fields}
    if staff:
        e["staff_member"] = staff
    return e


def test_the_streaming_backend_is_installed_where_ci_requires_it() -> None:
    """Where CI requires the extra (CAREPOLICY_REQUIRE, Python below 3.13) it must be there: a stream test
    skipped as `optional durable absent` fails there (tests/conftest.py), and so does this."""
    from conftest import OPTIONAL, REQUIRED

    if "durable" in REQUIRED:
        assert AVAILABLE and not OPTIONAL["durable"](), "durable-rules is missing: `pip install -e '.[dev,durable]'`"
    assert OPTIONAL["durable"]() is (not AVAILABLE)


def test_on_python_3_13_using_the_backend_raises_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import carepolicy._stream_host as host

    monkeypatch.setattr(host, "PYTHON", (3, 13))
    assert not stream.available()
    with pytest.raises(StreamUnavailable) as info:
        stream.open_stream(OXF)
    message = str(info.value)
    assert "python 3.13" in message.lower() and "PyEval_CallObject" in message
    assert "Python 3.11 or 3.12" in message and "carepolicy[durable]" in message
    assert "\n" not in message and message[0].islower()


def test_without_durable_rules_the_core_works_and_the_stream_says_how_to_install_it() -> None:
    code = ("import sys; sys.modules['durable'] = None; import carepolicy; from carepolicy import stream; "
            "p = carepolicy.load_pack('policies/wirral.yaml'); print(stream.available()); "
            "print(carepolicy.evaluate(p, {'provider': {'id': 'x', 'name': 'y', 'service_type': 'residential'}}, "
            "'2026-01-05').status)\n"
            "try:\n    stream.open_stream(p)\nexcept stream.StreamUnavailable as e:\n    print(e)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    available, status, message = done.stdout.strip().splitlines()
    assert available == "False" and status in {"decided", "insufficient_evidence", "out_of_scope"}
    if sys.version_info >= (3, 13):  # where it cannot load, that is what the message says first
        assert message.startswith("the streaming backend needs durable-rules, whose compiled module does not load")
    else:
        assert message.startswith("the streaming backend needs durable-rules, which is not installed")
    assert "pip install 'carepolicy[durable]'" in message


def test_the_core_never_imports_durable_rules() -> None:
    """Loading, evaluating and even importing the stream module leave durable-rules unloaded: only a
    stream that is opened (or `available()`) imports it."""
    code = ("import sys, carepolicy, carepolicy.stream; p = carepolicy.load_pack('policies/bolton.yaml'); "
            "carepolicy.evaluate(p, {'provider': {'id': 'x', 'name': 'y', 'service_type': 'residential'}}, '2026-01-05'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('durable', 'durable_rules_engine')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@needs_stream
def test_a_trigger_fires_with_its_rule_and_clause_and_the_decision_change_is_reported() -> None:
    with stream.open_stream(OXF) as s:
        s.open("1-101", _record(), "2026-03-01")
        assert not [c for c in s.post("1-101", alert("2026-03-02"), "2026-03-02") if isinstance(c, TriggerChange)
                    and c.rule == "t04-multiple-alerts-same-staff-member"]
        changes = s.post("1-101", alert("2026-03-05"), "2026-03-05")
        [fired] = [c for c in changes if isinstance(c, TriggerChange) and c.rule == "t04-multiple-alerts-same-staff-member"]
        assert (fired.fired, fired.owner, fired.clause, fired.cause, fired.event) == (
            True, "annex1_concern_level", "Annex 1, section 2, trigger 4", "event", 2)
        assert fired.to_dict()["state"] == "fired" and fired.to_dict()["as_of"] == "2026-03-05"
        decision = {c.decision: c for c in changes if isinstance(c, DecisionChange)}
        core, _ = oracle(OXF, _record(), [alert("2026-03-02"), alert("2026-03-05")], date(2026, 3, 5))
        for d_id, change in decision.items():
            assert change.after == core[d_id]
        assert s.decisions("1-101")["oxfordshire-qip"] == core
        json.dumps([c.to_dict() for c in changes])  # JSON-ready


@needs_stream
def test_windows_follow_the_as_of_date_given_never_the_clock() -> None:
    # two alerts naming one staff member within 10 working days; years before and long after today
    for year in (2021, 2085):
        s = stream.open_stream(COUNTING)
        s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, f"{year}-01-02")
        for d in ("01-05", "01-06"):
            s.post("p", {"kind": "safeguarding_alert", "date": f"{year}-{d}", "staff_member": "a"}, f"{year}-01-06")
        rule = ("level", "same-staff-10-working-days")
        assert rule in {(t.owner, t.rule) for t in s.triggers("p")["stream-counting"]}
        # 10 working days after 5 January: the window has moved past the first alert
        changes = s.advance("p", f"{year}-01-20")
        cleared = [c for c in changes if isinstance(c, TriggerChange) and (c.owner, c.rule) == rule]
        assert cleared and not cleared[0].fired and cleared[0].cause == "as_of"
        s.close_all()


@needs_stream
def test_an_event_dated_after_the_as_of_date_counts_when_the_date_reaches_it() -> None:
    with stream.open_stream(COUNTING) as s:
        s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, "2026-01-05")
        s.post("p", {"kind": "incident", "date": "2026-02-01", "people_affected": 5}, "2026-01-05")
        held = lambda: {(t.owner, t.rule) for t in s.triggers("p")["stream-counting"]}  # noqa: E731
        assert ("level", "many-people") not in held()
        s.advance("p", "2026-01-31")
        assert ("level", "many-people") not in held()
        changes = s.advance("p", "2026-02-01")
        assert ("level", "many-people", True) in {(c.owner, c.rule, c.fired) for c in changes if isinstance(c, TriggerChange)}
        assert ("level", "many-people") in held()


@needs_stream
def test_mistakes_are_located_errors() -> None:
    with stream.open_stream(OXF) as s:
        with pytest.raises(StreamError, match=r"provider `nobody` is not open"):
            s.post("nobody", alert("2026-03-02"), "2026-03-02")
        s.open("p", _record(), "2026-03-05")
        with pytest.raises(StreamError, match=r"already open"):
            s.open("p", _record(), "2026-03-05")
        with pytest.raises(StreamError, match=r"as-of date 2026-03-04 is before provider `p`'s as-of date 2026-03-05"):
            s.post("p", alert("2026-03-02"), "2026-03-04")
        with pytest.raises(cp.EvidenceError) as info:
            s.post("p", {"kind": "safeguarding_alert", "date": "2026-03-02", "staf_member": "x"}, "2026-03-05")
        [d] = info.value.diagnostics
        assert (d.code, d.path, d.hint) == ("CP401", "event.staf_member", "did you mean `staff_member`?")
        with pytest.raises(cp.EvidenceError):
            s.post("p", {"kind": "alert", "date": "2026-03-02"}, "2026-03-05")
        with pytest.raises(StreamError, match=r"carries events .* post them one by one"):
            s.update("p", with_events(OXF, _record(), [alert("2026-03-01")]))
        with pytest.raises(cp.EvaluationError, match="is not a date"):
            s.advance("p", "tomorrow")
        # nothing of the refused calls was kept
        assert s.decisions("p") == {"oxfordshire-qip": oracle(OXF, _record(), [], date(2026, 3, 5))[0]}


@needs_stream
def test_evidence_updates_replace_everything_but_the_events() -> None:
    base = _record()
    with stream.open_stream(OXF) as s:
        s.open("p", base, "2026-03-01")
        events = [alert("2026-03-02"), alert("2026-03-03", remedied=False)]
        for e in events:
            s.post("p", e, "2026-03-04")
        other = json.loads(json.dumps(base))
        other.setdefault("local", {}).setdefault("oxfordshire", {})["whole_service_concern"] = True
        changes = s.update("p", other)
        assert all(c.cause == "evidence" for c in changes)
        assert s.decisions("p")["oxfordshire-qip"] == oracle(OXF, other, events, date(2026, 3, 4))[0]


@needs_stream
def test_closing_a_provider_leaves_nothing_of_it() -> None:
    from carepolicy._stream_host import host

    with stream.open_stream(COUNTING) as s:
        s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, "2026-01-05")
        for i in range(5):  # windowed and future events: durable-rules holds them
            s.post("p", {"kind": "complaint", "date": f"2026-01-{5 + 2 * i:02d}", "theme": "a", "level": "high"},
                   "2026-01-05")
        session = next(iter(s._providers["p"].sessions.values()))
        assert host().facts(session)
        s.close("p")
        assert host().facts(session) == [] and session.tallies == [] and not session.kept
        assert s.providers() == []
        with pytest.raises(StreamError):
            s.decisions("p")
        # opened again, it starts from nothing
        s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, "2026-01-20")
        assert s.decisions("p")["stream-counting"] == oracle(COUNTING, {"provider": {"id": "p", "name": "P",
                                                             "service_type": "residential"}}, [], date(2026, 1, 20))[0]


@needs_stream
def test_interleaved_providers_packs_and_streams_never_leak() -> None:
    """Two streams over the same pack (one ruleset, different sessions), a third over all packs,
    providers interleaved: each agrees with the core over its own history only."""
    packs = [PACKS[n] for n in ("oxfordshire", "bolton", "counting")]
    a, b, both = stream.open_stream(packs[0]), stream.open_stream(packs[0]), stream.open_stream(packs)
    record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}
    histories: dict[tuple[int, str], list[dict[str, Any]]] = {}
    streams = [a, b, both]
    for s in streams:
        for p in ("x", "y"):
            s.open(p, record, "2026-01-01")
    day = date(2026, 1, 1)
    kinds = ["safeguarding_alert", "complaint", "incident", "care_concern", "s42_enquiry"]
    for i in range(120):
        si, p = i % 3, "xy"[(i // 3) % 2]
        day += timedelta(days=i % 2)
        e = {"kind": kinds[i % 5], "date": (day - timedelta(days=i % 7)).isoformat(), "staff_member": f"s{i % 4}",
             "theme": "ab"[i % 2], "level": "high", "harm": "moderate", "remedied": False, "open": True}
        streams[si].post(p, e, day)
        histories.setdefault((si, p), []).append(e)
        for sj, s in enumerate(streams):
            for q in ("x", "y"):
                if streams[sj].as_of(q) != day:
                    s.advance(q, day)
    for si, s in enumerate(streams):
        for p in ("x", "y"):
            for pack in (packs if s is both else packs[:1]):
                core = oracle(pack, record, histories.get((si, p), []), day)
                assert s.decisions(p)[pack.id] == core[0], (si, p, pack.id)
                assert {(t.owner, t.rule) for t in s.triggers(p)[pack.id]} == core[1]
    for s in streams:
        s.close_all()


@needs_stream
def test_one_ruleset_per_pack_version_registered_once_under_its_content_name() -> None:
    from carepolicy._stream_host import host

    again = cp.loads_pack((ROOT / "policies/oxfordshire.yaml").read_text(encoding="utf-8"))
    s1, s2 = stream.open_stream(OXF), stream.open_stream(again)
    [name] = stream.ruleset(OXF)
    assert name == next(iter(stream.ruleset(again))) and name.startswith("carepolicy_oxfordshire_qip_1_0_0_")
    assert host().registered().count(name) == 1
    json.dumps(stream.ruleset(OXF))  # plain data
    s1.close_all()
    s2.close_all()


@needs_stream
def test_open_providers_are_limited_per_pack_and_the_limit_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    import carepolicy._stream_host as host_module

    monkeypatch.setattr(host_module, "MAX_SESSIONS_PER_RULESET", 3)
    with stream.open_stream(COUNTING) as s:
        record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}
        for p in "abc":
            s.open(p, record, "2026-01-05")
        with pytest.raises(StreamError, match=r"cannot open provider `d`: 3 providers are already open .* close providers"):
            s.open("d", record, "2026-01-05")
        s.close("a")
        s.open("d", record, "2026-01-05")


@needs_stream
def test_a_provider_holds_at_most_the_events_the_evidence_model_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}
    too_many = with_events(COUNTING, record, [{"kind": "complaint", "date": "2026-01-01"}] * (stream.MAX_EVENTS_PER_PROVIDER + 1))
    with pytest.raises(cp.EvidenceError):  # the core refuses the same history
        cp.evaluate(COUNTING, too_many, "2026-01-05")
    monkeypatch.setattr(stream, "MAX_EVENTS_PER_PROVIDER", 2)
    with stream.open_stream(COUNTING) as s:
        s.open("p", record, "2026-01-05")
        s.post("p", {"kind": "complaint", "date": "2026-01-01"}, "2026-01-05")
        s.post("p", {"kind": "complaint", "date": "2026-01-02"}, "2026-01-05")
        with pytest.raises(StreamError, match=r"already has 2 events"):
            s.post("p", {"kind": "complaint", "date": "2026-01-03"}, "2026-01-05")


@needs_stream
def test_no_fact_is_ever_retracted_sessions_start_with_an_action_and_are_compacted() -> None:
    """The shapes that keep clear of durable-rules' memory faults (see carepolicy._stream_rules)."""
    from carepolicy._stream_host import host

    h = host()
    calls: list[tuple[str, str]] = []
    real = h._call

    def spy(session: Any, method: str, fact: dict[str, Any]) -> bool:
        calls.append((method, fact["t"]))
        return real(session, method, fact)

    h._call = spy  # type: ignore[method-assign]
    try:
        with stream.open_stream(COUNTING) as s:
            s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, "2026-01-05")
            for i in range(80):
                day = (date(2026, 1, 5) + timedelta(days=i)).isoformat()
                s.post("p", {"kind": "complaint", "date": day, "theme": "a", "level": "high"}, day)
            session = next(iter(s._providers["p"].sessions.values()))
            held = len(host().facts(session))
            assert held <= 2 * max(32, len(session.kept)) + 2
    finally:
        del h._call
    assert calls[0] == ("assert_fact", "open")
    assert ("assert_fact", "tick") in calls and not [c for c in calls if c[0] == "retract_fact"]
    assert calls.count(("assert_fact", "open")) > 1  # compacted: a fresh session started with its action again


@needs_stream
def test_eight_threads_lose_no_firing() -> None:
    """durable-rules is not thread-safe (peer-engines.md: 4 threads lost firings in 3,111 of 4,000
    evaluations); the stream serialises every call, so 8 threads sharing one stream and one ruleset
    fire exactly what one thread fires, and every provider ends as the core decides."""
    record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}

    def workload(t: int) -> list[tuple[str, dict[str, Any], date]]:
        out = []
        day = date(2026, 1, 5)
        for i in range(60):
            day += timedelta(days=(i * t) % 2)
            out.append((f"t{t}-p{i % 3}", {"kind": ["safeguarding_alert", "complaint", "incident", "care_concern"][i % 4],
                                          "date": (day - timedelta(days=(i + t) % 9)).isoformat(),
                                          "staff_member": f"s{(i + t) % 3}", "theme": "ab"[i % 2], "level": "high",
                                          "harm": "moderate", "learning_evidenced": False, "open": True}, day))
        return out

    def run(s: stream.Stream, t: int, changes: list[Any]) -> None:
        for p in {p for p, _, _ in workload(t)}:
            s.open(p, record, "2026-01-05")
        for p, e, day in workload(t):
            changes.extend(c.to_dict() for c in s.post(p, e, day))

    alone = stream.open_stream(COUNTING)
    expected: dict[int, list[Any]] = {t: [] for t in range(8)}
    for t in range(8):
        run(alone, t, expected[t])
    together = stream.open_stream(COUNTING)
    got: dict[int, list[Any]] = {t: [] for t in range(8)}
    threads = [threading.Thread(target=run, args=(together, t, got[t])) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert together.stats.firings == alone.stats.firings > 0
    assert got == expected
    for t in range(8):
        for p in {p for p, _, _ in workload(t)}:
            events = [e for q, e, _ in workload(t) if q == p]
            last = [d for q, _, d in workload(t) if q == p][-1]
            assert together.decisions(p)["stream-counting"] == oracle(COUNTING, record, events, last)[0]
    alone.close_all()
    together.close_all()


SMALL_PACK = """
carepolicy: 2
pack:
  id: stream-small
  authority: {id: example, name: Example Borough Council}
  title: Streaming soak-test pack
  version: "0.1"
  effective_from: "2020-01-01"
  source_document: {title: Example}
  headline: level
scales:
  - id: level
    values:
      - {id: none, label: None, severity: 0}
      - {id: concern, label: Concern, severity: 2}
inputs:
  - {id: events, path: events, type: events, worse: more}
decisions:
  - id: level
    kind: table
    hit: first
    scale: level
    source: "§1"
    rows:
      - id: same-staff
        when:
          count_events: {input: events, kinds: [safeguarding_alert], within: 3 months, group_by: staff_member}
          at_least: 2
        value: concern
        source: "§1 row 1"
    default: {value: none, source: "§1 default"}
"""

HUNDRED_THOUSAND = r'''
import json, sys
import carepolicy
from carepolicy import stream


def status(field):
    with open("/proc/self/status", encoding="ascii") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":"))


pack = carepolicy.load_pack(sys.argv[1])
record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}
s = stream.open_stream(pack)
fired, at = 0, {}
for i in range(100_000):
    if i == 10_000:  # warmed up: from here on the peak (VmHWM) is measured afresh
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        at["rss_10000"], at["peak_10000"] = status("VmRSS"), status("VmHWM")
    p = f"provider-{i}"
    s.open(p, record, "2026-01-05")
    s.post(p, {"kind": "safeguarding_alert", "date": "2026-01-04", "staff_member": "a"}, "2026-01-05")
    # dated ahead: held back, then counted when the as-of date reaches it
    changes = s.post(p, {"kind": "safeguarding_alert", "date": "2026-01-07", "staff_member": "a"}, "2026-01-07")
    fired += any(c.to_dict().get("state") == "fired" for c in changes)
    s.close(p)
at["rss_100000"], at["peak_10000_to_100000"] = status("VmRSS"), status("VmHWM")
st = s.stats
print(json.dumps({**at, "opened": st.opened, "closed": st.closed, "events": st.events, "firings": st.firings,
                  "fired": fired, "providers": s.providers()}))
'''


@needs_stream
def test_a_hundred_thousand_providers_stream_through_one_process_in_flat_memory(tmp_path: Any) -> None:
    """In a fresh process, whose own peak (VmHWM, reset after 10,000 providers through /proc/self/clear_refs)
    is read, not ru_maxrss, which Linux carries over from the parent test session."""
    pack = tmp_path / "small.yaml"
    pack.write_text(SMALL_PACK, encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", HUNDRED_THOUSAND, str(pack)],
                          capture_output=True, text=True, timeout=1800, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["opened"] == out["closed"] == 100_000 and out["events"] == 200_000 and out["providers"] == []
    assert out["firings"] == 200_000 and out["fired"] == 100_000  # every provider's second alert fired the trigger
    growth = out["peak_10000_to_100000"] - out["rss_10000"]
    print(f"100,000 providers: {out['rss_10000']:,} KiB resident after 10,000; peak over the next 90,000 "
          f"{out['peak_10000_to_100000']:,} KiB; {out['rss_100000']:,} KiB at the end")
    # flat: the last 90,000 providers never take the process more than 4 MiB (about 46 bytes each)
    # above what it held after the first 10,000
    assert growth < 4096, f"peak memory grew by {growth:,} KiB from 10,000 to 100,000 providers"


def test_readme_and_ci_install_the_streaming_extra_where_it_works() -> None:
    import re
    import tomllib

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    section = readme[readme.index("## Streaming"):]
    install = re.search(r"```bash\n(\.venv/bin/pip install -e '\.\[dev,durable\]')", section)
    assert install, "the streaming section gives no install line for the extra"
    # CI installs the extra as the README says, requires it where its marker allows, and in both environments
    assert install.group(1) in script
    assert "REQUIRE+=(durable)" in script and "sys.version_info >= (3, 13)" in script
    assert "-c .ci/lowest.txt -e '.[dev,durable]'" in script
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert extras["durable"] == ["durable-rules>=2.0.28; python_version < '3.13'"]
    # the README's streaming example (ten lines) prints what the README says it prints
    example = re.search(r"```python\n(.*?)```\n\n```\n(.*?)```", section, re.S)
    assert example and len(example.group(1).strip().splitlines()) <= 10
    if AVAILABLE:
        done = subprocess.run([sys.executable, "-c", example.group(1)], capture_output=True, text=True,
                              cwd=ROOT, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout == example.group(2)


@needs_stream
def test_the_version_in_force_on_the_as_of_date_decides() -> None:
    text = (ROOT / "tests/data/packs/stream/counting.yaml").read_text(encoding="utf-8")
    old = cp.loads_pack(text.replace('effective_from: "2020-01-01"', 'effective_from: "2020-01-01"\n  effective_to: "2025-12-31"'))
    new = cp.loads_pack(text.replace('version: "0.3"', 'version: "0.4"').replace(
        'effective_from: "2020-01-01"', 'effective_from: "2026-01-01"').replace(
        "group_by: staff_member\n          at_least: 2\n        value: serious", "group_by: staff_member\n          at_least: 5\n        value: serious"))
    library = cp.PackLibrary([old, new])
    record = {"provider": {"id": "p", "name": "P", "service_type": "residential"}}
    events: list[dict[str, Any]] = []
    with stream.open_stream(library) as s:
        s.open("p", record, "2025-12-20")
        day = date(2025, 12, 20)
        versions = []
        for i in range(8):
            day += timedelta(days=3)
            e = {"kind": "safeguarding_alert", "date": day.isoformat(), "staff_member": "a"}
            events.append(e)
            changes = s.post("p", e, day)
            in_force = library.in_force("stream-counting", day)
            core = in_force.evaluate(with_events(in_force, record, events), day)
            assert s.decisions("p")["stream-counting"] == {
                r.id: stream.DecisionState(r.status, r.value, tuple(r.rules), tuple(r.undetermined), tuple(r.missing))
                for r in core.decisions}
            versions += [c.version for c in changes]
        assert {"0.3", "0.4"} <= set(versions)


@needs_stream
def test_a_pack_that_counts_no_events_streams_its_evidence_decisions_alone() -> None:
    text = SMALL_PACK.replace("  - {id: events, path: events, type: events, worse: more}",
                              "  - {id: score, path: local.risk_score, type: integer, min: 0, max: 100, worse: higher}")
    text = text.replace("""        when:
          count_events: {input: events, kinds: [safeguarding_alert], within: 3 months, group_by: staff_member}
          at_least: 2""", """        when: {input: score, at_least: 20}""")
    pack = cp.loads_pack(text)
    assert stream.ruleset(pack) and not stream.trigger_rules(pack)
    with stream.open_stream(pack) as s:
        s.open("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"}}, "2026-01-05")
        assert s.post("p", {"kind": "complaint", "date": "2026-01-05"}, "2026-01-05") == []
        [change] = s.update("p", {"provider": {"id": "p", "name": "P", "service_type": "residential"},
                                  "local": {"example": {"risk_score": 25}}})
        assert (change.decision, change.before.status, change.after.value) == ("level", "insufficient_evidence", "concern")
