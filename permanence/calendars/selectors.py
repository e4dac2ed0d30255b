from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount
from permanence.core import clock

from .models import Announcement, Closure

# Closures are announced this long before they start.
CLOSURE_NOTICE = timedelta(days=14)


@dataclass(frozen=True)
class Notice:
    kind: str
    title: str
    message: str
    starts_at: datetime
    ends_at: datetime


def active_notices(*, audience: str, accounts: Any = None) -> list[Notice]:
    """Announcements and closures to show now.

    audience: "public" (operator closures + public announcements) or "portal" (the same plus
    closures of the given accounts' own calendars).
    """

    now = clock.now()
    flag = {"public": "show_public", "portal": "show_portal"}[audience]
    notices = [
        Notice(a.kind, a.title, a.message, a.starts_at, a.ends_at)
        for a in Announcement.objects.filter(starts_at__lte=now, ends_at__gt=now, **{flag: True})
    ]
    calendar_filter = Q(calendar__accounts__is_operator=True)
    if audience == "portal" and accounts is not None:
        ids = [a.pk for a in accounts] if not hasattr(accounts, "values") else accounts.values("pk")
        calendar_filter |= Q(calendar__accounts__in=ClientAccount.objects.filter(pk__in=ids))
    closures = (
        Closure.objects.filter(calendar_filter, start__lte=now + CLOSURE_NOTICE, end__gt=now)
        .exclude(message="")
        .distinct()
        .order_by("start")
    )
    for c in closures:
        notices.append(Notice(Announcement.Kind.CLOSURE, _("Fermeture exceptionnelle"),
                              c.message, c.start, c.end))
    return sorted(notices, key=lambda n: n.starts_at)
