"""The per-client monthly activity report (Forfait Confort's « Rapport mensuel d'activité»):
calls handled, messages, appointments, response times against the promised SLA, satisfaction
and usage — the same reports.kpis figures the client sees live in the espace client.

- PDF: rendered from the data whenever it is asked for (never stored, so it cannot drift
  from the live figures); `/espace/rapports/<AAAA-MM>.pdf` for the account's clients.
- On the 1st (from MONTHLY_TIME, Paris time), the scheduler's job `reports.monthly` tells each
  active account's client users that last month's report is ready, with the link: once per
  account and month (the MonthlyReportSend row is claimed before the mail is queued; the mail
  leaves after commit); one account's failure does not stop the others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _

from permanence.accounts.models import ClientAccount, Membership
from permanence.calendars.services import spec_for_account
from permanence.core import clock
from permanence.core.isolation import each_isolated
from permanence.core.mail import queue_email
from permanence.core.pdf import html_to_pdf

from . import kpis, pages
from .models import MonthlyReportSend

MONTHLY_TIME = time(6, 0)
# What the client reads first, in this order.
HEADLINE = ("calls_offered", "calls_answered", "answer_rate", "service_level", "asa_seconds",
            "abandon_rate", "conversations", "first_response_median_business_seconds",
            "sla_first_response_pct", "resolution_median_business_seconds", "csat_pct", "nps",
            "complaints")


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    value: str
    previous: str
    formula: str


def figures(account: ClientAccount, month: date) -> dict[str, Any]:
    """The report's content for one account and month (and the month before, to compare)."""
    first, last = month_bounds(month)
    tz = spec_for_account(account).tz
    chosen = kpis.Filters(first, last, account.pk, None, "", tz)
    now = kpis.compute_for([account.pk], chosen)["values"]
    before_first, before_last = month_bounds(first - timedelta(days=1))
    before = kpis.compute_for([account.pk], kpis.Filters(before_first, before_last, account.pk,
                                                         None, "", tz))["values"]
    definitions = kpis.definitions()
    rows = [Row(key, definitions[key]["label"], pages.display(now[key], definitions[key]["unit"]),
                pages.display(before[key], definitions[key]["unit"]),
                definitions[key]["formula"]) for key in HEADLINE]
    return {"account": account, "first": first, "last": last, "rows": rows, "values": now,
            "time_zone": str(tz)}


def pdf(account: ClientAccount, month: date) -> bytes:
    context = figures(account, month)
    html = render_to_string("reports/monthly_report.html", context)
    return html_to_pdf(html, base_url=settings.SITE_URL)


def months_available(account: ClientAccount, today: date, count: int = 12) -> list[date]:
    """The last `count` whole months (newest first), not before the account existed."""
    created = account.created_at.date() if getattr(account, "created_at", None) else None
    out = []
    month = today.replace(day=1)
    for _i in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        if created and month_bounds(month)[1] < created:
            break
        out.append(month)
    return out


def _announce(account: ClientAccount, month: date, now: datetime) -> int:
    """Claim the (account, month) row and queue one e-mail per client user; 0 when already
    done (by a previous run or a concurrent one)."""
    users = [m.user for m in Membership.objects.filter(account=account, user__is_active=True)
             .select_related("user")]
    try:
        with transaction.atomic():
            MonthlyReportSend.objects.create(account=account, month=month, sent_at=now,
                                             recipients=len(users))
            for user in users:
                _mail(user, account, month)
    except IntegrityError:  # the row exists: announced already
        return 0
    return len(users)


def _mail(user: Any, account: ClientAccount, month: date) -> None:
    link = settings.SITE_URL.rstrip("/") + reverse("reports_client_pdf", kwargs={
        "year": month.year, "month": month.month})
    with translation.override(getattr(user, "language", "") or "fr"):
        label = _date_label(month)
        subject = _("Votre rapport mensuel d'activité — %(month)s") % {"month": label}
        body = render_to_string("reports/monthly_mail.txt", {
            "user": user, "account": account, "month": label, "link": link,
            "live": settings.SITE_URL.rstrip("/") + reverse("reports_client")})
    queue_email(to=[user.email], subject=subject, body=body)


def _date_label(month: date) -> str:
    return formats.date_format(month, "F Y")


def monthly_reports_send() -> int:
    """The scheduler's job: from the 1st at MONTHLY_TIME (Paris), last month's report."""
    now = clock.now()
    local = now.astimezone(kpis.PARIS)
    if local.time() < MONTHLY_TIME and local.day == 1:
        return 0
    month = (local.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    done = set(MonthlyReportSend.objects.filter(month=month).values_list("account_id", flat=True))
    # Accounts that existed during the month reported (a new one has nothing to report yet).
    started = datetime.combine(local.date().replace(day=1), time.min, tzinfo=kpis.PARIS)
    accounts = [a for a in ClientAccount.objects.filter(status="actif", is_operator=False,
                                                        created_at__lt=started).order_by("pk")
                if a.pk not in done]
    outcome = each_isolated(accounts, lambda account: _announce(account, month, now),
                            job="reports.monthly", key=lambda account: account.pk)
    return sum(outcome.results)
