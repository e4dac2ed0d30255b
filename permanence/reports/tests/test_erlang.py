"""Erlang C against the published worked example and against direct summation; Erlang A
against Erlang C (infinite patience) and against a simulated queue."""

from __future__ import annotations

import heapq
import math
import random
from fractions import Fraction

import pytest

from permanence.reports import erlang


def test_the_published_worked_example_needs_14_agents_at_88_8_percent():
    # 100 calls in 30 min, 180 s handling time, 80 % answered within 20 s.
    need = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180, target_seconds=20,
                           target_level=0.8)
    assert need.figures.traffic_erlangs == pytest.approx(10.0)
    assert need.figures.agents == 14
    assert need.figures.service_level == pytest.approx(0.888, abs=0.001)
    assert need.figures.wait_probability == pytest.approx(0.1741, abs=0.0001)
    assert need.figures.asa_seconds == pytest.approx(7.8, abs=0.05)
    assert need.figures.occupancy == pytest.approx(10 / 14)
    # 13 agents fall just short: 79.6 %.
    assert erlang.erlang_c_figures(13, 10, 180, 20).service_level == pytest.approx(0.7956,
                                                                                    abs=0.0001)


def _erlang_c_by_summation(n: int, a: int) -> Fraction:
    """The textbook formula, in exact fractions with factorials."""
    top = Fraction(a**n, math.factorial(n)) * Fraction(n, n - a)
    bottom = sum(Fraction(a**k, math.factorial(k)) for k in range(n)) + top
    return top / bottom


@pytest.mark.parametrize(("agents", "traffic"), [(2, 1), (5, 3), (14, 10), (30, 25), (60, 50),
                                                 (101, 100), (150, 120)])
def test_erlang_c_recurrence_equals_direct_summation(agents, traffic):
    assert erlang.erlang_c(agents, traffic) == pytest.approx(
        float(_erlang_c_by_summation(agents, traffic)), rel=1e-9)


def test_no_finite_queue_when_agents_cannot_keep_up():
    assert erlang.erlang_c(10, 10) == 1.0
    assert erlang.erlang_c_figures(9, 10, 180, 20).service_level == 0.0


def test_shrinkage_and_occupancy_cap_raise_the_headcount():
    base = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180)
    capped = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180, max_occupancy=0.7)
    assert capped.figures.agents == 15 and capped.figures.occupancy <= 0.7
    shrunk = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180, shrinkage=0.3)
    assert shrunk.figures.agents == base.figures.agents == 14
    assert shrunk.agents_scheduled == math.ceil(14 / 0.7) == 20


def test_no_call_needs_no_agent():
    need = erlang.staffing(calls=0, interval_minutes=30, aht_seconds=180)
    assert need.figures.agents == 0 and need.agents_scheduled == 0


@pytest.mark.parametrize(("field", "kwargs"), [
    ("calls", {"calls": -1}), ("interval_minutes", {"interval_minutes": 0}),
    ("aht_seconds", {"aht_seconds": 0}), ("target_level", {"target_level": 1}),
    ("target_level", {"target_level": 0}), ("shrinkage", {"shrinkage": 1}),
    ("max_occupancy", {"max_occupancy": 0}), ("patience_seconds", {"patience_seconds": 0}),
    ("calls", {"calls": float("nan")}), ("aht_seconds", {"aht_seconds": float("inf")}),
])
def test_impossible_inputs_are_refused_with_the_field(field, kwargs):
    args = {"calls": 100, "interval_minutes": 30, "aht_seconds": 180, **kwargs}
    with pytest.raises(erlang.StaffingError) as caught:
        erlang.staffing(**args)
    assert caught.value.field == field


def test_erlang_a_with_endless_patience_is_erlang_c():
    c = erlang.erlang_c_figures(14, 10, 180, 20)
    a = erlang.erlang_a_figures(14, 10, 180, 20, patience_seconds=10_000_000)
    assert a.wait_probability == pytest.approx(c.wait_probability, abs=1e-4)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.asa_seconds == pytest.approx(c.asa_seconds, rel=1e-3)
    assert a.abandon_probability < 1e-5


def test_impatient_callers_need_fewer_agents_and_some_hang_up():
    patient = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180)
    hasty = erlang.staffing(calls=100, interval_minutes=30, aht_seconds=180, patience_seconds=60)
    assert hasty.model == "erlang_a"
    assert hasty.figures.agents < patient.figures.agents
    assert hasty.figures.service_level >= 0.8
    assert 0 < hasty.figures.abandon_probability < 0.2
    # One agent fewer misses the target: the answer is the fewest.
    fewer = erlang.erlang_a_figures(hasty.figures.agents - 1, 10, 180, 20, 60)
    assert fewer.service_level < 0.8


def _simulate(agents: int, arrival: float, aht: float, patience: float, target: float,
              callers: int, seed: int) -> tuple[float, float]:
    """A first-come first-served queue with exponential patience: (answered within target,
    abandoned) shares over the callers after a warm-up."""
    rng = random.Random(seed)
    free_at = [0.0] * agents  # when each agent is next free
    heapq.heapify(free_at)
    t = 0.0
    within = gone = counted = 0
    # FCFS with abandons: a caller is served when the earliest agent is free, unless their
    # patience runs out first. Those who leave free no agent time, so a heap of the agents'
    # next free instants is exact for this discipline.
    for i in range(callers):
        t += rng.expovariate(arrival)
        leave = t + rng.expovariate(1 / patience)
        earliest = free_at[0]
        start = max(t, earliest)
        if start > leave:
            outcome_gone, outcome_within = True, False
        else:
            heapq.heapreplace(free_at, start + rng.expovariate(1 / aht))
            outcome_gone, outcome_within = False, start - t <= target
        if i >= callers // 10:
            counted += 1
            gone += outcome_gone
            within += outcome_within
    return within / counted, gone / counted


def test_erlang_a_agrees_with_a_simulated_queue():
    agents, aht, patience, target = 12, 180.0, 60.0, 20.0
    arrival = 10 / aht
    figures = erlang.erlang_a_figures(agents, 10, aht, target, patience)
    level, abandoned = _simulate(agents, arrival, aht, patience, target, 400_000, seed=7)
    assert figures.service_level == pytest.approx(level, abs=0.01)
    assert figures.abandon_probability == pytest.approx(abandoned, abs=0.005)
