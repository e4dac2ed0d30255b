from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from .models import AuditEvent


def audit_events(*, actor: str = "", action: str = "", target: str = "", account: int | None = None,
                 date_from: date | None = None, date_to: date | None = None
                 ) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("account")
    tz = ZoneInfo(settings.TIME_ZONE)
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if action:
        qs = qs.filter(action=action)
    if target:
        qs = qs.filter(Q(target_label__icontains=target) | Q(target_type__icontains=target))
    if account:
        qs = qs.filter(account_id=account)
    if date_from:
        qs = qs.filter(created_at__gte=datetime.combine(date_from, time.min, tzinfo=tz))
    if date_to:
        qs = qs.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min,
                                                       tzinfo=tz))
    return qs


