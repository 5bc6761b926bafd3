"""The reliability battery (reliability.md §5) as figures: hostile packs, hostile evidence, fuzzing,
combining-rule properties, concurrency and pinned hashes.

Each *class* of the battery runs its cases in worker subprocesses, so a segfault is counted as a
crash and a case that runs past its timeout as a hang, never fatal to the run. A worker tells its
parent "begin case" and "end case" on a pipe; whatever case was begun and never ended is the one
that crashed or hung, and the parent starts a new worker after it (for enumerated classes) or stops
the class there (for hypothesis-driven ones). Every case ends as one of:

* ``accepted``: the pack loaded, the evidence was decided, the property held;
* ``located``: a :class:`~carepolicy.PolicyError` whose diagnostics are located (a pack error at
  file:line:col, except file-level ones such as the size limit; an evidence error at a path);
* ``unlocated``: a PolicyError without a location (a defect);
* ``other``: any other exception (a defect), reported by type, message and the raising frame;
* ``mismatch``: a wrong answer (a malformed pack that loaded, decisions that differ, a pinned
  hash that was not enforced, duplicate JSON keys accepted...).

Figures per class: cases tried, outcomes, crashes, hangs, cases over the class's stated time bound,
worst time, the worker's peak memory and its growth over the worker's baseline. Sizes come from the
tier: ``fast`` (CI; deterministic seeds) or ``deep`` (hours; a fresh seed unless given).

Requires the ``dev`` extra (hypothesis). Run with ``carepolicy reliability`` or
:func:`run_battery`; fuzz for longer with ``tools/fuzz.py``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import math
import os
import platform
import queue
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from .engine import PolicyPack, evaluate
from .errors import Diagnostic, EvaluationError, EvidenceError, PackLoadError, PolicyError
from .loader import MAX_PACK_BYTES, load_pack, loads_pack

__all__ = ["SPECS", "Spec", "run_battery", "render_table", "classify_pack_bytes", "classify_evidence", "findings"]

Outcome = tuple[str, "str | None"]
Cases = list[tuple[str, Callable[[], Outcome]]]
KINDS = ("accepted", "located", "unlocated", "other", "mismatch")
DEFECTS = ("unlocated", "other", "crashes", "hangs", "mismatches", "over_bound")
FILE_LEVEL = frozenset({"CP100", "CP102", "CP110", "CP112", "CP113", "CP114", "CP115"})
_PACK_CODE = re.compile(r"CP[1-5]\d\d")
_EVIDENCE_CODE = re.compile(r"CP4\d\d")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
FAST_SEED = 20260105
_PACKAGE = str(Path(__file__).resolve().parent) + os.sep


# =============================================================================== the battery's rows


@dataclass(frozen=True)
class Spec:
    """One class of the battery: what it tries, how many, and the bounds each case must keep."""

    name: str
    what: str
    size: dict[str, int]
    """Per tier: cases, hypothesis examples, variants or pairs (see ``unit``)."""
    unit: str
    bound_ms: float
    """Each case must finish within this (a stated bound; slower cases are counted `over_bound`)."""
    bound_mib: float
    """The worker's memory may grow this much over its baseline while the class runs."""
    timeout_s: float
    """A case running longer is killed and counted as a hang."""
    shards: dict[str, int] = field(default_factory=lambda: {"fast": 1, "deep": 1})
    resumable: bool = False
    threads: bool = False
    cost: float = 1.0
    """Rough seconds in the fast tier, to start the longest classes first."""


_ONE = {"fast": 1, "deep": 1}
SPECS: dict[str, Spec] = {s.name: s for s in [
    Spec("packs/corpus", "hand-written malformed packs (tests/data/packs/invalid): each refused, every diagnostic located",
         {"fast": 0, "deep": 0}, "every file", 1000, 200, 20, resumable=True, cost=0.2),
    Spec("packs/truncated", "every shipped pack cut short: the small pack at every 5th byte (deep: every byte), the "
         "large ones at seeded random and line-end offsets (deep: every 7th byte)",
         {"fast": 120, "deep": 0}, "offsets per large pack", 1000, 200, 20, shards={"fast": 1, "deep": 8},
         resumable=True, cost=5),
    Spec("packs/mutated", "single-byte mutations (replace, insert, delete, bit flip, YAML punctuation) of every "
         "shipped pack, seeded", {"fast": 60, "deep": 2000}, "mutations per pack (x5 for the small pack)", 1000, 200, 20,
         shards={"fast": 1, "deep": 8}, resumable=True, cost=4),
    Spec("packs/largest", "packs at the 1 MiB limit (long lists, long text, 150,000 duplicate or 50,000 unknown keys, "
         "64 levels, a million brackets, an alias bomb) and one byte over", _ONE, "shapes", 3000, 400, 60,
         resumable=True, cost=9),
    Spec("fuzz/loader", "seeded fuzzing: random bytes and YAML-ish text, edge cases, stacked edits and splices of the "
         "small shipped pack and the corpus (deep: the large packs too); `tools/fuzz.py --atheris` runs coverage-guided",
         {"fast": 10_000, "deep": 1_000_000}, "examples", 1000, 200, 30, shards={"fast": 1, "deep": 8}, cost=3),
    Spec("fuzz/evidence", "seeded fuzzing: random bytes and JSON-ish text, edge cases, stacked edits and splices of "
         "real evidence JSON (examples/ and generated), each through one shipped pack",
         {"fast": 10_000, "deep": 1_000_000}, "examples", 1000, 200, 30, shards={"fast": 1, "deep": 8}, cost=2),
    Spec("evidence/json", "(a) arbitrary JSON values (hypothesis recursive JSON, keys biased to real ones) as "
         "evidence, each through every shipped pack", {"fast": 1_700, "deep": 100_000}, "values (x every pack)",
         1000, 200, 30, shards={"fast": 1, "deep": 4}, cost=5),
    Spec("evidence/extreme", "(b) generated evidence made extreme leaf by leaf: every date at the calendar's ends or "
         "impossible, 10,000-item lists, NaN/inf/huge numbers, duplicate JSON keys, deep nesting, unicode oddities",
         {"fast": 10, "deep": 300}, "base examples per pack (x ~25 mutants)", 2000, 400, 60,
         shards={"fast": 1, "deep": 6}, cost=8),
    Spec("evidence/scaling", "unknown and duplicate evidence keys at three counts (16x apart): the time per key must "
         "not grow more than 4x", _ONE, "shapes", 5000, 400, 120, cost=3),
    Spec("properties/order", "shuffled and duplicated table rows give the same decisions unless the hit policy is "
         "`first` (there, copies placed after the original)", {"fast": 25, "deep": 2_000},
         "examples per pack (x12 variants)", 2000, 200, 60, shards={"fast": 1, "deep": 6}, cost=5),
    Spec("properties/unread", "adding evidence no input of the pack reads changes no decision",
         {"fast": 30, "deep": 2_000}, "examples per pack (x2 donors)", 2000, 200, 60, cost=3),
    Spec("concurrency/evaluate", "32 threads evaluate the same (pack, evidence) pairs as a serial run, three rounds; "
         "canonical decision JSON compared", {"fast": 4_000, "deep": 20_000}, "pairs", 600_000, 600, 900, threads=True,
         cost=20),
    Spec("concurrency/load", "16 threads load every shipped pack at once (deep: 64 threads, 3 rounds); hashes and "
         "decisions compared with serial loads", {"fast": 16, "deep": 64}, "threads", 120_000, 600, 600,
         threads=True, cost=5),
    Spec("integrity/pin", "pinned hashes: the right pin loads; a wrong pin, or the right pin on a changed file, is "
         "refused with CP114 (API and `validate --pin`)", _ONE, "every pack", 2000, 200, 60, resumable=True, cost=0.5),
]}


# Not part of the battery: proves that crashes, hangs and exceptions are counted (tests run it by name).
HIDDEN_SPECS: dict[str, Spec] = {s.name: s for s in [
    Spec("self-test/crash-and-hang", "a segfault, a hang and an exception among accepted cases", _ONE, "cases",
         1000, 400, 1.5, resumable=True, cost=0),
]}


# =============================================================================== classifying one case


def _one_line(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def signature(exc: BaseException) -> str:
    """``Type: message at file.py:function`` (digits collapsed), grouping one defect's many cases."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(_PACKAGE)]
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].name}" if frames else ""
    message = re.sub(r"\d+", "N", _one_line(str(exc).split("\n")[0], 120))
    return f"{type(exc).__name__}: {message}{where}"


def _pack_diag_located(d: Diagnostic, name: str) -> bool:
    return (
        d.file == name
        and bool(_PACK_CODE.fullmatch(d.code))
        and d.severity == "error"
        and bool(d.message)
        and "\n" not in d.message
        and (d.code in FILE_LEVEL or (d.line is not None and d.col is not None and d.line >= 1 and d.col >= 1))
    )


def _outcome(kind: str, sig: str | None) -> Outcome:
    return kind, sig


def classify_pack_bytes(data: bytes | str, name: str = "case.yaml", *, must_fail: bool = False,
                        sha256: str | None = None) -> Outcome:
    """Load ``data``: accepted, located (a PackLoadError located in every diagnostic) or unlocated.

    Any other exception propagates (the caller counts it as `other`).
    """
    try:
        loads_pack(data, name, sha256=sha256)
    except PackLoadError as exc:
        bad = [d for d in exc.diagnostics if not _pack_diag_located(d, name)]
        if not exc.diagnostics:
            return "unlocated", "PackLoadError without diagnostics"
        if bad:
            return "unlocated", f"PackLoadError {bad[0].code} unlocated: {_one_line(bad[0].message, 100)}"
        return "located", None
    if must_fail:
        return "mismatch", "a pack that must be refused loaded"
    return "accepted", None


def _evidence_unlocated(exc: PolicyError, pack: PolicyPack, as_of: date) -> str | None:
    """Why an evidence or evaluation error is not located, or None when it is."""
    if isinstance(exc, EvidenceError):
        if not exc.diagnostics:
            return "EvidenceError without diagnostics"
        for d in exc.diagnostics:
            if not _EVIDENCE_CODE.fullmatch(d.code):
                return f"EvidenceError with code {d.code}"
            if not d.path:
                return f"EvidenceError {d.code} without a path"
            if not d.message or "\n" in d.message or "\r" in d.message:
                return f"EvidenceError {d.code} message of several lines"
        return None
    if isinstance(exc, EvaluationError):
        # about the (pack, as-of) pair rather than a place in the evidence: it must name one of them
        head = str(exc).split("\n")[0]
        if head and (as_of.isoformat() in head or pack.id in head or exc.diagnostics):
            return None
        return f"EvaluationError naming neither the pack nor the date: {_one_line(head, 80)}"
    return f"{type(exc).__name__} from evaluation"


def classify_evidence(pack: PolicyPack, evidence: Any, as_of: date, *, must_fail: str | None = None) -> Outcome:
    """Evaluate: accepted (a Decision that serialises), located EvidenceError/EvaluationError, or unlocated.

    ``must_fail`` names why the evidence must be refused (accepting it is then a mismatch).
    Any other exception propagates (the caller counts it as `other`).
    """
    try:
        decision = evaluate(pack, evidence, as_of)
        decision.to_json(indent=None)
    except (EvidenceError, EvaluationError) as exc:
        why = _evidence_unlocated(exc, pack, as_of)
        return ("located", None) if why is None else ("unlocated", why)
    if must_fail:
        return "mismatch", must_fail
    return "accepted", None


# =============================================================================== the worker side


class _Recorder:
    """Writes the begin/end protocol on the parent's pipe: ``B <json key>`` then ``E <json result>``."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.index = 0

    def write(self, tag: str, payload: Any) -> None:
        os.write(self.fd, f"{tag} {json.dumps(payload, ensure_ascii=True, default=str)}\n".encode())

    def case(self, key: str, run: Callable[[], Any], index: int | None = None) -> Any:
        i = self.index if index is None else index
        self.index = i + 1
        self.write("B", [i, key])
        start = time.process_time()  # CPU time: bounds hold whatever else the machine is doing
        try:
            result = run()
        except Exception as exc:  # noqa: BLE001 - that is the figure
            result = ("other", signature(exc))
        elapsed = time.process_time() - start
        kind, sig = result[0], result[1]
        items = result[2] if len(result) > 2 else 1
        bad = result[3] if len(result) > 3 else (0 if kind == "accepted" else items)
        self.write("E", {"i": i, "k": kind, "s": sig, "us": int(elapsed * 1e6), "n": items, "bad": bad})
        return result

    def note(self, text: str) -> None:
        self.write("N", text)


class _Ctx:
    """What a worker knows: the repository root, the tier, the seed and its shard."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.root = Path(job["root"])
        self.tier: str = job["tier"]
        self.seed: int = int(job["seed"])
        self.shard: int = int(job.get("shard", 0))
        self.shards: int = int(job.get("shards", 1))
        self.start: int = int(job.get("start", 0))
        self.size: int = int(job["size"])
        self._packs: list[PolicyPack] | None = None

    def rng(self, *salt: Any) -> random.Random:
        return random.Random(":".join(map(str, (self.seed,) + salt)))

    @property
    def pack_files(self) -> list[Path]:
        return shipped_pack_files(self.root)

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    @property
    def packs(self) -> list[PolicyPack]:
        if self._packs is None:
            self._packs = [load_pack(p) for p in self.pack_files]
        return self._packs


def shipped_pack_files(root: Path) -> list[Path]:
    """The packs shipped with the project: ``policies/*.yaml`` and ``tests/data/packs/valid/*.yaml`` (not tests files)."""
    out: list[Path] = []
    for folder in (root / "policies", root / "tests" / "data" / "packs" / "valid"):
        out += sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".tests.yaml"))
    return out


def in_force_as_of(pack: PolicyPack) -> date:
    """A day the pack is in force (5 January 2026 where it can be)."""
    meta = pack.model.pack
    day = date(2026, 1, 5)
    if day < meta.effective_from:
        day = meta.effective_from
    if meta.effective_to is not None and day > meta.effective_to:
        day = meta.effective_to
    return day


def _rss_kib() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)
    except (OSError, ValueError, AttributeError):
        return _peak_kib()


def _peak_kib() -> int:
    """The worker's peak resident memory since it started (or since :func:`_reset_peak`).

    Linux: ``VmHWM`` of this process's own address space. Not ``ru_maxrss``: across the
    fork and exec that start a worker, Linux keeps the parent's high-water mark in it, so a
    worker started from a large test process would be charged with its parent's memory.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    except (OSError, ValueError, StopIteration):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak // 1024 if sys.platform == "darwin" else peak
    except ImportError:  # pragma: no cover - not POSIX
        return 0


def _reset_peak() -> None:
    """Start the peak afresh (Linux 4.0+), so the warm-up's own peak is not charged to the class."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:  # pragma: no cover - not Linux, or not allowed: the peak then includes the warm-up
        pass


def _cap_memory(extra_mib: int) -> None:
    """An address-space cap over what the worker uses now, so a runaway case fails instead of swapping."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as fh:
            vm = next(int(line.split()[1]) for line in fh if line.startswith("VmSize:"))
        cap = (vm + extra_mib * 1024) * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, OSError, ValueError, StopIteration):  # pragma: no cover - not Linux
        pass


def _warm_up(ctx: _Ctx) -> None:
    """Load and evaluate once, so the first case is not charged with imports and holiday tables.

    Hypothesis is started too: its first text strategy builds a table of every Unicode
    character (over 200 MiB at its peak on a clean checkout, before ``.hypothesis/`` caches
    it), a one-off cost of the test library, not the class's memory.
    """
    for pack in ctx.packs:
        try:
            evaluate(pack, {"provider": {"id": "warm", "name": "Warm", "service_type": "residential"}}, in_force_as_of(pack))
        except PolicyError:
            pass
    try:
        from hypothesis import given
        from hypothesis import strategies as st
    except ImportError:  # pragma: no cover - the battery's hypothesis classes need the dev extra
        return

    @_settings(ctx, 1, "warm-up")
    @given(st.text(max_size=1) | st.integers() | st.floats())
    def start(_: object) -> None:
        pass

    start()


def worker_main() -> int:
    """Entry point of ``python -m carepolicy._reliability --worker``: one job from stdin."""
    import faulthandler

    faulthandler.enable()
    out = os.dup(1)
    os.dup2(2, 1)  # anything printed by libraries goes to stderr, never into the protocol
    sys.stdout = sys.stderr
    job = json.loads(sys.stdin.read())
    spec = SPECS.get(job["cls"]) or HIDDEN_SPECS[job["cls"]]
    ctx = _Ctx(job)
    rec = _Recorder(out)
    rec.write("M", {"base": _rss_kib()})
    _warm_up(ctx)
    if not spec.threads:
        _cap_memory(int(spec.bound_mib) + 1024)
    base = _rss_kib()
    _reset_peak()
    rec.write("M", {"base": base})
    runner = _RUNNERS[spec.name]
    if spec.resumable:
        cases = runner(ctx)
        mine = [(i, c) for i, c in enumerate(cases) if i % ctx.shards == ctx.shard]
        rec.write("T", len(mine))
        for i, (key, run) in mine:
            if i >= ctx.start:
                rec.case(key, run, index=i)
    else:
        runner(ctx, rec)
    rec.write("M", {"base": base, "peak": _peak_kib(), "cpu": time.process_time()})
    return 0


# ------------------------------------------------------------------------------- packs/*


def _cases_corpus(ctx: _Ctx) -> Cases:
    folder = ctx.root / "tests" / "data" / "packs" / "invalid"
    out: Cases = []
    for path in sorted(folder.glob("*.yaml")):
        data = path.read_bytes()
        name = ctx.rel(path)
        out.append((name, partial(classify_pack_bytes, data, name, must_fail=True)))
    return out


def _offsets(ctx: _Ctx, name: str, data: bytes, small: bool) -> list[int]:
    if ctx.tier == "deep":
        step = 1 if small else 7
        return list(range(1, len(data), step))
    if small:
        return list(range(1, len(data), 5))
    rng = ctx.rng("truncate", name)
    line_ends = [m.end() for m in re.finditer(rb"\n", data)]
    half = ctx.size // 2
    picked = set(rng.sample(range(1, len(data)), min(half, len(data) - 1)))
    picked |= set(rng.sample(line_ends, min(ctx.size - half, len(line_ends))))
    return sorted(picked)


def _truncated(data: bytes, cut: int, name: str) -> Outcome:
    return classify_pack_bytes(data[:cut], name)


def _cases_truncated(ctx: _Ctx) -> Cases:
    out: Cases = []
    for path in ctx.pack_files:
        data = path.read_bytes()
        name = ctx.rel(path)
        for cut in _offsets(ctx, name, data, small=len(data) < 16_384):
            out.append((f"{name}[:{cut}]", partial(_truncated, data, cut, name)))
    return out


_PUNCTUATION = b"\x00\t\n\r :-[]{}#&*!|>'\"%@`,?\\~\x7f\xff\xc3\xe2"


def mutate_once(data: bytes, rng: random.Random) -> tuple[bytes, str]:
    """One single-byte mutation of ``data`` and its description (replace, insert, delete, flip or punctuation)."""
    if not data:
        byte = rng.randrange(256)
        return bytes([byte]), f"insert@0={byte:02x}"
    pos = rng.randrange(len(data))
    op = rng.choice(("replace", "insert", "delete", "flip", "punct", "punct"))
    if op == "delete":
        return data[:pos] + data[pos + 1:], f"delete@{pos}"
    if op == "flip":
        byte = data[pos] ^ (1 << rng.randrange(8))
        return data[:pos] + bytes([byte]) + data[pos + 1:], f"flip@{pos}={byte:02x}"
    byte = rng.randrange(256) if op in ("replace", "insert") else rng.choice(_PUNCTUATION)
    if op == "insert":
        return data[:pos] + bytes([byte]) + data[pos:], f"insert@{pos}={byte:02x}"
    return data[:pos] + bytes([byte]) + data[pos + 1:], f"replace@{pos}={byte:02x}"


def _mutated(data: bytes, number: int, name: str) -> Outcome:
    return classify_pack_bytes(mutate_once(data, random.Random(number))[0], name)


def _cases_mutated(ctx: _Ctx) -> Cases:
    out: Cases = []
    for path in ctx.pack_files:
        data = path.read_bytes()
        name = ctx.rel(path)
        rng = ctx.rng("mutate", name)
        count = ctx.size * (5 if len(data) < 16_384 else 1)
        for _ in range(count):
            number = rng.getrandbits(63)
            _, what = mutate_once(data, random.Random(number))  # the mutated bytes are made again when the case runs
            out.append((f"{name} {what}", partial(_mutated, data, number, name)))
    return out


_MINI = """carepolicy: 2
pack:
  id: largest
  authority: {id: example, name: Example Council}
  title: A pack at the size limit
  version: "1.0"
  effective_from: "2024-01-01"
  source_document: {title: Example framework}
  headline: rating
scales:
  - id: rag
    values:
      - {id: green, label: Green, severity: 0}
      - {id: red, label: Red, severity: 3}
inputs:
  - {id: score, path: local.quality_score, type: integer, min: 0, max: 1000, worse: higher}
decisions:
  - id: rating
    kind: bands
    input: score
    scale: rag
    source: "§1"
    bands:
      - {id: low, value: green, max: 9, source: "§1"}
      - {id: high, value: red, min: 10, source: "§1"}
"""


def _fill(head: str, unit: Callable[[int], str], tail: str = "", limit: int = MAX_PACK_BYTES) -> bytes:
    parts = [head]
    size = len(head.encode()) + len(tail.encode())
    i = 0
    while True:
        piece = unit(i)
        n = len(piece.encode())
        if size + n > limit:
            break
        parts.append(piece)
        size += n
        i += 1
    parts.append(tail)
    return "".join(parts).encode()


def largest_packs(deep: bool = True) -> list[tuple[str, bytes]]:
    """Hostile packs of up to 1 MiB (and one byte over), each a shape the limits must hold against."""
    shapes = [
        ("roles list", _fill(_MINI + "roles:\n", lambda i: f"  - {{id: r{i}, title: Role {i}, source: s}}\n")),
        ("closures list", _fill(_MINI + "calendar:\n  closures: [", lambda i: f'"20{24 + i % 70}-0{1 + i % 9}-1{i % 10}", ',
                                '"2024-01-01"]\n')),
        ("comment", _fill(_MINI + "# ", lambda i: "x" * 1000, "\n")),
        ("one long plain scalar", _fill(_MINI + "extra: ", lambda i: "z" * 1000, "\n")),
        ("one long quoted title", _fill(_MINI.split("  title:")[0] + '  title: "', lambda i: "y" * 1000,
                                        '"\n  version:' + _MINI.split("  version:")[1])),
        ("duplicate keys", _fill(_MINI, lambda i: "dup: 1\n")),
        ("unknown keys", _fill(_MINI, lambda i: f"unknown_key_{i}: 1\n")),
        ("unknown nested keys", _fill(_MINI + "calendar:\n", lambda i: f"  region_{i}: ENG\n")),
        ("many flow mappings", _fill(_MINI + "extra: [", lambda i: "{a: 1}, ", "{}]\n")),
        ("64 levels, wide", _fill(_MINI + "extra: " + "[" * 63, lambda i: "1, ", "1" + "]" * 63 + "\n")),
        ("1,000,000 nested [", b"extra: " + b"[" * (MAX_PACK_BYTES - 8) + b"\n"),
        ("9-level alias bomb", (_MINI + "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
                                + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10))).encode()),
        ("one byte over", _fill(_MINI + "# ", lambda i: "x", "\n", limit=MAX_PACK_BYTES) + b"#"),
    ]
    slow_and_alike = {"unknown nested keys", "many flow mappings"}  # like `unknown keys` and `64 levels, wide`
    return shapes if deep else [(what, data) for what, data in shapes if what not in slow_and_alike]


def _cases_largest(ctx: _Ctx) -> Cases:
    out: Cases = [(f"{what} ({len(data):,} bytes)", partial(classify_pack_bytes, data, "largest.yaml"))
                  for what, data in largest_packs(deep=ctx.tier == "deep")]
    return out


# ------------------------------------------------------------------------------- hypothesis helpers


def _settings(ctx: _Ctx, examples: int, salt: str = "") -> Callable[[Any], Any]:
    """Hypothesis settings for a worker: generation only, no database, a seed from (seed, shard, salt)."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hseed

    number = int(hashlib.sha256(f"{ctx.seed}:{ctx.shard}:{salt}".encode()).hexdigest()[:12], 16)

    def wrap(fn: Any) -> Any:
        fn = settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                      suppress_health_check=list(HealthCheck))(fn)
        return hseed(number)(fn)

    return wrap


def _share(total: int, ctx: _Ctx) -> int:
    return total // ctx.shards + (1 if ctx.shard < total % ctx.shards else 0)


def _describe_bytes(data: bytes, label: str) -> str:
    if len(data) <= 160:
        return f"{label} b64:{base64.b64encode(data).decode()}"
    return f"{label} sha256:{hashlib.sha256(data).hexdigest()[:16]} ({len(data):,} bytes)"


def _apply_ops(data: bytes, ops: Sequence[tuple[str, int, bytes]]) -> tuple[bytes, str]:
    words = []
    for op, where, chunk in ops:
        pos = where % (len(data) + 1)
        if op == "insert":
            data = data[:pos] + chunk + data[pos:]
        elif op == "delete":
            data = data[:pos] + data[pos + len(chunk):]
        elif op == "replace":
            data = data[:pos] + chunk + data[pos + len(chunk):]
        elif op == "repeat":  # a stretch copied right after itself (lines twice, brackets doubled)
            data = data[:pos] + data[pos:pos + len(chunk) * 8] + data[pos:]
        words.append(f"{op}@{pos}:{chunk.hex()}")
    return data, "; ".join(words)


_CHUNKS = [bytes([b]) for b in _PUNCTUATION] + [b"\n", b": ", b"- ", b"[", b"{", b"&a ", b"*a", b"!!", b"\xef\xbb\xbf",
                                                 b"\t", b"<<: ", b"---\n", b"\"", b"'", b"0x", b"1e999", b".nan", b"~"]
_YAMLISH = ":-[]{}#&*!|>'\"%@`,? \n\t\\~.0123456789aeknoruy\x00\x85\u2028\ufeffé"
_JSONISH = '{}[]":,0123456789.eE+-truefalsnl \\u\n\t\x00é\ud7ff'
_EDGES = [b"", b"\xef\xbb\xbf", b"\x00", b"\xff\xfe", b"---", b"...", b"[", b"{", b"]", b"a: &a [*a]", b"? [a]\n: 1",
          b"%YAML 1.1\n---\n", b"a: !!binary aGk=", b"- - - - -", b"{}", b"[]", b"null", b'""', b"0", b"-", b"\\",
          b'{"provider": {}}', b'{"provider": null}', b"[" * 100_000, b'{"a":' * 50_000]


def fuzz_input(number: int, seeds: Sequence[tuple[str, bytes]], alphabet: str) -> tuple[bytes, str]:
    """The fuzz input numbered ``number``: random bytes or text, an edge case, stacked edits or a splice of seeds.

    Everything derives from ``random.Random(number)``, so the description names a reproducible input.
    """
    rng = random.Random(number)
    kind = rng.random()
    tag = f"#{number}"
    if kind < 0.08:
        data = rng.randbytes(rng.choice((rng.randint(0, 16), rng.randint(0, 4096))))
        return data, _describe_bytes(data, f"{tag} bytes")
    if kind < 0.16:
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 1024)))
        data = text.encode("utf-8", "surrogatepass")
        return data, _describe_bytes(data, f"{tag} text")
    if kind < 0.20:
        data = rng.choice(_EDGES)
        return data, _describe_bytes(data, f"{tag} edge")
    (name, seed), (other, seed2) = rng.choice(seeds), rng.choice(seeds)
    if kind < 0.32:
        i, j = rng.randint(0, len(seed)), rng.randint(0, len(seed2))
        return seed[:i] + seed2[j:], f"{tag} splice {name}[:{i}] + {other}[{j}:]"
    if kind < 0.48:
        data, what = mutate_once(seed, rng)
        return data, f"{tag} {name} {what}"
    ops = []
    for _ in range(rng.choice((rng.randint(1, 3), rng.randint(1, 16)))):
        chunk = rng.choice(_CHUNKS) if rng.random() < 0.6 else rng.randbytes(rng.randint(1, 4))
        ops.append((rng.choice(("insert", "delete", "replace", "repeat")), rng.randrange(2**31), chunk))
    data, what = _apply_ops(seed, ops)
    return data, f"{tag} {name}: {what}"


def _numbers(ctx: _Ctx, salt: str) -> Iterator[int]:
    """This shard's share of the example numbers (seed-derived, so tiers and shards never overlap)."""
    rng = ctx.rng("numbers", salt, ctx.shard)
    for _ in range(_share(ctx.size, ctx)):
        yield rng.getrandbits(63)


# ------------------------------------------------------------------------------- fuzz/loader


def _fuzz_seeds(ctx: _Ctx) -> list[tuple[str, bytes]]:
    seeds = [(ctx.rel(p), p.read_bytes()) for p in ctx.pack_files if p.stat().st_size < 16_384]
    corpus = ctx.root / "tests" / "data" / "packs" / "invalid"
    seeds += [(ctx.rel(p), p.read_bytes()) for p in sorted(corpus.glob("*.yaml")) if p.stat().st_size < 8_192]
    if ctx.tier == "deep":
        seeds += [(ctx.rel(p), p.read_bytes()) for p in ctx.pack_files if p.stat().st_size >= 16_384]
    return seeds


def _run_fuzz_loader(ctx: _Ctx, rec: _Recorder) -> None:
    seeds = _fuzz_seeds(ctx)
    for number in _numbers(ctx, "loader"):
        data, key = fuzz_input(number, seeds, _YAMLISH)
        rec.case(key, partial(classify_pack_bytes, data, "fuzz.yaml"))


def fuzz_loader_bytes(data: bytes) -> None:
    """The loader fuzz target (atheris or any byte fuzzer): raise unless loaded or refused with located errors."""
    kind, sig = classify_pack_bytes(data, "fuzz.yaml")
    if kind not in ("accepted", "located"):
        raise AssertionError(f"{kind}: {sig}")


# ------------------------------------------------------------------------------- evidence helpers


def _draw_pool(ctx: _Ctx, pack: PolicyPack, n: int, *, gaps: bool, salt: str) -> list[tuple[dict[str, Any], date]]:
    """``n`` examples of ``carepolicy.testing.evidence(pack)``, reproducible from the seed."""
    from hypothesis import given

    from .testing import evidence

    out: list[tuple[dict[str, Any], date]] = []

    @_settings(ctx, n, salt + pack.id)
    @given(evidence(pack, gaps=gaps, at_edges=0))
    def collect(pair: tuple[dict[str, Any], date]) -> None:
        out.append(copy.deepcopy(pair))

    collect()
    return out[:n]


def walk_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every leaf (not a dict, not a list) with its path; lists and dicts are walked."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk_leaves(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk_leaves(v, path + (i,))
    else:
        yield path, node


def map_leaves(node: Any, fn: Callable[[tuple[Any, ...], Any], Any], path: tuple[Any, ...] = ()) -> Any:
    """A copy of ``node`` with every leaf replaced by ``fn(path, leaf)``."""
    if isinstance(node, dict):
        return {k: map_leaves(v, fn, path + (k,)) for k, v in node.items()}
    if isinstance(node, list):
        return [map_leaves(v, fn, path + (i,)) for i, v in enumerate(node)]
    return fn(path, node)


def is_date_text(value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO.fullmatch(value))


def _collect_keys(samples: Sequence[Any]) -> list[str]:
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                keys.add(str(k))
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for s in samples:
        walk(s)
    return sorted(keys)


def _example_texts(ctx: _Ctx) -> list[tuple[str, bytes]]:
    folder = ctx.root / "examples"
    return [(ctx.rel(p), p.read_bytes()) for p in sorted(folder.glob("*.json"))]


def has_duplicate_keys(text: bytes | str) -> bool:
    """Whether JSON text holds an object with a key twice (False when it is not JSON)."""
    found = False

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal found
        if len({k for k, _ in pairs}) != len(pairs):
            found = True
        return dict(pairs)

    try:
        json.loads(text, object_pairs_hook=hook)
    except (ValueError, RecursionError, TypeError):
        return False
    return found


DUPLICATE_KEYS = "evidence JSON with a duplicated key was accepted (the last value silently wins)"


# ------------------------------------------------------------------------------- fuzz/evidence


def _run_fuzz_evidence(ctx: _Ctx, rec: _Recorder) -> None:
    packs = ctx.packs
    seeds = _example_texts(ctx)
    seeds += [(f"generated:{p.id}", json.dumps(ev).encode()) for p in packs
              for ev, _ in _draw_pool(ctx, p, 2, gaps=False, salt="seed")]
    for number in _numbers(ctx, "evidence"):
        pack = packs[number % len(packs)]
        data, key = fuzz_input(number // len(packs), seeds, _JSONISH)
        rec.case(f"{pack.id} <- {key}", partial(_fuzz_evidence_outcome, pack, data))


def _fuzz_evidence_outcome(pack: PolicyPack, data: bytes) -> Outcome:
    kind, sig = classify_evidence(pack, data, in_force_as_of(pack))
    if kind == "accepted" and has_duplicate_keys(data):
        return "mismatch", DUPLICATE_KEYS
    return kind, sig


def fuzz_evidence_bytes(packs: Sequence[PolicyPack], data: bytes) -> None:
    """The evidence fuzz target: the first byte picks the pack, the rest is evidence JSON text."""
    if not data:
        return
    pack = packs[data[0] % len(packs)]
    kind, sig = _fuzz_evidence_outcome(pack, data[1:])
    if kind not in ("accepted", "located") and sig != DUPLICATE_KEYS:
        raise AssertionError(f"{kind}: {sig}")


# ------------------------------------------------------------------------------- evidence/json


def _run_evidence_json(ctx: _Ctx, rec: _Recorder) -> None:
    from hypothesis import given
    from hypothesis import strategies as st

    packs = ctx.packs
    samples = [ev for p in packs for ev, _ in _draw_pool(ctx, p, 4, gaps=False, salt="keys")]
    samples += [json.loads(t) for _, t in _example_texts(ctx)]
    known = _collect_keys(samples)
    key = st.one_of(st.sampled_from(known), st.sampled_from(known), st.text(max_size=12))
    scalars = (st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
               | st.sampled_from(["0001-01-01", "9999-12-31", "2024-02-30", "2026-01-05"])
               | st.integers(-(2**70), 2**70))
    values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key, inner, max_size=5),
                          max_leaves=12)

    @_settings(ctx, _share(ctx.size, ctx), "json")
    @given(values)
    def run(value: Any) -> None:
        text = json.dumps(value, default=str)
        shown = text if len(text) <= 200 else text[:199] + "…"
        rec.case(f"json {shown}", lambda: _through_every_pack(packs, value))

    run()


def _through_every_pack(packs: Sequence[PolicyPack], evidence: Any) -> tuple[str, str | None, int, int]:
    """One value through every pack: the worst outcome, with how many packs gave it."""
    results = []
    for pack in packs:
        try:
            results.append(classify_evidence(pack, evidence, in_force_as_of(pack)))
        except Exception as exc:  # noqa: BLE001
            results.append(("other", signature(exc)))
    worst = max(results, key=lambda r: KINDS.index(r[0]))
    bad = sum(1 for r in results if r[0] == worst[0]) if worst[0] not in ("accepted", "located") else 0
    return worst[0], worst[1], len(results), bad


# ------------------------------------------------------------------------------- evidence/extreme

_DATE_ENDS = ("0001-01-01", "9999-12-31")
_IMPOSSIBLE = ("2023-02-29", "2024-02-30", "2024-13-01", "2024-00-10", "0000-01-01", "99999-01-01", "2024-1-1", "",
               "2024-01-01T00:00:00", "+002024-01-01", "2024-W01-1", "٢٠٢٤-٠١-٠١")
_NUMBERS: tuple[Any, ...] = (math.nan, math.inf, -math.inf, 1e308, -1e308, 2**63, -(2**63), 2**64 + 1, 10**400, -1,
                             5e-324, 0.5, 1e-7)
_ODD_TEXT = ("", " ", "\x00", "\ud800", "\u202e{s}", "{s}\u200b", "{S}", "\uff32\uff45\uff44", "e\u0301", "\ufeff{s}",
             "NaN", "null", "🏥" * 50, "x" * 100_000, "{s} ", "\x1b[2J{s}")


@dataclass
class _Mutant:
    what: str
    evidence: Any  # a dict (the Mapping API) or bytes (JSON text)
    as_of: date
    must_fail: str | None = None


def _as_text(data: Any) -> bytes:
    return json.dumps(data, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _nest(depth: int, opener: str = "[", closer: str = "]") -> str:
    return opener * depth + closer * depth


def _deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def _duplicate_one_key(data: dict[str, Any], rng: random.Random) -> bytes | None:
    """JSON text of ``data`` with one object key written twice: a bogus value first, the real one last."""
    objects = [(path, node) for path, node in _walk_objects(data) if node]
    if not objects:
        return None
    path, node = rng.choice(objects)
    key = rng.choice(sorted(node))
    marker = "\x00__DUPLICATE__"
    rebuilt = {marker: None, **copy.deepcopy(_get(data, path))}
    if path:
        clone = copy.deepcopy(data)
        _set(clone, path, rebuilt)
    else:
        clone = rebuilt
    text = json.dumps(clone, ensure_ascii=False)
    bogus = json.dumps(key) + ": " + json.dumps(_bogus(node[key]))
    return text.replace(json.dumps(marker) + ": null", bogus, 1).encode("utf-8", "surrogatepass")


def _bogus(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "-other"
    if isinstance(value, list):
        return []
    return {}


def _walk_objects(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk_objects(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_objects(v, path + (i,))


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    if not path:
        raise ValueError("cannot set the root")
    _get(node, path[:-1])[path[-1]] = value


def _list_paths(data: Any) -> list[tuple[Any, ...]]:
    out = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, path + (k,))
        elif isinstance(node, list):
            if node and all(isinstance(x, dict) for x in node):
                out.append(path)
            for i, v in enumerate(node):
                walk(v, path + (i,))

    walk(data, ())
    return out


def extreme_mutants(data: dict[str, Any], as_of: date, pack: PolicyPack, rng: random.Random, *,
                    huge: bool) -> list[_Mutant]:
    """Mostly well-typed evidence made extreme, leaf by leaf by type (no field names are assumed)."""
    out: list[_Mutant] = []
    leaves = list(walk_leaves(data))
    dates = [p for p, v in leaves if is_date_text(v)]
    numbers = [p for p, v in leaves if isinstance(v, (int, float)) and not isinstance(v, bool)]
    bools = [p for p, v in leaves if isinstance(v, bool)]
    texts = [p for p, v in leaves if isinstance(v, str) and not is_date_text(v)]

    def every_date(value: str) -> dict[str, Any]:
        return map_leaves(data, lambda p, v: value if is_date_text(v) else v)

    if dates:
        for end in _DATE_ENDS:
            out.append(_Mutant(f"every date {end}", every_date(end), as_of))
        out.append(_Mutant("every date impossible", map_leaves(
            data, lambda p, v: rng.choice(_IMPOSSIBLE) if is_date_text(v) else v), as_of))
        one = rng.choice(dates)
        for end in _DATE_ENDS:
            mutant = copy.deepcopy(data)
            _set(mutant, one, end)
            out.append(_Mutant(f"{_path_text(one)} = {end}", mutant, as_of))
    if numbers:
        for value in rng.sample(_NUMBERS, 3):
            out.append(_Mutant(f"every number {value!r:.40}", map_leaves(data, partial(_number_to, value)), as_of))
        out.append(_Mutant("every number NaN (JSON text)", _as_text(map_leaves(
            data, lambda p, v: math.nan if isinstance(v, (int, float)) and not isinstance(v, bool) else v)), as_of))
    if bools:
        swap = rng.choice(("true", 1, None))
        out.append(_Mutant(f"every boolean {swap!r}", map_leaves(data, lambda p, v: swap if isinstance(v, bool) else v),
                           as_of))
    if texts:
        for template in rng.sample(_ODD_TEXT, 2):
            def odd(p: tuple[Any, ...], v: Any, template: str = template) -> Any:
                if isinstance(v, str) and not is_date_text(v):
                    return template.replace("{s}", v).replace("{S}", v.upper())
                return v
            out.append(_Mutant(f"every text like {template[:12]!r}", map_leaves(data, odd), as_of))
            out.append(_Mutant(f"every text like {template[:12]!r} (JSON text)", _as_text(map_leaves(data, odd)), as_of))
    lists = _list_paths(data)
    if huge and lists:
        path = rng.choice(lists)
        items = _get(data, path)
        mutant = copy.deepcopy(data)
        _set(mutant, path, [copy.deepcopy(items[i % len(items)]) for i in range(10_000)])
        out.append(_Mutant(f"{_path_text(path)}: 10,000 items", mutant, as_of))
        spread = copy.deepcopy(mutant)
        for i, item in enumerate(_get(spread, path)):
            for k, v in item.items():
                if is_date_text(v):
                    item[k] = (as_of - timedelta(days=i % 1500)).isoformat()
        out.append(_Mutant(f"{_path_text(path)}: 10,000 items over four years", spread, as_of))
        over = copy.deepcopy(data)
        _set(over, path, [copy.deepcopy(items[0]) for _ in range(10_001)])
        out.append(_Mutant(f"{_path_text(path)}: 10,001 items", over, as_of))
    text = _duplicate_one_key(data, rng)
    if text is not None:
        out.append(_Mutant("a key written twice (JSON text)", text, as_of, must_fail=DUPLICATE_KEYS))
    objects = [p for p, _ in _walk_objects(data) if p]
    leaf_paths = [p for p, _ in leaves if p]
    if leaf_paths:
        where = rng.choice(leaf_paths)
        mutant = copy.deepcopy(data)
        _set(mutant, where, _deep_list(10_000))
        out.append(_Mutant(f"{_path_text(where)} = 10,000 nested lists", mutant, as_of))
        marker = "\x00__DEEP__"
        holder = copy.deepcopy(data)
        _set(holder, where, marker)
        deep = json.dumps(holder, ensure_ascii=False).replace(json.dumps(marker), _nest(100_000, "[", "]"), 1)
        out.append(_Mutant(f"{_path_text(where)} = 100,000 nested arrays (JSON text)", deep.encode("utf-8", "surrogatepass"),
                           as_of))
        deep_obj = json.dumps(holder, ensure_ascii=False).replace(json.dumps(marker), '{"a": ' * 5_000 + "1" + "}" * 5_000, 1)
        out.append(_Mutant(f"{_path_text(where)} = 5,000 nested objects (JSON text)",
                           deep_obj.encode("utf-8", "surrogatepass"), as_of))
    unknown = copy.deepcopy(data)
    unknown.update({f"unknown_{i}": i for i in range(300)})
    if objects:
        _get(unknown, rng.choice(objects)).update({f"nested_unknown_{i}": "x" for i in range(300)})
    out.append(_Mutant("300 unknown keys at the top and 300 in an object (evidence/scaling goes further)", unknown, as_of))
    out.append(_Mutant("every leaf null", map_leaves(data, lambda p, v: None), as_of))
    out.append(_Mutant("every object emptied", _empty_objects(data), as_of))
    out.append(_Mutant("a list where an object was, text where a list was", _swap_shapes(data, rng), as_of))
    meta = pack.model.pack
    out.append(_Mutant("as of the first day in force", copy.deepcopy(data), meta.effective_from))
    last = meta.effective_to or date(2899, 12, 31)
    out.append(_Mutant(f"as of {last.isoformat()}", copy.deepcopy(data), last))
    return out


def _number_to(value: Any, path: tuple[Any, ...], leaf: Any) -> Any:
    return value if isinstance(leaf, (int, float)) and not isinstance(leaf, bool) else leaf


def _path_text(path: tuple[Any, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "$"


def _empty_objects(node: Any, depth: int = 0) -> Any:
    if isinstance(node, dict):
        return {} if depth else {k: _empty_objects(v, depth + 1) for k, v in node.items()}
    if isinstance(node, list):
        return []
    return node


def _swap_shapes(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    def swap(node: Any, depth: int) -> Any:
        if isinstance(node, dict):
            if depth and rng.random() < 0.3:
                return list(node.values())
            return {k: swap(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return "not a list" if rng.random() < 0.5 else [swap(v, depth + 1) for v in node]
        return node

    swapped: dict[str, Any] = swap(copy.deepcopy(data), 0)
    return swapped


def _run_evidence_extreme(ctx: _Ctx, rec: _Recorder) -> None:
    for n, pack in enumerate(ctx.packs):
        if n % ctx.shards != ctx.shard:
            continue
        pool = _draw_pool(ctx, pack, ctx.size, gaps=False, salt="extreme")
        rng = ctx.rng("extreme", pack.id)
        huge = 1 if ctx.tier == "fast" else 10  # bases that also get 10,000-item lists
        for j, (data, as_of) in enumerate(pool):
            grow = huge > 0 and bool(_list_paths(data))
            huge -= grow
            try:
                mutants = extreme_mutants(data, as_of, pack, rng, huge=grow)
            except Exception as exc:  # noqa: BLE001 - a generator bug is shown, not fatal
                rec.case(f"{pack.id} #{j}: making the mutants", partial(_outcome, "other", "generator: " + signature(exc)))
                continue
            for m in mutants:
                rec.case(f"{pack.id} #{j}: {m.what}",
                         partial(classify_evidence, pack, m.evidence, m.as_of, must_fail=m.must_fail))


# ------------------------------------------------------------------------------- evidence/scaling


def _run_evidence_scaling(ctx: _Ctx, rec: _Recorder) -> None:
    pack = ctx.packs[-1]
    as_of = in_force_as_of(pack)
    base = _draw_pool(ctx, pack, 1, gaps=False, salt="scaling")[0][0]
    objects = [p for p, _ in _walk_objects(base) if p]

    def timed(evidence: Any) -> float:
        best = math.inf
        for _ in range(2):
            start = time.process_time()
            try:
                evaluate(pack, evidence, as_of)
            except PolicyError:
                pass
            best = min(best, time.process_time() - start)
        return best

    def shape(kind: str, n: int) -> Any:
        data = copy.deepcopy(base)
        if kind == "unknown keys at the top":
            data.update({f"unknown_{i}": i for i in range(n)})
        elif kind == "unknown keys in an object":
            _get(data, objects[0]).update({f"unknown_{i}": i for i in range(n)})
        elif kind == "unknown keys (JSON text)":
            data.update({f"unknown_{i}": i for i in range(n)})
            return json.dumps(data).encode()
        elif kind == "one key written n times (JSON text)":
            text = json.dumps(data)
            return (text[:-1] + "".join(f', "zz": {i}' for i in range(n)) + "}").encode()
        return data

    kinds = ["unknown keys at the top", "unknown keys (JSON text)", "one key written n times (JSON text)"]
    if objects:
        kinds.insert(1, "unknown keys in an object")
    for kind in kinds:
        def check(kind: str = kind) -> tuple[str, str | None, int, int]:
            sizes = (500, 2_000, 8_000) if ctx.tier == "fast" else (1_000, 8_000, 64_000)
            times = {n: timed(shape(kind, n)) for n in sizes}
            per_key = {n: t / n for n, t in times.items()}
            growth = per_key[sizes[-1]] / max(per_key[sizes[0]], 1e-9)
            detail = ", ".join(f"{n:,}: {t * 1000:.0f} ms" for n, t in times.items())
            if growth > 4:
                return "mismatch", f"time per key grew {growth:.1f}x from {sizes[0]:,} to {sizes[-1]:,} keys ({detail})", 3, 3
            return "accepted", f"per-key growth {growth:.1f}x ({detail})", 3, 0
        result = rec.case(f"{pack.id}: {kind}", check)
        if result[0] == "accepted":
            rec.note(f"{kind}: {result[1]}")


# ------------------------------------------------------------------------------- properties/order


def _raw_pack(path: Path) -> dict[str, Any]:
    from ._yaml import read_yaml

    data, _ = read_yaml(path.read_bytes(), str(path))
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a mapping")
    return data


def order_variants(raw: dict[str, Any], rng: random.Random, count: int) -> list[tuple[str, dict[str, Any], dict[str, str]]]:
    """Copies of a pack with table rows shuffled and duplicated, each with its copy-id -> original-id map.

    ``unique``, ``worst`` and ``collect`` tables are shuffled; ``worst`` and ``collect`` rows are also
    duplicated anywhere; ``first`` tables keep their order and get copies placed after the original
    (a later copy of a row can never decide before it). ``unique`` rows are not duplicated: a row that
    holds twice is the conflict ``unique`` declares.
    """
    out = []
    tables = [(i, d) for i, d in enumerate(raw.get("decisions", [])) if isinstance(d, dict) and d.get("kind") == "table"]
    for v in range(count):
        clone = copy.deepcopy(raw)
        renames: dict[str, str] = {}
        words = []
        for i, _ in tables:
            d = clone["decisions"][i]
            rows: list[dict[str, Any]] = d["rows"]
            hit = d.get("hit")
            if hit in ("unique", "worst", "collect"):
                rng.shuffle(rows)
                words.append(f"{d['id']}: shuffled")
            if hit in ("worst", "collect", "first"):
                for _ in range(rng.randint(1, 3)):
                    k = rng.randrange(len(rows))
                    row = copy.deepcopy(rows[k])
                    new_id = f"{row['id']}-copy{v}x{len(renames)}"
                    renames[new_id] = renames.get(row["id"], row["id"])
                    row["id"] = new_id
                    place = rng.randint(k + 1, len(rows)) if hit == "first" else rng.randint(0, len(rows))
                    rows.insert(place, row)
                words.append(f"{d['id']}: {hit}, rows copied")
        out.append(("; ".join(words), clone, renames))
    return out


def essence(d: Any, renames: dict[str, str] | None = None) -> dict[str, Any]:
    """What a decision says, independent of row order, copied row ids, provider identity and wording."""
    names = renames or {}

    def ids(items: Sequence[str]) -> list[str]:
        return sorted({names.get(i, i) for i in items})

    return {
        "status": d.status, "severity": d.severity, "out_of_scope": sorted(d.out_of_scope),
        "decisions": {r.id: [r.status, r.value, r.label, r.severity, ids(r.rules), ids(r.undetermined),
                             sorted(set(r.missing)), sorted({j.reason for j in r.judgements})] for r in d.decisions},
        "actions": sorted(json.dumps([a.id, a.kind, str(a.due), a.certain, sorted(a.missing)]) for a in d.actions),
        "approvals": sorted(json.dumps([a.id, str(a.due), a.certain, sorted(a.missing)]) for a in d.approvals),
        "missing": sorted(json.dumps([m.input, sorted(set(m.needed_by))]) for m in d.missing),
        "warnings": sorted(d.warnings),
    }


def _essence_or_none(pack: PolicyPack, evidence: Any, as_of: date, renames: dict[str, str]) -> dict[str, Any] | None:
    try:
        return essence(evaluate(pack, evidence, as_of), renames)
    except PolicyError:
        return None


def _compare(a: dict[str, Any] | None, other: PolicyPack, evidence: Any, as_of: date, renames: dict[str, str]) -> str | None:
    b = _essence_or_none(other, evidence, as_of, renames)
    if a == b:
        return None
    if a is None or b is None:
        return "one refused the evidence, the other decided"
    diff = sorted(k for k in a if a[k] != b[k])
    if "decisions" in diff:
        diff = [f"decisions.{k}" for k in a["decisions"] if a["decisions"][k] != b["decisions"].get(k)] + [
            x for x in diff if x != "decisions"]
    return "differs in " + ", ".join(diff)


def _run_properties_order(ctx: _Ctx, rec: _Recorder) -> None:
    per_variant = 12
    for n, (path, pack) in enumerate(zip(ctx.pack_files, ctx.packs)):
        if n % ctx.shards != ctx.shard:
            continue
        raw = _raw_pack(path)
        variants = []
        for what, clone, renames in order_variants(raw, ctx.rng("order", pack.id), per_variant):
            text = json.dumps(clone, ensure_ascii=False)
            try:
                variants.append((what, loads_pack(text, f"{ctx.rel(path)} ({what})"), renames))
            except PackLoadError as exc:
                rec.case(f"{pack.id} variant ({what})", partial(_outcome, "mismatch", f"variant refused: {exc.diagnostics[0]}"))
        if not variants:
            rec.note(f"{pack.id}: no decision table to reorder")
            continue

        _order_property(ctx, rec, pack, variants)()


def _order_property(ctx: _Ctx, rec: _Recorder, pack: PolicyPack, variants: list[Any]) -> Callable[[], None]:
    from hypothesis import given

    from .testing import evidence

    @_settings(ctx, ctx.size, "order" + pack.id)
    @given(evidence(pack, gaps=True, at_edges=0))
    def run(pair: tuple[dict[str, Any], date]) -> None:
        data, as_of = pair

        def check() -> tuple[str, str | None, int, int]:
            base = _essence_or_none(pack, data, as_of, {})
            problems = [(what, p) for what, other, renames in variants
                        if (p := _compare(base, other, data, as_of, renames)) is not None]
            if problems:
                what, p = problems[0]
                return "mismatch", f"{p} (variant: {what})", len(variants), len(problems)
            return "accepted", None, len(variants), 0

        rec.case(f"{pack.id} as of {as_of}: {_short(data)}", check)

    test: Callable[[], None] = run
    return test


def _short(data: Any, limit: int = 240) -> str:
    text = json.dumps(data, default=str, ensure_ascii=False)
    return text if len(text) <= limit else f"{text[:limit - 40]}… sha256:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


# ------------------------------------------------------------------------------- properties/unread


def read_paths(pack: PolicyPack) -> list[tuple[str, ...]]:
    """The evidence paths the pack's inputs read (a pack reads evidence only through its inputs)."""
    out = []
    for spec in pack.inputs.values():
        if spec.kind != "derived":  # a computed input reads evidence only through its operands, listed too
            out.append(tuple(spec.evidence_path.split(".")))
    return out


def _is_read(path: tuple[Any, ...], reads: list[tuple[str, ...]]) -> bool:
    keys = tuple(p for p in path if not isinstance(p, int))
    return any(keys[: len(r)] == r or r[: len(keys)] == keys for r in reads) or keys[:1] == ("provider",) and keys[1:2] in (
        ("id",), ("name",))


def add_unread(data: dict[str, Any], donor: dict[str, Any], reads: list[tuple[str, ...]]) -> tuple[dict[str, Any], int]:
    """``data`` plus every leaf of ``donor`` at a path the pack does not read; and how many were added or changed."""
    out = copy.deepcopy(data)
    added = 0
    for path, value in walk_leaves(donor):
        if not path or any(isinstance(p, int) for p in path) or _is_read(path, reads):
            continue
        node = out
        ok = True
        for p in path[:-1]:
            nxt = node.setdefault(p, {})
            if not isinstance(nxt, dict):
                ok = False
                break
            node = nxt
        if ok and node.get(path[-1], object()) != value:
            node[path[-1]] = copy.deepcopy(value)
            added += 1
    # lists of objects (e.g. dated events) the pack does not read at all
    for key, value in donor.items():
        if isinstance(value, list) and not _is_read((key,), reads) and key not in data:
            out[key] = copy.deepcopy(value)
            added += 1
    return out, added


def _run_properties_unread(ctx: _Ctx, rec: _Recorder) -> None:
    donors = {p.id: [ev for ev, _ in _draw_pool(ctx, p, 6, gaps=False, salt="donor")] for p in ctx.packs}
    for pack in ctx.packs:
        reads = read_paths(pack)
        if not reads:
            rec.note(f"{pack.id}: no input paths found; property not applicable")
            continue
        others = [ev for pid, evs in donors.items() if pid != pack.id for ev in evs]
        _unread_property(ctx, rec, pack, reads, others)()


def _unread_property(ctx: _Ctx, rec: _Recorder, pack: PolicyPack, reads: list[tuple[str, ...]],
                     others: list[dict[str, Any]]) -> Callable[[], None]:
    from hypothesis import given
    from hypothesis import strategies as st

    from .testing import evidence

    @_settings(ctx, ctx.size, "unread" + pack.id)
    @given(evidence(pack, gaps=True, at_edges=0), st.lists(st.sampled_from(others), min_size=2, max_size=2))
    def run(pair: tuple[dict[str, Any], date], picked: list[dict[str, Any]]) -> None:
        data, as_of = pair

        def check() -> tuple[str, str | None, int, int]:
            checked = bad = refused = 0
            first = None
            for donor in picked:
                more, added = add_unread(data, donor, reads)
                if not added:
                    continue
                checked += 1
                try:
                    evaluate(pack, more, as_of)
                except EvidenceError:
                    refused += 1  # a per-pack evidence model may close fields the pack does not declare
                    continue
                problem = _unread_diff(pack, data, more, as_of)
                if problem:
                    bad += 1
                    first = first or problem
            if bad:
                return "mismatch", first, checked, bad
            if refused:
                return "located", "evidence with fields the pack does not read was refused", checked, refused
            return "accepted", None, max(checked, 1), 0

        rec.case(f"{pack.id} as of {as_of}: {_short(data)}", check)

    test: Callable[[], None] = run
    return test


def _unread_diff(pack: PolicyPack, data: Any, more: Any, as_of: date) -> str | None:
    try:
        a = essence(evaluate(pack, data, as_of))
    except PolicyError as exc:
        return f"the base evidence was refused: {_one_line(str(exc), 80)}"
    b = essence(evaluate(pack, more, as_of))
    if a == b:
        return None
    return "adding unread evidence changed " + ", ".join(sorted(k for k in a if a[k] != b[k]))


# ------------------------------------------------------------------------------- concurrency/*


def canonical_digest(decision: Any) -> str:
    return hashlib.sha256(decision.to_json(indent=None).encode("utf-8")).hexdigest()


def concurrency_pairs(ctx: _Ctx, count: int, per_pack: int) -> list[tuple[int, dict[str, Any], date]]:
    """``count`` (pack index, evidence, as-of) pairs: generated evidence at as-of dates spread through each pack's term."""
    pools = [_draw_pool(ctx, p, per_pack, gaps=True, salt="pairs") for p in ctx.packs]
    rng = ctx.rng("pairs")
    out = []
    for i in range(count):
        k = i % len(ctx.packs)
        data, as_of = pools[k][(i // len(ctx.packs)) % len(pools[k])]
        meta = ctx.packs[k].model.pack
        day = as_of + timedelta(days=rng.randint(-400, 400))
        if day < meta.effective_from or (meta.effective_to is not None and day > meta.effective_to):
            day = as_of
        out.append((k, data, day))
    return out


def _evaluate_digest(pack: PolicyPack, data: Any, as_of: date) -> str:
    try:
        return canonical_digest(evaluate(pack, data, as_of))
    except PolicyError as exc:
        return "error:" + hashlib.sha256(str(exc).encode()).hexdigest()


def _run_concurrency_evaluate(ctx: _Ctx, rec: _Recorder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    packs = ctx.packs
    pairs = concurrency_pairs(ctx, ctx.size, 20 if ctx.tier == "fast" else 200)
    serial: list[str] = []

    def run_serial() -> tuple[str, None, int, int]:
        serial.extend(_evaluate_digest(packs[k], data, day) for k, data, day in pairs)
        return "accepted", None, len(pairs), 0

    rec.case(f"serial run of {len(pairs):,} pairs", run_serial)
    for round_no in range(3):
        order = list(range(len(pairs)))
        ctx.rng("order", round_no).shuffle(order)

        def run_round(order: list[int] = order) -> tuple[str, str | None, int, int]:
            got: list[str | None] = [None] * len(pairs)
            failures: list[str] = []
            lock = threading.Lock()
            position = iter(order)

            def work() -> None:
                while True:
                    with lock:
                        i = next(position, None)
                    if i is None:
                        return
                    k, data, day = pairs[i]
                    try:
                        got[i] = _evaluate_digest(packs[k], data, day)
                    except Exception as exc:  # noqa: BLE001
                        failures.append(signature(exc))

            old = sys.getswitchinterval()
            sys.setswitchinterval(1e-5)  # switch threads often, so races have room to show
            try:
                with ThreadPoolExecutor(max_workers=32) as pool:
                    for f in [pool.submit(work) for _ in range(32)]:
                        f.result()
            finally:
                sys.setswitchinterval(old)
            if failures:
                return "other", failures[0], len(pairs), len(failures)
            bad = sum(1 for a, b in zip(serial, got) if a != b)
            if bad:
                return "mismatch", f"{bad} of {len(pairs):,} decisions differ from the serial run", len(pairs), bad
            return "accepted", None, len(pairs), 0

        rec.case(f"round {round_no + 1}: 32 threads, {len(pairs):,} pairs", run_round)


def _run_concurrency_load(ctx: _Ctx, rec: _Recorder) -> None:
    from concurrent.futures import ThreadPoolExecutor

    files = ctx.pack_files
    probes = {p.id: _draw_pool(ctx, p, 3, gaps=True, salt="load") for p in ctx.packs}

    def fingerprint(pack: PolicyPack) -> str:
        digests = [_evaluate_digest(pack, data, day) for data, day in probes[pack.id]]
        return pack.sha256 + ":" + hashlib.sha256("".join(digests).encode()).hexdigest()

    expected = {str(f): fingerprint(load_pack(f)) for f in files}
    rec.case(f"serial loads of {len(files)} packs", lambda: ("accepted", None, len(files), 0))
    threads = ctx.size
    for round_no in range(3 if ctx.tier == "deep" else 1):
        def run_round(round_no: int = round_no) -> tuple[str, str | None, int, int]:
            def work(t: int) -> list[tuple[str, str]]:
                order = files[t % len(files):] + files[: t % len(files)]
                return [(str(f), fingerprint(load_pack(f))) for f in order]

            old = sys.getswitchinterval()
            sys.setswitchinterval(1e-5)
            try:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    results = [r for rs in pool.map(work, range(threads)) for r in rs]
            finally:
                sys.setswitchinterval(old)
            bad = sum(1 for f, fp in results if expected[f] != fp)
            if bad:
                return "mismatch", f"{bad} of {len(results)} concurrent loads differ from serial ones", len(results), bad
            return "accepted", None, len(results), 0

        rec.case(f"round {round_no + 1}: {threads} threads load {len(files)} packs each", run_round)


# ------------------------------------------------------------------------------- integrity/pin


def _pin_refused_with_cp114(data: bytes, pin: str, name: str) -> Outcome:
    try:
        loads_pack(data, name, sha256=pin)
    except PackLoadError as exc:
        codes = [d.code for d in exc.diagnostics]
        if codes != ["CP114"]:
            return "mismatch", f"expected only CP114, got {codes}"
        kind, sig = classify_pack_bytes(data, name, sha256=pin, must_fail=True)
        return kind, sig
    return "mismatch", "a pinned hash was not enforced"


def _pin_on_the_command_line(path: Path, pin: str) -> Outcome:
    """``carepolicy validate --pin`` run as a command (``python -m carepolicy``), as a council's job would."""
    pack = load_pack(path)
    proc = subprocess.run([sys.executable, "-m", "carepolicy", "validate", str(path), "--pin", f"{pack.id}={pin}"],
                          capture_output=True, text=True, timeout=60)
    code = proc.returncode
    if pin == pack.sha256:
        return ("accepted", None) if code == 0 else ("mismatch", f"validate --pin with the right hash: exit {code}")
    if code == 1 and "error[CP114]" in proc.stderr:
        return "located", None
    return "mismatch", f"validate --pin with a wrong hash: exit {code}"


def _cases_pin(ctx: _Ctx) -> Cases:
    out: Cases = []
    for path in ctx.pack_files:
        data = path.read_bytes()
        name = ctx.rel(path)
        digest = hashlib.sha256(data).hexdigest()
        wrong = digest[:-1] + ("0" if digest[-1] != "0" else "1")
        changed, what = mutate_once(data, ctx.rng("pin", name))
        out += [
            (f"{name}: the right pin", partial(classify_pack_bytes, data, name, sha256=digest)),
            (f"{name}: a wrong pin", partial(_pin_refused_with_cp114, data, wrong, name)),
            (f"{name}: the right pin, upper case", partial(classify_pack_bytes, data, name, sha256=digest.upper())),
            (f"{name}: the right pin on a changed file ({what})", partial(_pin_refused_with_cp114, changed, digest, name)),
            (f"{name}: validate --pin right", partial(_pin_on_the_command_line, path, digest)),
            (f"{name}: validate --pin wrong", partial(_pin_on_the_command_line, path, wrong)),
        ]
    return out


def _cases_self_test(ctx: _Ctx) -> Cases:
    def crash() -> Outcome:
        import ctypes

        ctypes.string_at(0)  # reads address 0: a segmentation fault
        raise AssertionError("unreachable")

    def hang() -> Outcome:
        time.sleep(3600)
        raise AssertionError("unreachable")

    def boom() -> Outcome:
        raise ValueError("boom 123")

    def ok() -> Outcome:
        return "accepted", None

    return [("ok 1", ok), ("segfault", crash), ("ok 2", ok), ("hang", hang), ("raises", boom), ("ok 3", ok)]


_RUNNERS: dict[str, Any] = {
    "self-test/crash-and-hang": _cases_self_test,
    "packs/corpus": _cases_corpus,
    "packs/truncated": _cases_truncated,
    "packs/mutated": _cases_mutated,
    "packs/largest": _cases_largest,
    "fuzz/loader": _run_fuzz_loader,
    "fuzz/evidence": _run_fuzz_evidence,
    "evidence/json": _run_evidence_json,
    "evidence/extreme": _run_evidence_extreme,
    "evidence/scaling": _run_evidence_scaling,
    "properties/order": _run_properties_order,
    "properties/unread": _run_properties_unread,
    "concurrency/evaluate": _run_concurrency_evaluate,
    "concurrency/load": _run_concurrency_load,
    "integrity/pin": _cases_pin,
}


# =============================================================================== the parent side


@dataclass
class _Figures:
    spec: Spec
    tried: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    crashes: int = 0
    hangs: int = 0
    over_bound: int = 0
    worst_us: int = 0
    worst_case: str = ""
    peak_kib: int = 0
    growth_kib: int = 0
    signatures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    planned: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0

    def finding(self, kind: str, sig: str, key: str, count: int = 1) -> None:
        label = f"{kind}: {sig}"
        self.signatures[label] += count
        self.examples.setdefault(label, key)

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        data = {
            "class": self.spec.name, "what": self.spec.what, "tried": self.tried,
            "accepted": c["accepted"], "located": c["located"], "unlocated": c["unlocated"], "other": c["other"],
            "crashes": self.crashes, "hangs": self.hangs, "mismatches": c["mismatch"], "over_bound": self.over_bound,
            "worst_ms": round(self.worst_us / 1000, 1), "worst_case": self.worst_case,
            "peak_mib": round(self.peak_kib / 1024, 1), "growth_mib": round(self.growth_kib / 1024, 1),
            "bound_ms": self.spec.bound_ms, "bound_mib": self.spec.bound_mib, "timeout_s": self.spec.timeout_s,
            "elapsed_s": round(self.elapsed, 1), "cpu_s": round(self.cpu, 1),
            "findings": [{"what": k, "count": n, "example": self.examples[k]} for k, n in self.signatures.most_common()],
            "notes": self.notes,
        }
        data["over_memory"] = int(self.growth_kib > self.spec.bound_mib * 1024)
        data["ok"] = self.tried > 0 and all(data[k] == 0 for k in DEFECTS) and not data["over_memory"]
        return data


def _job_size(spec: Spec, tier: str, sizes: dict[str, int] | None, scale: float) -> int:
    if sizes and spec.name in sizes:
        return sizes[spec.name]
    base = spec.size[tier]
    return max(1, int(base * scale)) if base else 0


def run_battery(tier: str = "fast", *, root: str | os.PathLike[str] = ".", only: Sequence[str] | None = None,
                jobs: int | None = None, seed: int | None = None, sizes: dict[str, int] | None = None,
                scale: float = 1.0, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the battery (or the classes whose names start with one of ``only``) and return the figures."""
    if tier not in ("fast", "deep"):
        raise ValueError(f"tier must be `fast` or `deep`, not `{tier}`")
    root_path = Path(root).resolve()
    if not (root_path / "policies").is_dir():
        raise FileNotFoundError(f"{root_path} has no policies/ folder; run from the repository root or pass --root")
    if seed is None:
        seed = FAST_SEED if tier == "fast" else random.SystemRandom().randrange(2**31)
    chosen = [s for s in SPECS.values() if not only or any(s.name.startswith(o) for o in only)]
    chosen += [HIDDEN_SPECS[o] for o in only or () if o in HIDDEN_SPECS]
    if not chosen:
        raise ValueError(f"no class of the battery matches {', '.join(only or [])}; have: {', '.join(SPECS)}")
    figures = {s.name: _Figures(s) for s in chosen}
    work: queue.Queue[dict[str, Any]] = queue.Queue()
    for spec in sorted(chosen, key=lambda s: -s.cost):
        shards = spec.shards[tier]
        for shard in range(shards):
            work.put({"cls": spec.name, "tier": tier, "seed": seed, "root": str(root_path), "shard": shard,
                      "shards": shards, "start": 0, "size": _job_size(spec, tier, sizes, scale)})
    lock = threading.Lock()
    started = time.perf_counter()

    def drain() -> None:
        while True:
            try:
                job = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            _run_job(job, figures[job["cls"]], lock)
            with lock:
                figures[job["cls"]].elapsed += time.perf_counter() - t0
            if progress is not None:
                progress(f"{job['cls']} shard {job['shard'] + 1}/{job['shards']} done in {time.perf_counter() - t0:.1f}s")

    count = max(1, jobs or min(os.cpu_count() or 1, 4))
    pool = [threading.Thread(target=drain, daemon=True) for _ in range(count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    classes = [figures[s.name].to_dict() for s in chosen]
    return {
        "tier": tier, "seed": seed, "jobs": count, "elapsed_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(sum(c["cpu_s"] for c in classes), 1), "versions": versions(), "root": str(root_path),
        "classes": classes,
    }


def versions() -> dict[str, Any]:
    import pydantic
    import pydantic_core
    import yaml

    from ._version import __version__

    try:
        import hypothesis

        hyp = hypothesis.__version__
    except ImportError:  # pragma: no cover - the dev extra is required to run the battery
        hyp = None
    return {
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "pyyaml": yaml.__version__, "libyaml": hasattr(yaml, "CSafeLoader"), "pydantic": pydantic.VERSION,
        "pydantic_core": pydantic_core.__version__, "hypothesis": hyp, "carepolicy": __version__,
        "platform": f"{platform.system()} {platform.machine()}", "cpus": os.cpu_count(),
    }


def _run_job(job: dict[str, Any], fig: _Figures, lock: threading.Lock) -> None:
    """Run one job in worker processes until it is done, restarting after crashes and hangs where it can."""
    spec = fig.spec
    while True:
        with tempfile.TemporaryFile() as errors:
            proc = subprocess.Popen([sys.executable, "-m", "carepolicy._reliability", "--worker"],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                    env={**os.environ, "PYTHONFAULTHANDLER": "1"})
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
            lines: queue.Queue[bytes | None] = queue.Queue()

            def read(stream: Any = proc.stdout) -> None:
                for raw in iter(stream.readline, b""):
                    lines.put(raw)
                lines.put(None)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            current: tuple[int, str] | None = None
            deadline = time.monotonic() + 600  # setting up (drawing evidence pools) may take a while
            resume_at: int | None = None
            while True:
                try:
                    raw = lines.get(timeout=max(0.05, deadline - time.monotonic()))
                except queue.Empty:
                    proc.kill()
                    proc.wait()
                    with lock:
                        if current is not None:
                            fig.hangs += 1
                            fig.tried += 1
                            fig.finding("hang", f"no answer within {spec.timeout_s:g}s", current[1])
                            resume_at = current[0] + 1
                        else:
                            fig.hangs += 1
                            fig.finding("hang", "the worker stopped answering between cases", "<setup>")
                    break
                if raw is None:
                    code = proc.wait()
                    if code != 0 or current is not None:
                        errors.seek(0)
                        why = _crash_text(code, errors.read()[-20_000:].decode("utf-8", "replace"))
                        with lock:
                            fig.crashes += 1
                            if current is not None:
                                fig.tried += 1
                                resume_at = current[0] + 1
                            fig.finding("crash", why, current[1] if current else "<setup>")
                    break
                tag, _, payload = raw.decode("utf-8", "replace").partition(" ")
                value = json.loads(payload)
                if tag == "B":
                    current = (int(value[0]), str(value[1]))
                    deadline = time.monotonic() + spec.timeout_s
                elif tag == "E":
                    _record(fig, value, current[1] if current else "?", lock)
                    current = None
                    deadline = time.monotonic() + 600
                elif tag == "M":
                    with lock:
                        if "peak" in value:
                            fig.peak_kib = max(fig.peak_kib, value["peak"])
                            fig.growth_kib = max(fig.growth_kib, value["peak"] - value["base"])
                            fig.cpu += float(value.get("cpu", 0))
                elif tag == "N":
                    with lock:
                        fig.notes.append(str(value))
                elif tag == "T":
                    with lock:
                        fig.planned += int(value)
        if resume_at is None or not spec.resumable:
            if resume_at is not None:
                with lock:
                    fig.notes.append(f"stopped after a crash or hang (shard {job['shard'] + 1}); later examples not run")
            return
        job = {**job, "start": resume_at}


def _crash_text(code: int, stderr: str) -> str:
    """``worker killed by SIGSEGV at _yaml.py:_loop`` (the innermost carepolicy frame faulthandler printed)."""
    import signal

    how = f"worker exit {code}"
    if code < 0:
        try:
            how = f"worker killed by {signal.Signals(-code).name}"
        except ValueError:
            how = f"worker killed by signal {-code}"
    frames = re.findall(r'File "' + re.escape(_PACKAGE) + r'([\w.]+)", line \d+ in (\w+)', stderr)
    if frames:
        return f"{how} at {frames[0][0]}:{frames[0][1]}"
    last = [line for line in stderr.strip().splitlines() if line.strip()]
    return f"{how}: {_one_line(last[-1], 160)}" if last else how


def _record(fig: _Figures, value: dict[str, Any], key: str, lock: threading.Lock) -> None:
    kind, sig, us, n, bad = value["k"], value.get("s"), int(value["us"]), int(value.get("n", 1)), int(value.get("bad", 0))
    with lock:
        fig.tried += n
        if kind in ("accepted", "located"):
            fig.counts[kind] += n
        else:
            fig.counts[kind] += bad
            fig.counts["accepted"] += n - bad
            fig.finding(kind, sig or kind, key, bad)
        if us > fig.worst_us:
            fig.worst_us, fig.worst_case = us, key
        if us > fig.spec.bound_ms * 1000:
            fig.over_bound += 1
            fig.finding("over_bound", f"slower than {fig.spec.bound_ms:g} ms", key)


def findings(report: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    """``(class, what, count, example case)`` for every defect the run found."""
    return [(c["class"], f["what"], f["count"], f["example"]) for c in report["classes"] for f in c["findings"]]


# =============================================================================== rendering


_COLUMNS = [("class", "class", "<"), ("tried", "tried", ">"), ("accepted", "accepted", ">"), ("located", "located", ">"),
            ("unlocated", "unlocated", ">"), ("other", "other", ">"), ("crashes", "crashes", ">"), ("hangs", "hangs", ">"),
            ("mismatches", "mismatch", ">"), ("over_bound", "over bound", ">"), ("worst_ms", "worst ms", ">"),
            ("peak_mib", "peak MiB", ">"), ("growth_mib", "growth MiB", ">"), ("bound", "bound", "<")]


def render_table(report: dict[str, Any]) -> str:
    """The figures as a fixed-width table, then every finding with an example case."""
    v = report["versions"]
    head = (f"carepolicy reliability battery, {report['tier']} tier (seed {report['seed']}, {report['jobs']} workers, "
            f"{report['elapsed_s']} s, {report['cpu_s']} s of worker CPU): Python {v['python']}, PyYAML {v['pyyaml']}{' (libyaml)' if v['libyaml'] else ''}, "
            f"pydantic {v['pydantic']}, hypothesis {v['hypothesis']}, carepolicy {v['carepolicy']}, {v['platform']}")
    rows = []
    for c in report["classes"]:
        row = dict(c)
        row["bound"] = f"{c['bound_ms'] / 1000:g} s, {c['bound_mib']:g} MiB"
        rows.append({k: f"{row[k]:,}" if isinstance(row[k], int) else str(row[k]) for k, _, _ in _COLUMNS})
    widths = {k: max(len(title), *(len(r[k]) for r in rows)) for k, title, _ in _COLUMNS}
    lines = [head, ""]
    lines.append("  ".join(f"{title:{align}{widths[k]}}" for k, title, align in _COLUMNS).rstrip())
    for r in rows:
        lines.append("  ".join(f"{r[k]:{align}{widths[k]}}" for k, _, align in _COLUMNS).rstrip())
    found = findings(report)
    heavy = [c for c in report["classes"] if c["over_memory"]]
    lines.append("")
    if not found and not heavy:
        lines.append("no findings: every case was accepted or refused with located errors, within its bounds")
    for c in heavy:
        lines.append(f"{c['class']}: the worker grew {c['growth_mib']} MiB, over the class's {c['bound_mib']:g} MiB bound")
    for cls, what, count, example in found:
        lines.append(f"{cls}: {count:,} x {what}")
        lines.append(f"    e.g. {_one_line(example, 200)}")
    notes = [(c["class"], n) for c in report["classes"] for n in c["notes"]]
    if notes:
        lines.append("")
        lines += [f"note {cls}: {n}" for cls, n in notes]
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - the worker process
    if sys.argv[1:] == ["--worker"]:
        sys.exit(worker_main())
    sys.exit("usage: python -m carepolicy._reliability --worker (a job on stdin); use `carepolicy reliability`")
