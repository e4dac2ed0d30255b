"""What the reports read of the desk: call, agent-time and campaign indicators over a period,
computed by the database in a constant number of queries (reports.kpis states the formulas;
this module is the one place that computes them).

Calls offered = inbound calls that reached the queue (a Call row exists from the first event,
`offered_at`), on a known account. Abandoned = the caller hung up before an answer
(outcome « abandonné »); a « short abandon » hung up within SHORT_ABANDON_SECONDS of being
offered (a wrong number, a caller who changed their mind)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractHour,
    ExtractIsoWeekDay,
    ExtractMinute,
    TruncDate,
)

from permanence.core import clock

from .models import (
    AgentStateChange,
    AgentStatus,
    Call,
    CallDirection,
    CallOutcome,
)
from .models_campaigns import CampaignAttempt, Disposition

SERVICE_SECONDS = 20  # service level X/Y: answered within Y seconds, Y by default
SHORT_ABANDON_SECONDS = 5


@dataclass(frozen=True)
class Scope:
    accounts: Any  # the accounts the viewer may see (queryset or ids)
    account_id: int | None = None
    agent_id: int | None = None


def _calls(scope: Scope, start: datetime, end: datetime) -> QuerySet[Call]:
    qs = Call.objects.filter(account__in=scope.accounts, offered_at__gte=start,
                             offered_at__lt=end)
    if scope.account_id:
        qs = qs.filter(account_id=scope.account_id)
    if scope.agent_id:
        qs = qs.filter(agent_id=scope.agent_id)
    return qs


def inbound_calls(scope: Scope, start: datetime, end: datetime) -> QuerySet[Call]:
    """The offered calls of the period (the drill-down lists exactly these)."""
    return _calls(scope, start, end).filter(direction=CallDirection.INBOUND)


def call_figures(scope: Scope, start: datetime, end: datetime,
                 service_seconds: int = SERVICE_SECONDS) -> dict[str, Any]:
    """One aggregate over the period's calls, both directions (inbound ones are offered).
    Counting offered_at, not the id: every column read is in the covering index `call_figures`
    (the id is not), so PostgreSQL answers from the index alone."""
    inbound = Q(direction=CallDirection.INBOUND)
    answered = inbound & Q(answered_at__isnull=False)
    abandoned = inbound & Q(outcome=CallOutcome.ABANDONED)
    short = abandoned & Q(ended_at__lt=F("offered_at") + timedelta(seconds=SHORT_ABANDON_SECONDS))
    handled = answered & Q(ended_at__isnull=False)
    return _calls(scope, start, end).aggregate(
        offered=Count("offered_at", filter=inbound), answered=Count("offered_at", filter=answered),
        within=Count("offered_at", filter=answered & Q(wait_seconds__lte=service_seconds)),
        abandoned=Count("offered_at", filter=abandoned), short_abandoned=Count("offered_at", filter=short),
        voicemail=Count("offered_at", filter=inbound & Q(outcome=CallOutcome.VOICEMAIL)),
        missed=Count("offered_at", filter=inbound & Q(outcome=CallOutcome.MISSED)),
        wait_answered=Avg("wait_seconds", filter=answered),
        handled=Count("offered_at", filter=handled),
        handle_seconds=Sum(F("talk_seconds") + F("hold_seconds") + Coalesce("wrapup_seconds", 0),
                           filter=handled & Q(talk_seconds__isnull=False)),
        talk_seconds=Sum("talk_seconds", filter=handled),
        outbound=Count("offered_at", filter=Q(direction=CallDirection.OUTBOUND)),
        **_wait_buckets()[1])


def daily_calls(scope: Scope, start: datetime, end: datetime, tz: Any) -> dict[Any, dict[str, int]]:
    rows = (inbound_calls(scope, start, end).annotate(day=TruncDate("offered_at", tzinfo=tz))
            .values("day").annotate(offered=Count("offered_at"),
                                    answered=Count("offered_at", filter=Q(answered_at__isnull=False))))
    return {row["day"]: {"offered": row["offered"], "answered": row["answered"]} for row in rows}


WAIT_BOUNDS = (10, 20, 30, 60, 120)  # the waiting-time distribution's buckets (seconds)


def _wait_buckets() -> tuple[list[str], dict[str, Any]]:
    """Labels and aggregates of the answered calls per waiting time (in call_figures' pass)."""
    labels: list[str] = []
    parts: dict[str, Any] = {}
    lower = None
    for i, bound in enumerate((*WAIT_BOUNDS, None)):
        cond = Q(direction=CallDirection.INBOUND, answered_at__isnull=False)
        if bound is not None:
            cond &= Q(wait_seconds__lte=bound)
        if lower is not None:
            cond &= Q(wait_seconds__gt=lower)
        labels.append(f"≤ {bound} s" if lower is None else (f"{lower}–{bound} s" if bound
                                                             else f"> {lower} s"))
        parts[f"wait{i}"] = Count("offered_at", filter=cond)
        lower = bound
    return labels, parts


def wait_distribution(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """Answered calls by waiting time, from call_figures' result (for the chart)."""
    labels, _parts = _wait_buckets()
    return [{"label": label, "count": figures.get(f"wait{i}", 0)}
            for i, label in enumerate(labels)]


def agent_time(user_ids: list[int] | None, start: datetime, end: datetime) -> dict[int, dict[str, float]]:
    """Seconds per agent and state in the period, from the state log (the state in force at
    `start` counts from `start`). Occupancy = (en appel + post-appel) / (disponible + en appel
    + post-appel); breaks = stretches « en pause » begun in the period."""
    qs = AgentStateChange.objects.filter(at__lt=end, at__gte=start - timedelta(days=1))
    if user_ids is not None:
        qs = qs.filter(user_id__in=user_ids)
    seconds: dict[int, dict[str, float]] = {}
    previous: dict[int, tuple[str, datetime]] = {}
    for user_id, status, at in qs.order_by("user_id", "at", "id").values_list(
            "user_id", "to_status", "at"):
        if user_id in previous:
            _add(seconds, user_id, *previous[user_id], at, start=start)
        previous[user_id] = (status, at)
        if status == AgentStatus.BREAK and at >= start:
            seconds.setdefault(user_id, {}).setdefault("breaks", 0)
            seconds[user_id]["breaks"] += 1
    for user_id, (status, at) in previous.items():
        _add(seconds, user_id, status, at, _now_cap(end), start=start)
    return seconds


def _now_cap(end: datetime) -> datetime:
    return min(end, clock.now())


def _add(seconds: dict[int, dict[str, float]], user_id: int, status: str, since: datetime,
         until: datetime, *, start: datetime) -> None:
    since = max(since, start)
    if until > since:
        row = seconds.setdefault(user_id, {})
        row[status] = row.get(status, 0.0) + (until - since).total_seconds()


def occupancy(times: dict[str, float]) -> float | None:
    busy = times.get(AgentStatus.ON_CALL, 0.0) + times.get(AgentStatus.WRAPUP, 0.0)
    logged = busy + times.get(AgentStatus.AVAILABLE, 0.0)
    return busy / logged if logged else None


def campaign_figures(scope: Scope, start: datetime, end: datetime) -> dict[str, int]:
    """Outbound campaign calls made, appointments obtained and sales (dispositions)."""
    qs = CampaignAttempt.objects.filter(campaign__account__in=scope.accounts, at__gte=start,
                                        at__lt=end)
    if scope.account_id:
        qs = qs.filter(campaign__account_id=scope.account_id)
    if scope.agent_id:
        qs = qs.filter(agent_id=scope.agent_id)
    return qs.aggregate(calls_made=Count("id"),
                        appointments=Count("id", filter=Q(disposition=Disposition.APPOINTMENT)),
                        sales=Count("id", filter=Q(disposition=Disposition.SALE)))


def call_rows(scope: Scope, start: datetime, end: datetime, which: str,
              service_seconds: int = SERVICE_SECONDS) -> QuerySet[Call]:
    """The offered calls behind a tile: all, answered, abandoned, not answered in time."""
    qs = inbound_calls(scope, start, end)
    if which == "decroches":
        qs = qs.filter(answered_at__isnull=False)
    elif which == "abandons":
        qs = qs.filter(outcome=CallOutcome.ABANDONED)
    elif which == "hors_delai":
        qs = qs.exclude(answered_at__isnull=False, wait_seconds__lte=service_seconds)
    return qs.select_related("account", "agent").order_by("-offered_at", "-pk")


def calls_by_agent(scope: Scope, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per secretary: calls answered and their handling time (DMT), one query."""
    handled = Q(answered_at__isnull=False, ended_at__isnull=False, talk_seconds__isnull=False)
    rows = (inbound_calls(scope, start, end).filter(agent__isnull=False).values("agent_id")
            .annotate(answered=Count("id", filter=Q(answered_at__isnull=False)),
                      handled=Count("id", filter=handled),
                      handle_seconds=Sum(F("talk_seconds") + F("hold_seconds")
                                         + Coalesce("wrapup_seconds", 0), filter=handled)))
    return {row["agent_id"]: dict(row) for row in rows}


def arrivals_by_slot(scope: Scope, start: datetime, end: datetime,
                     tz: Any) -> dict[tuple[int, int], int]:
    """Inbound calls offered per (ISO weekday 1–7, half-hour slot 0–47) in local time, one
    query: the arrival pattern the staffing forecast is built on."""
    rows = (inbound_calls(scope, start, end)
            .annotate(weekday=ExtractIsoWeekDay("offered_at", tzinfo=tz),
                      hour=ExtractHour("offered_at", tzinfo=tz),
                      minute=ExtractMinute("offered_at", tzinfo=tz))
            .annotate(half=Case(When(minute__gte=30, then=Value(1)), default=Value(0)))
            .values("weekday", "hour", "half").annotate(n=Count("id")))
    return {(row["weekday"], row["hour"] * 2 + row["half"]): row["n"] for row in rows}
