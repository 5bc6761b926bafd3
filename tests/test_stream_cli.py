"""`carepolicy stream --packs DIR EVENTS.jsonl`: JSON Lines in, triggers and decision changes out."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from carepolicy.cli import parse_args, run

from _stream_support import ROOT, needs_stream

from test_stream import SMALL_PACK

pytestmark = needs_stream

RECORD = {"provider": {"id": "1-101", "name": "Windrush Meadows", "service_type": "residential"}}


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run(parse_args(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def _file(tmp_path: Path, lines: list[Any]) -> str:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return str(path)


def test_events_in_triggers_and_decision_changes_out(tmp_path: Path) -> None:
    events = _file(tmp_path, [
        {"provider": "1-101", "evidence": RECORD, "as_of": "2026-03-01"},
        {"provider": "1-101", "event": {"kind": "safeguarding_alert", "date": "2026-03-02", "staff_member": "s-17"}},
        {"provider": "1-101", "event": {"kind": "safeguarding_alert", "date": "2026-03-05", "staff_member": "s-17"}},
        {"provider": "1-101", "close": True},
    ])
    code, out, err = _run(["stream", "--packs", "policies/oxfordshire.yaml", events])
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert {r["line"] for r in records} <= {1, 2, 3} and all(r["provider"] == "1-101" for r in records)
    [fired] = [r for r in records if r["type"] == "trigger"]
    assert (fired["rule"], fired["clause"], fired["state"], fired["as_of"], fired["line"], fired["event"]) == (
        "t04-multiple-alerts-same-staff-member", "Annex 1, section 2, trigger 4", "fired", "2026-03-05", 3, 2)
    level = [r for r in records if r["type"] == "decision" and r["decision"] == "annex1_concern_level"]
    assert level[-1]["after"]["value"] == "standards_of_care" and level[-1]["line"] == 3


def test_a_bad_line_is_located_and_skipped_and_the_rest_go_on(tmp_path: Path) -> None:
    events = _file(tmp_path, [
        {"provider": "a", "evidence": RECORD, "as_of": "2026-03-01"},
        "{not json",
        {"provider": "a", "evnt": {}},
        {"provider": "a", "event": {"kind": "safeguarding_alert", "date": "2026-03-02", "staf_member": "x"}},
        {"provider": "b", "event": {"kind": "safeguarding_alert", "date": "2026-03-02"}},
        {"provider": "a", "as_of": "2026-02-01"},
        {"provider": "a", "event": {"kind": "safeguarding_alert", "date": "2026-03-02", "staff_member": "x"},
         "close": True},
        {"provider": "a", "event": {"kind": "safeguarding_alert", "date": "2026-03-02", "staff_member": "x"}},
        {"provider": "a", "event": {"kind": "safeguarding_alert", "date": "2026-03-03", "staff_member": "x"}},
    ])
    code, out, err = _run(["stream", "--packs", "policies/oxfordshire.yaml", events])
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith(f"{events}:2: error: not valid JSON")
    assert lines[1] == f"{events}:3: error: unknown key `evnt`; did you mean `event`?"
    assert lines[2] == f"{events}:4: error[CP401] unknown field `staf_member`"
    assert "did you mean `staff_member`?" in lines[4]
    assert f"{events}:5: error: provider `b` is not open" in err
    assert f"{events}:6: error: as-of date 2026-02-01 is before provider `a`'s as-of date 2026-03-01" in err
    assert f"{events}:7: error: a line does one thing" in err
    assert any(json.loads(r)["line"] == 9 and json.loads(r)["type"] == "trigger" for r in out.splitlines())


def test_reads_standard_input_and_prints_the_rulesets_as_data() -> None:
    lines = "\n".join(json.dumps(x) for x in (
        {"provider": "a", "evidence": RECORD, "as_of": "2026-03-01"},
        {"provider": "a", "event": {"kind": "care_concern", "date": "2026-03-01"}})) + "\n"
    code = "import sys; from carepolicy.cli import main; main(sys.argv[1:])"
    done = subprocess.run([sys.executable, "-c", code, "stream", "--packs", "policies/wirral.yaml", "-"],
                          input=lines, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert any(json.loads(r)["line"] == 2 for r in done.stdout.splitlines())
    status, out, err = _run(["stream", "--packs", "policies/wirral.yaml", "--rulesets", "-"])
    assert status == 0 and err == ""
    [(name, rules)] = json.loads(out).items()
    assert name.startswith("carepolicy_wirral_qip_") and all(isinstance(r["run"], str) for r in rules.values())


# The real command in a fresh process, fed provider after provider through a pipe as it reads: each
# opened, given two alerts naming one staff member (which fire the trigger) and closed. At exit it
# writes its own peak memory (VmHWM: this process's high-water mark, which Linux does not carry over
# from the parent as it does ru_maxrss).
PEAK = """
import atexit, sys
def peak():
    with open("/proc/self/status", encoding="ascii") as fh:
        sys.stderr.write("peak " + next(l.split()[1] for l in fh if l.startswith("VmHWM:")) + "\\n")
atexit.register(peak)
from carepolicy.cli import main
main(sys.argv[1:])
"""


def _soak(pack: Path, providers: int) -> tuple[int, int, int]:
    """Lines written, triggers fired and the peak memory (KiB) of `carepolicy stream` over that many providers."""
    proc = subprocess.Popen([sys.executable, "-c", PEAK, "stream", "--packs", str(pack), "-"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def feed() -> None:
        assert proc.stdin is not None
        for i in range(providers):
            p = f"p{i}"
            proc.stdin.write(json.dumps({"provider": p, "as_of": "2026-01-05",
                                         "evidence": {"provider": {"id": p, "name": "P", "service_type": "residential"}}})
                             + "\n")
            for day in ("2026-01-04", "2026-01-05"):
                proc.stdin.write(json.dumps({"provider": p, "event": {"kind": "safeguarding_alert", "date": day,
                                                                      "staff_member": "a"}}) + "\n")
            proc.stdin.write(json.dumps({"provider": p, "close": True}) + "\n")
        proc.stdin.close()

    writer = threading.Thread(target=feed)
    writer.start()
    assert proc.stdout is not None and proc.stderr is not None
    lines = fired = 0
    for line in proc.stdout:  # read as it is written, so neither side holds the whole run
        lines += 1
        fired += json.loads(line).get("state") == "fired"
    writer.join()
    err = proc.stderr.read()
    assert proc.wait(timeout=600) == 0, err[-2000:]
    [peak] = [int(x.split()[1]) for x in err.splitlines() if x.startswith("peak ")]
    return lines, fired, peak


def test_the_command_streams_in_constant_memory_however_long_the_input(tmp_path: Path) -> None:
    pack = tmp_path / "small.yaml"
    pack.write_text(SMALL_PACK, encoding="utf-8")
    short, long = _soak(pack, 2_000), _soak(pack, 20_000)
    assert short[1] == 2_000 and long[1] == 20_000  # every provider's second alert fired the trigger
    assert long[0] >= 10 * short[0] >= 40_000
    growth = long[2] - short[2]
    print(f"carepolicy stream peak memory: {short[2]:,} KiB at 2,000 providers, {long[2]:,} KiB at 20,000")
    # ten times the input (80,000 lines in, 40,000 out) in under 2 MiB more peak memory
    assert growth < 2048, f"peak memory grew by {growth:,} KiB from 2,000 to 20,000 providers"
