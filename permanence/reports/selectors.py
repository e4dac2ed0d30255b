"""Service-quality figures for staff: satisfaction (CSAT, NPS) and response delays.

Every figure is computed by the database over the accounts the user may see, in a constant
number of queries whatever the period or the number of accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth

from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.inbox.models import Conversation
from permanence.inbox.models_complaints import SurveyResponse

PARIS = ZoneInfo("Europe/Paris")
PERIODS = (30, 90, 365)


@dataclass(frozen=True)
class Satisfaction:
    sent: int
    answered: int
    csat_average: float | None  # 1–5, for display only (never money)
    satisfied_percent: int | None  # share of answers rated 4 or 5
    nps: int | None  # % promoters (9–10) − % detractors (0–6), −100…100
    nps_answers: int

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.answered / self.sent) if self.sent else None


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _surveys(user: User, since: datetime,
             account_id: int | None) -> QuerySet[SurveyResponse]:
    qs = SurveyResponse.objects.filter(sent_at__gte=since,
                                       conversation__account__in=accounts_visible_to(user))
    if account_id:
        qs = qs.filter(conversation__account_id=account_id)
    return qs


def satisfaction(user: User, *, days: int = 90, account_id: int | None = None) -> dict[str, Any]:
    since = clock.now() - timedelta(days=days)
    qs = _surveys(user, since, account_id)
    agg = qs.aggregate(
        sent=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)),
        csat_avg=Avg("csat"), csat_n=Count("csat"), satisfied=Count("id", filter=Q(csat__gte=4)),
        nps_n=Count("nps"), promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)))
    nps = None
    if agg["nps_n"]:
        nps = round(100 * (agg["promoters"] - agg["detractors"]) / agg["nps_n"])
    summary = Satisfaction(
        sent=agg["sent"], answered=agg["answered"],
        csat_average=round(float(agg["csat_avg"]), 2) if agg["csat_avg"] is not None else None,
        satisfied_percent=_percent(agg["satisfied"], agg["csat_n"]), nps=nps,
        nps_answers=agg["nps_n"])
    counts = dict(qs.filter(csat__isnull=False).values_list("csat").annotate(n=Count("id")))
    top = max(counts.values(), default=0)
    distribution = [{"score": s, "count": counts.get(s, 0),
                     "percent": _percent(counts.get(s, 0), agg["csat_n"]) or 0,
                     "height": round(100 * counts.get(s, 0) / top) if top else 0}
                    for s in range(1, 6)]
    monthly = [{"month": row["month"], "average": round(float(row["avg"]), 2), "count": row["n"]}
               for row in qs.filter(answered_at__isnull=False, csat__isnull=False)
               .annotate(month=TruncMonth("answered_at", tzinfo=PARIS)).values("month")
               .annotate(avg=Avg("csat"), n=Count("id")).order_by("month")]
    per_account = [
        {"id": row["account_id"], "name": row["account_name"], "sent": row["sent"],
         "answered": row["answered"],
         "average": round(float(row["avg"]), 2) if row["avg"] is not None else None}
        for row in qs.annotate(account_name=F("account__name"))
        .values("account_id", "account_name")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)),
                  avg=Avg("csat")).order_by("account_name")]
    comments = list(qs.exclude(comment="").filter(answered_at__isnull=False)
                    .select_related("conversation__account").order_by("-answered_at")[:10])
    return {"summary": summary, "distribution": distribution, "monthly": monthly,
            "per_account": per_account, "comments": comments}


def response_delays(user: User, *, days: int = 90,
                    account_id: int | None = None) -> dict[str, int | None]:
    """Conversations opened in the period: how many got their first answer on time."""
    since = clock.now() - timedelta(days=days)
    qs = Conversation.objects.filter(created_at__gte=since, merged_into__isnull=True,
                                     account__in=accounts_visible_to(user))
    if account_id:
        qs = qs.filter(account_id=account_id)
    agg = qs.aggregate(
        opened=Count("id"),
        answered=Count("id", filter=Q(first_response_at__isnull=False)),
        # The first-response due date is cleared once answered; what remains is whether a
        # breach was recorded (by the SLA monitor) before that first answer.
        on_time=Count("id", filter=Q(first_response_at__isnull=False) & (
            Q(sla_breached_at__isnull=True) | Q(sla_breached_at__gt=F("first_response_at")))),
        breached=Count("id", filter=Q(sla_breached_at__isnull=False)),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)))
    return {**agg, "on_time_percent": _percent(agg["on_time"], agg["answered"])}
