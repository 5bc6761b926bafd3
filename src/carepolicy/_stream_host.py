"""The durable-rules side of the stream: one host per process, rulesets registered once, sessions.

durable-rules 2.0.28 keeps its rulesets and their state in process-global C tables and
cannot unregister a ruleset; it is not thread-safe (an evaluation spans several C
calls); each ``durable.engine.Host`` starts two timer threads that dispatch pending
actions of every ruleset every 0.2 s; an exception inside an action is swallowed into
the session state; a ruleset's state table holds at most 1,024 live sessions. So:

* one :class:`_Host` per process, made on first use, whose ``_run`` starts no timer
  threads: every action runs synchronously inside the call that caused it, on the
  caller's thread, while :data:`LOCK` is held;
* every call into durable-rules, from any stream, holds :data:`LOCK` (one re-entrant
  lock for the process, because the C tables are shared by every ruleset);
* each pack translation is registered once, under its content-derived name;
* a :class:`Session` is one provider under one pack version; it is created by the
  stream and deleted (``delete_state``) when the provider is closed; at most
  :data:`MAX_SESSIONS_PER_RULESET` are live per ruleset at once; no fact is ever
  retracted (see :mod:`carepolicy._stream_rules`): facts that no longer count are freed
  by compacting the session (delete it, assert the facts still held again);
* actions never raise: what goes wrong is kept and raised by the host after the call.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import sys
import threading
from typing import Any

from ._stream_rules import TICK_END, Translation, slot

__all__ = ["LOCK", "MAX_SESSIONS_PER_RULESET", "BackendUnavailable", "Session", "Tally", "host", "backend_problem"]

LOCK = threading.RLock()
# durable-rules' state table holds 1,024 sessions per ruleset (MAX_STATE_INDEX_LENGTH in state.h).
MAX_SESSIONS_PER_RULESET = 1_000
# Facts a session may hold that no longer count (each costs durable-rules about 8 KB) before it
# is compacted; at least as many as it holds that do, so compaction costs one assert per fact.
DEAD_BEFORE_COMPACTION = 32


class BackendUnavailable(RuntimeError):
    """durable-rules cannot be used in this interpreter (message says why and what to do)."""


PYTHON: tuple[int, ...] = tuple(sys.version_info[:2])


def backend_problem() -> str | None:
    """Why the streaming backend cannot run here, or ``None`` when it can."""
    if PYTHON >= (3, 13):
        return (
            f"the streaming backend needs durable-rules, whose compiled module does not load on Python "
            f"{PYTHON[0]}.{PYTHON[1]} (it calls `PyEval_CallObject`, which Python 3.13 "
            f"removed, and durable-rules 2.0.28 of 2020 is its last release); run the stream on Python 3.11 or "
            f"3.12 with `pip install 'carepolicy[durable]'`, or evaluate with `carepolicy.evaluate`, which works here"
        )
    try:
        import durable.engine  # noqa: F401
    except ImportError as exc:
        if getattr(exc, "name", None) in ("durable", "durable.engine"):
            return (
                "the streaming backend needs durable-rules, which is not installed; install the extra: "
                "`pip install 'carepolicy[durable]'` (it builds from source: a C compiler is needed)"
            )
        return (
            f"the streaming backend needs durable-rules, which is installed but does not load ({exc}); "
            f"reinstall it on Python 3.11 or 3.12: `pip install --force-reinstall 'carepolicy[durable]'`"
        )
    return None


class Tally:
    """How many of one provider's events one query counts now, per group: ``sure`` (every
    filter holds) and ``possible`` (no filter fails; includes ``sure``)."""

    __slots__ = ("sure", "possible", "bounds_cache")

    def __init__(self) -> None:
        self.sure: dict[Any, int] = {}
        self.possible: dict[Any, int] = {}
        self.bounds_cache: tuple[int, int] | None = (0, 0)

    def bounds(self) -> tuple[int, int]:
        """The largest group's count for sure, and the most it could be (as the core reads it).

        An event whose group is not recorded could belong to any group, so it counts
        towards the upper bound of every group; one that surely matches is at fewest alone
        in a group of its own, so it makes the lower bound at least 1.
        """
        cached = self.bounds_cache
        if cached is None:
            floating = self.possible.get(None, 0)
            lo = max((n for g, n in self.sure.items() if g is not None), default=0)
            if self.sure.get(None, 0):
                lo = max(lo, 1)
            hi = max((n for g, n in self.possible.items() if g is not None), default=0) + floating
            cached = self.bounds_cache = (lo, hi)
        return cached

    def __repr__(self) -> str:
        return f"Tally(sure={self.sure}, possible={self.possible})"


class Session:
    """One provider under one pack version: its durable-rules session and what it counts."""

    __slots__ = ("sid", "translation", "seq", "as_of", "starts", "tallies", "kept", "future", "ids", "errors",
                 "firings", "ticks", "dead", "arriving")

    def __init__(self, sid: str, translation: Translation) -> None:
        self.sid = sid
        self.translation = translation
        self.seq = 0
        self.as_of: int | None = None  # ordinal of the provider's as-of date
        self.starts: tuple[int, ...] = ()  # ordinal of each window's first day
        self.tallies = [Tally() for _ in translation.queries]
        # Event facts durable-rules holds because they count in a window they may leave:
        # n -> Kept. Every other fact is dead once counted, and goes when the session is compacted.
        self.kept: dict[int, Kept] = {}
        # Events dated after the as-of date, held back until it reaches them: (day, seq, fields).
        self.future: list[tuple[int, int, dict[str, Any]]] = []
        self.ids: set[int] = set()  # durable-rules' 32-bit hashes of the ids of the facts it holds
        self.errors: list[str] = []
        self.firings = 0
        self.ticks = 0  # ticks so far: a fact asserted after tick g carries b = g, and joins only later ticks
        self.dead = 0  # facts durable-rules holds that no longer count (never retracted: see _stream_rules)
        self.arriving: Kept | None = None


class Kept:
    """An event fact durable-rules holds, the counts it is in and the windows it may leave."""

    __slots__ = ("fact", "counted", "windows")

    def __init__(self, fact: dict[str, Any]) -> None:
        self.fact = fact
        self.counted: list[tuple[int, str]] = []  # (matcher, verdict) of every windowed count it is in
        self.windows: set[int] = set()


class _Host:
    """The process's durable-rules host, without timer threads; actions route to the live session."""

    def __init__(self) -> None:
        from durable import engine

        outer = self

        class Host(engine.Host):
            def _run(self) -> None:
                # No dispatcher threads: they would run pending actions concurrently with ours.
                pass

            def get_action(self, action_name: str) -> Any:
                def action(c: Any) -> None:
                    outer._fire(action_name, c)

                return action

        self._engine = engine
        self._host = Host()
        self._registered: dict[str, Translation] = {}
        self._live: dict[str, int] = {}
        self._sids = itertools.count(1)
        self._sid_hashes: dict[str, set[int]] = {}
        self._current: Session | None = None
        self._orphans: list[str] = []  # failures of firings that arrived outside any call (never expected)

    # -- rulesets -----------------------------------------------------------
    def register(self, translation: Translation) -> None:
        """Register the translation's ruleset, once per process (names derive from the pack's content)."""
        if translation.name in self._registered:
            return
        if translation.queries:
            # durable-rules takes the `run` entries out of the dicts it is given: give it a copy.
            self._host.set_rulesets({translation.name: copy.deepcopy(translation.ruleset)})
        self._registered[translation.name] = translation
        self._live[translation.name] = 0

    def registered(self) -> list[str]:
        return list(self._registered)

    # -- sessions -----------------------------------------------------------
    def open(self, translation: Translation) -> Session:
        self.register(translation)
        live = self._live[translation.name]
        if live >= MAX_SESSIONS_PER_RULESET:
            raise OverflowError(
                f"{MAX_SESSIONS_PER_RULESET:,} providers are already open on the ruleset of this pack in this "
                f"process (durable-rules holds at most 1,024 sessions per ruleset); close providers you are done with"
            )
        self._live[translation.name] = live + 1
        # durable-rules finds a session by the 32-bit hash of its id alone: no two live ones may share one.
        in_use = self._sid_hashes.setdefault(translation.name, set())
        while True:
            sid = f"s{next(self._sids)}"
            if fnv1a32(sid) not in in_use:
                in_use.add(fnv1a32(sid))
                session = Session(sid, translation)
                if translation.queries:
                    self._hello(session)
                return session

    def _hello(self, session: Session) -> None:
        """durable-rules initialises a session's action context only when an action runs in it, and
        frees that context when the session is deleted: run one as the session starts."""
        n, fid = self._next_id(session)
        if self._call(session, "assert_fact", {"sid": session.sid, "id": fid, "t": "open", "n": n}):
            session.dead += 1

    def _delete(self, session: Session) -> None:
        try:
            self._host.delete_state(session.translation.name, session.sid)
        except Exception as exc:  # durable_rules_engine.error
            if "309" not in str(exc):  # ERR_SID_NOT_FOUND: nothing was ever stored
                raise
        session.ids.clear()
        session.dead = 0

    def _compact(self, session: Session) -> None:
        """Delete the session's durable-rules state, with the facts that no longer count, and assert
        the held ones again (no fact is ever retracted: see _stream_rules)."""
        self._delete(session)
        self._hello(session)
        for kept in session.kept.values():
            n, fid = self._next_id(session)
            kept.fact = dict(kept.fact, p="kept", id=fid)  # no arrival rule counts it again
            if not self._call(session, "assert_fact", kept.fact):  # pragma: no cover - it was stored before
                raise RuntimeError(f"held fact {kept.fact['n']} is no longer stored by durable-rules")

    def _settle(self, session: Session) -> None:
        if session.dead >= max(DEAD_BEFORE_COMPACTION, len(session.kept)):
            self._compact(session)

    def close(self, session: Session) -> None:
        """Delete the session: durable-rules frees its facts and state, and nothing of it remains."""
        name = session.translation.name
        self._live[name] -= 1
        self._sid_hashes[name].discard(fnv1a32(session.sid))
        if session.translation.queries:
            self._delete(session)
        session.kept.clear()
        session.future.clear()
        session.tallies = []

    def live(self, translation: Translation) -> int:
        return self._live.get(translation.name, 0)

    def facts(self, session: Session) -> list[dict[str, Any]]:
        """What durable-rules holds for the session (``[]`` once it is deleted)."""
        try:
            return list(self._host.get_facts(session.translation.name, session.sid))
        except Exception as exc:
            if "309" in str(exc):
                return []
            raise

    # -- posting ------------------------------------------------------------
    def _fire(self, action_name: str, c: Any) -> None:
        """Every firing of every rule lands here, synchronously, while LOCK is held. Never raises."""
        session = self._current
        try:
            if session is None:
                raise RuntimeError(f"`{action_name}` fired outside a call")
            fact = c._m["m"]
            if fact.get("sid") != session.sid:
                raise RuntimeError(f"`{action_name}` fired for session `{fact.get('sid')}` during `{session.sid}`")
            tr = session.translation
            if action_name in tr.leaves:  # a held event left window w: out of every count it was in for w
                w = tr.leaves[action_name]
                kept = session.kept.get(fact["n"])
                if kept is None:  # a dead fact, waiting for compaction: it is in no count
                    return
                for mi, verdict in kept.counted:
                    if tr.matchers[mi].window == w:
                        self._count(session, mi, verdict, fact, -1)
                kept.windows.discard(w)
                session.firings += 1
            elif action_name in tr.actions:  # a new event counts for these matchers
                arriving = session.arriving
                assert arriving is not None and arriving.fact["n"] == fact["n"]
                for mi, verdict in tr.actions[action_name]:
                    self._count(session, mi, verdict, fact, +1)
                    window = tr.matchers[mi].window
                    if window is not None:
                        arriving.counted.append((mi, verdict))
                        arriving.windows.add(window)
                session.firings += 1
        except BaseException as exc:  # an exception here would be swallowed into the durable state
            (session.errors if session is not None else self._orphans).append(f"{type(exc).__name__}: {exc}")

    @staticmethod
    def _count(session: Session, mi: int, verdict: str, fact: dict[str, Any], delta: int) -> None:
        for query in session.translation.counted_by[mi]:
            tally = session.tallies[query.index]
            group = fact.get(slot(query.group_by)) if query.group_by else 0
            for counts in (tally.sure, tally.possible) if verdict == "sure" else (tally.possible,):
                n = counts.get(group, 0) + delta
                if n < 0:
                    raise RuntimeError(f"query {query.index} went below zero")
                if n:
                    counts[group] = n
                else:
                    del counts[group]
            tally.bounds_cache = None

    def _call(self, session: Session, method: str, fact: dict[str, Any]) -> bool:
        """Assert or retract one fact in the session; ``False`` if no rule can ever match it."""
        self._current = session
        try:
            getattr(self._host, method)(session.translation.name, fact)
        except self._engine.MessageNotHandledException:
            return False
        finally:
            self._current = None
        if session.errors:
            problems, session.errors[:] = list(session.errors), []
            raise RuntimeError("durable-rules action failed: " + "; ".join(problems))
        return True

    def _next_id(self, session: Session) -> tuple[int, str]:
        """A sequence number for a new fact, whose id durable-rules will not confuse with a held one
        (it finds a fact by the 32-bit hash of its id alone)."""
        while True:
            session.seq += 1
            fid = f"e{session.seq}"
            h = fnv1a32(fid)
            if h not in session.ids:
                session.ids.add(h)
                return session.seq, fid

    def post(self, session: Session, fields: dict[str, Any], day: int) -> None:
        """Count one event: now if it is dated on or before the as-of date, else when the date reaches it."""
        if not session.translation.queries:
            return
        assert session.as_of is not None
        if day > session.as_of:
            session.seq += 1
            heapq.heappush(session.future, (day, session.seq, fields))
            return
        self._arrive(session, fields, day)

    def _arrive(self, session: Session, fields: dict[str, Any], day: int) -> None:
        """Assert one event fact; the arrival rules it fires update the session's tallies."""
        n, fid = self._next_id(session)
        fact: dict[str, Any] = {"sid": session.sid, "id": fid, "t": "ev", "p": "new", "n": n, "b": session.ticks,
                                "d": day, "a": session.as_of}
        for w, start in enumerate(session.starts):
            fact[f"s{w}"] = start
        fact.update(fields)
        kept = session.arriving = Kept(fact)
        try:
            stored = self._call(session, "assert_fact", fact)
        finally:
            session.arriving = None
        if not stored:  # no rule can ever count it: durable-rules did not store it
            session.ids.discard(fnv1a32(fid))
        elif kept.windows:  # it counts in a window: held until it has left them all
            session.kept[n] = kept
        else:  # counted (or not) once and for all: dead, until the session is compacted
            session.dead += 1
            self._settle(session)

    def move(self, session: Session, as_of: int, starts: tuple[int, ...]) -> None:
        """Move the session's as-of date: held events that leave a window fire; events the date reaches arrive."""
        old, old_starts = session.as_of, session.starts
        session.as_of, session.starts = as_of, starts
        if old is None or (old == as_of and old_starts == starts):
            return
        if session.kept:
            n, fid = self._next_id(session)
            session.ticks += 1
            tick: dict[str, Any] = {"sid": session.sid, "id": fid, "t": "tick", "n": n, "g": session.ticks,
                                    "a0": old, "a1": as_of, "z": TICK_END}
            for w, (o, s) in enumerate(zip(old_starts, starts)):
                tick[f"o{w}"] = o
                tick[f"s{w}"] = s
            if self._call(session, "assert_fact", tick):
                session.dead += 1
            else:
                session.ids.discard(fnv1a32(fid))
            for n in [n for n, kept in session.kept.items() if not kept.windows]:
                del session.kept[n]  # it has left every window it counted in
                session.dead += 1
            self._settle(session)
        while session.future and session.future[0][0] <= as_of:
            day, _, fields = heapq.heappop(session.future)
            self._arrive(session, fields, day)


def fnv1a32(text: str) -> int:
    """durable-rules' `fnv1Hash32`, with which it indexes sessions and facts (FNV-1a, 32 bits)."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


_HOST: _Host | None = None


def host() -> _Host:
    """The process's durable-rules host (made on first use). Call with LOCK held."""
    global _HOST
    if _HOST is None:
        problem = backend_problem()
        if problem is not None:
            raise BackendUnavailable(problem)
        _HOST = _Host()
    return _HOST
