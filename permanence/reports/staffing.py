"""The staffing forecast: from the calls of the last weeks, the average arrivals per
half-hour of a weekday and the average handling time, then with Erlang C (or A, given the
callers' patience) the agents needed per half-hour for the target service level, and the
agents to plan once shrinkage (breaks, training, absence) is allowed for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from permanence.accounts.models import User
from permanence.desk import figures as desk_figures

from . import erlang, kpis, pages

DEFAULT_AHT = 180.0  # seconds, when the period has no handled call to measure it on


@dataclass(frozen=True)
class Slot:
    label: str  # "09:00–09:30"
    calls: float
    agents: int
    scheduled: int
    service_level: str
    asa: str
    occupancy: str
    width: int  # for the bar, % of the busiest slot's agents
    index: int = -1  # the half-hour of the day, 0 = 00:00–00:30 (to line up the planning)


@dataclass(frozen=True)
class Forecast:
    weekday: int
    weeks: int
    aht_seconds: float
    aht_measured: bool
    slots: list[Slot]
    peak: int
    total_calls: float


def forecast(user: User, *, weekday: int, weeks: int, today: date, account_id: int | None,
             target_seconds: float, target_level: float, shrinkage: float,
             max_occupancy: float, patience_seconds: float | None) -> Forecast:
    end_day = today - timedelta(days=1)
    start_day = end_day - timedelta(days=7 * weeks - 1)
    filters = kpis.filters_for(user, start_day=start_day, end_day=end_day,
                               account_id=account_id)
    scope = desk_figures.Scope(kpis.visible_accounts(user), account_id)
    arrivals = desk_figures.arrivals_by_slot(scope, filters.start, filters.end, filters.tz)
    calls = desk_figures.call_figures(scope, filters.start, filters.end)
    measured = bool(calls.get("handled") and calls.get("handle_seconds"))
    aht = calls["handle_seconds"] / calls["handled"] if measured else DEFAULT_AHT
    rows = []
    for slot in range(48):
        expected = arrivals.get((weekday, slot), 0) / weeks
        need = erlang.staffing(calls=expected, interval_minutes=30, aht_seconds=max(aht, 1),
                               target_seconds=target_seconds, target_level=target_level,
                               shrinkage=shrinkage, max_occupancy=max_occupancy,
                               patience_seconds=patience_seconds)
        rows.append((slot, expected, need))
    peak = max((need.figures.agents for _s, _e, need in rows), default=0)
    slots = [Slot(f"{slot // 2:02d}:{30 * (slot % 2):02d}–{(slot + 1) // 2 % 24:02d}:"
                  f"{30 * ((slot + 1) % 2):02d}", round(expected, 1), need.figures.agents,
                  need.agents_scheduled, pages.display(need.figures.service_level, "ratio"),
                  pages.duration(need.figures.asa_seconds),
                  pages.display(need.figures.occupancy, "ratio"),
                  round(100 * need.figures.agents / peak) if peak else 0, slot)
             for slot, expected, need in rows if expected > 0]
    return Forecast(weekday, weeks, round(aht, 1), measured, slots, peak,
                    round(sum(expected for _s, expected, _n in rows), 1))
