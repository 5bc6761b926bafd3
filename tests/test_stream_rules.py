"""The translation of a pack's event conditions into a durable-rules ruleset, and the durable-rules
traps it is shaped around (each pinned here against durable-rules 2.0.28 itself)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import carepolicy as cp
from carepolicy._stream_rules import MAX_ALPHA_STACK, TranslationError, alpha_stack, translate, trigger_rules

ROOT = Path(__file__).resolve().parent.parent
PACK_FILES = sorted(p for p in (ROOT / "policies").glob("*.yaml") if not p.name.endswith(".tests.yaml"))
PACK_FILES += [ROOT / "tests/data/packs/valid/everything.yaml", ROOT / "tests/data/packs/stream/counting.yaml"]
PACKS = {p.stem: cp.load_pack(p) for p in PACK_FILES}

try:
    import durable.engine  # noqa: F401

    HAVE_DURABLE = True
except ImportError:
    HAVE_DURABLE = False
needs_durable = pytest.mark.skipif(not HAVE_DURABLE,
                                   reason="durable-rules is not installed (the lowest-versions environment, Python 3.13+)")


@pytest.fixture(params=sorted(PACKS), ids=str)
def pack(request):
    return PACKS[request.param]


def _walk(value):
    yield value
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)


def test_a_ruleset_is_plain_json_data(pack) -> None:
    t = translate(pack.model, pack.sha256)
    assert json.loads(json.dumps(t.ruleset)) == t.ruleset
    assert all(isinstance(x, (str, int, float, bool, dict, list)) for x in _walk(t.ruleset))
    # every action is a name the host resolves: arrival rules name matchers and verdicts, leave rules windows
    assert {r["run"] for r in t.ruleset.values()} == set(t.actions) | set(t.leaves) | {"opened"}
    assert sorted(t.leaves.values()) == list(range(len(t.windows)))
    assert {verdict for targets in t.actions.values() for _, verdict in targets} <= {"sure", "maybe"}
    assert {m for targets in t.actions.values() for m, _ in targets} == set(range(len(t.matchers)))


def test_no_rule_uses_or_or_an_empty_list_or_nex_on_a_list(pack) -> None:
    t = translate(pack.model, pack.sha256)
    for name, rule in t.ruleset.items():
        text = json.dumps(rule)
        assert "$or" not in text, name
        assert "[]" not in text, name
        for node in _walk(rule):
            if isinstance(node, dict) and "$nex" in node:
                (field,) = node["$nex"]
                assert "." not in field, name


def _field(part: dict) -> str:
    """The event field a condition of a rule tests."""
    (op, arg), = part.items()
    return next(iter(arg)) if op.startswith("$") else op


def _compares_with_a_fact(part: dict) -> bool:
    (op, arg), = part.items()
    return op.startswith("$") and isinstance(next(iter(arg.values())), dict)


def test_conditions_come_in_one_order_with_the_comparisons_with_facts_last(pack) -> None:
    t = translate(pack.model, pack.sha256)
    for name, rule in t.ruleset.items():
        if name == "opened":
            continue
        parts = rule["all"][-1]["m"]["$and"]
        fields = [_field(part) for part in parts]
        refs = [_compares_with_a_fact(p) for p in parts]
        first = refs.index(True)
        assert all(refs[first:]), name  # the comparisons with a fact close every rule
        if name in t.leaves:  # a join: any held event fact, ending with the comparison that always holds
            assert len(rule["all"]) == 2 and fields[:first] == ["t"] and parts[-1] == {"$lte": {"d": {"k": "z"}}}
            continue
        assert len(rule["all"]) == 1 and fields[:3] == ["t", "p", "kind"], name
        filters = fields[3:first]
        assert filters == sorted(filters), name


def test_queries_that_count_the_same_events_share_one_matcher() -> None:
    pack = PACKS["counting"]
    t = translate(pack.model, pack.sha256)
    # `tag-staff` and `same-staff-10-working-days` differ in their window: two matchers;
    # queries differing only in group_by or threshold share theirs
    assert len(t.queries) == len({(q.matcher, q.group_by) for q in t.queries})
    bolton = translate(PACKS["bolton"].model, PACKS["bolton"].sha256)
    assert len(bolton.matchers) < len(bolton.queries)


def test_every_shipped_pack_fits_durable_rules_alpha_stack(pack) -> None:
    t = translate(pack.model, pack.sha256)
    assert alpha_stack(t.ruleset) <= MAX_ALPHA_STACK


def _pack_counting_complaints_by(thresholds: range) -> cp.PolicyPack:
    """The test pack with one more decision: a row per threshold on the people a complaint affected."""
    rows = "\n".join(
        f"""      - id: r{i}
        when:
          count_events: {{input: events, kinds: [complaint], where: [{{field: people_affected, at_least: {i}}}]}}
          at_least: 1
        value: red
        source: "§{i}\"""" for i in thresholds)
    text = (ROOT / "tests/data/packs/valid/everything.yaml").read_text(encoding="utf-8")
    text = text.replace("  - id: activities\n", f"  - id: many\n    kind: table\n    hit: collect\n    scale: rag\n"
                                                  f"    source: \"§12\"\n    rows:\n{rows}\n  - id: activities\n", 1)
    return cp.loads_pack(text)


def test_a_pack_counting_in_too_many_ways_is_refused() -> None:
    fits = _pack_counting_complaints_by(range(40))
    assert alpha_stack(translate(fits.model, fits.sha256).ruleset) <= MAX_ALPHA_STACK
    pack = _pack_counting_complaints_by(range(70))
    with pytest.raises(TranslationError, match=r"durable-rules' alpha stack, which has 64"):
        translate(pack.model, pack.sha256)


@needs_durable
def test_pin_the_refused_pack_would_overflow_durable_rules_and_the_one_that_fits_does_not() -> None:
    import carepolicy._stream_rules as rules

    limit = rules.MAX_ALPHA_STACK
    rules.MAX_ALPHA_STACK = 10_000
    try:
        rulesets = [translate(p.model, p.sha256).ruleset
                    for p in (_pack_counting_complaints_by(range(40)), _pack_counting_complaints_by(range(70)))]
    finally:
        rules.MAX_ALPHA_STACK = limit
    out = _durable(f'''
for i, ruleset in enumerate(json.loads({json.dumps(json.dumps(rulesets))})):
    h.set_rulesets({{f"r{{i}}": ruleset}})
    try:
        h.assert_fact(f"r{{i}}", {{"sid": "1", "t": "ev", "p": "new", "n": 1, "b": 0, "kind": "complaint", "d": 5,
                                  "a": 9, "e_people_affected": 100}})
        print("ok", len(h.fired))
    except Exception as exc:
        print(exc)''')
    assert out.splitlines() == ["ok 40", "Could not assert fact, error code: 303"]


def test_the_ruleset_name_derives_from_the_pack_content() -> None:
    a = PACKS["oxfordshire"]
    same = cp.loads_pack((ROOT / "policies/oxfordshire.yaml").read_text(encoding="utf-8"))
    assert translate(a.model, a.sha256).name == translate(same.model, same.sha256).name
    changed = cp.loads_pack((ROOT / "policies/oxfordshire.yaml").read_text(encoding="utf-8").replace(
        "within: 3 months", "within: 4 months"))
    assert translate(changed.model, changed.sha256).name != translate(a.model, a.sha256).name
    assert translate(a.model, a.sha256).name.startswith("carepolicy_oxfordshire_qip_1_0_0_")


def test_triggers_are_the_rules_that_count_events() -> None:
    rules = trigger_rules(PACKS["oxfordshire"].model)
    assert ("annex1_concern_level", "t04-multiple-alerts-same-staff-member", "Annex 1, section 2, trigger 4") in [
        (t.owner, t.rule, t.clause) for t in rules]
    assert all(t.owner != "annex1_concern_level" or t.rule.startswith("t") for t in rules)
    counting = {(t.owner, t.rule) for t in trigger_rules(PACKS["counting"].model)}
    assert ("scope", "exiting") in counting and ("outcomes", "review-quiet") in counting
    assert ("follows", "follows-serious") not in counting  # reads a decision, counts nothing


# ----------------------------------------------------------------- durable-rules' own behaviour

PIN = r'''
import json, sys
from durable import engine
class H(engine.Host):
    def __init__(self):
        self.fired = []
        super().__init__()
    def _run(self):
        pass
    def get_action(self, name):
        def act(c):
            self.fired.append(name)
        return act
h = H()
'''


def _durable(script: str) -> str:
    """Run a script against a fresh durable-rules (its state is process-global) and return its output."""
    done = subprocess.run([sys.executable, "-c", PIN + script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@needs_durable
def test_pin_or_fires_once_per_true_disjunct() -> None:
    out = _durable('''
h.set_rulesets({"r": {"x": {"all": [{"m": {"$or": [{"a": 1}, {"b": 1}]}}], "run": "x"}}})
h.assert_fact("r", {"sid": "1", "a": 1, "b": 1})
print(len(h.fired))''')
    assert out == "2"


@needs_durable
def test_pin_a_join_after_an_or_is_ignored_and_before_it_is_not() -> None:
    out = _durable('''
after = [{"t": "ev"}, {"$or": [{"kind": "a"}, {"kind": "b"}]}, {"$gt": {"d": {"k": "a0"}}}]
before = [{"t": "ev"}, {"$gt": {"d": {"k": "a0"}}}, {"$or": [{"kind": "a"}, {"kind": "b"}]}]
plain = [{"t": "ev"}, {"kind": "a"}, {"$gt": {"d": {"k": "a0"}}}]
h.set_rulesets({"r": {n: {"all": [{"k": {"t": "tick"}}, {"m": {"$and": p}}], "run": n}
                      for n, p in (("after", after), ("before", before), ("plain", plain))}})
h.assert_fact("r", {"sid": "1", "t": "ev", "n": 1, "kind": "a", "d": 10})
h.assert_fact("r", {"sid": "1", "t": "tick", "n": 2, "a0": 10})   # 10 > 10 is false: nothing may fire
print(sorted(h.fired))''')
    assert out == "['after']"


@needs_durable
@pytest.mark.parametrize(("rules", "fails"), [(62, False), (70, True)])
def test_pin_the_alpha_stack_holds_64_nodes_and_the_bound_sees_it(rules: int, fails: bool) -> None:
    script = f'''
rs = {{f"r{{i}}": {{"all": [{{"m": {{"$and": [{{"t": "ev"}}, {{"kind": "a"}}, {{"$lte": {{"d": {{"$m": "a"}}}}}}, {{"y": i}}]}}}}], "run": "x"}}
      for i in range({rules})}}
print(json.dumps(rs))
h.set_rulesets({{"r": rs}})
try:
    h.assert_fact("r", {{"sid": "1", "t": "ev", "n": 1, "kind": "a", "d": 1, "a": 2, "y": 3}})
    print("ok")
except Exception as exc:
    print(exc)'''
    ruleset_json, outcome = _durable(script).splitlines()
    assert (outcome == "Could not assert fact, error code: 303") is fails, outcome
    assert alpha_stack(json.loads(ruleset_json)) >= rules  # the bound is never below what durable-rules needs


@needs_durable
def test_pin_unmatched_messages_raise_and_identical_facts_raise() -> None:
    out = _durable('''
h.set_rulesets({"r": {"x": {"all": [{"m": {"kind": "a"}}], "run": "x"}}})
for fact in ({"sid": "1", "kind": "b"}, {"sid": "1", "kind": "a", "n": 1}, {"sid": "1", "kind": "a", "n": 1}):
    try:
        h.assert_fact("r", fact)
        print("ok")
    except Exception as exc:
        print(type(exc).__name__)''')
    assert out.split() == ["MessageNotHandledException", "ok", "MessageObservedException"]


@needs_durable
def test_pin_1024_sessions_per_ruleset_unless_deleted() -> None:
    out = _durable('''
h.set_rulesets({"r": {"x": {"all": [{"m": {"kind": "a"}}], "run": "x"}}})
for i in range(3000):
    h.assert_fact("r", {"sid": f"d{i}", "kind": "a"})
    h.delete_state("r", f"d{i}")
print("deleted ok")
try:
    for i in range(1100):
        h.assert_fact("r", {"sid": f"k{i}", "kind": "a"})
except Exception as exc:
    print(type(exc).__name__, i)''')
    assert out.splitlines()[0] == "deleted ok"
    assert out.splitlines()[1].startswith("MemoryError 102")
