"""A synthetic national market: seeded, fictional provider records shaped like England's.

``carepolicy population --providers 30000 --seed 1 --packs policies/`` writes one record per
line (evidence layout 2). Every provider, name and event is made up; the *shape* follows
published figures:

* **Service kinds and sizes.** About 15,000 residential and nursing care homes and 11,500
  domiciliary care services were registered with CQC in January 2023 (Nuffield Trust, "What
  does the provider market look like across the four countries?", 2023, citing CQC); about
  seven care homes in ten are residential and three nursing (same source, UK); England had
  about 455,000 care home places in 2023, some 30 a home (King's Fund, "Social care 360:
  providers", 2024). Nursing homes are drawn larger than residential homes (median 48 and 22
  beds); home care sizes (people served) are drawn log-normal around 60. Supported living,
  extra care, day services and the non-regulated services councils commission (public
  health, pharmacy, grant-funded...) take the small remainder.
* **CQC ratings by key question.** Overall ratings in April 2023: 4% outstanding, 79% good,
  15% requires improvement, 1% inadequate (King's Fund, "Social care 360: quality", 2024).
  Key questions (CQC, "The state of adult social care services 2014 to 2017"): Safe and
  Well-led are the worst rated (about 21-23% requires improvement and 2% inadequate, Safe
  0.5% outstanding); Caring the best (92% good, 3% outstanding); Responsive 85% good or
  outstanding. Those shares, from a time when 19% were rated requires improvement overall,
  are scaled down by a fifth so that the overall ratings, aggregated from the key questions
  by CQC's rating principles (research/domain.md 1a), reproduce the 2023 overall shares.
  Ratings of one service are correlated (one latent quality per provider); nursing homes
  fare worse and small services better (same report). About 6% of regulated services are not yet
  rated. Requires improvement persists: 38% of services rated so kept the rating at
  re-inspection (same report), which sets how many inspections in a row were below good.
* **Events.** 615,500 safeguarding concerns and 176,500 section 42 enquiries were raised in
  England in 2023-24, about a third of concluded enquiries concerning care homes
  (NHS England, Safeguarding Adults Collection 2023-24, and councils' annual reports). The
  rates per provider below are those totals spread over the regulated market and scaled by
  size; the other kinds of event (complaints, medication errors, whistleblowing...) are
  illustrative rates, not published figures. Worse-rated providers have more events.
* **Local findings.** Each council's own findings are generated from what its pack declares
  (``inputs:`` with their type, ``values``, ``min``/``max`` and ``worse`` direction, the
  thresholds its bands and conditions compare them with, and the values its ``scope``
  rules exclude), never from a list of field names here: a sixth council's pack gets its
  findings generated too. Values lean to the better end, more so for better providers;
  some findings are left out (missing evidence is part of the market). Every council's
  findings are written for every provider, as if each council monitored the whole market
  (a what-if market for bulk and impact runs); about one provider in ten is outside a
  council's area or contract, which its scope rules then exclude.

Each provider has its own random stream (seeded by ``seed`` and its number), and each
council's findings another, so adding a pack changes no other part of a record.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from statistics import NormalDist
from typing import Any

from ._check import input_tests
from ._vocabulary import InputSpec, ValueType
from .engine import PolicyPack
from .evidence import EVENT_KINDS
from .models import BandsDecision

__all__ = ["generate", "MAX_PROVIDERS"]

MAX_PROVIDERS = 1_000_000

_N = NormalDist()

# service kind: (share of the market, CQC regulated, median size, size is beds)
SERVICES: dict[str, tuple[float, bool, int, bool]] = {
    "residential": (0.355, True, 22, True),
    "nursing": (0.145, True, 48, True),
    "domiciliary": (0.365, True, 60, False),
    "supported_living": (0.075, True, 15, False),
    "extra_care": (0.025, True, 40, False),
    "day_care": (0.015, False, 30, False),
    "public_health": (0.005, False, 200, False),
    "social_inclusion": (0.005, False, 80, False),
    "pharmacy": (0.005, False, 300, False),
    "grant_funded": (0.003, False, 60, False),
    "gp_larc": (0.002, False, 400, False),
}

RATINGS = ("outstanding", "good", "requires_improvement", "inadequate")
# key question: shares of outstanding, good, requires improvement, inadequate (see the module docstring)
KEY_QUESTIONS: dict[str, tuple[float, float, float, float]] = {
    "safe": (0.008, 0.807, 0.17, 0.015),
    "effective": (0.02, 0.885, 0.088, 0.007),
    "caring": (0.04, 0.936, 0.022, 0.002),
    "responsive": (0.045, 0.859, 0.092, 0.004),
    "well_led": (0.045, 0.784, 0.156, 0.015),
}
NOT_RATED = 0.06
RATING_CORRELATION = 0.7  # share of a key question's variation that is the provider's own quality

# kind of event: events a year for a service of 30 places (see the module docstring)
EVENT_RATES: dict[str, float] = {
    "safeguarding_alert": 0.8, "s42_enquiry": 0.25, "safeguarding_strategy_meeting": 0.05,
    "organisational_abuse": 0.005, "complaint": 1.0, "whistleblowing": 0.1, "medication_error": 0.7,
    "incident": 0.8, "injury_or_deterioration": 0.08, "serious_crime": 0.003, "recording_failure": 0.2,
    "health_and_safety_concern": 0.1, "admission_needs_not_met": 0.03, "fraud_concern": 0.005,
    "care_concern": 0.4, "service_user_review_concern": 0.2, "service_quality_feedback": 0.4,
    "missed_return": 0.2, "kpi_shortfall": 0.15, "contract_breach": 0.03, "regulator_warning": 0.015,
    "market_exit_notice": 0.005, "new_cause_for_concern": 0.06, "safeguarding_outcome_improvement_needed": 0.06,
}
DECLARED_KIND_RATE = 0.1  # a kind of event a pack declares itself
EVENT_YEARS = 1
HARMS = (("none", 0.4), ("low", 0.3), ("moderate", 0.2), ("significant", 0.08), ("severe", 0.02))
LEVELS = (("low", 0.5), ("medium", 0.35), ("high", 0.15))
THEMES = ("falls", "medication", "nutrition", "moving_and_handling", "pressure_care", "communication",
          "staffing", "dignity", "infection_control", "record_keeping")
WITH_HARM = {"medication_error", "incident", "injury_or_deterioration", "recording_failure", "organisational_abuse",
             "safeguarding_alert", "s42_enquiry"}
WITH_LEVEL = {"safeguarding_alert", "whistleblowing", "organisational_abuse", "medication_error", "care_concern",
              "health_and_safety_concern"}
WITH_STAFF = {"safeguarding_alert", "whistleblowing", "s42_enquiry"}
WITH_THEME = {"care_concern", "service_quality_feedback", "service_user_review_concern", "complaint"}

IN_AREA = 0.9  # share of providers inside each council's area (and contracted), the rest out of scope
PRESENT = 0.95  # share of local findings known; dates are known less often (a process under way)
DATE_PRESENT = 0.35

_PLACES = ("Meadow", "Oak", "Willow", "Harbour", "Ash", "Brook", "Heather", "Linden", "Rowan", "Elm", "Birch",
           "Holly", "Cedar", "Maple", "Juniper", "Fern", "Moor", "Vale", "Beacon", "Kestrel", "Lark", "Primrose",
           "Foxglove", "Thistle", "Bracken", "Marsh", "Orchard", "Quarry", "Riverside", "Hazel")
_ENDS = ("bank", "field", "wood", "mere", "croft", "dale", "ford", "gate", "hill", "stead", "worth", "leigh")
_HOMES = ("House", "Lodge", "Court", "Manor", "Grange", "Hall", "View", "Gardens", "Care Home", "Nursing Home")
_AGENCIES = ("Home Care", "Care at Home", "Domiciliary Services", "Support Services", "Community Care")
_OWNERS = ("Care Ltd", "Healthcare Ltd", "Care Group", "Living Ltd", "Community Interest Company", "Trust")


def generate(packs: Sequence[PolicyPack], providers: int, seed: int, as_of: date) -> Iterator[dict[str, Any]]:
    """``providers`` fictional records (dicts in evidence layout 2) for these packs, dated up to ``as_of``."""
    if not 0 <= providers <= MAX_PROVIDERS:
        raise ValueError(f"`providers` is {providers:,}; give 0 to {MAX_PROVIDERS:,}")
    findings = _finding_plans(packs)
    authorities = sorted({p.model.pack.authority.id for p in packs}
                         | {s.namespace for p in packs for s in p.inputs.values()
                            if s.kind == "authority" and s.namespace})
    extra_kinds = sorted({k.id for p in packs for k in p.model.event_kinds} - set(EVENT_KINDS))
    for i in range(1, providers + 1):
        rng = random.Random(f"carepolicy-market:{seed}:{i}")
        record, badness = _shared(rng, i, as_of, extra_kinds)
        record["authorities"] = {a: _authority(random.Random(f"carepolicy-market:{seed}:{i}:authority:{a}"), record)
                                 for a in authorities}
        local: dict[str, dict[str, Any]] = {}
        for namespace, plans in findings.items():
            frng = random.Random(f"carepolicy-market:{seed}:{i}:local:{namespace}")
            values = {}
            for plan in plans:
                value = plan.draw(frng, badness, as_of)
                if value is not None:
                    values[plan.name] = value
            local[namespace] = values
        record["local"] = local
        yield record


# ----------------------------------------------------------------- shared facts


def _choose(rng: random.Random, weighted: Iterable[tuple[Any, float]]) -> Any:
    items = list(weighted)
    x = rng.random() * sum(w for _, w in items)
    for value, w in items:
        x -= w
        if x < 0:
            return value
    return items[-1][0]


def _quantile_pick(rng: random.Random, badness: float, weights: Sequence[float], loading: float = 0.6) -> int:
    """An index into ``weights`` (best first): marginally distributed as ``weights``, worse for worse providers."""
    z = loading * badness + math.sqrt(1 - loading * loading) * rng.gauss(0, 1)
    u = _N.cdf(z) * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if u <= acc:
            return i
    return len(weights) - 1


def _name(rng: random.Random, kind: str) -> str:
    place = rng.choice(_PLACES) + (rng.choice(_ENDS) if rng.random() < 0.5 else "")
    if kind in ("residential", "nursing"):
        return f"{place} {rng.choice(_HOMES)}"
    if kind in ("domiciliary", "supported_living", "extra_care"):
        return f"{place} {rng.choice(_AGENCIES)}"
    return f"{place} {kind.replace('_', ' ').title()} Service"


def _aggregate(kq: dict[str, str]) -> str:
    """CQC's rating principles for an overall rating from five key questions (domain.md 1a)."""
    ratings = list(kq.values())
    inadequate = ratings.count("inadequate")
    ri = ratings.count("requires_improvement")
    outstanding = ratings.count("outstanding")
    if inadequate >= 2:
        return "inadequate"
    if inadequate == 1 or ri >= 2:
        return "requires_improvement"  # one inadequate: left to judgement by the principles; read as RI at best
    if outstanding >= 2 and ri == 0:
        return "outstanding"
    return "good"


def _shared(rng: random.Random, i: int, as_of: date, extra_kinds: Sequence[str]) -> tuple[dict[str, Any], float]:
    kind = _choose(rng, ((k, v[0]) for k, v in SERVICES.items()))
    _, regulated, median, is_beds = SERVICES[kind]
    size = max(1, min(1000 if is_beds else 5000, round(median * math.exp(rng.gauss(0, 0.55)))))
    # latent badness: nursing homes worse, small services better (CQC 2017)
    badness = rng.gauss(0, 1) + (0.25 if kind == "nursing" else 0.0) - (0.2 if size < 15 else 0.0)
    place = rng.choice(_PLACES)
    provider: dict[str, Any] = {
        "id": f"1-{9_000_000_000 + i}",
        "name": _name(rng, kind),
        "proprietor": f"{place}{rng.choice(_ENDS)} {rng.choice(_OWNERS)}",
        "service_type": kind,
        "cqc_regulated": regulated,
    }
    if regulated and rng.random() < 0.97:
        provider["registered_manager_in_post"] = rng.random() > 0.1 + 0.08 * max(0.0, badness)
    provider["beds" if is_beds else "people_served"] = size
    if rng.random() < 0.97:
        provider["client_group"] = "adults" if rng.random() < 0.995 else "children"
    record: dict[str, Any] = {"provider": provider}
    if regulated:
        record["cqc"] = _cqc(rng, badness, as_of)
    record["events"] = _events(rng, badness, size, as_of, extra_kinds)
    return record, badness


def _cqc(rng: random.Random, badness: float, as_of: date) -> dict[str, Any]:
    if rng.random() < NOT_RATED:
        return {"overall": "not_rated", **{k: "not_rated" for k in KEY_QUESTIONS}}
    loading = math.sqrt(RATING_CORRELATION)
    kq = {k: RATINGS[_quantile_pick(rng, badness, shares, loading)] for k, shares in KEY_QUESTIONS.items()}
    overall = _aggregate(kq)
    below = overall in ("requires_improvement", "inadequate")
    days_ago = rng.randint(30, 730) if below else rng.randint(120, 1800)
    inspected = as_of - timedelta(days=days_ago)
    published = min(as_of, inspected + timedelta(days=rng.randint(30, 90)))
    since = published if below or rng.random() < 0.4 else published - timedelta(days=rng.randint(300, 1500))
    out: dict[str, Any] = {"overall": overall, **kq, "special_measures": overall == "inadequate" and rng.random() < 0.7,
                           "inspection_date": inspected.isoformat(), "published_on": published.isoformat(),
                           "overall_since": since.isoformat()}
    if rng.random() < 0.92:
        streak = 0
        if below:
            streak = 1
            while rng.random() < 0.38 and streak < 8:
                streak += 1
        out["consecutive_below_good"] = streak
    return out


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _events(rng: random.Random, badness: float, size: int, as_of: date, extra_kinds: Sequence[str]) -> list[dict[str, Any]]:
    scale = EVENT_YEARS * min(size, 300) / 30 * math.exp(0.45 * badness)
    staff = [f"staff-{n}" for n in range(1, max(4, min(size, 200) // 3) + 1)]
    events: list[dict[str, Any]] = []
    rates = [*EVENT_RATES.items(), *((k, DECLARED_KIND_RATE) for k in extra_kinds)]
    for kind, rate in rates:
        mean = rate * scale * (4 if kind == "regulator_warning" and badness > 1.5 else 1)
        for _ in range(_poisson(rng, mean)):
            when = as_of - timedelta(days=rng.randint(0, 365 * EVENT_YEARS - 1))
            recent = (as_of - when).days <= 60
            e: dict[str, Any] = {"kind": kind, "date": when.isoformat()}
            if kind in WITH_STAFF and rng.random() < 0.45:
                e["staff_member"] = rng.choice(staff)
            if kind in WITH_HARM:
                e["harm"] = _choose(rng, HARMS)
            if kind in WITH_LEVEL:
                e["level"] = _choose(rng, LEVELS)
            if kind in ("medication_error", "incident", "organisational_abuse", "injury_or_deterioration"):
                e["people_affected"] = 1 + (_poisson(rng, 0.6) if kind != "organisational_abuse" else _poisson(rng, 3))
            if kind in ("complaint", "safeguarding_alert", "s42_enquiry", "whistleblowing"):
                if rng.random() < 0.85:
                    e["substantiated"] = rng.random() < 0.25
            if rng.random() < 0.9:
                e["open"] = rng.random() < (0.6 if recent else 0.08)
                if not e["open"]:
                    e["remedied"] = rng.random() < 0.8
            if kind == "serious_crime":
                e["police_involved"] = rng.random() < 0.8
            if kind in WITH_THEME and rng.random() < 0.8:
                e["theme"] = rng.choice(THEMES)
            events.append(e)
    events.sort(key=lambda e: e["date"])
    return events


def _authority(rng: random.Random, record: dict[str, Any]) -> dict[str, Any]:
    inside = rng.random() < IN_AREA
    community = record["provider"]["service_type"] not in ("residential", "nursing")
    return {
        "in_area": inside,
        "addresses_in_area": (rng.randint(1, 3) if community else 1) if inside else 0,
        "registered_office_in_area": inside if not community else (inside and rng.random() < 0.85),
        "commissioned": inside and rng.random() < 0.95,
        "previously_commissioned": rng.random() < 0.85,
    }


# ----------------------------------------------------------------- local findings, from the packs' declarations


class _Plan:
    """How one declared finding is drawn: its type, range, order and the edges the pack compares it with."""

    def __init__(self, spec: InputSpec, cuts: Sequence[float], rare: set[Any]) -> None:
        assert spec.finding is not None and spec.name is not None
        self.name = spec.name
        self.type = spec.finding.type
        self.worse = spec.worse
        self.cuts = sorted(set(cuts))
        self.rare = rare

    def draw(self, rng: random.Random, badness: float, as_of: date) -> Any:
        vt = self.type
        if rng.random() > (DATE_PRESENT if vt.base == "date" else PRESENT):
            return None
        return self._value(rng, vt, badness, as_of)

    def _value(self, rng: random.Random, vt: ValueType, badness: float, as_of: date) -> Any:
        base = vt.base
        if base == "boolean":
            p_bad = 0.05
            bad = {"true": True, "false": False}.get(self.worse)
            if bad is None:
                common = [v for v in (True, False) if v not in self.rare]
                if len(common) == 1:  # a value the pack's scope excludes is the exception
                    return common[0] if rng.random() > 0.06 else not common[0]
                return rng.random() < 0.5
            return bad if _quantile_pick(rng, badness, (1 - p_bad, p_bad)) == 1 else not bad
        if base in ("scale", "enum"):
            values = [v for v in (vt.values or ()) if v not in self.rare] or list(vt.values or ())
            if self.rare and rng.random() < 0.05:
                return rng.choice(sorted(self.rare, key=str))
            ratio = 0.2 if base == "scale" else 0.3
            weights = [ratio ** k for k in range(len(values))]
            return values[_quantile_pick(rng, badness, weights)]
        if base in ("integer", "number"):
            return self._number(rng, vt, badness)
        if base == "date":
            offset = rng.randint(-3 * 365, -1) if rng.random() < 0.85 else rng.randint(0, 120)
            return (as_of + timedelta(days=offset)).isoformat()
        if base == "text":
            return f"note {rng.randint(1, 999)}"[: vt.max_length or 500]
        if base == "list" and vt.items is not None:
            count = min(vt.max_length or 3, _poisson(rng, 1.0))
            items = [self._value(rng, vt.items, badness, as_of) for _ in range(count)]
            return list(dict.fromkeys(items)) if vt.items.base in ("enum", "scale") else items
        return None

    def _number(self, rng: random.Random, vt: ValueType, badness: float) -> int | float:
        lo = vt.lo if vt.lo is not None else -1e9
        hi = vt.hi if vt.hi is not None else 1e9
        cuts = [c for c in self.cuts if lo < c <= hi]
        if cuts:
            # segments between the pack's own edges, best first by the declared direction
            edges = [lo, *cuts, hi + (1 if vt.base == "integer" else 0)]
            segments = [(edges[k], edges[k + 1]) for k in range(len(edges) - 1)]
            if self.worse == "lower":
                segments.reverse()
            weights = [0.3 ** k if k else 2.5 for k in range(len(segments))]
            a, b = segments[_quantile_pick(rng, badness, weights)]
            cap = max(10.0, *(abs(c) for c in cuts))
            if b - a > cap:  # an open-ended segment: stay near the pack's edges
                a, b = (b - cap, b) if a == lo else (a, a + cap)
        else:
            a = max(lo, 0.0) if lo <= 0 <= hi else lo
            mean = 2.0 * math.exp(0.5 * badness)
            value = a + _poisson(rng, mean)
            return int(min(value, hi)) if vt.base == "integer" else float(min(value, hi))
        if vt.base == "integer":
            return rng.randint(int(math.ceil(a)), max(int(math.ceil(a)), int(math.ceil(b)) - 1))
        return round(rng.uniform(a, b), 1)


def _finding_plans(packs: Sequence[PolicyPack]) -> dict[str, list[_Plan]]:
    """Each declared local finding once, by namespace, with the edges and excluded values its pack gives it."""
    plans: dict[str, dict[str, _Plan]] = {}
    for pack in sorted(packs, key=lambda p: (p.id, p.model.pack.effective_from)):
        cuts, rare = _edges(pack)
        for spec in pack.inputs.values():
            if spec.kind != "local" or spec.finding is None or spec.namespace is None or spec.name is None:
                continue
            plans.setdefault(spec.namespace, {}).setdefault(
                spec.name, _Plan(spec, cuts.get(spec.id, ()), rare.get(spec.id, set())))
    return {ns: list(v.values()) for ns, v in sorted(plans.items())}


def _edges(pack: PolicyPack) -> tuple[dict[str, list[float]], dict[str, set[Any]]]:
    """The numbers each input is cut at (bands and comparisons) and the values its scope rules exclude."""
    cuts: dict[str, list[float]] = {}
    for d in pack.model.decisions:
        if isinstance(d, BandsDecision):
            for b in d.bands:
                if b.min is not None:
                    cuts.setdefault(d.input, []).append(b.min)
                if b.max is not None:
                    cuts.setdefault(d.input, []).append(b.max + 1 if float(b.max).is_integer() else b.max)
                if b.below is not None:
                    cuts.setdefault(d.input, []).append(b.below)
    rare: dict[str, set[Any]] = {}
    for names, op, arg, path in input_tests(pack.model):
        for name in names:
            if op in ("at_least", "below") and isinstance(arg, (int, float)):
                cuts.setdefault(name, []).append(arg)
            elif op in ("above", "at_most") and isinstance(arg, (int, float)):
                cuts.setdefault(name, []).append(arg + 1 if float(arg).is_integer() else arg)
            if path[0] == "scope" and op == "is":
                rare.setdefault(name, set()).add(arg)
            elif path[0] == "scope" and op == "in" and isinstance(arg, list):
                rare.setdefault(name, set()).update(arg)
    return cuts, rare
