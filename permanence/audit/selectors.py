from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet

from .actions import Action
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




def account_views(account_id: int, *, exclude_roles: tuple[str, ...] = ()) -> QuerySet[AuditEvent]:
    """The views of one account's data, newest first, with their actor (index
    audit_account_action)."""
    return (AuditEvent.objects.filter(account_id=account_id, action=Action.VIEW)
            .exclude(actor__role__in=exclude_roles)
            .select_related("actor").order_by("-created_at", "-id"))


def audit_events_before(before: datetime) -> QuerySet[AuditEvent]:
    """The events older than `before`: what the retention schedule's purge will delete
    (services.audit_purge_before), counted by its dry run."""
    return AuditEvent.objects.filter(created_at__lt=before)
