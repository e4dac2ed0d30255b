"""Reads of the planning: the week's grid, a secretary's own week, the planned headcount per
half-hour (for the reports' staffing page), and the staff pulse's results."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, Q, QuerySet

from permanence.accounts.models import User
from permanence.accounts.permissions import Actor
from permanence.accounts.selectors import agents as active_agents
from permanence.desk import figures as desk_figures

from .breaks import place_breaks
from .models import PulseParticipation, PulseResponse, Shift, month_start

PARIS = ZoneInfo("Europe/Paris")
SLOTS = 48  # half-hours in a day
# The pulse's results for a month are shown only from this many answers (anonymity).
PULSE_MIN_RESPONSES = 3
PULSE_QUESTIONS = ("wellbeing", "workload", "support")


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass
class AgentWeek:
    agent: User
    cells: list[tuple[date, list[Shift]]]  # 7 days, Monday first, with their shifts
    breaks_taken: int = 0  # « en pause » stretches begun this week (desk's state log)

    @property
    def planned_minutes(self) -> int:
        return sum(s.duration_minutes for _d, day in self.cells for s in day)

    @property
    def planned_hours(self) -> str:
        """« 37 h 30 »."""
        hours, minutes = divmod(self.planned_minutes, 60)
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"

    @property
    def planned_breaks(self) -> int:
        return sum(len(s.breaks()) for _d, day in self.cells for s in day)


@dataclass
class Week:
    monday: date
    days: list[date]
    rows: list[AgentWeek] = field(default_factory=list)

    @property
    def previous(self) -> date:
        return self.monday - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.monday + timedelta(days=7)


def shifts_between(first: date, last: date, agent_ids: list[int] | None = None,
                   ) -> QuerySet[Shift]:
    qs = Shift.objects.filter(day__gte=first, day__lte=last)
    if agent_ids is not None:
        qs = qs.filter(agent_id__in=agent_ids)
    return qs.order_by("day", "starts_at", "pk")


def week_grid(monday: date, *, agent: User | None = None) -> Week:
    """The week from `monday`: every active secretary (or only `agent`) × 7 days with her
    shifts and the breaks she took (from the desk's state log). Three queries whatever the
    team's size: the secretaries, the shifts, the state log."""
    monday = week_start(monday)
    days = [monday + timedelta(days=i) for i in range(7)]
    people = [agent] if agent is not None else list(active_agents())
    ids = [p.pk for p in people]
    by_agent: dict[int, list[list[Shift]]] = {pk: [[] for _d in days] for pk in ids}
    for shift in shifts_between(days[0], days[-1], ids):
        by_agent[shift.agent_id][(shift.day - monday).days].append(shift)
    start = datetime.combine(monday, time(0), PARIS)
    end = datetime.combine(monday + timedelta(days=7), time(0), PARIS)
    taken = desk_figures.agent_time(ids, start, end) if ids else {}
    rows = [AgentWeek(p, list(zip(days, by_agent[p.pk], strict=True)),
                      int(taken.get(p.pk, {}).get("breaks", 0)))
            for p in people]
    return Week(monday, days, rows)


def get_shift(pk: Any) -> Shift | None:
    try:
        number = int(pk)
    except (TypeError, ValueError):
        return None
    if not 0 < number < 2**63:
        return None
    return Shift.objects.select_related("agent").filter(pk=number).first()


def _on_duty_minutes(shift: Shift, day_start: datetime) -> list[tuple[int, int]]:
    """The shift's working stretches (breaks removed) as minute offsets from `day_start`."""
    offset = int((shift.start - day_start).total_seconds() // 60)
    stretches, cursor = [], 0
    for b_start, b_end in place_breaks(shift.duration_minutes):
        stretches.append((offset + cursor, offset + b_start))
        cursor = b_end
    stretches.append((offset + cursor, offset + shift.duration_minutes))
    return stretches


def headcount_by_half_hour(day: date) -> list[float]:
    """Planned secretaries on duty in each half-hour of `day` (local time; index 0 is
    00:00–00:30), breaks placed by rule taken out: an agent counts for the share of the
    half-hour she works (a 10-minute break in it leaves 2/3). Shifts of the day before that
    cross midnight count in the morning. One query."""
    day_start = datetime.combine(day, time(0))
    counts = [0.0] * SLOTS
    for shift in Shift.objects.filter(day__in=(day - timedelta(days=1), day)):
        for a, b in _on_duty_minutes(shift, day_start):
            for slot in range(max(0, a // 30), min(SLOTS, (b + 29) // 30)):
                lo, hi = max(a, slot * 30), min(b, slot * 30 + 30)
                if hi > lo:
                    counts[slot] += (hi - lo) / 30
    return [round(c, 2) for c in counts]


# --- Staff pulse -------------------------------------------------------------------------------


def pulse_answered(user: Actor, month: date) -> bool:
    """Has `user` answered the pulse of `month`'s month (False for anybody not logged in)?"""
    if not isinstance(user, User):
        return False
    return PulseParticipation.objects.filter(user=user, month=month_start(month)).exists()


@dataclass(frozen=True)
class PulseMonth:
    month: date
    responses: int
    shown: bool  # at least PULSE_MIN_RESPONSES answers
    satisfaction_rate: float | None  # % of 4–5 on « je me sens bien dans mon travail »
    averages: dict[str, float | None]
    comments: list[str]


def pulse_results(*, months: int = 6, today: date) -> list[PulseMonth]:
    """The last `months` months that have answers, newest first. Figures and comments only
    for a month with at least PULSE_MIN_RESPONSES answers (fewer could point at someone).
    Two queries: the figures per month, the comments of the months shown."""
    since = month_start(today)
    for _i in range(months - 1):
        since = month_start(since - timedelta(days=1))
    per_month = PulseResponse.objects.filter(month__gte=since).values("month").annotate(
        n=Count("id"), happy=Count("id", filter=Q(wellbeing__gte=4)),
        **{f"avg_{q}": Avg(q) for q in PULSE_QUESTIONS}).order_by("-month")
    rows: list[dict[str, Any]] = [dict(r) for r in per_month]
    shown = [r["month"] for r in rows if r["n"] >= PULSE_MIN_RESPONSES]
    comments: dict[date, list[str]] = defaultdict(list)
    if shown:
        # In the comments' alphabetical order: nothing about who answered when.
        for month, text in (PulseResponse.objects.filter(month__in=shown).exclude(comment="")
                            .order_by("month", "comment").values_list("month", "comment")):
            comments[month].append(text)
    result = []
    for r in rows:
        ok = r["n"] >= PULSE_MIN_RESPONSES
        result.append(PulseMonth(
            month=r["month"], responses=r["n"], shown=ok,
            satisfaction_rate=round(100 * r["happy"] / r["n"], 1) if ok else None,
            averages={q: (round(r[f"avg_{q}"], 2) if ok else None) for q in PULSE_QUESTIONS},
            comments=comments.get(r["month"], []) if ok else []))
    return result

