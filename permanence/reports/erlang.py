"""Staffing queue models written here (no external service): Erlang C, and Erlang A when
callers' patience is known.

Erlang C (M/M/N): calls arrive at random (Poisson) at rate λ, each is handled in an
exponentially distributed time of mean AHT, N agents, callers never hang up. With the
traffic A = λ·AHT (in erlangs) and N > A:

    P(wait)        = C(N, A) = N·B / (N − A·(1 − B)),   B = Erlang B, computed by the recurrence
                     B(0) = 1, B(k) = A·B(k−1) / (k + A·B(k−1))  (no factorial, no overflow)
    service level  = 1 − C(N, A) · exp(−(N − A) · T / AHT)      (answered within T seconds)
    ASA            = C(N, A) · AHT / (N − A)
    occupancy      = A / N

Erlang A (M/M/N+M, Palm): the same with callers who hang up after an exponentially distributed
patience of mean P. Solved exactly on its birth–death chain (states = calls in the system;
births λ, deaths min(k, N)/AHT + max(k − N, 0)/P), truncated where the remaining probability
is below 1e-12; the service level (answered within T, abandons counted as not answered) by
integrating the tagged caller's progress through the queue.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from django.utils.translation import gettext as _

MAX_AGENTS = 5000  # far beyond any centre; bounds the search on absurd inputs


class StaffingError(ValueError):
    """Inputs no queue can be staffed for (the API answers 422 with the field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def erlang_b(agents: int, traffic: float) -> float:
    """Blocking probability of N servers offered A erlangs (the stable recurrence)."""
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    return b


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (1 when the agents cannot keep up: N ≤ A)."""
    if agents <= traffic:
        return 1.0
    b = erlang_b(agents, traffic)
    return agents * b / (agents - traffic * (1 - b))


@dataclass(frozen=True)
class QueueFigures:
    agents: int
    traffic_erlangs: float
    wait_probability: float
    service_level: float  # share answered within the target time, 0–1
    asa_seconds: float  # mean wait over all callers (those answered at once count 0)
    occupancy: float  # share of the agents' time on calls, 0–1
    abandon_probability: float = 0.0  # Erlang A only

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erlang_c_figures(agents: int, traffic: float, aht: float, target_seconds: float) -> QueueFigures:
    if agents <= traffic:
        return QueueFigures(agents, traffic, 1.0, 0.0, math.inf, 1.0)
    pw = erlang_c(agents, traffic)
    level = 1 - pw * math.exp(-(agents - traffic) * target_seconds / aht)
    return QueueFigures(agents=agents, traffic_erlangs=traffic, wait_probability=pw,
                        service_level=max(0.0, min(1.0, level)),
                        asa_seconds=pw * aht / (agents - traffic), occupancy=traffic / agents)


def _palm_distribution(agents: int, arrival: float, service: float,
                       abandon: float) -> list[float]:
    """Stationary probabilities of the M/M/N+M chain, states 0..K (K where the tail is nil)."""
    weights = [1.0]
    k = 0
    while True:
        k += 1
        death = min(k, agents) * service + max(k - agents, 0) * abandon
        weights.append(weights[-1] * arrival / death)
        # Past N the ratio λ/death falls towards 0: stop once the terms are negligible.
        if k > agents and weights[-1] < 1e-12 * sum(weights):
            break
        if k > agents + 100_000:  # patience so long the model is Erlang C: caller's problem
            break
        if weights[-1] > 1e250:  # rescale to stay in floating range
            weights = [w / 1e250 for w in weights]
    total = sum(weights)
    return [w / total for w in weights]


def _answered_within(agents: int, service: float, abandon: float, queue_ahead: list[float],
                     target_seconds: float) -> float:
    """P(reached an agent within T) for a caller arriving with j callers ahead (weights
    queue_ahead[j]): the queue ahead shrinks at rate N·μ + j·θ, the caller leaves at rate θ.
    Integrated with RK4 on the linear system of 'still waiting with j ahead'."""
    if not queue_ahead or target_seconds <= 0:
        return 0.0
    depth = len(queue_ahead)
    rates = [agents * service + j * abandon for j in range(depth)]
    steps = max(50, min(4000, int(target_seconds * max(rates[-1] + abandon, 1e-9) * 4)))
    h = target_seconds / steps

    def derivative(p: list[float]) -> tuple[list[float], float]:
        d = [-(rates[j] + abandon) * p[j] for j in range(depth)]
        for j in range(depth - 1):
            d[j] += rates[j + 1] * p[j + 1]
        return d, rates[0] * p[0]  # flow into service

    p = list(queue_ahead)
    served = 0.0
    for _step in range(steps):
        k1, s1 = derivative(p)
        k2, s2 = derivative([p[j] + h / 2 * k1[j] for j in range(depth)])
        k3, s3 = derivative([p[j] + h / 2 * k2[j] for j in range(depth)])
        k4, s4 = derivative([p[j] + h * k3[j] for j in range(depth)])
        p = [p[j] + h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]) for j in range(depth)]
        served += h / 6 * (s1 + 2 * s2 + 2 * s3 + s4)
    return served


def erlang_a_figures(agents: int, traffic: float, aht: float, target_seconds: float,
                     patience_seconds: float) -> QueueFigures:
    arrival = traffic / aht
    service = 1 / aht
    abandon = 1 / patience_seconds
    pi = _palm_distribution(agents, arrival, service, abandon)
    waiting = pi[agents:]  # PASTA: an arrival sees the stationary state
    pw = sum(waiting)
    mean_queue = sum(j * w for j, w in enumerate(waiting))
    p_abandon = abandon * mean_queue / arrival  # abandonment flow = θ · E[queue]
    immediately = 1 - pw
    level = immediately + _answered_within(agents, service, abandon, waiting, target_seconds)
    # Little's law on the queue: the mean time in queue of every caller (served or gone).
    mean_wait = mean_queue / arrival
    busy = arrival * (1 - p_abandon) / (agents * service)  # served load over capacity
    return QueueFigures(agents=agents, traffic_erlangs=traffic, wait_probability=pw,
                        service_level=max(0.0, min(1.0, level)), asa_seconds=mean_wait,
                        occupancy=min(1.0, busy), abandon_probability=p_abandon)


@dataclass(frozen=True)
class StaffingNeed:
    figures: QueueFigures
    agents_scheduled: int  # with shrinkage (breaks, training, absence): agents to plan
    model: str  # "erlang_c" or "erlang_a"

    def as_dict(self) -> dict[str, Any]:
        return {**self.figures.as_dict(), "agents_scheduled": self.agents_scheduled,
                "model": self.model}


def staffing(*, calls: float, interval_minutes: float, aht_seconds: float,
             target_seconds: float = 20, target_level: float = 0.8, shrinkage: float = 0.0,
             max_occupancy: float = 1.0, patience_seconds: float | None = None) -> StaffingNeed:
    """The fewest agents on the phones meeting the service level (and the occupancy cap),
    then the agents to schedule once shrinkage is allowed for."""
    _check({"calls": calls, "interval_minutes": interval_minutes, "aht_seconds": aht_seconds,
            "target_seconds": target_seconds, "target_level": target_level,
            "shrinkage": shrinkage, "max_occupancy": max_occupancy}, patience_seconds)
    traffic = calls * aht_seconds / (interval_minutes * 60)
    model = "erlang_a" if patience_seconds else "erlang_c"
    if calls == 0:
        figures = QueueFigures(0, 0.0, 0.0, 1.0, 0.0, 0.0)
        return StaffingNeed(figures, 0, model)
    agents = math.floor(traffic) + 1
    while agents <= MAX_AGENTS:
        figures = erlang_c_figures(agents, traffic, aht_seconds, target_seconds)
        if figures.service_level >= target_level and figures.occupancy <= max_occupancy:
            break
        agents += 1
    else:
        raise StaffingError("calls", _("Plus de 5 000 agents nécessaires : volume irréaliste."))
    if patience_seconds:
        # Callers who hang up lighten the queue: Erlang A never needs more agents than Erlang C,
        # so walk down from its answer (chains near N > A are short and cheap to solve).
        figures = erlang_a_figures(agents, traffic, aht_seconds, target_seconds, patience_seconds)
        while agents > 1:
            fewer = erlang_a_figures(agents - 1, traffic, aht_seconds, target_seconds,
                                     patience_seconds)
            if fewer.service_level < target_level or fewer.occupancy > max_occupancy:
                break
            agents, figures = agents - 1, fewer
    scheduled = math.ceil(agents / (1 - shrinkage) - 1e-9)
    return StaffingNeed(figures, scheduled, model)


def _check(finite: dict[str, float], patience_seconds: float | None) -> None:
    for field, value in finite.items():
        if not math.isfinite(value):
            raise StaffingError(field, _("Valeur invalide."))
    calls, interval_minutes = finite["calls"], finite["interval_minutes"]
    aht_seconds, target_seconds = finite["aht_seconds"], finite["target_seconds"]
    target_level, shrinkage = finite["target_level"], finite["shrinkage"]
    max_occupancy = finite["max_occupancy"]
    if calls < 0 or calls > 1_000_000:
        raise StaffingError("calls", _("Entre 0 et 1 000 000 appels par intervalle."))
    if not 1 <= interval_minutes <= 1440:
        raise StaffingError("interval_minutes", _("Intervalle entre 1 et 1 440 minutes."))
    if not 1 <= aht_seconds <= 86_400:
        raise StaffingError("aht_seconds", _("Durée moyenne de traitement entre 1 s et 24 h."))
    if not 0 <= target_seconds <= 86_400:
        raise StaffingError("target_seconds", _("Délai cible entre 0 s et 24 h."))
    if not 0 < target_level < 1:
        raise StaffingError("target_level", _("Niveau de service cible strictement entre 0 et 1."))
    if not 0 <= shrinkage < 1:
        raise StaffingError("shrinkage", _("Taux d'indisponibilité entre 0 et 1 (exclu)."))
    if not 0 < max_occupancy <= 1:
        raise StaffingError("max_occupancy", _("Occupation maximale entre 0 (exclu) et 1."))
    if patience_seconds is not None and not (math.isfinite(patience_seconds)
                                             and 1 <= patience_seconds <= 86_400):
        raise StaffingError("patience_seconds", _("Patience moyenne entre 1 s et 24 h."))
