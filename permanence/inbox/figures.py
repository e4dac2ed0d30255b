"""What the reports read of the inbox: conversation indicators over a period, computed by the
database in a constant number of queries whatever the volume (reports.kpis states the
formulas to people; this module is the one place that computes them).

The cohort is the conversations opened in [start, end) (merged-away ones excluded). Business
durations come from the columns inbox.services.sla_compute keeps
(`first_response_business_seconds`, `resolution_business_seconds`, `*_on_time`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from permanence.core import clock
from permanence.core.percentiles import percentile

from .models import FOLLOW_UP_DAYS, OPEN_STATUSES, Conversation, Kind
from .models_complaints import SurveyResponse

FCR_DAYS = FOLLOW_UP_DAYS
AGE_BUCKETS = ((1, "< 1 j"), (3, "1–3 j"), (7, "3–7 j"), (None, "> 7 j"))


@dataclass(frozen=True)
class Scope:
    """Which conversations: the accounts the viewer may see (a queryset or ids), optionally
    one account, one assignee, one channel."""

    accounts: Any
    account_id: int | None = None
    agent_id: int | None = None
    channel: str = ""


def _scoped(scope: Scope) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(account__in=scope.accounts, merged_into__isnull=True)
    if scope.account_id:
        qs = qs.filter(account_id=scope.account_id)
    if scope.agent_id:
        qs = qs.filter(assignee_id=scope.agent_id)
    if scope.channel:
        qs = qs.filter(channel=scope.channel)
    return qs


def cohort(scope: Scope, start: datetime, end: datetime) -> QuerySet[Conversation]:
    """The conversations opened in the period (the drill-down lists exactly these)."""
    return _scoped(scope).filter(created_at__gte=start, created_at__lt=end)


def conversation_figures(scope: Scope, start: datetime, end: datetime) -> dict[str, Any]:
    qs = cohort(scope, start, end)
    agg = qs.aggregate(
        total=Count("id"),
        answered=Count("id", filter=Q(first_response_business_seconds__isnull=False)),
        first_judged=Count("id", filter=Q(first_response_on_time__isnull=False)),
        first_on_time=Count("id", filter=Q(first_response_on_time=True)),
        resolved=Count("id", filter=Q(resolution_business_seconds__isnull=False)),
        resolution_judged=Count("id", filter=Q(resolution_on_time__isnull=False)),
        resolution_on_time=Count("id", filter=Q(resolution_on_time=True)),
        # FCR over the resolved conversations with a known contact (flags kept by services).
        fcr_base=Count("id", filter=Q(resolved_at__isnull=False, contact__isnull=False)),
        fcr_kept=Count("id", filter=Q(resolved_at__isnull=False, contact__isnull=False,
                                      followed_up=False)),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        ever_resolved=Count("id", filter=Q(resolved_at__isnull=False) | Q(reopen_count__gt=0)),
        complaints=Count("id", filter=Q(kind=Kind.COMPLAINT)))
    answered_qs = qs.filter(first_response_business_seconds__isnull=False)
    resolved_qs = qs.filter(resolution_business_seconds__isnull=False)
    return {
        **agg,
        "first_response_median": percentile(answered_qs, "first_response_business_seconds", 0.5,
                                            count=agg["answered"]),
        "first_response_p90": percentile(answered_qs, "first_response_business_seconds", 0.9,
                                         count=agg["answered"]),
        "resolution_median": percentile(resolved_qs, "resolution_business_seconds", 0.5,
                                        count=agg["resolved"]),
        "resolution_p90": percentile(resolved_qs, "resolution_business_seconds", 0.9,
                                     count=agg["resolved"]),
    }


def volume_by(scope: Scope, start: datetime, end: datetime, field: str) -> list[dict[str, Any]]:
    """Conversations of the period per channel, kind or motif (largest first)."""
    if field not in {"channel", "kind", "motif"}:
        raise ValueError(field)
    return list(cohort(scope, start, end).values(field).annotate(n=Count("id"))
                .order_by("-n", field))


def complaint_causes(scope: Scope, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = (cohort(scope, start, end).filter(kind=Kind.COMPLAINT).values("motif")
            .annotate(n=Count("id")).order_by("-n", "motif"))
    return [dict(row) for row in rows]


def daily_counts(scope: Scope, start: datetime, end: datetime, tz: Any) -> dict[Any, int]:
    """Conversations opened per local day of the period (for the time series)."""
    rows = (cohort(scope, start, end).annotate(day=TruncDate("created_at", tzinfo=tz))
            .values("day").annotate(n=Count("id")))
    return {row["day"]: row["n"] for row in rows}


def backlog(scope: Scope) -> dict[str, Any]:
    """Open conversations now, by age since opening."""
    now = clock.now()
    buckets: dict[str, Any] = {}
    lower = None
    for i, (days, _label) in enumerate(AGE_BUCKETS):
        cond = Q()
        if days is not None:
            cond &= Q(created_at__gt=now - timedelta(days=days))
        if lower is not None:
            cond &= Q(created_at__lte=now - timedelta(days=lower))
        buckets[f"age{i}"] = Count("id", filter=cond)
        lower = days
    agg = _scoped(scope).filter(status__in=OPEN_STATUSES).aggregate(total=Count("id"), **buckets)
    return {"total": agg["total"],
            "ages": {label: agg[f"age{i}"] for i, (_days, label) in enumerate(AGE_BUCKETS)}}


def survey_figures(scope: Scope, start: datetime, end: datetime) -> dict[str, int]:
    """Satisfaction answers given in the period, on the scope's conversations."""
    qs = SurveyResponse.objects.filter(
        Q(sent_at__gte=start, sent_at__lt=end) | Q(answered_at__gte=start, answered_at__lt=end),
        account__in=scope.accounts)
    if scope.account_id:
        qs = qs.filter(account_id=scope.account_id)
    if scope.agent_id:
        qs = qs.filter(conversation__assignee_id=scope.agent_id)
    if scope.channel:
        qs = qs.filter(conversation__channel=scope.channel)
    answered = Q(answered_at__gte=start, answered_at__lt=end)
    return qs.aggregate(
        sent=Count("id", filter=Q(sent_at__gte=start, sent_at__lt=end)),
        answered=Count("id", filter=answered),
        csat_n=Count("id", filter=answered & Q(csat__isnull=False)),
        satisfied=Count("id", filter=answered & Q(csat__gte=4)),
        nps_n=Count("id", filter=answered & Q(nps__isnull=False)),
        promoters=Count("id", filter=answered & Q(nps__gte=9)),
        detractors=Count("id", filter=answered & Q(nps__lte=6)))


def cohort_rows(scope: Scope, start: datetime, end: datetime, which: str) -> QuerySet[Conversation]:
    """The conversations behind a tile: all, late first responses, complaints, reopened."""
    qs = cohort(scope, start, end)
    if which == "hors_delai":
        qs = qs.filter(first_response_on_time=False)
    elif which == "reclamations":
        qs = qs.filter(kind=Kind.COMPLAINT)
    elif which == "rouverts":
        qs = qs.filter(reopen_count__gt=0)
    return qs.select_related("account", "contact", "assignee").order_by("-created_at", "-pk")


def live_queue(scope: Scope, soon_minutes: int = 60) -> dict[str, Any]:
    """Now, per channel: conversations waiting for the team (open), not yet assigned, past
    their next deadline, and due within `soon_minutes` (the breaches coming)."""
    now = clock.now()
    rows = (_scoped(scope).filter(status__in=OPEN_STATUSES).values("channel").annotate(
        open=Count("id"), unassigned=Count("id", filter=Q(assignee__isnull=True)),
        overdue=Count("id", filter=Q(next_due_at__lt=now)),
        soon=Count("id", filter=Q(next_due_at__gte=now,
                                  next_due_at__lt=now + timedelta(minutes=soon_minutes))))
            .order_by("-open", "channel"))
    channels: list[dict[str, Any]] = [dict(row) for row in rows]
    totals = {key: sum(int(row[key]) for row in channels)
              for key in ("open", "unassigned", "overdue", "soon")}
    return {"channels": channels, "totals": totals}


def coming_breaches(scope: Scope, soon_minutes: int = 60, limit: int = 10) -> list[Conversation]:
    """The next deadlines to fall (overdue first), with what the board shows."""
    now = clock.now()
    return list(_scoped(scope).filter(status__in=OPEN_STATUSES, next_due_at__isnull=False,
                                      next_due_at__lt=now + timedelta(minutes=soon_minutes))
                .select_related("account", "assignee").order_by("next_due_at", "pk")[:limit])


def open_load(scope: Scope) -> dict[int, int]:
    """Open conversations per assignee (the agents' load)."""
    rows = (_scoped(scope).filter(status__in=OPEN_STATUSES, assignee__isnull=False)
            .values("assignee_id").annotate(n=Count("id")))
    return {row["assignee_id"]: row["n"] for row in rows}


def conversations_by_agent(scope: Scope, start: datetime,
                           end: datetime) -> dict[int, dict[str, Any]]:
    """Per assignee, over the period's cohort: conversations, resolved, first responses on
    time, first-contact resolutions — one query."""
    rows = (cohort(scope, start, end).filter(assignee__isnull=False).values("assignee_id")
            .annotate(
                total=Count("id"), resolved=Count("id", filter=Q(resolved_at__isnull=False)),
                first_judged=Count("id", filter=Q(first_response_on_time__isnull=False)),
                first_on_time=Count("id", filter=Q(first_response_on_time=True)),
                fcr_base=Count("id", filter=Q(resolved_at__isnull=False,
                                              contact__isnull=False)),
                fcr_kept=Count("id", filter=Q(resolved_at__isnull=False, contact__isnull=False,
                                              followed_up=False))))
    return {row["assignee_id"]: dict(row) for row in rows}


def csat_by_agent(scope: Scope, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    qs = SurveyResponse.objects.filter(
        answered_at__gte=start, answered_at__lt=end, csat__isnull=False,
        account__in=scope.accounts, conversation__assignee__isnull=False)
    if scope.account_id:
        qs = qs.filter(account_id=scope.account_id)
    if scope.channel:
        qs = qs.filter(conversation__channel=scope.channel)
    rows = qs.values("conversation__assignee_id").annotate(
        n=Count("id"), satisfied=Count("id", filter=Q(csat__gte=4)))
    return {row["conversation__assignee_id"]: dict(row) for row in rows}
